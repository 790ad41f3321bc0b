//! The browser playground's engine: the policy's own engine, compiled for `wasm32-unknown-unknown`
//! with `wasm-bindgen`. The page gives a swap map and either images (one per line) or a Pod or
//! workload in YAML or JSON; it gets back the map's errors with their line numbers and, per image,
//! the decision with the rule line and the reason ([`imageswap_engine::explain()`]).
//!
//! [`run`] is plain Rust, tested natively; `explain` and `examples` ([`explain_for_page`] and
//! [`examples_for_page`]) are the two functions the page calls.
#![deny(missing_docs)]

use imageswap_engine::DigestPolicy;
use imageswap_engine::Rules;
use imageswap_engine::{CustomResources, Entries};
use imageswap_engine::{Found, document_images};
use imageswap_engine::{Platform, Recorded, Recording};
use imageswap_engine::{explain, explain_found};
use serde_json::{Value, json};
use wasm_bindgen::prelude::wasm_bindgen;

/// The seed's four examples, as the repository ships them (`examples/`).
const EXAMPLES: [&str; 4] = [
    include_str!("../../examples/seed-1-override-registry.yml"),
    include_str!("../../examples/seed-2-global-swap.yml"),
    include_str!("../../examples/seed-3-exact.yml"),
    include_str!("../../examples/seed-4-replace.yml"),
];

/// Images the page starts with: one for each kind of rule of the examples.
pub const SAMPLE_IMAGES: &str = "nginx:1.25
example.private.io/demo:v1.0.0
example.private.io/team/api:2.1
ghcr.io/example-org/tool:3
harbor.internal.example.com/library/redis:7";

/// What the input box holds: images, or the images of an object (with its kind).
enum Input {
    Images(Vec<String>),
    Object(String, Found),
}

/// Reads the input: a Pod, workload, custom resource of `kinds` or AdmissionReview (YAML or JSON,
/// recognised by its `kind`), or else one image per line (blank lines and `#` comments skipped).
fn read_input(text: &str, kinds: &CustomResources) -> Result<Input, String> {
    let document: Option<Value> = serde_yaml::from_str(text).ok().filter(|d: &Value| d.get("kind").is_some());
    let Some(document) = document else {
        let lines = text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'));
        return Ok(Input::Images(lines.map(str::to_owned).collect()));
    };
    let (kind, found) = document_images(&document, kinds).map_err(|error| error.to_string())?;
    Ok(Input::Object(kind, found))
}

/// Reads the `customResources` box (YAML or JSON; empty for none): the entries, and the problems
/// the policy would name.
fn read_kinds(text: &str) -> (CustomResources, Vec<String>) {
    if text.trim().is_empty() {
        return (CustomResources::default(), Vec::new());
    }
    let value: Value = match serde_yaml::from_str(text) {
        Ok(value) => value,
        Err(error) => {
            return (CustomResources::default(), vec![format!("customResources is not YAML or JSON: {error}")]);
        }
    };
    let mut errors = Vec::new();
    let kinds = CustomResources::read(Some(&value), Entries::All, &mut errors);
    (kinds, errors.iter().map(ToString::to_string).collect())
}

/// The page's answer for a map, a digest policy (`keep` or `drop`), the `customResources` setting
/// (YAML or JSON, may be empty) and the input box: the map's errors (`line`, `message`), and when
/// it has none, one explanation per image (with its `field` for objects). `input` says what the
/// box held (`images` or the object's kind); the input's own problem, if any, is `inputError`, and
/// the problems of `customResources` are `kindErrors`.
pub fn run(map: &str, digest: &str, custom_resources: &str, input: &str) -> Value {
    run_with_lookups(map, digest, custom_resources, input, &Lookups { answers: "", platforms: "" })
}

/// Recorded registry answers and the `platforms` setting, as the page's boxes hold them.
pub struct Lookups<'a> {
    /// A JSON list of recorded answers, as the case tables hold them; empty for none.
    pub answers: &'a str,
    /// `os/arch[/variant]` platforms separated by commas or spaces; empty for none.
    pub platforms: &'a str,
}

/// [`run`] with recorded registry answers: each image's targets are looked up in them in order,
/// as the policy does with `checkTargetExists` and these `platforms` (docs/behaviour.md §5), and
/// `digest` may also be `pin`. Answers that do not read, or a platform that does not, are
/// `lookupsError`.
pub fn run_with_lookups(map: &str, digest: &str, custom_resources: &str, input: &str, lookups: &Lookups<'_>) -> Value {
    let digest = match digest {
        "drop" => DigestPolicy::Drop,
        "pin" => DigestPolicy::Pin,
        _ => DigestPolicy::Keep,
    };
    let (recorded, lookups_error) = match lookups.answers.trim() {
        "" => (None, None),
        text => match serde_json::from_str::<Vec<Recorded>>(text) {
            Ok(answers) => (Some(answers), None),
            Err(error) => {
                (None, Some(format!("the recorded answers are not a JSON list of {{image, digest | error}}: {error}")))
            }
        },
    };
    let written = lookups.platforms.split([',', ' ', '\n']).filter(|p| !p.is_empty());
    let (platforms, bad): (Vec<_>, Vec<_>) =
        written.map(|text| (text, Platform::parse(text))).partition(|(_, p)| p.is_some());
    let platforms: Vec<Platform> = platforms.into_iter().filter_map(|(_, platform)| platform).collect();
    let lookups_error = lookups_error.or_else(|| {
        let bad: Vec<&str> = bad.into_iter().map(|(text, _)| text).collect();
        (!bad.is_empty()).then(|| format!("not a platform (os/arch or os/arch/variant): {}", bad.join(", ")))
    });
    let (kinds, kind_errors) = read_kinds(custom_resources);
    let (rules, errors) = match Rules::parse(map) {
        Ok(rules) => (Some(rules), Vec::new()),
        Err(errors) => (None, errors),
    };
    let errors: Vec<Value> =
        errors.iter().map(|error| json!({ "line": error.line, "message": error.to_string() })).collect();
    let (what, mut results, input_error) = match (read_input(input, &kinds), &rules) {
        (Err(problem), _) => (String::new(), Vec::new(), Some(problem)),
        (Ok(Input::Images(images)), rules) => {
            let results = rules.iter().flat_map(|rules| images.iter().map(|image| explain(rules, digest, image)));
            ("images".to_owned(), results.collect(), None)
        }
        (Ok(Input::Object(kind, found)), rules) => {
            (kind, rules.as_ref().map(|rules| explain_found(rules, digest, &found)).unwrap_or_default(), None)
        }
    };
    if let Some(answers) = recorded {
        let mut registry = Recording::new(answers);
        results.iter_mut().for_each(|result| result.look_up(digest, &platforms, &mut registry));
    }
    json!({ "errors": errors, "results": results, "input": what, "inputError": input_error,
            "kindErrors": kind_errors, "lookupsError": lookups_error })
}

/// The seed's examples: `name` (the title the seed page gives it) and `map` (its `imageChange`).
pub fn example_list() -> Value {
    let examples: Vec<Value> = EXAMPLES
        .iter()
        .filter_map(|text| {
            let name = text.lines().next()?.split('"').nth(1)?.to_owned();
            let policy: Value = serde_yaml::from_str(text).ok()?;
            let map = policy.pointer("/spec/settings/imageChange")?.as_str()?.to_owned();
            Some(json!({ "name": name, "map": map }))
        })
        .collect();
    json!({ "examples": examples, "images": SAMPLE_IMAGES })
}

/// [`run`], for the page: strings in, JSON text out.
#[wasm_bindgen(js_name = explain)]
pub fn explain_for_page(
    map: &str,
    digest: &str,
    custom_resources: &str,
    input: &str,
    answers: &str,
    platforms: &str,
) -> String {
    run_with_lookups(map, digest, custom_resources, input, &Lookups { answers, platforms }).to_string()
}

/// [`example_list`], for the page.
#[wasm_bindgen(js_name = examples)]
pub fn examples_for_page() -> String {
    example_list().to_string()
}

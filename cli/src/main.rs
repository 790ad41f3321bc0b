//! `imageswap explain`: what a swap map does to images, before it reaches a cluster. The answers
//! come from the engine the policy runs, so they are the policy's answers.
//!
//! Exit status: 0 when every image was decided, 1 when an image cannot be decided (it does not
//! parse, or its rule builds a bad reference), 2 for bad settings and usage errors.

mod migrate;
mod upstream;

use std::process::ExitCode;

use imageswap_engine::Settings;
use imageswap_engine::explain::{self, Explanation};
use imageswap_engine::walk;
use serde_json::Value;

const HELP: &str =
    "usage: imageswap explain --settings SETTINGS.yml [--output text|json] (IMAGE... | --object OBJECT.yml)

Prints, for each image, the new reference (or that it is left as written), the rule line that
decided it and why (the step of the decision). SETTINGS is the policy's settings (YAML or JSON,
with imageChange); OBJECT is a Pod or workload (YAML or JSON) whose images are explained.

migrate reads a Palette pack's imageSwap: block, the upstream webhook's ConfigMap (data.maps) or a
map file, prints a ClusterAdmissionPolicy for this policy, and notes on stderr every line whose
meaning differs from the upstream webhook; it exits 1, printing no policy, when the map has lines
this policy refuses.

The map language, one rule per line (# starts a comment):
  default::TARGET                 images no other rule decides
  REGISTRY[/PATH]::TARGET         images under that prefix (the longest key wins)
  [EXACT]IMAGE::IMAGE             that one image, in any spelling
  [REPLACE]GLOB::TARGET           images matching the fnmatch glob (first line wins)
  noswap_wildcards::P1,P2         images containing a pattern are not swapped by default
An empty TARGET leaves the images alone. Images already under a target are left alone.";

/// Why the command stopped: a usage error (help follows) or a problem with its input.
enum Failure {
    Usage(String),
    Input(String),
}

fn read_document(path: &str) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    serde_yaml::from_str(&text).map_err(|e| Failure::Input(format!("{path} is not YAML or JSON: {e}")))
}

/// The settings in a file: a settings document, or the `spec.settings` of a (Cluster)AdmissionPolicy.
fn settings_of(document: Value) -> Value {
    match document.get("kind").and_then(Value::as_str) {
        Some("ClusterAdmissionPolicy" | "AdmissionPolicy") => {
            document.pointer("/spec/settings").cloned().unwrap_or_default()
        }
        _ => document,
    }
}

fn explain(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = |problem: String| Failure::Usage(problem);
    let (mut settings, mut object, mut json_output, mut images) = (None, None, false, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--settings" => settings = args.next().cloned(),
            "--object" => object = args.next().cloned(),
            "--output" => json_output = args.next().map(String::as_str) == Some("json"),
            "-h" | "--help" => return Err(usage(String::new())),
            other if other.starts_with("--") => return Err(usage(format!("unknown option {other}"))),
            image => images.push(image.to_owned()),
        }
    }
    let path = settings.ok_or_else(|| usage("--settings is required".to_owned()))?;
    let settings = Settings::from_value(&settings_of(read_document(&path)?))
        .map_err(|errors| Failure::Input(format!("the settings in {path} are not valid:\n{errors}")))?;
    let found = match object {
        Some(path) => {
            walk::document_images(&read_document(&path)?).map_err(|e| Failure::Input(format!("{path}: {e}")))?.1
        }
        None => Vec::new(),
    };
    if images.is_empty() && found.is_empty() {
        return Err(usage("no images: give IMAGE arguments or --object".to_owned()));
    }
    let mut results: Vec<Explanation> =
        images.iter().map(|image| explain::explain(&settings.rules, settings.digest, image)).collect();
    results.extend(explain::explain_found(&settings.rules, settings.digest, &found));
    if json_output {
        let text = serde_json::to_string_pretty(&results).map_err(|e| Failure::Input(e.to_string()))?;
        println!("{text}");
    } else {
        for result in &results {
            println!("{result}");
        }
    }
    Ok(if results.iter().all(Explanation::is_decided) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn migrate_command(args: &[String]) -> Result<ExitCode, Failure> {
    let (mut file, mut name, mut module) = (None, "imageswap".to_owned(), None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => name = args.next().cloned().unwrap_or(name),
            "--module" => module = args.next().cloned(),
            "-h" | "--help" => return Err(Failure::Usage(String::new())),
            other if other.starts_with("--") => return Err(Failure::Usage(format!("unknown option {other}"))),
            path => file = Some(path.to_owned()),
        }
    }
    let path = file.ok_or_else(|| Failure::Usage("migrate needs a FILE".to_owned()))?;
    let text = std::fs::read_to_string(&path).map_err(|e| Failure::Input(format!("cannot read {path}: {e}")))?;
    let source = migrate::read_source(&text);
    eprintln!("imageswap: {path}: {}", source.kind);
    let map = source.settings.get("imageChange").and_then(Value::as_str).unwrap_or_default().to_owned();
    for (line, note) in migrate::differences(&map) {
        let at = if line == 0 { "map".to_owned() } else { format!("line {line}") };
        eprintln!("note: {at}: {note}");
    }
    let settings = match Settings::from_value(&source.settings) {
        Ok(settings) => settings,
        Err(errors) => {
            eprintln!("the policy refuses these settings; fix them and run migrate again:\n{errors}");
            return Ok(ExitCode::from(1));
        }
    };
    let changes = migrate::changed_results(&map, &settings);
    if !changes.is_empty() {
        eprintln!("note: results that change (upstream webhook v1.5.3 -> imageswap):");
    }
    for change in changes {
        let rule = if change.line == 0 { String::new() } else { format!("line {}, ", change.line) };
        eprintln!("  {}: {} -> {}   ({rule}{})", change.image, change.old, change.new, change.reason);
    }
    let module = module.unwrap_or_else(|| "registry://ghcr.io/imageswap/policies/imageswap:v0.1.0".to_owned());
    print!("{}", migrate::policy_yaml(&name, &module, &source.settings).map_err(Failure::Input)?);
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("explain") => explain(args.get(1..).unwrap_or_default()),
        Some("migrate") => migrate_command(args.get(1..).unwrap_or_default()),
        Some("-h" | "--help") | None => Err(Failure::Usage(String::new())),
        Some(other) => Err(Failure::Usage(format!("unknown command {other}"))),
    };
    match outcome {
        Ok(code) => code,
        Err(Failure::Usage(problem)) => {
            if !problem.is_empty() {
                eprintln!("imageswap: {problem}");
            }
            eprintln!("{HELP}");
            ExitCode::from(2)
        }
        Err(Failure::Input(problem)) => {
            eprintln!("imageswap: {problem}");
            ExitCode::from(2)
        }
    }
}

//! The test kit: loads the case tables of `tests/cases/` and `e2e-tests/`, runs every case and
//! reports every failure at once with the case's name, and holds the checks that every host (the
//! engine natively, the wasm runner, the CLI, the playground) applies to the answers, so that the
//! hosts cannot drift apart.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test kit: failing loudly is the point

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// The repository's `tests/cases` folder.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

/// Reads a case table.
pub fn load<T: DeserializeOwned>(file: &str) -> Vec<T> {
    let path = cases_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `check` on every case; fails once, listing each failing case with its reason.
pub fn run_all<T>(cases: &[T], name: impl Fn(&T) -> String, check: impl Fn(&T) -> Result<(), String>) {
    assert!(!cases.is_empty(), "no cases loaded");
    let failures: Vec<String> =
        cases.iter().filter_map(|case| check(case).err().map(|why| format!("{}: {why}", name(case)))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// `Err` describing the difference when `got != expected`.
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, expected: T) -> Result<(), String> {
    if got == expected { Ok(()) } else { Err(format!("{what}: got {got:?}, expected {expected:?}")) }
}

/// The path of a file of `e2e-tests/`.
pub fn e2e_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../e2e-tests").join(relative)
}

/// Reads a JSON file of `e2e-tests/` (requests, settings, case tables).
pub fn e2e(relative: &str) -> serde_json::Value {
    let path = e2e_path(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One case of `e2e-tests/cases.json`, which every host runs: the engine natively, the runner
/// through `policy.wasm`, kwctl and a policy-server. Its request and its settings are each a file
/// under `e2e-tests/` (a real AdmissionReview, a settings document) or given inline.
#[derive(serde::Deserialize)]
pub struct E2eCase {
    /// What the case shows.
    pub name: String,
    /// An AdmissionReview file under `e2e-tests/` (a string), or the AdmissionRequest itself.
    request: serde_json::Value,
    /// A settings file under `e2e-tests/` (a string), or the settings document itself.
    settings: serde_json::Value,
    /// Whether the request is allowed.
    pub allowed: bool,
    /// The whole rejection message.
    #[serde(default)]
    pub message: Option<String>,
    /// JSON pointer → value: the request's object with these set is the expected object.
    /// Empty: the policy must not mutate.
    #[serde(default)]
    pub changes: serde_json::Map<String, serde_json::Value>,
    /// What the registry answers, in the order the policy must ask (`checkTargetExists`).
    #[serde(default)]
    pub lookups: Vec<imageswap_engine::Recorded>,
    /// The admission warnings, in order (docs/behaviour.md §5); none when not given.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The settings (inline) are invalid: a host refuses them when it loads the policy, so only
    /// the module's own answer is checked (the engine and the runner); see
    /// [`E2eCase::check_invalid_settings`].
    #[serde(default, rename = "invalidSettings")]
    pub invalid_settings: bool,
}

/// The engine's stand-in for the policy-server: answers from the case's recorded answers and
/// records what the policy asked, so a test can check the questions as well as the answer.
pub struct FixtureLookup(pub imageswap_engine::Recording);

impl FixtureLookup {
    /// A registry that knows `answers`.
    pub fn new(answers: &[imageswap_engine::Recorded]) -> Self {
        Self(imageswap_engine::Recording::new(answers.to_vec()))
    }

    /// `Err` unless the policy asked exactly the recorded questions, in order.
    pub fn check_asked(&self) -> Result<(), String> {
        expect_eq("lookups", self.0.asked.clone(), self.0.expected())
    }
}

impl imageswap_engine::TargetLookup for FixtureLookup {
    fn call(&mut self, capability: imageswap_engine::Capability, image: &str) -> Result<Vec<u8>, String> {
        self.0.call(capability, image)
    }
}

/// `object` with each `pointer → value` of `changes` set (the parent of each pointer must exist).
pub fn expected_object(
    object: &serde_json::Value,
    changes: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let mut expected = object.clone();
    for (pointer, new) in changes {
        let (parent, last) = pointer.rsplit_once('/').ok_or(format!("bad pointer {pointer}"))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        match expected.pointer_mut(parent) {
            Some(Value::Object(members)) => {
                members.insert(last, new.clone());
            }
            Some(Value::Array(items)) => {
                let slot = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)).ok_or(format!("no {pointer}"))?;
                *slot = new.clone();
            }
            _ => return Err(format!("no parent for {pointer}")),
        }
    }
    Ok(expected)
}

/// The expected answer of an admission case ([`E2eCase::expect`]).
pub enum Expect {
    /// Accepted without a mutation.
    Accept,
    /// Rejected with this whole message.
    Reject(String),
    /// Mutated: the object with these pointers set.
    Changes(serde_json::Map<String, serde_json::Value>),
}

/// A settings case of `e2e-tests/settings-cases.json`, which every host runs: the document (a
/// file under `e2e-tests/`, or inline) and the expected answer.
#[derive(serde::Deserialize)]
pub struct SettingsCase {
    /// What the case shows.
    pub name: String,
    /// The file under `e2e-tests/` that holds the document, instead of `settings`.
    #[serde(default, rename = "settingsFile")]
    pub settings_file: Option<String>,
    /// The settings document as text (not always JSON: some cases are documents a host refuses).
    #[serde(default)]
    pub settings: String,
    /// A large document as `[text, times]` pieces, instead of `settings`.
    #[serde(default)]
    pub settings_parts: Vec<(String, usize)>,
    /// A document that is not text, in hex, instead of `settings`.
    #[serde(default)]
    pub settings_hex: Option<String>,
    /// Whether the settings are valid.
    pub valid: bool,
    /// The whole message of an invalid document, where the case pins it.
    #[serde(default)]
    pub message: Option<String>,
}

impl SettingsCase {
    /// The document's bytes.
    pub fn document(&self) -> Vec<u8> {
        match &self.settings_file {
            Some(file) => std::fs::read(e2e_path(file)).unwrap_or_else(|e| panic!("{file}: {e}")),
            None => bytes(&self.settings, &self.settings_parts, self.settings_hex.as_deref()),
        }
    }

    /// Every settings case (`e2e-tests/settings-cases.json`).
    pub fn all() -> Vec<Self> {
        serde_json::from_value(e2e("settings-cases.json")).unwrap_or_else(|e| panic!("settings-cases.json: {e}"))
    }
}

/// Bytes given as text, as `[text, times]` pieces, or as hex (the first that is given).
pub fn bytes(text: &str, parts: &[(String, usize)], hex: Option<&str>) -> Vec<u8> {
    if let Some(hex) = hex {
        return (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    }
    if parts.is_empty() {
        text.as_bytes().to_vec()
    } else {
        parts.iter().map(|(t, n)| t.repeat(*n)).collect::<String>().into_bytes()
    }
}

/// A raw `validate` payload and what the policy must answer (`tests/cases/payloads.json`).
#[derive(serde::Deserialize)]
pub struct PayloadCase {
    /// What the case shows.
    pub name: String,
    /// The payload as text.
    #[serde(default)]
    pub payload: String,
    /// A large payload as `[text, times]` pieces.
    #[serde(default)]
    pub payload_parts: Vec<(String, usize)>,
    /// A payload that is not text, in hex.
    #[serde(default)]
    pub payload_hex: Option<String>,
    /// The expected answer.
    pub expect: PayloadExpect,
}

impl PayloadCase {
    /// The payload's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        bytes(&self.payload, &self.payload_parts, self.payload_hex.as_deref())
    }
}

/// What a raw payload must give.
#[derive(serde::Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
pub enum PayloadExpect {
    /// A rejection with this whole message.
    Reject(String),
    /// A rejection whose message starts so.
    RejectPrefix(String),
    /// A mutation that changes this many images.
    MutatedImages(usize),
}

impl PayloadExpect {
    /// `Err` unless the answer (`accepted`, message, number of images changed) is the expected one.
    pub fn check(&self, accepted: bool, message: Option<&str>, changed_images: usize) -> Result<(), String> {
        let ok = match self {
            Self::Reject(expected) => !accepted && message == Some(expected.as_str()),
            Self::RejectPrefix(prefix) => !accepted && message.is_some_and(|m| m.starts_with(prefix.as_str())),
            Self::MutatedImages(count) => accepted && changed_images == *count,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "got accepted={accepted} message={message:?} images changed={changed_images}, expected {self:?}"
            ))
        }
    }
}

/// What an operator tool showed for one image of an object: its field, and its new image or its
/// error.
pub struct Shown {
    /// `spec.containers[0].image`.
    pub field: String,
    /// The new image; `None` when left as written.
    pub new: Option<String>,
    /// Why the image cannot be decided.
    pub error: Option<String>,
}

/// Whether an e2e case's answer comes from the decisions of its images alone, so that a tool that
/// decides images (the CLI, the playground) must give it: a CREATE or UPDATE with an object, no
/// subresource, valid settings in mutate mode without registry answers (`checkTargetExists`), and
/// a rejection only for an image that cannot be decided or an object whose images cannot be read
/// (not for what the policy writes besides images: the annotation, the pull secrets).
pub fn tool_case(case: &E2eCase) -> bool {
    let request = case.request();
    let operation = request["operation"].as_str().unwrap_or_default();
    let settings = case.settings();
    let Ok(checked) = imageswap_engine::Settings::from_value(&settings) else { return false };
    let rejected_for_an_image = || match imageswap_engine::document_images(&case.review(), &checked.custom_resources) {
        Ok((_, found)) => imageswap_engine::explain_found(&checked.rules, checked.digest, &found)
            .iter()
            .any(|explained| !explained.is_decided()),
        Err(imageswap_engine::DocumentError::Object(_)) => true,
        Err(_) => false,
    };
    matches!(operation, "CREATE" | "UPDATE")
        && request.get("subResource").is_none_or(serde_json::Value::is_null)
        && request.get("object").is_some_and(|o| !o.is_null())
        && settings.get("checkTargetExists").is_none()
        && settings.get("mode").is_none_or(|mode| mode == "mutate")
        && (case.allowed || rejected_for_an_image())
}

/// The e2e cases an operator tool must answer as the policy does ([`tool_case`]).
pub fn tool_cases() -> Vec<E2eCase> {
    let cases: Vec<E2eCase> = serde_json::from_value(e2e("cases.json")).unwrap();
    let cases: Vec<E2eCase> = cases.into_iter().filter(tool_case).collect();
    assert!(cases.len() >= 15, "only {} cases decide from the map alone", cases.len());
    cases
}

/// How the tools name the kind of an e2e case's object when they read no images from it
/// (`"ConfigMap"`, `"Rollout" in the API group "example.com"`), or `None` when the policy reads
/// that kind with the case's settings.
pub fn unread_kind(case: &E2eCase) -> Option<String> {
    // The tools read an AdmissionReview's object with the group and kind of `request.kind`.
    let request = case.request();
    let kind = request["kind"]["kind"].as_str().unwrap_or_default();
    let group = request["kind"]["group"].as_str().unwrap_or_default();
    let kinds = imageswap_engine::Settings::custom_resources_of(&case.settings(), group, kind);
    match kinds.layout(group, kind) {
        Some(_) => None,
        None if group.is_empty() => Some(format!("{kind:?}")),
        None => Some(format!("{kind:?} in the API group {group:?}")),
    }
}

/// The rejection of an e2e case whose object the policy cannot read, a value of the wrong type on
/// the way to an image (which the tools refuse as bad input, exit status 2), if it is one.
pub fn unreadable_object(case: &E2eCase) -> Option<&str> {
    let kinds = imageswap_engine::Settings::from_value(&case.settings()).ok()?.custom_resources;
    let unreadable = matches!(
        imageswap_engine::document_images(&case.review(), &kinds),
        Err(imageswap_engine::DocumentError::Object(_))
    );
    if unreadable { case.message.as_deref() } else { None }
}

/// What a tool showed, from its JSON explanations (`field`, `new`, `error`).
pub fn shown_from(results: &[serde_json::Value]) -> Vec<Shown> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    results
        .iter()
        .map(|r| Shown { field: text(&r["field"]).unwrap_or_default(), new: text(&r["new"]), error: text(&r["error"]) })
        .collect()
}

/// `/spec/containers/0/image` for `spec.containers[0].image`.
pub fn pointer_of(field: &str) -> String {
    field.replace('[', ".").replace(']', "").split('.').map(|s| format!("/{s}")).collect()
}

/// Checks what a tool showed for an e2e case's object against the policy's answer: every image
/// the policy changes shows its new image, every other image is left as written, and a rejected
/// case shows an image error that the policy's message names.
pub fn check_shown(case: &E2eCase, shown: &[Shown]) -> Result<(), String> {
    let image_changes: Vec<&String> =
        case.changes.keys().filter(|p| p.ends_with("/image") || p.ends_with("/image/reference")).collect();
    for pointer in &image_changes {
        if !shown.iter().any(|s| &&pointer_of(&s.field) == pointer) {
            return Err(format!("the policy changes {pointer}, which the tool does not show"));
        }
    }
    if !case.allowed {
        let message = case.message.clone().unwrap_or_default();
        return match shown.iter().find_map(|s| s.error.as_ref()) {
            Some(error) if message.contains(error.as_str()) => Ok(()),
            Some(error) => Err(format!("tool error {error:?} is not in the policy's message {message:?}")),
            None => Err(format!("the policy rejects ({message}); the tool shows no error")),
        };
    }
    for s in shown {
        let expected = case.changes.get(&pointer_of(&s.field)).and_then(|v| v.as_str()).map(str::to_owned);
        expect_eq(&s.field, (s.new.clone(), s.error.clone()), (expected, None))?;
    }
    Ok(())
}

impl E2eCase {
    /// The AdmissionRequest.
    pub fn request(&self) -> serde_json::Value {
        match self.request.as_str() {
            Some(file) => imageswap_engine::admission_request(e2e(file)),
            None => self.request.clone(),
        }
    }

    /// The request as an AdmissionReview document (what a host is sent).
    pub fn review(&self) -> serde_json::Value {
        match self.request.as_str() {
            Some(file) => e2e(file),
            None => {
                serde_json::json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": self.request })
            }
        }
    }

    /// The settings document.
    pub fn settings(&self) -> serde_json::Value {
        match self.settings.as_str() {
            Some(file) => e2e(file),
            None => self.settings.clone(),
        }
    }

    /// Files holding the settings and the AdmissionReview, for a tool that reads files: the files
    /// under `e2e-tests/`, or for what the case gives inline, files it writes in `scratch`.
    pub fn files(&self, scratch: &std::path::Path) -> (PathBuf, PathBuf) {
        let file = |given: &serde_json::Value, suffix: &str, document: serde_json::Value| match given.as_str() {
            Some(file) => e2e_path(file),
            None => {
                let path = scratch.join(format!("{}.{suffix}.json", self.name));
                std::fs::write(&path, document.to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                path
            }
        };
        (file(&self.settings, "settings", self.settings()), file(&self.request, "request", self.review()))
    }

    /// `Err` unless `invalidSettings` says what `validate_settings` says of the settings, and only
    /// settings given inline are invalid.
    pub fn check_invalid_settings(&self) -> Result<(), String> {
        let invalid = imageswap_engine::validate_settings(self.settings().to_string().as_bytes()).is_err();
        expect_eq("invalidSettings", self.invalid_settings, invalid)?;
        if invalid && self.settings_file().is_some() {
            return Err("a settings file under e2e-tests/ is invalid".to_owned());
        }
        Ok(())
    }

    /// The file under `e2e-tests/` that holds the settings, when they are given as one.
    pub fn settings_file(&self) -> Option<&str> {
        self.settings.as_str()
    }

    /// The case's expected answer.
    pub fn expect(&self) -> Result<Expect, String> {
        match (self.allowed, &self.message) {
            (false, Some(message)) => Ok(Expect::Reject(message.clone())),
            (false, None) => Err("a rejection case needs its message".to_owned()),
            (true, _) if self.changes.is_empty() => Ok(Expect::Accept),
            (true, _) => Ok(Expect::Changes(self.changes.clone())),
        }
    }
}

/// What `mode: validate` must answer, derived from what `mode: mutate` answers for the same request
/// (docs/behaviour.md §6b), so that the two modes cannot drift.
#[derive(Debug)]
pub enum ValidateExpect {
    /// Accepted without a mutation: mutate mode changes no image and adds no pull secret.
    Accept,
    /// Rejected in the same words as mutate mode.
    Reject(String),
    /// Rejected with a message that names each of these fields, and no other.
    RejectNaming(Vec<Named>),
}

/// A field a validate-mode rejection must name: the container or volume entry, and what must
/// follow it (`image "nginx" must be "…"`), or a missing pull secret.
#[derive(Debug)]
pub struct Named {
    /// `spec.containers[0]`; empty for a pull secret.
    pub entry: String,
    /// `spec.containers[0].image`, how an image outside a pod spec is named; empty for a pull
    /// secret.
    pub field: String,
    /// What the message says of it.
    pub says: String,
}

/// Derives the validate-mode answer from the mutate-mode answer for `object`.
pub fn validate_expectation(object: &serde_json::Value, mutate: &Expect) -> ValidateExpect {
    let changes = match mutate {
        Expect::Accept => return ValidateExpect::Accept,
        Expect::Reject(message) => return ValidateExpect::Reject(message.clone()),
        Expect::Changes(changes) => changes,
    };
    let mut named = Vec::new();
    for (pointer, new) in changes {
        // Every change but the metadata and the pull secrets is an image: in a container or
        // volume entry (`…/image`, `…/image/reference`), or a field of its own (`/spec/images/0`).
        let is_image = !pointer.starts_with("/metadata") && !pointer.ends_with("/imagePullSecrets");
        let entry = pointer.strip_suffix("/image/reference").or_else(|| pointer.strip_suffix("/image"));
        if let Some(entry) = entry.or(Some(pointer.as_str())).filter(|_| is_image) {
            let from = object.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or_default();
            let to = new.as_str().unwrap_or_default();
            named.push(Named {
                entry: dotted(entry),
                field: dotted(pointer),
                says: format!("image {from:?} must be {to:?}"),
            });
        } else if let Some(pod_spec) = pointer.strip_suffix("/imagePullSecrets") {
            let before = object.pointer(pointer).and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
            for secret in new.as_array().into_iter().flatten().filter(|entry| !before.contains(entry)) {
                let name = secret["name"].as_str().unwrap_or_default();
                let pod_spec = dotted(pod_spec);
                named.push(Named {
                    entry: String::new(),
                    field: String::new(),
                    says: format!("{pod_spec}.imagePullSecrets must list the secret {name:?}"),
                });
            }
        }
    }
    if named.is_empty() { ValidateExpect::Accept } else { ValidateExpect::RejectNaming(named) }
}

/// `Err` unless a validate-mode answer (`allowed`, its message, whether it mutated) is `expect`.
pub fn check_validate(
    expect: &ValidateExpect,
    allowed: bool,
    message: Option<&str>,
    mutated: bool,
) -> Result<(), String> {
    if mutated {
        return Err("validate mode mutated the object".to_owned());
    }
    match expect {
        ValidateExpect::Accept if allowed => Ok(()),
        ValidateExpect::Reject(expected) if !allowed => expect_eq("message", message, Some(expected.as_str())),
        ValidateExpect::RejectNaming(named) if !allowed => {
            let message = message.unwrap_or_default();
            for field in named {
                let found = if field.entry.is_empty() {
                    message.contains(&field.says)
                } else {
                    // The container or volume (`container "web" (spec.containers[0])` or
                    // `container spec.containers[0]`), or an image outside a pod spec by its field.
                    [
                        format!("{}): {}", field.entry, field.says),
                        format!("{}: {}", field.entry, field.says),
                        format!("{}: {}", field.field, field.says),
                    ]
                    .iter()
                    .any(|text| message.contains(text.as_str()))
                };
                if !found {
                    return Err(format!("the message does not name {} {}: {message}", field.entry, field.says));
                }
            }
            let fields = message.matches(" must be ").count() + message.matches(" must list the secret ").count();
            expect_eq("fields named", fields, named.len())
        }
        _ => Err(format!("allowed={allowed} ({message:?}), expected {expect:?}")),
    }
}

/// `settings` with `mode: validate`.
pub fn in_validate_mode(settings: &serde_json::Value) -> serde_json::Value {
    let mut settings = settings.clone();
    if let Some(object) = settings.as_object_mut() {
        object.insert("mode".to_owned(), serde_json::Value::from("validate"));
    }
    settings
}

/// What a variant derived from a mutating e2e case must answer ([`variants`]).
#[derive(Debug)]
pub enum Derived {
    /// Accepted without a mutation.
    Accept,
    /// Rejected with a message holding each of these texts.
    RejectNaming(Vec<String>),
    /// Not rejected, and if mutated, nothing written at this pointer.
    Leaves(String),
}

/// A request derived from an e2e case, with what it must answer.
pub struct Variant {
    /// The case's name and the variant's.
    pub name: String,
    /// The AdmissionRequest.
    pub request: serde_json::Value,
    /// The settings document.
    pub settings: serde_json::Value,
    /// What it must answer.
    pub expect: Derived,
}

/// Variants of every e2e case that swaps an image on CREATE (the ready custom resources among
/// them), each a rule of docs/behaviour.md §4 applied to that kind: the swapped object sent back
/// as an UPDATE is accepted unchanged (idempotent); its first swapped image made unparseable is
/// rejected naming its place; made a number, rejected naming its field; removed, skipped; and the
/// same object in another API group is accepted unchanged.
pub fn variants(cases: &[E2eCase]) -> Vec<Variant> {
    use serde_json::{Value, json};
    let mut variants = Vec::new();
    for case in cases {
        let Ok(Expect::Changes(changes)) = case.expect() else { continue };
        let request = case.request();
        if request["operation"] != "CREATE" || !request["subResource"].is_null() || !case.lookups.is_empty() {
            continue;
        }
        let settings = case.settings();
        let original = request["object"].clone();
        let variant = |name: &str, request: Value, expect: Derived| Variant {
            name: format!("{}/{name}", case.name),
            request,
            settings: settings.clone(),
            expect,
        };
        let Ok(swapped) = expected_object(&original, &changes) else { continue };
        let mut update = request.clone();
        update["operation"] = json!("UPDATE");
        update["object"] = swapped.clone();
        update["oldObject"] = swapped;
        variants.push(variant("update_of_the_swapped_object", update, Derived::Accept));
        let mut elsewhere = request.clone();
        elsewhere["kind"]["group"] = json!("imageswap.example");
        elsewhere["object"]["apiVersion"] = json!("imageswap.example/v1");
        variants.push(variant("same_kind_in_another_group", elsewhere, Derived::Accept));
        let Some(pointer) = changes.keys().find(|p| p.ends_with("/image") || p.ends_with("/image/reference")) else {
            continue;
        };
        let entry =
            pointer.strip_suffix("/image/reference").or_else(|| pointer.strip_suffix("/image")).unwrap_or(pointer);
        let with = |value: Option<Value>| {
            let mut request = request.clone();
            let (parent, last) = pointer.rsplit_once('/').unwrap_or_default();
            if let Some(Value::Object(members)) = request["object"].pointer_mut(parent) {
                match value {
                    Some(value) => members.insert(last.to_owned(), value),
                    None => members.remove(last),
                };
            }
            request
        };
        let bad = "\"nginx:-bad\" is not a valid image reference: invalid reference format".to_owned();
        variants.push(variant(
            "swapped_image_unparseable",
            with(Some(json!("nginx:-bad"))),
            Derived::RejectNaming(vec![dotted(entry), bad]),
        ));
        let not_a_string = format!("{} is not a string", dotted(pointer));
        variants.push(variant(
            "swapped_image_a_number",
            with(Some(json!(7))),
            Derived::RejectNaming(vec![not_a_string]),
        ));
        variants.push(variant("swapped_image_absent", with(None), Derived::Leaves(pointer.clone())));
    }
    variants
}

/// Runs `check` (one host) on every admission case of `e2e-tests/cases.json`.
pub fn check_every_case(check: impl Fn(&E2eCase) -> Result<(), String>) {
    let cases: Vec<E2eCase> = serde_json::from_value(e2e("cases.json")).unwrap();
    run_all(&cases, |c| c.name.clone(), check);
}

/// What a host answered: allowed, the message, the mutated object.
pub type Answer = (bool, Option<String>, Option<serde_json::Value>);

/// docs/behaviour.md §6b on one host: every case of the e2e table with its settings in validate
/// mode ([`in_validate_mode`]) must answer what the case's mutate-mode answer implies
/// ([`validate_expectation`]), and never mutate. `answer` evaluates the case's request with the
/// settings it is given and a registry that knows the case's lookups (checking that it asked the
/// same questions).
pub fn check_every_case_in_validate_mode(answer: impl Fn(&E2eCase, &serde_json::Value) -> Result<Answer, String>) {
    check_every_case(|case| {
        let (allowed, message, mutated) = answer(case, &in_validate_mode(&case.settings()))?;
        let object = case.request().get("object").cloned().unwrap_or_default();
        check_validate(&validate_expectation(&object, &case.expect()?), allowed, message.as_deref(), mutated.is_some())
    });
}

/// Runs every [`variants`] of the e2e table through `answer` (one host) and checks each answer.
pub fn check_variants(answer: impl Fn(&Variant) -> Result<Answer, String>) {
    let cases: Vec<E2eCase> = serde_json::from_value(e2e("cases.json")).unwrap();
    let variants = variants(&cases);
    assert!(variants.len() >= 100, "only {} variants", variants.len());
    run_all(
        &variants,
        |v| v.name.clone(),
        |variant| {
            let (allowed, message, mutated) = answer(variant)?;
            variant.expect.check(allowed, message.as_deref(), mutated.as_ref())
        },
    );
}

impl Derived {
    /// `Err` unless an answer (`allowed`, its message, the mutated object if any) is this one.
    pub fn check(
        &self,
        allowed: bool,
        message: Option<&str>,
        mutated: Option<&serde_json::Value>,
    ) -> Result<(), String> {
        match self {
            Self::Accept if allowed && mutated.is_none() => Ok(()),
            Self::RejectNaming(texts) if !allowed => {
                let message = message.unwrap_or_default();
                match texts.iter().find(|text| !message.contains(text.as_str())) {
                    Some(missing) => Err(format!("the rejection does not name {missing:?}: {message}")),
                    None => Ok(()),
                }
            }
            Self::Leaves(pointer) if allowed => match mutated.and_then(|object| object.pointer(pointer)) {
                Some(value) => Err(format!("wrote {value} at {pointer}, which was absent")),
                None => Ok(()),
            },
            _ => Err(format!("allowed={allowed} ({message:?}), mutated={}, expected {self:?}", mutated.is_some())),
        }
    }
}

/// An independent oracle for the index (globset's "same answer from every matcher"): plain scans
/// over every line of a map, for step 1 (the image already lies under a target) and step 4 (the
/// longest registry/path key, a key without a port covering its host on any port, the key with the
/// port first at the same length). The index answers the same with hash lookups.
/// The dotted spelling the policy's messages use for a JSON pointer: `/spec/containers/0/image`
/// is `spec.containers[0].image`. Written here rather than taken from the engine, so that the
/// expected messages do not come from the code they check.
pub fn dotted(pointer: &str) -> String {
    pointer.split('/').skip(1).fold(String::new(), |out, segment| {
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            format!("{out}[{segment}]")
        } else if out.is_empty() {
            segment.to_owned()
        } else {
            format!("{out}.{segment}")
        }
    })
}

pub mod scan {
    use imageswap_engine::Image;
    use imageswap_engine::Prefix;
    use imageswap_engine::testing::host_without_port;
    use imageswap_engine::testing::{Decision, Step};
    use imageswap_engine::testing::{RegistryTarget, Shape};
    use imageswap_engine::{KeyKind, Lines};

    /// The line of the first target (in line order) that `image` lies under, scanning every line.
    pub fn target_line(map: &str, image: &Image) -> Option<usize> {
        let name = image.canonical_name();
        let under = |target: &RegistryTarget| match target.shape {
            Shape::Plain | Shape::Slash => {
                name == target.canonical || name.starts_with(&format!("{}/", target.canonical))
            }
            Shape::Dash => name.starts_with(&target.canonical),
            other => panic!("the scan knows no target shape {other:?}"),
        };
        Lines::new(map).filter_map(Result::ok).find_map(|line| {
            let hit = match KeyKind::of(line.key) {
                _ if line.value.is_empty() => false,
                KeyKind::Exact(operand) => {
                    let (Ok(key), Ok(target)) = (Image::parse(operand), Image::parse(line.value)) else { return None };
                    target.exact_id() != key.exact_id() && target.exact_id() == image.exact_id()
                }
                KeyKind::Noswap => false,
                KeyKind::Replace(glob) => {
                    glob != line.value && RegistryTarget::parse(line.value).is_ok_and(|t| under(&t))
                }
                KeyKind::Default => RegistryTarget::parse(line.value).is_ok_and(|t| under(&t)),
                KeyKind::Prefix(key) => {
                    let own = Prefix::parse(key).ok().map(|key| key.canonical());
                    RegistryTarget::parse(line.value)
                        .is_ok_and(|t| !(t.shape == Shape::Plain && Some(&t.canonical) == own.as_ref()) && under(&t))
                }
                other => panic!("the scan knows no key kind {other:?}"),
            };
            hit.then_some(line.number.get())
        })
    }

    /// The line of the registry/path key step 4 picks for `image`, scanning every line.
    pub fn prefix_line(map: &str, image: &Image) -> Option<usize> {
        let path = image.path();
        let mut best: Option<(usize, bool, usize)> = None; // (path length, with the port, line)
        for line in Lines::new(map).filter_map(Result::ok) {
            let KeyKind::Prefix(key) = KeyKind::of(line.key) else { continue };
            let Ok(key) = Prefix::parse(key) else { continue };
            let with_port = key.registry == image.registry();
            let on_host = host_without_port(image.registry()) == Some(key.registry.as_str());
            let under = key.path.is_empty() || path == key.path || path.starts_with(&format!("{}/", key.path));
            if (with_port || on_host) && under {
                let rank = (key.path.len(), with_port, line.number.get());
                let better = best.is_none_or(|(len, port, _)| (rank.0, rank.1) > (len, port));
                if better {
                    best = Some(rank);
                }
            }
        }
        best.map(|(_, _, line)| line)
    }

    /// `Err` unless the index's decision for `image` agrees with the scans: step 1 exactly when
    /// an image lies under a target (with its line), and step 4's line, or no key at all when a
    /// later step decided.
    pub fn check(map: &str, image: &Image, decision: &Decision) -> Result<(), String> {
        let target = target_line(map, image);
        let prefix = prefix_line(map, image);
        let decided = decision.line.map(|line| line.get());
        match (decision.step, target) {
            (Step::AlreadySwapped, Some(line)) if Some(line) == decided => Ok(()),
            (step, Some(line)) => {
                Err(format!("the scan finds a target on line {line}; the index decided {step:?} on line {decided:?}"))
            }
            (Step::AlreadySwapped, None) => Err(format!("the index finds a target on line {decided:?}, the scan none")),
            (Step::Prefix, _) if prefix == decided => Ok(()),
            (Step::Prefix, _) => Err(format!("the index picks the key on line {decided:?}, the scan {prefix:?}")),
            (Step::Noswap | Step::Default | Step::NoRule, _) if prefix.is_some() => {
                Err(format!("the scan finds the key on line {prefix:?}, which the index missed"))
            }
            _ => Ok(()),
        }
    }
}

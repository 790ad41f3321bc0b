//! Loads the case tables of `tests/cases/` and runs every case, reporting every failure at once
//! with the case's name.
#![allow(dead_code)]

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

/// Reads a JSON file of `e2e-tests/` (requests, settings, case tables).
pub fn e2e(relative: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../e2e-tests").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One case of `e2e-tests/cases.json`, which every host runs: the engine natively, the runner
/// through `policy.wasm`, and bats through kwctl.
#[derive(serde::Deserialize)]
pub struct E2eCase {
    /// What the case shows.
    pub name: String,
    /// An AdmissionReview file under `e2e-tests/`.
    pub request: String,
    /// A settings file under `e2e-tests/`.
    pub settings: String,
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
    pub lookups: Vec<LookupAnswer>,
}

/// One answer of the registry fixture: found (`digest`) or an error (`error`), for one image.
#[derive(serde::Deserialize, serde::Serialize, Clone, Debug)]
pub struct LookupAnswer {
    /// The image the policy asks about (the new reference, as built).
    pub image: String,
    /// The manifest digest, when the registry has the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The host's error, when it has not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The engine's stand-in for the policy-server: answers from the fixture and records what the
/// policy asked, so a test can check the questions as well as the answer.
pub struct FixtureLookup {
    answers: Vec<LookupAnswer>,
    /// Every image looked up, in order.
    pub asked: Vec<String>,
}

impl FixtureLookup {
    /// A registry that knows `answers`.
    pub fn new(answers: &[LookupAnswer]) -> Self {
        Self { answers: answers.to_vec(), asked: Vec::new() }
    }

    /// `Err` unless the policy asked exactly about the fixture's images, in order.
    pub fn check_asked(&self) -> Result<(), String> {
        let expected: Vec<String> = self.answers.iter().map(|a| a.image.clone()).collect();
        expect_eq("lookups", self.asked.clone(), expected)
    }
}

impl imageswap_engine::TargetLookup for FixtureLookup {
    fn lookup(&mut self, image: &str) -> imageswap_engine::Lookup {
        self.asked.push(image.to_owned());
        match self.answers.iter().find(|a| a.image == image) {
            Some(LookupAnswer { digest: Some(_), .. }) => imageswap_engine::Lookup::Found,
            Some(LookupAnswer { error: Some(error), .. }) => imageswap_engine::Lookup::from_host_error(error.clone()),
            _ => imageswap_engine::Lookup::Failed(format!("{image} is not in the fixture")),
        }
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

/// The AdmissionRequest of an AdmissionReview (or the document itself when it is a bare request).
pub fn request_of(document: serde_json::Value) -> serde_json::Value {
    match document.get("kind").and_then(serde_json::Value::as_str) {
        Some("AdmissionReview") => document.get("request").cloned().unwrap_or_default(),
        _ => document,
    }
}

/// The expected answer of `tests/cases/admission.json`: `"accept"` (no mutation),
/// `{"reject": message}` or `{"changes": {pointer: value}}`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Accepted without a mutation.
    Accept,
    /// Rejected with this whole message.
    Reject(String),
    /// Mutated: the object with these pointers set.
    Changes(serde_json::Map<String, serde_json::Value>),
}

/// One case of `tests/cases/admission.json`: an inline request and settings.
#[derive(serde::Deserialize)]
pub struct AdmissionCase {
    /// What the case shows.
    pub name: String,
    /// The AdmissionRequest.
    pub request: serde_json::Value,
    /// The settings document.
    pub settings: serde_json::Value,
    /// The expected answer.
    pub expect: Expect,
    /// What the registry answers, in the order the policy must ask (`checkTargetExists`).
    #[serde(default)]
    pub lookups: Vec<LookupAnswer>,
}

/// A settings case: the document (inline text in `tests/cases/settings.json`, a file under
/// `e2e-tests/` in `e2e-tests/settings-cases.json`) and the expected answer.
#[derive(serde::Deserialize)]
pub struct SettingsCase {
    /// What the case shows.
    pub name: String,
    /// The settings document, or the file that holds it.
    pub settings: String,
    /// Whether the settings are valid.
    pub valid: bool,
    /// The whole message of an invalid document, where the case pins it.
    #[serde(default)]
    pub message: Option<String>,
}

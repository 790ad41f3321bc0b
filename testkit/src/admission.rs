//! The admission cases of `tests/cases/admission.json`, which every host runs, and the registry that
//! answers their lookups.

use std::path::PathBuf;

use crate::tables::{expect_eq, fixture, fixture_path, run_all};

/// One case of `tests/cases/admission.json`, which every host runs: the engine natively, the runner
/// through `policy.wasm`, kwctl and a policy-server. Its request and its settings are each a file
/// under `tests/cases/` (a real AdmissionReview, a settings document) or given inline.
#[derive(serde::Deserialize)]
pub struct AdmissionCase {
    /// What the case shows.
    pub name: String,
    /// An AdmissionReview file under `tests/cases/` (a string), or the AdmissionRequest itself.
    request: serde_json::Value,
    /// A settings file under `tests/cases/` (a string), or the settings document itself.
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
    /// [`AdmissionCase::check_invalid_settings`].
    #[serde(default)]
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

/// The expected answer of an admission case ([`AdmissionCase::expect`]).
pub enum Expect {
    /// Accepted without a mutation.
    Accept,
    /// Rejected with this whole message.
    Reject(String),
    /// Mutated: the object with these pointers set.
    Changes(serde_json::Map<String, serde_json::Value>),
}

impl AdmissionCase {
    /// The AdmissionRequest.
    pub fn request(&self) -> serde_json::Value {
        match self.request.as_str() {
            Some(file) => imageswap_engine::admission_request(fixture(file)),
            None => self.request.clone(),
        }
    }

    /// The request as an AdmissionReview document (what a host is sent): its file, or its inline
    /// request with the fields every host requires and the policy does not read (`resource`,
    /// `userInfo`) filled in where the case leaves them out.
    pub fn review(&self) -> serde_json::Value {
        if let Some(file) = self.request.as_str() {
            return fixture(file);
        }
        let mut request = self.request.clone();
        if let Some(fields) = request.as_object_mut() {
            let kind = |field: &str| self.request.pointer(&format!("/kind/{field}")).cloned();
            let plural = kind("kind").and_then(|k| k.as_str().map(|k| format!("{}s", k.to_ascii_lowercase())));
            let resource = serde_json::json!({
                "group": kind("group").unwrap_or_else(|| "".into()),
                "version": kind("version").unwrap_or_else(|| "v1".into()),
                "resource": plural,
            });
            fields.entry("resource").or_insert(resource);
            fields.entry("userInfo").or_insert_with(|| serde_json::json!({}));
        }
        serde_json::json!({ "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request })
    }

    /// The settings document.
    pub fn settings(&self) -> serde_json::Value {
        match self.settings.as_str() {
            Some(file) => fixture(file),
            None => self.settings.clone(),
        }
    }

    /// Files holding the settings and the AdmissionReview, for a tool that reads files: the files
    /// under `tests/cases/`, or for what the case gives inline, files it writes in `scratch`.
    pub fn files(&self, scratch: &std::path::Path) -> (PathBuf, PathBuf) {
        let file = |given: &serde_json::Value, suffix: &str, document: serde_json::Value| match given.as_str() {
            Some(file) => fixture_path(file),
            None => {
                let path = scratch.join(format!("{}.{suffix}.json", self.name));
                std::fs::write(&path, document.to_string()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                path
            }
        };
        (file(&self.settings, "settings", self.settings()), file(&self.request, "request", self.review()))
    }

    /// `Err` unless `invalid_settings` says what `validate_settings` says of the settings, and only
    /// settings given inline are invalid.
    pub fn check_invalid_settings(&self) -> Result<(), String> {
        let invalid = imageswap_engine::validate_settings(self.settings().to_string().as_bytes()).is_err();
        expect_eq("invalid_settings", self.invalid_settings, invalid)?;
        if invalid && self.settings_file().is_some() {
            return Err("a settings file under tests/cases/ is invalid".to_owned());
        }
        Ok(())
    }

    /// The file under `tests/cases/` that holds the settings, when they are given as one.
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

/// Runs `check` (one host) on every admission case of `tests/cases/admission.json`.
pub fn check_every_case(check: impl Fn(&AdmissionCase) -> Result<(), String>) {
    let cases: Vec<AdmissionCase> = serde_json::from_value(fixture("admission.json")).unwrap();
    run_all(&cases, |c| c.name.clone(), check);
}

/// What a host answered: allowed, the message, the mutated object.
pub type Answer = (bool, Option<String>, Option<serde_json::Value>);

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

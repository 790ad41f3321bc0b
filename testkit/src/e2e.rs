//! The admission cases of `e2e-tests/cases.json`, which every host runs, and the registry that
//! answers their lookups.

use std::path::PathBuf;

use crate::tables::{e2e, e2e_path, expect_eq, run_all};

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

/// Runs `check` (one host) on every admission case of `e2e-tests/cases.json`.
pub fn check_every_case(check: impl Fn(&E2eCase) -> Result<(), String>) {
    let cases: Vec<E2eCase> = serde_json::from_value(e2e("cases.json")).unwrap();
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

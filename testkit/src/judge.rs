//! One judge of every host's AdmissionResponse: the runner's, kwctl's and a policy-server's
//! answers to the admission table are read the same way ([`Response::read`]) and judged by the same
//! code ([`judge_mutate`], [`judge_validate`]), so that no host is checked by a second
//! implementation of the rules.

use base64::Engine as _;
use serde_json::Value;

use crate::admission::{AdmissionCase, expected_object};
use crate::tables::expect_eq;
use crate::validate::{check_validate, validate_expectation};

/// What a host answered, read from its AdmissionResponse.
#[derive(Debug)]
pub struct Response {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// `status.message`, when the host sent one.
    pub message: Option<String>,
    /// The admission warnings, in order.
    pub warnings: Vec<String>,
    /// The JSON Patch, when the host sent one.
    pub patch: Option<json_patch::Patch>,
}

impl Response {
    /// Reads an AdmissionResponse, or the AdmissionReview holding one (`response`, as a
    /// policy-server answers). The patch may be base64 of the JSON Patch, as kwctl and the
    /// policy-server send it, or the JSON Patch itself, as the runner gives it.
    pub fn read(document: &Value) -> Result<Self, String> {
        let response = document.get("response").unwrap_or(document);
        let allowed = response.get("allowed").and_then(Value::as_bool).ok_or(format!("no `allowed` in {response}"))?;
        let message = response.pointer("/status/message").and_then(Value::as_str).map(str::to_owned);
        let warnings = match response.get("warnings") {
            None | Some(Value::Null) => Vec::new(),
            Some(list) => serde_json::from_value(list.clone()).map_err(|e| format!("warnings: {e}"))?,
        };
        let patch = match response.get("patch") {
            None | Some(Value::Null) => None,
            Some(Value::String(encoded)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| format!("patch is not base64: {e}"))?;
                Some(serde_json::from_slice(&bytes).map_err(|e| format!("patch is not a JSON Patch: {e}"))?)
            }
            Some(ops) => Some(serde_json::from_value(ops.clone()).map_err(|e| format!("patch: {e}"))?),
        };
        Ok(Self { allowed, message, warnings, patch })
    }

    /// The object the patch makes of `object`; `None` when there is no patch.
    pub fn mutated(&self, object: &Value) -> Result<Option<Value>, String> {
        let Some(patch) = &self.patch else { return Ok(None) };
        let mut patched = object.clone();
        json_patch::patch(&mut patched, patch).map_err(|e| format!("the patch does not apply: {e}"))?;
        Ok(Some(patched))
    }
}

/// The request's object (`null` when it has none, as on DELETE).
fn object_of(case: &AdmissionCase) -> Value {
    case.request().get("object").cloned().unwrap_or(Value::Null)
}

/// `Err` unless `response` is the case's answer: the same warnings, `allowed`, whole message, and
/// a patch that makes the request's object the expected object (none when the case changes
/// nothing).
pub fn judge_mutate(case: &AdmissionCase, response: &Response) -> Result<(), String> {
    expect_eq("warnings", response.warnings.as_slice(), case.warnings.as_slice())?;
    expect_eq("allowed", response.allowed, case.allowed)?;
    expect_eq("message", response.message.as_deref(), case.message.as_deref())?;
    let object = object_of(case);
    match (response.mutated(&object)?, case.changes.is_empty()) {
        (None, true) => Ok(()),
        (Some(_), true) => Err(format!("mutated, but no change was expected: {:?}", response.patch)),
        (None, false) => Err("not mutated".to_owned()),
        (Some(patched), false) => {
            let expected = expected_object(&object, &case.changes)?;
            if patched == expected {
                Ok(())
            } else {
                Err(format!("patched object differs:\n got      {patched}\n expected {expected}"))
            }
        }
    }
}

/// `Err` unless `response`, the answer to the case's request with its settings in validate mode,
/// is what the case's mutate-mode answer implies (docs/behaviour.md §6b; see
/// [`validate_expectation`]).
pub fn judge_validate(case: &AdmissionCase, response: &Response) -> Result<(), String> {
    let expect = validate_expectation(&object_of(case), &case.expect()?);
    check_validate(&expect, response.allowed, response.message.as_deref(), response.patch.is_some())
}

//! The imageswap Kubewarden policy: waPC glue only. Every decision is made by
//! [`imageswap_engine`]; this file maps its answers onto the Kubewarden SDK, answers its registry
//! lookups with the policy-server's OCI capabilities, and sends its log records to the host.
#![deny(unsafe_code)]

use imageswap_engine::{Capability, JsonBuffer, TargetLookup, Verdict};
use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::{protocol_version_guest, reject_request};
use wapc_guest::{CallResult, host_call, register_function};

/// Registers the three functions a Kubewarden waPC policy exports.
#[allow(unsafe_code)] // `#[unsafe(no_mangle)]` is what the lint flags; the function itself is safe.
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Answers lookups through the policy-server's `kubewarden/oci/*` capabilities (which cache the
/// answers that found something). The JSON answers are read by the engine, not by the SDK's
/// typed helpers, whose OCI types would link code the policy does not need.
struct HostRegistry;

impl TargetLookup for HostRegistry {
    fn call(&mut self, capability: Capability, image: &str) -> Result<Vec<u8>, String> {
        let request = serde_json::to_vec(image).map_err(|error| error.to_string())?;
        host_call("kubewarden", "oci", capability.operation(), &request).map_err(|error| error.to_string())
    }
}

/// `validate`: evaluates the request, logs what it did (a few records, whatever its size), and
/// answers accept, mutate or reject, with the evaluation's warnings.
fn validate(payload: &[u8]) -> CallResult {
    let evaluation = imageswap_engine::evaluate(payload, &mut HostRegistry);
    for record in evaluation.report().records() {
        // The policy-server's log host call, which the SDK's slog drain also uses. A record the host
        // cannot take is dropped: the request's answer does not depend on its log.
        let _ = host_call("kubewarden", "tracing", "log", &record.to_json());
    }
    let warnings = Some(evaluation.warnings).filter(|warnings| !warnings.is_empty());
    match evaluation.verdict {
        Verdict::Accept if warnings.is_none() => kubewarden_policy_sdk::accept_request(),
        Verdict::Accept => respond(response(true, None, None, warnings), 0),
        Verdict::Mutate(object) => respond(response(true, None, Some(object), warnings), payload.len()),
        Verdict::Reject(rejection) if warnings.is_none() => {
            reject_request(Some(rejection.to_string()), None, None, None)
        }
        Verdict::Reject(rejection) => respond(response(false, Some(rejection.to_string()), None, warnings), 0),
        // A verdict this glue does not know yet is refused rather than guessed at.
        _ => reject_request(Some("imageswap: unknown verdict".to_owned()), None, None, None),
    }
}

/// A response with these fields, the others empty.
fn response(
    accepted: bool,
    message: Option<String>,
    mutated_object: Option<serde_json::Value>,
    warnings: Option<Vec<String>>,
) -> ValidationResponse {
    ValidationResponse { accepted, message, code: None, mutated_object, audit_annotations: None, warnings }
}

/// `validate_settings`: `valid: false` with every problem, never a guest error for bad input.
fn validate_settings(payload: &[u8]) -> CallResult {
    let response = match imageswap_engine::validate_settings(payload) {
        Ok(_) => SettingsValidationResponse { valid: true, message: None },
        Err(errors) => SettingsValidationResponse { valid: false, message: Some(errors.to_string()) },
    };
    Ok(serde_json::to_vec(&response)?)
}

/// The response, serialized into a buffer sized for the request (a new object is about as large
/// as the one in it, [`JsonBuffer`]).
fn respond(response: ValidationResponse, request_len: usize) -> CallResult {
    let mut out = JsonBuffer::with_capacity(request_len.saturating_mul(2).max(256));
    serde_json::to_writer(&mut out, &response)?;
    Ok(out.into_bytes())
}

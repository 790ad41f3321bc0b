//! The imageswap Kubewarden policy: waPC glue only. Every decision is made by
//! [`imageswap_engine`]; this file maps its answers onto the Kubewarden SDK and sends
//! its log records to the host.
#![deny(unsafe_code)]

use imageswap_engine::{JsonBuffer, Lookup, TargetLookup, Verdict};
use kubewarden_policy_sdk::host_capabilities::oci::get_manifest_digest;
use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::{accept_request, protocol_version_guest, reject_request};
use wapc_guest::{CallResult, host_call, register_function};

/// Registers the three functions a Kubewarden waPC policy exports.
#[allow(unsafe_code)] // `#[unsafe(no_mangle)]` is what the lint flags; the function itself is safe.
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Looks targets up through the policy-server (`kubewarden/oci/v1/manifest_digest`), which caches
/// the answers.
struct HostRegistry;

impl TargetLookup for HostRegistry {
    fn lookup(&mut self, image: &str) -> Lookup {
        match get_manifest_digest(image) {
            Ok(_) => Lookup::Found,
            // The host's error may carry a backtrace; its first line says what happened.
            Err(error) => Lookup::from_host_error(error.to_string().lines().next().unwrap_or_default().to_owned()),
        }
    }
}

/// `validate`: evaluates the request, logs what it did (a few records, whatever its size), and
/// answers accept, mutate or reject.
fn validate(payload: &[u8]) -> CallResult {
    let evaluation = imageswap_engine::evaluate(payload, &mut HostRegistry);
    for record in evaluation.report().records() {
        // The policy-server's log host call, which the SDK's slog drain also uses. A record the host
        // cannot take is dropped: the request's answer does not depend on its log.
        let _ = host_call("kubewarden", "tracing", "log", &record.to_json());
    }
    match evaluation.verdict {
        Verdict::Accept => accept_request(),
        Verdict::Mutate(object) => mutate(object, payload.len()),
        Verdict::Reject(message) => reject_request(Some(message), None, None, None),
    }
}

/// `validate_settings`: `valid: false` with every problem, never a guest error for bad input.
fn validate_settings(payload: &[u8]) -> CallResult {
    let response = match imageswap_engine::validate_settings(payload) {
        Ok(_) => SettingsValidationResponse { valid: true, message: None },
        Err(errors) => SettingsValidationResponse { valid: false, message: Some(errors.to_string()) },
    };
    Ok(serde_json::to_vec(&response)?)
}

/// `mutate_request` of the SDK, serialized into a buffer sized for the request (the new object is
/// about as large as the one in it, [`JsonBuffer`]).
fn mutate(object: serde_json::Value, request_len: usize) -> CallResult {
    let response = ValidationResponse {
        accepted: true,
        message: None,
        code: None,
        mutated_object: Some(object),
        audit_annotations: None,
        warnings: None,
    };
    let mut out = JsonBuffer::with_capacity(request_len.saturating_mul(2));
    serde_json::to_writer(&mut out, &response)?;
    Ok(out.into_bytes())
}

//! Benchmark floor: reads the request as the policy-server sends it (request and settings) and
//! accepts. Whatever imageswap costs above this is its own work.
#![deny(unsafe_code)]

use kubewarden_policy_sdk::{accept_request, protocol_version_guest, reject_request};
use wapc_guest::{CallResult, register_function};

/// Registers the waPC functions.
#[allow(unsafe_code)] // `#[unsafe(no_mangle)]`
#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", |_| Ok(br#"{"valid":true}"#.to_vec()));
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(_) => accept_request(),
        Err(error) => reject_request(Some(error.to_string()), None, None, None),
    }
}

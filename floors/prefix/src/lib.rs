//! Benchmark floor: the trivial mutator. Reads the request and settings, prefixes every container
//! image of a Pod or workload template with `mirror.example.com/`, and returns the mutated object.
//! No parsing, no rules: what a swap costs at the least.
#![deny(unsafe_code)]

use kubewarden_policy_sdk::{accept_request, mutate_request, protocol_version_guest, reject_request};
use serde_json::Value;
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
    let mut envelope: Value = match serde_json::from_slice(payload) {
        Ok(envelope) => envelope,
        Err(error) => return reject_request(Some(error.to_string()), None, None, None),
    };
    let Some(mut object) = envelope.get_mut("request").and_then(|r| r.get_mut("object")).map(Value::take) else {
        return accept_request();
    };
    for spec in ["/spec", "/spec/template/spec"] {
        if let Some(containers) = object.pointer_mut(&format!("{spec}/containers")).and_then(Value::as_array_mut) {
            for image in containers.iter_mut().filter_map(|c| c.get_mut("image")) {
                if let Some(text) = image.as_str() {
                    *image = Value::String(format!("mirror.example.com/{text}"));
                }
            }
        }
    }
    mutate_request(object)
}

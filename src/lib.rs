//! The imageswap Kubewarden policy: waPC glue only. Every decision is made by
//! [`imageswap_engine`]; this file maps its answers onto the Kubewarden SDK and logs rewrites.
#![deny(unsafe_code)]

use imageswap_engine::{Evaluation, Lookup, TargetLookup, Verdict};
use kubewarden_policy_sdk::host_capabilities::oci::get_manifest_digest;
use kubewarden_policy_sdk::logging::KubewardenDrain;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::{accept_request, mutate_request, protocol_version_guest, reject_request};
use slog::{Logger, info, o, warn};
use wapc_guest::{CallResult, register_function};

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

/// How many rewrites (and skipped swaps) are logged one by one.
const LOGGED_REWRITES: usize = 20;

/// `validate`: evaluates the request, logs what it did, and answers accept, mutate or reject.
fn validate(payload: &[u8]) -> CallResult {
    let Evaluation { verdict, rewrites, skipped, added_pull_secrets } =
        imageswap_engine::evaluate(payload, &mut HostRegistry);
    let log = Logger::root(KubewardenDrain::new(), o!("policy" => "imageswap"));
    for skip in skipped.iter().take(LOGGED_REWRITES) {
        let (what, reason) = match &skip.lookup {
            Lookup::Missing(reason) => ("target not found: image left as written", reason.as_str()),
            Lookup::Failed(reason) => ("target lookup failed: image left as written", reason.as_str()),
            Lookup::Found => continue,
        };
        warn!(log, "{}", what;
            "image" => &skip.image, "target" => &skip.target, "rule_line" => skip.line.get(), "field" => &skip.field,
            "reason" => reason);
    }
    if skipped.len() > LOGGED_REWRITES {
        warn!(log, "more images left as written: their targets were not found or the lookup failed";
            "count" => skipped.len() - LOGGED_REWRITES);
    }
    // In validate mode the rejection names what would change; nothing was swapped or added.
    let mutated = matches!(verdict, Verdict::Mutate(_));
    let (rewrites, added_pull_secrets) = if mutated { (rewrites, added_pull_secrets) } else { Default::default() };
    for secret in &added_pull_secrets {
        info!(log, "pull secret added"; "secret" => secret);
    }
    // One record per rewrite up to a bound, then one that counts the rest: each host call costs
    // microseconds, and a hostile Pod may hold tens of thousands of containers.
    for rewrite in rewrites.iter().take(LOGGED_REWRITES) {
        info!(log, "image swapped";
            "from" => rewrite.from(), "to" => &rewrite.to, "rule_line" => rewrite.line.get(), "field" => rewrite.field());
        if rewrite.kept_digest {
            warn!(log, "digest kept: the image is pinned only by its digest";
                "image" => &rewrite.to, "field" => rewrite.field());
        }
    }
    if rewrites.len() > LOGGED_REWRITES {
        info!(log, "more images swapped"; "count" => rewrites.len() - LOGGED_REWRITES);
    }
    match verdict {
        Verdict::Accept => accept_request(),
        Verdict::Mutate(object) => mutate_request(object),
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

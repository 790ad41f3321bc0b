//! The admission case table (`tests/cases/admission.json`, `tests/cases/validate-settings.json`) run through the
//! built `policy.wasm` in wasmtime, the way the policy-server runs it: a fresh instance per
//! evaluation, settings validated first, the answer turned into a JSON Patch. The patch applied to
//! the request's object must give exactly the expected object.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use imageswap_runner::{
    HostCapabilities, NoCapabilities, Policy, RegistryFixture, admission_request, admission_response, apply_patch,
};
use imageswap_testkit::{
    AdmissionCase, PayloadCase, Response, SettingsCase, check_every_case, fixture as read, in_validate_mode,
    judge_mutate, judge_validate, load, run_all,
};
use serde_json::Value;

/// `$IMAGESWAP_POLICY`, else `policy.wasm` at the repository root (`make policy.wasm` builds it).
fn policy_path() -> PathBuf {
    std::env::var_os("IMAGESWAP_POLICY")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy.wasm"), PathBuf::from)
}

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = policy_path();
        Policy::load(&path).unwrap_or_else(|e| panic!("{e} (build it with `make policy.wasm`)"))
    })
}

/// A host whose registry knows `lookups`.
fn registry(lookups: &[imageswap_engine::Recorded]) -> Result<Arc<RegistryFixture>, String> {
    let answers = serde_json::to_value(lookups).map_err(|e| e.to_string())?;
    Ok(Arc::new(RegistryFixture::from_json(&answers).map_err(|e| e.to_string())?))
}

/// `Err` unless the policy asked the registry exactly the recorded questions, in order.
fn check_asked(registry: &RegistryFixture) -> Result<(), String> {
    let (asked, expected) = registry.asked();
    imageswap_testkit::expect_eq("lookups", asked, expected)
}

/// The runner's answer as every host's is read ([`Response::read`]), for the one judge.
fn judged(response: &imageswap_runner::AdmissionResponse) -> Result<Response, String> {
    Response::read(&serde_json::to_value(response).map_err(|e| e.to_string())?)
}

fn check(case: &AdmissionCase) -> Result<(), String> {
    let settings = case.settings();
    let request = admission_request(case.review());
    let registry = registry(&case.lookups)?;
    let host: Arc<dyn HostCapabilities> = registry.clone();
    let fresh = || policy().instance(Arc::clone(&host)).map_err(|e| e.to_string());
    let checked = fresh()?.validate_settings(&settings).map_err(|e| e.to_string())?;
    // A case may give invalid settings, which a host refuses when it loads the policy, to pin what
    // the module answers a request with them.
    if !checked.valid && !case.invalid_settings {
        return Err(format!("settings rejected: {:?}", checked.message));
    }
    let answer = fresh()?.validate(&request, &settings).map_err(|e| format!("guest error: {e}"))?;
    let response = judged(&admission_response(&request, &answer))?;
    check_asked(&registry)?;
    judge_mutate(case, &response)?;
    // Idempotence: the policy's own output, sent again as an UPDATE, changes nothing.
    let Some(patched) = response.mutated(request.get("object").unwrap_or(&Value::Null))? else { return Ok(()) };
    let mut again = request.clone();
    if let Some(slot) = again.get_mut("object") {
        *slot = patched;
    }
    let second = admission_response(&again, &fresh()?.validate(&again, &settings).map_err(|e| e.to_string())?);
    match second.patch {
        None => Ok(()),
        Some(patch) => Err(format!("second evaluation mutated again: {patch}")),
    }
}

#[test]
fn admission_cases_through_wasm() {
    check_every_case(check);
}

/// docs/behaviour.md §6b through wasm: `mode: validate` answers what `mode: mutate` implies (see
/// `validate_expectation`), asks the registry the same questions, and never mutates.
#[test]
fn validate_mode_on_every_case_through_wasm() {
    check_every_case(|case| {
        let request = admission_request(case.review());
        let registry = registry(&case.lookups)?;
        let instance = policy().instance(registry.clone()).map_err(|e| e.to_string())?;
        let settings = in_validate_mode(&case.settings());
        let answer = instance.validate(&request, &settings).map_err(|e| format!("guest error: {e}"))?;
        let response = judged(&admission_response(&request, &answer))?;
        check_asked(&registry)?;
        judge_validate(case, &response)
    });
}

#[test]
fn settings_cases_through_wasm() {
    run_all(
        &SettingsCase::all(),
        |c| c.name.clone(),
        |case| {
            // The document's bytes as they are (some are not JSON), in a fresh instance.
            let answer: imageswap_runner::SettingsValidation =
                serde_json::from_value(call_fresh("validate_settings", &case.document())?.0)
                    .map_err(|e| e.to_string())?;
            if answer.valid != case.valid || (case.message.is_some() && answer.message != case.message) {
                return Err(format!("got {answer:?}, expected valid={} message={:?}", case.valid, case.message));
            }
            Ok(())
        },
    );
}

/// The module is built with wasm SIMD, which the native engine is not: the lexer's block search
/// must read every map of the map table as the native build reads it (the same errors, lines and
/// messages).
#[test]
fn every_map_of_the_map_table_is_read_in_wasm_as_natively() {
    let table: Vec<Value> =
        serde_json::from_str(include_str!("../../tests/cases/map.json")).expect("tests/cases/map.json");
    let maps: Vec<&str> = table.iter().filter_map(|row| row.get("map")?.as_str()).collect();
    assert!(maps.len() > 20, "the map table lost its rows");
    for map in maps {
        let document = serde_json::json!({ "imageChange": map });
        let native = imageswap_engine::validate_settings(document.to_string().as_bytes()).err().map(|e| e.to_string());
        let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
        let answer = instance.validate_settings(&document).expect("an answer, not a guest error");
        assert_eq!((answer.valid, answer.message), (native.is_none(), native), "{map:?}");
    }
}

#[test]
fn settings_that_are_not_an_object_get_valid_false_not_a_guest_error() {
    for document in [Value::Null, Value::from(3), Value::from("default::"), Value::Array(Vec::new())] {
        let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
        let answer = instance.validate_settings(&document).expect("an answer, not a guest error");
        assert!(!answer.valid, "{document} accepted");
        assert!(answer.message.is_some_and(|m| !m.contains("Error(")), "debug text in the message for {document}");
    }
}

#[test]
fn unreadable_request_is_rejected_not_trapped() {
    let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
    let settings = read("settings/seed-2-global-swap.json");
    let request = serde_json::json!({"uid": "1", "operation": "CREATE", "kind": {"kind": "Pod"},
        "object": {"spec": {"containers": [{"name": "web", "image": 7}]}}});
    let answer = instance.validate(&request, &settings).expect("an answer, not a trap");
    assert!(!answer.accepted);
    assert_eq!(
        answer.message.as_deref(),
        Some("container \"web\" (spec.containers[0]): spec.containers[0].image is not a string")
    );
}

#[test]
fn protocol_version_is_v1() {
    let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
    assert_eq!(instance.protocol_version().expect("protocol_version"), "v1");
}

#[test]
fn rewrites_are_logged_in_one_record_with_their_rule_lines() {
    let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
    let request = admission_request(read("requests/pod-replace.json"));
    instance.validate(&request, &read("settings/seed-4-replace.json")).expect("validate");
    let logs = instance.logs();
    let swapped: Vec<&Value> = logs.iter().filter(|r| r["message"] == "images swapped").collect();
    assert_eq!(swapped.len(), 1, "{logs:?}");
    let record = swapped.first().expect("one record");
    assert_eq!(record["count"], 1);
    assert_eq!(
        record["rewrites"],
        "spec.containers[0].image: ghcr.io/example/app:1.4 -> example.private.io/app:1.4 (line 2)"
    );
}

#[test]
fn module_holds_no_regex_code() {
    let bytes = std::fs::read(policy_path()).expect("policy.wasm");
    for needle in [b"regex-automata".as_slice(), b"regex-syntax".as_slice()] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} is linked (docs/behaviour.md §7)",
            String::from_utf8_lossy(needle)
        );
    }
}

/// Calls `function` with raw bytes in a fresh instance; the answer as JSON, and the instance (for
/// its log). A guest error or a trap is an `Err`.
fn call_fresh(function: &str, payload: &[u8]) -> Result<(Value, imageswap_runner::Instance), String> {
    let instance = policy().instance(Arc::new(NoCapabilities)).map_err(|e| e.to_string())?;
    let answer = instance.call(function, payload).map_err(|e| format!("guest error or trap: {e}"))?;
    Ok((serde_json::from_slice(&answer).map_err(|e| e.to_string())?, instance))
}

#[test]
fn bad_payloads_through_wasm() {
    run_all(
        &load::<PayloadCase>("payloads.json"),
        |c| c.name.clone(),
        |case| {
            let (answer, instance) = call_fresh("validate", &case.bytes())?;
            let logs = instance.logs();
            // A few records whatever the request's size: the swaps share one, which counts them.
            if logs.len() > 4 {
                return Err(format!("{} log records for one request", logs.len()));
            }
            let counted = logs.iter().filter(|r| r["message"] == "images swapped").filter_map(|r| r["count"].as_u64());
            let swapped = usize::try_from(counted.sum::<u64>()).unwrap_or(usize::MAX);
            case.expect.check(answer["accepted"] == Value::Bool(true), answer["message"].as_str(), swapped)
        },
    );
}

#[test]
fn digest_only_pin_is_kept_with_a_warning() {
    let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
    let request = admission_request(read("requests/pod-digests.json"));
    instance.validate(&request, &read("settings/digest-drop.json")).expect("validate");
    let warnings: Vec<Value> = instance.logs().into_iter().filter(|r| r["level"] == "warning").collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["message"], "digests kept: these images are pinned only by their digest");
    assert_eq!(warnings[0]["count"], 1);
    let digest = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    assert_eq!(
        warnings[0]["images"],
        format!("spec.containers[1].image: harbor.internal.example.com/library/redis@{digest}")
    );
}

/// docs/behaviour.md §4 on every kind the admission table swaps, through wasm (see `imageswap_testkit::variants`).
#[test]
fn variants_of_every_swapping_admission_case_through_wasm() {
    imageswap_testkit::check_variants(|variant| {
        let request = admission_request(variant.request.clone());
        let instance = policy().instance(Arc::new(NoCapabilities)).map_err(|e| e.to_string())?;
        let answer = instance.validate(&request, &variant.settings).map_err(|e| format!("guest error: {e}"))?;
        let response = admission_response(&request, &answer);
        let message = response.status.as_ref().and_then(|s| s.get("message")).and_then(Value::as_str);
        let object = request.get("object").cloned().unwrap_or_default();
        let mutated = match &response.patch {
            Some(patch) => Some(apply_patch(&object, patch).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok((response.allowed, message.map(str::to_owned), mutated))
    });
}

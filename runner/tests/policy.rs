//! The e2e case table (`e2e-tests/cases.json`, `e2e-tests/settings-cases.json`) run through the
//! built `policy.wasm` in wasmtime, the way the policy-server runs it: a fresh instance per
//! evaluation, settings validated first, the answer turned into a JSON Patch. The patch applied to
//! the request's object must give exactly the expected object.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use imageswap_runner::{NoCapabilities, Policy, admission_request, admission_response, apply_patch};
use serde::Deserialize;
use serde_json::{Map, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `$IMAGESWAP_POLICY`, else `policy.wasm` at the repository root (`make policy.wasm` builds it).
fn policy_path() -> PathBuf {
    std::env::var_os("IMAGESWAP_POLICY").map_or_else(|| repo().join("policy.wasm"), PathBuf::from)
}

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = policy_path();
        Policy::load(&path).unwrap_or_else(|e| panic!("{e} (build it with `make policy.wasm`)"))
    })
}

fn read(relative: &str) -> Value {
    let path = repo().join("e2e-tests").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct Case {
    name: String,
    request: String,
    settings: String,
    allowed: bool,
    /// The whole rejection message.
    #[serde(default)]
    message: Option<String>,
    /// JSON pointer → value: the request's object with these set is the expected object.
    /// Empty: the policy must not mutate.
    #[serde(default)]
    changes: Map<String, Value>,
}

/// Sets `pointer` in `value`; the parent must exist.
fn set_pointer(value: &mut Value, pointer: &str, new: Value) -> Result<(), String> {
    let (parent, last) = pointer.rsplit_once('/').ok_or(format!("bad pointer {pointer}"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    match value.pointer_mut(parent) {
        Some(Value::Object(object)) => {
            object.insert(last, new);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let slot = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)).ok_or(format!("no {pointer}"))?;
            *slot = new;
            Ok(())
        }
        _ => Err(format!("no parent for {pointer}")),
    }
}

fn check(case: &Case) -> Result<(), String> {
    let settings = read(&case.settings);
    let request = admission_request(read(&case.request));
    let fresh = || policy().instance(Arc::new(NoCapabilities)).map_err(|e| e.to_string());
    let checked = fresh()?.validate_settings(&settings).map_err(|e| e.to_string())?;
    if !checked.valid {
        return Err(format!("settings rejected: {:?}", checked.message));
    }
    let answer = fresh()?.validate(&request, &settings).map_err(|e| format!("guest error: {e}"))?;
    let response = admission_response(&request, &answer);
    if response.allowed != case.allowed {
        return Err(format!("allowed: got {}, expected {} ({:?})", response.allowed, case.allowed, response.status));
    }
    let message = response.status.as_ref().and_then(|s| s.get("message")).and_then(Value::as_str);
    if message != case.message.as_deref() {
        return Err(format!("message: got {message:?}, expected {:?}", case.message));
    }
    let object = request.get("object").cloned().unwrap_or(Value::Null);
    match (&response.patch, case.changes.is_empty()) {
        (None, true) => return Ok(()),
        (Some(patch), true) => return Err(format!("mutated, but no change was expected: {patch}")),
        (None, false) => return Err("not mutated".to_owned()),
        (Some(_), false) => {}
    }
    let patched = apply_patch(&object, response.patch.as_ref().unwrap_or(&Value::Null)).map_err(|e| e.to_string())?;
    let mut expected = object;
    for (pointer, value) in &case.changes {
        set_pointer(&mut expected, pointer, value.clone())?;
    }
    if patched != expected {
        return Err(format!("patched object differs:\n got      {patched}\n expected {expected}"));
    }
    // Idempotence: the policy's own output, sent again as an UPDATE, changes nothing.
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

fn run_all<T>(cases: &[T], name: impl Fn(&T) -> &str, check: impl Fn(&T) -> Result<(), String>) {
    assert!(!cases.is_empty(), "no cases");
    let failures: Vec<String> =
        cases.iter().filter_map(|c| check(c).err().map(|why| format!("{}: {why}", name(c)))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn admission_cases_through_wasm() {
    let cases: Vec<Case> = serde_json::from_value(read("cases.json")).expect("cases.json");
    run_all(&cases, |c| &c.name, check);
}

#[derive(Deserialize)]
struct SettingsCase {
    name: String,
    settings: String,
    valid: bool,
    #[serde(default)]
    message: Option<String>,
}

#[test]
fn settings_cases_through_wasm() {
    let cases: Vec<SettingsCase> = serde_json::from_value(read("settings-cases.json")).expect("settings-cases.json");
    run_all(
        &cases,
        |c| &c.name,
        |case| {
            let instance = policy().instance(Arc::new(NoCapabilities)).map_err(|e| e.to_string())?;
            let answer = instance.validate_settings(&read(&case.settings)).map_err(|e| format!("guest error: {e}"))?;
            if answer.valid != case.valid || (case.message.is_some() && answer.message != case.message) {
                return Err(format!("got {answer:?}, expected valid={} message={:?}", case.valid, case.message));
            }
            Ok(())
        },
    );
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
fn rewrites_are_logged_with_rule_line() {
    let instance = policy().instance(Arc::new(NoCapabilities)).expect("instance");
    let request = admission_request(read("requests/pod-replace.json"));
    instance.validate(&request, &read("settings/seed-4-replace.json")).expect("validate");
    let logs = instance.logs();
    let swapped: Vec<&Value> =
        logs.iter().filter(|r| r.get("message").and_then(Value::as_str) == Some("image swapped")).collect();
    assert_eq!(swapped.len(), 1, "{logs:?}");
    let record = swapped.first().expect("one record");
    assert_eq!(record.get("from").and_then(Value::as_str), Some("ghcr.io/example/app:1.4"));
    assert_eq!(record.get("to").and_then(Value::as_str), Some("example.private.io/app:1.4"));
    assert_eq!(record.get("rule_line").and_then(Value::as_u64), Some(2));
}

#[test]
fn module_holds_no_regex_code() {
    let bytes = std::fs::read(policy_path()).expect("policy.wasm");
    for needle in [b"regex-automata".as_slice(), b"regex-syntax".as_slice()] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} is linked (SPEC §7)",
            String::from_utf8_lossy(needle)
        );
    }
}

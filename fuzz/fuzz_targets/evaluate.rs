//! Any bytes through the entry points the waPC glue calls: `validate_settings` (the settings
//! document) and `evaluate` (a ValidationRequest payload), never a panic. Inputs that start with
//! a settings map (up to the first NUL) are also wrapped into a well-formed payload around the rest
//! as the object, so the fuzzer reaches the object walk (of built-in kinds and custom resources);
//! there, in both modes, the request path must answer as the whole map does, and validate mode
//! must never mutate.
#![no_main]

use imageswap_engine::{evaluate, validate_settings};
use imageswap_engine::testing::{AssumeFound, evaluate_whole_map};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = validate_settings(data);
    let _ = evaluate(data, &mut AssumeFound);
    let (map, object) = match data.iter().position(|b| *b == 0) {
        Some(at) => (data.get(..at).unwrap_or_default(), data.get(at + 1..).unwrap_or_default()),
        None => return,
    };
    let Ok(object) = serde_json::from_slice::<serde_json::Value>(object) else { return };
    // Built-in kinds, and custom resources read through pod specs, image paths and lists.
    let custom = serde_json::json!([
        { "apiGroup": "argoproj.io", "kind": "Rollout", "podSpecs": ["spec.template.spec", "spec.pods[*].spec"] },
        { "apiGroup": "tekton.dev", "kind": "Task", "images": ["spec.steps[*].image", "spec.images[*]", "spec.stepTemplate.image"] },
    ]);
    let kinds = [("", "Pod"), ("apps", "Deployment"), ("batch", "CronJob"), ("argoproj.io", "Rollout"), ("tekton.dev", "Task")];
    for (group, kind) in kinds {
        let payload = serde_json::json!({
            "request": { "uid": "f", "operation": "CREATE", "kind": { "group": group, "kind": kind }, "object": object },
            "settings": { "imageChange": String::from_utf8_lossy(map), "imagePullSecrets": { "mirror.example.com": "pull" },
                          "customResources": custom },
        });
        for mode in ["mutate", "validate"] {
            let mut payload = payload.clone();
            payload["settings"]["mode"] = serde_json::json!(mode);
            let payload = payload.to_string();
            let narrow = evaluate(payload.as_bytes(), &mut AssumeFound);
            // The request path answers as the whole map, wherever the settings are valid.
            if imageswap_engine::validate_settings(payload_settings(&payload).as_bytes()).is_ok() {
                assert_eq!(narrow, evaluate_whole_map(payload.as_bytes(), &mut AssumeFound), "request path differs");
            }
            if mode == "validate" {
                assert!(!matches!(narrow.verdict, imageswap_engine::Verdict::Mutate(_)), "validate mode mutated");
            }
        }
    }
});

/// The settings document of a payload, as text.
fn payload_settings(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload).map(|p| p["settings"].to_string()).unwrap_or_default()
}

//! Any bytes through the entry points the waPC glue calls: `validate_settings` (the settings
//! document) and `evaluate` (a ValidationRequest payload), never a panic. Inputs that start with
//! a settings map (up to the first NUL) are also wrapped into a well-formed payload around the rest
//! as the object, so the fuzzer reaches the object walk.
#![no_main]

use imageswap_engine::{AssumeFound, evaluate, validate_settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = validate_settings(data);
    let _ = evaluate(data, &mut AssumeFound);
    let (map, object) = match data.iter().position(|b| *b == 0) {
        Some(at) => (data.get(..at).unwrap_or_default(), data.get(at + 1..).unwrap_or_default()),
        None => return,
    };
    let Ok(object) = serde_json::from_slice::<serde_json::Value>(object) else { return };
    for kind in ["Pod", "Deployment", "CronJob"] {
        let payload = serde_json::json!({
            "request": { "uid": "f", "operation": "CREATE", "kind": { "kind": kind }, "object": object },
            "settings": { "imageChange": String::from_utf8_lossy(map), "imagePullSecrets": { "mirror.example.com": "pull" } },
        });
        let _ = evaluate(payload.to_string().as_bytes(), &mut AssumeFound);
    }
});

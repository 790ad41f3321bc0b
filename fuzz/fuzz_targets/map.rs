//! Any text as a swap map: parsing never panics, and an accepted map decides images without
//! panicking, each swap's result parses and is left alone the second time (idempotence), and the
//! request path (only the lines that can matter to the request's images) answers as the whole map
//! does, for a Pod of each image alone and of all of them together. A map with a list of targets
//! is valid only with `checkTargetExists` (docs/behaviour.md §5), so such a map is evaluated with
//! lookups on, every target found.
#![no_main]

use imageswap_engine::Rules;
use imageswap_engine::{DigestPolicy};
use imageswap_engine::testing::{decide};
use imageswap_engine::{evaluate};
use imageswap_engine::testing::{AssumeFound, evaluate_whole_map};
use libfuzzer_sys::fuzz_target;

const IMAGES: [&str; 14] = [
    "docker.io:443/library/nginx:1.25",
    "registry-1.docker.io:443/nginx",
    "INDEX.docker.io:443/bitnami/redis",
    "registry.hub.docker.com/library/busybox",
    "[FD00::1]:5000/app",
    "Foo/bar:1",
    "nginx",
    "nginx:1.25@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "quay.io/org/app:1",
    "quay.io:8443/org/app",
    "localhost:5000/x",
    "[fd00::1]:5000/app:1",
    "Docker.io/bitnami/redis:7",
    "ghcr.io/example/tool",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rules) = Rules::parse(&text) else { return };
    let lookups = !rules.target_lists().is_empty();
    // The fixed images, and the keys the map itself names (as images).
    let keys = text.lines().filter_map(|l| l.split("::").next()).take(4);
    for (i, image) in IMAGES.into_iter().chain(keys).enumerate() {
        let policies: &[DigestPolicy] =
            if i < 2 { &[DigestPolicy::Keep, DigestPolicy::Drop] } else { &[DigestPolicy::Keep] };
        for policy in policies {
            request_path_agrees(&text, &[image], *policy, lookups);
            if let Ok(decision) = decide(&rules, *policy, image) {
                if let Some(new) = decision.swapped {
                    assert!(
                        imageswap_engine::Image::parse(&new).is_ok(),
                        "{new:?} from {image:?} does not parse"
                    );
                    let again = decide(&rules, *policy, &new).map(|d| d.swapped);
                    assert!(matches!(again, Ok(None)), "{image:?} → {new:?} → {again:?}: not idempotent");
                }
            }
        }
    }
    request_path_agrees(&text, &IMAGES, DigestPolicy::Keep, lookups);
});

/// A Pod of `images` gets the same answer from the request path as from the whole map (with
/// `lookups`, `checkTargetExists` on and every target found).
fn request_path_agrees(map: &str, images: &[&str], digest: DigestPolicy, lookups: bool) {
    let containers: Vec<_> =
        images.iter().enumerate().map(|(i, image)| serde_json::json!({ "name": format!("c{i}"), "image": image })).collect();
    let digest = if digest == DigestPolicy::Drop { "drop" } else { "keep" };
    let payload = serde_json::json!({
        "request": { "uid": "f", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" },
                     "object": { "metadata": { "name": "p" }, "spec": { "containers": containers } } },
        "settings": { "imageChange": map, "digest": digest, "imagePullSecrets": { "mirror.example.com": "pull" },
                      "checkTargetExists": lookups, "maxLookups": 1000 },
    })
    .to_string();
    let narrow = evaluate(payload.as_bytes(), &mut AssumeFound);
    let whole = evaluate_whole_map(payload.as_bytes(), &mut AssumeFound);
    assert_eq!(narrow, whole, "request path and whole map differ for {images:?}");
}

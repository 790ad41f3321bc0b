//! Any text as a swap map: parsing never panics, and an accepted map decides images without
//! panicking, each swap's result parses and is left alone the second time (idempotence), and the
//! request path (only the lines that can matter to the image) decides as the whole map does.
#![no_main]

use imageswap_engine::relevance::Relevance;
use imageswap_engine::rules::Rules;
use imageswap_engine::swap::{DigestPolicy, decide};
use libfuzzer_sys::fuzz_target;

const IMAGES: [&str; 8] = [
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
    // The fixed images, and the keys the map itself names (as images).
    let keys = text.lines().filter_map(|l| l.split("::").next()).take(4);
    for (i, image) in IMAGES.into_iter().chain(keys).enumerate() {
        let policies: &[DigestPolicy] =
            if i < 2 { &[DigestPolicy::Keep, DigestPolicy::Drop] } else { &[DigestPolicy::Keep] };
        let narrow = Rules::parse_for(&text, &Relevance::new([image]));
        assert!(narrow.is_ok(), "the request path rejects an accepted map: {narrow:?}");
        for policy in policies {
            if let Ok(narrow) = &narrow {
                assert_eq!(
                    decide(narrow, *policy, image),
                    decide(&rules, *policy, image),
                    "request path for {image:?}"
                );
            }
            if let Ok(decision) = decide(&rules, *policy, image) {
                if let Some(new) = decision.swapped {
                    assert!(
                        imageswap_engine::normalize::Image::parse(&new).is_ok(),
                        "{new:?} from {image:?} does not parse"
                    );
                    let again = decide(&rules, *policy, &new).map(|d| d.swapped);
                    assert!(matches!(again, Ok(None)), "{image:?} → {new:?} → {again:?}: not idempotent");
                }
            }
        }
    }
});

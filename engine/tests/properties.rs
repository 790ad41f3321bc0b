//! Properties over generated maps, images and objects (a seeded generator, so a failure names a
//! reproducible case): every swap result parses and is left alone by a second evaluation (so no
//! accepted map holds a chain), tags and digests survive except as `digest: drop` says, an image is
//! decided alike in its canonical and familiar spelling, and evaluating an object changes nothing
//! but its images, the annotation and the pull secrets.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::normalize::Image;
use imageswap_engine::rules::Rules;
use imageswap_engine::swap::{DigestPolicy, Step, decide};
use imageswap_engine::{AssumeFound, Verdict, evaluate};
use serde_json::{Value, json};

/// xorshift64*: small, seeded, good enough to pick pieces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const REGISTRIES: [&str; 10] = [
    "quay.io",
    "docker.io",
    "index.docker.io",
    "localhost:5000",
    "[fd00::1]:5000",
    "r1.example.com",
    "Quay.IO",
    "gcr.io:443",
    "registry.k8s.io",
    "localhost",
];
const PATHS: [&str; 6] = ["org", "org/team", "library", "bitnami", "nginx", "a/b/c"];
const TARGETS: [&str; 7] = [
    "mirror.example.com",
    "mirror.example.com/x",
    "mirror.example.com/",
    "mirror.example.com/pre-",
    "harbor.example.com:5000/p",
    "[fd00::2]:5000/m",
    "",
];
const GLOBS: [&str; 6] = ["quay.io/*", "*nginx*", "[a-q]*", "docker.io/library/*", "*/team/*:1*", "auto"];
const NAMES: [&str; 8] =
    ["nginx", "org/app", "org/team/svc", "bitnami/redis", "library/busybox", "a/b/c/d", "auto", "x"];
const TAGS: [&str; 5] = ["", ":1", ":latest", ":v1.2-rc", ":1.25"];
const DIGEST: &str = "@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn map(rng: &mut Rng) -> String {
    let mut lines = Vec::new();
    if rng.chance(70) {
        lines.push(format!("default::{}", rng.pick(&TARGETS)));
    }
    for _ in 0..rng.next() % 6 {
        let registry = rng.pick(&REGISTRIES);
        lines.push(match rng.next() % 5 {
            0 | 1 => format!("{registry}::{}", rng.pick(&TARGETS)),
            2 => format!("{registry}/{}::{}", rng.pick(&PATHS), rng.pick(&TARGETS)),
            3 => format!("[EXACT]{}::{}", image(rng), image(rng)),
            _ => format!("[REPLACE]{}::{}", rng.pick(&GLOBS), rng.pick(&TARGETS).trim_end_matches('-')),
        });
    }
    if rng.chance(30) {
        lines.push("noswap_wildcards::*-dev*,quay.io/keep".to_owned());
    }
    lines.join("\n")
}

fn image(rng: &mut Rng) -> String {
    let name = rng.pick(&NAMES);
    let prefix = if rng.chance(60) { format!("{}/", rng.pick(&REGISTRIES)) } else { String::new() };
    let digest = if rng.chance(20) { DIGEST } else { "" };
    format!("{prefix}{name}{}{digest}", rng.pick(&TAGS))
}

/// Runs `check` on `count` generated maps that the parser accepts, each with a few images.
fn for_generated(seed: u64, count: usize, check: impl Fn(&str, &Rules, &str) -> Result<(), String>) {
    let mut rng = Rng(seed);
    let (mut accepted, mut failures) = (0, Vec::new());
    while accepted < count {
        let text = map(&mut rng);
        let Ok(rules) = Rules::parse(&text) else { continue };
        accepted += 1;
        for _ in 0..6 {
            let written = image(&mut rng);
            if Image::parse(&written).is_err() {
                continue;
            }
            if let Err(why) = check(&text, &rules, &written) {
                failures.push(format!("map {text:?}, image {written:?}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn swaps_parse_are_idempotent_and_keep_tag_and_digest() {
    for_generated(0x5eed_0001, 4000, |_, rules, written| {
        let original = Image::parse(written).unwrap();
        for policy in [DigestPolicy::Keep, DigestPolicy::Drop] {
            let Ok(decision) = decide(rules, policy, written) else { continue };
            let Some(new) = decision.swapped else { continue };
            let swapped = Image::parse(&new).map_err(|e| format!("{new:?} does not parse: {e}"))?;
            let again = decide(rules, policy, &new).map_err(|e| e.to_string())?;
            if again.swapped.is_some() {
                return Err(format!("{new:?} is swapped again to {:?} (a chain)", again.swapped));
            }
            if decision.step == Step::Exact {
                continue; // [EXACT] targets are used verbatim
            }
            if swapped.tag() != original.tag() {
                return Err(format!("tag changed: {new:?}"));
            }
            let expected_digest = match policy {
                DigestPolicy::Drop if original.tag().is_some() => None,
                _ => original.digest(),
            };
            if swapped.digest() != expected_digest {
                return Err(format!("digest changed under {policy:?}: {new:?}"));
            }
        }
        Ok(())
    });
}

#[test]
fn canonical_and_familiar_spellings_are_decided_alike() {
    for_generated(0x5eed_0002, 3000, |_, rules, written| {
        let image = Image::parse(written).unwrap();
        let decide_id = |spelling: &str| {
            decide(rules, DigestPolicy::Keep, spelling).map(|d| {
                let result = d.swapped.map(|s| Image::parse(&s).map(|i| i.exact_id()).map_err(|e| e.to_string()));
                (d.step, d.line, result)
            })
        };
        let (canonical, familiar) = (decide_id(&image.canonical()), decide_id(&image.familiar()));
        let familiar_reads_alike = Image::parse(&image.familiar()).is_ok_and(|f| f == image);
        if familiar_reads_alike && canonical != familiar {
            return Err(format!("{} → {canonical:?} but {} → {familiar:?}", image.canonical(), image.familiar()));
        }
        Ok(())
    });
}

/// A Pod with the generated images and fields the policy does not own, some of them `null`.
fn pod(images: &[String]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({ "name": format!("c{i}"), "image": image, "args": ["--x", null], "futureField": { "a": [1, 2.5, true] } }))
        .collect();
    json!({ "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "p", "labels": { "app": "p" }, "creationTimestamp": null, "managedFields": [{ "manager": "kubectl" }] },
        "spec": { "containers": containers, "initContainers": null, "nodeSelector": { "disk": "ssd" }, "unknownSpecField": 7 },
        "status": { "phase": "Pending" } })
}

#[test]
fn objects_keep_every_field_the_policy_does_not_own() {
    let mut rng = Rng(0x5eed_0003);
    let mut checked = 0;
    while checked < 1500 {
        let text = map(&mut rng);
        if Rules::parse(&text).is_err() {
            continue;
        }
        let images: Vec<String> = (0..3).map(|_| image(&mut rng)).filter(|i| Image::parse(i).is_ok()).collect();
        let object = pod(&images);
        let settings = json!({ "imageChange": text, "imagePullSecrets": { "mirror.example.com": "pull" } });
        let payload = json!({ "request": { "uid": "u", "operation": "CREATE", "kind": { "kind": "Pod" }, "object": object }, "settings": settings });
        let Verdict::Mutate(mut mutated) = evaluate(payload.to_string().as_bytes(), &mut AssumeFound).verdict else {
            continue;
        };
        checked += 1;
        // Put back what SPEC lets the policy change; the rest must be exactly as sent.
        for (i, image) in images.iter().enumerate() {
            mutated["spec"]["containers"][i]["image"] = json!(image);
        }
        if let Some(annotations) = mutated["metadata"].as_object_mut() {
            annotations.remove("annotations");
        }
        if let Some(spec) = mutated["spec"].as_object_mut() {
            spec.remove("imagePullSecrets");
        }
        assert_eq!(mutated, object, "map {text:?}, images {images:?}");
    }
}

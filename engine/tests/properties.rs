//! Properties over generated maps, images and objects (proptest, which shrinks a failure to a
//! small map and image): every swap result parses and is left alone by a second evaluation (so no
//! accepted map holds a chain), tags and digests survive except as `digest: drop` says, an image is
//! decided alike in its canonical and familiar spelling, the request path (only the lines that can
//! matter to a request's images) decides as the whole map does, evaluating an object changes nothing
//! but its images, the annotation and the pull secrets, and validate mode rejects exactly when
//! mutate mode would change an image or a pull secret, and never mutates.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::Image;
use imageswap_engine::Rules;
use imageswap_engine::Step;
use imageswap_engine::testing::Relevance;
use imageswap_engine::testing::{AssumeFound, evaluate_whole_map};
use imageswap_engine::testing::{decide, placeholder};
use imageswap_engine::{DigestPolicy, SwapError};
use imageswap_engine::{Verdict, evaluate};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

const REGISTRIES: [&str; 19] = [
    "docker.io:443",
    "Registry-1.Docker.io:443",
    "INDEX.docker.io:443",
    "registry.hub.docker.com",
    "index.docker.io:5000",
    "[FD00::1]:5000",
    "Foo",
    "quay.io",
    "docker.io",
    "index.docker.io",
    "Registry-1.Docker.io",
    "gcr.io",
    "localhost:5000",
    "[fd00::1]:5000",
    "r1.example.com",
    "Quay.IO",
    "gcr.io:443",
    "registry.k8s.io",
    "localhost",
];
const PATHS: [&str; 7] = ["org", "org/team", "library", "bitnami", "nginx", "a/b/c", "org/app"];
const TARGETS: [&str; 9] = [
    "docker.io/mirror",
    "Harbor.Example.com:443/a",
    "mirror.example.com",
    "mirror.example.com/x",
    "mirror.example.com/",
    "mirror.example.com/pre-",
    "harbor.example.com:5000/p",
    "[fd00::2]:5000/m",
    "",
];
/// Globs, among them some that begin like a spelling of an image and match only some of its tags
/// (the request path matches those against the few spellings that begin with their literal).
const GLOBS: [&str; 9] = [
    "quay.io/*",
    "*nginx*",
    "[a-q]*",
    "docker.io/library/*",
    "*/team/*:1*",
    "auto",
    "nginx*:1.2?",
    "docker.io/library/nginx*:v*",
    "quay.io/org/app:[l1]*",
];
const NAMES: [&str; 10] = [
    "nginx",
    "org/app",
    "org/team/svc",
    "bitnami/redis",
    "library/busybox",
    "a/b/c/d",
    "auto",
    "x",
    "evil/mirror.example.com",
    "mirror",
];
const TAGS: [&str; 6] = ["", ":1", ":latest", ":v1.2-rc", ":1.25", ":mirror.example.com"];
const DIGEST: &str = "@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn target() -> impl Strategy<Value = &'static str> {
    select(TARGETS.to_vec())
}

fn image() -> BoxedStrategy<String> {
    let registry = prop::option::weighted(0.6, select(REGISTRIES.to_vec()));
    (registry, select(NAMES.to_vec()), select(TAGS.to_vec()), prop::bool::weighted(0.2))
        .prop_map(|(registry, name, tag, digest)| {
            let prefix = registry.map(|r| format!("{r}/")).unwrap_or_default();
            format!("{prefix}{name}{tag}{}", if digest { DIGEST } else { "" })
        })
        .boxed()
}

fn rule() -> impl Strategy<Value = String> {
    prop_oneof![
        (select(REGISTRIES.to_vec()), target()).prop_map(|(r, t)| format!("{r}::{t}")),
        (select(REGISTRIES.to_vec()), select(PATHS.to_vec()), target()).prop_map(|(r, p, t)| format!("{r}/{p}::{t}")),
        (image(), image()).prop_map(|(key, target)| format!("[EXACT]{key}::{target}")),
        (select(GLOBS.to_vec()), target()).prop_map(|(g, t)| format!("[REPLACE]{g}::{}", t.trim_end_matches('-'))),
    ]
}

/// How a line may be written around its rule: as it is, with blanks around it, with a comment
/// after it, or after a comment line (the request path reads plain lines at a glance and leaves
/// the others to the lexer).
const DECORATIONS: [(&str, &str); 5] = [("", ""), ("", ""), ("  ", "\t"), ("", " # note"), ("# a comment\n", "")];

/// A map: maybe a default, up to six rules of every kind, maybe a noswap line, each line maybe
/// decorated, lines ending in `\n` or `\r\n`.
fn map() -> impl Strategy<Value = String> {
    let line =
        (rule(), select(DECORATIONS.to_vec())).prop_map(|(rule, (before, after))| format!("{before}{rule}{after}"));
    (
        prop::option::weighted(0.7, target()),
        prop::collection::vec(line, 0..6),
        prop::bool::weighted(0.3),
        select(vec!["\n", "\n", "\r\n"]),
    )
        .prop_map(|(default, rules, noswap, newline)| {
            let default = default.map(|t| format!("default::{t}"));
            let noswap = noswap.then(|| {
                "noswap_wildcards::*-dev*,quay.io/keep,mirror.example.com,harbor.example.com:5000/p".to_owned()
            });
            default.into_iter().chain(rules).chain(noswap).collect::<Vec<_>>().join(newline)
        })
}

/// Images that parse (the generator can spell some that do not, which other tests cover).
fn images() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(image(), 1..6)
        .prop_map(|images| images.into_iter().filter(|i| Image::parse(i).is_ok()).collect())
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn swaps_parse_are_idempotent_and_keep_tag_and_digest(text in map(), images in images()) {
        let rules = Rules::parse(&text);
        prop_assume!(rules.is_ok(), "the map is refused");
        let rules = rules.unwrap();
        for written in &images {
            let original = Image::parse(written).unwrap();
            for policy in [DigestPolicy::Keep, DigestPolicy::Drop] {
                let Ok(decision) = decide(&rules, policy, written) else { continue };
                let Some(new) = decision.swapped else { continue };
                let swapped = Image::parse(&new);
                prop_assert!(swapped.is_ok(), "{new:?} does not parse");
                let swapped = swapped.unwrap();
                let again = decide(&rules, policy, &new).map(|d| d.swapped);
                prop_assert_eq!(again, Ok(None), "{} is swapped again (a chain)", new);
                if decision.step == Step::Exact {
                    continue; // [EXACT] targets are used verbatim
                }
                prop_assert_eq!(swapped.tag(), original.tag(), "tag changed: {}", new);
                let expected_digest = match policy {
                    DigestPolicy::Drop if original.tag().is_some() => None,
                    _ => original.digest(),
                };
                prop_assert_eq!(swapped.digest(), expected_digest, "digest under {:?}: {}", policy, new);
            }
        }
    }

    #[test]
    fn the_index_agrees_with_a_plain_scan_of_the_map(text in map(), images in images()) {
        let rules = Rules::parse(&text);
        prop_assume!(rules.is_ok(), "the map is refused");
        let rules = rules.unwrap();
        for written in images.iter().filter(|written| placeholder(written).is_none()) {
            let image = Image::parse(written).unwrap();
            let Ok(decision) = decide(&rules, DigestPolicy::Keep, written) else { continue };
            let agreed = imageswap_testkit::scan::check(&text, &image, &decision);
            prop_assert!(agreed.is_ok(), "{}: {:?}", written, agreed);
        }
    }

    #[test]
    fn the_request_path_answers_as_the_whole_map(text in map(), images in images(), validate in any::<bool>()) {
        let whole = Rules::parse(&text);
        prop_assume!(whole.is_ok(), "the map is refused");
        let whole = whole.unwrap();
        let narrow = Relevance::new(images.iter().map(String::as_str)).rules(&text);
        prop_assert!(narrow.is_ok(), "the request path rejects a map the whole parse accepts: {:?}", narrow.err());
        let narrow = narrow.unwrap();
        // Decisions the narrow index makes alone: the same, but where it cannot show that a result
        // lies under a target (the evaluation then reads more lines, checked below).
        for written in &images {
            for policy in [DigestPolicy::Keep, DigestPolicy::Drop] {
                let decided = narrow.decide(policy, written);
                if !matches!(decided, Err(SwapError::BadResult { .. })) {
                    prop_assert_eq!(decided, decide(&whole, policy, written), "{}", written);
                }
            }
        }
        // Whole answers, for each image alone and for all of them in one Pod.
        let mode = if validate { "validate" } else { "mutate" };
        for pod_images in images.iter().map(std::slice::from_ref).chain(std::iter::once(images.as_slice())) {
            let payload = json!({
                "request": { "uid": "u", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" }, "object": pod(pod_images) },
                "settings": { "imageChange": text, "mode": mode, "imagePullSecrets": { "mirror.example.com": "pull", "docker.io": "hub" } },
            }).to_string();
            let request_path = evaluate(payload.as_bytes(), &mut AssumeFound);
            prop_assert_eq!(request_path, evaluate_whole_map(payload.as_bytes(), &mut AssumeFound), "{:?}", pod_images);
        }
    }

    #[test]
    fn canonical_and_familiar_spellings_are_decided_alike(text in map(), images in images()) {
        let rules = Rules::parse(&text);
        prop_assume!(rules.is_ok(), "the map is refused");
        let rules = rules.unwrap();
        // A rejection names the image as written, which differs between the spellings by
        // construction: compare its rule line and result instead.
        let decide_id = |spelling: &str| {
            decide(&rules, DigestPolicy::Keep, spelling)
                .map(|d| {
                    let result = d.swapped.map(|s| Image::parse(&s).map(|i| i.exact_id()).map_err(|e| e.to_string()));
                    (d.step, d.line, result)
                })
                .map_err(|error| match error {
                    SwapError::BadResult { result, line, .. } => format!("line {line}: {result}"),
                    other => other.to_string(),
                })
        };
        for written in &images {
            let image = Image::parse(written).unwrap();
            // Familiar forms of Docker Hub paths with a dot read as a registry (as in
            // distribution/reference); only spellings that read back alike must decide alike.
            // Step 0 leaves the spelling `auto` alone (Istio's placeholder) and decides
            // `docker.io/library/auto` like any image: that one pair is not alike by design.
            if Image::parse(&image.familiar()).is_ok_and(|f| f == image) && placeholder(&image.familiar()).is_none() {
                prop_assert_eq!(decide_id(&image.canonical()), decide_id(&image.familiar()));
            }
        }
    }

    #[test]
    fn objects_keep_every_field_the_policy_does_not_own(text in map(), images in images()) {
        let rules = Rules::parse(&text);
        prop_assume!(rules.is_ok(), "the map is refused");
        let rules = rules.unwrap();
        let object = pod(&images);
        let settings = json!({ "imageChange": text, "imagePullSecrets": { "mirror.example.com": "pull" } });
        let payload = json!({ "request": { "uid": "u", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" }, "object": object }, "settings": settings });
        let decisions: Vec<_> = images.iter().map(|image| decide(&rules, DigestPolicy::Keep, image)).collect();
        let mut mutated = match evaluate(payload.to_string().as_bytes(), &mut AssumeFound).verdict {
            Verdict::Mutate(mutated) => mutated,
            // Nothing to check but that the answer is the right one: a rejection only when an
            // image cannot be decided, an acceptance only when no image changes and none is on
            // the registry whose pull secret the Pod would get.
            Verdict::Reject(message) => {
                prop_assert!(decisions.iter().any(Result::is_err), "rejected, though every image decides: {}", message);
                return Ok(());
            }
            Verdict::Accept => {
                for (image, decision) in images.iter().zip(&decisions) {
                    let decision = decision.as_ref().map_err(ToString::to_string);
                    prop_assert!(decision.as_ref().is_ok_and(|d| d.swapped.as_ref().is_none_or(|new| new == image)),
                        "{} changes ({:?}), but the Pod was accepted unchanged", image, decision);
                    prop_assert!(!Image::parse(image).is_ok_and(|i| i.registry() == "mirror.example.com"),
                        "{} needs the pull secret, but the Pod was accepted unchanged", image);
                }
                return Ok(());
            }
            other => panic!("a verdict this property does not know: {other:?}"),
        };
        // Put back what docs/behaviour.md §4 lets the policy change; the rest must be exactly as sent.
        for (i, image) in images.iter().enumerate() {
            mutated["spec"]["containers"][i]["image"] = json!(image);
        }
        if let Some(metadata) = mutated["metadata"].as_object_mut() {
            metadata.remove("annotations");
        }
        if let Some(spec) = mutated["spec"].as_object_mut() {
            spec.remove("imagePullSecrets");
        }
        prop_assert_eq!(mutated, object);
    }

    #[test]
    fn validate_mode_rejects_exactly_when_mutate_mode_changes_an_image_or_a_pull_secret(
        text in map(), images in images(), record in any::<bool>()
    ) {
        prop_assume!(Rules::parse(&text).is_ok(), "the map is refused");
        let object = pod(&images);
        let run = |mode: &str| {
            let settings = json!({ "imageChange": text, "mode": mode, "recordOriginalImages": record,
                "imagePullSecrets": { "mirror.example.com": "pull", "quay.io": "quay-pull" } });
            let payload = json!({ "request": { "uid": "u", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" }, "object": object }, "settings": settings });
            evaluate(payload.to_string().as_bytes(), &mut AssumeFound).verdict
        };
        let (mutate, validate) = (run("mutate"), run("validate"));
        prop_assert!(!matches!(validate, Verdict::Mutate(_)), "validate mode mutated");
        let changes_images_or_secrets = match &mutate {
            Verdict::Mutate(mutated) => {
                mutated["spec"]["containers"] != object["spec"]["containers"]
                    || mutated["spec"]["imagePullSecrets"] != object["spec"]["imagePullSecrets"]
            }
            _ => false,
        };
        match mutate {
            Verdict::Reject(message) => prop_assert_eq!(validate, Verdict::Reject(message)),
            _ if changes_images_or_secrets => prop_assert!(matches!(validate, Verdict::Reject(_)), "{:?}", validate),
            _ => prop_assert_eq!(validate, Verdict::Accept),
        }
    }
}

/// Kinds that are not built-in (some named like built-in kinds, in other groups), as (group, kind).
const OTHER_KINDS: [(&str, &str); 8] = [
    ("argoproj.io", "Rollout"),
    ("tekton.dev", "Task"),
    ("example.com", "Pod"),
    ("example.com", "Deployment"),
    ("apps", "Pod"),
    ("", "Deployment"),
    ("batch", "Rollout"),
    ("kubevirt.io", "VirtualMachine"),
];

/// `customResources` entries for some of [`OTHER_KINDS`], with paths that reach images in the
/// object of [`everywhere`].
fn entries() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec((select(OTHER_KINDS.to_vec()), any::<bool>()), 0..4).prop_map(|kinds| {
        let mut entries: Vec<Value> = Vec::new();
        for ((group, kind), pod_spec) in kinds {
            if entries.iter().any(|e| e["apiGroup"] == group && e["kind"] == kind) {
                continue;
            }
            entries.push(if pod_spec {
                json!({ "apiGroup": group, "kind": kind, "podSpecs": ["spec.template.spec"] })
            } else {
                json!({ "apiGroup": group, "kind": kind, "images": ["spec.steps[*].image", "spec.images[*]"] })
            });
        }
        entries
    })
}

/// An object of `group` and `kind` with the images wherever some kind keeps them: a pod spec, a
/// Pod's spec, Tekton-like steps and a list of image strings.
fn everywhere(group: &str, kind: &str, images: &[String]) -> Value {
    let steps: Vec<Value> = images.iter().map(|image| json!({ "name": "s", "image": image })).collect();
    let api_version = if group.is_empty() { "v1".to_owned() } else { format!("{group}/v1") };
    let mut object = pod(images);
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(kind);
    object["spec"]["template"] = json!({ "spec": pod(images)["spec"] });
    object["spec"]["steps"] = json!(steps);
    object["spec"]["images"] = json!(images);
    object
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn objects_of_kinds_the_settings_do_not_name_are_never_changed(
        text in map(), images in images(), entries in entries(), (group, kind) in select(OTHER_KINDS.to_vec())
    ) {
        prop_assume!(Rules::parse(&text).is_ok(), "the map is refused");
        // The settings name other kinds, never this one.
        let entries: Vec<Value> =
            entries.into_iter().filter(|e| !(e["apiGroup"] == group && e["kind"] == kind)).collect();
        let settings = json!({ "imageChange": text, "customResources": entries,
            "imagePullSecrets": { "mirror.example.com": "pull" } });
        let object = everywhere(group, kind, &images);
        for mode in ["mutate", "validate"] {
            let mut settings = settings.clone();
            settings["mode"] = json!(mode);
            let payload = json!({ "request": { "uid": "u", "operation": "CREATE", "kind": { "group": group, "kind": kind }, "object": object }, "settings": settings });
            prop_assert_eq!(evaluate(payload.to_string().as_bytes(), &mut AssumeFound).verdict, Verdict::Accept);
        }
    }

    #[test]
    fn a_custom_resource_laid_out_like_a_deployment_is_decided_as_one(
        text in map(), images in images(), validate in any::<bool>()
    ) {
        prop_assume!(Rules::parse(&text).is_ok(), "the map is refused");
        let mode = if validate { "validate" } else { "mutate" };
        let run = |group: &str, kind: &str| {
            let settings = json!({ "imageChange": text, "mode": mode,
                "imagePullSecrets": { "mirror.example.com": "pull", "quay.io": "quay-pull" },
                "customResources": [{ "apiGroup": "argoproj.io", "kind": "Rollout", "podSpecs": ["spec.template.spec"] }] });
            let mut object = everywhere(group, kind, &images);
            object["spec"].as_object_mut().unwrap().retain(|key, _| key == "template");
            let payload = json!({ "request": { "uid": "u", "operation": "CREATE", "kind": { "group": group, "kind": kind }, "object": object }, "settings": settings });
            let verdict = evaluate(payload.to_string().as_bytes(), &mut AssumeFound).verdict;
            // The kind's name in a validate-mode message is the only difference.
            match verdict {
                Verdict::Reject(rejection) => Err(rejection.to_string().replace(kind, "KIND")),
                Verdict::Mutate(mut mutated) => {
                    mutated["apiVersion"] = json!("");
                    mutated["kind"] = json!("");
                    Ok(Verdict::Mutate(mutated))
                }
                other => Ok(other),
            }
        };
        // Including template expressions: `{{` and `$(` cannot appear in images that parse.
        prop_assert_eq!(run("argoproj.io", "Rollout"), run("apps", "Deployment"));
    }
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

/// A registry that answers every target from a coin per reference: found (with a digest) or one
/// of the ways a lookup fails. The same reference always gets the same answer.
struct Coins(u64);

impl imageswap_engine::TargetLookup for Coins {
    fn call(&mut self, capability: imageswap_engine::Capability, image: &str) -> Result<Vec<u8>, String> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (self.0, image).hash(&mut hasher);
        match (capability, hasher.finish() % 4) {
            (imageswap_engine::Capability::ManifestDigest, 0 | 1) => {
                Ok(format!("{{\"digest\":\"{}\"}}", imageswap_engine::testing::ASSUMED_DIGEST).into_bytes())
            }
            (_, 2) => Err("OCI API error: manifest unknown".to_owned()),
            _ => Err("error sending request for url".to_owned()),
        }
    }
}

/// Two different non-empty targets.
fn two_targets() -> impl Strategy<Value = (&'static str, &'static str)> {
    (target(), target()).prop_filter("two different targets", |(a, b)| !a.is_empty() && !b.is_empty() && a != b)
}

proptest! {
    #![proptest_config(config())]

    /// docs/behaviour.md §5: each target of an ordered list builds what a map naming that target
    /// alone builds (the first as the decision's new reference, the later ones as its fallbacks),
    /// wherever the image is not already under one of them.
    #[test]
    fn each_listed_target_builds_what_it_builds_alone(
        (first, second) in two_targets(),
        key in prop_oneof![Just("default".to_owned()), select(REGISTRIES.to_vec()).prop_map(str::to_owned)],
        images in images(),
    ) {
        let listed = Rules::parse(&format!("{key}::{first},{second}"));
        prop_assume!(listed.is_ok(), "the map is refused");
        let listed = listed.unwrap();
        let alone = |target: &str| Rules::parse(&format!("{key}::{target}")).unwrap();
        let (one, two) = (alone(first), alone(second));
        for written in &images {
            let Ok(decision) = decide(&listed, DigestPolicy::Keep, written) else {
                // A list fails where one of its targets alone fails.
                let either = decide(&one, DigestPolicy::Keep, written).is_err() || decide(&two, DigestPolicy::Keep, written).is_err();
                prop_assert!(either, "{}: the list fails, neither target alone does", written);
                continue;
            };
            if decision.step == Step::AlreadySwapped || decision.swapped.is_none() {
                continue;
            }
            let (by_one, by_two) = (decide(&one, DigestPolicy::Keep, written), decide(&two, DigestPolicy::Keep, written));
            prop_assert_eq!(Ok(decision.swapped.clone()), by_one.map(|d| d.swapped), "{}", written);
            let fallback = decision.fallbacks.first().map(|candidate| candidate.image.clone());
            prop_assert_eq!(Ok(fallback), by_two.map(|d| d.swapped), "{}", written);
        }
    }

    /// docs/behaviour.md §5 and §6b: with lookups that find some targets and not others, validate
    /// mode rejects exactly when mutate mode changes an image (with the same warnings), the request
    /// path answers as the whole map, and the policy's own output (pinned or not) is left alone;
    /// with every target found there is nothing to warn about.
    #[test]
    fn lookups_agree_across_modes_and_paths(text in map(), (first, second) in two_targets(), images in images(), coin in any::<u64>()) {
        let text = format!("{text}\nr9.example.com::{first}, {second}");
        prop_assume!(Rules::parse(&text).is_ok(), "the map is refused");
        let pod = pod(&images);
        let payload = |mode: &str, digest: &str| json!({
            "request": { "uid": "u", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" }, "object": pod },
            "settings": { "imageChange": text, "mode": mode, "checkTargetExists": true, "digest": digest, "maxLookups": 1000 },
        }).to_string();
        for digest in ["keep", "pin"] {
            let mutate = evaluate(payload("mutate", digest).as_bytes(), &mut Coins(coin));
            prop_assert_eq!(&mutate, &evaluate_whole_map(payload("mutate", digest).as_bytes(), &mut Coins(coin)));
            let validate = evaluate(payload("validate", digest).as_bytes(), &mut Coins(coin));
            prop_assert_eq!(&validate.warnings, &mutate.warnings);
            match (&mutate.verdict, &validate.verdict) {
                (Verdict::Mutate(_), Verdict::Reject(_)) | (Verdict::Accept, Verdict::Accept) => {}
                (Verdict::Reject(a), Verdict::Reject(b)) => prop_assert_eq!(a, b),
                (m, v) => prop_assert!(false, "mutate {:?}, validate {:?}", m, v),
            }
            // The policy's own output is left alone: pinned references are under their targets.
            if let Verdict::Mutate(object) = &mutate.verdict {
                let again = json!({
                    "request": { "uid": "u", "operation": "UPDATE", "kind": { "group": "", "kind": "Pod" }, "object": object },
                    "settings": { "imageChange": text, "checkTargetExists": true, "digest": digest, "maxLookups": 1000 },
                }).to_string();
                prop_assert_eq!(evaluate(again.as_bytes(), &mut Coins(coin)).verdict, Verdict::Accept);
            }
        }
        let all_found = evaluate(payload("mutate", "keep").as_bytes(), &mut AssumeFound);
        prop_assert!(all_found.warnings.is_empty());
    }
}

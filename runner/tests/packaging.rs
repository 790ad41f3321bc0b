//! The packaging agrees with itself and with the policy: Cargo.toml, policy-metadata.yml,
//! artifacthub-pkg.yml and questions-ui.yml say the same name, version, rules and settings, and
//! every example ClusterAdmissionPolicy holds settings the built module accepts.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use std::path::{Path, PathBuf};
use std::sync::Arc;

use imageswap_runner::{NoCapabilities, Policy};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A YAML file of the repository, as JSON; of an example of several documents (a PolicyServer and
/// the policy on it), the policy.
fn yaml(path: &Path) -> Value {
    documents(path).into_iter().find(|d| d["kind"] != "PolicyServer").unwrap_or_default()
}

/// Every document of a YAML file, as JSON.
fn documents(path: &Path) -> Vec<Value> {
    use serde::Deserialize;
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
        })
        .collect()
}

/// docs/behaviour.md §5 "Bounded": the example for `checkTargetExists` deploys the policy on a
/// PolicyServer of its own, with `failurePolicy: Ignore` and a short `timeoutSeconds`, so that a
/// hung mirror costs each Pod that timeout and no other policy.
#[test]
fn the_lookup_example_runs_on_a_policy_server_of_its_own() {
    let path = repo().join("examples/check-target-exists.yml");
    let all = documents(&path);
    let server = all.iter().find(|d| d["kind"] == "PolicyServer").expect("a PolicyServer");
    let policy = yaml(&path);
    assert_eq!(policy["spec"]["policyServer"], server["metadata"]["name"]);
    assert_eq!(policy["spec"]["failurePolicy"], "Ignore");
    assert!(policy["spec"]["timeoutSeconds"].as_u64().unwrap() <= 5);
    assert_eq!(policy["spec"]["settings"]["checkTargetExists"], true);
    // No other example shares that PolicyServer, and every other example enables no lookups.
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let other = entry.unwrap().path();
        if other == path || other.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let other = yaml(&other);
        assert_ne!(other["spec"]["policyServer"], server["metadata"]["name"]);
        assert_ne!(other["spec"]["settings"]["checkTargetExists"], true);
    }
}

/// The policy's version: the root Cargo.toml's.
fn cargo_version() -> String {
    let text = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("version = ")).expect("a version line");
    line.trim_start_matches("version = ").trim_matches('"').to_owned()
}

fn metadata() -> Value {
    yaml(&repo().join("policy-metadata.yml"))
}

fn annotation<'v>(metadata: &'v Value, key: &str) -> &'v str {
    metadata["annotations"][key].as_str().unwrap_or_else(|| panic!("no annotation {key}"))
}

#[test]
fn metadata_declares_a_mutating_wapc_policy_of_cargo_version() {
    let metadata = metadata();
    assert_eq!(annotation(&metadata, "io.kubewarden.policy.version"), cargo_version());
    assert_eq!(metadata["mutating"], Value::Bool(true));
    assert_eq!(metadata["executionMode"], "kubewarden-wapc");
    // The validate-mode deployment is what the audit scanner evaluates (docs/operating.md).
    assert_eq!(metadata["backgroundAudit"], Value::Bool(true));
    // Every capability the module calls, and no other (a policy-server grants what is declared).
    let declared: Vec<String> =
        imageswap_engine::Capability::ALL.iter().map(|c| format!("oci/{}", c.operation())).collect();
    assert_eq!(metadata["hostCapabilities"], serde_json::json!(declared));
    let resources: Vec<&str> = metadata["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()))
        .collect();
    for kind in [
        "pods",
        "pods/ephemeralcontainers",
        "replicationcontrollers",
        "podtemplates",
        "deployments",
        "replicasets",
        "statefulsets",
        "daemonsets",
        "jobs",
        "cronjobs",
    ] {
        assert!(resources.contains(&kind), "{kind} is not registered");
    }
}

#[test]
fn artifacthub_package_agrees_with_metadata_and_questions() {
    let (metadata, package) = (metadata(), yaml(&repo().join("artifacthub-pkg.yml")));
    assert_eq!(package["version"], cargo_version().as_str());
    assert_eq!(package["name"], annotation(&metadata, "io.kubewarden.policy.title"));
    assert_eq!(package["displayName"], annotation(&metadata, "io.artifacthub.displayName"));
    assert_eq!(package["description"], annotation(&metadata, "io.kubewarden.policy.description"));
    assert_eq!(package["annotations"]["kubewarden/mutation"], "true");
    let rules: Value = serde_yaml::from_str(package["annotations"]["kubewarden/rules"].as_str().unwrap()).unwrap();
    assert_eq!(rules, metadata["rules"]);
    let questions = std::fs::read_to_string(repo().join("questions-ui.yml")).unwrap();
    assert_eq!(package["annotations"]["kubewarden/questions-ui"].as_str().map(str::trim), Some(questions.trim()));
}

#[test]
fn artifacthub_repository_names_its_owners() {
    let repository = yaml(&repo().join("artifacthub-repo.yml"));
    let owners = repository["owners"].as_array().expect("owners");
    assert!(!owners.is_empty() && owners.iter().all(|owner| owner["email"].as_str().is_some_and(|e| e.contains('@'))));
}

#[test]
fn questions_ui_asks_for_every_setting() {
    let questions = yaml(&repo().join("questions-ui.yml"));
    let variables: Vec<&str> =
        questions["questions"].as_array().unwrap().iter().map(|q| q["variable"].as_str().unwrap()).collect();
    let mut asked = variables.clone();
    asked.sort_unstable();
    let mut keys = imageswap_engine::KNOWN_KEYS.to_vec();
    keys.sort_unstable();
    assert_eq!(asked, keys);
}

/// The OCI location is written once, in the metadata; the examples and the Artifact Hub package
/// name this version there (and `make push` pushes there).
#[test]
fn every_oci_location_is_the_metadatas() {
    let metadata = metadata();
    let oci = annotation(&metadata, "io.kubewarden.policy.ociUrl");
    let release = format!("{oci}:v{}", cargo_version());
    let package = yaml(&repo().join("artifacthub-pkg.yml"));
    assert_eq!(package["containersImages"][0]["image"], release.as_str());
    let mut seen = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("yml") {
            seen += 1;
            assert_eq!(yaml(&path)["spec"]["module"], format!("registry://{release}"), "{}", path.display());
        }
    }
    assert!(seen >= 5);
    let makefile = std::fs::read_to_string(repo().join("Makefile")).unwrap();
    assert!(makefile.contains("io.kubewarden.policy.ociUrl"), "make push does not read the metadata's location");
}

#[test]
fn every_example_policy_has_settings_the_module_accepts() {
    let policy_path = std::env::var_os("IMAGESWAP_POLICY").map_or_else(|| repo().join("policy.wasm"), PathBuf::from);
    let policy = Policy::load(&policy_path).expect("policy.wasm (make policy.wasm)");
    let registered = metadata()["rules"].clone();
    let mut seen = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        seen += 1;
        let example = yaml(&path);
        assert_eq!(example["kind"], "ClusterAdmissionPolicy", "{}", path.display());
        // A policy with `mutating: false` must run the module in validate mode, which never
        // mutates (a mutation would be rejected by the policy-server), and vice versa.
        let validates = example["spec"]["settings"]["mode"] == "validate";
        assert_eq!(example["spec"]["mutating"], Value::Bool(!validates), "{}", path.display());
        let answer =
            policy.instance(Arc::new(NoCapabilities)).unwrap().validate_settings(&example["spec"]["settings"]).unwrap();
        assert!(answer.valid, "{}: {:?}", path.display(), answer.message);
        let custom = custom_resources(&example["spec"]["settings"]);
        for rule in example["spec"]["rules"].as_array().unwrap() {
            let covered = registered.as_array().unwrap().iter().any(|r| {
                r["apiGroups"] == rule["apiGroups"]
                    && rule["resources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|x| r["resources"].as_array().unwrap().contains(x))
            });
            // Or a rule for kinds of its own customResources, and for nothing else.
            let custom_only = rule_resources(rule).iter().all(|resource| custom.contains(resource));
            assert!(covered || custom_only, "{}: rule {rule} is not one the metadata registers", path.display());
        }
        // A kind the API server never sends to the policy is read in vain.
        let ruled: Vec<(String, String)> =
            example["spec"]["rules"].as_array().unwrap().iter().flat_map(rule_resources).collect();
        for resource in &custom {
            assert!(ruled.contains(resource), "{}: no rule sends {resource:?} to the policy", path.display());
        }
    }
    assert!(seen >= 5, "only {seen} examples");
}

/// The (API group, resource) of each kind of a settings document's `customResources` (the
/// resource of kind `Rollout` is `rollouts`).
fn custom_resources(settings: &Value) -> Vec<(String, String)> {
    let entries = settings["customResources"].as_array().cloned().unwrap_or_default();
    entries
        .iter()
        .map(|e| {
            (e["apiGroup"].as_str().unwrap().to_owned(), format!("{}s", e["kind"].as_str().unwrap().to_lowercase()))
        })
        .collect()
}

/// Every (API group, resource) a ClusterAdmissionPolicy rule names.
fn rule_resources(rule: &Value) -> Vec<(String, String)> {
    let texts = |key: &str| -> Vec<String> {
        rule[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let resources = texts("resources");
    texts("apiGroups").into_iter().flat_map(|group| resources.iter().map(move |r| (group.clone(), r.clone()))).collect()
}

/// The ready entries the README lists are the ones the admission case test, with a real object each.
#[test]
fn the_ready_custom_resource_entries_are_the_tested_ones() {
    let example = yaml(&repo().join("examples/custom-resources.yml"));
    let text = std::fs::read_to_string(repo().join("tests/cases/settings/custom-resources.json")).unwrap();
    let tested: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(example["spec"]["settings"], tested);
    let cases = std::fs::read_to_string(repo().join("tests/cases/admission.json")).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for entry in tested["customResources"].as_array().unwrap() {
        let (group, kind) = (entry["apiGroup"].as_str().unwrap(), entry["kind"].as_str().unwrap());
        // A request file with an object of that group and kind, swapped by a case.
        let swapped = serde_json::from_str::<Vec<Value>>(&cases).unwrap().into_iter().any(|case| {
            let request =
                std::fs::read_to_string(repo().join("tests/cases").join(case["request"].as_str().unwrap())).unwrap();
            let request: Value = serde_json::from_str(&request).unwrap();
            let object = &request["request"]["object"];
            case["settings"] == "settings/custom-resources.json"
                && object["kind"] == kind
                && object["apiVersion"].as_str().unwrap().starts_with(&format!("{group}/"))
                && case["changes"].as_object().is_some_and(|changes| !changes.is_empty())
        });
        assert!(swapped, "no case swaps a real {kind} of {group}");
        assert!(readme.contains(&format!("| `{group}` | `{kind}` |")), "the README does not list {kind} of {group}");
    }
}

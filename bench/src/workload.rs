//! Generated workloads: maps of every size with rules of every kind, images that hit each kind or
//! miss, and admission requests.

use serde_json::{Value, json};

/// `[REPLACE]` rules in every map (they are scanned in order, so their count is fixed).
const REPLACE_RULES: usize = 5;

/// A map of `rules` rules: `default`, `noswap_wildcards`, a few `[REPLACE]` globs, and the rest
/// split between registry keys, registry/path keys and `[EXACT]` keys.
pub fn map(rules: usize) -> String {
    let mut lines = vec!["default::mirror.example.com".to_owned(), "noswap_wildcards::*-dev*".to_owned()];
    for i in 0..REPLACE_RULES {
        lines.push(format!("[REPLACE]ghcr.io/glob{i}/*::mirror.example.com/glob{i}"));
    }
    let total = rules.max(lines.len() + 3);
    let mut i = 0;
    while lines.len() < total {
        lines.push(match i % 3 {
            0 => format!("r{i}.example.com::mirror.example.com/r{i}"),
            1 => format!("quay.io/org{i}::mirror.example.com/quay-org{i}"),
            _ => format!("[EXACT]docker.io/team/app{i}:1.0::mirror.example.com/pinned/app{i}:1.0"),
        });
        i += 1;
    }
    lines.join("\n")
}

/// Images that hit each kind of rule of `map(rules)`, and ones that miss every key.
pub fn images(rules: usize) -> Vec<(&'static str, String)> {
    let keyed = rules.saturating_sub(REPLACE_RULES + 2).max(3);
    let pick = |kind: usize| (keyed / 2 / 3) * 3 + kind; // an index of that kind near the middle
    vec![
        ("registry key", format!("r{}.example.com/team/app:1", pick(0))),
        ("path key", format!("quay.io/org{}/app:2", pick(1))),
        ("exact key", format!("docker.io/team/app{}:1.0", pick(2))),
        ("replace glob", "ghcr.io/glob3/tool:1".to_owned()),
        ("noswap", "bitnami/app-dev:1".to_owned()),
        ("miss → default", "gcr.io/other/x:1".to_owned()),
        ("already swapped", "mirror.example.com/library/nginx:1.25".to_owned()),
    ]
}

/// The settings document for `map`.
pub fn settings(map: &str) -> Value {
    json!({ "imageChange": map })
}

/// The settings document for `map` with the README's ready `customResources` entries (the ones
/// the admission case test).
pub fn settings_with_custom_resources(map: &str) -> Value {
    let ready: Value =
        serde_json::from_str(include_str!("../../tests/cases/settings/custom-resources.json")).unwrap_or_default();
    json!({ "imageChange": map, "customResources": ready.get("customResources") })
}

/// A Tekton Task with three steps the map swaps.
pub fn tekton_task() -> Value {
    let steps: Vec<Value> = ["alpine:3.20", "golang:1.22", "quay.io/org1/app:2"]
        .iter()
        .enumerate()
        .map(|(i, image)| json!({ "name": format!("s{i}"), "image": image, "script": "echo hi" }))
        .collect();
    json!({ "uid": "bench", "kind": { "group": "tekton.dev", "version": "v1", "kind": "Task" },
            "resource": { "group": "tekton.dev", "version": "v1", "resource": "tasks" }, "operation": "CREATE",
            "userInfo": { "username": "bench" }, "namespace": "default",
            "object": { "apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": { "name": "t" },
                        "spec": { "steps": steps } } })
}

fn container(name: &str, image: &str) -> Value {
    json!({ "name": name, "image": image, "imagePullPolicy": "IfNotPresent", "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File" })
}

fn request(kind: &str, object: Value) -> Value {
    let group = if kind == "Deployment" { "apps" } else { "" };
    json!({ "uid": "bench", "kind": { "group": group, "version": "v1", "kind": kind },
            "resource": { "group": "", "version": "v1", "resource": "pods" }, "operation": "CREATE",
            "userInfo": { "username": "bench" }, "namespace": "default", "object": object })
}

fn pod_spec(images: &[&str]) -> Value {
    let containers: Vec<Value> =
        images.iter().enumerate().map(|(i, image)| container(&format!("c{i}"), image)).collect();
    json!({ "containers": containers, "dnsPolicy": "ClusterFirst", "restartPolicy": "Always" })
}

/// The images of [`pod_swapped`].
pub const POD_SWAPPED_IMAGES: [&str; 2] = ["nginx:1.25", "quay.io/org1/app:2"];

/// A Pod whose two containers the map swaps.
pub fn pod_swapped() -> Value {
    request(
        "Pod",
        json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p", "labels": { "app": "p" } },
        "spec": pod_spec(&POD_SWAPPED_IMAGES) }),
    )
}

/// A Pod the map leaves alone (its images are already under the default target).
pub fn pod_left_alone() -> Value {
    request(
        "Pod",
        json!({ "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p", "labels": { "app": "p" } },
        "spec": pod_spec(&["mirror.example.com/library/nginx:1.25", "mirror.example.com/quay-org1/app:2"]) }),
    )
}

/// A Deployment with ten containers, all swapped.
pub fn deployment_10() -> Value {
    let images: Vec<String> = (0..10).map(|i| format!("docker.io/team/service{i}:1.{i}")).collect();
    let images: Vec<&str> = images.iter().map(String::as_str).collect();
    request(
        "Deployment",
        json!({ "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "d" }, "spec": { "replicas": 3, "selector": { "matchLabels": { "app": "d" } },
        "template": { "metadata": { "labels": { "app": "d" } }, "spec": pod_spec(&images) } } }),
    )
}

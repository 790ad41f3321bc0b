//! The worst-case table: every request and map shape a hostile tenant (who chooses the request)
//! or a large map could use against the request path, at the largest request the policy-server
//! accepts (its body limit is 2 MiB) and the largest map the policy accepts (20 000 rules, 1 MiB),
//! beside the trivial mutator and the no-op floor given the same payload, in one interleaved run.

use serde_json::{Value, json};

use crate::wasm::{Modules, timed_cells};
use crate::workload;

/// The policy-server's request body limit; requests are built just under it.
const BODY_LIMIT: usize = 2 << 20;
/// The map limit of the policy, in rules.
const MAX_RULES: usize = 20_000;

/// A Pod with as many containers of `image(i)` as fit under the body limit.
fn pod_of(image: impl Fn(usize) -> String) -> Value {
    let mut containers = Vec::new();
    let mut size = 200;
    for i in 0.. {
        let container = json!({ "name": format!("c{i}"), "image": image(i) });
        size += container.to_string().len() + 1;
        if size > BODY_LIMIT - 4096 {
            break;
        }
        containers.push(container);
    }
    json!({ "uid": "worst", "kind": { "group": "", "version": "v1", "kind": "Pod" }, "operation": "CREATE",
            "namespace": "default", "userInfo": { "username": "tenant" },
            "object": { "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" }, "spec": { "containers": containers } } })
}

/// A small Pod of a few images.
fn small_pod(images: &[&str]) -> Value {
    let containers: Vec<Value> =
        images.iter().enumerate().map(|(i, image)| json!({ "name": format!("c{i}"), "image": image })).collect();
    json!({ "uid": "worst", "kind": { "group": "", "version": "v1", "kind": "Pod" }, "operation": "CREATE",
            "object": { "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" }, "spec": { "containers": containers } } })
}

/// `rules` lines made by `line(i)`, after a default.
fn map_of(rules: usize, line: impl Fn(usize) -> String) -> String {
    std::iter::once("default::mirror.example.com".to_owned()).chain((1..rules).map(line)).collect::<Vec<_>>().join("\n")
}

/// The shapes: label, request, settings.
pub fn shapes() -> Vec<(&'static str, Value, Value)> {
    let seed = workload::settings(&workload::map(10));
    let with_secrets = json!({ "imageChange": workload::map(10),
        "imagePullSecrets": { "mirror.example.com": "mirror-pull", "quay.io": "quay-pull" } });
    let big = workload::settings(&workload::map(MAX_RULES));
    let org_lines =
        workload::settings(&map_of(MAX_RULES, |i| format!("docker.io/org-{i}::mirror.example.com/org-{i}")));
    let replace_lines =
        workload::settings(&map_of(MAX_RULES, |i| format!("[REPLACE]nginx*-{i}::mirror.example.com/r{i}")));
    let globs = workload::settings(&map_of(100, |i| format!("[REPLACE]*x{i}*::mirror.example.com/g{i}")));
    let long_host = format!("{}.io/x:1", "a".repeat(BODY_LIMIT - 8192));
    let lookups = |max: usize| json!({ "imageChange": "default::mirror.example.com,mirror-b.example.com", "checkTargetExists": true, "maxLookups": max });
    let distinct = |count: usize| (0..count).map(|i| format!("quay.io/o{i}/app:1")).collect::<Vec<_>>();
    let distinct_pod = |count: usize| small_pod(&distinct(count).iter().map(String::as_str).collect::<Vec<_>>());
    vec![
        (
            "identical swapped images, pull secrets (seed map)",
            pod_of(|_| "nginx:1.25".to_owned()),
            with_secrets.clone(),
        ),
        (
            "distinct swapped images, pull secrets (seed map)",
            pod_of(|i| format!("quay.io/o{i}/app{i}:1")),
            with_secrets,
        ),
        ("distinct images × 20 000-rule map", pod_of(|i| format!("quay.io/o{i}/app{i}:1")), big.clone()),
        ("identical images × 20 000 docker.io/org-N keys", pod_of(|_| "nginx".to_owned()), org_lines),
        ("identical images × 20 000 [REPLACE] nginx*-N globs", pod_of(|_| "nginx".to_owned()), replace_lines),
        ("one 2 MB registry host × 100 globs", small_pod(&[&long_host]), globs),
        ("identical images, seed map (no secrets)", pod_of(|_| "nginx:1.25".to_owned()), seed),
        (
            "distinct images under the map's registries × 20 000-rule map",
            pod_of(|i| format!("quay.io/org{i}/app:1")),
            big,
        ),
        ("lookups: 16 images × 2 targets, at maxLookups 32, every lookup answered", distinct_pod(16), lookups(32)),
        (
            "lookups: 500 images × 2 targets, at maxLookups 1000, every lookup answered",
            distinct_pod(500),
            lookups(1000),
        ),
        ("lookups: 17 images × 2 targets, over maxLookups 32 (rejected)", distinct_pod(17), lookups(32)),
        (
            "lookups: distinct images × 2 targets, over maxLookups 1000 (rejected)",
            pod_of(|i| format!("quay.io/o{i}/app:1")),
            lookups(1000),
        ),
    ]
}

/// The 10 000-rule map shapes for a swapped Pod: lines mostly on other registries (the bench's own
/// map), lines mostly under the Pod's registries, many `[EXACT]` tags of the Pod's repositories,
/// and `[EXACT]` lines for repositories with the Pod's repository names on other registries.
pub fn map_shapes() -> Vec<(&'static str, Value, Value)> {
    let pod = || workload::pod_swapped();
    let rules = 10_000;
    vec![
        ("lines mostly on other registries", pod(), workload::settings(&workload::map(rules))),
        (
            "path keys under the Pod's registries",
            pod(),
            workload::settings(&map_of(rules, |i| format!("quay.io/team{i}::mirror.example.com/team{i}"))),
        ),
        (
            "[EXACT] tags of the Pod's repositories",
            pod(),
            workload::settings(&map_of(rules, |i| format!("[EXACT]nginx:1.{i}::mirror.example.com/nginx:1.{i}"))),
        ),
        (
            "[EXACT] same repository name, other registries",
            pod(),
            workload::settings(&map_of(rules, |i| {
                format!("[EXACT]r{i}.example.com/nginx:1.25::mirror.example.com/r{i}/nginx:1.25")
            })),
        ),
    ]
}

/// Prints both tables, with only the shapes whose label contains `only` (every shape when empty).
pub fn run(modules: &Modules, samples: usize, rounds: usize, only: &str) {
    println!("### Worst cases in wasmtime (median per call, largest request and map)\n");
    table(modules, &shapes(), samples, rounds, only);
    run_maps(modules, samples, rounds, only);
}

/// Prints the table of 10 000-rule map shapes (those whose label contains `only`).
pub fn run_maps(modules: &Modules, samples: usize, rounds: usize, only: &str) {
    println!("### 10 000-rule maps of every shape, a swapped Pod\n");
    table(modules, &map_shapes(), samples, rounds, only);
}

fn table(modules: &Modules, shapes: &[(&str, Value, Value)], samples: usize, rounds: usize, only: &str) {
    println!("| shape | request | settings | mode | imageswap | no-op floor | trivial mutator | ÷ no-op | ÷ mutator |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for (label, request, settings) in shapes.iter().filter(|(label, ..)| label.contains(only)) {
        let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap_or_default();
        let request_kb = request.to_string().len() / 1024;
        let settings_kb = settings.to_string().len() / 1024;
        for cells in timed_cells(modules, &payload, samples, rounds) {
            println!("| {label} | {request_kb} KB | {settings_kb} KB | {cells}");
        }
    }
    println!();
}

/// The payloads `imageswap-bench calls` can repeat: the four 10 000-rule map shapes (0 to 3), a Pod
/// swapped by the 10-rule map (`pod`), a Deployment of ten swapped containers (`deployment`), the
/// Nth shape of the worst-case table (`worstN`) and a payload file (`@FILE`).
pub fn named_payload(name: &str) -> Option<Vec<u8>> {
    let small = |request: Value| json!({ "request": request, "settings": workload::settings(&workload::map(10)) });
    let payload = match name {
        "pod" => small(workload::pod_swapped()),
        "deployment" => small(workload::deployment_10()),
        file if file.starts_with('@') => return std::fs::read(file.get(1..)?).ok(),
        worst if worst.starts_with("worst") => {
            let (_, request, settings) = shapes().into_iter().nth(worst.get(5..)?.parse().ok()?)?;
            json!({ "request": request, "settings": settings })
        }
        index => {
            let (_, request, settings) = map_shapes().into_iter().nth(index.parse().ok()?)?;
            json!({ "request": request, "settings": settings })
        }
    };
    serde_json::to_vec(&payload).ok()
}

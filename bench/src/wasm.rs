//! Whole evaluations in wasmtime, through the repository's runner, side by side with two floors
//! built with the same SDK and profile: a no-op policy and a trivial mutator. Every row is measured
//! in one interleaved run (policy, no-op, mutator, policy, …), warm (one instance, as `kwctl
//! bench`) and fresh (a new instance per request, as the policy-server may do).

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use imageswap_runner::{HostCapabilities, Instance, Policy, RunnerError};
use serde_json::{Value, json};

use crate::timing::{median, median_ns, show};
use crate::workload;

/// The three modules compared.
pub struct Modules {
    policy: Policy,
    noop: Policy,
    mutator: Policy,
}

impl Modules {
    /// Loads imageswap and the two floors.
    pub fn load(policy: &Path, noop: &Path, mutator: &Path) -> Result<Self, RunnerError> {
        Ok(Self { policy: Policy::load(policy)?, noop: Policy::load(noop)?, mutator: Policy::load(mutator)? })
    }
}

/// A registry that has every image: each `manifest_digest` is answered at once, so that the
/// lookup rows time the policy's side of `checkTargetExists`, not a network. (The floors call no
/// capability.)
struct EveryImageFound;

impl HostCapabilities for EveryImageFound {
    fn call(&self, _namespace: &str, _operation: &str, _payload: &[u8]) -> Result<Vec<u8>, RunnerError> {
        Ok(format!("{{\"digest\":\"{}\"}}", imageswap_engine::testing::ASSUMED_DIGEST).into_bytes())
    }
}

fn instance(policy: &Policy) -> Option<Instance> {
    policy.instance(Arc::new(EveryImageFound)).ok()
}

/// Per-call time of `validate` for `payload`: warm (one instance) or fresh (instantiate first).
fn per_call(policy: &Policy, payload: &[u8], fresh: bool, samples: usize) -> f64 {
    let warm = instance(policy);
    median_ns(samples, || {
        if fresh {
            if let Some(instance) = instance(policy) {
                let _ = black_box(instance.call("validate", payload));
            }
        } else if let Some(instance) = &warm {
            let _ = black_box(instance.call("validate", payload));
        }
    })
}

/// One row: imageswap and both floors, interleaved over `rounds` rounds; the median of the rounds.
fn row(modules: &Modules, payload: &[u8], fresh: bool, samples: usize, rounds: usize) -> [f64; 3] {
    let mut runs: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        for (i, policy) in [&modules.policy, &modules.noop, &modules.mutator].into_iter().enumerate() {
            if let Some(run) = runs.get_mut(i) {
                run.push(per_call(policy, payload, fresh, samples));
            }
        }
    }
    runs.map(median)
}

/// The cells a table row ends with, warm and then fresh (measured in that order): the mode, the
/// three modules' times and imageswap's ratios to the floors.
pub fn timed_cells(modules: &Modules, payload: &[u8], samples: usize, rounds: usize) -> [String; 2] {
    [false, true].map(|fresh| {
        let [ours, noop, mutator] = row(modules, payload, fresh, samples, rounds);
        let mode = if fresh { "fresh" } else { "warm" };
        format!(
            "{mode} | {} | {} | {} | {:.2}× | {:.2}× |",
            show(ours),
            show(noop),
            show(mutator),
            ours / noop,
            ours / mutator
        )
    })
}

/// Prints the evaluation table.
pub fn run(modules: &Modules, samples: usize, rounds: usize) {
    let seed = workload::map(10);
    let with_kinds = workload::settings_with_custom_resources(&seed);
    let requests: Vec<(&str, Value, Value)> = vec![
        ("Pod, swapped", workload::pod_swapped(), workload::settings(&seed)),
        ("Pod, left alone", workload::pod_left_alone(), workload::settings(&seed)),
        ("Deployment, 10 containers", workload::deployment_10(), workload::settings(&seed)),
        ("Pod, swapped, 1 000-rule map", workload::pod_swapped(), workload::settings(&workload::map(1_000))),
        ("Pod, swapped, 10 000-rule map", workload::pod_swapped(), workload::settings(&workload::map(10_000))),
        ("Pod, swapped, the 15 ready customResources entries", workload::pod_swapped(), with_kinds.clone()),
        ("Tekton Task, 3 steps (customResources)", workload::tekton_task(), with_kinds),
    ];
    println!("### Whole evaluation in wasmtime (median per call)\n");
    println!("| request | mode | imageswap | no-op floor | trivial mutator | ÷ no-op | ÷ mutator |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (label, request, settings) in &requests {
        let size = settings.to_string().len();
        let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap_or_default();
        for cells in timed_cells(modules, &payload, samples, rounds) {
            println!("| {label} ({} KB settings) | {cells}", size / 1024);
        }
    }
    println!();
}

/// Warm and fresh per-call time of each module for a swapped Pod (the opt-level table), measured
/// in one interleaved run: `rounds` rounds over all modules, the median round of each.
pub fn eval(paths: &[&Path], rules: usize, samples: usize, rounds: usize) -> Result<Vec<(f64, f64)>, RunnerError> {
    let policies = paths.iter().map(|path| Policy::load(path)).collect::<Result<Vec<_>, _>>()?;
    let payload = serde_json::to_vec(
        &json!({ "request": workload::pod_swapped(), "settings": workload::settings(&workload::map(rules)) }),
    )?;
    let mut runs = vec![(Vec::new(), Vec::new()); policies.len()];
    for _ in 0..rounds {
        for (policy, (warm, fresh)) in policies.iter().zip(runs.iter_mut()) {
            warm.push(per_call(policy, &payload, false, samples));
            fresh.push(per_call(policy, &payload, true, samples));
        }
    }
    Ok(runs.into_iter().map(|(warm, fresh)| (median(warm), median(fresh))).collect())
}

/// Calls `validate` `calls` times on one instance: under `valgrind --tool=callgrind`, the
/// difference between two call counts is the instructions of that many warm calls, a figure that
/// does not move with the machine's noise.
pub fn calls(path: &Path, payload: &[u8], calls: usize) -> Result<(), RunnerError> {
    let policy = Policy::load(path)?;
    let warm = instance(&policy).ok_or("cannot instantiate the policy")?;
    for _ in 0..calls {
        black_box(warm.call("validate", payload)?);
    }
    Ok(())
}

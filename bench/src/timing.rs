//! A small timing harness: median of samples, each sample long enough to swamp timer overhead.

use std::time::{Duration, Instant};

/// How long one sample runs, at least.
const SAMPLE: Duration = Duration::from_millis(20);

/// Median time of one call of `f`, in nanoseconds, over `samples` samples.
pub fn median_ns(samples: usize, mut f: impl FnMut()) -> f64 {
    let mut iterations = 1u32;
    loop {
        let started = Instant::now();
        for _ in 0..iterations {
            f();
        }
        if started.elapsed() >= SAMPLE / 4 || iterations >= 1 << 24 {
            break;
        }
        iterations *= 2;
    }
    let per_sample = iterations.saturating_mul(4);
    let times: Vec<f64> = (0..samples.max(1))
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_sample {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(per_sample)
        })
        .collect();
    median(times)
}

/// The median of `values` (the upper one of an even count); NaN for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A duration in nanoseconds, for a table.
pub fn show(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

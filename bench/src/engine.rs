//! Native engine figures: one decision per image, and settings parsing, for maps of every size.

use std::hint::black_box;

use imageswap_engine::DigestPolicy;
use imageswap_engine::Rules;
use imageswap_engine::Settings;
use imageswap_engine::testing::Relevance;
use imageswap_engine::testing::decide;

use serde_json::Value;

use crate::timing::{median_ns, show};
use crate::workload;

/// Map sizes measured.
pub const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

/// Prints the decision table and the settings-parse table.
pub fn run(samples: usize) {
    println!("### Decision per image (native; the map already parsed)\n");
    println!("| image | {} |", SIZES.map(|n| format!("{n} rules")).join(" | "));
    println!("|---|{}", "---:|".repeat(SIZES.len()));
    let maps: Vec<Rules> = SIZES.iter().map(|n| Rules::parse(&workload::map(*n)).unwrap_or_default()).collect();
    let first = workload::images(SIZES[0]);
    let rows = first.len();
    // A warm-up, discarded: on a virtual machine the first figure of a run can be the slowest.
    if let (Some(rules), Some((_, image))) = (maps.first(), first.first()) {
        median_ns(samples, || {
            let _ = black_box(decide(rules, DigestPolicy::Keep, black_box(image)));
        });
    }
    let mut worst = [0.0f64; SIZES.len()];
    for row in 0..rows {
        let mut cells = Vec::new();
        let mut label = "";
        for (column, (size, rules)) in SIZES.iter().zip(&maps).enumerate() {
            let images = workload::images(*size);
            let Some((kind, image)) = images.get(row) else { continue };
            label = kind;
            let ns = median_ns(samples, || {
                let _ = black_box(decide(rules, DigestPolicy::Keep, black_box(image)));
            });
            if let Some(w) = worst.get_mut(column) {
                *w = w.max(ns);
            }
            cells.push(show(ns));
        }
        println!("| {label} | {} |", cells.join(" | "));
    }
    let ratio = worst.last().unwrap_or(&0.0) / worst.first().unwrap_or(&1.0);
    println!("\nSlowest image at 10 000 rules ÷ slowest at 10 rules: **{ratio:.2}×** (target ≤ 1.5×)\n");

    println!("### Settings parse (native: the settings document read as JSON, then the map)\n");
    println!("Whole map = what `validate_settings` does once per policy load: every line parsed, checked");
    println!("and indexed. Request path = what each request does: the map lexed, and only the lines that");
    println!("can decide the request's images (here the swapped Pod's two) parsed and indexed. JSON = the");
    println!("document read into a `serde_json::Value`, which every request pays (the floors too).\n");
    println!("| map | document | JSON only | whole map | request path | request path throughput |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let wanted = Relevance::new(workload::POD_SWAPPED_IMAGES);
    for size in SIZES {
        let document = serde_json::to_vec(&workload::settings(&workload::map(size))).unwrap_or_default();
        let json = median_ns(samples, || {
            let _ = black_box(serde_json::from_slice::<Value>(black_box(&document)));
        });
        let whole = median_ns(samples, || {
            let _ = black_box(Settings::from_json(black_box(&document)));
        });
        let request = median_ns(samples, || {
            let value: Value = serde_json::from_slice(black_box(&document)).unwrap_or_default();
            let _ = black_box(Settings::for_request(&value, &wanted, "", "Pod"));
        });
        let mb_per_s = document.len() as f64 / request * 1e3;
        println!(
            "| {size} rules | {} B | {} | {} | {} | {mb_per_s:.0} MB/s |",
            document.len(),
            show(json),
            show(whole),
            show(request)
        );
    }
    println!();
}

/// The upstream comparison's unit of work: one Pod's images, each side doing what it does in
/// production. Upstream re-reads and re-parses its map for every container; the policy reads the
/// map once per request on its request path (only the lines that can decide the Pod's images) and
/// decides each image. Prints nanoseconds per image.
pub fn per_image(map: &str, images: &[String], samples: usize) {
    let ns = median_ns(samples, || {
        let wanted = Relevance::new(images.iter().map(String::as_str));
        let rules = wanted.rules(black_box(map)).unwrap_or_default();
        for image in images {
            let _ = black_box(rules.decide(DigestPolicy::Keep, black_box(image)));
        }
    });
    println!("{}", ns / images.len().max(1) as f64);
}

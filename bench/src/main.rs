//! `imageswap-bench`: the figures of BENCHMARKS.md. `make bench` runs every part.
//!
//! ```text
//! imageswap-bench engine [SAMPLES]                          native decision and settings parse
//! imageswap-bench wasm POLICY NOOP MUTATOR [SAMPLES ROUNDS] whole evaluations beside the floors
//! imageswap-bench worst POLICY NOOP MUTATOR [SAMPLES ROUNDS] hostile shapes at the size limits, beside the floors
//! imageswap-bench per-image MAP_FILE IMAGES_FILE            ns per image, parse included (upstream comparison)
//! imageswap-bench eval POLICY...                            warm and fresh time of each module, interleaved (opt-level table)
//! imageswap-bench map RULES                                 prints a generated map
//! ```

mod engine;
mod timing;
mod wasm;
mod workload;
mod worst;

use std::path::Path;
use std::process::ExitCode;

fn number(arg: Option<&String>, default: usize) -> usize {
    arg.and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i);
    match arg(0).map(String::as_str) {
        Some("engine") => engine::run(number(arg(1), 15)),
        Some(table @ ("wasm" | "worst")) => {
            let (Some(policy), Some(noop), Some(mutator)) = (arg(1), arg(2), arg(3)) else {
                eprintln!("usage: imageswap-bench {table} POLICY NOOP MUTATOR [SAMPLES ROUNDS]");
                return ExitCode::from(2);
            };
            let run = if table == "wasm" { wasm::run } else { worst::run };
            match wasm::Modules::load(Path::new(policy), Path::new(noop), Path::new(mutator)) {
                Ok(modules) => run(&modules, number(arg(4), 5), number(arg(5), 3)),
                Err(error) => {
                    eprintln!("imageswap-bench: {error}");
                    return ExitCode::from(2);
                }
            }
        }
        Some("per-image") => {
            let read = |i: usize| arg(i).and_then(|p| std::fs::read_to_string(p).ok());
            let (Some(map), Some(images)) = (read(1), read(2)) else {
                eprintln!("usage: imageswap-bench per-image MAP_FILE IMAGES_FILE");
                return ExitCode::from(2);
            };
            let images: Vec<String> = images.lines().map(str::to_owned).collect();
            engine::per_image(&map, &images, 15);
        }
        Some("eval") => {
            let paths: Vec<&Path> = args.iter().skip(1).map(Path::new).collect();
            match wasm::eval(&paths, 7, 5) {
                Ok(times) if !paths.is_empty() => {
                    for (warm, fresh) in times {
                        println!("{} | {}", timing::show(warm), timing::show(fresh));
                    }
                }
                _ => {
                    eprintln!("usage: imageswap-bench eval POLICY...");
                    return ExitCode::from(2);
                }
            }
        }
        Some("map") => println!("{}", workload::map(number(arg(1), 10))),
        _ => {
            eprintln!("usage: imageswap-bench engine | wasm POLICY NOOP MUTATOR | per-image MAP IMAGES | map RULES");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

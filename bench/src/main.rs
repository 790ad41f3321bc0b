//! `imageswap-bench`: the figures of BENCHMARKS.md. `make bench` runs every part.
//!
//! ```text
//! imageswap-bench engine [SAMPLES]                          native decision and settings parse
//! imageswap-bench wasm POLICY NOOP MUTATOR [SAMPLES ROUNDS] whole evaluations beside the floors
//! imageswap-bench worst POLICY NOOP MUTATOR [SAMPLES ROUNDS [SHAPE]] hostile shapes at the size limits, beside the floors
//! imageswap-bench maps POLICY NOOP MUTATOR [SAMPLES ROUNDS [SHAPE]]  the 10 000-rule map shapes only (part of `worst`)
//!                                                           (SHAPE: only the shapes whose label contains it)
//! imageswap-bench per-image MAP_FILE IMAGES_FILE            ns per image, parse included (upstream comparison)
//! imageswap-bench eval POLICY...                            warm and fresh time of each module, interleaved (opt-level table)
//! imageswap-bench compare RULES POLICY...                   the same with a RULES-rule map, one labelled row per module
//! imageswap-bench calls POLICY PAYLOAD N                    N warm calls, for callgrind (PAYLOAD: 0-3 map shape, pod, deployment,
//!                                                           worstN, @FILE)
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
        Some(table @ ("wasm" | "worst" | "maps")) => {
            let (Some(policy), Some(noop), Some(mutator)) = (arg(1), arg(2), arg(3)) else {
                eprintln!("usage: imageswap-bench {table} POLICY NOOP MUTATOR [SAMPLES ROUNDS]");
                return ExitCode::from(2);
            };
            let run = match table {
                "wasm" => |modules: &wasm::Modules, samples, rounds, _: &str| wasm::run(modules, samples, rounds),
                "worst" => worst::run,
                _ => worst::run_maps,
            };
            let only = arg(6).map_or("", String::as_str);
            match wasm::Modules::load(Path::new(policy), Path::new(noop), Path::new(mutator)) {
                Ok(modules) => run(&modules, number(arg(4), 5), number(arg(5), 3), only),
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
            match wasm::eval(&paths, 10, 7, 5) {
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
        Some("compare") => {
            let paths: Vec<&Path> = args.iter().skip(2).map(Path::new).collect();
            match wasm::eval(&paths, number(arg(1), 10_000), 7, 5) {
                Ok(times) if !paths.is_empty() => {
                    for (path, (warm, fresh)) in paths.iter().zip(times) {
                        println!("| {} | {} | {} |", path.display(), timing::show(warm), timing::show(fresh));
                    }
                }
                _ => {
                    eprintln!("usage: imageswap-bench compare RULES POLICY...");
                    return ExitCode::from(2);
                }
            }
        }
        Some("calls") => {
            let payload = arg(2).and_then(|name| worst::named_payload(name));
            let (Some(policy), Some(payload)) = (arg(1), payload) else {
                eprintln!("usage: imageswap-bench calls POLICY 0|1|2|3|pod|deployment|worstN|@FILE N");
                return ExitCode::from(2);
            };
            if let Err(error) = wasm::calls(Path::new(policy), &payload, number(arg(3), 1)) {
                eprintln!("imageswap-bench: {error}");
                return ExitCode::from(2);
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

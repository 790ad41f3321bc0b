//! The swap-map parser: every accepted map and every error of docs/behaviour.md §3, with line numbers.

use imageswap_engine::Rules;
use imageswap_testkit::{expect_eq, load, run_all};
use serde::Deserialize;

#[derive(Deserialize)]
struct MapCase {
    name: String,
    /// The map text, or `map_parts` for large maps: `[text, times]` pieces concatenated.
    #[serde(default)]
    map: Option<String>,
    #[serde(default)]
    map_parts: Vec<(String, usize)>,
    /// Expected errors in order; empty means the map is accepted.
    errors: Vec<ExpectedError>,
}

#[derive(Deserialize)]
struct ExpectedError {
    /// `null` for an error about the whole map.
    line: Option<usize>,
    /// The `MapErrorKind`'s code (its variant name).
    kind: String,
    /// The whole message, where the case pins it.
    #[serde(default)]
    message: Option<String>,
}

fn check(case: &MapCase) -> Result<(), String> {
    let text = case.map.clone().unwrap_or_else(|| case.map_parts.iter().map(|(t, n)| t.repeat(*n)).collect());
    let errors = match Rules::parse(&text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    };
    let got: Vec<(Option<usize>, String)> =
        errors.iter().map(|e| (e.line.map(|line| line.get()), e.kind.code().to_owned())).collect();
    let expected: Vec<(Option<usize>, String)> = case.errors.iter().map(|e| (e.line, e.kind.clone())).collect();
    expect_eq("errors", got, expected)?;
    for (error, expected) in errors.iter().zip(&case.errors) {
        if let Some(message) = &expected.message {
            expect_eq("message", error.to_string(), message.clone())?;
        }
    }
    Ok(())
}

#[test]
fn map_cases() {
    run_all(&load::<MapCase>("map.json"), |c| c.name.clone(), check);
}

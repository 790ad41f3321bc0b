//! Loading the case tables and running every case, reporting every failure at once.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// The repository's `tests/cases` folder.
pub fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

/// Reads a case table.
pub fn load<T: DeserializeOwned>(file: &str) -> Vec<T> {
    let path = cases_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `check` on every case; fails once, listing each failing case with its reason.
pub fn run_all<T>(cases: &[T], name: impl Fn(&T) -> String, check: impl Fn(&T) -> Result<(), String>) {
    assert!(!cases.is_empty(), "no cases loaded");
    let failures: Vec<String> =
        cases.iter().filter_map(|case| check(case).err().map(|why| format!("{}: {why}", name(case)))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// `Err` describing the difference when `got != expected`.
pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, expected: T) -> Result<(), String> {
    if got == expected { Ok(()) } else { Err(format!("{what}: got {got:?}, expected {expected:?}")) }
}

/// The path of a file of `tests/cases/` (a case table, or a request, settings document or recorded
/// answers a table names).
pub fn fixture_path(relative: &str) -> PathBuf {
    cases_dir().join(relative)
}

/// Reads a JSON file of `tests/cases/` (case tables, requests, settings documents).
pub fn fixture(relative: &str) -> serde_json::Value {
    let path = fixture_path(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

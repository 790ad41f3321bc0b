//! The fnmatch subset (`[REPLACE]`) and noswap wildcards, case by case (no regex behind them).

use imageswap_engine::Glob;
use imageswap_testkit::{expect_eq, load, run_all};
use serde::Deserialize;

#[derive(Deserialize)]
struct GlobCase {
    /// `fnmatch` (whole text, classes) or `wildcard` (noswap: anywhere, `*` and `?` only).
    syntax: String,
    pattern: String,
    text: String,
    matches: bool,
}

#[test]
fn glob_cases() {
    run_all(
        &load::<GlobCase>("glob.json"),
        |c| format!("{} {:?} ~ {:?}", c.syntax, c.pattern, c.text),
        |case| {
            let got = match case.syntax.as_str() {
                "fnmatch" => Glob::fnmatch(&case.pattern).matches(&case.text),
                "wildcard" => Glob::wildcard(&case.pattern).matches(&case.text),
                other => return Err(format!("unknown syntax {other}")),
            };
            expect_eq("matches", got, case.matches)
        },
    );
}

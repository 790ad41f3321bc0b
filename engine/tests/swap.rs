//! The decision of docs/behaviour.md §3 on every case of `swap.json`, plus three properties on each: the request
//! path decides alike, the new reference parses, and deciding it again changes nothing
//! (idempotence).

use imageswap_engine::DigestPolicy;
use imageswap_engine::Image;
use imageswap_engine::Rules;
use imageswap_engine::testing::Relevance;
use imageswap_engine::testing::{decide, placeholder};
use imageswap_testkit::{expect_eq, load, run_all};
use serde::Deserialize;

#[derive(Deserialize)]
struct SwapCase {
    name: String,
    map: String,
    image: String,
    /// The new image; `null` leaves it as written.
    #[serde(default)]
    expect: Option<String>,
    /// The deciding `Step` and rule line.
    #[serde(default)]
    step: Option<String>,
    /// `null` when no line decides.
    #[serde(default)]
    line: Option<usize>,
    /// The whole error message, for cases that cannot be decided.
    #[serde(default)]
    error: Option<String>,
    /// `keep` (default) or `drop`.
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    kept_digest: bool,
}

fn check(case: &SwapCase) -> Result<(), String> {
    let rules = Rules::parse(&case.map).map_err(|e| format!("map rejected: {e:?}"))?;
    let policy = if case.digest.as_deref() == Some("drop") { DigestPolicy::Drop } else { DigestPolicy::Keep };
    let decided = decide(&rules, policy, &case.image);
    // The request path reads only the lines that can decide this image, and must agree.
    let narrow = Relevance::new([case.image.as_str()])
        .rules(&case.map)
        .map_err(|e| format!("request path rejects the map: {e:?}"))?;
    expect_eq("request-path decision", narrow.decide(policy, &case.image), decided.clone())?;
    if let Some(error) = &case.error {
        let message = decided.err().ok_or("decided, but an error was expected")?.to_string();
        return expect_eq("message", message, error.clone());
    }
    let decision = decided.map_err(|e| format!("error: {e}"))?;
    // A plain scan over every line agrees with the index on steps 1 and 4.
    if let (Ok(image), None) = (Image::parse(&case.image), placeholder(&case.image)) {
        imageswap_testkit::scan::check(&case.map, &image, &decision)?;
    }
    expect_eq("new image", decision.swapped.clone(), case.expect.clone())?;
    expect_eq("step", Some(decision.step.as_str().to_owned()), case.step.clone())?;
    expect_eq("line", decision.line.map(|line| line.get()), case.line)?;
    expect_eq("kept digest", decision.kept_digest, case.kept_digest)?;
    if let Some(new) = &decision.swapped {
        Image::parse(new).map_err(|e| format!("result does not parse: {e}"))?;
        let again = decide(&rules, policy, new).map_err(|e| format!("result cannot be decided: {e}"))?;
        expect_eq("second evaluation (idempotence)", again.swapped, None)?;
    }
    Ok(())
}

#[test]
fn swap_cases() {
    run_all(&load::<SwapCase>("swap.json"), |c| c.name.clone(), check);
}

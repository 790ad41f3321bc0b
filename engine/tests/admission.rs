//! docs/behaviour.md §4 and §6 natively: every admission case of `e2e-tests/cases.json` (real
//! AdmissionReviews and inline requests for every kind, field and bad shape; the table the runner,
//! kwctl and the policy-server also run), in both modes, and the variants derived from them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::{Verdict, evaluate};
use imageswap_testkit::{
    Expect, FixtureLookup, LookupAnswer, check_every_case, check_validate, expect_eq, expected_object,
    in_validate_mode, validate_expectation,
};
use serde_json::{Value, json};

/// Evaluates `request` with `settings` and a registry that knows `lookups`, and compares the
/// verdict and the lookups made with what is expected.
fn check(request: &Value, settings: &Value, expect: &Expect, lookups: &[LookupAnswer]) -> Result<(), String> {
    let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap();
    let mut registry = FixtureLookup::new(lookups);
    let verdict = evaluate(&payload, &mut registry).verdict;
    registry.check_asked()?;
    match (expect, verdict) {
        (Expect::Accept, Verdict::Accept) => Ok(()),
        (Expect::Reject(message), Verdict::Reject(got)) => expect_eq("message", got, message.clone()),
        (Expect::Changes(changes), Verdict::Mutate(object)) => {
            let original = request.get("object").cloned().unwrap_or_default();
            expect_eq("object", object, expected_object(&original, changes)?)
        }
        (_, verdict) => Err(format!("unexpected verdict {verdict:?}")),
    }
}

#[test]
fn e2e_cases_natively() {
    check_every_case(|case| {
        case.check_invalid_settings()?;
        check(&case.request(), &case.settings(), &case.expect()?, &case.lookups)
    });
}

/// docs/behaviour.md §6b: `mode: validate` on a request rejects exactly when `mutate` would change an image or
/// add a pull secret, naming each such field, asks the registry the same questions, and never
/// mutates.
fn check_validate_mode(
    request: &Value,
    settings: &Value,
    mutate: &Expect,
    lookups: &[LookupAnswer],
) -> Result<(), String> {
    let payload = serde_json::to_vec(&json!({ "request": request, "settings": in_validate_mode(settings) })).unwrap();
    let mut registry = FixtureLookup::new(lookups);
    let verdict = evaluate(&payload, &mut registry).verdict;
    registry.check_asked()?;
    let expect = validate_expectation(request.get("object").unwrap_or(&Value::Null), mutate);
    match verdict {
        Verdict::Accept => check_validate(&expect, true, None, false),
        Verdict::Reject(message) => check_validate(&expect, false, Some(&message), false),
        Verdict::Mutate(_) => check_validate(&expect, true, None, true),
    }
}

#[test]
fn validate_mode_on_every_e2e_case() {
    check_every_case(|case| check_validate_mode(&case.request(), &case.settings(), &case.expect()?, &case.lookups));
}

/// docs/behaviour.md §4 on every kind the e2e table swaps (see `imageswap_testkit::variants`).
#[test]
fn variants_of_every_swapping_e2e_case() {
    imageswap_testkit::check_variants(|variant| {
        let payload = serde_json::to_vec(&json!({ "request": variant.request, "settings": variant.settings })).unwrap();
        Ok(match evaluate(&payload, &mut imageswap_engine::AssumeFound).verdict {
            Verdict::Accept => (true, None, None),
            Verdict::Mutate(object) => (true, None, Some(object)),
            Verdict::Reject(message) => (false, Some(message), None),
        })
    });
}

//! docs/behaviour.md §4 and §6 natively: every admission case of `e2e-tests/cases.json` (real
//! AdmissionReviews and inline requests for every kind, field and bad shape; the table the runner,
//! kwctl and the policy-server also run), in both modes, and the variants derived from them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::{Verdict, evaluate};
use imageswap_testkit::{
    Answer, Expect, FixtureLookup, LookupAnswer, check_every_case, check_every_case_in_validate_mode, expect_eq,
    expected_object,
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
#[test]
fn validate_mode_on_every_e2e_case() {
    check_every_case_in_validate_mode(|case, settings| {
        let payload = serde_json::to_vec(&json!({ "request": case.request(), "settings": settings })).unwrap();
        let mut registry = FixtureLookup::new(&case.lookups);
        let verdict = evaluate(&payload, &mut registry).verdict;
        registry.check_asked()?;
        Ok(answer(verdict))
    });
}

/// A verdict as the answer the tables check: allowed, the message, the mutated object.
fn answer(verdict: Verdict) -> Answer {
    match verdict {
        Verdict::Accept => (true, None, None),
        Verdict::Mutate(object) => (true, None, Some(object)),
        Verdict::Reject(message) => (false, Some(message), None),
    }
}

/// docs/behaviour.md §4 on every kind the e2e table swaps (see `imageswap_testkit::variants`).
#[test]
fn variants_of_every_swapping_e2e_case() {
    imageswap_testkit::check_variants(|variant| {
        let payload = serde_json::to_vec(&json!({ "request": variant.request, "settings": variant.settings })).unwrap();
        Ok(answer(evaluate(&payload, &mut imageswap_engine::AssumeFound).verdict))
    });
}

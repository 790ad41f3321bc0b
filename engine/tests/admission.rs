//! SPEC §4 and §6 natively: `tests/cases/admission.json` (inline requests for every kind, field
//! and bad shape) and `e2e-tests/cases.json` (the table the runner and kwctl also run).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point
mod common;

use common::{
    AdmissionCase, E2eCase, Expect, FixtureLookup, LookupAnswer, e2e, expect_eq, expected_object, load, request_of,
    run_all,
};
use imageswap_engine::{Verdict, evaluate};
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
fn admission_cases() {
    run_all(
        &load::<AdmissionCase>("admission.json"),
        |c| c.name.clone(),
        |case| check(&case.request, &case.settings, &case.expect, &case.lookups),
    );
}

#[test]
fn e2e_cases_natively() {
    let cases: Vec<E2eCase> = serde_json::from_value(e2e("cases.json")).unwrap();
    run_all(
        &cases,
        |c| c.name.clone(),
        |case| {
            let expect = match (case.allowed, &case.message) {
                (false, Some(message)) => Expect::Reject(message.clone()),
                (false, None) => return Err("a rejection case needs its message".to_owned()),
                (true, _) if case.changes.is_empty() => Expect::Accept,
                (true, _) => Expect::Changes(case.changes.clone()),
            };
            check(&request_of(e2e(&case.request)), &e2e(&case.settings), &expect, &case.lookups)
        },
    );
}

//! docs/behaviour.md §4 and §6 natively: every admission case of `tests/cases/admission.json` (real
//! AdmissionReviews and inline requests for every kind, field and bad shape; the table the runner,
//! kwctl and the policy-server also run), in both modes, and the variants derived from them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::{Verdict, evaluate};
use imageswap_testkit::{
    Answer, Expect, FixtureLookup, check_every_case, check_every_case_in_validate_mode, expect_eq, expected_object,
};
use serde_json::{Value, json};

/// Evaluates `request` with `settings` and a registry that knows `lookups`, and compares the
/// verdict and the lookups made with what is expected.
fn check(
    request: &Value,
    settings: &Value,
    expect: &Expect,
    lookups: &[imageswap_engine::Recorded],
    warnings: &[String],
) -> Result<(), String> {
    let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap();
    let mut registry = FixtureLookup::new(lookups);
    let evaluation = evaluate(&payload, &mut registry);
    registry.check_asked()?;
    expect_eq("warnings", evaluation.warnings.as_slice(), warnings)?;
    match (expect, evaluation.verdict) {
        (Expect::Accept, Verdict::Accept) => Ok(()),
        (Expect::Reject(message), Verdict::Reject(got)) => expect_eq("message", got.to_string(), message.clone()),
        (Expect::Changes(changes), Verdict::Mutate(object)) => {
            let original = request.get("object").cloned().unwrap_or_default();
            expect_eq("object", object, expected_object(&original, changes)?)
        }
        (_, verdict) => Err(format!("unexpected verdict {verdict:?}")),
    }
}

#[test]
fn admission_cases_natively() {
    check_every_case(|case| {
        case.check_invalid_settings()?;
        check(&case.request(), &case.settings(), &case.expect()?, &case.lookups, &case.warnings)
    });
}

/// docs/behaviour.md §6b: `mode: validate` on a request rejects exactly when `mutate` would change an image or
/// add a pull secret, naming each such field, asks the registry the same questions, and never
/// mutates.
#[test]
fn validate_mode_on_every_admission_case() {
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
        Verdict::Reject(rejection) => (false, Some(rejection.to_string()), None),
        other => panic!("a verdict these tables do not know: {other:?}"),
    }
}

/// docs/behaviour.md §4 on every kind the admission table swaps (see `imageswap_testkit::variants`).
#[test]
fn variants_of_every_swapping_admission_case() {
    imageswap_testkit::check_variants(|variant| {
        let payload = serde_json::to_vec(&json!({ "request": variant.request, "settings": variant.settings })).unwrap();
        Ok(answer(evaluate(&payload, &mut imageswap_engine::testing::AssumeFound).verdict))
    });
}

/// docs/behaviour.md §6: an evaluation is logged in a few records whatever its size; the swaps
/// share one, which names the first 20 and counts the rest. Validate mode swaps and adds nothing.
#[test]
fn the_report_counts_every_swap_and_names_the_first_twenty() {
    let containers: Vec<Value> =
        (0..25).map(|i| json!({ "name": format!("c{i}"), "image": format!("quay.io/org/app{i}:1") })).collect();
    let request = json!({ "uid": "u", "operation": "CREATE", "kind": { "group": "", "kind": "Pod" },
        "object": { "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "p" }, "spec": { "containers": containers } } });
    let settings =
        json!({ "imageChange": "default::mirror.example.com", "imagePullSecrets": { "mirror.example.com": "pull" } });
    let run = |settings: &Value| {
        let payload = serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap();
        evaluate(&payload, &mut imageswap_engine::testing::AssumeFound).report()
    };
    let report = run(&settings);
    // Each record is the JSON the host's log call reads: level and message, then the fields.
    let records: Vec<Value> =
        report.records().map(|record| serde_json::from_slice(&record.to_json()).unwrap()).collect();
    let rewrites = report.swapped.as_ref().map(|listing| listing.items.clone()).unwrap();
    assert_eq!(
        records,
        [
            json!({ "level": "info", "message": "images swapped", "policy": "imageswap", "count": 25, "rewrites": rewrites }),
            json!({ "level": "info", "message": "pull secrets added", "policy": "imageswap", "count": 1, "secrets": "pull" }),
        ]
    );
    let swapped = report.swapped.unwrap();
    assert_eq!(swapped.count, 25);
    let named: Vec<String> = (0..20)
        .map(|i| {
            format!("spec.containers[{i}].image: quay.io/org/app{i}:1 -> mirror.example.com/org/app{i}:1 (line 1)")
        })
        .collect();
    assert_eq!(swapped.items, format!("{}; and 5 more", named.join("; ")));
    assert_eq!(report.pull_secrets_added.map(|l| (l.count, l.items)), Some((1, "pull".to_owned())));
    assert_eq!((report.digests_kept, report.left_as_written), (None, None));
    let validate = run(&imageswap_testkit::in_validate_mode(&settings));
    assert_eq!((validate.swapped, validate.pull_secrets_added), (None, None));
}

/// docs/behaviour.md §5: a swap left undone because the host found no target is reported with
/// each target's reason and what the host said.
#[test]
fn the_report_names_the_swaps_left_undone() {
    let cases: Vec<imageswap_testkit::AdmissionCase> =
        serde_json::from_value(imageswap_testkit::fixture("admission.json")).unwrap();
    let case = cases.iter().find(|c| c.name == "pod_swapped_only_where_target_exists").unwrap();
    let payload = serde_json::to_vec(&json!({ "request": case.request(), "settings": case.settings() })).unwrap();
    let report = evaluate(&payload, &mut FixtureLookup::new(&case.lookups)).report();
    let first: Value = serde_json::from_slice(&report.records().next().unwrap().to_json()).unwrap();
    assert_eq!((&first["level"], &first["count"]), (&json!("warning"), &json!(2)), "{first}");
    assert_eq!(first["images"], json!(report.left_as_written.as_ref().unwrap().items));
    let undone = report.left_as_written.unwrap();
    assert_eq!(undone.count, 2, "{}", undone.items);
    assert_eq!(
        undone.items,
        "spec.initContainers[0].image: busybox (line 1): \
         harbor.internal.example.com/library/busybox missing (manifest unknown: manifest unknown); \
         spec.volumes[0].image.reference: quay.io/org/data:1 (line 1): \
         harbor.internal.example.com/org/data:1 unreachable (error sending request for url: connection refused)"
    );
}

/// The admission warnings the README and the operating guide show (`Warning: …`, as `kubectl`
/// prints them) are warnings that a case of the table gives, word for word.
#[test]
fn the_documents_show_real_warnings() {
    let cases: Vec<imageswap_testkit::AdmissionCase> =
        serde_json::from_value(imageswap_testkit::fixture("admission.json")).unwrap();
    for document in ["README.md", "docs/operating.md"] {
        let text = std::fs::read_to_string(format!("{}/../{document}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let shown: Vec<&str> = text.lines().filter_map(|line| line.trim().strip_prefix("Warning: ")).collect();
        assert!(!shown.is_empty(), "{document} shows no warning");
        for warning in shown {
            let real = cases.iter().any(|case| case.warnings.iter().any(|w| w == warning));
            assert!(real, "{document}: no case warns {warning:?}");
        }
    }
}

/// docs/behaviour.md §5: with lookups on and every target found, every case of the table without
/// lookups is answered exactly as without them, with no warning.
#[test]
fn every_case_answers_as_before_when_every_target_is_found() {
    check_every_case(|case| {
        let mut settings = case.settings();
        if !case.lookups.is_empty() || case.invalid_settings || !settings.is_object() {
            return Ok(());
        }
        if settings.get("checkTargetExists").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        settings["checkTargetExists"] = json!(true);
        settings["maxLookups"] = json!(1000);
        let payload = serde_json::to_vec(&json!({ "request": case.request(), "settings": settings })).unwrap();
        let evaluation = evaluate(&payload, &mut imageswap_engine::testing::AssumeFound);
        expect_eq("warnings", evaluation.warnings.as_slice(), &[])?;
        let before = serde_json::to_vec(&json!({ "request": case.request(), "settings": case.settings() })).unwrap();
        expect_eq("verdict", evaluation.verdict, evaluate(&before, &mut imageswap_engine::testing::AssumeFound).verdict)
    });
}

//! Bad and extreme `validate` payloads (`tests/cases/payloads.json`): truncated JSON, non-UTF-8,
//! wrong types at every image field, deep nesting, huge objects. Each gets its message; nothing
//! panics.

use imageswap_engine::testing::AssumeFound;
use imageswap_engine::{Verdict, evaluate};
use imageswap_testkit::{PayloadCase, load, run_all};

#[test]
fn payload_cases() {
    run_all(
        &load::<PayloadCase>("payloads.json"),
        |c| c.name.clone(),
        |case| {
            let evaluation = evaluate(&case.bytes(), &mut AssumeFound);
            let (accepted, message) = match &evaluation.verdict {
                Verdict::Reject(rejection) => (false, Some(rejection.to_string())),
                _ => (true, None),
            };
            case.expect.check(accepted, message.as_deref(), evaluation.rewrites.len())
        },
    );
}

//! Settings documents (`tests/cases/validate-settings.json`): accepted, or `valid: false` with the
//! whole message (docs/behaviour.md §2).

use imageswap_engine::validate_settings;
use imageswap_testkit::{SettingsCase, expect_eq, run_all};

#[test]
fn settings_cases() {
    run_all(
        &SettingsCase::all(),
        |c| c.name.clone(),
        |case| {
            let result = validate_settings(&case.document());
            expect_eq("valid", result.is_ok(), case.valid)?;
            match (result, &case.message) {
                (Err(errors), Some(message)) => expect_eq("message", errors.to_string(), message.clone()),
                _ => Ok(()),
            }
        },
    );
}

//! The imageswap engine: everything the policy decides, free of Kubewarden SDK and waPC types, so
//! that the policy module, the runner, tests, tools and a browser build share one implementation.
//!
//! The pipeline, one module per stage (SPEC section in brackets):
//! [`settings`] (§2) → [`map`] and [`rules`] (§3, the map parser and index) → [`reference`] and
//! [`normalize`] (§3, the grammar and canonical forms) → [`swap`] (§3, the decision) →
//! [`walk`] (§4, where images live) → [`admission`] (§4, §5, §6, the mutation and its report).
//! [`relevance`] picks the map lines a request reads. [`evaluate`] and [`validate_settings`] are
//! the two entry points the waPC glue calls.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod explain;
pub mod glob;
pub mod hash;
pub mod lookup;
pub mod map;
pub mod normalize;
pub mod reference;
pub mod relevance;
pub mod rules;
pub mod settings;
pub mod swap;
pub mod targets;
pub mod walk;

use serde::Deserialize;
use serde_json::Value;

pub use admission::{Evaluation, Rewrite, Skipped, Verdict};
pub use lookup::{AssumeFound, Lookup, TargetLookup};
pub use settings::{Settings, SettingsErrors};

/// The payload of waPC `validate`: the admission request and the policy's settings.
#[derive(Deserialize)]
struct ValidationRequest {
    request: admission::AdmissionRequest,
    #[serde(default)]
    settings: Value,
}

/// Checks a settings document (the payload of waPC `validate_settings`).
pub fn validate_settings(document: &[u8]) -> Result<Settings, SettingsErrors> {
    Settings::from_json(document)
}

/// Evaluates one `validate` payload: `{"request": AdmissionRequest, "settings": {...}}`.
/// `targets` answers `checkTargetExists` lookups. Every failure becomes a rejection with a
/// message; nothing panics.
///
/// The map is read for the request's own images only ([`relevance`]): the policy-server checks
/// the whole map with `validate_settings` when it loads the policy, so a request does not pay
/// for the lines that cannot decide its images. The rest of the settings are checked every time.
pub fn evaluate(payload: &[u8], targets: &mut dyn TargetLookup) -> Evaluation {
    let reject = |message: String| Evaluation::answer(Verdict::Reject(message));
    let envelope: ValidationRequest = match serde_json::from_slice(payload) {
        Ok(envelope) => envelope,
        Err(error) => return reject(format!("the admission request cannot be read: {error}")),
    };
    let read = admission::Admission::read(envelope.request);
    let wanted = match &read {
        admission::Read::Decide(admission) => relevance::Relevance::new(admission.images()),
        admission::Read::Answer(_) => relevance::Relevance::default(),
    };
    match (Settings::for_images(&envelope.settings, &wanted), read) {
        (Err(errors), _) => reject(format!("the policy settings are not valid: {errors}")),
        (Ok(_), admission::Read::Answer(answer)) => answer,
        (Ok(settings), admission::Read::Decide(admission)) => admission.decide(&settings, targets),
    }
}

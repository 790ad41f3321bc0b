//! The imageswap engine: everything the policy decides, free of Kubewarden SDK and waPC types, so
//! that the policy module, the runner, tests, tools and a browser build share one implementation.
//!
//! The pipeline, one folder per stage (the section of docs/behaviour.md in brackets): `settings`
//! (§2) → `map` (§3: the map's lines, keys and targets, the index, and the lines a request reads)
//! → `image` (§3: the reference grammar, canonical forms, globs) → `swap` (§3, the decision) →
//! `lookup` (§5: what the registry says of a target) → `object` (§4 to §6b: where each kind keeps
//! its images, the walk that finds them, the request read and decided, the lookups, the answer
//! and the object's edits). `bytes` holds the byte scanners the lexer and the sorts share, `text` the
//! splits and joins of short names;
//! `explain` shows the decision without an admission request.
//!
//! The public surface is this page, the names the policy, the CLI, the runner and the playground
//! use: [`evaluate`] and [`validate_settings`], the two entry points the waPC glue calls; the
//! answer ([`Evaluation`], [`Verdict`], [`Rejection`]) and its log ([`Report`]); [`Settings`] and
//! [`Rules`]; [`Image`]; the registry lookups ([`TargetLookup`], [`Recording`]); the object walk
//! ([`document_images`]); [`explain()`]; and the error types. What only the repository's tests,
//! benchmarks and fuzz targets need is in the hidden `testing` module. Everything else is the
//! crate's own.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Inside its modules, an item is `pub` only when this page exports it.
#![deny(unreachable_pub)]
// And every type a public item shows (a field, an argument, a result) is exported.
#![deny(unnameable_types)]

mod bytes;
mod explain;
mod image;
mod lookup;
mod map;
mod object;
mod output;
mod settings;
mod swap;
mod text;

use serde::Deserialize;
use serde_json::Value;

use map::relevance::Relevance;

pub use explain::{Explanation, explain, explain_found, explained_pull_secrets};
pub use image::glob::Glob;
pub use image::normalize::{ExactId, Image};
pub use image::reference::{RefError, RefErrorKind};
pub use lookup::{Call, Capability, Lookup, Miss, Platform, Reason, Recorded, Recording, TargetLookup, look_up};
pub use map::lex::{KeyKind, LineNumber, Lines, MapError, MapErrorKind, MapLine};
pub use map::rules::Rules;
pub use map::targets::{Prefix, PrefixError};
pub use object::kinds::{
    CustomResourceError, CustomResources, Entries, FieldPath, Layout, PathError, PathErrorKind, PathStep, Problem,
};
pub use object::report::{Level, Listing, REPORTED_ITEMS, Record, Report};
pub use object::verdict::{Evaluation, NAMED_FIELDS, Rejection, Rewrite, Skipped, Verdict, WARNED_IMAGES};
pub use object::walk::{
    DocumentError, EntryKind, Expected, Found, FoundImage, ObjectError, ObjectErrorKind, Place, admission_request,
    document_images,
};
pub use output::JsonBuffer;
pub use settings::{
    DEFAULT_MAX_LOOKUPS, KNOWN_KEYS, MOST_LOOKUPS, Mode, RequestSettings, Settings, SettingsError, SettingsErrors,
};
pub use swap::{DigestPolicy, FixHint, Step, SwapError};

/// What only the repository's own tests, benchmarks and fuzz targets use: one image's decision,
/// the request path and the whole-map oracle it is checked against, a host that finds every
/// target, and the grammar's pieces and limits. Not part of the engine's interface.
#[doc(hidden)]
pub mod testing {
    pub use crate::image::normalize::host_without_port;
    pub use crate::image::reference::{
        DOCKER_HUB, MAX_HOST_LEN, MAX_PATH_LEN, MAX_TAG_LEN, Reference, names_registry_strictly,
    };
    pub use crate::image::{ISTIO_AUTO, Placeholder, placeholder};
    pub use crate::lookup::{ASSUMED_DIGEST, AssumeFound};
    pub use crate::map::lex::{MAX_LINE_BYTES, MAX_MAP_BYTES, MAX_RULES};
    pub use crate::map::relevance::{Relevance, RequestRules};
    pub use crate::map::targets::{RegistryTarget, Shape};
    pub use crate::swap::{Candidate, Decision, decide};

    use super::{Evaluation, Rejection, Settings, TargetLookup, invalid, object, read_envelope};

    /// The oracle of the request path: [`evaluate`](crate::evaluate) reading every line of the
    /// map (as `validate_settings` does, dead-rule checks included) instead of only the lines that
    /// can decide the request's images. For an accepted map both answer alike, for every request;
    /// the tests and fuzz targets check that. The policy itself never calls this: it costs the
    /// whole map per request.
    pub fn evaluate_whole_map(payload: &[u8], targets: &mut dyn TargetLookup) -> Evaluation {
        let envelope = match read_envelope(payload) {
            Ok(envelope) => envelope,
            Err(message) => return Evaluation::reject(Rejection::Unreadable(message)),
        };
        let settings = match Settings::from_value(&envelope.settings) {
            Ok(settings) => settings,
            Err(errors) => return invalid(errors),
        };
        match object::admission::Admission::read(envelope.request, &settings.custom_resources) {
            object::admission::Triage::Answer(answer) => answer,
            object::admission::Triage::Decide(admission) => admission.decide(&settings, targets),
        }
    }
}

/// The payload of waPC `validate`: the admission request and the policy's settings.
#[derive(Deserialize)]
struct ValidationRequest {
    request: object::admission::AdmissionRequest,
    #[serde(default)]
    settings: Value,
}

/// Checks a settings document (the payload of waPC `validate_settings`).
pub fn validate_settings(document: &[u8]) -> Result<Settings, SettingsErrors> {
    Settings::from_json(document)
}

/// The payload read, or why it cannot be.
fn read_envelope(payload: &[u8]) -> Result<ValidationRequest, String> {
    serde_json::from_slice(payload).map_err(|error| error.to_string())
}

/// The rejection of a request whose settings are not valid.
fn invalid(errors: SettingsErrors) -> Evaluation {
    Evaluation::reject(Rejection::InvalidSettings(errors))
}

/// Evaluates one `validate` payload: `{"request": AdmissionRequest, "settings": {...}}`.
/// `targets` answers `checkTargetExists` lookups. Every failure becomes a rejection with a
/// message; nothing panics.
///
/// The map is read for the request's own images only ([`Relevance`]): the policy-server checks
/// the whole map with `validate_settings` when it loads the policy, so a request does not pay
/// for the lines that cannot decide its images; likewise only the `customResources` entry of the
/// request's kind is read. The rest of the settings are checked every time.
/// A new reference that the lines read do not show to lie under a target is checked again with
/// the lines that can cover it as well, so the request path rejects only what the whole map
/// rejects.
pub fn evaluate(payload: &[u8], targets: &mut dyn TargetLookup) -> Evaluation {
    let envelope = match read_envelope(payload) {
        Ok(envelope) => envelope,
        Err(message) => return Evaluation::reject(Rejection::Unreadable(message)),
    };
    let (group, kind) = (envelope.request.kind.group.clone(), envelope.request.kind.kind.clone());
    let read_settings =
        |images: &Relevance| Settings::for_request(&envelope.settings, images, &group, &kind).map(|request| request.0);
    let kinds = Settings::custom_resources_of(&envelope.settings, &group, &kind);
    let admission = match object::admission::Admission::read(envelope.request, &kinds) {
        object::admission::Triage::Decide(admission) => admission,
        object::admission::Triage::Answer(answer) => {
            return match read_settings(&Relevance::default()) {
                Ok(_) => answer,
                Err(errors) => invalid(errors),
            };
        }
    };
    let relevance = Relevance::new(admission.images());
    let settings = match read_settings(&relevance) {
        Ok(settings) => settings,
        Err(errors) => return invalid(errors),
    };
    let decisions = admission.decisions(&settings, Some(&relevance));
    let unchecked: Vec<String> = decisions.unchecked_results().into_iter().map(str::to_owned).collect();
    // The request's image tables are not needed for the answer; a large Pod's answer reuses
    // their memory (a fresh instance pays for every page it touches).
    drop(relevance);
    if unchecked.is_empty() {
        return admission.answer(&settings, decisions, targets);
    }
    drop(decisions);
    let wider = Relevance::new(admission.images().chain(unchecked.iter().map(String::as_str)));
    match read_settings(&wider) {
        Ok(settings) => {
            let decisions = admission.decisions(&settings, Some(&wider));
            admission.answer(&settings, decisions, targets)
        }
        Err(errors) => invalid(errors),
    }
}

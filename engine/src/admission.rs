//! SPEC §4 "Objects and fields", §5b and §6 "Reporting what changed": read an admission request,
//! decide every image [`crate::walk`] finds in its object, and edit only those fields (plus the
//! annotation and the pull secrets) of the JSON object, so nothing the policy does not own is
//! dropped, reordered or added.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::lookup::{Lookup, TargetLookup};
use crate::normalize::Image;
use crate::settings::Settings;
use crate::swap::decide;
use crate::walk::{self, ALL_LISTS, EPHEMERAL, FoundImage, ObjectError, is_not, pod_spec_path};

/// The annotation that records the images this policy replaced.
pub const ORIGINAL_IMAGES_ANNOTATION: &str = "imageswap.kubewarden.io/original-images";
/// The subresource `kubectl debug` writes ephemeral containers through.
pub const EPHEMERAL_SUBRESOURCE: &str = "ephemeralcontainers";

/// The fields of an admission request the policy reads. Everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// CREATE, UPDATE, DELETE or CONNECT.
    #[serde(default)]
    pub operation: String,
    /// The object's kind.
    #[serde(default)]
    pub kind: GroupVersionKind,
    /// The subresource, if the request is for one.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// The object; absent (or `null`) on DELETE.
    #[serde(default)]
    pub object: Option<Value>,
}

/// The kind part of a group/version/kind.
#[derive(Debug, Default, Deserialize)]
pub struct GroupVersionKind {
    /// The kind, as Kubernetes spells it (`Pod`, `Deployment`, …).
    #[serde(default)]
    pub kind: String,
}

/// One image changed by this evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Where the image is (`spec.containers[0].image`).
    pub field: String,
    /// The same place as an RFC 6901 pointer (`/spec/containers/0/image`).
    pub pointer: String,
    /// The annotation key (`web`, `init:setup`, `volume:data`).
    pub key: String,
    /// The image as written.
    pub from: String,
    /// The new image.
    pub to: String,
    /// The rule line that decided.
    pub line: usize,
    /// `digest: drop` kept the digest of an image pinned only by it.
    pub kept_digest: bool,
}

/// The answer to an admission request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accepted, unchanged.
    Accept,
    /// Accepted with this new object.
    Mutate(Value),
    /// Rejected with this message.
    Reject(String),
}

/// A swap left undone because the host did not find its target (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where the image is.
    pub field: String,
    /// The image, left as written.
    pub image: String,
    /// The target that was looked up.
    pub target: String,
    /// The rule line that chose the target.
    pub line: usize,
    /// What the host said.
    pub lookup: Lookup,
}

/// What an evaluation decided, and what to log.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The answer.
    pub verdict: Verdict,
    /// Every image this evaluation changed.
    pub rewrites: Vec<Rewrite>,
    /// Swaps left undone because their target was not found (SPEC §5).
    pub skipped: Vec<Skipped>,
    /// Pull secrets this evaluation added to the pod spec (SPEC §5b).
    pub added_pull_secrets: Vec<String>,
}

impl Evaluation {
    /// An answer with nothing to log.
    pub fn answer(verdict: Verdict) -> Self {
        Self { verdict, rewrites: Vec::new(), skipped: Vec::new(), added_pull_secrets: Vec::new() }
    }
}

/// Decides an admission request with checked settings (SPEC §4, §5, §5b, §6).
pub fn admit(settings: &Settings, request: AdmissionRequest, targets: &mut dyn TargetLookup) -> Evaluation {
    match Admission::read(request) {
        Read::Answer(answer) => answer,
        Read::Decide(admission) => admission.decide(settings, targets),
    }
}

/// What reading a request gives: its answer already, or the images to decide.
pub enum Read {
    /// The request needs no decision (another operation or kind), or cannot be read.
    Answer(Evaluation),
    /// The request's object and the images in it.
    Decide(Admission),
}

/// A request whose object holds images to decide.
pub struct Admission {
    object: Value,
    spec_path: &'static [&'static str],
    /// A Pod's `ephemeralcontainers` subresource: only those images, no annotation, no secrets.
    ephemeral_only: bool,
    /// A Pod UPDATE: its `imagePullSecrets` cannot change.
    pod_update: bool,
    sites: Vec<FoundImage>,
}

impl Admission {
    /// Reads the request: the operation, kind and subresource, and every image of the object.
    pub fn read(request: AdmissionRequest) -> Read {
        let accept = || Read::Answer(Evaluation::answer(Verdict::Accept));
        let reject = |message: String| Read::Answer(Evaluation::answer(Verdict::Reject(message)));
        if !matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
            return accept();
        }
        let kind = request.kind.kind;
        let Some(spec_path) = pod_spec_path(&kind) else {
            return accept();
        };
        let ephemeral_only = match request.sub_resource.as_deref().unwrap_or_default() {
            "" => false,
            EPHEMERAL_SUBRESOURCE if kind == "Pod" => true,
            _ => return accept(),
        };
        let Some(object) = request.object else {
            return reject(format!("the {kind} {} request has no object to read", request.operation));
        };
        let lists: &'static [walk::ImageList] = if ephemeral_only { &[EPHEMERAL] } else { &ALL_LISTS };
        match walk::images(&kind, &object, lists) {
            Ok(sites) => {
                let pod_update = kind == "Pod" && request.operation == "UPDATE";
                Read::Decide(Self { object, spec_path, ephemeral_only, pod_update, sites })
            }
            Err(error) => reject(error.to_string()),
        }
    }

    /// The images of the object, as written.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.sites.iter().map(|site| site.image.as_str())
    }

    /// Decides every image and builds the answer.
    pub fn decide(self, settings: &Settings, targets: &mut dyn TargetLookup) -> Evaluation {
        let Self { mut object, spec_path, ephemeral_only, pod_update, sites } = self;
        let decided = decide_all(settings, &sites, targets);
        if !decided.errors.is_empty() {
            let message = decided.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            return Evaluation::answer(Verdict::Reject(message));
        }
        let secrets = if ephemeral_only || pod_update {
            Vec::new()
        } else {
            needed_pull_secrets(settings, &sites, &decided.rewrites)
        };
        let record = settings.record_original_images && !ephemeral_only;
        let result = apply(&mut object, &decided.rewrites, record)
            .and_then(|()| add_pull_secrets(&mut object, spec_path, &secrets));
        let added_pull_secrets = match result {
            Ok(added) => added,
            Err(error) => return Evaluation::answer(Verdict::Reject(error.to_string())),
        };
        let changed = !decided.rewrites.is_empty() || !added_pull_secrets.is_empty();
        Evaluation {
            verdict: if changed { Verdict::Mutate(object) } else { Verdict::Accept },
            rewrites: decided.rewrites,
            skipped: decided.skipped,
            added_pull_secrets,
        }
    }
}

/// The decisions for every image of an object.
#[derive(Default)]
struct Decided {
    rewrites: Vec<Rewrite>,
    skipped: Vec<Skipped>,
    errors: Vec<ObjectError>,
}

/// Decides every site; with `checkTargetExists`, a swap happens only when its target is found.
fn decide_all(settings: &Settings, sites: &[FoundImage], targets: &mut dyn TargetLookup) -> Decided {
    let mut decided = Decided::default();
    for site in sites {
        let decision = match decide(&settings.rules, settings.digest, &site.image) {
            Ok(decision) => decision,
            Err(error) => {
                decided.errors.push(ObjectError { place: Some(site.place()), reason: error.to_string() });
                continue;
            }
        };
        let Some(to) = decision.swapped.filter(|to| *to != site.image) else {
            continue;
        };
        if settings.check_target_exists {
            let lookup = targets.lookup(&to);
            if lookup != Lookup::Found {
                let (field, image) = (site.field(), site.image.clone());
                decided.skipped.push(Skipped { field, image, target: to, line: decision.line, lookup });
                continue;
            }
        }
        decided.rewrites.push(Rewrite {
            field: site.field(),
            pointer: site.pointer.clone(),
            key: site.key(),
            from: site.image.clone(),
            to,
            line: decision.line,
            kept_digest: decision.kept_digest,
        });
    }
    decided
}

/// The pull secrets the pod spec needs after the swaps, in the order of first use (SPEC §5b).
fn needed_pull_secrets<'s>(settings: &'s Settings, sites: &[FoundImage], rewrites: &[Rewrite]) -> Vec<&'s str> {
    let mut needed: Vec<&str> = Vec::new();
    if settings.image_pull_secrets.is_empty() {
        return needed;
    }
    for site in sites {
        let image = rewrites.iter().find(|r| r.pointer == site.pointer).map_or(site.image.as_str(), |r| r.to.as_str());
        let secret = Image::parse(image).ok().and_then(|image| settings.image_pull_secrets.get(image.registry()));
        if let Some(secret) = secret.filter(|secret| !needed.contains(&secret.as_str())) {
            needed.push(secret);
        }
    }
    needed
}

/// Adds each secret missing from the pod spec's `imagePullSecrets`; returns those added.
fn add_pull_secrets(object: &mut Value, spec_path: &[&str], secrets: &[&str]) -> Result<Vec<String>, ObjectError> {
    if secrets.is_empty() {
        return Ok(Vec::new());
    }
    let at: String = spec_path.iter().map(|step| format!("/{step}")).collect();
    let Some(spec) = object.pointer_mut(&at).and_then(Value::as_object_mut) else {
        return Ok(Vec::new());
    };
    let list = spec.entry("imagePullSecrets").or_insert(Value::Null);
    if list.is_null() {
        *list = Value::Array(Vec::new());
    }
    let entries = list
        .as_array_mut()
        .ok_or_else(|| ObjectError::unreadable(is_not(&format!("{at}/imagePullSecrets"), "a list")))?;
    let mut added = Vec::new();
    for secret in secrets {
        if !entries.iter().any(|entry| entry.get("name").and_then(Value::as_str) == Some(*secret)) {
            entries.push(serde_json::json!({ "name": secret }));
            added.push((*secret).to_owned());
        }
    }
    Ok(added)
}

/// Writes the new images and, when asked, merges the originals into the annotation.
fn apply(object: &mut Value, rewrites: &[Rewrite], record: bool) -> Result<(), ObjectError> {
    for rewrite in rewrites {
        if let Some(slot) = object.pointer_mut(&rewrite.pointer) {
            *slot = Value::String(rewrite.to.clone());
        }
    }
    if record && !rewrites.is_empty() { record_originals(object, rewrites) } else { Ok(()) }
}

/// Merges `key → original image` into the annotation of the object's own metadata.
fn record_originals(object: &mut Value, rewrites: &[Rewrite]) -> Result<(), ObjectError> {
    let not_object = |at: &str| ObjectError::unreadable(format!("{at} is not an object"));
    let root = object.as_object_mut().ok_or_else(|| ObjectError::unreadable(is_not("", "an object")))?;
    let metadata = object_entry(root, "metadata").ok_or_else(|| not_object("metadata"))?;
    let annotations = object_entry(metadata, "annotations").ok_or_else(|| not_object("metadata.annotations"))?;
    let mut originals: BTreeMap<String, String> = annotations
        .get(ORIGINAL_IMAGES_ANNOTATION)
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    for rewrite in rewrites {
        originals.insert(rewrite.key.clone(), rewrite.from.clone());
    }
    let text = serde_json::to_string(&originals)
        .map_err(|e| ObjectError::unreadable(format!("{ORIGINAL_IMAGES_ANNOTATION}: {e}")))?;
    annotations.insert(ORIGINAL_IMAGES_ANNOTATION.to_owned(), Value::String(text));
    Ok(())
}

/// The object under `key`, created when absent or `null`; `None` when it is something else.
fn object_entry<'m>(map: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Map<String, Value>> {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

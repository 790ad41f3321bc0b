//! docs/behaviour.md §4 "Objects and fields": read an admission request (operation, kind,
//! subresource, the object's images where its kind keeps them, and on UPDATE the old object's
//! annotation), and decide every distinct image [`crate::object::walk`] finds in it once. The
//! answer is built from these decisions by [`crate::object::answer`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::image::normalize::Image;
use crate::lookup::Miss;
use crate::lookup::TargetLookup;
use crate::map::lex::LineNumber;
use crate::map::relevance::Relevance;
use crate::object::edits::ORIGINAL_IMAGES_ANNOTATION;
use crate::object::kinds::CustomResources;
use crate::object::verdict::{Evaluation, Rejection, Verdict};
use crate::object::walk::{self, ALL_LISTS, EPHEMERAL, Found, FoundImage};
use crate::settings::Settings;
use crate::swap::{Decision, SwapError, decide_image, step_zero};

/// The subresource `kubectl debug` writes ephemeral containers through.
pub(crate) const EPHEMERAL_SUBRESOURCE: &str = "ephemeralcontainers";

/// The fields of an admission request the policy reads. Everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdmissionRequest {
    /// CREATE, UPDATE, DELETE or CONNECT.
    #[serde(default)]
    pub operation: String,
    /// The object's group and kind.
    #[serde(default)]
    pub kind: GroupVersionKind,
    /// The subresource, if the request is for one.
    #[serde(default)]
    pub sub_resource: Option<String>,
    /// The object; absent (or `null`) on DELETE.
    #[serde(default)]
    pub object: Option<Value>,
    /// The object before an UPDATE: only its original-images annotation is read.
    #[serde(default)]
    pub old_object: Option<OldObject>,
}

/// The group and kind of a group/version/kind (the version is not read).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GroupVersionKind {
    /// The API group, `""` for the core group.
    #[serde(default)]
    pub group: String,
    /// The kind, as Kubernetes spells it (`Pod`, `Deployment`, …).
    #[serde(default)]
    pub kind: String,
}

/// What the policy reads of `oldObject`: its annotations.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OldObject {
    #[serde(default)]
    metadata: OldMetadata,
}

/// `oldObject.metadata`.
#[derive(Debug, Default, Deserialize)]
struct OldMetadata {
    #[serde(default)]
    annotations: Value,
}

impl OldObject {
    /// The entries of the original-images annotation this object carries (none when it has no
    /// such annotation, or one that is not a JSON object of strings).
    fn originals(&self) -> BTreeMap<String, String> {
        self.metadata
            .annotations
            .get(ORIGINAL_IMAGES_ANNOTATION)
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

/// What reading a request gives: its answer already, or the images to decide.
pub(crate) enum Triage {
    /// The request needs no decision (another operation or kind), or cannot be read.
    Answer(Evaluation),
    /// The request's object and the images in it.
    Decide(Admission),
}

/// A request whose object holds images to decide.
pub(crate) struct Admission {
    pub(crate) object: Value,
    pub(crate) kind: String,
    /// A Pod's `ephemeralcontainers` subresource: only those images, no annotation, no secrets.
    pub(crate) ephemeral_only: bool,
    /// A Pod UPDATE: its `imagePullSecrets` cannot change.
    pub(crate) pod_update: bool,
    /// On UPDATE, the entries of `oldObject`'s original-images annotation; `None` on CREATE.
    pub(crate) previous_originals: Option<BTreeMap<String, String>>,
    pub(crate) sites: Vec<FoundImage>,
    /// The pointers of the object's pod specs, which [`FoundImage::pod_spec`] indexes.
    pub(crate) pod_specs: Vec<String>,
}

impl Admission {
    /// Reads the request: the operation, group, kind and subresource, and every image of the
    /// object, where its kind keeps them (a built-in kind, or one of `custom`).
    pub(crate) fn read(request: AdmissionRequest, custom: &CustomResources) -> Triage {
        let accept = || Triage::Answer(Evaluation::answer(Verdict::Accept));
        let reject = |rejection: Rejection| Triage::Answer(Evaluation::reject(rejection));
        let update = match request.operation.as_str() {
            "CREATE" => false,
            "UPDATE" => true,
            _ => return accept(),
        };
        let GroupVersionKind { group, kind } = request.kind;
        let Some(layout) = custom.layout(&group, &kind) else {
            return accept();
        };
        let is_pod = group.is_empty() && kind == "Pod";
        let ephemeral_only = match request.sub_resource.as_deref().unwrap_or_default() {
            "" => false,
            EPHEMERAL_SUBRESOURCE if is_pod => true,
            _ => return accept(),
        };
        let Some(object) = request.object.filter(|object| !object.is_null()) else {
            return reject(Rejection::NoObject { kind, operation: request.operation });
        };
        let lists: &'static [walk::ImageList] = if ephemeral_only { &[EPHEMERAL] } else { &ALL_LISTS };
        match walk::images(&object, &layout, lists) {
            Ok(Found { sites, pod_specs }) => {
                let previous_originals = update.then(|| request.old_object.unwrap_or_default().originals());
                let pod_update = is_pod && update;
                Triage::Decide(Self { object, kind, ephemeral_only, pod_update, previous_originals, sites, pod_specs })
            }
            Err(error) => reject(Rejection::Object(error)),
        }
    }

    /// The images of the object, as written.
    pub(crate) fn images(&self) -> impl Iterator<Item = &str> {
        self.sites.iter().map(|site| site.image.as_str())
    }

    /// Decides every distinct image of the object once (no host lookups yet), taking the images
    /// the request path parsed already from `parsed`, which must have been made from
    /// [`Admission::images`] (and may have been given more images after them).
    pub(crate) fn decisions<'s>(&self, settings: &'s Settings, parsed: Option<&Relevance>) -> Decisions<'s> {
        // The outcome of each image the request path parsed, by its number there; of any other
        // image, by its text.
        let parsed = parsed.filter(|relevance| relevance.given() >= self.sites.len());
        let mut by_number: Vec<Option<usize>> = vec![None; parsed.map_or(0, Relevance::count)];
        let mut by_image: BTreeMap<&str, usize> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(by_number.len());
        let mut of_site = Vec::with_capacity(self.sites.len());
        for (at, site) in self.sites.iter().enumerate() {
            let mut decide = |image: Option<&Image>| {
                outcomes.push(Outcome::new(settings, &site.image, site.in_custom_resource(), image));
                outcomes.len() - 1
            };
            let known = parsed.and_then(|relevance| relevance.parsed(at));
            let index = match known.and_then(|(number, image)| Some((by_number.get_mut(number)?, image))) {
                Some((Some(index), _)) => *index,
                Some((slot, image)) => *slot.insert(decide(Some(image))),
                None => *by_image.entry(site.image.as_str()).or_insert_with(|| decide(None)),
            };
            of_site.push(index);
        }
        Decisions { outcomes, of_site }
    }

    /// Decides every image and builds the answer.
    pub(crate) fn decide(self, settings: &Settings, targets: &mut dyn TargetLookup) -> Evaluation {
        let decisions = self.decisions(settings, None);
        self.answer(settings, decisions, targets)
    }
}

/// The decision for one distinct image, and what the host said of its target.
#[derive(Debug)]
pub(crate) struct Outcome<'s> {
    pub(crate) decided: Result<Decision, SwapError>,
    /// The pull secret of the registry the image is on as written (docs/behaviour.md §5b).
    pub(crate) own_secret: Option<&'s str>,
    /// The pull secret of the registry the decision swaps it to.
    pub(crate) swapped_secret: Option<&'s str>,
    /// With `checkTargetExists`: the targets looked up and not found, in the order of the list.
    pub(crate) misses: Vec<Miss>,
    /// With `checkTargetExists`: no target of the list was found, so the image stays as written.
    pub(crate) unfound: bool,
}

impl<'s> Outcome<'s> {
    /// Decides `written` (`parsed`, when it was parsed already); `custom`: found in a kind of
    /// `customResources`.
    fn new(settings: &'s Settings, written: &str, custom: bool, parsed: Option<&Image>) -> Self {
        let secret = |registry: &str| settings.pull_secret(registry);
        let decide =
            |image: &Image| (decide_image(&settings.rules, settings.digest, written, image), secret(image.registry()));
        let (decided, own_secret) = match (step_zero(written, custom), parsed) {
            (Some(step), _) => (Ok(Decision::keep(step, None)), None),
            (None, Some(image)) => decide(image),
            (None, None) => match Image::parse(written) {
                Err(error) => (Err(SwapError::Unparseable(error)), None),
                Ok(image) => decide(&image),
            },
        };
        let mut outcome = Self { decided, own_secret, swapped_secret: None, misses: Vec::new(), unfound: false };
        if let Ok(decision) = &mut outcome.decided {
            if decision.swapped.as_deref() == Some(written) {
                decision.swapped = None;
            }
            outcome.swapped_secret = decision.swapped.as_ref().and(decision.registry.as_deref()).and_then(secret);
        }
        outcome
    }

    /// The new image, when the decision changes it.
    pub(crate) fn swap(&self) -> Option<&str> {
        self.decided.as_ref().ok()?.swapped.as_deref()
    }

    /// The new image, moved out: the outcome swaps nothing after this (for its last use).
    pub(crate) fn take_swap(&mut self) -> String {
        self.decided.as_mut().ok().and_then(|decision| decision.swapped.take()).unwrap_or_default()
    }

    /// Whether the swap happens: there is one, and the host found one of its targets.
    pub(crate) fn swaps(&self) -> bool {
        self.swap().is_some() && !self.unfound
    }

    /// The secret for the registry the image ends up on.
    pub(crate) fn secret(&self) -> Option<&'s str> {
        if self.swaps() { self.swapped_secret } else { self.own_secret }
    }

    pub(crate) fn line(&self) -> Option<LineNumber> {
        self.decided.as_ref().ok()?.line
    }

    pub(crate) fn kept_digest(&self) -> bool {
        self.decided.as_ref().is_ok_and(|decision| decision.kept_digest)
    }
}

/// The decisions for every distinct image of an object, and which one each image site uses.
pub(crate) struct Decisions<'s> {
    pub(crate) outcomes: Vec<Outcome<'s>>,
    pub(crate) of_site: Vec<usize>,
}

impl Decisions<'_> {
    /// The new references the request path built whose check "under a target" failed: the
    /// request path reads only the lines that can decide the request's images, so it must read
    /// the lines that can cover these results too before it rejects them.
    pub(crate) fn unchecked_results(&self) -> Vec<&str> {
        let mut results = Vec::new();
        for outcome in &self.outcomes {
            if let Err(SwapError::BadResult { result, .. }) = &outcome.decided {
                results.push(result.as_str());
            }
        }
        results
    }
}

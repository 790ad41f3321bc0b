//! docs/behaviour.md §4 "Objects and fields", §5b, §6 "Reporting what changed" and §6b "Validate mode": read
//! an admission request, decide every distinct image [`crate::object::walk`] finds in its object once,
//! and either edit only those fields (plus the annotation and the pull secrets) of the JSON object,
//! so nothing the policy does not own is dropped, reordered or added, or, in validate mode, reject
//! the request naming every field that mutate mode would change. Both modes come from the same
//! decisions.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::image::normalize::Image;
use crate::lookup::{Lookup, Reason, TargetLookup, look_up};
use crate::map::bytes;
use crate::map::lex::LineNumber;
use crate::map::relevance::Relevance;
use crate::object::listing::listing;
use crate::object::walk::{self, ALL_LISTS, EPHEMERAL, Expected, Found, FoundImage, ObjectError, ObjectErrorKind};
use crate::output::JsonBuffer;
use crate::settings::kinds::CustomResources;
use crate::settings::{Mode, Settings};
use crate::swap::{Decision, DigestPolicy, Step, SwapError, decide_image, step_zero};

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
pub struct GroupVersionKind {
    /// The API group, `""` for the core group.
    #[serde(default)]
    pub group: String,
    /// The kind, as Kubernetes spells it (`Pod`, `Deployment`, …).
    #[serde(default)]
    pub kind: String,
}

/// What the policy reads of `oldObject`: its annotations.
#[derive(Debug, Default, Deserialize)]
pub struct OldObject {
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

/// One image changed by this evaluation (in validate mode: one that must be changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Where the image is, and the image as written.
    site: FoundImage,
    /// The new image.
    pub to: String,
    /// The rule line that decided.
    pub line: LineNumber,
    /// `digest: drop` kept the digest of an image pinned only by it.
    pub kept_digest: bool,
    /// The targets of its ordered list before the one it was swapped to, which were not found.
    pub passed_over: Vec<Miss>,
}

impl Rewrite {
    /// The image as written.
    pub fn from(&self) -> &str {
        &self.site.image
    }

    /// Where the image is (`spec.containers[0].image`).
    pub fn field(&self) -> String {
        self.site.field()
    }

    /// The same place as an RFC 6901 pointer (`/spec/containers/0/image`).
    pub fn pointer(&self) -> &str {
        &self.site.pointer
    }

    /// The annotation key (`web`, `init:setup`, `volume:data`).
    pub fn key(&self) -> Cow<'_, str> {
        self.site.key()
    }
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

/// A target that a lookup did not find (docs/behaviour.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The new reference that was looked up.
    pub target: String,
    /// Why it was not found.
    pub reason: Reason,
    /// The first line of what the host said.
    pub said: String,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.target, self.reason)?;
        if !self.said.is_empty() {
            write!(f, " ({})", self.said)?;
        }
        Ok(())
    }
}

/// How much of the host's text a warning keeps, in characters.
const WARNED_SAID_CHARS: usize = 100;

impl Miss {
    /// The miss as a warning names it: the target and the reason, and the host's text (shortened)
    /// only where the reason alone does not say enough (`failed`; the platforms a target serves).
    /// The log keeps the whole text.
    fn short(&self) -> String {
        if !matches!(self.reason, Reason::Failed | Reason::LacksPlatform(_)) || self.said.is_empty() {
            return format!("{} {}", self.target, self.reason);
        }
        let mut said: String = self.said.chars().take(WARNED_SAID_CHARS).collect();
        if said.len() < self.said.len() {
            said.push('…');
        }
        format!("{} {} ({said})", self.target, self.reason)
    }
}

/// A swap left undone because the host found none of its targets (docs/behaviour.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where the image is.
    pub field: String,
    /// The image, left as written.
    pub image: String,
    /// The rule line that chose the targets.
    pub line: LineNumber,
    /// Every target looked up, in order, and why it was not found.
    pub misses: Vec<Miss>,
}

/// What an evaluation decided, and what to log.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The answer.
    pub verdict: Verdict,
    /// Every image this evaluation changed (in validate mode: every image it found wrong).
    pub rewrites: Vec<Rewrite>,
    /// Swaps left undone because their target was not found (docs/behaviour.md §5).
    pub skipped: Vec<Skipped>,
    /// Pull secrets this evaluation added to the pod specs (docs/behaviour.md §5b; in validate mode: the
    /// ones missing from them), each once.
    pub added_pull_secrets: Vec<String>,
    /// The admission warnings (`kubectl` prints them): one for each image left as written or
    /// swapped to a later target of its list, at most [`WARNED_IMAGES`], then one that counts the
    /// rest (docs/behaviour.md §5).
    pub warnings: Vec<String>,
}

/// How many images the admission warnings name before one warning counts the rest.
pub const WARNED_IMAGES: usize = 20;
/// The longest warning, in bytes: the API server may truncate longer ones.
const WARNING_BYTES: usize = 256;

impl Evaluation {
    /// An answer with nothing to log.
    pub fn answer(verdict: Verdict) -> Self {
        Self {
            verdict,
            rewrites: Vec::new(),
            skipped: Vec::new(),
            added_pull_secrets: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// What reading a request gives: its answer already, or the images to decide.
pub enum Triage {
    /// The request needs no decision (another operation or kind), or cannot be read.
    Answer(Evaluation),
    /// The request's object and the images in it.
    Decide(Admission),
}

/// A request whose object holds images to decide.
pub struct Admission {
    object: Value,
    kind: String,
    /// A Pod's `ephemeralcontainers` subresource: only those images, no annotation, no secrets.
    ephemeral_only: bool,
    /// A Pod UPDATE: its `imagePullSecrets` cannot change.
    pod_update: bool,
    /// On UPDATE, the entries of `oldObject`'s original-images annotation; `None` on CREATE.
    previous_originals: Option<BTreeMap<String, String>>,
    sites: Vec<FoundImage>,
    /// The pointers of the object's pod specs, which [`FoundImage::pod_spec`] indexes.
    pod_specs: Vec<String>,
}

/// How many fields a rejection names before it counts the rest: a hostile Pod may hold tens of
/// thousands of containers, and the message goes back to the API server and the user.
const NAMED_FIELDS: usize = 100;

impl Admission {
    /// Reads the request: the operation, group, kind and subresource, and every image of the
    /// object, where its kind keeps them (a built-in kind, or one of `custom`).
    pub fn read(request: AdmissionRequest, custom: &CustomResources) -> Triage {
        let accept = || Triage::Answer(Evaluation::answer(Verdict::Accept));
        let reject = |message: String| Triage::Answer(Evaluation::answer(Verdict::Reject(message)));
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
            return reject(format!("the {kind} {} request has no object to read", request.operation));
        };
        let lists: &'static [walk::ImageList] = if ephemeral_only { &[EPHEMERAL] } else { &ALL_LISTS };
        match walk::images(&object, &layout, lists) {
            Ok(Found { sites, pod_specs }) => {
                let previous_originals = update.then(|| request.old_object.unwrap_or_default().originals());
                let pod_update = is_pod && update;
                Triage::Decide(Self { object, kind, ephemeral_only, pod_update, previous_originals, sites, pod_specs })
            }
            Err(error) => reject(error.to_string()),
        }
    }

    /// The images of the object, as written.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.sites.iter().map(|site| site.image.as_str())
    }

    /// Decides every distinct image of the object once (no host lookups yet), taking the images
    /// the request path parsed already from `parsed`, which must have been made from
    /// [`Admission::images`] (and may have been given more images after them).
    pub fn decisions<'s>(&self, settings: &'s Settings, parsed: Option<&Relevance>) -> Decisions<'s> {
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

    /// Builds the answer from the decisions: looks targets up (once each) when
    /// `checkTargetExists` asks for it, then mutates the object, or in validate mode accepts or
    /// rejects it.
    pub fn answer<'s>(
        self,
        settings: &'s Settings,
        decisions: Decisions<'s>,
        targets: &mut dyn TargetLookup,
    ) -> Evaluation {
        let Self { mut object, kind, ephemeral_only, pod_update, previous_originals, sites, pod_specs } = self;
        let Decisions { mut outcomes, of_site } = decisions;
        let errors: Vec<(&FoundImage, &SwapError)> = sites
            .iter()
            .zip(&of_site)
            .filter_map(|(site, at)| outcomes.get(*at).and_then(|o| o.decided.as_ref().err()).map(|e| (site, e)))
            .collect();
        if !errors.is_empty() {
            let named = errors.iter().map(|(site, error)| format!("{}: {error}", site.place()));
            return reject(listing(named, errors.len(), NAMED_FIELDS, " images that cannot be decided"));
        }
        if settings.check_target_exists {
            let needed = lookups_needed(&outcomes);
            if needed > settings.max_lookups {
                return reject(format!(
                    "this {kind} needs {needed} registry lookups (its images' distinct targets), more than maxLookups allows ({}); raise maxLookups in the policy settings (at most 1000) or use fewer distinct images",
                    settings.max_lookups
                ));
            }
            look_up_targets(&mut outcomes, targets, settings);
        }
        // Most sites of a request the policy mutates are swapped: the list grows once.
        let mut rewrites = Vec::with_capacity(sites.len());
        let mut skipped = Vec::new();
        let mut warnings = Warnings::new(if settings.check_target_exists { outcomes.len() } else { 0 });
        // The secrets each pod spec needs, in the order of first use.
        let mut needed: Vec<Vec<&str>> = vec![Vec::new(); pod_specs.len()];
        // How many sites use each outcome: the new image of an outcome only one site uses is
        // moved into its rewrite rather than copied (each image of a Pod of distinct images).
        let mut uses = vec![0_u32; outcomes.len()];
        for at in &of_site {
            if let Some(count) = uses.get_mut(*at) {
                *count = count.saturating_add(1);
            }
        }
        for (site, at) in sites.into_iter().zip(of_site) {
            let single = uses.get(at) == Some(&1);
            let Some(outcome) = outcomes.get_mut(at) else { continue };
            let secrets = site.pod_spec().and_then(|pod_spec| needed.get_mut(pod_spec));
            if let (Some(secrets), Some(secret)) = (secrets, outcome.secret())
                && !secrets.contains(&secret)
            {
                secrets.push(secret);
            }
            let (Some(to), Some(line)) = (outcome.swap(), outcome.line()) else { continue };
            if outcome.unfound {
                let field = site.field();
                warnings.add(at, || format!("{field}: {} left as written: {}", site.image, joined(&outcome.misses)));
                skipped.push(Skipped { field, image: site.image, line, misses: outcome.misses.clone() });
                continue;
            }
            if !outcome.misses.is_empty() {
                warnings.add(at, || {
                    format!("{}: {} swapped to {to}: {}", site.field(), site.image, joined(&outcome.misses))
                });
            }
            let kept_digest = outcome.kept_digest();
            let passed_over = outcome.misses.clone();
            let to = if single { outcome.take_swap() } else { to.to_owned() };
            rewrites.push(Rewrite { site, to, line, kept_digest, passed_over });
        }
        let warnings = warnings.finish();
        // The rewrites hold what the answer needs; the memory is reused for the object's edits.
        drop(outcomes);
        if ephemeral_only || pod_update {
            needed.clear();
        }
        let mut missing: Vec<(&str, Vec<&str>)> = Vec::new();
        for (at, needed) in pod_specs.iter().zip(&needed) {
            match missing_pull_secrets(&object, at, needed) {
                Ok(secrets) if secrets.is_empty() => {}
                Ok(secrets) => missing.push((at, secrets)),
                Err(error) => return Evaluation { warnings, ..reject(error.to_string()) },
            }
        }
        let mut added_pull_secrets: Vec<String> = Vec::new();
        for secret in missing.iter().flat_map(|(_, secrets)| secrets) {
            if !added_pull_secrets.iter().any(|added| added == secret) {
                added_pull_secrets.push((*secret).to_owned());
            }
        }
        let verdict = if rewrites.is_empty() && missing.is_empty() {
            Verdict::Accept
        } else {
            let record = settings.record_original_images && !ephemeral_only;
            match settings.mode {
                // Rejected in mutate mode's words when it could not write the annotation.
                Mode::Validate => match annotations_writable(&object, record && !rewrites.is_empty()) {
                    Ok(()) => Verdict::Reject(validate_message(&kind, &rewrites, &missing)),
                    Err(error) => Verdict::Reject(error.to_string()),
                },
                Mode::Mutate => {
                    let originals = record.then_some(previous_originals);
                    match apply(&mut object, &rewrites, originals, &missing) {
                        Ok(()) => Verdict::Mutate(object),
                        Err(error) => Verdict::Reject(error.to_string()),
                    }
                }
            }
        };
        Evaluation { verdict, rewrites, skipped, added_pull_secrets, warnings }
    }

    /// Decides every image and builds the answer.
    pub fn decide(self, settings: &Settings, targets: &mut dyn TargetLookup) -> Evaluation {
        let decisions = self.decisions(settings, None);
        self.answer(settings, decisions, targets)
    }
}

fn reject(message: String) -> Evaluation {
    Evaluation::answer(Verdict::Reject(message))
}

/// The decision for one distinct image, and what the host said of its target.
#[derive(Debug)]
struct Outcome<'s> {
    decided: Result<Decision, SwapError>,
    /// The pull secret of the registry the image is on as written (docs/behaviour.md §5b).
    own_secret: Option<&'s str>,
    /// The pull secret of the registry the decision swaps it to.
    swapped_secret: Option<&'s str>,
    /// With `checkTargetExists`: the targets looked up and not found, in the order of the list.
    misses: Vec<Miss>,
    /// With `checkTargetExists`: no target of the list was found, so the image stays as written.
    unfound: bool,
}

impl<'s> Outcome<'s> {
    /// Decides `written` (`parsed`, when it was parsed already); `custom`: found in a kind of
    /// `customResources`.
    fn new(settings: &'s Settings, written: &str, custom: bool, parsed: Option<&Image>) -> Self {
        let secret = |registry: &str| settings.image_pull_secrets.get(registry).map(String::as_str);
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
    fn swap(&self) -> Option<&str> {
        self.decided.as_ref().ok()?.swapped.as_deref()
    }

    /// The new image, moved out: the outcome swaps nothing after this (for its last use).
    fn take_swap(&mut self) -> String {
        self.decided.as_mut().ok().and_then(|decision| decision.swapped.take()).unwrap_or_default()
    }

    /// Whether the swap happens: there is one, and the host found one of its targets.
    fn swaps(&self) -> bool {
        self.swap().is_some() && !self.unfound
    }

    /// The secret for the registry the image ends up on.
    fn secret(&self) -> Option<&'s str> {
        if self.swaps() { self.swapped_secret } else { self.own_secret }
    }

    fn line(&self) -> Option<LineNumber> {
        self.decided.as_ref().ok()?.line
    }

    fn kept_digest(&self) -> bool {
        self.decided.as_ref().is_ok_and(|decision| decision.kept_digest)
    }
}

/// The decisions for every distinct image of an object, and which one each image site uses.
pub struct Decisions<'s> {
    outcomes: Vec<Outcome<'s>>,
    of_site: Vec<usize>,
}

impl Decisions<'_> {
    /// The new references the request path built whose check "under a target" failed: the
    /// request path reads only the lines that can decide the request's images, so it must read
    /// the lines that can cover these results too before it rejects them.
    pub fn unchecked_results(&self) -> Vec<&str> {
        let mut results = Vec::new();
        for outcome in &self.outcomes {
            if let Err(SwapError::BadResult { result, .. }) = &outcome.decided {
                results.push(result.as_str());
            }
        }
        results
    }
}

/// How many distinct new references the outcomes may look up: every target of every list, so
/// that the budget is known before the first lookup and does not depend on the answers.
fn lookups_needed(outcomes: &[Outcome<'_>]) -> usize {
    let mut references: Vec<&str> = Vec::new();
    for decision in outcomes.iter().filter_map(|outcome| outcome.decided.as_ref().ok()) {
        let Some(first) = decision.swapped.as_deref() else { continue };
        references.push(first);
        references.extend(decision.fallbacks.iter().map(|candidate| candidate.image.as_str()));
    }
    references.sort_unstable();
    references.dedup();
    references.len()
}

/// Asks the host about the targets of each outcome in the order of its list, each distinct
/// reference once, and swaps to the first one found (with `digest: pin`, adding the digest the
/// lookup gave to a reference without one). When none is found, the image stays as written, on
/// its own registry (so its own pull secret applies).
fn look_up_targets<'s>(outcomes: &mut [Outcome<'s>], targets: &mut dyn TargetLookup, settings: &'s Settings) {
    let mut answers: BTreeMap<String, Lookup> = BTreeMap::new();
    let mut ask = |reference: &str| -> Lookup {
        if let Some(known) = answers.get(reference) {
            return known.clone();
        }
        let lookup = look_up(targets, reference, &settings.platforms);
        answers.insert(reference.to_owned(), lookup.clone());
        lookup
    };
    for outcome in outcomes.iter_mut() {
        let Ok(decision) = &mut outcome.decided else { continue };
        // `[EXACT]` targets are used verbatim: `digest: pin` leaves them as written, as `digest:
        // drop` does (a pinned copy would no longer be that target for step 1).
        let pin = settings.digest == DigestPolicy::Pin && decision.step != Step::Exact;
        let Some(first) = decision.swapped.take() else { continue };
        let candidates = std::iter::once((first, decision.registry.take()))
            .chain(decision.fallbacks.drain(..).map(|candidate| (candidate.image, Some(candidate.registry))));
        let mut misses = Vec::new();
        let mut chosen = None;
        for (reference, registry) in candidates {
            match ask(&reference) {
                Lookup::Found { digest } => {
                    let pinned = pin && !reference.contains('@');
                    chosen = Some((if pinned { format!("{reference}@{digest}") } else { reference }, registry));
                    break;
                }
                Lookup::NotFound { reason, said } => misses.push(Miss { target: reference, reason, said }),
            }
        }
        let found = chosen.is_some();
        // An unfound outcome keeps its first target, which the records name.
        let first_target = misses.first().map(|miss| miss.target.clone());
        let (swapped, registry) = chosen.unwrap_or((first_target.unwrap_or_default(), None));
        decision.swapped = Some(swapped);
        decision.registry = registry;
        outcome.swapped_secret = decision
            .registry
            .as_deref()
            .and_then(|registry| settings.image_pull_secrets.get(registry).map(String::as_str));
        outcome.unfound = !found;
        outcome.misses = misses;
    }
}

/// The misses of one image, as a warning names them: `target reason (what the host said…); …`.
fn joined(misses: &[Miss]) -> String {
    misses.iter().map(Miss::short).collect::<Vec<_>>().join("; ")
}

/// The admission warnings of one evaluation: one per outcome (distinct image), at most
/// [`WARNED_IMAGES`], then one that counts the rest.
struct Warnings {
    texts: Vec<String>,
    /// Whether each outcome was warned about.
    warned: Vec<bool>,
    more: usize,
}

impl Warnings {
    fn new(outcomes: usize) -> Self {
        Self { texts: Vec::new(), warned: vec![false; outcomes], more: 0 }
    }

    /// Warns once about outcome `at`, with the text `say` makes.
    fn add(&mut self, at: usize, say: impl FnOnce() -> String) {
        match self.warned.get_mut(at) {
            Some(warned) if !*warned => *warned = true,
            _ => return,
        }
        if self.texts.len() < WARNED_IMAGES {
            let mut text = say();
            if text.len() > WARNING_BYTES {
                let mut end = WARNING_BYTES - '…'.len_utf8();
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push('…');
            }
            self.texts.push(text);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.texts.push(format!(
                "and {} more images whose targets were not found (the policy-server's log names them)",
                self.more
            ));
        }
        self.texts
    }
}

/// The secrets of `needed` that the `imagePullSecrets` of the pod spec at `at` does not list yet
/// (docs/behaviour.md §5b).
fn missing_pull_secrets<'n>(object: &Value, at: &str, needed: &[&'n str]) -> Result<Vec<&'n str>, ObjectError> {
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let listed = walk::at(object, at).and_then(|spec| spec.get("imagePullSecrets")).filter(|list| !list.is_null());
    let entries = match listed {
        None => &[][..],
        Some(list) => {
            list.as_array().ok_or_else(|| ObjectError::wrong_type(&format!("{at}/imagePullSecrets"), Expected::List))?
        }
    };
    let listed = |secret: &str| entries.iter().any(|entry| entry.get("name").and_then(Value::as_str) == Some(secret));
    Ok(needed.iter().copied().filter(|secret| !listed(secret)).collect())
}

/// The validate-mode rejection: every image that mutate mode would change, with the image it must
/// be and the rule's line, and every pull secret it would add to each pod spec.
fn validate_message(kind: &str, rewrites: &[Rewrite], missing: &[(&str, Vec<&str>)]) -> String {
    let images = rewrites.iter().map(|rewrite| {
        format!(
            "{}: image {:?} must be {:?} (swap map line {})",
            rewrite.site.place(),
            rewrite.from(),
            rewrite.to,
            rewrite.line
        )
    });
    let secrets = missing.iter().flat_map(|(at, secrets)| {
        secrets
            .iter()
            .map(move |secret| format!("{}.imagePullSecrets must list the secret {secret:?}", walk::dotted(at)))
    });
    let total = rewrites.len() + missing.iter().map(|(_, secrets)| secrets.len()).sum::<usize>();
    let mut text = format!("this {kind} does not use the images the swap map requires: ");
    text.push_str(&listing(images.chain(secrets), total, NAMED_FIELDS, " fields"));
    text
}

/// Writes the new images, the missing pull secrets of each pod spec and, when `originals` is
/// given, the original-images annotation: this evaluation's entries, merged into those of
/// `oldObject` on UPDATE (`Some(Some(..))`), alone on CREATE (`Some(None)`). A value the user
/// wrote is replaced.
fn apply(
    object: &mut Value,
    rewrites: &[Rewrite],
    originals: Option<Option<BTreeMap<String, String>>>,
    missing: &[(&str, Vec<&str>)],
) -> Result<(), ObjectError> {
    walk::write_images(object, rewrites, |rewrite| &rewrite.site, |rewrite| Value::String(rewrite.to.clone()));
    for (at, secrets) in missing {
        add_pull_secrets(object, at, secrets)?;
    }
    match originals {
        Some(previous) if !rewrites.is_empty() => record_originals(object, rewrites, previous.unwrap_or_default()),
        _ => Ok(()),
    }
}

/// Appends each secret to the `imagePullSecrets` of the pod spec at `at` (creating the list).
fn add_pull_secrets(object: &mut Value, at: &str, secrets: &[&str]) -> Result<(), ObjectError> {
    let Some(spec) = walk::at_mut(object, at).and_then(Value::as_object_mut) else {
        return Ok(());
    };
    let list = spec.entry("imagePullSecrets").or_insert(Value::Null);
    if list.is_null() {
        *list = Value::Array(Vec::new());
    }
    let entries = list
        .as_array_mut()
        .ok_or_else(|| ObjectError::wrong_type(&format!("{at}/imagePullSecrets"), Expected::List))?;
    entries.extend(secrets.iter().map(|secret| serde_json::json!({ "name": secret })));
    Ok(())
}

/// Writes `previous` with `key → original image` of every rewrite merged in as the annotation of
/// the object's own metadata.
fn record_originals(
    object: &mut Value,
    rewrites: &[Rewrite],
    mut originals: BTreeMap<String, String>,
) -> Result<(), ObjectError> {
    let not_object = |at: &str| ObjectError::wrong_type(at, Expected::Object);
    let root = object.as_object_mut().ok_or_else(|| ObjectError::wrong_type("", Expected::Object))?;
    let metadata = object_entry(root, "metadata").ok_or_else(|| not_object("/metadata"))?;
    let annotations = object_entry(metadata, "annotations").ok_or_else(|| not_object("/metadata/annotations"))?;
    let ours = entries(rewrites);
    // On CREATE there is nothing to merge into (and a large Pod has many entries).
    let text = if originals.is_empty() {
        // Written into a buffer of its size: `{"key":"image",…}`, more where a key needs escapes.
        let size = ours.iter().map(|(_, key, image)| key.len() + image.len() + 6).sum::<usize>() + 2;
        let mut text = JsonBuffer::with_capacity(size);
        serde_json::to_writer(&mut text, &Entries(&ours))
            .map_err(|e| e.to_string())
            .and_then(|()| String::from_utf8(text.into_bytes()).map_err(|e| e.to_string()))
    } else {
        originals.extend(ours.into_iter().map(|(_, key, image)| (key.into_owned(), image.to_owned())));
        serde_json::to_string(&originals).map_err(|e| e.to_string())
    };
    let text = text.map_err(|e| ObjectError {
        place: None,
        kind: ObjectErrorKind::Annotation(format!("{ORIGINAL_IMAGES_ANNOTATION}: {e}")),
    })?;
    annotations.insert(ORIGINAL_IMAGES_ANNOTATION.to_owned(), Value::String(text));
    Ok(())
}

/// This evaluation's entries of the annotation, `key → original image`, sorted by key. A key this
/// evaluation wrote already (two pod specs of a custom resource with a container of the same
/// name) gives way to the field of the later image. A sort, not a tree: a large Pod has tens of
/// thousands of entries, and keys repeat only in such custom resources (or hostile requests).
fn entries(rewrites: &[Rewrite]) -> Vec<Original<'_>> {
    let mut sorted: Vec<Original<'_>> = rewrites
        .iter()
        .map(|rewrite| {
            let key = rewrite.key();
            (head_number(&key), key, rewrite.from())
        })
        .collect();
    sorted.sort_unstable_by(by_key);
    if !sorted.windows(2).any(|pair| matches!(pair, [(_, a, _), (_, b, _)] if a == b)) {
        return sorted;
    }
    let mut ours: BTreeMap<String, &str> = BTreeMap::new();
    for rewrite in rewrites {
        let key = rewrite.key().into_owned();
        let key = if ours.contains_key(&key) { rewrite.field() } else { key };
        ours.insert(key, rewrite.from());
    }
    ours.into_iter().map(|(key, image)| (head_number(&key), Cow::Owned(key), image)).collect()
}

/// An entry of the annotation: [`head_number`] of its key, its key and the original image.
type Original<'r> = (u64, Cow<'r, str>, &'r str);

/// The order of entries by their keys' text. By [`head_number`] first: most keys (container
/// names) differ in their first eight bytes, and a number compares faster than text. Keys equal
/// there (names a tenant chose to share a beginning) compare eight bytes at a time.
fn by_key((a, a_key, _): &Original<'_>, (b, b_key, _): &Original<'_>) -> Ordering {
    a.cmp(b).then_with(|| bytes::compare(a_key.as_bytes(), b_key.as_bytes()))
}

/// The first eight bytes of `text` as a big-endian number, zero-padded: numbers compare as the
/// texts' first eight bytes do (texts equal there compare by the rest).
fn head_number(text: &str) -> u64 {
    let mut head = [0; 8];
    for (slot, byte) in head.iter_mut().zip(text.bytes()) {
        *slot = byte;
    }
    u64::from_be_bytes(head)
}

/// Entries sorted by key, without repeats, serialised as a JSON object.
struct Entries<'e>(&'e [Original<'e>]);

impl serde::Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(_, key, image)| (key, image)))
    }
}

/// Whether [`record_originals`] can write the annotation: the object, its `metadata` and their
/// `annotations` are objects where present (read only, for validate mode).
fn annotations_writable(object: &Value, record: bool) -> Result<(), ObjectError> {
    if !record {
        return Ok(());
    }
    let root = object.as_object().ok_or_else(|| ObjectError::wrong_type("", Expected::Object))?;
    let metadata = match root.get("metadata") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(metadata)) => metadata,
        Some(_) => return Err(ObjectError::wrong_type("/metadata", Expected::Object)),
    };
    match metadata.get("annotations") {
        None | Some(Value::Null | Value::Object(_)) => Ok(()),
        Some(_) => Err(ObjectError::wrong_type("/metadata/annotations", Expected::Object)),
    }
}

/// The object under `key`, created when absent or `null`; `None` when it is something else.
fn object_entry<'m>(map: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Map<String, Value>> {
    let slot = map.entry(key.to_owned()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries ordered [`by_key`] are in the order of their keys' texts: for
    /// every pair of keys that are short, eight bytes long, longer, share a head, hold a NUL byte
    /// or a character of several bytes.
    #[test]
    fn entries_sort_by_key_as_by_their_keys_text() {
        let keys = [
            "",
            "a",
            "a\0",
            "a\0b",
            "c1",
            "c10",
            "c2",
            "init:a",
            "init:abcdefgh",
            "init:abcdefgi",
            "abcdefgh",
            "abcdefg",
            "abcdefgh0",
            "abcdefgi",
            "volume:x",
            "é",
            "éa",
            "z",
            "\u{7f}",
            "ÿ",
            "containers[0]",
            "containers[10]",
        ];
        for a in keys {
            for b in keys {
                let entry = |key: &'static str| (head_number(key), Cow::Borrowed(key), "");
                assert_eq!(by_key(&entry(a), &entry(b)), a.cmp(b), "{a:?} and {b:?}");
            }
        }
    }
}

//! What the operator tools (the `imageswap explain` CLI and the browser playground) show for one
//! image: the policy's own decision, with the rule line and the reason in words.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::image::normalize::Image;
use crate::lookup::{Miss, Platform, TargetLookup, first_found, look_up};
use crate::map::lex::LineNumber;
use crate::map::rules::Rules;
use crate::object::walk::{Found, dotted};
use crate::settings::Settings;
use crate::swap::{DigestPolicy, Step, decide_in};

/// The decision for one image, as the tools show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The image as written.
    pub image: String,
    /// Where the image is in an object (`spec.containers[0].image`), when it comes from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The pod spec the image is in (`spec.template.spec`), when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_spec: Option<String>,
    /// The new reference; `None` when the image is left as written (or cannot be decided).
    pub new: Option<String>,
    /// The rule line that decided; `None` (`null` in JSON) when no line did.
    pub line: Option<LineNumber>,
    /// The step of docs/behaviour.md §3 that decided; `None` when the image cannot be decided. In
    /// JSON its name (`Exact`, `Prefix`, …), empty for none.
    #[serde(serialize_with = "step_name")]
    pub step: Option<Step>,
    /// Why, in words.
    pub reason: String,
    /// `digest: drop` kept the digest of an image pinned only by it.
    pub kept_digest: bool,
    /// Why the image cannot be decided (the policy rejects the request with this message).
    pub error: Option<String>,
    /// With an ordered list of targets (docs/behaviour.md §5): the new reference each target
    /// gives, in order (`new` is the first until lookups say otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// After [`Explanation::look_up`]: each target asked, in order, and what the lookup said
    /// (`a.example.com/library/nginx:1.25 missing`, `… found`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<String>,
    /// Left alone at step 0 (a placeholder or a template expression), before every rule.
    #[serde(skip)]
    step_zero: bool,
}

/// Decides every image an object holds (found where the policy finds them), each with its field
/// and pod spec.
pub fn explain_found(rules: &Rules, digest: DigestPolicy, found: &Found) -> Vec<Explanation> {
    found
        .sites
        .iter()
        .map(|site| Explanation {
            field: Some(site.field()),
            pod_spec: site.pod_spec().and_then(|index| found.pod_specs.get(index)).map(|at| dotted(at)),
            ..explain_in(rules, digest, &site.image, site.in_custom_resource())
        })
        .collect()
}

/// Decides `image` as the policy does and says why.
pub fn explain(rules: &Rules, digest: DigestPolicy, image: &str) -> Explanation {
    explain_in(rules, digest, image, false)
}

/// [`explain`] for an image found in an object; `custom`: in a kind of `customResources`.
fn explain_in(rules: &Rules, digest: DigestPolicy, image: &str, custom: bool) -> Explanation {
    match decide_in(rules, digest, image, custom) {
        Ok(decision) => Explanation {
            image: image.to_owned(),
            field: None,
            pod_spec: None,
            targets: if decision.fallbacks.is_empty() {
                Vec::new()
            } else {
                decision.swapped.iter().cloned().chain(decision.fallbacks.into_iter().map(|c| c.image)).collect()
            },
            lookups: Vec::new(),
            new: decision.swapped.filter(|new| new != image),
            line: decision.line,
            step: Some(decision.step),
            reason: decision.step.reason().to_owned(),
            kept_digest: decision.kept_digest,
            error: None,
            step_zero: decision.step.is_step_zero(),
        },
        Err(error) => Explanation {
            image: image.to_owned(),
            field: None,
            pod_spec: None,
            new: None,
            line: None,
            step: None,
            reason: String::new(),
            kept_digest: false,
            error: Some(error.to_string()),
            targets: Vec::new(),
            lookups: Vec::new(),
            step_zero: false,
        },
    }
}

impl Explanation {
    /// Asks `host` about the targets in order, as the policy does with `checkTargetExists` and
    /// these `platforms`: the first target found becomes `new` (with `digest: pin`, with the digest
    /// the lookup gave), and when none is found the image is left as written. Each answer is
    /// recorded in `lookups`.
    pub fn look_up(&mut self, digest: DigestPolicy, platforms: &[Platform], host: &mut dyn TargetLookup) {
        let Some(first) = self.new.take() else { return };
        let candidates = if self.targets.is_empty() { vec![first] } else { self.targets.clone() };
        let pin = self.step.is_some_and(|step| digest.pins(step));
        let tried =
            first_found(candidates.iter().map(String::as_str), pin, |reference| look_up(host, reference, platforms));
        self.lookups = tried.misses.iter().map(Miss::to_string).collect();
        if let Some((at, reference)) = tried.found {
            self.lookups.extend(candidates.get(at).map(|target| format!("{target} found")));
            self.new = Some(reference);
        }
    }
}

impl Explanation {
    /// Whether the image could be decided.
    pub fn is_decided(&self) -> bool {
        self.error.is_none()
    }
}

impl fmt::Display for Explanation {
    /// `nginx (spec.containers[0].image) -> mirror.example.com/library/nginx   (default, line 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.image)?;
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        if let Some(error) = &self.error {
            return write!(f, ": {error}");
        }
        let mut rule = self.line.map(|line| format!(", line {line}")).unwrap_or_default();
        if !self.lookups.is_empty() {
            rule = format!("{rule}; {}", self.lookups.join("; "));
        } else if let [_, later @ ..] = self.targets.as_slice() {
            rule = format!("{rule}; when not found: {}", later.join(", then "));
        }
        match &self.new {
            Some(new) => write!(f, " -> {new}   ({}{rule})", self.reason),
            None => write!(f, " left as written   ({}{rule})", self.reason),
        }
    }
}

/// The pull secrets each pod spec of the explained images must list once they are decided
/// (docs/behaviour.md §5b): per pod spec (`spec.template.spec`), in the order of first use, the
/// secret of the registry each of its images ends up on. Images outside a pod spec, those left
/// alone at step 0 (placeholders, template expressions) and those that cannot be decided need none.
pub fn explained_pull_secrets<'s>(settings: &'s Settings, explanations: &[Explanation]) -> Vec<(String, Vec<&'s str>)> {
    let mut by_pod_spec: Vec<(String, Vec<&'s str>)> = Vec::new();
    // A pod spec → its place in `by_pod_spec`; and the (pod spec, secret) pairs listed already.
    let mut places: BTreeMap<&str, usize> = BTreeMap::new();
    let mut listed: BTreeSet<(&str, &str)> = BTreeSet::new();
    for explanation in explanations.iter().filter(|e| e.is_decided() && !e.step_zero) {
        let Some(pod_spec) = explanation.pod_spec.as_deref() else { continue };
        let image = explanation.new.as_deref().unwrap_or(&explanation.image);
        let Some(secret) = Image::parse(image).ok().and_then(|image| settings.pull_secret(image.registry())) else {
            continue;
        };
        if !listed.insert((pod_spec, secret)) {
            continue;
        }
        let place = *places.entry(pod_spec).or_insert_with(|| {
            by_pod_spec.push((pod_spec.to_owned(), Vec::new()));
            by_pod_spec.len() - 1
        });
        if let Some((_, secrets)) = by_pod_spec.get_mut(place) {
            secrets.push(secret);
        }
    }
    by_pod_spec
}

/// A step as the JSON of an explanation names it: its name, empty for none.
fn step_name<S: serde::Serializer>(step: &Option<Step>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(step.map_or("", Step::as_str))
}

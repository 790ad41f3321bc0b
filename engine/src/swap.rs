//! docs/behaviour.md §3 "How an image is decided" and "How the new reference is built": one image, one
//! [`Decision`]. The first step that decides wins.

use std::fmt;

use crate::image::Placeholder;
use crate::image::normalize::Image;
use crate::image::reference::{DOCKER_HUB, MAX_PATH_LEN, RefError, with_suffix};
use crate::map::lex::LineNumber;
use crate::map::relevance::RequestRules;
use crate::map::rules::{AtLine, Rules};
use crate::map::targets::{RegistryTarget, Shape};
use crate::text::split_once_byte;

/// What a swap does with a digest (`digest` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DigestPolicy {
    /// Keep `@sha256:…` as written.
    #[default]
    Keep,
    /// Drop the digest of a swapped image that also has a tag.
    Drop,
    /// Keep a digest as written, and give a swapped image without one the digest its target's
    /// lookup returned (docs/behaviour.md §5 "Digest pinning"; needs `checkTargetExists`).
    Pin,
}

impl DigestPolicy {
    /// Whether a swap decided at `step` gets the digest its lookup found (`digest: pin`): every
    /// swap but to an `[EXACT]` target, which is used verbatim, as `digest: drop` leaves it (a
    /// pinned copy would no longer be that target for step 1).
    pub(crate) fn pins(self, step: Step) -> bool {
        self == Self::Pin && step != Step::Exact
    }
}

/// The step of docs/behaviour.md §3 that decided an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// 0: the image is empty or blank, a placeholder that other tools fill in (OpenShift's image
    /// triggers write `" "` in templates).
    Placeholder,
    /// 0: the image is exactly `auto`, Istio's injection placeholder, which its injector replaces
    /// with the proxy image only while it is still `auto`.
    IstioAuto,
    /// 0: in a kind of `customResources`, the image holds a template expression of the kind's
    /// controller (`$(params.image)`, `{{inputs.parameters.image}}`, `${IMAGE}`), which the
    /// controller substitutes before it creates the Pod, and the Pod is decided then.
    Template,
    /// 1: the image is already under a target.
    AlreadySwapped,
    /// 2: an `[EXACT]` key.
    Exact,
    /// 3: a `[REPLACE]` glob.
    Replace,
    /// 4: a registry/path key.
    Prefix,
    /// 5: `noswap_wildcards`.
    Noswap,
    /// 6: `default`.
    Default,
    /// No rule applies.
    NoRule,
}

impl Step {
    /// Its stable name, what the CLI's JSON and the case tables show: `Placeholder`, `IstioAuto`,
    /// `Template`, `AlreadySwapped`, `Exact`, `Replace`, `Prefix`, `Noswap`, `Default`, `NoRule`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placeholder => "Placeholder",
            Self::IstioAuto => "IstioAuto",
            Self::Template => "Template",
            Self::AlreadySwapped => "AlreadySwapped",
            Self::Exact => "Exact",
            Self::Replace => "Replace",
            Self::Prefix => "Prefix",
            Self::Noswap => "Noswap",
            Self::Default => "Default",
            Self::NoRule => "NoRule",
        }
    }

    /// Whether the step leaves an image alone before every rule (step 0), so that it needs no pull
    /// secret.
    pub fn is_step_zero(self) -> bool {
        matches!(self, Self::Placeholder | Self::IstioAuto | Self::Template)
    }

    /// Why this step decided, in docs/behaviour.md §3's words (what the CLI and the playground show).
    pub fn reason(self) -> &'static str {
        match self {
            Self::Placeholder => "placeholder: an empty or blank image, left for the tool that fills it in",
            Self::IstioAuto => "placeholder: Istio's `auto`, which its injector replaces with the proxy image",
            Self::Template => {
                "template expression: the controller substitutes it, and the Pod it creates is decided then"
            }
            Self::AlreadySwapped => "already under the target of this line",
            Self::Exact => "[EXACT] key",
            Self::Replace => "[REPLACE] glob",
            Self::Prefix => "registry/path key (longest match)",
            Self::Noswap => "noswap_wildcards pattern",
            Self::Default => "default",
            Self::NoRule => "no rule applies",
        }
    }
}

/// The decision for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The step that decided.
    pub step: Step,
    /// The rule line that decided; `None` when no line did.
    pub line: Option<LineNumber>,
    /// The new reference, or `None` to leave the image as written.
    pub swapped: Option<String>,
    /// `digest: drop` could not drop the digest, because the image is pinned only by it.
    pub kept_digest: bool,
    /// The canonical registry of `swapped` (what its pull secret is looked up by).
    pub registry: Option<String>,
    /// With an ordered list of targets (docs/behaviour.md §5): the new references of the later
    /// targets, in order, tried when the ones before are not found.
    pub fallbacks: Vec<Candidate>,
}

/// A new reference built for one target of an ordered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The new reference.
    pub image: String,
    /// Its canonical registry (what its pull secret is looked up by).
    pub registry: String,
}

/// Why an image cannot be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SwapError {
    /// The image does not parse: it could never be pulled.
    Unparseable(RefError),
    /// The rebuilt reference is not a valid reference under the rule's target (so step 1 would not
    /// leave it alone next time, and the policy would not be idempotent).
    BadResult {
        /// The image as written.
        image: String,
        /// What the rule would have produced.
        result: String,
        /// The rule's line.
        line: LineNumber,
        /// How to fix the map.
        hint: FixHint,
    },
}

impl fmt::Display for SwapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unparseable(error) => error.fmt(f),
            Self::BadResult { image, result, line, hint } => write!(
                f,
                "the rule on line {line} turns {image:?} into {result:?}, which is not an image under the rule's target; {hint}"
            ),
        }
    }
}

impl std::error::Error for SwapError {}

impl Decision {
    /// Leaves the image as written, decided by `step` on `line` (`None` when no line did).
    pub fn keep(step: Step, line: Option<LineNumber>) -> Self {
        Self { step, line, swapped: None, kept_digest: false, registry: None, fallbacks: Vec::new() }
    }
}

/// Step 0: the placeholder step an image is, if it is one ([`crate::image::placeholder`]).
pub(crate) fn placeholder(written: &str) -> Option<Step> {
    crate::image::placeholder(written).map(|placeholder| match placeholder {
        Placeholder::Blank => Step::Placeholder,
        Placeholder::IstioAuto => Step::IstioAuto,
    })
}

/// The openings of the template expressions of the controllers of custom resources: Tekton's
/// `$(params.image)`, Argo Workflows' `{{inputs.parameters.image}}`, `${IMAGE}` of Knative and
/// shell-like substitution.
const TEMPLATE_OPENINGS: [&str; 3] = ["$(", "{{", "${"];

/// Step 0: the step that leaves `written` alone before every rule, if one does: a placeholder
/// ([`placeholder`]) and, in a kind of `customResources` (`custom`), an image holding a template
/// expression of its controller.
pub(crate) fn step_zero(written: &str, custom: bool) -> Option<Step> {
    placeholder(written).or_else(|| {
        (custom && TEMPLATE_OPENINGS.iter().any(|opening| written.contains(opening))).then_some(Step::Template)
    })
}

impl RequestRules {
    /// [`decide`] with the lines one request reads: the whole map's decision for the images the
    /// index was built for.
    pub fn decide(&self, digest: DigestPolicy, written: &str) -> Result<Decision, SwapError> {
        decide(&self.0, digest, written)
    }
}

/// Decides one image against the map (docs/behaviour.md §3 steps 0 to 6).
pub fn decide(rules: &Rules, digest: DigestPolicy, written: &str) -> Result<Decision, SwapError> {
    decide_in(rules, digest, written, false)
}

/// [`decide`] for an image found in an object; `custom`: in a kind of `customResources`.
pub(crate) fn decide_in(
    rules: &Rules,
    digest: DigestPolicy,
    written: &str,
    custom: bool,
) -> Result<Decision, SwapError> {
    if let Some(step) = step_zero(written, custom) {
        return Ok(Decision::keep(step, None));
    }
    let image = Image::parse(written).map_err(SwapError::Unparseable)?;
    decide_image(rules, digest, written, &image)
}

/// [`decide`] for an image already parsed (`image` is `written`, parsed), which is no placeholder.
pub(crate) fn decide_image(
    rules: &Rules,
    digest: DigestPolicy,
    written: &str,
    image: &Image,
) -> Result<Decision, SwapError> {
    // The identity `[EXACT]` compares is two copies of the image's parts: made only when the map
    // (as the request path read it) has `[EXACT]` keys or targets at all.
    let id = rules.has_exact().then(|| image.exact_id());
    let over = match &id {
        Some(id) => rules.targets().target_over_identity(id),
        None => rules.targets().target_over_name(image.name()),
    };
    if let Some(line) = over {
        return Ok(Decision::keep(Step::AlreadySwapped, Some(line)));
    }
    if let Some(rule) = id.as_ref().and_then(|id| rules.exact_rule(id)) {
        let swapped = rule.target.as_ref().map(|target| target.written.clone());
        let registry = rule.target.as_ref().map(|target| target.registry.clone());
        let fallbacks = (rule.fallbacks.iter())
            .map(|target| Candidate { image: target.written.clone(), registry: target.registry.clone() })
            .collect();
        return Ok(Decision {
            step: Step::Exact,
            line: Some(rule.line),
            swapped,
            kept_digest: false,
            registry,
            fallbacks,
        });
    }
    // Every spelling of the image, made only when a glob or a noswap pattern needs them.
    let matched = |glob: &crate::image::glob::Glob| image.forms().any(|form| glob.matches(form));
    if let Some(replace) = rules.replace_rules().iter().find(|r| matched(&r.glob)) {
        return rebuild(rules, image, written, digest, Step::Replace, &replace.rule, |target, room| {
            join(target, image.repository_name(), room)
        });
    }
    if let Some(prefix) = rules.prefix_rule(image) {
        return rebuild(rules, image, written, digest, Step::Prefix, &prefix.rule, |target, room| {
            registry_join(target, image, prefix.depth, room)
        });
    }
    if let Some((line, globs)) = rules.noswap()
        && globs.iter().any(matched)
    {
        return Ok(Decision::keep(Step::Noswap, Some(line)));
    }
    match rules.default_rule() {
        Some(default) => rebuild(rules, image, written, digest, Step::Default, default, |target, room| {
            registry_join(target, image, 0, room)
        }),
        None => Ok(Decision::keep(Step::NoRule, None)),
    }
}

/// `target` + `/` + `rest`, without doubling a trailing `/`, with `room` bytes to spare (for the
/// tag and digest that follow).
fn join(target: &RegistryTarget, rest: &str, room: usize) -> String {
    let separator = match target.shape {
        Shape::Slash | Shape::Dash => "",
        Shape::Plain if rest.is_empty() => "",
        Shape::Plain => "/",
    };
    let mut joined = String::with_capacity(target.written.len() + separator.len() + rest.len() + room);
    for part in [target.written.as_str(), separator, rest] {
        joined.push_str(part);
    }
    joined
}

/// A registry/path/default swap: the rest of the canonical name after the registry and the key's
/// `depth` path components, or the whole canonical name for targets ending in `/` or `-`.
fn registry_join(target: &RegistryTarget, image: &Image, depth: usize, room: usize) -> String {
    match target.shape {
        Shape::Slash | Shape::Dash => join(target, image.name(), room),
        Shape::Plain => join(target, after_components(image.path(), depth), room),
    }
}

/// `path` without its first `depth` components (empty when it has no more), a slice of it.
fn after_components(path: &str, depth: usize) -> &str {
    (0..depth).fold(path, |rest, _| split_once_byte(rest, b'/').map_or("", |(_, after)| after))
}

/// Builds the new reference for a rule with a target (for each target of an ordered list), adds
/// tag and digest, and checks the result.
fn rebuild(
    rules: &Rules,
    image: &Image,
    written: &str,
    policy: DigestPolicy,
    step: Step,
    rule: &AtLine<RegistryTarget>,
    name: impl Fn(&RegistryTarget, usize) -> String,
) -> Result<Decision, SwapError> {
    let Some(target) = &rule.target else {
        return Ok(Decision::keep(step, Some(rule.line)));
    };
    let drop_digest = policy == DigestPolicy::Drop && image.tag().is_some();
    let digest = if drop_digest { None } else { image.digest() };
    let suffix = |part: Option<&str>| part.map_or(0, |part| part.len() + 1);
    let room = suffix(image.tag()) + suffix(digest);
    let build = |target: &RegistryTarget| {
        let name = name(target, room);
        let plainly = plainly_under(target, &name);
        let result = with_suffix(name, image.tag(), digest);
        if plainly || lands_on_target(rules, target, &result) {
            return Ok(result);
        }
        Err(SwapError::BadResult {
            image: written.to_owned(),
            hint: fix_hint(image, target, rule.line),
            result,
            line: rule.line,
        })
    };
    let swapped = build(target)?;
    let fallbacks = (rule.fallbacks.iter())
        .map(|target| build(target).map(|image| Candidate { image, registry: target.registry.clone() }))
        .collect::<Result<_, _>>()?;
    let kept_digest = policy == DigestPolicy::Drop && image.digest().is_some() && !drop_digest;
    Ok(Decision {
        step,
        line: Some(rule.line),
        swapped: Some(swapped),
        kept_digest,
        registry: Some(target.registry.clone()),
        fallbacks,
    })
}

/// Whether `result` is an image on `target`'s registry and under a target in the sense of step 1,
/// so that the next evaluation leaves it alone (`docker.io/x` as a target names Docker Hub's
/// `library/x`: a result that lands there is not under `docker.io/x`; found by fuzzing).
fn lands_on_target(rules: &Rules, target: &RegistryTarget, result: &str) -> bool {
    Image::parse(result).is_ok_and(|new| {
        new.registry() == target.registry && !new.path().is_empty() && rules.targets().target_over_image(&new).is_some()
    })
}

/// Whether `name`, built by [`join`] from a plain `target` and whole components of a parsed
/// image's path, is an image under `target` without parsing it (most swaps are of this kind, and
/// parsing every result again is a large Pod's second parse). It is, when the target is on
/// a registry other than Docker Hub (whose one-component paths gain `library/`), at least one
/// component was joined to it (so the path goes on past the target's own), and the path is within
/// the grammar's length: the target was checked when the map was read (its registry folds to
/// `target.registry` however it is spelled), and the components, tag and digest come from a parsed
/// image. Anything else is left to [`lands_on_target`]; a test checks that this never says yes
/// where that says no.
fn plainly_under(target: &RegistryTarget, name: &str) -> bool {
    target.shape == Shape::Plain
        && target.registry != DOCKER_HUB
        && name.len() > target.written.len()
        // Off Docker Hub the canonical registry is the written one in lower case, as long: what
        // follows it and its `/` is the path.
        && name.len() - target.registry.len() - 1 <= MAX_PATH_LEN
}

/// How to fix a map whose rule builds a reference that is not under its target.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FixHint {
    /// A target ending in `/` or `-` keeps the image's registry in the path, and that registry
    /// cannot stand there (`localhost:5000`): leave that registry alone, or give it a rule.
    LeaveRegistryAlone {
        /// The image's registry.
        registry: String,
    },
    /// A plain target took the whole path: give it a path that keeps a repository name.
    KeepRepositoryName {
        /// The rule's line.
        line: LineNumber,
        /// The target as written.
        target: String,
        /// The image's repository name, an example of what the target could end with.
        repository: String,
    },
}

impl fmt::Display for FixHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LeaveRegistryAlone { registry } => write!(
                f,
                "add `{registry}::` to the map to leave images of that registry alone, or give it a rule of its own"
            ),
            Self::KeepRepositoryName { line, target, repository } => write!(
                f,
                "give the target on line {line} a path that keeps a repository name (for example `{target}/{repository}`)"
            ),
        }
    }
}

/// How to fix a map whose rule builds an invalid reference.
fn fix_hint(image: &Image, target: &RegistryTarget, line: LineNumber) -> FixHint {
    match target.shape {
        Shape::Slash | Shape::Dash => FixHint::LeaveRegistryAlone { registry: image.registry().to_owned() },
        Shape::Plain => FixHint::KeepRepositoryName {
            line,
            target: target.written.clone(),
            repository: image.repository_name().to_owned(),
        },
    }
}

/// The shortcut of [`rebuild`] against the check it skips, on every image of the reference
/// vectors under plain targets of every spelling, at every depth.
#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::Value;

    #[test]
    fn a_plain_result_is_under_its_target_whenever_the_shortcut_says_so() {
        let vectors: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/cases/reference-vectors.json")).unwrap();
        // And a repository name that Docker Hub's `library/` would push past the length limit.
        let longest_name = format!("quay.io/{}", "a".repeat(250));
        let inputs = vectors.iter().filter_map(|v| v.get("input")?.as_str()).chain([longest_name.as_str()]);
        let images: Vec<Image> = inputs.filter_map(|input| Image::parse(input).ok()).collect();
        assert!(images.len() > 50, "the reference vectors lost their valid images");
        let long = format!("mirror.io/{}", ["abcdefghij"; 22].join("/"));
        let targets = [
            "mirror.io",
            "mirror.io/cache",
            "mirror.io/a/b/c",
            "Mirror.IO/cache",
            "localhost:5000/x",
            "[fd00::1]:5000/x",
            "docker.io",
            "docker.io/x",
            "index.docker.io/mirror",
            "registry-1.docker.io:443/m",
            long.as_str(),
        ];
        let (mut shortcut, mut checked) = (0, 0);
        for written in targets {
            let target = RegistryTarget::parse(written).unwrap();
            let rules = Rules::parse(&format!("default::{written}")).unwrap();
            for image in &images {
                let depths = 0..=image.path().split('/').count();
                let names = depths.map(|depth| registry_join(&target, image, depth, 0));
                for name in names.chain([join(&target, image.repository_name(), 0)]) {
                    let result = with_suffix(name.clone(), image.tag(), image.digest());
                    checked += 1;
                    if plainly_under(&target, &name) {
                        shortcut += 1;
                        assert!(lands_on_target(&rules, &target, &result), "{written} + {image:?}: {result}");
                    }
                }
            }
        }
        assert!(shortcut > 0 && shortcut < checked, "{shortcut} of {checked}: the shortcut is tested both ways");
    }

    #[test]
    fn the_rest_after_a_key_is_the_path_without_its_first_components() {
        let vectors: Vec<Value> =
            serde_json::from_str(include_str!("../../tests/cases/reference-vectors.json")).unwrap();
        let paths =
            vectors.iter().filter_map(|v| v.get("input")?.as_str()).filter_map(|input| Image::parse(input).ok());
        let mut paths: Vec<String> = paths.map(|image| image.path().to_owned()).collect();
        paths.extend(["a", "a/b", "a//b", "/a", "a/", ""].map(str::to_owned));
        assert!(paths.len() > 50, "the reference vectors lost their valid images");
        for path in &paths {
            for depth in 0..=path.split('/').count() + 1 {
                let expected = path.split('/').skip(depth).collect::<Vec<_>>().join("/");
                assert_eq!(after_components(path, depth), expected, "{path:?} after {depth}");
            }
        }
    }
}

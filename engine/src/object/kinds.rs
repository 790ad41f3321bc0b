//! docs/behaviour.md §4 "Objects and fields": where each kind keeps its pod specs and images. The
//! built-in kinds and the kinds the `customResources` setting names are described alike, as
//! [`FieldPath`]s, and read by the one walk of [`crate::object::walk`].
//!
//! The path language: dotted field names (ASCII letters, digits, `_` and `-`), each optionally
//! followed by `[*]` for every item of its list; nothing else.
//!
//! ```text
//! path  = field { "." field }
//! field = name { "[*]" }
//! name  = ( letter | digit | "_" | "-" ) { letter | digit | "_" | "-" }
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, btree_map};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PathStep {
    /// The field of an object with this name.
    Field(Cow<'static, str>),
    /// Every item of a list (`[*]`).
    Each,
}

/// A path from an object's root to a pod spec or an image: `spec.template.spec`,
/// `spec.steps[*].image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    steps: Cow<'static, [PathStep]>,
}

/// What is wrong with a path, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// The character the problem is at, counted from 1.
    pub at: usize,
    /// What is wrong there.
    pub kind: PathErrorKind,
}

/// What is wrong with a path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathErrorKind {
    /// The path is empty.
    Empty,
    /// A field name is missing (a leading, doubled or trailing `.`, or `[*]` with no field).
    MissingField,
    /// A character the language does not have.
    Character(char),
    /// A `[` that does not open `[*]`.
    NotEach,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at;
        match self.kind {
            PathErrorKind::Empty => f.write_str("the path is empty"),
            PathErrorKind::MissingField => write!(f, "a field name is missing at character {at}"),
            PathErrorKind::Character(c) => write!(
                f,
                "{c:?} at character {at} is not allowed: a path is dotted field names (ASCII letters, digits, `_` and `-`) with `[*]` for every item of a list"
            ),
            PathErrorKind::NotEach => write!(f, "`[` at character {at} must open `[*]` (every item of the list)"),
        }
    }
}

impl std::error::Error for PathError {}

/// A field step of a built-in path.
const fn field(name: &'static str) -> PathStep {
    PathStep::Field(Cow::Borrowed(name))
}

impl FieldPath {
    /// A built-in path.
    const fn fixed(steps: &'static [PathStep]) -> Self {
        Self { steps: Cow::Borrowed(steps) }
    }

    /// Reads a path of the language in the module docs.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        if text.is_empty() {
            return Err(PathError { at: 1, kind: PathErrorKind::Empty });
        }
        let at = |index: usize| text.get(..index).map_or(index, |before| before.chars().count()) + 1;
        let bytes = text.as_bytes();
        let mut steps = Vec::new();
        let mut index = 0;
        loop {
            let start = index;
            while bytes.get(index).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-') {
                index += 1;
            }
            let name = text.get(start..index).unwrap_or_default();
            if name.is_empty() {
                return Err(match text.get(index..).and_then(|rest| rest.chars().next()) {
                    None | Some('.' | '[') => PathError { at: at(index), kind: PathErrorKind::MissingField },
                    Some(c) => PathError { at: at(index), kind: PathErrorKind::Character(c) },
                });
            }
            steps.push(PathStep::Field(Cow::Owned(name.to_owned())));
            while bytes.get(index) == Some(&b'[') {
                if bytes.get(index + 1..index + 3) != Some(b"*]") {
                    return Err(PathError { at: at(index), kind: PathErrorKind::NotEach });
                }
                steps.push(PathStep::Each);
                index += 3;
            }
            match text.get(index..).and_then(|rest| rest.chars().next()) {
                None => return Ok(Self { steps: Cow::Owned(steps) }),
                Some('.') => index += 1,
                Some(c) => return Err(PathError { at: at(index), kind: PathErrorKind::Character(c) }),
            }
        }
    }

    /// Its steps, in order.
    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }
}

impl fmt::Display for FieldPath {
    /// The path as written: `spec.steps[*].image`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Field(name) if index == 0 => f.write_str(name)?,
                PathStep::Field(name) => write!(f, ".{name}")?,
                PathStep::Each => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Where a kind keeps pod specs and images.
#[derive(Debug, Clone, Copy)]
pub struct Layout<'k> {
    /// Paths to pod specs: their containers, init and ephemeral containers and image volumes are
    /// read, and they get the pull secrets their images need.
    pub pod_specs: &'k [FieldPath],
    /// Paths to single images (or, ending in `[*]`, lists of them).
    pub images: &'k [FieldPath],
    /// A kind of `customResources`: its images may hold its controller's template expressions, and
    /// a container without a name is keyed in the annotation by its path.
    pub custom: bool,
}

const SPEC_FIELD: PathStep = field("spec");
const TEMPLATE_SPEC: &[PathStep] = &[SPEC_FIELD, field("template"), SPEC_FIELD];
const POD_SPEC: &[PathStep] = &[SPEC_FIELD];
const POD: &[FieldPath] = &[FieldPath::fixed(POD_SPEC)];
const TEMPLATE: &[FieldPath] = &[FieldPath::fixed(TEMPLATE_SPEC)];
const CRON_JOB_SPEC: &[PathStep] = &[SPEC_FIELD, field("jobTemplate"), SPEC_FIELD, field("template"), SPEC_FIELD];
const CRON_JOB: &[FieldPath] = &[FieldPath::fixed(CRON_JOB_SPEC)];
const POD_TEMPLATE_SPEC: &[PathStep] = &[field("template"), SPEC_FIELD];
const POD_TEMPLATE: &[FieldPath] = &[FieldPath::fixed(POD_TEMPLATE_SPEC)];

/// Where a built-in kind keeps its pod spec, by API group (`""` for the core group) and kind;
/// `None` for other kinds. A custom resource named `Pod` or `Deployment` in another group is not
/// one of them.
fn builtin(group: &str, kind: &str) -> Option<&'static [FieldPath]> {
    Some(match (group, kind) {
        ("", "Pod") => POD,
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => TEMPLATE,
        ("batch", "CronJob") => CRON_JOB,
        ("", "PodTemplate") => POD_TEMPLATE,
        _ => return None,
    })
}

/// Whether the policy reads a built-in kind (docs/behaviour.md §4).
pub(crate) fn is_builtin(group: &str, kind: &str) -> bool {
    builtin(group, kind).is_some()
}

/// One entry of `customResources`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomResource {
    /// The API group, without a version (`argoproj.io`).
    pub api_group: String,
    /// The kind, as Kubernetes spells it (`Rollout`).
    pub kind: String,
    pod_specs: Vec<FieldPath>,
    images: Vec<FieldPath>,
}

/// The `customResources` setting: the kinds besides the built-in ones whose images the policy
/// reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomResources {
    entries: Vec<CustomResource>,
}

impl CustomResources {
    /// Where a kind keeps pod specs and images: a built-in kind's layout, or the entry naming the
    /// kind; `None` for a kind the policy does not read.
    pub fn layout(&self, group: &str, kind: &str) -> Option<Layout<'_>> {
        if let Some(pod_specs) = builtin(group, kind) {
            return Some(Layout { pod_specs, images: &[], custom: false });
        }
        let entry = self.entries.iter().find(|entry| entry.api_group == group && entry.kind == kind)?;
        Some(Layout { pod_specs: &entry.pod_specs, images: &entry.images, custom: true })
    }

    /// Reads the setting (absent or `null`: no entries), the entries `which` says, pushing every
    /// problem of those to `errors`.
    pub fn read(value: Option<&Value>, which: Entries<'_>, errors: &mut Vec<CustomResourceError>) -> Self {
        let items = match value {
            None | Some(Value::Null) => return Self::default(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                errors.push(CustomResourceError { index: None, group: None, kind: None, problem: Problem::NotAList });
                return Self::default();
            }
        };
        let mut entries: Vec<CustomResource> = Vec::new();
        // Group and kind → the index of the entry that named them first.
        let mut named: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            if !which.reads(item) {
                continue;
            }
            let before = errors.len();
            let entry = read_entry(index, item, errors);
            let Some(entry) = entry.filter(|_| errors.len() == before) else { continue };
            match named.entry((entry.api_group.clone(), entry.kind.clone())) {
                btree_map::Entry::Occupied(first) => {
                    errors.push(entry_error(index, &entry, Problem::Duplicate(*first.get())));
                }
                btree_map::Entry::Vacant(slot) => {
                    slot.insert(entries.len());
                    entries.push(entry);
                }
            }
        }
        Self { entries }
    }
}

/// Which entries of `customResources` a read checks and keeps.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Entries<'a> {
    /// Every entry (`validate_settings`).
    All,
    /// Only those naming this group and kind (the request path, which needs only its own kind;
    /// none for a built-in kind, which no entry can name).
    Of {
        /// The request's API group.
        group: &'a str,
        /// The request's kind.
        kind: &'a str,
    },
}

impl Entries<'_> {
    fn reads(self, item: &Value) -> bool {
        match self {
            Self::All => true,
            Self::Of { group, kind } => {
                !is_builtin(group, kind)
                    && item.get(API_GROUP).and_then(Value::as_str) == Some(group)
                    && item.get(KIND).and_then(Value::as_str) == Some(kind)
            }
        }
    }
}

/// The keys of an entry.
const API_GROUP: &str = "apiGroup";
const KIND: &str = "kind";
const POD_SPECS: &str = "podSpecs";
const IMAGES: &str = "images";
const ENTRY_KEYS: [&str; 4] = [API_GROUP, KIND, POD_SPECS, IMAGES];

fn entry_error(index: usize, entry: &CustomResource, problem: Problem) -> CustomResourceError {
    CustomResourceError {
        index: Some(index),
        group: Some(entry.api_group.clone()),
        kind: Some(entry.kind.clone()),
        problem,
    }
}

/// Reads entry `index`: `None` when its group or kind cannot be read (the problems pushed).
fn read_entry(index: usize, item: &Value, errors: &mut Vec<CustomResourceError>) -> Option<CustomResource> {
    let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    let (group, kind) = (text(API_GROUP), text(KIND));
    let error = |problem| CustomResourceError { index: Some(index), group: group.clone(), kind: kind.clone(), problem };
    let Some(object) = item.as_object() else {
        errors.push(error(Problem::NotAnObject));
        return None;
    };
    for key in object.keys().filter(|key| !ENTRY_KEYS.contains(&key.as_str())) {
        errors.push(error(Problem::UnknownKey(key.clone())));
    }
    match object.get(API_GROUP) {
        Some(Value::String(group)) if !is_group(group) => errors.push(error(Problem::Group(group.clone()))),
        Some(Value::String(_)) => {}
        _ => errors.push(error(Problem::Missing(API_GROUP))),
    }
    match object.get(KIND) {
        Some(Value::String(kind)) if !is_kind(kind) => errors.push(error(Problem::Kind(kind.clone()))),
        Some(Value::String(_)) => {}
        _ => errors.push(error(Problem::Missing(KIND))),
    }
    let (group, kind) = (group.clone()?, kind.clone()?);
    if is_builtin(&group, &kind) {
        errors.push(error(Problem::BuiltIn));
    }
    let given = |key: &str| object.get(key).and_then(Value::as_array).is_some_and(|paths| !paths.is_empty());
    let wrong_type = |key: &str| object.get(key).is_some_and(|paths| !paths.is_null() && !paths.is_array());
    if !given(POD_SPECS) && !given(IMAGES) && !wrong_type(POD_SPECS) && !wrong_type(IMAGES) {
        errors.push(error(Problem::NoPaths));
    }
    let pod_specs = read_paths(object, POD_SPECS, &mut |problem| errors.push(error(problem)));
    let images = read_paths(object, IMAGES, &mut |problem| errors.push(error(problem)));
    check_paths(&pod_specs, &images, &mut |problem| errors.push(error(problem)));
    Some(CustomResource { api_group: group, kind, pod_specs, images })
}

/// The paths under `key` (absent or `null`: none).
fn read_paths(object: &Map<String, Value>, key: &'static str, problem: &mut dyn FnMut(Problem)) -> Vec<FieldPath> {
    let items = match object.get(key) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            problem(Problem::NotPaths(key));
            return Vec::new();
        }
    };
    let mut paths = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else {
            problem(Problem::NotPaths(key));
            continue;
        };
        match FieldPath::parse(text) {
            Ok(path) => paths.push(path),
            Err(error) => problem(Problem::Path { key, index, text: text.to_owned(), error }),
        }
    }
    paths
}

/// No path twice, no image inside a pod spec, no pod spec inside another. Each check is a lookup
/// (the request path checks its kind's paths on every request).
fn check_paths(pod_specs: &[FieldPath], images: &[FieldPath], problem: &mut dyn FnMut(Problem)) {
    // Each pod spec's steps → its place in `podSpecs`, the first it is given at.
    let mut specs: BTreeMap<&[PathStep], usize> = BTreeMap::new();
    for (index, spec) in pod_specs.iter().enumerate() {
        specs.entry(spec.steps()).or_insert(index);
    }
    // The paths given so far (a map of the same type as `specs`: one instantiation in the module).
    let mut seen: BTreeMap<&[PathStep], usize> = BTreeMap::new();
    for (index, path) in pod_specs.iter().chain(images).enumerate() {
        if seen.insert(path.steps(), index).is_some() {
            problem(Problem::PathTwice(path.to_string()));
            continue;
        }
        // The first pod spec in `podSpecs` that is a shorter start of this path.
        let inside =
            (1..path.steps().len()).filter_map(|len| path.steps().get(..len).and_then(|start| specs.get(start))).min();
        if let Some(spec) = inside.and_then(|index| pod_specs.get(*index)) {
            problem(Problem::InsidePodSpec { path: path.to_string(), pod_spec: spec.to_string() });
        }
    }
}

/// An API group: `""` (the core group) or a DNS subdomain, with no version.
fn is_group(group: &str) -> bool {
    group.is_empty() || is_dns_subdomain(group)
}

/// Longest DNS-1123 subdomain (Kubernetes object names, API groups).
pub(crate) const MAX_SUBDOMAIN_LEN: usize = 253;

/// A DNS-1123 subdomain, the form of Secret names and API groups: at most 253 characters,
/// dot-separated labels of lower-case letters, digits and `-`, each starting and ending with a
/// letter or digit (so no empty label: `a..b` is not one).
pub(crate) fn is_dns_subdomain(name: &str) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let label = |label: &str| {
        let bytes = label.as_bytes();
        bytes.first().is_some_and(alnum)
            && bytes.last().is_some_and(alnum)
            && bytes.iter().all(|b| alnum(b) || *b == b'-')
    };
    name.len() <= MAX_SUBDOMAIN_LEN && name.split('.').all(label)
}

/// A kind as Kubernetes spells it: an upper-case ASCII letter, then ASCII letters and digits.
fn is_kind(kind: &str) -> bool {
    kind.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) && kind.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A bad entry of `customResources`: which one, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomResourceError {
    /// The entry's index (`None`: the setting as a whole).
    pub index: Option<usize>,
    /// Its `apiGroup`, when it is a string.
    pub group: Option<String>,
    /// Its `kind`, when it is a string.
    pub kind: Option<String>,
    /// What is wrong.
    pub problem: Problem,
}

/// What is wrong with `customResources` or one of its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The setting is not a list.
    NotAList,
    /// The entry is not an object.
    NotAnObject,
    /// A key an entry does not have.
    UnknownKey(String),
    /// `apiGroup` or `kind` is missing or not a string.
    Missing(&'static str),
    /// An `apiGroup` that is not a group (a version in it, upper case, …).
    Group(String),
    /// A `kind` that is not a kind.
    Kind(String),
    /// A built-in kind, which cannot be redefined.
    BuiltIn,
    /// `podSpecs` or `images` is not a list of strings.
    NotPaths(&'static str),
    /// Neither `podSpecs` nor `images` has a path.
    NoPaths,
    /// A path that does not read: the key, its index, the path and the problem.
    Path {
        /// `podSpecs` or `images`.
        key: &'static str,
        /// The index of the path in that list.
        index: usize,
        /// The path as written.
        text: String,
        /// What is wrong, and where.
        error: PathError,
    },
    /// The same path given twice.
    PathTwice(String),
    /// A path inside one of the entry's pod specs, whose images are read already.
    InsidePodSpec {
        /// The path.
        path: String,
        /// The pod spec it lies in.
        pod_spec: String,
    },
    /// The group and kind of an earlier entry (its index).
    Duplicate(usize),
}

impl fmt::Display for CustomResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("customResources")?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        match (&self.group, &self.kind) {
            (Some(group), Some(kind)) if group.is_empty() => write!(f, " (kind {kind} of the core group)")?,
            (Some(group), Some(kind)) => write!(f, " (kind {kind} of {group})")?,
            (None, Some(kind)) => write!(f, " (kind {kind})")?,
            (Some(group), None) if !group.is_empty() => write!(f, " (apiGroup {group})")?,
            _ => {}
        }
        f.write_str(": ")?;
        match &self.problem {
            Problem::NotAList => f.write_str("must be a list of entries (apiGroup, kind, podSpecs, images)"),
            Problem::NotAnObject => f.write_str("an entry must be an object with apiGroup, kind, podSpecs and images"),
            Problem::UnknownKey(key) => {
                write!(f, "unknown key {key}; an entry has the keys {}", ENTRY_KEYS.join(", "))
            }
            Problem::Missing(key) if *key == API_GROUP => {
                f.write_str("apiGroup is required: the API group without a version (\"\" for the core group)")
            }
            Problem::Missing(_) => f.write_str("kind is required: the kind as Kubernetes spells it (`Rollout`)"),
            Problem::Group(group) if group.contains('/') => write!(
                f,
                "apiGroup {group:?} names a version too; give the group only ({:?})",
                group.split('/').next().unwrap_or_default()
            ),
            Problem::Group(group) => write!(
                f,
                "apiGroup {group:?} is not an API group (lower-case letters, digits, `-` and `.`; \"\" for the core group)"
            ),
            Problem::Kind(kind) => {
                write!(
                    f,
                    "kind {kind:?} is not a kind as Kubernetes spells it (`Rollout`: a capital, then letters and digits)"
                )
            }
            Problem::BuiltIn => {
                f.write_str("a built-in kind, whose images the policy reads already; it cannot be redefined")
            }
            Problem::NotPaths(key) => {
                let example = if *key == POD_SPECS { "spec.template.spec" } else { "spec.steps[*].image" };
                write!(f, "{key} must be a list of paths (`{example}`)")
            }
            Problem::NoPaths => f.write_str("podSpecs or images must name at least one path"),
            Problem::Path { key, index, text, error } => write!(f, "{key}[{index}] {text:?}: {error}"),
            Problem::PathTwice(path) => write!(f, "the path {path:?} is given twice"),
            Problem::InsidePodSpec { path, pod_spec } => {
                write!(f, "the path {path:?} lies inside the pod spec {pod_spec:?}, whose images are read already")
            }
            Problem::Duplicate(first) => write!(f, "the same group and kind as customResources[{first}]"),
        }
    }
}

impl std::error::Error for CustomResourceError {}

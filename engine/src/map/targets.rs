//! Targets, and docs/behaviour.md §3 step 1 "already swapped": an image under any non-empty target is left
//! alone, which makes the policy idempotent. The same test finds dead rules when settings are
//! validated.

use std::borrow::Cow;

use crate::image::normalize::{ExactId, Image, canonical_registry_text};
use crate::image::reference::{MAX_HOST_LEN, is_domain, is_path, names_registry_strictly, split_port};
use crate::map::hash::FnvHashMap;
use crate::map::line::LineNumber;
use crate::text::{concat, slashes, split_once_byte};

/// How a registry target joins the image name (docs/behaviour.md §3 "How the new reference is built").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// `target/rest`: the rest of the canonical name after the matched prefix.
    Plain,
    /// Ends in `/`: `target` + the whole canonical name, registry included.
    Slash,
    /// Ends in `-`: `target` + the whole canonical name, registry included.
    Dash,
}

/// The target of a `default`, registry/path or `[REPLACE]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryTarget {
    /// As written in the map; used as written in the new reference.
    pub written: String,
    /// Canonical registry + path as written, without a trailing `/` (a trailing `-` is kept).
    pub canonical: String,
    /// Canonical registry of the target (port included).
    pub registry: String,
    /// How it joins the image name.
    pub shape: Shape,
}

/// What is wrong with a registry key, a registry target or a pull-secret registry
/// (`registry[/path]`, docs/behaviour.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrefixError {
    /// The first component is not a registry (it has no `.` or `:` and is not `localhost`).
    NotRegistry,
    /// The registry's host is longer than 253 bytes (DNS's limit).
    HostTooLong,
    /// The registry is not a valid `host[:port]`.
    InvalidHost,
    /// The path is not lower-case components separated by `/`.
    InvalidPath,
    /// A target ending in `-` without a path before the `-`.
    DashWithoutPath,
    /// A `[REPLACE]` target ending in `-`.
    DashInReplace,
    /// A path where only a registry may stand (an `imagePullSecrets` key).
    PathNotAllowed,
}

impl std::fmt::Display for PrefixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotRegistry => "must start with a registry (a host with `.` or `:`, or `localhost`)",
            Self::HostTooLong => "the registry host is longer than 253 bytes (DNS's limit)",
            Self::InvalidHost => "the registry is not a valid host[:port]",
            Self::InvalidPath => "the path must be lower-case components separated by `/` (no tag, no digest)",
            Self::DashWithoutPath => "a target ending in `-` needs a path before the `-` (mirror.io/pre-)",
            Self::DashInReplace => "a [REPLACE] target cannot end in `-`",
            Self::PathNotAllowed => "a registry has no path",
        })
    }
}

/// A registry key or target split into its canonical registry and its path (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    /// Canonical registry.
    pub registry: String,
    /// Path as written, without leading or trailing `/`; empty for a bare registry.
    pub path: String,
}

impl Prefix {
    /// Parses `registry[/path]`, the form of registry keys.
    pub fn parse(text: &str) -> Result<Self, PrefixError> {
        let (registry, path) = split_prefix(text)?;
        Ok(Self { registry: registry.into_owned(), path: path.to_owned() })
    }

    /// `registry/path`, or the registry alone.
    pub fn canonical(&self) -> String {
        joined(&self.registry, &self.path)
    }
}

/// Checks `registry[/path]` and splits it into its canonical registry and its path, borrowed.
fn split_prefix(text: &str) -> Result<(Cow<'_, str>, &str), PrefixError> {
    let (registry, path) = split_once_byte(text, b'/').unwrap_or((text, ""));
    if !names_registry_strictly(registry) {
        return Err(PrefixError::NotRegistry);
    }
    if split_port(registry).0.len() > MAX_HOST_LEN {
        return Err(PrefixError::HostTooLong);
    }
    if !is_domain(registry) {
        return Err(PrefixError::InvalidHost);
    }
    if text.len() > registry.len() && !is_path(path) {
        return Err(PrefixError::InvalidPath);
    }
    Ok((canonical_registry_text(registry), path))
}

/// `registry/path`, or the registry alone, as one text.
fn joined(registry: &str, path: &str) -> String {
    if path.is_empty() { registry.to_owned() } else { concat(&[registry, "/", path]) }
}

/// A `noswap_wildcards` entry without `*` or `?` that is a `registry[/path]`, as a [`Prefix`]
/// (such an entry is ignored when it names a target, docs/behaviour.md §3).
pub(crate) fn literal_registry(entry: &str) -> Option<Prefix> {
    if entry.contains(['*', '?']) {
        return None;
    }
    Prefix::parse(entry).ok()
}

impl RegistryTarget {
    /// Parses a non-empty registry target.
    pub fn parse(written: &str) -> Result<Self, PrefixError> {
        if let Some(body) = written.strip_suffix('/') {
            let (registry, path) = split_prefix(body)?;
            return Ok(Self::new(written, joined(&registry, path), registry.into_owned(), Shape::Slash));
        }
        if !written.ends_with('-') {
            let (registry, path) = split_prefix(written)?;
            return Ok(Self::new(written, joined(&registry, path), registry.into_owned(), Shape::Plain));
        }
        let (registry, path) = written.split_once('/').ok_or(PrefixError::DashWithoutPath)?;
        let stem = path.trim_end_matches('-');
        if stem.is_empty() || stem.ends_with('/') {
            return Err(PrefixError::DashWithoutPath);
        }
        let prefix = Prefix::parse(&concat(&[registry, "/", stem]))?;
        Ok(Self::new(written, concat(&[&prefix.registry, "/", path]), prefix.registry, Shape::Dash))
    }

    fn new(written: &str, canonical: String, registry: String, shape: Shape) -> Self {
        Self { written: written.to_owned(), canonical, registry, shape }
    }
}

/// Every non-empty target of a map, indexed for step 1. Each entry holds the target's line.
#[derive(Debug, Default, Clone)]
pub(crate) struct TargetIndex {
    /// The registry of every registry target (`default`, registry/path, `[REPLACE]`).
    registries: FnvHashMap<String, LineNumber>,
    plain: FnvHashMap<String, LineNumber>,
    slash: FnvHashMap<String, LineNumber>,
    dash: FnvHashMap<String, Vec<(String, LineNumber)>>,
    images: FnvHashMap<ExactId, LineNumber>,
}

impl TargetIndex {
    /// Adds a registry target given on `line`.
    pub(crate) fn add(&mut self, target: &RegistryTarget, line: LineNumber) {
        // Most targets of a large map share a few registries: the key is copied once each.
        if !self.registries.contains_key(&target.registry) {
            self.registries.insert(target.registry.clone(), line);
        }
        match target.shape {
            Shape::Plain => {
                self.plain.entry(target.canonical.clone()).or_insert(line);
            }
            Shape::Slash => {
                self.slash.entry(target.canonical.clone()).or_insert(line);
            }
            Shape::Dash => {
                if let Some((dir, stem)) = target.canonical.rsplit_once('/') {
                    self.dash.entry(dir.to_owned()).or_default().push((stem.to_owned(), line));
                }
            }
        }
    }

    /// Whether there are `[EXACT]` targets.
    pub(crate) fn has_images(&self) -> bool {
        !self.images.is_empty()
    }

    /// Adds an `[EXACT]` target given on `line`.
    pub(crate) fn add_image(&mut self, id: ExactId, line: LineNumber) {
        self.images.entry(id).or_insert(line);
    }

    /// The line of a target that `name` (a canonical `registry/path`, possibly ending in `/`) lies
    /// under: it equals a target or starts with target + `/`, or starts with a target ending in
    /// `/` or `-`. Registries compare with their ports.
    pub(crate) fn target_over_name(&self, name: &str) -> Option<LineNumber> {
        // Every registry target starts with its registry: a name on none of them (most images a
        // map swaps) is under none, after one lookup.
        let registry = split_once_byte(name, b'/').map_or(name, |(registry, _)| registry);
        if !self.registries.contains_key(registry) {
            return None;
        }
        let boundaries = slashes(name).chain(std::iter::once(name.len()));
        boundaries.filter_map(|at| self.target_over_prefix_at(name, at)).min()
    }

    fn target_over_prefix_at(&self, name: &str, at: usize) -> Option<LineNumber> {
        let prefix = name.get(..at)?;
        let hit = self.plain.get(prefix).copied();
        let Some(rest) = name.get(at + 1..) else {
            return hit;
        };
        let next = || split_once_byte(rest, b'/').map_or(rest, |(next, _)| next);
        let dash = self.dash.get(prefix).into_iter().flatten().filter(|(stem, _)| next().starts_with(stem.as_str()));
        hit.into_iter().chain(self.slash.get(prefix).copied()).chain(dash.map(|(_, line)| *line)).min()
    }

    /// Whether `prefix` names the registry of a registry target, or lies under one (what makes a
    /// literal `noswap_wildcards` entry ignored).
    pub(crate) fn names(&self, prefix: &Prefix) -> bool {
        (prefix.path.is_empty() && self.registries.contains_key(&prefix.registry))
            || self.target_over_key(&prefix.canonical()).is_some()
    }

    /// The line of a target that `name` or `name/` lies under: what a registry/path key covers.
    pub(crate) fn target_over_key(&self, name: &str) -> Option<LineNumber> {
        let below = self.slash.get(name).copied();
        self.target_over_name(name).into_iter().chain(below).min()
    }

    /// The line of a target that `image` lies under: by name, or as the same image as an
    /// `[EXACT]` target.
    pub(crate) fn target_over_image(&self, image: &Image) -> Option<LineNumber> {
        self.target_over_identity(&image.exact_id())
    }

    /// [`TargetIndex::target_over_image`] for an image's identity, which holds its canonical name.
    pub(crate) fn target_over_identity(&self, id: &ExactId) -> Option<LineNumber> {
        self.target_over_name(id.name()).into_iter().chain(self.images.get(id).copied()).min()
    }
}

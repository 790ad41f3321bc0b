//! docs/behaviour.md §3 "Canonical and familiar forms": what imageswap compares, on top of the grammar.
//!
//! distribution/reference folds only `index.docker.io`. imageswap folds further (docs/behaviour.md §3): registry names compare
//! case-insensitively, and `docker.io`, `index.docker.io`, `registry-1.docker.io` and
//! `registry.hub.docker.com` (without a port, or on port 443) all mean `docker.io`, so
//! `Docker.io/nginx`, `registry-1.docker.io:443/nginx` and `nginx` are one image.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use crate::image::reference::{
    DEFAULT_TAG, DOCKER_HUB, MAX_PATH_LEN, OFFICIAL_PREFIX, RefError, RefErrorKind, Reference, familiar_name,
    split_port, with_suffix,
};
use crate::text::concat;

/// Registry names that mean Docker Hub when written without a port or with the port `443`
/// (compared in lower case).
pub(crate) const DOCKER_HUB_ALIASES: [&str; 4] =
    [DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];

/// HTTPS's own port: a Docker Hub name written with it is the same endpoint (containerd pulls
/// `registry-1.docker.io:443/library/nginx` from Docker Hub).
pub(crate) const HTTPS_PORT: &str = "443";

/// The canonical spelling of a registry: lower case (IPv6 literals and a registry that is one only
/// through its upper-case letters included: `Foo/bar` names the registry `foo`), and the Docker
/// Hub names, without a port or on port 443, folded into `docker.io`. The text is borrowed where
/// it is canonical already (lower case, and no Docker Hub name to fold): most keys and targets are
/// written so, and the request path compares many of them.
#[inline]
pub(crate) fn canonical_registry_text(registry: &str) -> Cow<'_, str> {
    if registry.bytes().any(|b| b.is_ascii_uppercase()) {
        let lower = registry.to_ascii_lowercase();
        return Cow::Owned(if names_docker_hub(&lower) { DOCKER_HUB.to_owned() } else { lower });
    }
    if registry != DOCKER_HUB && names_docker_hub(registry) {
        Cow::Borrowed(DOCKER_HUB)
    } else {
        Cow::Borrowed(registry)
    }
}

/// Whether a lower-case registry is one of Docker Hub's names, without a port or on port 443.
fn names_docker_hub(lower: &str) -> bool {
    // Most registries are told apart by their length alone.
    const PORT: usize = HTTPS_PORT.len() + 1;
    if !DOCKER_HUB_ALIASES.iter().any(|alias| lower.len() == alias.len() || lower.len() == alias.len() + PORT) {
        return false;
    }
    match split_port(lower) {
        (host, None | Some(HTTPS_PORT)) => DOCKER_HUB_ALIASES.contains(&host),
        _ => false,
    }
}

/// The host of a canonical registry without its port, when it has one.
pub fn host_without_port(registry: &str) -> Option<&str> {
    match split_port(registry) {
        (host, Some(_)) => Some(host),
        (_, None) => None,
    }
}

/// An image in canonical form: a [`Reference`] whose registry and path are folded per docs/behaviour.md §3 (tag
/// and digest as written). Its parts are the reference's: [`Reference::path`], [`Reference::tag`]
/// and [`Reference::digest`]; [`Image::registry`] is its domain.
#[derive(Clone)]
pub struct Image {
    reference: Reference,
    /// [`Image::forms`] when there are several, made on first use: the request path's `[REPLACE]`
    /// filter and the decision's globs and `noswap_wildcards` patterns match the same spellings.
    forms: OnceCell<Vec<String>>,
}

impl std::ops::Deref for Image {
    type Target = Reference;

    fn deref(&self) -> &Reference {
        &self.reference
    }
}

/// Images are equal when their references are (the spellings follow from them).
impl PartialEq for Image {
    fn eq(&self, other: &Self) -> bool {
        self.reference == other.reference
    }
}

impl Eq for Image {}

impl fmt::Debug for Image {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Image").field(&self.reference).finish()
    }
}

/// The identity of an image for `[EXACT]` keys: name + digest when there is a digest, otherwise
/// name + tag, with `latest` for an image written without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExactId {
    /// Canonical name and digest; the tag is ignored.
    Digest(String, String),
    /// Canonical name and tag (`latest` when none was written).
    Tag(String, String),
}

impl ExactId {
    /// The canonical name (`registry/path`).
    pub fn name(&self) -> &str {
        match self {
            Self::Digest(name, _) | Self::Tag(name, _) => name,
        }
    }
}

impl Image {
    /// Parses `input` with the grammar and folds it into canonical form.
    pub fn parse(input: &str) -> Result<Self, RefError> {
        let reference = Reference::parse(input)?;
        Self::try_from(reference).map_err(|kind| RefError { input: input.to_owned(), kind })
    }

    /// The canonical registry (port included).
    pub fn registry(&self) -> &str {
        self.domain()
    }

    /// `registry/path`, the canonical name without tag or digest.
    pub fn canonical_name(&self) -> String {
        self.name().to_owned()
    }

    /// The repository name: the last component of the path (`nginx` of `docker.io/library/nginx`).
    pub fn repository_name(&self) -> &str {
        let path = self.path();
        path.get(path.bytes().rposition(|b| b == b'/').map_or(0, |slash| slash + 1)..).unwrap_or_default()
    }

    /// The fully qualified reference: `docker.io/library/nginx:latest`, tag and digest as written.
    pub fn canonical(&self) -> String {
        self.as_str().to_owned()
    }

    /// How `docker` prints it: Docker Hub's `docker.io/` and `library/` removed.
    pub fn familiar(&self) -> String {
        with_suffix(familiar_name(self.registry(), self.path()), self.tag(), self.digest())
    }

    /// Whether the image runs `:latest` by default or by name (no digest, no tag or `latest`).
    fn is_latest(&self) -> bool {
        self.digest().is_none() && self.tag().is_none_or(|t| t == DEFAULT_TAG)
    }

    /// Every spelling that globs and `noswap_wildcards` are matched against: the familiar and the
    /// canonical form (one text off Docker Hub, where they are the same), each with and without
    /// `:latest` when the image runs `latest`.
    pub fn forms(&self) -> impl Iterator<Item = &str> {
        (0..self.form_count()).filter_map(|number| self.form(number))
    }

    /// How many [`Image::forms`] there are.
    pub fn form_count(&self) -> usize {
        if self.one_form() { 1 } else { self.made_forms().len() }
    }

    /// Spelling `number` of [`Image::forms`].
    pub fn form(&self, number: usize) -> Option<&str> {
        if self.one_form() {
            (number == 0).then(|| self.as_str())
        } else {
            self.made_forms().get(number).map(String::as_str)
        }
    }

    /// Whether the image's one spelling is its canonical text (off Docker Hub, and not running
    /// `latest`): most images of a large Pod, which then need no copies of their text.
    fn one_form(&self) -> bool {
        self.registry() != DOCKER_HUB && !self.is_latest()
    }

    fn made_forms(&self) -> &[String] {
        self.forms.get_or_init(|| self.spellings())
    }

    fn spellings(&self) -> Vec<String> {
        let canonical = self.canonical_name();
        let familiar = (self.registry() == DOCKER_HUB).then(|| familiar_name(self.registry(), self.path()));
        let names = familiar.into_iter().chain([canonical]);
        if self.is_latest() {
            names
                .flat_map(|name| [with_suffix(name.clone(), None, None), with_suffix(name, Some(DEFAULT_TAG), None)])
                .collect()
        } else {
            names.map(|name| with_suffix(name, self.tag(), self.digest())).collect()
        }
    }

    /// The identity `[EXACT]` keys compare.
    pub fn exact_id(&self) -> ExactId {
        match self.digest() {
            Some(digest) => ExactId::Digest(self.canonical_name(), digest.to_owned()),
            None => ExactId::Tag(self.canonical_name(), self.tag().unwrap_or(DEFAULT_TAG).to_owned()),
        }
    }
}

impl TryFrom<Reference> for Image {
    type Error = RefErrorKind;

    /// Folds a reference into canonical form. Folding a Docker Hub alias adds `library/` to a
    /// one-component path, which can push it past [`MAX_PATH_LEN`]: such an image names no
    /// repository a registry could serve, and is refused as distribution/reference refuses
    /// `docker.io/<that path>` (found by fuzzing: `Docker.io/<251 characters>`).
    fn try_from(reference: Reference) -> Result<Self, RefErrorKind> {
        // Most images are written in canonical form already: their text is kept, not copied.
        let registry = Some(canonical_registry_text(reference.domain()))
            .filter(|registry| registry != reference.domain())
            .map(Cow::into_owned);
        let on_docker_hub = registry.as_deref().unwrap_or(reference.domain()) == DOCKER_HUB;
        let path =
            (on_docker_hub && !reference.path().contains('/')).then(|| concat(&[OFFICIAL_PREFIX, reference.path()]));
        if path.as_deref().unwrap_or(reference.path()).len() > MAX_PATH_LEN {
            return Err(RefErrorKind::NameTooLong);
        }
        Ok(Self { reference: reference.with_name(registry, path), forms: OnceCell::new() })
    }
}

//! The request path's shortcut (SPEC §7: a request's cost is linear in its size and the map's):
//! which map lines can decide the images of one request.
//!
//! `validate_settings` checks every line of the map once, when the policy-server loads the policy.
//! A request then builds its index from the lines that can matter to its own images, lexed in one
//! pass, and leaves the rest unparsed. A line is kept when it could take part in any step of
//! SPEC §3 for one of the images; the test errs towards keeping, because a kept line that does not
//! apply changes nothing, while a dropped line that applies would change the answer:
//!
//! - `default`, `noswap_wildcards` and every `[`-key other than `[EXACT]` and `[REPLACE]` (an IPv6
//!   registry key starts with `[` too) are always kept;
//! - a registry/path line when its key (step 4) or its target (step 1) is, in canonical form, the
//!   registry of one of the images (with its port, or its host alone: a key without a port covers
//!   every port) followed by whole components of its path;
//! - an `[EXACT]` line when its key (step 2) or its target (step 1) has the repository name and the
//!   tag or digest of one of the images (the identity `[EXACT]` compares, but for the namespace);
//! - a `[REPLACE]` line when some spelling of an image (the forms globs are matched against) starts
//!   with the glob's literal beginning (up to its first `*`, `?` or `[`), or when its target
//!   covers an image;
//! - a line whose target is on the registry of a literal `noswap_wildcards` entry ([`Noswap`]),
//!   because such an entry is ignored when it names a target (SPEC §3).
//!
//! The images' parts are kept in sorted tables and each line is looked up in them (a binary
//! search), so the cost is the map's size times a logarithm of the request's, whatever their
//! shapes; most lines of a large map fail the first test, two bytes of their key, at once. The
//! tables are sorted rather than hashed because the request's author chooses their contents.

use crate::map::trim_blanks;
use crate::normalize::{DOCKER_HUB_ALIASES, Image, canonical_registry, host_without_port};
use crate::reference::{DEFAULT_TAG, DOCKER_HUB, concat};
use crate::rules::{DEFAULT_KEY, EXACT_KEYWORD, NOSWAP_KEY, REPLACE_KEYWORD};
use crate::swap::placeholder;
use crate::targets::Prefix;

/// The images of one request, in the parts the test compares.
#[derive(Debug, Default)]
pub struct Relevance {
    /// Every canonical `registry`, `registry/c1`, `registry/c1/c2`, … of every image, also with
    /// the host without its port; sorted, without duplicates.
    prefixes: Vec<String>,
    /// Repository name and `:tag` (`:latest` when none) or `@digest` of every image; sorted.
    identities: Vec<String>,
    /// Every spelling of every image that `[REPLACE]` globs are matched against; sorted.
    forms: Vec<String>,
    /// The first two bytes, in lower case, of every spelling of the images' registries.
    heads: Heads,
}

impl Relevance {
    /// The relevance test for these images. Placeholders and images that do not parse are left
    /// out: no rule decides them. Each distinct image is read once.
    pub fn new<'a>(images: impl IntoIterator<Item = &'a str>) -> Self {
        let mut written: Vec<&str> = images.into_iter().filter(|image| placeholder(image).is_none()).collect();
        written.sort_unstable();
        written.dedup();
        let mut relevance = Self::default();
        for image in written.iter().filter_map(|written| Image::parse(written).ok()) {
            relevance.add(&image);
        }
        for table in [&mut relevance.prefixes, &mut relevance.identities, &mut relevance.forms] {
            table.sort_unstable();
            table.dedup();
        }
        relevance
    }

    fn add(&mut self, image: &Image) {
        let registry = image.registry();
        let hosts = std::iter::once(registry).chain(host_without_port(registry));
        for host in hosts {
            self.heads.add_registry(host);
            let mut prefix = host.to_owned();
            self.prefixes.push(prefix.clone());
            for component in image.path().split('/') {
                prefix.push('/');
                prefix.push_str(component);
                self.prefixes.push(prefix.clone());
            }
        }
        let suffix = match image.digest() {
            Some(digest) => ["@", digest],
            None => [":", image.tag().unwrap_or(DEFAULT_TAG)],
        };
        self.identities.push(concat(&[image.repository_name(), suffix[0], suffix[1]]));
        self.forms.extend(image.forms());
    }

    /// Whether the rule line `key::value` can take part in deciding one of the images.
    pub fn wants(&self, key: &str, value: &str) -> bool {
        match key.as_bytes().first() {
            Some(b'[') => {
                if let Some(operand) = key.strip_prefix(EXACT_KEYWORD) {
                    self.identifies(operand) || self.identifies(value)
                } else if let Some(glob) = key.strip_prefix(REPLACE_KEYWORD) {
                    self.may_match(glob) || self.covers(value)
                } else {
                    true
                }
            }
            Some(b'd' | b'n') if key == DEFAULT_KEY || key == NOSWAP_KEY => true,
            _ => self.covers(key) || self.covers(value),
        }
    }

    /// Whether an fnmatch glob can match a spelling of one of the images: the spelling must begin
    /// with the glob's literal text before its first `*`, `?` or `[`.
    fn may_match(&self, glob: &str) -> bool {
        let literal = glob.split(['*', '?', '[']).next().unwrap_or_default();
        let first = self.forms.partition_point(|form| form.as_str() < literal);
        self.forms.get(first).is_some_and(|form| form.starts_with(literal))
    }

    /// Whether `reference` (an `[EXACT]` operand as written) has the repository name and tag or
    /// digest of one of the images.
    fn identifies(&self, reference: &str) -> bool {
        !reference.is_empty() && self.identities.binary_search(&identity(reference)).is_ok()
    }

    /// Whether `prefix` (`registry[/path]`, as a key or target is written) can cover one of the
    /// images: in canonical form it is one of their prefixes. A target ending in `/` is compared
    /// without it, one ending in `-` by its directory (it covers names that start with its text).
    fn covers(&self, prefix: &str) -> bool {
        if !self.heads.has(prefix) {
            return false;
        }
        let (registry, path) = prefix.split_once('/').unwrap_or((prefix, ""));
        let path = if path.ends_with('-') { path.rsplit_once('/').map_or("", |(dir, _)| dir) } else { path };
        let path = path.trim_end_matches('/');
        let mut name = canonical_registry(registry);
        if !path.is_empty() {
            name.push('/');
            name.push_str(path);
        }
        self.prefixes.binary_search(&name).is_ok()
    }
}

/// The registries of the literal entries of a map's `noswap_wildcards` line (those without `*` or
/// `?` that name a registry). Such an entry is ignored when it names a target's registry or lies
/// under a target (SPEC §3), so the request path must read every line whose target is on one of
/// these registries to know.
#[derive(Debug, Default)]
pub struct Noswap {
    registries: Vec<String>,
    heads: Heads,
}

impl Noswap {
    /// The registries of the literal entries of a `noswap_wildcards` value.
    pub fn new(value: &str) -> Self {
        let mut noswap = Self::default();
        for entry in value.split(',').map(trim_blanks) {
            if let Some(prefix) = literal_registry(entry) {
                noswap.heads.add_registry(&prefix.registry);
                noswap.registries.push(prefix.registry);
            }
        }
        noswap
    }

    /// Whether the rule line `key::value` has a registry target on one of the registries.
    pub fn wants(&self, key: &str, value: &str) -> bool {
        if self.registries.is_empty() || key.starts_with(EXACT_KEYWORD) || !self.heads.has(value) {
            return false;
        }
        let registry = value.split('/').next().unwrap_or_default();
        self.registries.contains(&canonical_registry(registry))
    }
}

/// A `noswap_wildcards` entry without `*` or `?` that is a `registry[/path]`, as a [`Prefix`].
pub fn literal_registry(entry: &str) -> Option<Prefix> {
    if entry.contains(['*', '?']) {
        return None;
    }
    Prefix::parse(entry).ok()
}

/// The first two bytes, in lower case, of every spelling of some registries: most lines of a large
/// map name none of them and are skipped after two bytes.
#[derive(Debug, Default)]
struct Heads(Vec<[u8; 2]>);

impl Heads {
    /// Adds a canonical registry: itself and, for Docker Hub, its aliases.
    fn add_registry(&mut self, registry: &str) {
        let aliases: &[&str] = if registry == DOCKER_HUB { &DOCKER_HUB_ALIASES } else { &[] };
        for spelling in std::iter::once(registry).chain(aliases.iter().copied()) {
            if let Some(head) = head(spelling.as_bytes())
                && !self.0.contains(&head)
            {
                self.0.push(head);
            }
        }
    }

    fn has(&self, text: &str) -> bool {
        head(text.as_bytes()).is_some_and(|first| self.0.contains(&first))
    }
}

/// The first two bytes of a registry spelling, in lower case (`None` if shorter: no registry is).
fn head(text: &[u8]) -> Option<[u8; 2]> {
    match text {
        [first, second, ..] => Some([first.to_ascii_lowercase(), second.to_ascii_lowercase()]),
        _ => None,
    }
}

/// The repository name (last path component, [`Image::repository_name`]) of a reference as
/// written, with `:tag` (`:latest` when none) or `@digest`, without parsing it. `localhost:5000`
/// reads as the name `localhost` with the tag `5000`, as the grammar reads it.
fn identity(reference: &str) -> String {
    let (name_tag, digest) = match reference.split_once('@') {
        Some((name_tag, digest)) => (name_tag, Some(digest)),
        None => (reference, None),
    };
    let last = name_tag.rsplit('/').next().unwrap_or_default();
    let (name, tag) = last.split_once(':').map_or((last, None), |(name, tag)| (name, Some(tag)));
    match digest {
        Some(digest) => concat(&[name, "@", digest]),
        None => concat(&[name, ":", tag.unwrap_or(DEFAULT_TAG)]),
    }
}

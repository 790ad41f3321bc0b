//! The request path's shortcut (docs/behaviour.md §7: a request's cost is linear in its size and the map's):
//! which map lines can decide the images of one request.
//!
//! `validate_settings` checks every line of the map once, when the policy-server loads the policy.
//! A request then builds its index from the lines that can matter to its own images, lexed in one
//! pass, and leaves the rest unparsed. A line is kept when it could take part in any step of
//! docs/behaviour.md §3 for one of the images; the test errs towards keeping, because a kept line that does not
//! apply changes nothing, while a dropped line that applies would change the answer:
//!
//! - `default`, `noswap_wildcards` and every `[`-key other than `[EXACT]` and `[REPLACE]` (an IPv6
//!   registry key starts with `[` too) are always kept;
//! - a registry/path line when its key (step 4) or its target (step 1) is, in canonical form, the
//!   registry of one of the images (with its port, or its host alone: a key without a port covers
//!   every port) followed by whole components of its path;
//! - an `[EXACT]` line when its key (step 2) or its target (step 1) has the registry, the repository
//!   name and the tag or digest of one of the images (the identity `[EXACT]` compares, but for the
//!   namespace);
//! - a `[REPLACE]` line when some spelling of an image (the forms globs are matched against) starts
//!   with the glob's literal beginning (up to its first `*`, `?` or `[`), or when its target
//!   covers an image;
//! - a line whose target is on the registry of a literal `noswap_wildcards` entry ([`Noswap`]),
//!   because such an entry is ignored when it names a target (docs/behaviour.md §3).
//!
//! The images' parts are kept in sorted tables and each line is looked up in them (a binary
//! search), so the cost is the map's size times a logarithm of the request's, whatever their
//! shapes; most lines of a large map fail the first test, two bytes of their key, at once. The
//! tables are sorted rather than hashed because the request's author chooses their contents.

use crate::map::lex::trim_blanks;
use std::borrow::Cow;
use std::cell::OnceCell;

use crate::image::normalize::{DOCKER_HUB_ALIASES, Image, canonical_registry_text, host_without_port};
use crate::image::placeholder;
use crate::image::reference::{DEFAULT_TAG, DOCKER_HUB, names_registry};
use crate::map::lex::{KeyKind, Lines, MapError, MapLine};
use crate::map::rules::{Rules, noswap_value};
use crate::map::targets::literal_registry;

/// The images of one request, in the parts the test compares.
#[derive(Debug, Default)]
pub struct Relevance {
    /// Every canonical registry with `""`, `c1`, `c1/c2`, … of the path of every image, also with
    /// the host without its port; sorted, without duplicates.
    prefixes: Vec<(String, String)>,
    /// Repository name and tag (`latest` when none) or digest of every image; sorted.
    identities: Vec<Identity>,
    /// The images as written and parsed, sorted by their text: for [`Relevance::forms`], and so
    /// that the decisions need not parse them again ([`Relevance::parsed`]).
    images: Vec<(String, Image)>,
    /// Every spelling of every image that `[REPLACE]` globs are matched against, sorted; made on
    /// the first `[REPLACE]` line (most maps have few or none, and large Pods many images).
    forms: OnceCell<Vec<String>>,
    /// The first two bytes, in lower case, of every spelling of the images' registries.
    heads: Heads,
}

/// An index of the lines one request reads ([`Relevance::rules`]): it decides that request's
/// images as the whole map does, and nothing else is known of it (the skipped lines and the
/// dead-rule checks were not read). Its own type, so that it cannot be taken for a checked map
/// ([`Rules`]) by the tools that explain the whole map.
#[derive(Debug, Clone, Default)]
pub struct RequestRules(pub(crate) Rules);

impl Relevance {
    /// The relevance test for these images. Placeholders and images that do not parse are left
    /// out: no rule decides them. Each distinct image is read once.
    pub fn new<'a>(images: impl IntoIterator<Item = &'a str>) -> Self {
        let mut written: Vec<&str> = images.into_iter().filter(|image| placeholder(image).is_none()).collect();
        written.sort_unstable();
        written.dedup();
        let images: Vec<(String, Image)> =
            written.iter().filter_map(|written| Some(((*written).to_owned(), Image::parse(written).ok()?))).collect();
        let mut relevance = Self::default();
        for (_, image) in &images {
            relevance.add(image);
        }
        relevance.prefixes.sort_unstable();
        relevance.prefixes.dedup();
        relevance.identities.sort_unstable();
        relevance.identities.dedup();
        Self { images, ..relevance }
    }

    /// The image `written` parsed, if it is one of these images and parses.
    pub(crate) fn parsed(&self, written: &str) -> Option<&Image> {
        let at = self.images.binary_search_by(|(text, _)| text.as_str().cmp(written)).ok()?;
        self.images.get(at).map(|(_, image)| image)
    }

    fn add(&mut self, image: &Image) {
        let registry = image.registry();
        let hosts = std::iter::once(registry).chain(host_without_port(registry));
        for host in hosts {
            self.heads.add_registry(host);
            self.prefixes.push((host.to_owned(), String::new()));
            let path = image.path();
            let ends = path.match_indices('/').map(|(at, _)| at).chain(std::iter::once(path.len()));
            self.prefixes.extend(ends.filter_map(|end| Some((host.to_owned(), path.get(..end)?.to_owned()))));
        }
        let version = match image.digest() {
            Some(digest) => (true, digest.to_owned()),
            None => (false, image.tag().unwrap_or(DEFAULT_TAG).to_owned()),
        };
        self.identities.push((image.repository_name().to_owned(), version.0, version.1, image.registry().to_owned()));
    }

    /// The request path: indexes only the lines of `map` that can decide these images. The lines
    /// it reads are parsed as [`Rules::parse`] parses them, and give the same decision for these
    /// images; the lines it skips are not checked, and neither are dead rules, because
    /// `validate_settings` checked the whole map before any request.
    pub fn rules(&self, map: &str) -> Result<RequestRules, Vec<MapError>> {
        let noswap = noswap_value(map).map_or_else(Noswap::default, Noswap::new);
        let filter = |line: &MapLine<'_>| self.wants(line.key, line.value) || noswap.wants(line.key, line.value);
        Rules::build(Lines::new(map), Some(&filter)).map(RequestRules)
    }

    /// Whether the rule line `key::value` can take part in deciding one of the images.
    pub fn wants(&self, key: &str, value: &str) -> bool {
        match KeyKind::of(key) {
            KeyKind::Exact(operand) => self.identifies(operand) || self.identifies(value),
            KeyKind::Replace(glob) => self.may_match(glob) || self.covers(value),
            KeyKind::Default | KeyKind::Noswap => true,
            // A misspelled keyword is read, so that the request rejects it as the whole map would.
            KeyKind::Prefix(key) if key.starts_with('[') => true,
            KeyKind::Prefix(key) => self.covers(key) || self.covers(value),
        }
    }

    /// Whether an fnmatch glob can match a spelling of one of the images: the spelling must begin
    /// with the glob's literal text before its first `*`, `?` or `[`.
    fn may_match(&self, glob: &str) -> bool {
        let literal = glob.split(['*', '?', '[']).next().unwrap_or_default();
        let forms = self.forms();
        let first = forms.partition_point(|form| form.as_str() < literal);
        forms.get(first).is_some_and(|form| form.starts_with(literal))
    }

    fn forms(&self) -> &[String] {
        self.forms.get_or_init(|| {
            let mut forms: Vec<String> = self.images.iter().flat_map(|(_, image)| image.forms()).collect();
            forms.sort_unstable();
            forms.dedup();
            forms
        })
    }

    /// Whether `reference` (an `[EXACT]` operand as written) has the repository name and tag or
    /// digest of one of the images.
    fn identifies(&self, reference: &str) -> bool {
        if reference.is_empty() {
            return false;
        }
        let wanted = identity(reference);
        fn version((name, digest, version, _): &Identity) -> (&str, bool, &str) {
            (name, *digest, version)
        }
        let first = self.identities.partition_point(|identity| version(identity) < wanted);
        let mut same = self.identities.iter().skip(first).take_while(|identity| version(identity) == wanted).peekable();
        // Most `[EXACT]` lines of a large map name other repositories or versions.
        if same.peek().is_none() {
            return false;
        }
        let registry = registry_of(reference);
        same.any(|(_, _, _, known)| *known == *registry)
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
        let wanted = (canonical_registry_text(registry), path.trim_end_matches('/'));
        self.prefixes
            .binary_search_by(|(registry, path)| (registry.as_str(), path.as_str()).cmp(&(&wanted.0, wanted.1)))
            .is_ok()
    }
}

/// The registries of the literal entries of a map's `noswap_wildcards` line (those without `*` or
/// `?` that name a registry). Such an entry is ignored when it names a target's registry or lies
/// under a target (docs/behaviour.md §3), so the request path must read every line whose target is on one of
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
        if self.registries.is_empty() || matches!(KeyKind::of(key), KeyKind::Exact(_)) || !self.heads.has(value) {
            return false;
        }
        let registry = canonical_registry_text(value.split('/').next().unwrap_or_default());
        self.registries.iter().any(|known| *known == *registry)
    }
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

/// An image's repository name, whether it is pinned by digest, its tag (`latest` when none) or
/// digest, and its canonical registry: what `[EXACT]` compares, but for the namespace. The name
/// comes first, so that a line naming another repository is told apart before its registry is
/// read.
type Identity = (String, bool, String, String);

/// The canonical registry of a reference as written, without parsing it: its first component when
/// that names a registry by the grammar's rules, else Docker Hub.
fn registry_of(reference: &str) -> Cow<'_, str> {
    match reference.split_once('/') {
        Some((first, _)) if names_registry(first) => canonical_registry_text(first),
        _ => Cow::Borrowed(DOCKER_HUB),
    }
}

/// The [`Identity`] of a reference as written, borrowed from it, without parsing it: the
/// repository name is the last path component ([`Image::repository_name`]). `localhost:5000`
/// reads as the name `localhost` with the tag `5000`, as the grammar reads it.
fn identity(reference: &str) -> (&str, bool, &str) {
    // One pass backwards to the last `/`: the `@` (there is at most one) starts the digest, and
    // the `:` nearest the `/` ends the name (it starts the tag, or, without a tag, the digest's
    // algorithm, which comes after the `@`).
    let (mut start, mut at, mut colon) = (0, None, None);
    for (i, byte) in reference.bytes().enumerate().rev() {
        match byte {
            b'/' => {
                start = i + 1;
                break;
            }
            b'@' => at = Some(i),
            b':' => colon = Some(i),
            _ => {}
        }
    }
    let end = at.into_iter().chain(colon).min().unwrap_or(reference.len());
    let name = reference.get(start..end).unwrap_or_default();
    match at {
        Some(at) => (name, true, reference.get(at + 1..).unwrap_or_default()),
        None => (name, false, colon.and_then(|colon| reference.get(colon + 1..)).unwrap_or(DEFAULT_TAG)),
    }
}

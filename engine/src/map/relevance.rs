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
//!   with the glob's literal beginning (up to its first `*`, `?` or `[`) and, where at most eight
//!   spellings do, the glob matches one of them; or when its target covers an image;
//! - a line whose target is on the registry of a literal `noswap_wildcards` entry ([`Noswap`]),
//!   because such an entry is ignored when it names a target (docs/behaviour.md §3).
//!
//! The images' parts are kept in sorted tables and each line is looked up in them (a binary
//! search), so the cost is the map's size times a logarithm of the request's, whatever their
//! shapes; most lines of a large map fail the first test, two bytes of their key, at once. The
//! tables are sorted rather than hashed because the request's author chooses their contents.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::hash::Hasher;

use crate::bytes;
use crate::image::glob::Glob;
use crate::image::normalize::{DOCKER_HUB_ALIASES, Image, canonical_registry_text, host_without_port};
use crate::image::placeholder;
use crate::image::reference::{DEFAULT_TAG, DOCKER_HUB, familiar_path, names_registry};
use crate::map::hash::Fnv;
use crate::map::lex::{KeyKind, Lines, MapError, MapLine, elements};
use crate::map::rules::{Rules, noswap_value};
use crate::map::targets::literal_registry;
use crate::text::slashes;

/// The images of one request, in the parts the test compares.
#[derive(Debug, Default)]
pub struct Relevance {
    /// Every canonical registry with `""`, `c1`, `c1/c2`, … of the path of every image, also with
    /// the host without its port; each after its [`fingerprint`], sorted, without duplicates.
    /// The texts are the images' own ([`PrefixOf`]), so that a request's many images cost no copies.
    prefixes: Vec<PrefixEntry>,
    /// Repository name and tag (`latest` when none) or digest of every image, each after the
    /// [`identity_fingerprint`] of its name and version; sorted. The number is that of the image
    /// in `images` whose [`Identity`] it is.
    identities: Vec<(u64, usize)>,
    /// The distinct images, parsed, in the order of their texts as written: for
    /// [`Relevance::forms`], and so that the decisions need not parse them again
    /// ([`Relevance::parsed`]).
    images: Vec<Image>,
    /// For each image given to [`Relevance::new`], in its order, its number in `images`
    /// ([`NOT_PARSED`] for a placeholder or an image that does not parse).
    numbers: Vec<u32>,
    /// Every spelling of every image that `[REPLACE]` globs are matched against ([`Image::forms`],
    /// by image and spelling number), sorted by text; made on the first `[REPLACE]` line (most
    /// maps have few or none, and large Pods many images).
    forms: OnceCell<Vec<(usize, usize)>>,
    /// The first two bytes, in lower case, of every spelling of the images' registries.
    heads: Heads,
    /// The first two bytes of every path prefix in `prefixes` of two bytes or more: most keys
    /// under the images' registries name other namespaces.
    path_heads: Heads,
    /// The first two bytes of every spelling in `forms`, known without making them (a canonical
    /// name starts with its registry, a familiar one with its path); `None` when a familiar name
    /// is shorter. Most `[REPLACE]` globs of a map start with a registry none of the images is on,
    /// and then `forms` is never made.
    form_heads: Option<Heads>,
    /// The last byte an `[EXACT]` operand with one of the identities can end with: the last byte
    /// of its tag or digest, or of its name when the tag is `latest` (which may go unwritten).
    identity_ends: Bits<4>,
}

/// The number of an image given to [`Relevance::new`] that is a placeholder or does not parse.
const NOT_PARSED: u32 = u32::MAX;

/// How many spellings beginning with a `[REPLACE]` glob's literal text [`Relevance::wants`]
/// matches the glob against before it reads the line without trying (a bounded cost per line).
const FEW_SPELLINGS: usize = 8;

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
        let images = images.into_iter();
        let mut written: Vec<(&str, usize)> = Vec::with_capacity(images.size_hint().1.unwrap_or_default());
        let mut given = 0;
        for (at, image) in images.enumerate() {
            given += 1;
            if placeholder(image).is_none() {
                written.push((image, at));
            }
        }
        written.sort_unstable_by(|(a, _), (b, _)| bytes::compare(a.as_bytes(), b.as_bytes()));
        // Each distinct text is parsed once, and every place it was given at gets its number.
        let mut numbers = vec![NOT_PARSED; given];
        let mut images = Vec::with_capacity(written.chunk_by(|(a, _), (b, _)| a == b).count());
        for same in written.chunk_by(|(a, _), (b, _)| a == b) {
            let Some(Ok(image)) = same.first().map(|(text, _)| Image::parse(text)) else { continue };
            let number = u32::try_from(images.len()).unwrap_or(NOT_PARSED);
            for (_, at) in same {
                if let Some(slot) = numbers.get_mut(*at) {
                    *slot = number;
                }
            }
            images.push(image);
        }
        drop(written);
        let mut relevance = Self { images, numbers, form_heads: Some(Heads::default()), ..Self::default() };
        let (mut prefixes, mut identities) = (Vec::new(), Vec::new());
        // The prefixes of the image before, in the order they are made: images sorted by text
        // share most of them with the one before (the registry, the first components), and an
        // entry equal to the one in its place there is left out before the sort.
        let (mut before, mut current): (Vec<PrefixEntry>, Vec<PrefixEntry>) = (Vec::new(), Vec::new());
        let images = &relevance.images;
        let prefix_text = |prefix: &PrefixOf| images.get(prefix.image).map(|image| prefix.text(image));
        for (number, image) in images.iter().enumerate() {
            let (registry, path) = (image.registry(), image.path());
            let familiar = (registry == DOCKER_HUB).then(|| familiar_path(path));
            if let Some(heads) = &mut relevance.form_heads {
                match familiar.filter(|familiar| familiar.len() < 2) {
                    Some(_) => relevance.form_heads = None,
                    None => familiar.into_iter().chain([image.name()]).for_each(|name| heads.add(name)),
                }
            }
            let without_port = host_without_port(registry);
            current.clear();
            for host in std::iter::once(registry).chain(without_port) {
                relevance.heads.add_registry(host);
                let ends = slashes(path).chain([path.len()]);
                for path_len in std::iter::once(0).chain(ends) {
                    let prefix = PrefixOf { image: number, host_len: host.len(), path_len };
                    let (host, path) = prefix.text(image);
                    let entry = (fingerprint(host, path), prefix);
                    let seen = before
                        .get(current.len())
                        .is_some_and(|(known, at)| *known == entry.0 && prefix_text(at) == Some((host, path)));
                    current.push(entry);
                    if !seen {
                        relevance.path_heads.add(path);
                        prefixes.push(entry);
                    }
                }
            }
            std::mem::swap(&mut before, &mut current);
            let (name, digest, version, _) = identity_of(image);
            let latest = !digest && version == DEFAULT_TAG;
            let name_end = name.as_bytes().last().filter(|_| latest);
            for end in [version.as_bytes().last(), name_end].into_iter().flatten() {
                relevance.identity_ends.add(usize::from(*end));
            }
            identities.push((identity_fingerprint(name, digest, version), number));
        }
        // By fingerprint, and by text only where fingerprints are equal (as good as never).
        prefixes
            .sort_unstable_by(|(a, a_at), (b, b_at)| a.cmp(b).then_with(|| prefix_text(a_at).cmp(&prefix_text(b_at))));
        prefixes.dedup_by(|(a, a_at), (b, b_at)| a == b && prefix_text(a_at) == prefix_text(b_at));
        let identity = |number: &usize| images.get(*number).map(identity_of);
        identities.sort_unstable_by(|(a, a_at), (b, b_at)| a.cmp(b).then_with(|| identity(a_at).cmp(&identity(b_at))));
        identities.dedup_by(|(a, a_at), (b, b_at)| a == b && identity(a_at) == identity(b_at));
        Self { prefixes, identities, ..relevance }
    }

    /// The image given `at` that place to [`Relevance::new`], parsed, with its number (below
    /// [`Relevance::count`]; the same for the same text), if it parses.
    pub(crate) fn parsed(&self, at: usize) -> Option<(usize, &Image)> {
        let number = usize::try_from(*self.numbers.get(at)?).ok()?;
        self.images.get(number).map(|image| (number, image))
    }

    /// How many images were given to [`Relevance::new`].
    pub(crate) fn given(&self) -> usize {
        self.numbers.len()
    }

    /// How many distinct images parsed.
    pub(crate) fn count(&self) -> usize {
        self.images.len()
    }

    /// The request path: indexes only the lines of `map` that can decide these images. The lines
    /// it reads are parsed as [`Rules::parse`] parses them, and give the same decision for these
    /// images; the lines it skips are not checked, and neither are dead rules, because
    /// `validate_settings` checked the whole map before any request.
    pub fn rules(&self, map: &str) -> Result<RequestRules, Vec<MapError>> {
        let noswap = noswap_value(map).map_or_else(Noswap::default, Noswap::new);
        let wanted = |key: &str, value: &str| self.wants(key, value) || noswap.wants(key, value);
        let filter = |line: &MapLine<'_>| wanted(line.key, line.value);
        Rules::build(Lines::new(map).skimmed(&wanted), Some(&filter)).map(RequestRules)
    }

    /// Whether the rule line `key::value` can take part in deciding one of the images.
    pub fn wants(&self, key: &str, value: &str) -> bool {
        match KeyKind::of(key) {
            KeyKind::Exact(operand) => {
                self.identifies(operand) || elements(value).any(|target| self.identifies(target))
            }
            KeyKind::Replace(glob) => self.may_match(glob) || elements(value).any(|target| self.covers(target)),
            KeyKind::Default | KeyKind::Noswap => true,
            // A misspelled keyword is read, so that the request rejects it as the whole map would.
            KeyKind::Prefix(key) if key.starts_with('[') => true,
            KeyKind::Prefix(key) => self.covers(key) || elements(value).any(|target| self.covers(target)),
        }
    }

    /// Whether an fnmatch glob can match a spelling of one of the images: the spelling must begin
    /// with the glob's literal text before its first `*`, `?` or `[`, and, when at most
    /// [`FEW_SPELLINGS`] do, the glob must match one of them.
    fn may_match(&self, glob: &str) -> bool {
        let literal = glob.split(['*', '?', '[']).next().unwrap_or_default();
        if literal.len() >= 2 && self.form_heads.as_ref().is_some_and(|heads| !heads.has(literal)) {
            return false;
        }
        let forms = self.forms();
        let first = forms.partition_point(|form| self.form(*form) < literal);
        let candidates = (forms.get(first..).unwrap_or_default().iter())
            .map(|form| self.form(*form))
            .take_while(|form| form.starts_with(literal));
        // When few spellings begin with the literal (the lines of a large map that share one
        // beginning, `nginx*-1`, `nginx*-2`, ...), the glob itself tells whether it matches one:
        // a line that matches no spelling decides no image. With more, the line is read.
        match candidates.clone().take(FEW_SPELLINGS + 1).count() {
            0 => false,
            count if count > FEW_SPELLINGS => true,
            _ => Glob::fnmatch_any(glob, candidates),
        }
    }

    fn forms(&self) -> &[(usize, usize)] {
        self.forms.get_or_init(|| {
            let mut forms: Vec<(usize, usize)> = (self.images.iter().enumerate())
                .flat_map(|(number, image)| (0..image.form_count()).map(move |form| (number, form)))
                .collect();
            forms.sort_unstable_by(|a, b| bytes::compare(self.form(*a).as_bytes(), self.form(*b).as_bytes()));
            forms.dedup_by(|a, b| self.form(*a) == self.form(*b));
            forms
        })
    }

    /// Spelling `form` of image `number`.
    fn form(&self, (number, form): (usize, usize)) -> &str {
        self.images.get(number).and_then(|image| image.form(form)).unwrap_or_default()
    }

    /// Whether `reference` (an `[EXACT]` operand as written) has the repository name and tag or
    /// digest of one of the images.
    fn identifies(&self, reference: &str) -> bool {
        // Most `[EXACT]` operands of a large map end with another tag than the images'.
        if !reference.as_bytes().last().is_some_and(|end| self.identity_ends.has(usize::from(*end))) {
            return false;
        }
        // The operand's registry, when its first component names one (else it is on Docker Hub).
        let registry = reference.split_once('/').map(|(first, _)| first).filter(|first| names_registry(first));
        // Many name the images' repositories and tags on other registries: a registry whose head
        // is none of the images' registries' is none of them, and that is cheaper to see than the
        // identity.
        if registry.is_some_and(|first| !self.heads.has(first)) {
            return false;
        }
        let (name, digest, version) = identity(reference);
        let wanted = identity_fingerprint(name, digest, version);
        let first = self.identities.partition_point(|(known, _)| *known < wanted);
        let mut same = self
            .identities
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|(known, _)| *known == wanted)
            .filter_map(|(_, number)| self.images.get(*number).map(identity_of))
            .filter(|(known_name, known_digest, known_version, _)| {
                *known_name == name && *known_digest == digest && *known_version == version
            })
            .peekable();
        // Most `[EXACT]` lines of a large map name other repositories or versions.
        if same.peek().is_none() {
            return false;
        }
        let registry = registry.map_or(Cow::Borrowed(DOCKER_HUB), canonical_registry_text);
        same.any(|(_, _, _, known)| known == registry)
    }

    /// Whether `prefix` (`registry[/path]`, as a key or target is written) can cover one of the
    /// images: in canonical form it is one of their prefixes. A target ending in `/` is compared
    /// without it, one ending in `-` by its directory (it covers names that start with its text).
    fn covers(&self, prefix: &str) -> bool {
        if !self.heads.has(prefix) {
            return false;
        }
        // A plain search: the registry part is short, and this runs for many lines.
        let slash = prefix.bytes().position(|b| b == b'/');
        let (registry, path) = match slash {
            Some(at) => (prefix.get(..at).unwrap_or_default(), prefix.get(at + 1..).unwrap_or_default()),
            None => (prefix, ""),
        };
        let path = if path.ends_with('-') { path.rsplit_once('/').map_or("", |(dir, _)| dir) } else { path };
        let path = path.get(..path.bytes().rposition(|b| b != b'/').map_or(0, |last| last + 1)).unwrap_or_default();
        if path.len() >= 2 && !self.path_heads.has(path) {
            return false;
        }
        let registry = canonical_registry_text(registry);
        // The fingerprint first: most lines that pass the heads name other paths, and a number
        // compares faster than text.
        let wanted = fingerprint(&registry, path);
        let first = self.prefixes.partition_point(|(known, ..)| *known < wanted);
        self.prefixes
            .get(first..)
            .unwrap_or_default()
            .iter()
            .take_while(|(known, _)| *known == wanted)
            .filter_map(|(_, prefix)| self.images.get(prefix.image).map(|image| prefix.text(image)))
            .any(|(known_registry, known_path)| known_registry == registry && known_path == path)
    }
}

/// The registries of the literal entries of a map's `noswap_wildcards` line (those without `*` or
/// `?` that name a registry). Such an entry is ignored when it names a target's registry or lies
/// under a target (docs/behaviour.md §3), so the request path must read every line whose target is on one of
/// these registries to know.
#[derive(Debug, Default)]
pub(crate) struct Noswap {
    registries: Vec<String>,
    heads: Heads,
}

impl Noswap {
    /// The registries of the literal entries of a `noswap_wildcards` value.
    pub(crate) fn new(value: &str) -> Self {
        let mut noswap = Self::default();
        for entry in elements(value) {
            if let Some(prefix) = literal_registry(entry) {
                noswap.heads.add_registry(&prefix.registry);
                noswap.registries.push(prefix.registry);
            }
        }
        noswap
    }

    /// Whether the rule line `key::value` has a registry target on one of the registries.
    pub(crate) fn wants(&self, key: &str, value: &str) -> bool {
        if self.registries.is_empty() || matches!(KeyKind::of(key), KeyKind::Exact(_)) {
            return false;
        }
        elements(value).any(|target| {
            self.heads.has(target) && {
                let registry = canonical_registry_text(target.split('/').next().unwrap_or_default());
                self.registries.iter().any(|known| *known == *registry)
            }
        })
    }
}

/// The first two bytes, in lower case, of every spelling of some registries: most lines of a large
/// map name none of them and are skipped after two bytes. One bit for each pair of bytes (pairs
/// that share a bit only make the test keep more), so that a test costs the same however many
/// registries a request names.
#[derive(Debug, Default)]
struct Heads(Bits<HEAD_WORDS>);

/// Words of [`Heads`]: 4 096 bits.
const HEAD_WORDS: usize = 64;

impl Heads {
    /// Adds a canonical registry: itself and, for Docker Hub, its aliases.
    fn add_registry(&mut self, registry: &str) {
        let aliases: &[&str] = if registry == DOCKER_HUB { &DOCKER_HUB_ALIASES } else { &[] };
        for spelling in std::iter::once(registry).chain(aliases.iter().copied()) {
            self.add(spelling);
        }
    }

    /// Adds the head of `text`, if it has two bytes.
    fn add(&mut self, text: &str) {
        if let Some(head) = head(text.as_bytes()) {
            self.0.add(head);
        }
    }

    #[inline]
    fn has(&self, text: &str) -> bool {
        head(text.as_bytes()).is_some_and(|head| self.0.has(head))
    }
}

/// A set of small numbers, one bit each, in `W` words: the heads above, and the bytes an `[EXACT]`
/// operand can end with ([`Relevance::identity_ends`]).
#[derive(Debug)]
struct Bits<const W: usize>([u64; W]);

impl<const W: usize> Default for Bits<W> {
    fn default() -> Self {
        Self([0; W])
    }
}

impl<const W: usize> Bits<W> {
    fn add(&mut self, bit: usize) {
        if let Some(word) = self.0.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
    }

    #[inline]
    fn has(&self, bit: usize) -> bool {
        self.0.get(bit / 64).is_some_and(|word| word & 1 << (bit % 64) != 0)
    }
}

/// The bit of [`Heads`] for the first two bytes of a registry spelling, in lower case (`None` if
/// shorter: no registry is).
#[inline]
fn head(text: &[u8]) -> Option<usize> {
    match text {
        [first, second, ..] => {
            let (first, second) = (usize::from(first.to_ascii_lowercase()), usize::from(second.to_ascii_lowercase()));
            Some(((first << 5) ^ second) % (HEAD_WORDS * 64))
        }
        _ => None,
    }
}

/// A registry and path prefix as one number (FNV-1a over both, a byte no text holds between
/// them): what the prefix table is searched by before any text is compared.
fn fingerprint(registry: &str, path: &str) -> u64 {
    let mut hash = Fnv::default();
    hash.write(registry.as_bytes());
    hash.write(&[0xff]);
    hash.write(path.as_bytes());
    hash.finish()
}

/// A repository name, whether it is pinned by digest, and its tag or digest as one number
/// ([`fingerprint`]'s hash; written out, because the request path computes it for many lines):
/// what the identity table is searched by before any text is compared.
fn identity_fingerprint(name: &str, digest: bool, version: &str) -> u64 {
    let mut hash = Fnv::default();
    hash.write(name.as_bytes());
    hash.write(&[0xff, u8::from(digest)]);
    hash.write(version.as_bytes());
    hash.finish()
}

/// An image's repository name, whether it is pinned by digest, its tag (`latest` when none) or
/// digest, and its canonical registry: what `[EXACT]` compares, but for the namespace. The name
/// comes first, so that a line naming another repository is told apart before its registry is
/// read.
type Identity<'a> = (&'a str, bool, &'a str, &'a str);

/// The [`Identity`] of an image.
fn identity_of(image: &Image) -> Identity<'_> {
    let (digest, version) = match image.digest() {
        Some(digest) => (true, digest),
        None => (false, image.tag().unwrap_or(DEFAULT_TAG)),
    };
    (image.repository_name(), digest, version, image.registry())
}

/// A prefix after its [`fingerprint`].
type PrefixEntry = (u64, PrefixOf);

/// One entry of [`Relevance`]'s prefix table, as a place in an image's name: the image's number,
/// how many bytes of its registry (all, or its host without the port) and of its path.
#[derive(Debug, Clone, Copy)]
struct PrefixOf {
    image: usize,
    host_len: usize,
    path_len: usize,
}

impl PrefixOf {
    /// The registry (or host) and the path prefix, in `image`.
    fn text(self, image: &Image) -> (&str, &str) {
        let host = image.registry().get(..self.host_len).unwrap_or_default();
        (host, image.path().get(..self.path_len).unwrap_or_default())
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The valid images of the reference vectors, with short Docker Hub names and upper-case
    /// registries beside them.
    fn vector_images() -> Vec<String> {
        let vectors: Vec<Value> =
            serde_json::from_str(include_str!("../../../tests/cases/reference-vectors.json")).unwrap();
        let inputs = vectors.iter().filter_map(|v| Some(v.get("input")?.as_str()?.to_owned()));
        let extra = ["ab", "ab:1", "a/b:2", "A/b", "x", "docker.io/y:1", "Quay.IO/x/y", "docker.io/library/ng"];
        let images: Vec<String> = inputs
            .chain(extra.iter().map(|extra| (*extra).to_owned()))
            .filter(|input| Image::parse(input).is_ok())
            .collect();
        assert!(images.len() > 50, "the reference vectors lost their valid images");
        images
    }

    /// Reading an identity from the text, without parsing it, gives what the parsed image gives.
    #[test]
    fn an_identity_read_from_the_text_is_the_parsed_images() {
        for text in vector_images() {
            let image = Image::parse(&text).unwrap();
            let (name, digest, version, _) = identity_of(&image);
            assert_eq!(identity(&text), (name, digest, version), "{text}");
        }
    }

    /// The form heads only skip a glob that the spellings themselves refuse: every literal that
    /// begins a spelling of one of the images is still wanted.
    #[test]
    fn a_glob_that_begins_a_spelling_is_never_skipped_by_the_heads() {
        let images = vector_images();
        let mut filtered = 0;
        for one in &images {
            let relevance = Relevance::new([one.as_str()]);
            filtered += usize::from(relevance.form_heads.is_some());
            let image = Image::parse(one).unwrap();
            for form in image.forms() {
                for end in (1..=form.len()).filter(|end| form.is_char_boundary(*end)) {
                    let literal = &form[..end];
                    // `[` begins a set in a glob (an IPv6 host): `[[]` is the character itself.
                    let glob = literal.replace('[', "[[]") + "*";
                    assert!(relevance.may_match(&glob), "{one}: {literal:?} of {form:?}");
                }
            }
        }
        assert!(filtered > 50, "only {filtered} images had form heads");
        // And skips one that begins none: the heads are tested, not bypassed.
        let relevance = Relevance::new(["quay.io/org/app:1"]);
        assert!(!relevance.may_match("ghcr.io/org/*") && relevance.forms.get().is_none());
    }

    /// A `[REPLACE]` glob is matched against the few spellings that begin with its literal: the
    /// lines of a large map that begin like an image but match none of its spellings are not
    /// read; when more than [`FEW_SPELLINGS`] begin with it, the line is read without trying.
    #[test]
    fn a_glob_is_matched_against_the_few_spellings_that_begin_with_its_literal() {
        let relevance = Relevance::new(["nginx"]);
        assert!(!relevance.may_match("nginx*-1"));
        assert!(relevance.may_match("nginx*"));
        assert!(relevance.may_match("docker.io/library/ngin?:latest"));
        assert!(!relevance.may_match("docker.io/library/ngin[!x]:1"));
        let many: Vec<String> = (0..=FEW_SPELLINGS).map(|i| format!("quay.io/app{i}:1")).collect();
        let some = Relevance::new(many.iter().take(FEW_SPELLINGS).map(String::as_str));
        assert!(!some.may_match("quay.io/app*-none"));
        assert!(some.may_match("quay.io/app*:1"));
        let all = Relevance::new(many.iter().map(String::as_str));
        assert!(all.may_match("quay.io/app*-none"));
    }

    /// Each image given gets the number of its text, the same for the same text; placeholders
    /// and images that do not parse get none.
    #[test]
    fn every_place_an_image_is_given_at_gets_the_number_of_its_text() {
        let given = ["quay.io/b:1", " ", "nginx", "quay.io/b:1", "Bad::image", "nginx", ""];
        let relevance = Relevance::new(given);
        assert_eq!(relevance.given(), given.len());
        assert_eq!(relevance.count(), 2);
        let numbers: Vec<Option<usize>> = (0..given.len()).map(|at| relevance.parsed(at).map(|(n, _)| n)).collect();
        assert_eq!(numbers, [Some(1), None, Some(0), Some(1), None, Some(0), None]);
        assert_eq!(relevance.parsed(2).unwrap().1.as_str(), "docker.io/library/nginx");
        assert!(relevance.parsed(given.len()).is_none());
    }
}

//! The container image reference grammar of github.com/distribution/reference, hand-written.
//!
//! The grammar, once (it is what `regexp.go` of the reference implementation compiles):
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] remote-name
//! domain           := host [ ":" port-number ]
//! host             := domain-name | "[" ipv6 "]"
//! domain-name      := domain-component ( "." domain-component )*
//! domain-component := [a-zA-Z0-9] | [a-zA-Z0-9] [a-zA-Z0-9-]* [a-zA-Z0-9]
//! ipv6             := [a-fA-F0-9:]+
//! port-number      := [0-9]+
//! remote-name      := path-component ( "/" path-component )*     (at most 255 bytes)
//! path-component   := alnum ( separator alnum )*
//! alnum            := [a-z0-9]+
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest           := algorithm ":" hex
//! algorithm        := component ( [-_+.] component )*,  component := [A-Za-z] [A-Za-z0-9]*
//! hex              := [0-9a-fA-F]{32,}
//! ```
//!
//! [`Reference::parse`] is `ParseNormalizedNamed`: it splits off the Docker Hub defaults the way
//! `splitDockerDomain` does (a first component is a domain when it contains `.` or `:`, is
//! `localhost`, or has an upper-case letter; `index.docker.io` becomes `docker.io`; a one-component
//! Docker Hub name gets `library/`) and keeps everything else as written. The further folding that
//! docs/behaviour.md §3 asks for (case, the other Docker Hub aliases) is [`crate::image::normalize`]'s job.
//!
//! Departures from the reference implementation: a registry host longer than [`MAX_HOST_LEN`]
//! bytes is an error ([`RefErrorKind::RegistryTooLong`]); and a first component that the Docker Hub rules call
//! a domain but that is not a valid host (`foo_bar.com/app`) is an error here. Upstream then
//! re-reads the whole name as a Docker Hub path with an empty domain, a reference no registry
//! serves.

use std::fmt;

use crate::text::{concat, rsplit_once_byte, split_once_byte};

/// The registry of images written without one.
pub const DOCKER_HUB: &str = "docker.io";
/// The legacy Docker Hub name that distribution/reference itself folds into [`DOCKER_HUB`].
pub(crate) const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// The namespace of Docker Hub's official images, added to one-component Docker Hub names.
pub(crate) const OFFICIAL_PREFIX: &str = "library/";
/// The tag a runtime pulls when a reference has neither tag nor digest.
pub(crate) const DEFAULT_TAG: &str = "latest";
/// The host that counts as a registry without a dot or a port.
pub(crate) const LOCALHOST: &str = "localhost";
/// Longest remote name (path) the grammar allows, in bytes.
pub const MAX_PATH_LEN: usize = 255;
/// Longest tag the grammar allows, in bytes.
pub const MAX_TAG_LEN: usize = 128;
/// Longest registry host (the port not counted), in bytes: DNS's limit for a name. The grammar
/// has none; without it a single image could be a megabyte of host name that every glob and
/// noswap pattern then scans.
pub const MAX_HOST_LEN: usize = 253;

/// Why a reference does not parse. Each kind matches one error of distribution/reference. The
/// case tables name kinds by their variant names (deserialized, then compared as kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub enum RefErrorKind {
    /// The text does not follow the grammar (`invalid reference format`).
    InvalidFormat,
    /// The repository name has upper-case letters (`repository name must be lowercase`).
    NotLowercase,
    /// The path is longer than [`MAX_PATH_LEN`] (`repository name must not be more than 255 characters`).
    NameTooLong,
    /// The text is a 64-hex image ID, not a name (`cannot specify 64-byte hexadecimal strings`).
    HexIdentifier,
    /// The digest algorithm is not sha256, sha384 or sha512 (`unsupported digest algorithm`).
    UnsupportedDigest,
    /// The digest's hex part has the wrong length for its algorithm (`invalid checksum digest length`).
    DigestLength,
    /// The digest's hex part is not lower-case hex (`invalid checksum digest format`).
    DigestFormat,
    /// The first component is taken for a registry but is not a valid host name (see module docs).
    InvalidRegistry,
    /// The registry host is longer than [`MAX_HOST_LEN`] (a departure: the grammar has no limit).
    RegistryTooLong,
}

impl RefErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::InvalidFormat => "invalid reference format",
            Self::NotLowercase => "repository name must be lowercase",
            Self::NameTooLong => "repository name must not be more than 255 characters",
            Self::HexIdentifier => "a 64-character hexadecimal image ID is not an image name",
            Self::UnsupportedDigest => "unsupported digest algorithm (use sha256, sha384 or sha512)",
            Self::DigestLength => "invalid checksum digest length",
            Self::DigestFormat => "invalid checksum digest format (lower-case hex expected)",
            Self::InvalidRegistry => "the registry is not a valid host name",
            Self::RegistryTooLong => "the registry host is longer than 253 bytes (DNS's limit)",
        }
    }
}

/// An image reference that does not parse, with the text that was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    /// The text as given.
    pub input: String,
    /// What is wrong with it.
    pub kind: RefErrorKind,
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a valid image reference: {}", self.input, self.kind.describe())
    }
}

impl std::error::Error for RefError {}

/// A parsed image reference, as `ParseNormalizedNamed` of distribution/reference returns it.
/// Its parts are kept in one text, `domain/path[:tag][@digest]` (a large Pod has tens of
/// thousands of references, and each part in its own allocation cost more than the parse).
#[derive(Clone, PartialEq, Eq)]
pub struct Reference {
    text: String,
    /// Where the domain ends (at the `/`).
    domain_end: usize,
    /// Where the path ends.
    path_end: usize,
    /// Where the tag ends: `path_end` when there is none. A digest follows, after `@`, when the
    /// text goes on.
    tag_end: usize,
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("domain", &self.domain())
            .field("path", &self.path())
            .field("tag", &self.tag())
            .field("digest", &self.digest())
            .finish()
    }
}

impl Reference {
    /// Parses `input` with the Docker Hub defaults of `ParseNormalizedNamed`.
    pub fn parse(input: &str) -> Result<Self, RefError> {
        let fail = |kind| RefError { input: input.to_owned(), kind };
        if input.len() == 64 && input.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(fail(RefErrorKind::HexIdentifier));
        }
        let (domain, remainder) = split_docker_domain(input);
        if split_port(domain).0.len() > MAX_HOST_LEN {
            return Err(fail(RefErrorKind::RegistryTooLong));
        }
        let remote = split_once_byte(&remainder, b':').map_or(remainder.as_ref(), |(name, _)| name);
        if remote.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(fail(RefErrorKind::NotLowercase));
        }
        let reference = parse_parts(domain, &remainder).map_err(fail)?;
        if domain == DOCKER_HUB && !reference.path().contains('/') {
            let path = concat(&[OFFICIAL_PREFIX, reference.path()]);
            return Ok(reference.with_name(None, Some(path)));
        }
        Ok(reference)
    }

    /// The reference made of these parts.
    fn from_parts(domain: &str, path: &str, tag: Option<&str>, digest: Option<&str>) -> Self {
        let suffix = tag.map_or(0, |tag| tag.len() + 1) + digest.map_or(0, |digest| digest.len() + 1);
        let mut text = String::with_capacity(domain.len() + 1 + path.len() + suffix);
        text.push_str(domain);
        let domain_end = text.len();
        text.push('/');
        text.push_str(path);
        let path_end = text.len();
        let text = with_suffix(text, tag, None);
        let tag_end = text.len();
        Self { text: with_suffix(text, None, digest), domain_end, path_end, tag_end }
    }

    /// The registry, as written (or `docker.io`), port included.
    pub fn domain(&self) -> &str {
        self.text.get(..self.domain_end).unwrap_or_default()
    }

    /// The repository path, with `library/` where distribution/reference adds it.
    pub fn path(&self) -> &str {
        self.text.get(self.domain_end + 1..self.path_end).unwrap_or_default()
    }

    /// `domain/path`, the name without tag or digest.
    pub fn name(&self) -> &str {
        self.text.get(..self.path_end).unwrap_or_default()
    }

    /// The whole reference, `domain/path[:tag][@digest]` (what [`fmt::Display`] prints).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The tag as written, if any.
    pub fn tag(&self) -> Option<&str> {
        self.text.get(self.path_end + 1..self.tag_end)
    }

    /// The digest as written (`sha256:…`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.text.get(self.tag_end + 1..)
    }

    /// The same tag and digest on another registry and path, where given.
    pub fn with_name(self, domain: Option<String>, path: Option<String>) -> Self {
        if domain.is_none() && path.is_none() {
            return self;
        }
        let (domain, path) = (domain.as_deref().unwrap_or(self.domain()), path.as_deref().unwrap_or(self.path()));
        Self::from_parts(domain, path, self.tag(), self.digest())
    }

    /// The reference as `FamiliarString` prints it: Docker Hub's `docker.io/` and a single-level
    /// `library/` removed.
    pub fn familiar(&self) -> String {
        let name = familiar_name(self.domain(), self.path());
        with_suffix(name, self.tag(), self.digest())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `name` followed by `:tag` and `@digest` where present.
pub(crate) fn with_suffix(mut name: String, tag: Option<&str>, digest: Option<&str>) -> String {
    if let Some(tag) = tag {
        name.push(':');
        name.push_str(tag);
    }
    if let Some(digest) = digest {
        name.push('@');
        name.push_str(digest);
    }
    name
}

/// The familiar spelling of a name on `domain`: Docker Hub's `docker.io/` and a single-level
/// `library/` removed (`familiarizeName` of distribution/reference).
pub(crate) fn familiar_name(domain: &str, path: &str) -> String {
    if domain != DOCKER_HUB {
        return concat(&[domain, "/", path]);
    }
    familiar_path(path).to_owned()
}

/// The familiar spelling of a Docker Hub path: a single-level `library/` removed.
pub(crate) fn familiar_path(path: &str) -> &str {
    match path.strip_prefix(OFFICIAL_PREFIX) {
        Some(rest) if !rest.contains('/') => rest,
        _ => path,
    }
}

/// `splitDockerDomain`: the domain and the rest, with Docker Hub's defaults.
fn split_docker_domain(input: &str) -> (&str, std::borrow::Cow<'_, str>) {
    let (domain, remainder) = match split_once_byte(input, b'/') {
        Some((first, rest)) if names_registry(first) => (first, rest),
        _ => (DOCKER_HUB, input),
    };
    let domain = if domain == LEGACY_DOCKER_HUB { DOCKER_HUB } else { domain };
    let remainder = if domain == DOCKER_HUB && !remainder.contains('/') {
        std::borrow::Cow::Owned(concat(&[OFFICIAL_PREFIX, remainder]))
    } else {
        std::borrow::Cow::Borrowed(remainder)
    };
    (domain, remainder)
}

// What counts as a registry, side by side. The first component of a name is a registry…
//
// - in an image ([`names_registry`], distribution/reference's rule): when it contains `.` or `:`,
//   is `localhost`, or has an upper-case letter (`Foo/bar` is on the registry `foo`);
// - in a map key, a target or an `imagePullSecrets` key ([`names_registry_strictly`],
//   docs/behaviour.md §3): when it contains `.` or `:` or is `localhost`, so `bitnami::x` is an
//   error with a hint rather than a registry named `bitnami`;
// - to the upstream webhook, which `imageswap migrate` notes and `cli/src/upstream.rs` emulates:
//   when it contains `.` (so `localhost:5000::x` never matched there).

/// Whether the first component of an image's name is a registry by the Docker Hub rules: it
/// contains `.` or `:`, is `localhost`, or has an upper-case letter.
pub(crate) fn names_registry(first: &str) -> bool {
    first.bytes().any(|b| b == b'.' || b == b':' || b.is_ascii_uppercase()) || first == LOCALHOST
}

/// The registry test of docs/behaviour.md §3 for keys, targets and pull-secret registries: the
/// first component contains `.` or `:` or is `localhost` (an upper-case first component, a
/// registry to the image grammar, is not enough here).
pub fn names_registry_strictly(first: &str) -> bool {
    first.bytes().any(|b| b == b'.' || b == b':') || first == LOCALHOST
}

/// `Parse(domain + "/" + remainder)`: checks every part against the grammar.
fn parse_parts(domain: &str, remainder: &str) -> Result<Reference, RefErrorKind> {
    let (name_tag, digest) = match split_once_byte(remainder, b'@') {
        Some((name_tag, digest)) => (name_tag, Some(digest)),
        None => (remainder, None),
    };
    let (path, tag) = match rsplit_once_byte(name_tag, b':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (name_tag, None),
    };
    let grammar_ok =
        is_path(path) && tag.is_none_or(is_tag) && digest.is_none_or(is_digest_syntax) && is_domain(domain);
    if !grammar_ok {
        return Err(grammar_error(domain, path, tag, digest));
    }
    if path.len() > MAX_PATH_LEN {
        return Err(RefErrorKind::NameTooLong);
    }
    if let Some(digest) = digest {
        validate_digest(digest)?;
    }
    Ok(Reference::from_parts(domain, path, tag, digest))
}

/// Which error distribution/reference gives for text that does not follow the grammar.
fn grammar_error(domain: &str, path: &str, tag: Option<&str>, digest: Option<&str>) -> RefErrorKind {
    let tail_ok = tag.is_none_or(is_tag) && digest.is_none_or(is_digest_syntax);
    if tail_ok && is_path(path) && !is_domain(domain) {
        // Upstream would re-read the whole name as a Docker Hub path; see the module docs.
        let whole = format!("{domain}/{path}");
        if is_path(&whole) {
            return RefErrorKind::InvalidRegistry;
        }
        if is_path(&whole.to_ascii_lowercase()) {
            return RefErrorKind::NotLowercase;
        }
    }
    RefErrorKind::InvalidFormat
}

/// `domain := host [":" port]`, host a domain name or a bracketed IPv6 address.
pub(crate) fn is_domain(domain: &str) -> bool {
    let (host, port) = split_port(domain);
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && (is_ipv6_host(host) || (!host.is_empty() && host.as_bytes().split(|b| *b == b'.').all(is_domain_component)))
}

/// Splits `host[:port]` into the host and the port text (without the colon).
pub(crate) fn split_port(domain: &str) -> (&str, Option<&str>) {
    if domain.starts_with('[')
        && let Some(end) = domain.find(']')
    {
        let (host, rest) = domain.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None => (domain, None),
        };
    }
    match split_once_byte(domain, b':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    }
}

fn is_ipv6_host(host: &str) -> bool {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|inner| !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'))
}

fn is_domain_component(component: &[u8]) -> bool {
    match (component.first(), component.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && component.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        }
        _ => false,
    }
}

/// `remote-name := path-component ("/" path-component)*`.
pub(crate) fn is_path(path: &str) -> bool {
    // Split as bytes: a `str` split searches for a `char`, which costs more than the check.
    path.as_bytes().split(|b| *b == b'/').all(is_path_component)
}

/// `path-component := alnum (separator alnum)*`, separators `.`, `_`, `__` or a run of `-`.
fn is_path_component(bytes: &[u8]) -> bool {
    let alnum = |b: &&u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let run = i;
        while bytes.get(i).filter(alnum).is_some() {
            i += 1;
        }
        if i == run {
            return false;
        }
        match bytes.get(i) {
            None => return true,
            Some(b'_') => i += if bytes.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            Some(b'.') => i += 1,
            Some(b'-') => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            Some(_) => return false,
        }
    }
}

/// `tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    tag.len() <= MAX_TAG_LEN
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// The digest syntax the grammar accepts (looser than a valid digest).
fn is_digest_syntax(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let component = |c: &str| {
        c.bytes().next().is_some_and(|b| b.is_ascii_alphabetic()) && c.bytes().all(|b| b.is_ascii_alphanumeric())
    };
    algorithm.split(['-', '_', '+', '.']).all(component)
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Validate`: a known algorithm, the right length, lower-case hex.
fn validate_digest(digest: &str) -> Result<(), RefErrorKind> {
    let (algorithm, hex) = digest.split_once(':').ok_or(RefErrorKind::InvalidFormat)?;
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(RefErrorKind::UnsupportedDigest),
    };
    if hex.len() != hex_len {
        return Err(RefErrorKind::DigestLength);
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RefErrorKind::DigestFormat);
    }
    Ok(())
}

/// The grammar's parts against distribution/reference's own vectors (the table the integration
/// tests run through [`Reference::parse`]): each part of a valid reference passes the predicate
/// for its kind, and `splitDockerDomain` splits each name as upstream does.
#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::Value;

    fn vectors() -> Vec<Value> {
        serde_json::from_str(include_str!("../../../tests/cases/reference-vectors.json")).unwrap()
    }

    fn field<'v>(vector: &'v Value, name: &str) -> &'v str {
        vector.get(name).and_then(Value::as_str).unwrap_or_default()
    }

    #[test]
    fn every_part_of_a_valid_vector_passes_its_predicate() {
        let valid: Vec<Value> = vectors().into_iter().filter(|v| v["valid"] == true).collect();
        assert!(valid.len() > 50, "the table lost its valid rows");
        for vector in &valid {
            let input = field(vector, "input");
            let (domain, path, tag) = (field(vector, "domain"), field(vector, "path"), field(vector, "tag"));
            assert!(is_domain(domain), "{input}: domain {domain:?}");
            assert!(is_path(path), "{input}: path {path:?}");
            assert!(tag.is_empty() || is_tag(tag), "{input}: tag {tag:?}");
            let digest = field(vector, "digest");
            assert!(digest.is_empty() || validate_digest(digest).is_ok(), "{input}: digest {digest:?}");
            let (host, port) = split_port(domain);
            let rejoined = port.map_or_else(|| host.to_owned(), |port| format!("{host}:{port}"));
            assert_eq!(rejoined, domain, "{input}: split_port");
        }
    }

    #[test]
    fn split_docker_domain_splits_every_valid_name_as_upstream() {
        for vector in vectors().iter().filter(|v| v["valid"] == true) {
            let input = field(vector, "input");
            let name = input.split('@').next().unwrap_or_default();
            // The tag follows the last `:` after the last `/`.
            let slash = name.rfind('/').map_or(0, |at| at + 1);
            let name = match name[slash..].rfind(':') {
                Some(colon) => &name[..slash + colon],
                None => name,
            };
            let (domain, path) = split_docker_domain(name);
            assert_eq!((domain, path.as_ref()), (field(vector, "domain"), field(vector, "path")), "{input}");
        }
    }
}

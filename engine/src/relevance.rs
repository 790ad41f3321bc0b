//! The request path's shortcut (SPEC §7: the cost of a request must not grow with the map): which
//! map lines can decide the images of one request.
//!
//! `validate_settings` checks every line of the map once, when the policy-server loads the policy.
//! A request then builds its index from the lines that can matter to its own images, lexed in one
//! pass, and leaves the rest unparsed. A line is kept when it could take part in any step of
//! SPEC §3 for one of the images; the test errs towards keeping, because a kept line that does not
//! apply changes nothing, while a dropped line that applies would change the answer:
//!
//! - `default`, `noswap_wildcards` and every `[`-key other than `[EXACT]` and `[REPLACE]` (an IPv6
//!   registry key starts with `[` too) are always kept;
//! - a `[REPLACE]` line when some spelling of an image (the forms globs are matched against) starts
//!   with the glob's literal beginning (up to its first `*`, `?` or `[`), or when its target
//!   covers an image;
//! - an `[EXACT]` line when its key or its target has the repository name (the last path
//!   component) of one of the images: both the key and the target (step 1) compare whole images;
//! - a registry/path line when its key or its target names one of the images' registries (in any
//!   case, any Docker Hub alias, or the host without the image's port) and its path is a prefix of
//!   that image's path: both the key (step 4) and the target (step 1) cover images by prefix.

use crate::normalize::{DOCKER_HUB_ALIASES, Image, host_without_port};
use crate::reference::DOCKER_HUB;
use crate::rules::{DEFAULT_KEY, EXACT_KEYWORD, NOSWAP_KEY, REPLACE_KEYWORD};

/// One image of the request, in the parts the test compares.
#[derive(Debug)]
struct Wanted {
    /// Every spelling of a first component that names the image's registry, in lower case: the
    /// canonical registry, its host without the port (a key without a port covers every port),
    /// and for Docker Hub its aliases.
    registries: Vec<String>,
    /// Canonical path.
    path: String,
    /// The path's last component.
    name: String,
}

impl Wanted {
    fn new(image: &Image) -> Self {
        let registry = image.registry();
        let mut registries = vec![registry.to_ascii_lowercase()];
        registries.extend(host_without_port(registry).map(str::to_ascii_lowercase));
        if registry == DOCKER_HUB {
            registries.extend(DOCKER_HUB_ALIASES.iter().filter(|alias| **alias != DOCKER_HUB).map(|a| (*a).to_owned()));
        }
        Self { registries, path: image.path().to_owned(), name: image.repository_name().to_owned() }
    }

    /// Whether `prefix` (`registry[/path]`) names this image's registry, in any case, and its
    /// path (without a trailing `/`) begins this image's path.
    fn under(&self, prefix: &str) -> bool {
        let bytes = prefix.as_bytes();
        self.registries.iter().any(|registry| {
            let path = match bytes.get(registry.len()) {
                None => "",
                Some(b'/') => prefix.get(registry.len() + 1..).unwrap_or_default(),
                Some(_) => return false,
            };
            bytes.get(..registry.len()).is_some_and(|first| first.eq_ignore_ascii_case(registry.as_bytes()))
                && self.path.starts_with(path.strip_suffix('/').unwrap_or(path))
        })
    }
}

/// The images of one request, and the test of whether a map line can decide any of them.
#[derive(Debug, Default)]
pub struct Relevance {
    images: Vec<Wanted>,
    /// The first two bytes, in lower case, of every registry spelling of every image: most lines
    /// of a large map fail this test and are skipped after two bytes.
    heads: Vec<[u8; 2]>,
    /// Every spelling of every image that `[REPLACE]` globs are matched against.
    forms: Vec<String>,
}

impl Relevance {
    /// The relevance test for these images. Images that do not parse are left out: they cannot be
    /// decided, whatever the map says.
    pub fn new<'a>(images: impl IntoIterator<Item = &'a str>) -> Self {
        let parsed: Vec<Image> = images.into_iter().filter_map(|written| Image::parse(written).ok()).collect();
        let forms = parsed.iter().flat_map(Image::forms).collect();
        let images: Vec<Wanted> = parsed.iter().map(Wanted::new).collect();
        let heads = images.iter().flat_map(|image| &image.registries).filter_map(|r| head(r.as_bytes())).collect();
        Self { images, heads, forms }
    }

    /// Whether the rule line `key::value` can take part in deciding one of the images.
    pub fn wants(&self, key: &str, value: &str) -> bool {
        match key.as_bytes().first() {
            Some(b'[') => {
                if let Some(operand) = key.strip_prefix(EXACT_KEYWORD) {
                    self.names(operand) || self.names(value)
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
        self.forms.iter().any(|form| form.starts_with(literal))
    }

    /// Whether `reference` has the repository name of one of the images.
    fn names(&self, reference: &str) -> bool {
        let name = repository_name(reference);
        self.images.iter().any(|image| image.name == name)
    }

    /// Whether `prefix` (`registry[/path]`, as a key or target is written) can cover one of the
    /// images.
    fn covers(&self, prefix: &str) -> bool {
        head(prefix.as_bytes()).is_some_and(|first| self.heads.contains(&first))
            && self.images.iter().any(|image| image.under(prefix))
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
/// written, without parsing it: digest, tag and every component before the last removed. `localhost:5000` reads as the name `localhost` with the tag
/// `5000`, as the grammar reads it.
fn repository_name(reference: &str) -> &str {
    // Backwards from the end to the last `/`: a `@` ends the name there, and the `:` nearest the
    // `/` starts the tag.
    let bytes = reference.as_bytes();
    let (mut start, mut end) = (0, bytes.len());
    for at in (0..bytes.len()).rev() {
        match bytes.get(at) {
            Some(b'/') => {
                start = at + 1;
                break;
            }
            Some(b'@' | b':') => end = at,
            _ => {}
        }
    }
    reference.get(start..end).unwrap_or_default()
}

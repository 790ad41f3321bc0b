//! SPEC §3 "The swap map", first half: map text → numbered `key::value` lines, and the errors every
//! later stage reports against a line.

use std::fmt;

use crate::reference::RefError;

/// Largest map accepted, in bytes.
pub const MAX_MAP_BYTES: usize = 1 << 20;
/// Most rule lines a map may hold.
pub const MAX_RULES: usize = 20_000;
/// Longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 4096;

/// What is wrong with a map line (or, for [`MapErrorKind::MapTooBig`] and
/// [`MapErrorKind::TooManyRules`], with the whole map).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapErrorKind {
    /// Neither `::` nor a single `:` separates key and value.
    NoSeparator,
    /// Space or tab (or another control character) inside the key or the value.
    Whitespace,
    /// Nothing before the separator.
    EmptyKey,
    /// `[EXACT]` or `[REPLACE]` with nothing after it.
    EmptyOperand(&'static str),
    /// A special key or keyword spelled another way (`DEFAULT`, `[exact]`); holds the right one.
    Misspelled(&'static str),
    /// A `[WORD]` that is not a keyword.
    UnknownKeyword(String),
    /// A registry key whose first component is not a registry; holds the key.
    KeyNotRegistry(String),
    /// A registry key that does not follow the grammar; holds the reason.
    InvalidKey(&'static str),
    /// A target that is not what its rule needs; holds the reason.
    InvalidTarget(&'static str),
    /// An `[EXACT]` operand or target that does not parse.
    InvalidImage(RefError),
    /// The key was already given on the line held here (keys compare in canonical form).
    Duplicate(usize),
    /// The key lies under the target on the line held here, so the rule could never apply.
    UnderTarget(usize),
    /// The line is longer than [`MAX_LINE_BYTES`].
    LineTooLong,
    /// The map is larger than [`MAX_MAP_BYTES`].
    MapTooBig,
    /// The map has more than [`MAX_RULES`] rules.
    TooManyRules,
}

/// A map error: the 1-based line, its text and what is wrong. Line 0 means the whole map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    /// 1-based line number; 0 for errors about the whole map.
    pub line: usize,
    /// The line as written (without its line ending).
    pub text: String,
    /// What is wrong.
    pub kind: MapErrorKind,
}

/// How much of a line an error message quotes.
const QUOTED_CHARS: usize = 120;

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            let quoted: String = self.text.chars().take(QUOTED_CHARS).collect();
            let ellipsis = if quoted.len() < self.text.len() { "…" } else { "" };
            write!(f, "line {} {:?}{ellipsis}: ", self.line, quoted)?;
        }
        match &self.kind {
            MapErrorKind::NoSeparator => f.write_str("expected `key::target` (no `::` separator)"),
            MapErrorKind::Whitespace => f.write_str("whitespace inside the key or the target"),
            MapErrorKind::EmptyKey => f.write_str("empty key before `::`"),
            MapErrorKind::EmptyOperand(keyword) => write!(f, "{keyword} needs an operand before `::`"),
            MapErrorKind::Misspelled(right) => write!(f, "unknown key; did you mean `{right}`? (spelled exactly so)"),
            MapErrorKind::UnknownKeyword(word) => {
                write!(f, "unknown keyword `{word}`; the keywords are `[EXACT]` and `[REPLACE]`")
            }
            MapErrorKind::KeyNotRegistry(key) => {
                write!(f, "key must start with a registry (a host with `.` or `:`, or `localhost`); did you mean `docker.io/{key}` (a Docker Hub namespace)")?;
                if key.contains('/') {
                    f.write_str("?")
                } else {
                    write!(f, " or `docker.io/library/{key}` (the official image)?")
                }
            }
            MapErrorKind::InvalidKey(why) => write!(f, "invalid key: {why}"),
            MapErrorKind::InvalidTarget(why) => write!(f, "invalid target: {why}"),
            MapErrorKind::InvalidImage(error) => error.fmt(f),
            MapErrorKind::Duplicate(first) => write!(f, "the same key is already given on line {first}"),
            MapErrorKind::UnderTarget(target_line) if *target_line == self.line => f.write_str(
                "this rule can never apply: its key lies under its own target, and images under a target are left alone as already swapped",
            ),
            MapErrorKind::UnderTarget(target_line) => write!(
                f,
                "this rule can never apply: its key lies under the target of line {target_line}, and images under a target are left alone as already swapped"
            ),
            MapErrorKind::LineTooLong => write!(f, "line longer than {MAX_LINE_BYTES} bytes"),
            MapErrorKind::MapTooBig => write!(f, "the map is larger than {MAX_MAP_BYTES} bytes"),
            MapErrorKind::TooManyRules => write!(f, "the map has more than {MAX_RULES} rules"),
        }
    }
}

impl std::error::Error for MapError {}

/// One rule line, split into key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapLine<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The line as written, without its line ending.
    pub text: &'a str,
    /// The key, trimmed.
    pub key: &'a str,
    /// The value (target), trimmed; empty means "leave these images alone".
    pub value: &'a str,
}

impl MapLine<'_> {
    /// An error about this line.
    pub fn error(&self, kind: MapErrorKind) -> MapError {
        MapError { line: self.number, text: self.text.to_owned(), kind }
    }
}

/// Splits map text into rule lines. Comments and blank lines are dropped; every bad line is
/// reported, and a map over the size or rule limit is one error.
pub fn split_lines(map: &str) -> (Vec<MapLine<'_>>, Vec<MapError>) {
    let whole = |kind| MapError { line: 0, text: String::new(), kind };
    if map.len() > MAX_MAP_BYTES {
        return (Vec::new(), vec![whole(MapErrorKind::MapTooBig)]);
    }
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    for (index, raw) in map.split('\n').enumerate() {
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let number = index + 1;
        if text.len() > MAX_LINE_BYTES {
            errors.push(MapError { line: number, text: text.to_owned(), kind: MapErrorKind::LineTooLong });
            continue;
        }
        let content = text.split_once('#').map_or(text, |(before, _)| before).trim_matches([' ', '\t']);
        if content.is_empty() {
            continue;
        }
        if lines.len() + errors.len() >= MAX_RULES {
            return (Vec::new(), vec![whole(MapErrorKind::TooManyRules)]);
        }
        match split_key_value(content) {
            Some((key, value)) => lines.push(MapLine { number, text, key, value }),
            None => errors.push(MapError { line: number, text: text.to_owned(), kind: MapErrorKind::NoSeparator }),
        }
    }
    (lines, errors)
}

/// Key and value, split at the first `::` outside square brackets, or at the only `:` of the
/// deprecated single-colon form; both trimmed.
fn split_key_value(content: &str) -> Option<(&str, &str)> {
    let (key, value) = match find_separator(content) {
        Some(at) => (content.get(..at)?, content.get(at + 2..)?),
        None if content.matches(':').count() == 1 => content.split_once(':')?,
        None => return None,
    };
    Some((key.trim_matches([' ', '\t']), value.trim_matches([' ', '\t'])))
}

/// Byte index of the first `::` that is not inside a closed `[...]`.
fn find_separator(content: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'[' => {
                if let Some(close) = bytes.get(i..).and_then(|rest| rest.iter().position(|c| *c == b']')) {
                    i += close;
                }
            }
            b':' if bytes.get(i + 1) == Some(&b':') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `text` holds ASCII whitespace or another control character. (Other Unicode whitespace
/// cannot pass the reference grammar either, which is ASCII.)
pub fn has_whitespace(text: &str) -> bool {
    text.bytes().any(|b| b <= b' ' || b == 0x7f)
}

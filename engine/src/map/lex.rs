//! docs/behaviour.md §3 "The swap map", first half: map text → numbered `key::value` lines, and the errors every
//! later stage reports against a line.

use std::fmt;
use std::num::NonZeroUsize;

use crate::image::reference::RefError;
use crate::map::targets::PrefixError;

/// The key of the default rule.
pub const DEFAULT_KEY: &str = "default";
/// The key of the no-swap pattern list.
pub const NOSWAP_KEY: &str = "noswap_wildcards";
/// The keyword of exact-image rules.
pub const EXACT_KEYWORD: &str = "[EXACT]";
/// The keyword of glob rules.
pub const REPLACE_KEYWORD: &str = "[REPLACE]";

/// What a line's key is, from its text alone (docs/behaviour.md §3's table): the one classifier
/// the index, the request path's filter and `imageswap migrate` share. Operands are not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind<'k> {
    /// `default`.
    Default,
    /// `noswap_wildcards`.
    Noswap,
    /// `[EXACT]` and its operand (an image).
    Exact(&'k str),
    /// `[REPLACE]` and its operand (a glob).
    Replace(&'k str),
    /// Any other key: a registry or registry/path key when it is well formed (a misspelled keyword
    /// such as `[exact]x` or `DEFAULT` lands here too, and the index rejects it).
    Prefix(&'k str),
}

impl<'k> KeyKind<'k> {
    /// Classifies `key`.
    pub fn of(key: &'k str) -> Self {
        if key == DEFAULT_KEY {
            Self::Default
        } else if key == NOSWAP_KEY {
            Self::Noswap
        } else if let Some(operand) = key.strip_prefix(EXACT_KEYWORD) {
            Self::Exact(operand)
        } else if let Some(glob) = key.strip_prefix(REPLACE_KEYWORD) {
            Self::Replace(glob)
        } else {
            Self::Prefix(key)
        }
    }
}

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
    InvalidKey(PrefixError),
    /// A target that is not what its rule needs; holds the reason.
    InvalidTarget(PrefixError),
    /// An `[EXACT]` operand or target that does not parse.
    InvalidImage(RefError),
    /// The key was already given on the line held here (keys compare in canonical form).
    Duplicate(LineNumber),
    /// The key lies under the target on the line held here, so the rule could never apply.
    UnderTarget(LineNumber),
    /// The line is longer than [`MAX_LINE_BYTES`].
    LineTooLong,
    /// The map is larger than [`MAX_MAP_BYTES`].
    MapTooBig,
    /// The map has more than [`MAX_RULES`] rules.
    TooManyRules,
}

impl MapErrorKind {
    /// The kind's stable name, what the case tables and tools compare: the variant's name,
    /// without what it holds.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSeparator => "NoSeparator",
            Self::Whitespace => "Whitespace",
            Self::EmptyKey => "EmptyKey",
            Self::EmptyOperand(_) => "EmptyOperand",
            Self::Misspelled(_) => "Misspelled",
            Self::UnknownKeyword(_) => "UnknownKeyword",
            Self::KeyNotRegistry(_) => "KeyNotRegistry",
            Self::InvalidKey(_) => "InvalidKey",
            Self::InvalidTarget(_) => "InvalidTarget",
            Self::InvalidImage(_) => "InvalidImage",
            Self::Duplicate(_) => "Duplicate",
            Self::UnderTarget(_) => "UnderTarget",
            Self::LineTooLong => "LineTooLong",
            Self::MapTooBig => "MapTooBig",
            Self::TooManyRules => "TooManyRules",
        }
    }
}

/// A 1-based line number of the swap map.
pub type LineNumber = NonZeroUsize;

/// A map error: its line and the line's text (none for an error about the whole map), and what is
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapError {
    /// The line; `None` for errors about the whole map.
    pub line: Option<LineNumber>,
    /// The line as written (without its line ending).
    pub text: String,
    /// What is wrong.
    pub kind: MapErrorKind,
}

/// How much of a line an error message quotes.
const QUOTED_CHARS: usize = 120;

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            let quoted: String = self.text.chars().take(QUOTED_CHARS).collect();
            let ellipsis = if quoted.len() < self.text.len() { "…" } else { "" };
            write!(f, "line {line} {quoted:?}{ellipsis}: ")?;
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
            MapErrorKind::UnderTarget(target_line) if Some(*target_line) == self.line => f.write_str(
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
    /// Its line number.
    pub number: LineNumber,
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
        MapError { line: Some(self.number), text: self.text.to_owned(), kind }
    }
}

/// The rule lines of a map, lexed one at a time in a single pass over the text: each item is a
/// rule line or the error of a bad line. A map over [`MAX_MAP_BYTES`], or with more than
/// [`MAX_RULES`] rule lines, yields one error for the whole map (no line) and ends.
pub struct Lines<'a> {
    /// The text not lexed yet; `None` when done.
    rest: Option<&'a str>,
    /// How many lines come before `rest`.
    before: usize,
    /// Items yielded so far (rule lines and errors), for the rule limit.
    yielded: usize,
}

impl<'a> Lines<'a> {
    /// Lexes `map`.
    pub fn new(map: &'a str) -> Self {
        Self { rest: Some(map), before: 0, yielded: 0 }
    }

    fn whole(&mut self, kind: MapErrorKind) -> Option<Result<MapLine<'a>, MapError>> {
        self.rest = None;
        Some(Err(MapError { line: None, text: String::new(), kind }))
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<MapLine<'a>, MapError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.before == 0 && self.rest.is_some_and(|map| map.len() > MAX_MAP_BYTES) {
            return self.whole(MapErrorKind::MapTooBig);
        }
        loop {
            let scan = scan_line(self.rest?);
            self.rest = scan.next;
            let number = LineNumber::MIN.saturating_add(self.before);
            self.before += 1;
            if scan.text.len() > MAX_LINE_BYTES {
                self.yielded += 1;
                return Some(Err(MapError {
                    line: Some(number),
                    text: scan.text.to_owned(),
                    kind: MapErrorKind::LineTooLong,
                }));
            }
            let Some((content_end, separator)) = scan.content else { continue };
            if self.yielded >= MAX_RULES {
                return self.whole(MapErrorKind::TooManyRules);
            }
            self.yielded += 1;
            return Some(match key_value(scan.text, content_end, separator) {
                Some((key, value)) => Ok(MapLine { number, text: scan.text, key, value }),
                None => {
                    Err(MapError { line: Some(number), text: scan.text.to_owned(), kind: MapErrorKind::NoSeparator })
                }
            });
        }
    }
}

/// One line found by [`scan_line`].
struct Scanned<'a> {
    /// The line without its line ending.
    text: &'a str,
    /// `None` for a blank or comment-only line; otherwise the content's end in `text` (where the
    /// comment starts) and the first `::` before it.
    content: Option<(usize, Option<usize>)>,
    /// The text after the line ending; `None` after the last line.
    next: Option<&'a str>,
}

/// Finds, in one pass, the end of the first line of `rest`, where its comment starts and the first
/// `::` that is not inside a closed `[...]` (an IPv6 registry or a keyword).
fn scan_line(rest: &str) -> Scanned<'_> {
    let bytes = rest.as_bytes();
    let (mut i, mut separator, mut content_end) = (0, None, None);
    // Up to the separator, brackets and colons matter; after it, only the comment and line end.
    let line_end = loop {
        i = if separator.is_none() {
            find_any(bytes, i, [b'\n', b'#', b'[', b':'])
        } else {
            find_any(bytes, i, [b'\n', b'#'])
        };
        match bytes.get(i) {
            None => break None,
            Some(b'\n') => break Some(i),
            Some(b'#') => {
                content_end = Some(i);
                break Some(find_any(bytes, i, [b'\n'])).filter(|end| *end < bytes.len());
            }
            Some(b'[') => {
                // Skip to the closing bracket, unless the comment or the line ends first.
                let close = find_any(bytes, i + 1, [b']', b'#', b'\n']);
                if bytes.get(close) == Some(&b']') {
                    i = close;
                }
            }
            Some(_) if bytes.get(i + 1) == Some(&b':') => {
                separator = Some(i);
                i += 1;
            }
            Some(_) => {}
        }
        i += 1;
    };
    let end = line_end.unwrap_or(bytes.len());
    let next = line_end.and_then(|at| rest.get(at + 1..));
    let raw = rest.get(..end).unwrap_or_default();
    // A line ends at `\n` or `\r\n`: a `\r` at the very end of the map, with no `\n` after it, is
    // part of the line (and so an error in a key or target).
    let text = if line_end.is_some() { raw.strip_suffix('\r').unwrap_or(raw) } else { raw };
    let content_end = content_end.unwrap_or(text.len()).min(text.len());
    let blank = text.get(..content_end).is_none_or(|content| trim_blanks(content).is_empty());
    let content = (!blank).then_some((content_end, separator.filter(|at| *at < content_end)));
    Scanned { text, content, next }
}

/// The index of the first byte at or after `from` that is one of `set`, or `bytes.len()`. Eight
/// bytes at a time: this loop is most of the cost of reading a large map on the request path.
fn find_any<const N: usize>(bytes: &[u8], from: usize, set: [u8; N]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // The high bit of each byte equal to one of `set` (exact for the lowest such byte, which
        // is the only one used: the borrow can only mark bytes above a true match).
        let found = set.iter().fold(0, |found, byte| {
            let diff = word ^ (ONES * u64::from(*byte));
            found | (diff.wrapping_sub(ONES) & !diff & HIGHS)
        });
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = bytes.get(at..).unwrap_or_default();
    at + tail.iter().position(|b| set.contains(b)).unwrap_or(tail.len())
}

/// `text` without leading and trailing spaces and tabs.
pub fn trim_blanks(text: &str) -> &str {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !blank(b)).map_or(start, |at| at + 1);
    text.get(start..end).unwrap_or_default()
}

/// Key and value of a rule line, both trimmed: split at the `::` the scanner found, or at the
/// only `:` of the deprecated single-colon form. `None` without a separator.
fn key_value(text: &str, content_end: usize, separator: Option<usize>) -> Option<(&str, &str)> {
    let content = text.get(..content_end)?;
    let (key, value) = match separator {
        Some(at) => (content.get(..at)?, content.get(at + 2..)?),
        None if content.matches(':').count() == 1 => content.split_once(':')?,
        None => return None,
    };
    Some((trim_blanks(key), trim_blanks(value)))
}

/// Whether `text` holds ASCII whitespace or another control character. (Other Unicode whitespace
/// cannot pass the reference grammar either, which is ASCII.)
pub fn has_whitespace(text: &str) -> bool {
    text.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// The scanner's word-at-a-time search against a plain byte search, at every offset of every map
/// of the map table (the one `tests/map.rs` checks the rules of), for each byte set the scanner
/// uses.
#[cfg(test)]
mod tests {
    #![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::Value;

    fn naive(bytes: &[u8], from: usize, set: &[u8]) -> usize {
        (from..bytes.len()).find(|at| set.contains(&bytes[*at])).unwrap_or(bytes.len().max(from))
    }

    fn check<const N: usize>(text: &str, set: [u8; N]) {
        let bytes = text.as_bytes();
        for from in 0..=bytes.len() {
            assert_eq!(find_any(bytes, from, set), naive(bytes, from, &set), "{text:?} from {from}, set {set:?}");
        }
    }

    #[test]
    fn find_any_agrees_with_a_plain_search() {
        let table: Vec<Value> = serde_json::from_str(include_str!("../../../tests/cases/map.json")).unwrap();
        let maps: Vec<&str> = table.iter().filter_map(|case| case.get("map")?.as_str()).collect();
        assert!(maps.len() > 20, "the map table lost its rows");
        // Bytes with the high bit set, next to the bytes searched for, across word boundaries.
        let extra = ["é::ü#\u{80}[:\n", "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}:", "a:b::c", "0123456#"];
        for map in maps.into_iter().chain(extra) {
            check(map, [b'\n', b'#', b'[', b':']);
            check(map, [b'\n', b'#']);
            check(map, [b'\n']);
            check(map, [b']', b'#', b'\n']);
        }
    }

    #[test]
    fn key_value_splits_at_the_separator_or_a_lone_colon() {
        let cases = [
            ("a::b", Some(1), Some(("a", "b"))),
            (" a :: b ", Some(3), Some(("a", "b"))),
            ("a:b", None, Some(("a", "b"))),
            ("a:b:c", None, None),
            ("ab", None, None),
        ];
        for (text, separator, expected) in cases {
            assert_eq!(key_value(text, text.len(), separator), expected, "{text:?}");
        }
    }
}

//! docs/behaviour.md §3 "The swap map", first half: map text → numbered `key::value` lines, and the errors every
//! later stage reports against a line.

use std::fmt;

use crate::bytes::{BLOCK, block, find_any};
use crate::image::reference::RefError;
use crate::map::targets::PrefixError;

/// The key of the default rule.
pub(crate) const DEFAULT_KEY: &str = "default";
/// The key of the no-swap pattern list.
pub(crate) const NOSWAP_KEY: &str = "noswap_wildcards";
/// The keyword of exact-image rules.
pub(crate) const EXACT_KEYWORD: &str = "[EXACT]";
/// The keyword of glob rules.
pub(crate) const REPLACE_KEYWORD: &str = "[REPLACE]";

/// What a line's key is, from its text alone (docs/behaviour.md §3's table): the one classifier
/// the index, the request path's filter and `imageswap migrate` share. Operands are not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    #[inline]
    pub fn of(key: &'k str) -> Self {
        // By the first byte, which tells most keys apart before any text is compared.
        match key.as_bytes().first() {
            Some(b'd') if key == DEFAULT_KEY => Self::Default,
            Some(b'n') if key == NOSWAP_KEY => Self::Noswap,
            Some(b'[') => {
                if let Some(operand) = key.strip_prefix(EXACT_KEYWORD) {
                    Self::Exact(operand)
                } else if let Some(glob) = key.strip_prefix(REPLACE_KEYWORD) {
                    Self::Replace(glob)
                } else {
                    Self::Prefix(key)
                }
            }
            _ => Self::Prefix(key),
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
    /// An empty element in a list of targets (`a,,b`, a trailing `,`).
    EmptyListedTarget,
    /// An element of a list of targets that is the key itself (only a single target may say
    /// "leave these images alone" that way).
    OwnKeyListed,
    /// The same target twice in one list; holds the element as written.
    RepeatedTarget(String),
    /// A list of targets without `checkTargetExists: true`: only its first element could ever be
    /// used.
    ListWithoutLookups,
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
            Self::EmptyListedTarget => "EmptyListedTarget",
            Self::OwnKeyListed => "OwnKeyListed",
            Self::RepeatedTarget(_) => "RepeatedTarget",
            Self::ListWithoutLookups => "ListWithoutLookups",
            Self::LineTooLong => "LineTooLong",
            Self::MapTooBig => "MapTooBig",
            Self::TooManyRules => "TooManyRules",
        }
    }
}

pub use crate::map::line::LineNumber;

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
            MapErrorKind::EmptyListedTarget => {
                f.write_str("empty target in the list (`a,,b` or a trailing `,`); separate the targets with single commas")
            }
            MapErrorKind::OwnKeyListed => f.write_str(
                "a target in a list cannot be the key itself; to leave these images alone, give the key with no target",
            ),
            MapErrorKind::RepeatedTarget(target) => write!(f, "the target `{target}` is listed twice"),
            MapErrorKind::ListWithoutLookups => f.write_str(
                "a list of targets needs `checkTargetExists: true` (without lookups only the first target could ever be used)",
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

impl<'a> Lines<'a> {
    /// Skips the next line when it is a plain rule line whose key and value `wanted` refuses, and
    /// says whether it did; every other line (blank, commented, bracketed but for a leading
    /// `[EXACT]` or `[REPLACE]`, too long, without `::`) is left for [`Iterator::next`]. A plain
    /// line is read exactly as `next` reads it, so skipping it is `next` followed by a filter that
    /// drops it, without building the line: the request path's shortcut past the lines that
    /// cannot decide its images ([`Lines::skimmed`]).
    fn skip_unwanted(&mut self, wanted: &dyn Fn(&str, &str) -> bool) -> bool {
        let Some(rest) = self.rest else { return false };
        // The whole-map limits are `next`'s to report.
        if (self.before == 0 && rest.len() > MAX_MAP_BYTES) || self.yielded >= MAX_RULES {
            return false;
        }
        let Some(plain) = plain_line(rest) else { return false };
        if wanted(plain.key, plain.value) {
            return false;
        }
        self.rest = plain.next;
        self.before += 1;
        self.yielded += 1;
        true
    }

    /// The lines of the map that `wanted` may keep, and every line that is not plain (so that its
    /// errors are reported as [`Lines`] reports them): [`Lines`] with the plain lines `wanted`
    /// refuses skipped at a glance.
    pub fn skimmed(
        self,
        wanted: &'a dyn Fn(&str, &str) -> bool,
    ) -> impl Iterator<Item = Result<MapLine<'a>, MapError>> {
        let mut lines = self;
        std::iter::from_fn(move || {
            while lines.skip_unwanted(wanted) {}
            lines.next()
        })
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

/// A plain rule line found by [`plain_line`].
struct Plain<'a> {
    key: &'a str,
    value: &'a str,
    /// The text after the line ending; `None` after the last line.
    next: Option<&'a str>,
}

/// The first line of `rest` when it is plain: it starts with neither a blank nor `#`, holds `::`,
/// no `#`, no `[` but a leading `[EXACT]` or `[REPLACE]`, and is at most [`MAX_LINE_BYTES`]
/// long. Such a line is a rule line whose key and value are the trimmed text around its first
/// `::`, as [`scan_line`] and [`key_value`] find them; `None` for any other line.
fn plain_line(rest: &str) -> Option<Plain<'_>> {
    let bytes = rest.as_bytes();
    let from = match bytes.first()? {
        b'[' if rest.starts_with(EXACT_KEYWORD) => EXACT_KEYWORD.len(),
        b'[' if rest.starts_with(REPLACE_KEYWORD) => REPLACE_KEYWORD.len(),
        b'[' | b'#' | b' ' | b'\t' | b'\r' | b'\n' => return None,
        _ => 0,
    };
    let (mut at, mut separator) = (from, None);
    let line_end = 'blocks: loop {
        let Some(mut found) = block(bytes, at, BEFORE_SEPARATOR) else { break None };
        while found != 0 {
            let i = at + found.trailing_zeros() as usize;
            found &= found - 1;
            match bytes.get(i) {
                Some(b'\n') => break 'blocks Some(i),
                Some(b'#' | b'[') => return None,
                Some(b':') if separator.is_none() && bytes.get(i + 1) == Some(&b':') => separator = Some(i),
                _ => {}
            }
        }
        at += BLOCK;
        if at > MAX_LINE_BYTES + BLOCK {
            return None;
        }
    };
    let (text, next) = split_line(rest, line_end);
    if text.len() > MAX_LINE_BYTES {
        return None;
    }
    let separator = separator.filter(|at| *at < text.len())?;
    Some(Plain { key: trim_blanks(text.get(..separator)?), value: trim_blanks(text.get(separator + 2..)?), next })
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

/// The bytes that matter before a line's separator; after it, only `\n` and `#` do.
const BEFORE_SEPARATOR: [u8; 4] = [b'\n', b'#', b'[', b':'];

/// Finds, in one pass, the end of the first line of `rest`, where its comment starts and the first
/// `::` that is not inside a closed `[...]` (an IPv6 registry or a keyword). The bytes are
/// classified a block at a time ([`block`]); each byte of the set found in a block is then looked
/// at in turn, and the next block starts after whatever that byte made the scanner skip.
fn scan_line(rest: &str) -> Scanned<'_> {
    let bytes = rest.as_bytes();
    let (mut at, mut separator, mut content_end) = (0, None, None);
    let line_end = 'blocks: loop {
        let Some(mut found) = block(bytes, at, BEFORE_SEPARATOR) else { break None };
        let base = at;
        at = base + BLOCK;
        while found != 0 {
            let i = base + found.trailing_zeros() as usize;
            found &= found - 1;
            match bytes.get(i) {
                Some(b'\n') => break 'blocks Some(i),
                Some(b'#') => {
                    content_end = Some(i);
                    break 'blocks Some(find_any(bytes, i, [b'\n'])).filter(|end| *end < bytes.len());
                }
                // Up to the separator, brackets and colons matter; after it, only the comment and
                // the line end.
                Some(b'[') if separator.is_none() => {
                    // Skip to the closing bracket, unless the comment or the line ends first.
                    let close = find_any(bytes, i + 1, [b']', b'#', b'\n']);
                    if bytes.get(close) == Some(&b']') {
                        at = close + 1;
                        continue 'blocks;
                    }
                }
                Some(b':') if separator.is_none() && bytes.get(i + 1) == Some(&b':') => {
                    separator = Some(i);
                    at = i + 2;
                    continue 'blocks;
                }
                _ => {}
            }
        }
    };
    let (text, next) = split_line(rest, line_end);
    let content_end = content_end.unwrap_or(text.len()).min(text.len());
    let blank = text.get(..content_end).is_none_or(|content| content.bytes().all(|b| b == b' ' || b == b'\t'));
    let content = (!blank).then_some((content_end, separator.filter(|at| *at < content_end)));
    Scanned { text, content, next }
}

/// The first line of `rest`, whose `\n` is at `line_end` (`None`: it is the last line), without its
/// line ending, and the text after it. A line ends at `\n` or `\r\n`: a `\r` at the very end of the
/// map, with no `\n` after it, is part of the line (and so an error in a key or target).
#[inline]
fn split_line(rest: &str, line_end: Option<usize>) -> (&str, Option<&str>) {
    let raw = rest.get(..line_end.unwrap_or(rest.len())).unwrap_or_default();
    let text = if line_end.is_some() { raw.strip_suffix('\r').unwrap_or(raw) } else { raw };
    (text, line_end.and_then(|at| rest.get(at + 1..)))
}

/// `text` without leading and trailing spaces and tabs.
#[inline]
pub(crate) fn trim_blanks(text: &str) -> &str {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    // Most keys and targets have no blank at either end.
    if bytes.first().is_some_and(|b| !blank(b)) && bytes.last().is_some_and(|b| !blank(b)) {
        return text;
    }
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

/// The `,`-separated elements of a line's value, each trimmed: an ordered list of targets
/// (docs/behaviour.md §5; one element for a single target) or the `noswap_wildcards` patterns.
pub(crate) fn elements(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(trim_blanks)
}

/// Whether `text` holds ASCII whitespace or another control character. (Other Unicode whitespace
/// cannot pass the reference grammar either, which is ASCII.)
pub(crate) fn has_whitespace(text: &str) -> bool {
    text.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// The lexer's helpers on small inputs (the map table's rows test the lexer whole).
#[cfg(test)]
mod tests {

    use super::*;

    /// What a filter keeps of a line (errors are always kept, as `Rules::build` keeps them).
    fn kept<'a>(wanted: &dyn Fn(&str, &str) -> bool, item: &Result<MapLine<'a>, MapError>) -> bool {
        item.as_ref().map_or(true, |line| wanted(line.key, line.value))
    }

    /// Skimming (skipping the plain lines `wanted` refuses) gives what lexing every line and then
    /// filtering gives.
    fn check_skim(map: &str) {
        let wanted = |key: &str, value: &str| (key.len() + 2 * value.len()).is_multiple_of(3);
        let skimmed: Vec<_> = Lines::new(map).skimmed(&wanted).filter(|item| kept(&wanted, item)).collect();
        let lexed: Vec<_> = Lines::new(map).filter(|item| kept(&wanted, item)).collect();
        assert_eq!(skimmed, lexed, "{map:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 4000, failure_persistence: None, ..Default::default() })]
        #[test]
        fn skimming_is_lexing_then_filtering(tokens in proptest::collection::vec(proptest::sample::select(vec![
            "a", "b.io", "quay.io/x", ":", "::", "/", "[", "]", "#", " ", "\t", "\r", "\n", "\n", "[EXACT]",
            "[REPLACE]", "x:1", "é", "0123456789abcdef",
        ]), 0..40)) {
            check_skim(&tokens.concat());
        }
    }

    #[test]
    fn skimming_keeps_the_whole_map_limits() {
        let many = "a.io::b.io\n".repeat(MAX_RULES + 1);
        check_skim(&many);
        let long = format!("a.io::{}\nc.io::d", "b".repeat(MAX_LINE_BYTES));
        check_skim(&long);
        let big = "a.io::b.io\n".repeat(MAX_MAP_BYTES / 10);
        check_skim(&big);
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

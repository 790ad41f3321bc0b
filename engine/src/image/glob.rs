//! Globs without regular expressions.
//!
//! [`Glob::fnmatch`] is the syntax of Python's `fnmatch`, which upstream's `[REPLACE]` used: `*`
//! matches any run of characters (`/` and `:` included), `?` one character, `[abc]`, `[a-z]` and
//! `[!abc]` one character of (or not of) a set; a `[` that is never closed is a literal `[`. The
//! whole text must match, case-sensitively.
//!
//! [`Glob::wildcard`] is the `noswap_wildcards` syntax: only `*` and `?` are special, and the
//! pattern matches anywhere in the text.

/// One element of a compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Exactly this character.
    Literal(char),
    /// Any one character (`?`).
    Any,
    /// Any run of characters, possibly empty (`*`).
    Star,
    /// One character in (or, when negated, not in) the inclusive ranges.
    Class { negated: bool, ranges: Vec<(char, char)> },
}

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(Form);

/// How a glob is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    /// Only `*` is special (most globs of a map): the pattern itself, whose `*`-separated parts
    /// are found in the text in order ([`matches_parts`]), without a token per character.
    Stars(String),
    /// Any glob, one token per element.
    Tokens(Vec<Token>),
}

impl Glob {
    /// Compiles `pattern` with `fnmatch` syntax (`*`, `?`, `[...]`, `[!...]`).
    pub fn fnmatch(pattern: &str) -> Self {
        if stars_only(pattern) {
            return Self(Form::Stars(pattern.to_owned()));
        }
        Self(Form::Tokens(fnmatch_tokens(pattern)))
    }

    /// Whether one of `texts` matches `pattern` as [`Glob::fnmatch`] compiles it, without a copy
    /// of a pattern whose only special character is `*`.
    pub fn fnmatch_any<'t>(pattern: &str, mut texts: impl Iterator<Item = &'t str>) -> bool {
        if stars_only(pattern) {
            return texts.any(|text| matches_parts(pattern.as_bytes(), text.as_bytes()));
        }
        let glob = Self::fnmatch(pattern);
        texts.any(|text| glob.matches(text))
    }

    /// Compiles `pattern` with only `*` and `?` special, to match anywhere in a text (as if it
    /// began and ended with `*`).
    pub fn wildcard(pattern: &str) -> Self {
        if !pattern.contains('?') {
            let mut anywhere = String::with_capacity(pattern.len() + 2);
            for part in ["*", pattern, "*"] {
                anywhere.push_str(part);
            }
            return Self(Form::Stars(anywhere));
        }
        let inner = pattern.chars().map(|c| match c {
            '*' => Token::Star,
            '?' => Token::Any,
            other => Token::Literal(other),
        });
        Self(Form::Tokens(std::iter::once(Token::Star).chain(inner).chain(std::iter::once(Token::Star)).collect()))
    }

    /// Whether `text` matches (the whole text for [`Glob::fnmatch`], any part for
    /// [`Glob::wildcard`]).
    pub fn matches(&self, text: &str) -> bool {
        match &self.0 {
            Form::Stars(pattern) => matches_parts(pattern.as_bytes(), text.as_bytes()),
            Form::Tokens(tokens) if text.is_ascii() => matches_tokens(tokens, text.as_bytes()),
            Form::Tokens(tokens) => matches_tokens(tokens, &text.chars().collect::<Vec<char>>()),
        }
    }
}

/// Whether `*` is the only special character of the fnmatch `pattern` (no `?`, no `[`).
fn stars_only(pattern: &str) -> bool {
    !pattern.bytes().any(|b| b == b'?' || b == b'[')
}

/// Whether `text` matches a pattern whose only special character is `*`: it starts with the
/// part before the first `*`, ends with the part after the last, and holds the parts between, in
/// order and without overlapping, in what is left (the leftmost place for each is as good as
/// any). Bytes compare as characters do: a UTF-8 part can only be found where a character starts.
fn matches_parts(pattern: &[u8], text: &[u8]) -> bool {
    let mut parts = pattern.split(|b| *b == b'*');
    let first = parts.next().unwrap_or_default();
    let Some(last) = parts.next_back() else {
        return text == first;
    };
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = text.get(first.len()..text.len() - last.len()).unwrap_or_default();
    for part in parts {
        match find(rest, part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    true
}

/// Where `needle` first occurs in `haystack` (at 0 when empty).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((head, tail)) = needle.split_first() else { return Some(0) };
    let last_start = haystack.len().checked_sub(needle.len())?;
    (0..=last_start).find(|at| {
        haystack.get(*at) == Some(head) && haystack.get(at + 1..at + needle.len()).is_some_and(|rest| rest == tail)
    })
}

/// The tokens of an `fnmatch` pattern.
fn fnmatch_tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        tokens.push(match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '[' => match parse_class(&chars, i) {
                Some((class, next)) => {
                    i = next;
                    class
                }
                None => Token::Literal('['),
            },
            other => Token::Literal(other),
        });
    }
    tokens
}

/// Reads a class whose text starts at `start` (just after `[`), as `fnmatch.translate` does: a
/// leading `!` negates, a `]` right after `[` or `[!` is a member, `a-z` is a range (a reversed
/// range matches nothing). Returns the class and the index after its `]`, or `None` when the `[`
/// is never closed.
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut j = start;
    if chars.get(j) == Some(&'!') {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while chars.get(j).is_some_and(|c| *c != ']') {
        j += 1;
    }
    chars.get(j)?;
    let body = chars.get(start..j)?;
    let (negated, body) = match body.split_first() {
        Some(('!', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut ranges = Vec::new();
    let mut k = 0;
    while let Some(&lo) = body.get(k) {
        match (body.get(k + 1), body.get(k + 2)) {
            (Some('-'), Some(&hi)) => {
                if lo <= hi {
                    ranges.push((lo, hi));
                }
                k += 3;
            }
            _ => {
                ranges.push((lo, lo));
                k += 1;
            }
        }
    }
    Some((Token::Class { negated, ranges }, j + 1))
}

fn matches_one(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::Any => true,
        Token::Star => false,
        Token::Class { negated, ranges } => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated,
    }
}

/// Matching with backtracking to the last `*` only, which is complete for globs: O(pattern × text).
fn matches_tokens<C: Copy + Into<char>>(tokens: &[Token], text: &[C]) -> bool {
    let (mut t, mut s) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while s < text.len() {
        match (tokens.get(t), text.get(s)) {
            (Some(Token::Star), _) => {
                resume = Some((t, s));
                t += 1;
            }
            (Some(token), Some(&c)) if matches_one(token, c.into()) => {
                t += 1;
                s += 1;
            }
            _ => match resume {
                Some((star, from)) => {
                    t = star + 1;
                    s = from + 1;
                    resume = Some((star, from + 1));
                }
                None => return false,
            },
        }
    }
    tokens.get(t..).unwrap_or_default().iter().all(|token| *token == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern of only `*` matches by its parts exactly as by its tokens, for every pattern and
    /// text over a small alphabet (with a two-byte character), up to four characters each.
    #[test]
    fn star_parts_match_as_the_tokens_do() {
        let alphabet = ["a", "b", "*", "é"];
        let words = |most: u32, with_star: bool| {
            let letters: Vec<&str> = alphabet.iter().copied().filter(|c| with_star || *c != "*").collect();
            let mut words = vec![String::new()];
            for length in 1..=most {
                let count = u32::try_from(letters.len()).unwrap_or_default().pow(length);
                for mut n in 0..count {
                    let mut word = String::new();
                    for _ in 0..length {
                        let letter = usize::try_from(n).unwrap_or_default() % letters.len();
                        word.push_str(letters.get(letter).copied().unwrap_or_default());
                        n /= u32::try_from(letters.len()).unwrap_or(1);
                    }
                    words.push(word);
                }
            }
            words
        };
        let (patterns, texts) = (words(4, true), words(4, false));
        let mut matched = 0;
        for pattern in &patterns {
            let tokens = fnmatch_tokens(pattern);
            let anywhere = Glob::wildcard(pattern);
            for text in &texts {
                let by_tokens: Vec<char> = text.chars().collect();
                let expected = matches_tokens(&tokens, &by_tokens);
                assert_eq!(Glob::fnmatch(pattern).matches(text), expected, "{pattern:?} ~ {text:?}");
                let somewhere = matches_tokens(&fnmatch_tokens(&format!("*{pattern}*")), &by_tokens);
                assert_eq!(anywhere.matches(text), somewhere, "wildcard {pattern:?} ~ {text:?}");
                matched += usize::from(expected);
            }
        }
        assert!(matched > 1000 && matched < patterns.len() * texts.len() / 2, "{matched} matches: both answers tested");
    }
}

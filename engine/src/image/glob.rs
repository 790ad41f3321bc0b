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
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern` with `fnmatch` syntax (`*`, `?`, `[...]`, `[!...]`).
    pub fn fnmatch(pattern: &str) -> Self {
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
        Self { tokens }
    }

    /// Compiles `pattern` with only `*` and `?` special, to match anywhere in a text (as if it
    /// began and ended with `*`).
    pub fn wildcard(pattern: &str) -> Self {
        let inner = pattern.chars().map(|c| match c {
            '*' => Token::Star,
            '?' => Token::Any,
            other => Token::Literal(other),
        });
        Self { tokens: std::iter::once(Token::Star).chain(inner).chain(std::iter::once(Token::Star)).collect() }
    }

    /// Whether `text` matches (the whole text for [`Glob::fnmatch`], any part for
    /// [`Glob::wildcard`]).
    pub fn matches(&self, text: &str) -> bool {
        if text.is_ascii() {
            matches_tokens(&self.tokens, text.as_bytes())
        } else {
            matches_tokens(&self.tokens, &text.chars().collect::<Vec<char>>())
        }
    }
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

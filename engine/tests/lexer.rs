//! The map lexer (`map::Lines`, a one-pass scanner that reads sixteen bytes at a time) against a
//! deliberately plain lexer written from docs/behaviour.md §3's words, on generated text made of the bytes that
//! matter to it: separators, comments, brackets, line endings, blanks.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test crate: failing loudly is the point

use imageswap_engine::{Lines, MapErrorKind};
use proptest::prelude::*;

/// What a line lexes to: `(line, Ok((key, value)))` or `(line, Err(kind name))`.
type Lexed = Vec<(usize, Result<(String, String), String>)>;

/// docs/behaviour.md §3, plainly: a `#` starts a comment; blank lines are skipped; key and value are split at
/// the first `::` outside a closed `[...]`, or at the only `:` of a line without `::`.
fn plain(map: &str) -> Lexed {
    let trim = |s: &str| s.trim_matches([' ', '\t']).to_owned();
    let mut out = Vec::new();
    let lines: Vec<&str> = map.split('\n').collect();
    for (index, raw) in lines.iter().copied().enumerate() {
        // A line ends at `\n` or `\r\n`: the last line, with no `\n` after it, keeps a `\r`.
        let ended = index + 1 < lines.len();
        let text = if ended { raw.strip_suffix('\r').unwrap_or(raw) } else { raw };
        let content = text.split('#').next().unwrap().trim_matches([' ', '\t']);
        if content.is_empty() {
            continue;
        }
        let bytes = content.as_bytes();
        let (mut i, mut separator) = (0, None);
        while i < bytes.len() {
            if bytes[i] == b'['
                && let Some(close) = bytes[i..].iter().position(|b| *b == b']')
            {
                i += close;
            } else if bytes[i] == b':' && bytes.get(i + 1) == Some(&b':') {
                separator = Some(i);
                break;
            }
            i += 1;
        }
        let lexed = match separator {
            Some(at) => Ok((trim(&content[..at]), trim(&content[at + 2..]))),
            None if content.matches(':').count() == 1 => {
                let (key, value) = content.split_once(':').unwrap();
                Ok((trim(key), trim(value)))
            }
            None => Err("NoSeparator".to_owned()),
        };
        out.push((index + 1, lexed));
    }
    out
}

fn lexed(map: &str) -> Lexed {
    Lines::new(map)
        .map(|item| match item {
            Ok(line) => (line.number.get(), Ok((line.key.to_owned(), line.value.to_owned()))),
            Err(error) => {
                assert!(matches!(error.kind, MapErrorKind::NoSeparator), "unexpected {error:?}");
                (error.line.map_or(0, |line| line.get()), Err("NoSeparator".to_owned()))
            }
        })
        .collect()
}

/// Text from the bytes the lexer stops at, plus a few ordinary ones; long runs of ordinary bytes
/// make the eight-byte steps and their tails meet every stop byte at every offset.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(":"),
        Just("::"),
        Just("#"),
        Just("["),
        Just("]"),
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just(" "),
        Just("\t"),
        Just("a"),
        Just("é"),
        Just("\u{ff}\u{3a3a}"),
        Just("/"),
        Just("quay.io"),
        Just("mirror.example.com/x"),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_lexer_reads_every_line_as_spec_words_it(map in text()) {
        prop_assert_eq!(lexed(&map), plain(&map));
    }
}

#[test]
fn lines_at_every_offset_of_an_eight_byte_step() {
    // The same rule preceded by 0..16 bytes of padding: the stop bytes fall at every offset.
    for pad in 0..16 {
        let map = format!("{}quay.io::m.example.com/q # note\n[EXACT]a:1::b.example.com/a:1", " ".repeat(pad));
        assert_eq!(lexed(&map), plain(&map), "padding {pad}");
    }
}

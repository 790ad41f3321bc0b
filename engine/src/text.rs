//! Text split and joined by ASCII bytes: what `str::split_once`, `match_indices` and `format!`
//! do for the short names the engine handles, without their `char` searchers and formatting
//! machinery (every request splits and joins tens of thousands of them in a large Pod).

/// The parts, concatenated (what `format!` does for plain strings, without its machinery: these
/// names are built on every request).
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut joined = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        joined.push_str(part);
    }
    joined
}

/// `str::split_once` for one ASCII byte, found without a `char` searcher (a reference's parts
/// are short, and a large Pod has tens of thousands of references).
pub(crate) fn split_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// Where `text` has a `/`, in order: `str::match_indices('/')` without its `char` searcher, which
/// costs more than these short names do.
pub(crate) fn slashes(text: &str) -> impl DoubleEndedIterator<Item = usize> + '_ {
    text.bytes().enumerate().filter(|(_, byte)| *byte == b'/').map(|(at, _)| at)
}

/// `str::rsplit_once` for one ASCII byte (see [`split_once_byte`]).
pub(crate) fn rsplit_once_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

//! Byte search sixteen bytes at a time, the inner loop of reading a map on the request path
//! (docs/behaviour.md §7): which bytes of a block belong to a small set. And [`compare`], the order
//! of byte strings eight bytes at a time, for sorting a request's image texts.
//!
//! The policy module is built with wasm `simd128` (wasmtime, and so the policy-server and kwctl,
//! enable it by default), where one block is one `v128` compared once per byte of the set. Every
//! other build (native hosts, tests, the browser playground) compares two 64-bit words at a time.
//! Both agree with the plain loop over the bytes, which the tests check natively and, through the
//! policy module, in wasm.

/// Bytes per block.
pub(crate) const BLOCK: usize = 16;

/// Which bytes of the block of `bytes` at `at` are in `set`: bit `i` for `bytes[at + i]`, none past
/// the end. `None` when `at` is at or past the end.
#[inline(always)]
pub(crate) fn block<const N: usize>(bytes: &[u8], at: usize, set: [u8; N]) -> Option<u32> {
    match bytes.get(at..at + BLOCK) {
        Some(chunk) => Some(full_block(chunk, set)),
        None => {
            let tail = bytes.get(at..).filter(|tail| !tail.is_empty())?;
            Some(plain(tail, set))
        }
    }
}

/// The index of the first byte at or after `from` that is in `set`, or `bytes.len()`.
pub(crate) fn find_any<const N: usize>(bytes: &[u8], from: usize, set: [u8; N]) -> usize {
    let mut at = from;
    while let Some(mask) = block(bytes, at, set) {
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += BLOCK;
    }
    bytes.len().max(from)
}

/// The order of `a` and `b` as byte strings (the order of `str` and `[u8]`), compared eight bytes
/// at a time: in wasm, `memcmp` is wasi-libc's loop over single bytes, and the images of a large
/// request can share long beginnings (`quay.io/org/`), which a tenant chooses.
pub(crate) fn compare(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let word = |bytes: &[u8]| bytes.try_into().map_or(0, u64::from_be_bytes);
    for (a_word, b_word) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (a_word, b_word) = (word(a_word), word(b_word));
        if a_word != b_word {
            return a_word.cmp(&b_word);
        }
    }
    let done = a.len().min(b.len()) / 8 * 8;
    a.get(done..).unwrap_or_default().cmp(b.get(done..).unwrap_or_default())
}

/// [`block`] over fewer than [`BLOCK`] bytes: the definition the block forms agree with.
#[inline(always)]
fn plain<const N: usize>(chunk: &[u8], set: [u8; N]) -> u32 {
    chunk.iter().enumerate().fold(0, |mask, (i, byte)| if set.contains(byte) { mask | 1 << i } else { mask })
}

/// Two 64-bit words, each byte of the set found exactly (a byte equal to it becomes zero, and a
/// zero byte is told without the borrow that would mark its neighbours), the high bit of each
/// found byte then gathered into one bit per byte by a multiplication.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn full_block<const N: usize>(chunk: &[u8], set: [u8; N]) -> u32 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOWS: u64 = u64::from_ne_bytes([0x7f; 8]);
    /// Bit `8i` of each byte `i` to bit `56 + i`.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let word_mask = |half: &[u8]| {
        let word = u64::from_le_bytes(half.try_into().unwrap_or_default());
        let highs = set.iter().fold(0, |highs, byte| {
            let diff = word ^ (ONES * u64::from(*byte));
            highs | !(((diff & LOWS) + LOWS) | diff | LOWS)
        });
        ((highs >> 7).wrapping_mul(GATHER) >> 56) as u32
    };
    let (low, high) = chunk.split_at(BLOCK / 2);
    word_mask(low) | word_mask(high) << 8
}

/// One `v128` load, one `i8x16.eq` per byte of the set, one `i8x16.bitmask`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn full_block<const N: usize>(chunk: &[u8], set: [u8; N]) -> u32 {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, u64x2, v128_or};
    let (low, high) = chunk.split_at(BLOCK / 2);
    let word = |half: &[u8]| u64::from_le_bytes(half.try_into().unwrap_or_default());
    // Two little-endian words make the block's bytes in order; the compiler emits one `v128.load`.
    let block = u64x2(word(low), word(high));
    let eq = |byte: &u8| u8x16_eq(block, u8x16_splat(*byte));
    // Spelled out for the sets the lexer uses, so that no loop over the set is left in the module.
    let hits = match set.as_slice() {
        [a] => eq(a),
        [a, b] => v128_or(eq(a), eq(b)),
        [a, b, c] => v128_or(v128_or(eq(a), eq(b)), eq(c)),
        [a, b, c, d] => v128_or(v128_or(eq(a), eq(b)), v128_or(eq(c), eq(d))),
        _ => set.iter().fold(u8x16_splat(0), |hits, byte| v128_or(hits, eq(byte))),
    };
    u32::from(u8x16_bitmask(hits))
}

/// The block search against a plain byte search, at every offset of every map of the map table
/// (the one `tests/map.rs` checks the rules of), for each byte set the lexer uses.
#[cfg(test)]
mod tests {

    use super::*;
    use serde_json::Value;

    fn naive(bytes: &[u8], from: usize, set: &[u8]) -> usize {
        (from..bytes.len()).find(|at| set.contains(&bytes[*at])).unwrap_or(bytes.len().max(from))
    }

    fn check<const N: usize>(text: &str, set: [u8; N]) {
        let bytes = text.as_bytes();
        for from in 0..=bytes.len() + 1 {
            assert_eq!(find_any(bytes, from, set), naive(bytes, from, &set), "{text:?} from {from}, set {set:?}");
            let expected = (0..BLOCK)
                .filter(|i| bytes.get(from + i).is_some_and(|byte| set.contains(byte)))
                .fold(0, |mask, i| mask | 1 << i);
            let mask = block(bytes, from, set);
            assert_eq!(mask.is_none(), from >= bytes.len(), "{text:?} at {from}");
            assert_eq!(mask.unwrap_or_default(), expected, "{text:?} at {from}, set {set:?}");
        }
    }

    #[test]
    fn compare_orders_as_byte_strings() {
        let texts = [
            "",
            "a",
            "quay.io/o1/app1:1",
            "quay.io/o1/app1:10",
            "quay.io/o10/app10:1",
            "quay.io/o",
            "quay.io/",
            "quay.io",
            "quay.io/o1/app1:1\u{ff}",
            "quay.io/o1/app1:1\u{80}x",
            "0123456789abcdef",
            "0123456789abcdeg",
            "01234567",
            "012345670",
            "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}",
            "\u{0}",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(compare(a.as_bytes(), b.as_bytes()), a.cmp(b), "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn block_search_agrees_with_a_plain_search() {
        let table: Vec<Value> = serde_json::from_str(include_str!("../../tests/cases/map.json")).unwrap();
        let maps: Vec<&str> = table.iter().filter_map(|case| case.get("map")?.as_str()).collect();
        assert!(maps.len() > 20, "the map table lost its rows");
        // Bytes with the high bit set, next to the bytes searched for, across block boundaries.
        let extra =
            ["é::ü#\u{80}[:\n", "\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}\u{ff}:", "a:b::c", "0123456789abcde#:", ""];
        for map in maps.into_iter().chain(extra) {
            check(map, [b'\n', b'#', b'[', b':']);
            check(map, [b'\n', b'#']);
            check(map, [b'\n']);
            check(map, [b']', b'#', b'\n']);
            check(map, [b'a', b'b', b'c', b'd', b'e']);
        }
    }
}

//! FNV-1a for the rule index. Keys are short registry names and paths written by operators, so a
//! fast non-cryptographic hash fits (as globset's literal sets use); SipHash's protection against
//! chosen keys buys nothing when the operator writes both the map and the keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64 bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

/// FNV-1a's 64-bit offset basis, the state before any byte.
const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV's 64-bit prime, which each byte's state is multiplied by.
const PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for Fnv {
    fn default() -> Self {
        Self(OFFSET_BASIS)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
    }
}

/// A `HashMap` hashed with [`Fnv`].
pub(crate) type FnvHashMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

//! A buffer for writing large JSON documents (the mutated object of a 2 MiB Pod, its
//! original-images annotation). `serde_json` writes every token on its own, most of them a few
//! bytes long, and in wasm a bulk copy is a call into the runtime: this buffer copies small writes
//! byte by byte, and is made at the size the document is expected to have.

use std::io;

/// Writes up to this many bytes are copied byte by byte.
const SMALL_WRITE: usize = 16;

/// A growing byte buffer that `serde_json` writes into ([`io::Write`]).
#[derive(Debug, Default)]
pub struct JsonBuffer(Vec<u8>);

impl JsonBuffer {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl io::Write for JsonBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes).map(|()| bytes.len())
    }

    // What `serde_json` calls; the default one loops over `write`.
    #[inline]
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() <= SMALL_WRITE {
            for byte in bytes {
                self.0.push(*byte);
            }
        } else {
            self.0.extend_from_slice(bytes);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `serde_json` writes into the buffer is what it writes into a vector, for writes of
    /// every size around the small-write limit.
    #[test]
    fn the_buffer_holds_what_serde_json_writes() {
        let texts: Vec<String> = (0..3 * SMALL_WRITE).map(|n| "é\"x\\".repeat(n)).collect();
        let document = json!({ "texts": texts, "n": 1.5, "nested": { "a": [null, true, "\u{1}"] } });
        let mut buffer = JsonBuffer::with_capacity(4);
        serde_json::to_writer(&mut buffer, &document).unwrap();
        assert_eq!(buffer.into_bytes(), serde_json::to_vec(&document).unwrap());
    }
}

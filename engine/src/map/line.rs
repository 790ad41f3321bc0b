//! The line numbers every stage of the map reports against.

use std::num::NonZeroUsize;

/// A 1-based line number of the swap map.
pub type LineNumber = NonZeroUsize;

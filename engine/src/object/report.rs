//! docs/behaviour.md §6 "Reporting what changed": what the policy logs of one evaluation. Each
//! host log call costs microseconds, and a hostile Pod may hold tens of thousands of containers,
//! so an evaluation logs at most four records, whatever its size: the swaps, the digests kept, the
//! swaps left undone and the pull secrets added, each with a count and the first
//! [`REPORTED_ITEMS`] items. [`Record`] is a record in the JSON the policy-server's log host call
//! (`kubewarden/tracing/log`) reads.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::lookup::Miss;
use crate::object::listing::listing;
use crate::object::verdict::{Evaluation, Verdict};

/// How many items a record names before it counts the rest.
pub const REPORTED_ITEMS: usize = 20;

/// Some items of one kind: how many there are, and the first [`REPORTED_ITEMS`] of them, joined
/// by `; ` (followed by `; and N more` when there are more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// How many there are.
    pub count: usize,
    /// The first of them, in words.
    pub items: String,
}

impl Listing {
    /// `None` for no items.
    fn of(items: impl ExactSizeIterator<Item = String>) -> Option<Self> {
        let count = items.len();
        (count > 0).then(|| Self { count, items: listing(items, count, REPORTED_ITEMS, "") })
    }
}

/// The records an evaluation logs; each is `None` when it has nothing to say. In validate mode
/// nothing is swapped or added, so only the swaps left undone are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `images swapped` (info): each as `field: from -> to (line N)`.
    pub swapped: Option<Listing>,
    /// `digests kept` (warning): swapped images pinned only by their digest, which `digest: drop`
    /// could not drop, each as `field: image`.
    pub digests_kept: Option<Listing>,
    /// `images left as written` (warning): swaps undone because the host found none of the
    /// targets, each as `field: image (line N): target reason (what the host said); …`.
    pub left_as_written: Option<Listing>,
    /// `pull secrets added` (info): each secret's name.
    pub pull_secrets_added: Option<Listing>,
}

impl Report {
    /// The records to log, in this order: the swaps left undone, the swaps, the digests kept and the
    /// pull secrets added, each only when it has items.
    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        [
            (Level::Warning, LEFT_AS_WRITTEN, "images", &self.left_as_written),
            (Level::Info, "images swapped", "rewrites", &self.swapped),
            (Level::Warning, DIGESTS_KEPT, "images", &self.digests_kept),
            (Level::Info, "pull secrets added", "secrets", &self.pull_secrets_added),
        ]
        .into_iter()
        .filter_map(|(level, message, items_key, listing)| {
            listing.as_ref().map(|listing| Record { level, message, items_key, listing })
        })
    }
}

const LEFT_AS_WRITTEN: &str = "images left as written: no target of their rule was found";
const DIGESTS_KEPT: &str = "digests kept: these images are pinned only by their digest";

/// The level of a [`Record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// `info`: what the policy changed.
    Info,
    /// `warning`: what an operator should look at.
    Warning,
}

impl Level {
    /// The level as the host reads it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
        }
    }
}

/// One log record: `{"level", "message", "policy": "imageswap", "count", <items key>}`, the fields
/// the policy-server's log host call reads (`level` and `message`; the rest become the event's
/// data). Serialized straight to bytes, without an intermediate JSON tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Its level.
    pub level: Level,
    /// What happened, in words.
    pub message: &'static str,
    /// The field that holds the items: `rewrites`, `images` or `secrets`.
    pub items_key: &'static str,
    /// The count and the first items.
    pub listing: &'a Listing,
}

impl Record<'_> {
    /// The record as the JSON document the host call carries.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing strings and a number into a vector cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("level", self.level.as_str())?;
        map.serialize_entry("message", self.message)?;
        map.serialize_entry("policy", "imageswap")?;
        map.serialize_entry("count", &self.listing.count)?;
        map.serialize_entry(self.items_key, &self.listing.items)?;
        map.end()
    }
}

impl Evaluation {
    /// What to log of this evaluation.
    pub fn report(&self) -> Report {
        let mutated = matches!(self.verdict, Verdict::Mutate(_));
        let rewrites = if mutated { self.rewrites.as_slice() } else { &[] };
        let secrets = if mutated { self.added_pull_secrets.as_slice() } else { &[] };
        let kept: Vec<_> = rewrites.iter().filter(|rewrite| rewrite.kept_digest).collect();
        let misses = |misses: &[Miss]| misses.iter().map(Miss::to_string).collect::<Vec<_>>().join("; ");
        Report {
            swapped: Listing::of(rewrites.iter().map(|rewrite| {
                let mut item =
                    format!("{}: {} -> {} (line {})", rewrite.field(), rewrite.from(), rewrite.to, rewrite.line);
                if !rewrite.passed_over.is_empty() {
                    item.push_str(&format!(", after {}", misses(&rewrite.passed_over)));
                }
                item
            })),
            digests_kept: Listing::of(kept.iter().map(|rewrite| format!("{}: {}", rewrite.field(), rewrite.to))),
            left_as_written: Listing::of(
                self.skipped.iter().map(|skip| {
                    format!("{}: {} (line {}): {}", skip.field, skip.image, skip.line, misses(&skip.misses))
                }),
            ),
            pull_secrets_added: Listing::of(secrets.iter().cloned()),
        }
    }
}

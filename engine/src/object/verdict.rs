//! What an evaluation answers (docs/behaviour.md §4 to §6b): the verdict, the images it changed
//! (or, in validate mode, found wrong), the swaps left undone because no target was found, and the
//! admission warnings. The types only; [`crate::object::answer`] builds them.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::lookup::Miss;
use crate::map::lex::LineNumber;
use crate::object::listing::listing;
use crate::object::walk::{FoundImage, ObjectError};
use crate::settings::SettingsErrors;
use crate::swap::SwapError;

/// One image changed by this evaluation (in validate mode: one that must be changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Where the image is, and the image as written.
    pub(crate) site: FoundImage,
    /// The new image.
    pub to: String,
    /// The rule line that decided.
    pub line: LineNumber,
    /// `digest: drop` kept the digest of an image pinned only by it.
    pub kept_digest: bool,
    /// The targets of its ordered list before the one it was swapped to, which were not found.
    pub passed_over: Vec<Miss>,
}

impl Rewrite {
    /// The image as written.
    pub fn from(&self) -> &str {
        &self.site.image
    }

    /// Where the image is (`spec.containers[0].image`).
    pub fn field(&self) -> String {
        self.site.field()
    }

    /// The same place as an RFC 6901 pointer (`/spec/containers/0/image`).
    pub fn pointer(&self) -> &str {
        &self.site.pointer
    }

    /// The annotation key (`web`, `init:setup`, `volume:data`).
    pub fn key(&self) -> Cow<'_, str> {
        self.site.key()
    }
}

/// The answer to an admission request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// Accepted, unchanged.
    Accept,
    /// Accepted with this new object.
    Mutate(Value),
    /// Rejected, for this reason (its `Display` is the message the API server shows).
    Reject(Rejection),
}

/// How many fields a rejection names before it counts the rest: a hostile Pod may hold tens of
/// thousands of containers, and the message goes back to the API server and the user.
pub const NAMED_FIELDS: usize = 100;

/// Why a request is rejected (docs/behaviour.md §4 to §6b).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Rejection {
    /// The payload is not a ValidationRequest; holds the parser's message.
    Unreadable(String),
    /// The settings are not valid (a host that validated them first never sends such a request).
    InvalidSettings(SettingsErrors),
    /// A CREATE or UPDATE of a kind the policy reads, without an object.
    NoObject {
        /// The kind, as the request names it.
        kind: String,
        /// `CREATE` or `UPDATE`.
        operation: String,
    },
    /// The object cannot be read where the policy reads images, or cannot take its edits.
    Object(ObjectError),
    /// Images that cannot be decided: the first [`NAMED_FIELDS`] with where each is, and how
    /// many there are.
    Undecidable {
        /// Where each image is (`container "web" (spec.containers[0])`) and why it cannot be decided.
        named: Vec<(String, SwapError)>,
        /// How many images cannot be decided.
        count: usize,
    },
    /// The request needs more registry lookups than `maxLookups` allows (docs/behaviour.md §5).
    TooManyLookups {
        /// The kind, as the request names it.
        kind: String,
        /// The distinct references its images' targets name.
        needed: usize,
        /// `maxLookups`.
        allowed: usize,
    },
    /// Validate mode (docs/behaviour.md §6b): fields that mutate mode would change.
    MustChange {
        /// The kind, as the request names it.
        kind: String,
        /// The first [`NAMED_FIELDS`] of them, each in words (an image and what it must be, or
        /// a pull secret a pod spec must list).
        named: Vec<String>,
        /// How many there are.
        count: usize,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(why) => write!(f, "the admission request cannot be read: {why}"),
            Self::InvalidSettings(errors) => write!(f, "the policy settings are not valid: {errors}"),
            Self::NoObject { kind, operation } => write!(f, "the {kind} {operation} request has no object to read"),
            Self::Object(error) => error.fmt(f),
            Self::Undecidable { named, count } => {
                let named = named.iter().map(|(place, error)| format!("{place}: {error}"));
                f.write_str(&listing(named, *count, NAMED_FIELDS, " images that cannot be decided"))
            }
            Self::TooManyLookups { kind, needed, allowed } => write!(
                f,
                "this {kind} needs {needed} registry lookups (its images' distinct targets), more than maxLookups allows ({allowed}); raise maxLookups in the policy settings (at most 1000) or use fewer distinct images"
            ),
            Self::MustChange { kind, named, count } => {
                write!(f, "this {kind} does not use the images the swap map requires: ")?;
                f.write_str(&listing(named.iter().cloned(), *count, NAMED_FIELDS, " fields"))
            }
        }
    }
}

impl std::error::Error for Rejection {}

/// A swap left undone because the host found none of its targets (docs/behaviour.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where the image is.
    pub field: String,
    /// The image, left as written.
    pub image: String,
    /// The rule line that chose the targets.
    pub line: LineNumber,
    /// Every target looked up, in order, and why it was not found.
    pub misses: Vec<Miss>,
}

/// What an evaluation decided, and what to log.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The answer.
    pub verdict: Verdict,
    /// Every image this evaluation changed (in validate mode: every image it found wrong).
    pub rewrites: Vec<Rewrite>,
    /// Swaps left undone because their target was not found (docs/behaviour.md §5).
    pub skipped: Vec<Skipped>,
    /// Pull secrets this evaluation added to the pod specs (docs/behaviour.md §5b; in validate mode: the
    /// ones missing from them), each once.
    pub added_pull_secrets: Vec<String>,
    /// The admission warnings (`kubectl` prints them): one for each image left as written or
    /// swapped to a later target of its list, at most [`WARNED_IMAGES`], then one that counts the
    /// rest (docs/behaviour.md §5).
    pub warnings: Vec<String>,
}

/// How many images the admission warnings name before one warning counts the rest.
pub const WARNED_IMAGES: usize = 20;

impl Evaluation {
    /// A rejection, with nothing to log.
    pub fn reject(rejection: Rejection) -> Self {
        Self::answer(Verdict::Reject(rejection))
    }

    /// An answer with nothing to log.
    pub fn answer(verdict: Verdict) -> Self {
        Self {
            verdict,
            rewrites: Vec::new(),
            skipped: Vec::new(),
            added_pull_secrets: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

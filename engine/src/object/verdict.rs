//! What an evaluation answers (docs/behaviour.md §4 to §6b): the verdict, the images it changed
//! (or, in validate mode, found wrong), the swaps left undone because no target was found, and the
//! admission warnings. The types only; [`crate::object::answer`] builds them.

use std::borrow::Cow;

use serde_json::Value;

use crate::lookup::Reason;
use crate::map::lex::LineNumber;
use crate::object::walk::FoundImage;

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
pub enum Verdict {
    /// Accepted, unchanged.
    Accept,
    /// Accepted with this new object.
    Mutate(Value),
    /// Rejected with this message.
    Reject(String),
}

/// A target that a lookup did not find (docs/behaviour.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// The new reference that was looked up.
    pub target: String,
    /// Why it was not found.
    pub reason: Reason,
    /// The first line of what the host said.
    pub said: String,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.target, self.reason)?;
        if !self.said.is_empty() {
            write!(f, " ({})", self.said)?;
        }
        Ok(())
    }
}

/// How much of the host's text a warning keeps, in characters.
const WARNED_SAID_CHARS: usize = 100;

impl Miss {
    /// The miss as a warning names it: the target and the reason, and the host's text (shortened)
    /// only where the reason alone does not say enough (`failed`; the platforms a target serves).
    /// The log keeps the whole text.
    pub(crate) fn short(&self) -> String {
        if !matches!(self.reason, Reason::Failed | Reason::LacksPlatform(_)) || self.said.is_empty() {
            return format!("{} {}", self.target, self.reason);
        }
        let mut said: String = self.said.chars().take(WARNED_SAID_CHARS).collect();
        if said.len() < self.said.len() {
            said.push('…');
        }
        format!("{} {} ({said})", self.target, self.reason)
    }
}

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

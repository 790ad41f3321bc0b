//! docs/behaviour.md §5 in an admission: the budget of lookups a request may make, the targets of
//! each image looked up in the order of its list (each distinct reference once), and the
//! admission warnings for the images left as written or swapped to a later target.

use std::collections::BTreeMap;

use crate::lookup::Reason;
use crate::lookup::{Lookup, Miss, TargetLookup, first_found, look_up};
use crate::object::admission::Outcome;
use crate::object::verdict::WARNED_IMAGES;
use crate::settings::Settings;

/// The longest warning, in bytes: the API server may truncate longer ones.
const WARNING_BYTES: usize = 256;

/// How many distinct new references the outcomes may look up: every target of every list, so
/// that the budget is known before the first lookup and does not depend on the answers.
pub(crate) fn lookups_needed(outcomes: &[Outcome<'_>]) -> usize {
    let mut references: Vec<&str> = Vec::new();
    for decision in outcomes.iter().filter_map(|outcome| outcome.decided.as_ref().ok()) {
        let Some(first) = decision.swapped.as_deref() else { continue };
        references.push(first);
        references.extend(decision.fallbacks.iter().map(|candidate| candidate.image.as_str()));
    }
    references.sort_unstable();
    references.dedup();
    references.len()
}

/// Asks the host about the targets of each outcome in the order of its list, each distinct
/// reference once, and swaps to the first one found (with `digest: pin`, adding the digest the
/// lookup gave to a reference without one). When none is found, the image stays as written, on
/// its own registry (so its own pull secret applies).
pub(crate) fn look_up_targets<'s>(
    outcomes: &mut [Outcome<'s>],
    targets: &mut dyn TargetLookup,
    settings: &'s Settings,
) {
    let mut answers: BTreeMap<String, Lookup> = BTreeMap::new();
    let mut ask = |reference: &str| -> Lookup {
        if let Some(known) = answers.get(reference) {
            return known.clone();
        }
        let lookup = look_up(targets, reference, &settings.platforms);
        answers.insert(reference.to_owned(), lookup.clone());
        lookup
    };
    for outcome in outcomes.iter_mut() {
        let Ok(decision) = &mut outcome.decided else { continue };
        let Some(first) = decision.swapped.as_deref() else { continue };
        let references = std::iter::once(first).chain(decision.fallbacks.iter().map(|later| later.image.as_str()));
        let tried = first_found(references, settings.digest.pins(decision.step), &mut ask);
        outcome.unfound = tried.found.is_none();
        // An unfound outcome keeps its first target, which the records name.
        if let Some((at, reference)) = tried.found {
            if let Some(later) = at.checked_sub(1).and_then(|later| decision.fallbacks.get_mut(later)) {
                decision.registry = Some(std::mem::take(&mut later.registry));
            }
            decision.swapped = Some(reference);
            outcome.swapped_secret = decision.registry.as_deref().and_then(|registry| settings.pull_secret(registry));
        }
        decision.fallbacks.clear();
        outcome.misses = tried.misses;
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

/// The misses of one image, as a warning names them: `target reason (what the host said…); …`.
pub(crate) fn joined(misses: &[Miss]) -> String {
    misses.iter().map(Miss::short).collect::<Vec<_>>().join("; ")
}

/// The admission warnings of one evaluation: one per outcome (distinct image), at most
/// [`WARNED_IMAGES`], then one that counts the rest.
pub(crate) struct Warnings {
    texts: Vec<String>,
    /// Whether each outcome was warned about.
    warned: Vec<bool>,
    more: usize,
}

impl Warnings {
    pub(crate) fn new(outcomes: usize) -> Self {
        Self { texts: Vec::new(), warned: vec![false; outcomes], more: 0 }
    }

    /// Warns once about outcome `at`, with the text `say` makes.
    pub(crate) fn add(&mut self, at: usize, say: impl FnOnce() -> String) {
        match self.warned.get_mut(at) {
            Some(warned) if !*warned => *warned = true,
            _ => return,
        }
        if self.texts.len() < WARNED_IMAGES {
            let mut text = say();
            if text.len() > WARNING_BYTES {
                let mut end = WARNING_BYTES - '…'.len_utf8();
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push('…');
            }
            self.texts.push(text);
        } else {
            self.more += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.texts.push(format!(
                "and {} more images whose targets were not found (the policy-server's log names them)",
                self.more
            ));
        }
        self.texts
    }
}

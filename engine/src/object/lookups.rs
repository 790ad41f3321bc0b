//! docs/behaviour.md §5 in an admission: the budget of lookups a request may make, the targets of
//! each image looked up in the order of its list (each distinct reference once), and the
//! admission warnings for the images left as written or swapped to a later target.

use std::collections::BTreeMap;

use crate::lookup::{Lookup, TargetLookup, look_up};
use crate::object::admission::Outcome;
use crate::object::verdict::{Miss, WARNED_IMAGES};
use crate::settings::Settings;
use crate::swap::{DigestPolicy, Step};

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
        // `[EXACT]` targets are used verbatim: `digest: pin` leaves them as written, as `digest:
        // drop` does (a pinned copy would no longer be that target for step 1).
        let pin = settings.digest == DigestPolicy::Pin && decision.step != Step::Exact;
        let Some(first) = decision.swapped.take() else { continue };
        let candidates = std::iter::once((first, decision.registry.take()))
            .chain(decision.fallbacks.drain(..).map(|candidate| (candidate.image, Some(candidate.registry))));
        let mut misses = Vec::new();
        let mut chosen = None;
        for (reference, registry) in candidates {
            match ask(&reference) {
                Lookup::Found { digest } => {
                    let pinned = pin && !reference.contains('@');
                    chosen = Some((if pinned { format!("{reference}@{digest}") } else { reference }, registry));
                    break;
                }
                Lookup::NotFound { reason, said } => misses.push(Miss { target: reference, reason, said }),
            }
        }
        let found = chosen.is_some();
        // An unfound outcome keeps its first target, which the records name.
        let first_target = misses.first().map(|miss| miss.target.clone());
        let (swapped, registry) = chosen.unwrap_or((first_target.unwrap_or_default(), None));
        decision.swapped = Some(swapped);
        decision.registry = registry;
        outcome.swapped_secret = decision
            .registry
            .as_deref()
            .and_then(|registry| settings.image_pull_secrets.get(registry).map(String::as_str));
        outcome.unfound = !found;
        outcome.misses = misses;
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

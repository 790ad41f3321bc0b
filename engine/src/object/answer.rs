//! The answer to an admission request (docs/behaviour.md §4 to §6b): from the decisions of its
//! images, after the lookups of §5, either the object's edits (mutate mode) or the acceptance or the
//! rejection that names every field mutate mode would change (validate mode). Both modes come from
//! the same decisions.

use crate::lookup::TargetLookup;
use crate::object::admission::{Admission, Decisions};
use crate::object::edits::{annotations_writable, apply, missing_pull_secrets};
use crate::object::lookups::{Warnings, joined, look_up_targets, lookups_needed};
use crate::object::verdict::{Evaluation, NAMED_FIELDS, Rejection, Rewrite, Skipped, Verdict};
use crate::object::walk::{self, FoundImage};
use crate::settings::{Mode, Settings};
use crate::swap::SwapError;

impl Admission {
    /// Builds the answer from the decisions: looks targets up (once each) when
    /// `checkTargetExists` asks for it, then mutates the object, or in validate mode accepts or
    /// rejects it.
    pub(crate) fn answer<'s>(
        self,
        settings: &'s Settings,
        decisions: Decisions<'s>,
        targets: &mut dyn TargetLookup,
    ) -> Evaluation {
        let Self { mut object, kind, ephemeral_only, pod_update, previous_originals, sites, pod_specs } = self;
        let Decisions { mut outcomes, of_site } = decisions;
        let errors: Vec<(&FoundImage, &SwapError)> = sites
            .iter()
            .zip(&of_site)
            .filter_map(|(site, at)| outcomes.get(*at).and_then(|o| o.decided.as_ref().err()).map(|e| (site, e)))
            .collect();
        if !errors.is_empty() {
            let named = errors.iter().take(NAMED_FIELDS).map(|(site, error)| (site.place(), (*error).clone()));
            return Evaluation::reject(Rejection::Undecidable { named: named.collect(), count: errors.len() });
        }
        if settings.check_target_exists {
            let needed = lookups_needed(&outcomes);
            if needed > settings.max_lookups {
                return Evaluation::reject(Rejection::TooManyLookups { kind, needed, allowed: settings.max_lookups });
            }
            look_up_targets(&mut outcomes, targets, settings);
        }
        // Most sites of a request the policy mutates are swapped: the list grows once.
        let mut rewrites = Vec::with_capacity(sites.len());
        let mut skipped = Vec::new();
        let mut warnings = Warnings::new(if settings.check_target_exists { outcomes.len() } else { 0 });
        // The secrets each pod spec needs, in the order of first use.
        let mut needed: Vec<Vec<&str>> = vec![Vec::new(); pod_specs.len()];
        // How many sites use each outcome: the new image of an outcome only one site uses is
        // moved into its rewrite rather than copied (each image of a Pod of distinct images).
        let mut uses = vec![0_u32; outcomes.len()];
        for at in &of_site {
            if let Some(count) = uses.get_mut(*at) {
                *count = count.saturating_add(1);
            }
        }
        for (site, at) in sites.into_iter().zip(of_site) {
            let single = uses.get(at) == Some(&1);
            let Some(outcome) = outcomes.get_mut(at) else { continue };
            let secrets = site.pod_spec().and_then(|pod_spec| needed.get_mut(pod_spec));
            if let (Some(secrets), Some(secret)) = (secrets, outcome.secret())
                && !secrets.contains(&secret)
            {
                secrets.push(secret);
            }
            let (Some(to), Some(line)) = (outcome.swap(), outcome.line()) else { continue };
            if outcome.unfound {
                let field = site.field();
                warnings.add(at, || format!("{field}: {} left as written: {}", site.image, joined(&outcome.misses)));
                skipped.push(Skipped { field, image: site.image, line, misses: outcome.misses.clone() });
                continue;
            }
            if !outcome.misses.is_empty() {
                warnings.add(at, || {
                    format!("{}: {} swapped to {to}: {}", site.field(), site.image, joined(&outcome.misses))
                });
            }
            let kept_digest = outcome.kept_digest();
            let passed_over = outcome.misses.clone();
            let to = if single { outcome.take_swap() } else { to.to_owned() };
            rewrites.push(Rewrite { site, to, line, kept_digest, passed_over });
        }
        let warnings = warnings.finish();
        // The rewrites hold what the answer needs; the memory is reused for the object's edits.
        drop(outcomes);
        if ephemeral_only || pod_update {
            needed.clear();
        }
        let mut missing: Vec<(&str, Vec<&str>)> = Vec::new();
        for (at, needed) in pod_specs.iter().zip(&needed) {
            match missing_pull_secrets(&object, at, needed) {
                Ok(secrets) if secrets.is_empty() => {}
                Ok(secrets) => missing.push((at, secrets)),
                Err(error) => return Evaluation { warnings, ..Evaluation::reject(Rejection::Object(error)) },
            }
        }
        let mut added_pull_secrets: Vec<String> = Vec::new();
        for secret in missing.iter().flat_map(|(_, secrets)| secrets) {
            if !added_pull_secrets.iter().any(|added| added == secret) {
                added_pull_secrets.push((*secret).to_owned());
            }
        }
        let verdict = if rewrites.is_empty() && missing.is_empty() {
            Verdict::Accept
        } else {
            let record = settings.record_original_images && !ephemeral_only;
            match settings.mode {
                // Rejected in mutate mode's words when it could not write the annotation.
                Mode::Validate => match annotations_writable(&object, record && !rewrites.is_empty()) {
                    Ok(()) => Verdict::Reject(must_change(kind, &rewrites, &missing)),
                    Err(error) => Verdict::Reject(Rejection::Object(error)),
                },
                Mode::Mutate => {
                    let originals = record.then_some(previous_originals);
                    match apply(&mut object, &rewrites, originals, &missing) {
                        Ok(()) => Verdict::Mutate(object),
                        Err(error) => Verdict::Reject(Rejection::Object(error)),
                    }
                }
            }
        };
        Evaluation { verdict, rewrites, skipped, added_pull_secrets, warnings }
    }
}

/// The validate-mode rejection: every image that mutate mode would change, with the image it must
/// be and the rule's line, and every pull secret it would add to each pod spec (the first
/// [`NAMED_FIELDS`], and how many).
fn must_change(kind: String, rewrites: &[Rewrite], missing: &[(&str, Vec<&str>)]) -> Rejection {
    let images = rewrites.iter().map(|rewrite| {
        format!(
            "{}: image {:?} must be {:?} (swap map line {})",
            rewrite.site.place(),
            rewrite.from(),
            rewrite.to,
            rewrite.line
        )
    });
    let secrets = missing.iter().flat_map(|(at, secrets)| {
        secrets
            .iter()
            .map(move |secret| format!("{}.imagePullSecrets must list the secret {secret:?}", walk::dotted(at)))
    });
    let count = rewrites.len() + missing.iter().map(|(_, secrets)| secrets.len()).sum::<usize>();
    Rejection::MustChange { kind, named: images.chain(secrets).take(NAMED_FIELDS).collect(), count }
}

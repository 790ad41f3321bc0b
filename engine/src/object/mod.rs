//! Objects (docs/behaviour.md §4 to §6b), stage by stage: where each kind keeps its pod specs and
//! images ([`kinds`], the built-in kinds and those of `customResources`) and the walk that finds
//! them ([`walk`]); the admission request read and its images decided ([`admission`]); their targets
//! looked up ([`lookups`]); the answer ([`answer`], of the types in [`verdict`]), with the object's
//! edits ([`edits`]); what is logged of it ([`report`]); and how both name a long list
//! ([`listing`]).

pub(crate) mod admission;
pub(crate) mod answer;
pub(crate) mod edits;
pub(crate) mod kinds;
pub(crate) mod listing;
pub(crate) mod lookups;
pub(crate) mod report;
pub(crate) mod verdict;
pub(crate) mod walk;

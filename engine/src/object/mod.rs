//! Objects (docs/behaviour.md §4 to §6): the walk that finds an object's images ([`walk`]), the
//! admission request read, decided and answered ([`admission`]), what is logged of it
//! ([`report`]), and how both name a long list ([`listing`]).

pub(crate) mod admission;
pub(crate) mod listing;
pub(crate) mod report;
pub(crate) mod walk;

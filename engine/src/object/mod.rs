//! Objects (docs/behaviour.md §4 to §6): the walk that finds an object's images ([`walk`]) and the
//! admission request read, decided and answered ([`admission`]).

pub(crate) mod admission;
pub(crate) mod walk;

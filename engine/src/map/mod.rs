//! The swap map (docs/behaviour.md §3): its text lexed into lines ([`lex`], numbered by [`line`],
//! searching sixteen bytes at a time with [`crate::bytes`]), the keys and targets those lines hold
//! ([`targets`]), the index the decision reads ([`rules`], hashed with [`hash`]), and the request
//! path's choice of the lines that can decide a request's images ([`relevance`]).

pub(crate) mod hash;
pub(crate) mod lex;
pub(crate) mod line;
pub(crate) mod relevance;
pub(crate) mod rules;
pub(crate) mod targets;

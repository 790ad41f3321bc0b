//! The test kit: loads the case tables of `tests/cases/`, runs every case and
//! reports every failure at once with the case's name, and holds the checks that every host (the
//! engine natively, the wasm runner, the CLI, the playground) applies to the answers, so that the
//! hosts cannot drift apart. One module a job: loading and running tables ([`tables`]), the
//! admission cases ([`admission`]), the settings and payload cases ([`inputs`]), what the tools show
//! ([`tools`]), one judge of every host's AdmissionResponse ([`judge`]), validate mode's answers ([`validate`]), derived requests ([`variants`]), and an
//! oracle that scans the whole map ([`scan`]).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test kit: failing loudly is the point

pub mod admission;
pub mod inputs;
pub mod judge;
pub mod scan;
pub mod tables;
pub mod tools;
pub mod validate;
pub mod variants;

pub use admission::*;
pub use inputs::*;
pub use judge::*;
pub use tables::*;
pub use tools::*;
pub use validate::*;
pub use variants::*;

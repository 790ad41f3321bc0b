//! The test kit: loads the case tables of `tests/cases/` and `e2e-tests/`, runs every case and
//! reports every failure at once with the case's name, and holds the checks that every host (the
//! engine natively, the wasm runner, the CLI, the playground) applies to the answers, so that the
//! hosts cannot drift apart. One module a job: loading and running tables ([`tables`]), the
//! admission cases ([`e2e`]), the settings and payload cases ([`inputs`]), what the tools show
//! ([`tools`]), validate mode's answers ([`validate`]), derived requests ([`variants`]), and an
//! oracle that scans the whole map ([`scan`]).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a test kit: failing loudly is the point

pub mod e2e;
pub mod inputs;
pub mod scan;
pub mod tables;
pub mod tools;
pub mod validate;
pub mod variants;

pub use e2e::*;
pub use inputs::*;
pub use tables::*;
pub use tools::*;
pub use validate::*;
pub use variants::*;

//! Shared code of the feeledger fuzz targets.
//!
//! * [`invariants`]: the fixed ledger and one `check_*` function per
//!   decoder (shared with `crates/core/tests/fuzz_corpus.rs`).
//! * [`server`]: drives `POST /add-checkpoint` and `POST /api/v1/proposals`
//!   of a real `feeledger_server::ledger_router` over a real store, so the
//!   handlers behind the parsers are fuzzed too.

#[path = "invariants.rs"]
pub mod invariants;

pub mod server;

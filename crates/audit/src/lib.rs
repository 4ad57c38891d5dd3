//! The feeledger auditor: replays a ledger from its leaves and checks
//! everything anyone else says about it, trusting only the log key.
//!
//! - [`Audit`] is the replay itself. A driver feeds it leaves in order; it
//!   decodes them and checks their signatures on every core, applies them
//!   in order with the core (the chain, every signature with the roles in
//!   force, every rule, every balance), recomputes the Merkle root, and
//!   checks a signed checkpoint ([`Audit::check_checkpoint`]) and an
//!   earlier one ([`Audit::check_saved`]). It holds O(log n) tree state.
//! - Three drivers feed it:
//!   - [`audit_store`]: a data directory, with every key the store derives
//!     from the leaves (node tiles, indexes, body ids, reversal links,
//!     totals, the state snapshot). Its memory does not grow with the
//!     ledger ([`bodies`]).
//!   - [`audit_server`]: a server over HTTP ([`Server`]), with the tiles and
//!     bundles it serves. [`replay_server`] is its fetch-and-replay loop,
//!     which the CLI's `--url` readers share.
//!   - [`audit_tiles`]: a tiles backup or a static mirror of one, read with
//!     [`TileReader`] (which `restore` reads through too).
//! - [`LedgerView`] is a ledger to read from: a [`feeledger_store::Store`],
//!   or a [`RemoteLedger`], a server's ledger fetched whole through
//!   [`replay_server`] and verified against the log key before anything is
//!   read. The CLI's read commands and `feeledger-report`'s exports read
//!   through it.
//! - [`Failure`] is the first thing found wrong, with the entry at fault
//!   where there is one and its typed [`Cause`]; [`Report`] is what an audit found. Every driver
//!   reports its progress through a callback taking [`Progress`], and
//!   prints nothing.
//!
//! # Example
//!
//! Audits a data directory, counting the progress reports:
//!
//! ```no_run
//! use feeledger_audit::{audit_store, Audit};
//!
//! let store = feeledger_store::Store::open(std::path::Path::new("ledger"))?;
//! let mut audit = Audit::new(None, Vec::new());
//! let mut reports = 0;
//! let result = audit_store(&store, &mut audit, None, &mut |_progress| reports += 1);
//! let report = audit.report(result.as_ref().ok().cloned(), None, result.err());
//! println!("{} entries checked; ok: {}", report.entries, report.ok);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Every public function says how it fails and when a caller can make it
// panic (docs/ARCHITECTURE.md, the core's invariant, holds here too).
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

pub mod bodies;
pub mod http;
mod local;
mod remote;
mod replay;
pub mod tiles;
pub mod view;

pub use http::{HttpError, Server};
pub use local::{audit_store, audit_store_resumed, resume_point, ResumePoint};
pub use remote::{audit_server, replay_server, served_witness_keys, ReplayError};
pub use replay::{
    check_cosignatures, AppliedLinks, Audit, Cause, CheckpointReport, CosignatureLines, Cosigners,
    DecodedChunk, Derived, Earlier, Failure, Postings, Report, UnverifiedCosignature, AUDIT_CHUNK,
};
pub use tiles::{audit_tiles, TileError, TileReader, TileSource};
pub use view::{Leaves, LedgerView, ProposalFault, RemoteLedger, ViewError};

/// How far an audit has come, told to the caller's callback after each
/// chunk, page or bundle of entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Entries checked so far.
    pub entries_checked: u64,
    /// Entries the audit will check in all (the store's size, or the
    /// signed checkpoint's).
    pub entries_total: u64,
}

/// An error and its sources, joined by ": " (as the CLI prints errors), for
/// a failure's message.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

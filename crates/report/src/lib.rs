//! A feeledger ledger in human and accounting terms. It returns text and
//! writes to any [`std::io::Write`]; it prints nothing itself.
//!
//! - [`describe`]: entries and proposals in words. English summaries and
//!   details ([`describe::summary`], [`describe::details`]), the
//!   Chinese-first labels residents and bookkeepers read (kinds,
//!   categories, roles, amounts in yuan, funds), and
//!   [`describe::proposal_echo`], what a bookkeeper checks against the
//!   invoice before a proposal is recorded.
//! - The exports, reading any [`feeledger_audit::LedgerView`] (a data
//!   directory, or a server's ledger verified against the log key):
//!   [`write_hledger`] (a journal `hledger check --strict` accepts, with a
//!   balance assertion on every fund posting), [`write_csv`] and
//!   [`write_json`]. Each fails with a typed [`ExportError`].
//!
//! - [`statement`]: the notice-board statement (公示) of a month, quarter
//!   or year, with its digest, rendered as one printable A4 HTML page.
//!
//! Amounts are integer fen, shown as yuan (`¥1,280.50`, or `1280.50` where
//! a tool reads them); never floats.
//!
//! # Example
//!
//! Writes the CSV export of a data directory's ledger to a buffer:
//!
//! ```no_run
//! let store = feeledger_store::Store::open(std::path::Path::new("ledger"))?;
//! let mut csv = Vec::new();
//! feeledger_report::write_csv(&store, &mut csv)?;
//! println!("{} bytes of CSV", csv.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod describe;
mod export;
pub mod statement;

pub use export::{write_csv, write_hledger, write_json, ExportError, CSV_COLUMNS};

//! A feeledger ledger's data directory, and the making of one.
//!
//! A data directory holds `ledger/` (the sled store of `feeledger-store`)
//! and `log.key` (the key that signs its checkpoints, mode 0600).
//!
//! - [`DataDir`]: a data directory by path. [`DataDir::open`] opens its
//!   store and, when it does not open, says why in words a person can act
//!   on ([`DataDirError`]): no ledger (missing, empty, half-made by an
//!   unfinished `init`, something else), in use by another process, or
//!   damaged (with how to recover). [`DataDir::contents`] tells what a
//!   directory holds from its names alone ([`Contents`]).
//! - [`KeyFileIo`]: reading a key file (`feeledger_core::keyfile`'s text)
//!   with its size and permission checks, and writing one with mode 0600
//!   ([`KeyFileIoError`]).
//! - [`init()`]: a new ledger from a genesis description
//!   ([`GenesisDescription`]), all or nothing: built in a staging
//!   directory and moved into place once the genesis is stored
//!   ([`InitError`]).
//! - A genesis ceremony, where no founder's private key moves: [`draft()`]
//!   (a description without signers to a genesis body), [`write_draft`] /
//!   [`read_draft`], [`write_signature`] / [`read_signature`] (a founder's
//!   signature file, docs/format.md §11.7), and [`init_from_draft`], which
//!   checks the draft, the signatures and the log key before it creates
//!   the ledger as [`init()`] does.
//!
//! - [`platform`]: a platform directory, many ledgers in one shared sled
//!   database ([`PlatformDir`]), their slugs ([`check_slug`]), adding one
//!   while the server runs and retiring one.
//!
//! The clock and the RNG are the caller's: [`init()`] is given today's
//! date, the genesis nonce, the time to record and any new log key
//! ([`Fresh`], [`LogKeySource`]).
//!
//! ```no_run
//! use feeledger_ledgerdir::DataDir;
//! let dir = DataDir::new(std::path::Path::new("data"));
//! match dir.open() {
//!     Ok(store) => println!("{} entries", store.size()),
//!     Err(e) => eprintln!("error: {e}"),
//! }
//! ```
pub mod datadir;
pub mod init;
pub mod keyfile;
pub mod platform;

pub use datadir::{Contents, DataDir, DataDirError};
pub use feeledger_core::keyfile::KeyFile;
pub use init::{
    draft, init, init_from_draft, read_draft, read_signature, write_draft, write_signature, Fresh,
    GenesisDescription, InitError, LogKeySource, RoleDescription,
};
pub use keyfile::{KeyFileIo, KeyFileIoError};
pub use platform::{check_slug, PlatformDir, PlatformError, SlugError};

//! [`BackupError`]: why an export, restore or rebuild stopped. Each variant's
//! message, with its `source` chain joined by ": ", is the line the
//! binary prints after `error: `.

use feeledger_audit::TileError;
use feeledger_core::entry::FormatError;
use feeledger_core::hash::Hash;
use feeledger_core::note::{NoteError, VerifierKey};
use feeledger_core::state::ApplyError;
use feeledger_core::tiles::TileWriteError;
use feeledger_store::{StoreError, WitnessError};
use std::path::PathBuf;

/// What saving the log key (a caller's function) failed with.
pub type SaveKeyError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a rebuild needs when a leaf is damaged or missing.
pub(crate) const NEEDS_BACKUP: &str = "a damaged entry cannot be rebuilt from itself: restore the ledger from a backup (`feeledger restore --from BACKUP --data NEWDIR --log-key KEYFILE`)";

/// A leaf whose bytes disagree with two other records of its hash: the
/// Merkle tree's and the next entry's link (or the recorded head). Boxed
/// in [`BackupError`], which it would otherwise double in size.
#[derive(Debug, thiserror::Error)]
#[error("entry {seq} is damaged or was altered: its bytes hash to {hash}, but the Merkle tree records {recorded} and {linked_by} {linked}; {NEEDS_BACKUP}")]
pub struct LeafAltered {
    pub seq: u64,
    pub hash: Hash,
    pub recorded: Hash,
    /// "entry N links to" or "the recorded head is".
    pub linked_by: String,
    pub linked: Hash,
}

/// Why an export, restore or rebuild stopped. Nothing was changed: a
/// partial export, restore or rebuild is removed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    // ------------------------------------------------------------ files
    #[error("cannot create {}", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}", .path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {} (left by an earlier rebuild)", .path.display())]
    RemoveLeftover {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot replace {}", .path.display())]
    Replace {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot rename {} to {}", .from.display(), .to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    /// The swap's second rename failed; the old store is kept in `kept`.
    #[error("cannot rename {} to {} (the old store is in {})", .from.display(), .to.display(), .kept.display())]
    RenameKeptOld {
        from: PathBuf,
        to: PathBuf,
        kept: PathBuf,
        source: std::io::Error,
    },
    /// The caller's function saving the log key failed.
    #[error(transparent)]
    SaveKey(SaveKeyError),

    // ------------------------------------------------------------ stores
    /// A store error while reading `what`.
    #[error("{what}")]
    StoreRead {
        what: &'static str,
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// A data directory's store could not be opened.
    #[error("{}", .data.display())]
    Open { data: PathBuf, source: StoreError },
    #[error("opening the rebuilt store {}", .path.display())]
    OpenRebuilt { path: PathBuf, source: StoreError },

    // ------------------------------------------------------------ tiles
    #[error(transparent)]
    TileRead(#[from] TileError),
    #[error(transparent)]
    TileWrite(#[from] TileWriteError),

    // ------------------------------------------------------------ export
    #[error("{} exists and is not empty; a backup goes into a new directory", .out.display())]
    OutNotEmpty { out: PathBuf },
    #[error("the store's latest checkpoint does not verify with its log key: {error}")]
    StoreCheckpoint { error: NoteError },
    #[error("entry {seq} is missing from the store")]
    EntryMissing { seq: u64 },
    #[error("the store holds {held} entries; its checkpoint says {size}")]
    StoreShort { held: u64, size: u64 },
    #[error("the store's entries give root {root}, its signed checkpoint says {signed}: the entries are damaged; run `feeledger verify`")]
    StoreRootMismatch { root: Hash, signed: Hash },
    #[error("export to {} failed", .out.display())]
    ExportFailed {
        out: PathBuf,
        source: Box<BackupError>,
    },

    // ------------------------------------------------------------ restore
    /// `from` names the backup (its directory, or its bucket's URL).
    #[error(
        "{from} is not a feeledger backup: cannot read its {}",
        feeledger_audit::tiles::CHECKPOINT_FILE
    )]
    NotABackup { from: String, source: TileError },
    /// `from` has no checkpoint file.
    #[error(
        "{from} is not a feeledger backup: it has no {} file",
        feeledger_audit::tiles::CHECKPOINT_FILE
    )]
    NoCheckpoint { from: String },
    #[error("{from}/{} does not verify with the log key {} ({vkey}): {error}", feeledger_audit::tiles::CHECKPOINT_FILE, .key_file.display())]
    BackupCheckpoint {
        from: String,
        key_file: PathBuf,
        vkey: Box<VerifierKey>,
        error: NoteError,
    },
    #[error("the backup's checkpoint is of an empty log")]
    EmptyBackup,
    #[error("{} already holds a ledger; restore into a new directory", .data.display())]
    AlreadyALedger { data: PathBuf },
    #[error("{} already exists; restore into a new directory", .path.display())]
    KeyFileExists { path: PathBuf },
    #[error("entry {seq} (in {bundle}) is refused: it does not decode: {error}")]
    LeafDoesNotDecode {
        seq: u64,
        bundle: String,
        error: FormatError,
    },
    #[error("the log key given is not the one the backup's genesis names")]
    NotTheBackupsLogKey,
    /// A backup's leaf refused by the core.
    #[error("entry {seq} ({origin}) is refused: {reason}")]
    BackupLeafRefused {
        seq: u64,
        origin: String,
        reason: ApplyError,
    },
    #[error("the backup's entries give root {root}, its signed checkpoint says {signed}: the backup is damaged")]
    BackupRootMismatch { root: Hash, signed: Hash },
    #[error("the restored ledger did not keep the backup's checkpoint")]
    CheckpointNotKept,
    #[error("the restored ledger's root differs from the backup's checkpoint")]
    RestoredRootDiffers,
    #[error("restore from {from} failed")]
    RestoreFailed {
        from: String,
        source: Box<BackupError>,
    },

    // ------------------------------------------------------------ rebuild
    #[error("entry {seq} is refused ({reason}); {NEEDS_BACKUP}")]
    LeafRefused { seq: u64, reason: ApplyError },
    #[error("entry 0 (genesis) is refused ({reason}); {NEEDS_BACKUP}")]
    GenesisRefused { reason: ApplyError },
    #[error("its log.key is not this ledger's log key")]
    NotThisLedgersLogKey,
    #[error("entry {seq} is missing from the store; {NEEDS_BACKUP}")]
    LeafMissing { seq: u64 },
    /// Two of a leaf's three records of its hash disagree with its bytes.
    #[error(transparent)]
    LeafAltered(Box<LeafAltered>),
    #[error("the store holds no entries; {NEEDS_BACKUP}")]
    NoEntries,
    #[error("the log key signed checkpoint {size} with root {signed}, but the stored entries give {root}: an entry before {size} is not the one that was signed; {NEEDS_BACKUP}")]
    SignedCheckpointContradicts { size: u64, signed: Hash, root: Hash },
    #[error("the log key signed a checkpoint of size {signed_size}, but the store holds only {size} entries: entries {size}.. are missing; {NEEDS_BACKUP}")]
    SignedBeyondStore { signed_size: u64, size: u64 },
    #[error("a kept checkpoint")]
    KeptCheckpoint { source: NoteError },
    #[error("checkpoint {size}: {error}")]
    KeptCheckpointNote { size: u64, error: NoteError },
    #[error("rebuild of {} failed; nothing was changed", .data.display())]
    RebuildFailed {
        data: PathBuf,
        source: Box<BackupError>,
    },
    #[error("the rebuilt store does not pass the audit{}: {message}; nothing was changed (the rebuilt copy is in {})", .seq.map(|seq| format!(" at entry {seq}")).unwrap_or_default(), .fresh.display())]
    RebuiltFailsAudit {
        seq: Option<u64>,
        message: String,
        fresh: PathBuf,
    },
}

/// An error and its sources, joined by ": " as the binary prints them:
/// for the notes of a rebuild, which name an error inside a line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

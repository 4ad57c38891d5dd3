use feeledger_core::merkle::ProofRequestError;
use feeledger_core::note::{KeyAlg, NoteError};
use feeledger_core::state::ApplyError;
use std::path::Path;
use std::sync::Arc;

/// What sled says when a checksum or a structure on disk does not hold,
/// with the log offset it read at when it knows it. It is damage to the
/// store, not a failure of the disk's I/O, so it is reported (and handled)
/// as [`StoreError::Damaged`].
pub(crate) fn sled_corruption(at: Option<sled::DiskPtr>) -> String {
    match at {
        // `DiskPtr::lid` is the offset in sled's log file (`db`) for both
        // kinds of pointer; a blob pointer names its blob file too.
        Some(sled::DiskPtr::Blob(offset, blob)) => format!(
            "sled found corrupted data at offset {offset} of its log, pointing to blob {blob}"
        ),
        Some(sled::DiskPtr::Inline(offset)) => {
            format!("sled found corrupted data at offset {offset} of its log")
        }
        None => "sled found corrupted data".to_string(),
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        match e {
            sled::Error::Corruption { at, .. } => StoreError::Damaged {
                what: sled_corruption(at),
                unreadable: true,
            },
            other => StoreError::Io(other),
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entry was refused by the core's validation; nothing was written.
    #[error(transparent)]
    Rejected(#[from] ApplyError),
    /// A leaf given whole (restore, rebuild) was refused by the core;
    /// `seq` is where it would have gone.
    #[error("leaf {seq} is refused: {reason}")]
    LeafRefused { seq: u64, reason: ApplyError },
    #[error("{dir} holds no ledger (run `feeledger init` first)")]
    NotInitialized { dir: String },
    #[error("{dir} already holds a ledger")]
    AlreadyInitialized { dir: String },
    /// Another process (or a store not yet closed in this one) holds the
    /// directory's lock: sled lets one process open a directory at a time.
    #[error("{dir} is in use by another feeledger process")]
    Locked { dir: String },
    #[error("the data directory uses store format {found}; this feeledger reads {} (export it with the feeledger that made it, or rebuild it from its leaves)", crate::STORE_FORMAT)]
    IncompatibleFormat { found: String },
    #[error("an earlier write could not be flushed or undone; reopen the store (restart the server) before writing again")]
    Poisoned,
    /// The filesystem holding the store has less free space than a write
    /// keeps in reserve; nothing was written, and the same write succeeds
    /// once space is freed (see the `writes` module).
    #[error("the disk is full: {free_bytes} bytes free where {dir} is kept, and a write needs {floor_bytes} free; nothing was stored: free disk space, then retry")]
    InsufficientStorage {
        dir: String,
        free_bytes: u64,
        floor_bytes: u64,
    },
    /// Stored data does not check out. `unreadable`: sled itself cannot
    /// read its files (a checksum or structure of its log failed), so the
    /// leaves cannot be read back either and only a backup restores the
    /// ledger; otherwise what is damaged is feeledger's data in a store
    /// sled reads, which `rebuild` may mend.
    #[error("the store is damaged: {what}")]
    Damaged { what: String, unreadable: bool },
    #[error("the log key given is not this ledger's log key")]
    WrongLogKey,
    #[error("no checkpoint of size {size}")]
    NoCheckpoint { size: u64 },
    #[error("no pending proposal {id}")]
    NoProposal { id: String },
    /// The proposal was withdrawn: it can never be signed, proposed or
    /// committed again.
    #[error("proposal {id} was withdrawn by {by} (at {withdrawn_ms} ms since 1970); it can no longer be signed or committed: propose a new body, with a new nonce, if it is still wanted")]
    ProposalWithdrawn {
        id: String,
        by: String,
        withdrawn_ms: u64,
    },
    /// The proposal is already an entry of the log.
    #[error("proposal {id} is already committed, as entry {seq}; it can no longer be signed or withdrawn (a reversal undoes an entry)")]
    ProposalCommitted { id: String, seq: u64 },
    /// A withdrawal's signatures were refused by the core.
    #[error(transparent)]
    Withdrawal(#[from] feeledger_core::withdrawal::WithdrawalError),
    #[error("too many pending proposals ({count}); the limit is {limit}")]
    TooManyProposals { count: usize, limit: usize },
    #[error("the checkpoint already carries {limit} signature lines, the most a note may hold")]
    TooManyCosignatures { limit: usize },
    /// A proof or root asked of a tree that cannot have one (an index
    /// beyond its size, an old size larger than the new one).
    #[error("proof request: {0}")]
    ProofRequest(#[from] ProofRequestError),
    /// A proof or root asked of a size the published log has not reached.
    #[error("proof request: tree size {size} is beyond the log's {current}")]
    SizeBeyondLog { size: u64, current: u64 },
    /// The log key could not sign the new checkpoint (its origin differs
    /// from the ledger's, or the checkpoint is malformed): a bug or a wrong
    /// key, never the caller's input.
    #[error("signing a checkpoint failed: {0}")]
    Signing(#[source] NoteError),
    /// Any other storage failure. sled's corruption errors never land here:
    /// [`From<sled::Error>`] makes them [`StoreError::Damaged`].
    #[error("storage I/O: {0}")]
    Io(sled::Error),
    /// The batch this request was part of failed as a whole (told to each
    /// request of a group commit); nothing of it was written.
    #[error("the write failed and nothing was stored: {cause}")]
    BatchFailed { cause: BatchFailure },
}

/// Why a group commit failed as a whole, told to every request in it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BatchFailure {
    /// The store failed (I/O, damage, poisoning); shared by every request
    /// of the batch, hence the `Arc`.
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The writer panicked while building the batch; the working copy was
    /// dropped, so the ledger is as it was.
    #[error("the writer panicked in this batch")]
    WriterPanicked,
}

/// Why [`crate::Store::add_witness`] refused a key.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// Witnesses cosign with a cosignature/v1 key (type 0x04); any other
    /// type could not verify the cosignatures the ledger collects.
    #[error("witness key {name:?} is a type 0x{:02x} key; a witness key must be a cosignature/v1 (type 0x04) key: give the \"cosigner key\" line `feeledger keygen` prints, not the verifier key", alg.to_byte())]
    NotACosignatureKey { name: String, alg: KeyAlg },
    /// Writing the key failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WitnessError {
    /// A stable machine-readable name, for API bodies and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            WitnessError::NotACosignatureKey { .. } => "not_a_witness_key",
            WitnessError::Store(e) => e.code(),
        }
    }
}

impl StoreError {
    pub fn damaged(what: impl Into<String>) -> StoreError {
        StoreError::Damaged {
            what: what.into(),
            unreadable: false,
        }
    }

    /// An error of `sled::open`. sled reports a held lock as an `Io` error
    /// of kind `Other` whose only trace of the cause is its text, so the
    /// lock is probed again, by the error kind of the lock call itself
    /// (see [`crate::recovery::lock_is_held`]), instead of reading the text.
    pub(crate) fn from_sled_open(dir: &Path, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(_) if crate::recovery::lock_is_held(dir).unwrap_or(false) => {
                StoreError::Locked {
                    dir: dir.display().to_string(),
                }
            }
            other => StoreError::from(other),
        }
    }

    /// Whether the write failed for lack of disk space: refused before
    /// sled was asked ([`StoreError::InsufficientStorage`]), or sled's own
    /// ENOSPC (or EDQUOT), alone or as the cause of a failed batch.
    pub fn is_no_space(&self) -> bool {
        match self {
            StoreError::InsufficientStorage { .. } => true,
            StoreError::Io(sled::Error::Io(e)) => {
                e.kind() == std::io::ErrorKind::StorageFull
                    || e.kind() == std::io::ErrorKind::QuotaExceeded
                    || e.raw_os_error() == Some(28)
            }
            StoreError::BatchFailed {
                cause: BatchFailure::Store(e),
            } => e.is_no_space(),
            _ => false,
        }
    }

    /// A stable machine-readable name, for API bodies and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Rejected(e) => e.code(),
            StoreError::LeafRefused { .. } => "leaf_refused",
            StoreError::NotInitialized { .. } => "not_initialized",
            StoreError::AlreadyInitialized { .. } => "already_initialized",
            StoreError::Locked { .. } => "locked",
            StoreError::Damaged { .. } => "damaged",
            StoreError::IncompatibleFormat { .. } => "incompatible_format",
            StoreError::WrongLogKey => "wrong_log_key",
            StoreError::NoCheckpoint { .. } => "not_found",
            StoreError::NoProposal { .. } => "not_found",
            StoreError::ProposalWithdrawn { .. } => "withdrawn",
            StoreError::ProposalCommitted { .. } => "already_committed",
            StoreError::Withdrawal(e) => e.code(),
            StoreError::TooManyProposals { .. } => "too_many_proposals",
            StoreError::TooManyCosignatures { .. } => "too_many_cosignatures",
            StoreError::ProofRequest(_) | StoreError::SizeBeyondLog { .. } => "bad_proof_request",
            StoreError::Signing(_) => "internal",
            StoreError::InsufficientStorage { .. } => "insufficient_storage",
            StoreError::BatchFailed {
                cause: BatchFailure::Store(e),
            } if e.is_no_space() => "insufficient_storage",
            StoreError::Io(_) if self.is_no_space() => "insufficient_storage",
            StoreError::Io(_) | StoreError::BatchFailed { .. } | StoreError::Poisoned => "io",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sled's corruption error becomes typed damage, marked unreadable
    /// (what tells the CLI that `rebuild` cannot help), with the log offset
    /// in plain words; other sled errors stay I/O.
    #[test]
    fn sled_corruption_is_damage_not_io() {
        let e = StoreError::from(sled::Error::Corruption {
            at: Some(sled::DiskPtr::Inline(3_276_775)),
            bt: (),
        });
        assert!(
            matches!(
                &e,
                StoreError::Damaged {
                    unreadable: true,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.code(), "damaged");
        assert_eq!(
            e.to_string(),
            "the store is damaged: sled found corrupted data at offset 3276775 of its log"
        );
        let io = StoreError::from(sled::Error::Io(std::io::Error::other("disk")));
        assert!(matches!(io, StoreError::Io(_)), "{io:?}");
    }
}

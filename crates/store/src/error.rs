use feeledger_core::state::ApplyError;
use std::path::Path;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The entry was refused by the core's validation; nothing was written.
    #[error(transparent)]
    Rejected(#[from] ApplyError),
    /// A leaf given whole (restore, rebuild) was refused.
    #[error("leaf {seq} is refused: {reason}")]
    LeafRefused { seq: u64, reason: String },
    #[error("the leaf would be {bytes} bytes; the limit is 65535")]
    LeafTooLarge { bytes: usize },
    #[error("{dir} holds no ledger (run `feeledger init` first)")]
    NotInitialized { dir: String },
    #[error("{dir} already holds a ledger")]
    AlreadyInitialized { dir: String },
    #[error("{dir} is in use by another feeledger process")]
    Locked { dir: String },
    #[error("the data directory uses store format {found}; this feeledger reads {} (export it with the feeledger that made it, or rebuild it from its leaves)", crate::STORE_FORMAT)]
    IncompatibleFormat { found: String },
    #[error("an earlier write could not be flushed or undone; reopen the store (restart the server) before writing again")]
    Poisoned,
    #[error("the store is damaged: {what}")]
    Damaged { what: String },
    #[error("the log key given is not this ledger's log key")]
    WrongLogKey,
    #[error("no checkpoint of size {size}")]
    NoCheckpoint { size: u64 },
    #[error("no pending proposal {id}")]
    NoProposal { id: String },
    #[error("too many pending proposals ({count}); the limit is {limit}")]
    TooManyProposals { count: usize, limit: usize },
    #[error("the checkpoint already carries {limit} signature lines, the most a note may hold")]
    TooManyCosignatures { limit: usize },
    #[error("proof request: {0}")]
    Proof(String),
    #[error("signing a checkpoint failed: {0}")]
    Signing(String),
    #[error("storage I/O: {0}")]
    Io(#[from] sled::Error),
    /// The batch this request was part of failed as a whole (told to each
    /// request of a group commit); nothing of it was written.
    #[error("the write failed and nothing was stored: {reason}")]
    BatchFailed { reason: String },
}

impl StoreError {
    pub fn damaged(what: impl Into<String>) -> StoreError {
        StoreError::Damaged { what: what.into() }
    }

    pub(crate) fn from_sled_open(dir: &Path, e: sled::Error) -> StoreError {
        let text = e.to_string();
        if text.contains("lock")
            || text.contains("WouldBlock")
            || text.contains("temporarily unavailable")
        {
            StoreError::Locked {
                dir: dir.display().to_string(),
            }
        } else {
            StoreError::Io(e)
        }
    }

    /// A stable machine-readable name, for API bodies and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Rejected(e) => e.code(),
            StoreError::LeafTooLarge { .. } => "too_large",
            StoreError::LeafRefused { .. } => "leaf_refused",
            StoreError::NotInitialized { .. } => "not_initialized",
            StoreError::AlreadyInitialized { .. } => "already_initialized",
            StoreError::Locked { .. } => "locked",
            StoreError::Damaged { .. } => "damaged",
            StoreError::IncompatibleFormat { .. } => "incompatible_format",
            StoreError::WrongLogKey => "wrong_log_key",
            StoreError::NoCheckpoint { .. } => "not_found",
            StoreError::NoProposal { .. } => "not_found",
            StoreError::TooManyProposals { .. } => "too_many_proposals",
            StoreError::TooManyCosignatures { .. } => "too_many_cosignatures",
            StoreError::Proof(_) => "bad_proof_request",
            StoreError::Signing(_) => "internal",
            StoreError::Io(_) | StoreError::BatchFailed { .. } | StoreError::Poisoned => "io",
        }
    }
}

//! The record of what the last full audit of this store verified (`U`), so
//! that a restarted server need not audit from genesis again.
//!
//! It holds a size, the Merkle root at that size and the state replayed up
//! to it. A resumed audit (`feeledger_audit::audit_store_resumed`) checks
//! that the recorded root is the tree's root at that size and that the
//! signed checkpoint extends it, starts from the recorded state, and
//! replays only the later entries.
//!
//! **Trust.** The record is a cache for speed, not evidence: whoever can
//! write to the disk can write it too, and a record that matches the tree
//! but lies about the state (or an entry below it changed together with the
//! node tiles) is not caught by a resumed audit. It can only be as wrong as
//! the disk it is on. `feeledger verify --data` never reads it: it audits
//! from genesis, as does a resident's `verify --url` or the page. The record
//! is not part of the ledger (no checkpoint covers it), an older feeledger
//! ignores it, and `rebuild`, `restore` and exports leave it behind.

use crate::append::WorkingCopy;
use crate::{keys, Store, StoreError};
use feeledger_core::state::StateSnapshot;
use serde::{Deserialize, Serialize};

/// What a full audit verified: the first `size` entries, whose tree has
/// `root` (hex) and whose replay gave `snapshot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditedRecord {
    pub size: u64,
    pub root: String,
    pub snapshot: StateSnapshot,
}

impl Store {
    /// The record of the last full audit, if one was kept and parses (one
    /// that does not parse is as good as none: a cache, not the record).
    ///
    /// # Errors
    /// A storage failure.
    pub fn audited(&self) -> Result<Option<AuditedRecord>, StoreError> {
        Ok(self
            .tree()
            .get(keys::AUDITED)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Keeps `record` as what the last full audit verified, durably, through
    /// the one commit path (a full disk refuses it like any write).
    ///
    /// # Errors
    /// As any write.
    ///
    /// # Panics
    /// Never: the record is plain data, which always serializes.
    pub fn record_audited(&self, record: &AuditedRecord) -> Result<(), StoreError> {
        let mut w = self.lock();
        let mut work = WorkingCopy::of(&w);
        work.writes.insert(
            keys::AUDITED,
            serde_json::to_vec(record).expect("a record serializes"),
        );
        self.commit_work(&mut w, work, None)
    }
}

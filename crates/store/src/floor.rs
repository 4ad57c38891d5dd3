//! What sled itself costs for the two keys every entry writes, measured
//! apart from everything else an append does: a floor under the cost of an
//! append, for `feeledger-bench` (see docs/performance.md).
//!
//! An append writes a leaf (`L`, in seq order) and its body id (`B`, a
//! random 32-byte key, for replay protection), plus per-batch keys (node
//! tiles, index buckets, state, checkpoint). A store on sled that refuses
//! replays by body id writes at least the first two. Timing sled writing
//! only those, the way this store writes them (batches of
//! [`BATCH_ENTRIES_MAX`]), bounds how fast such an import can be on a given
//! machine, and how little disk it can use.

use crate::{keys, open_db_with_cache, StoreError, BATCH_ENTRIES_MAX, CACHE_BYTES};
use feeledger_core::hash::Hash;
use std::path::Path;

/// One entry for [`write_leaves_and_body_ids`]: its seq, leaf bytes and
/// body id, as the store keeps them.
pub type FloorEntry = (u64, Vec<u8>, Hash);

/// Writes each entry's leaf and body id into a fresh sled database in
/// `dir`, as [`crate::Store::append_batch`] would: the same keys and
/// values, sled configured as [`crate::Store::open`] configures it, batches
/// of [`BATCH_ENTRIES_MAX`] entries, each flushed to disk before the next.
/// It writes nothing else and checks nothing. The database is closed when
/// this returns; sled's flusher thread may run on for a moment.
///
/// # Errors
/// If `dir` already holds a database, or sled fails.
pub fn write_leaves_and_body_ids(dir: &Path, entries: &[FloorEntry]) -> Result<(), StoreError> {
    if dir.join("db").exists() {
        return Err(StoreError::AlreadyInitialized {
            dir: dir.display().to_string(),
        });
    }
    let db = open_db_with_cache(dir, CACHE_BYTES)?;
    for chunk in entries.chunks(BATCH_ENTRIES_MAX) {
        let mut batch = sled::Batch::default();
        for (seq, leaf, body_id) in chunk {
            batch.insert(keys::leaf(*seq), leaf.as_slice());
            batch.insert(keys::body(body_id), &seq.to_be_bytes());
        }
        db.apply_batch(batch)?;
        db.flush()?;
    }
    Ok(())
}

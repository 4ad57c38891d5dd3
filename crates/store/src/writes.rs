//! Committing a batch: atomically, durably, or not at all.
//!
//! A [`WriteSet`] records every key a batch writes. [`commit`] applies it as
//! one atomic sled batch and flushes. If the flush fails, sled has already
//! applied the batch in memory; the old values of every key are put back
//! (and flushed) so that a failed append leaves the ledger as it was. If
//! even that cannot be flushed, the store is poisoned: it refuses writes
//! until it is reopened, when sled's recovery yields either the whole batch
//! or none of it (PostgreSQL treats a failed fsync the same way).
//!
//! With the `faults` feature, tests arm one-shot faults at each step
//! ([`FaultPoint`]) to prove these paths.
//!
//! **A full disk is refused, not suffered.** sled 0.34 cannot go on after
//! a write or flush of its log fails: it keeps the error in a global slot
//! that only a reopen clears, so every later write and flush of that `Db`
//! fails too (and the undo above with them). So, before a batch is applied,
//! the free space of the filesystem holding the store is read
//! ([`Faults::check_space`]); below [`FREE_BYTES_FLOOR`] the write is
//! refused with [`StoreError::InsufficientStorage`] and sled is never
//! asked. Nothing is changed, reads go on, and the next write succeeds as
//! soon as space is back (Elasticsearch's flood-stage watermark works the
//! same way). A disk filled by someone else between the check and sled's
//! write still poisons the store, as any failed flush does.

use crate::StoreError;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Free bytes a write leaves on the store's filesystem. Below this, writes
/// are refused ([`StoreError::InsufficientStorage`]) before sled is asked,
/// because a sled that fails to write its log is unusable until reopened.
/// It covers what one batch and sled's own bookkeeping write: a group
/// commit of up to 256 proposals (under 1 MiB with its node tiles and
/// index buckets), sled's next log segments (512 KiB each) and a snapshot
/// of its page table (a few MiB at a million entries).
pub const FREE_BYTES_FLOOR: u64 = 16 * 1024 * 1024;

/// The writes of one batch. `new` marks keys known to be absent before the
/// batch (a new seq, a new body id), whose undo is a removal without a read.
#[derive(Default)]
pub(crate) struct WriteSet {
    writes: BTreeMap<Vec<u8>, (Option<Vec<u8>>, bool)>,
}

impl WriteSet {
    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        let key = key.into();
        let new = self.writes.get(&key).is_some_and(|(_, new)| *new);
        self.writes.insert(key, (Some(value.into()), new));
    }

    /// Inserts a key that did not exist before this batch.
    pub fn insert_new(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), (Some(value.into()), true));
    }

    /// What this batch writes at `key`: `Some(None)` if it removes it,
    /// `None` if it leaves it alone.
    pub fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.writes.get(key).map(|(value, _)| value.as_deref())
    }

    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        let key = key.into();
        let new = self.writes.get(&key).is_some_and(|(_, new)| *new);
        self.writes.insert(key, (None, new));
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// A step of a write at which a test can inject a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultPoint {
    /// Reading what `apply` needs (body ids, reversal targets).
    ReadLookups,
    /// Reading node tiles, index buckets and totals to extend them.
    ReadDerived,
    /// Signing the new checkpoint.
    SignCheckpoint,
    /// The atomic batch write itself (nothing is applied).
    WriteBatch,
    /// The flush after the batch was applied in memory.
    Flush,
    /// The flush of the undo after a failed flush (poisons the store).
    FlushUndo,
}

/// Armed faults, the poisoned flag and the free-space check of one store.
#[derive(Default)]
pub(crate) struct Faults {
    #[cfg(feature = "faults")]
    armed: Mutex<Vec<FaultPoint>>,
    poisoned: AtomicBool,
    /// A directory on the filesystem that holds the store, whose free space
    /// is checked before each batch; `None`: not checked.
    space_dir: Mutex<Option<PathBuf>>,
}

impl Faults {
    /// Fails once at `point` if a test armed it.
    pub fn check(&self, point: FaultPoint) -> Result<(), StoreError> {
        #[cfg(feature = "faults")]
        {
            let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = armed.iter().position(|p| *p == point) {
                armed.remove(at);
                return Err(StoreError::Io(sled::Error::Io(std::io::Error::other(
                    format!("injected fault at {point:?}"),
                ))));
            }
        }
        let _ = point;
        Ok(())
    }

    #[cfg(feature = "faults")]
    pub fn arm(&self, point: FaultPoint) {
        self.armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(point);
    }

    /// Checks the free space of `dir`'s filesystem before each write.
    pub fn watch_space(&self, dir: PathBuf) {
        *self.space_dir.lock().unwrap_or_else(|p| p.into_inner()) = Some(dir);
    }

    /// Refuses a write when the store's filesystem has less than
    /// [`FREE_BYTES_FLOOR`] free (see the module docs). A failure to read
    /// the free space is not a reason to refuse: sled's own error, if any,
    /// will say what is wrong.
    pub fn check_space(&self) -> Result<(), StoreError> {
        let dir = self
            .space_dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(dir) = dir else {
            return Ok(());
        };
        match fs2::available_space(&dir) {
            Ok(free_bytes) if free_bytes < FREE_BYTES_FLOOR => {
                Err(StoreError::InsufficientStorage {
                    dir: dir.display().to_string(),
                    free_bytes,
                    floor_bytes: FREE_BYTES_FLOOR,
                })
            }
            _ => Ok(()),
        }
    }

    pub fn check_not_poisoned(&self) -> Result<(), StoreError> {
        if self.poisoned.load(Ordering::SeqCst) {
            return Err(StoreError::Poisoned);
        }
        Ok(())
    }
}

/// Applies `writes` atomically and flushes; see the module docs.
pub(crate) fn commit(
    tree: &sled::Tree,
    faults: &Faults,
    writes: WriteSet,
) -> Result<(), StoreError> {
    faults.check_not_poisoned()?;
    if writes.is_empty() {
        return Ok(());
    }
    faults.check_space()?;
    let mut undo = sled::Batch::default();
    let mut batch = sled::Batch::default();
    for (key, (value, new)) in writes.writes {
        let old = if new { None } else { tree.get(&key)? };
        match old {
            Some(old) => undo.insert(key.clone(), old),
            None => undo.remove(key.clone()),
        }
        match value {
            Some(value) => batch.insert(key, value),
            None => batch.remove(key),
        }
    }
    faults.check(FaultPoint::WriteBatch)?;
    tree.apply_batch(batch)?;
    let flushed = faults
        .check(FaultPoint::Flush)
        .and_then(|()| Ok(tree.flush().map(|_| ())?));
    if let Err(e) = flushed {
        let undone = tree
            .apply_batch(undo)
            .map_err(StoreError::from)
            .and_then(|()| faults.check(FaultPoint::FlushUndo))
            .and_then(|()| Ok(tree.flush().map(|_| ())?));
        if undone.is_err() {
            // The tree in sled's memory may now hold the batch while the
            // writer's state does not: any later batch would extend node
            // tiles that disagree with the frontier, so none is staged
            // until a reopen (see `commit_to_db`).
            faults.poisoned.store(true, Ordering::SeqCst);
            return Err(StoreError::Poisoned);
        }
        return Err(e);
    }
    Ok(())
}

//! [`restore`]: a new data directory from a backup (see the crate docs).

use crate::error::SaveKeyError;
use crate::fsutil::{remove_dir_if_any, rename, sync_dir};
use crate::BackupError;
use feeledger_audit::tiles::{TileReader, TileSource, CHECKPOINT_FILE};
use feeledger_audit::{check_cosignatures, CosignatureLines, Cosigners};
use feeledger_core::entry::Leaf;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::TILE_WIDTH_MAX;
use feeledger_core::note::{open_checkpoint, Checkpoint, Note, NoteSigner};
use feeledger_core::tiles::{TileKind, TilePath};
use feeledger_store::{Store, StoreError, BATCH_ENTRIES_MAX};
use std::path::Path;

/// Where a restore goes, and the key it signs with.
pub struct RestoreTarget<'a> {
    /// The backup: a directory (`TileSource::Dir`), or any other place
    /// holding the same files (an object storage bucket, through
    /// `TileSource::Files`), read through the auditor's `TileReader`.
    pub from: TileSource<'a>,
    /// The new data directory (absent or without a ledger).
    pub data: &'a Path,
    /// Where its store goes, inside `data`.
    pub store_dir: &'a Path,
    /// Where its log key is saved, inside `data`.
    pub key_file: &'a Path,
    /// The key file the log key was read from, for messages.
    pub key_given: &'a Path,
    /// The log key.
    pub signer: &'a NoteSigner,
}

/// What [`restore`] wrote.
#[derive(Debug)]
pub struct Restored {
    /// The backup's checkpoint, kept as it is.
    pub checkpoint: Checkpoint,
    pub root: Hash,
    /// Its cosignature lines, checked as `verify` will check them: the
    /// restored log's role keys at its size and the backup's witnesses.
    pub lines: CosignatureLines,
}

/// Restores the backup at `target.from` into `target.data`: checks the
/// checkpoint against the log key and every entry against the backup's
/// hash tiles, builds the store in `DATA/ledger.restoring`, calls
/// `save_key(target.key_file)` to save the log key, and renames the store
/// into place. On any error, what it created is removed.
///
/// # Errors
/// A directory that is not a backup or does not verify with the log key,
/// a data directory that holds a ledger or a log key already, a damaged
/// backup or a refused entry (named by its seq and bundle), or an I/O
/// error; all but the first checks as [`BackupError::RestoreFailed`].
pub fn restore(
    target: &RestoreTarget<'_>,
    save_key: impl FnOnce(&Path) -> Result<(), SaveKeyError>,
) -> Result<Restored, BackupError> {
    let RestoreTarget {
        from,
        data,
        store_dir,
        key_file,
        key_given,
        signer,
    } = *target;
    let vkey = signer.verifier_key();
    let from_name = source_name(from);
    let note = from
        .read(CHECKPOINT_FILE)
        .map_err(|source| BackupError::NotABackup {
            from: from_name.clone(),
            source,
        })?
        .ok_or_else(|| BackupError::NoCheckpoint {
            from: from_name.clone(),
        })?;
    let (checkpoint, _, _) =
        open_checkpoint(&note, &vkey, &[]).map_err(|error| BackupError::BackupCheckpoint {
            from: from_name.clone(),
            key_file: key_given.to_path_buf(),
            vkey: Box::new(vkey.clone()),
            error,
        })?;
    if checkpoint.size == 0 {
        return Err(BackupError::EmptyBackup);
    }
    if store_dir.exists() {
        return Err(BackupError::AlreadyALedger {
            data: data.to_path_buf(),
        });
    }
    if key_file.exists() {
        return Err(BackupError::KeyFileExists {
            path: key_file.to_path_buf(),
        });
    }
    let created_dir = !data.exists();
    let partial = data.join("ledger.restoring");
    let result = (|| -> Result<(Hash, Vec<u8>, Cosigners), BackupError> {
        std::fs::create_dir_all(data).map_err(|source| BackupError::Create {
            path: data.to_path_buf(),
            source,
        })?;
        remove_dir_if_any(&partial)?;
        let restored = restore_into(from, &partial, &note, &checkpoint, signer)?;
        save_key(key_file).map_err(BackupError::SaveKey)?;
        rename(&partial, store_dir)?;
        sync_dir(data);
        Ok(restored)
    })();
    let (root, stored, cosigners) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            let _ = std::fs::remove_file(key_file);
            if created_dir {
                let _ = std::fs::remove_dir_all(data);
            }
            return Err(BackupError::RestoreFailed {
                from: from_name,
                source: Box::new(e),
            });
        }
    };
    // The backup's checkpoint is kept as it is, every line; each line is
    // checked as `verify` will check it, so a bad one is named now.
    let lines = Note::parse(&stored)
        .map(|note| check_cosignatures(&note, checkpoint.size, &vkey, &cosigners))
        .unwrap_or_default();
    Ok(Restored {
        checkpoint,
        root,
        lines,
    })
}

/// The backup, for messages: a directory's path, or the source's name
/// (a bucket's URL).
fn source_name(from: TileSource<'_>) -> String {
    match from {
        TileSource::Dir(dir) => dir.display().to_string(),
        other => other.name(),
    }
}

/// A refused leaf, with where it came from.
fn leaf_refused(e: StoreError, origin: impl Fn(u64) -> String) -> BackupError {
    match e {
        StoreError::LeafRefused { seq, reason } => BackupError::BackupLeafRefused {
            seq,
            origin: origin(seq),
            reason,
        },
        // Only the genesis reaches the store undecoded-by-us: every other
        // leaf was decoded (and named) before its batch.
        StoreError::Rejected(reason) => BackupError::BackupLeafRefused {
            seq: 0,
            origin: origin(0),
            reason,
        },
        other => BackupError::Store(other),
    }
}

/// Builds a store in `dir` from the backup's entries, checking each against
/// the hash tiles, and stores the backup's checkpoint with the last batch.
/// Returns its root, its stored checkpoint and the keys its cosignature
/// lines are checked with.
fn restore_into(
    from: TileSource<'_>,
    dir: &Path,
    note: &[u8],
    checkpoint: &Checkpoint,
    signer: &NoteSigner,
) -> Result<(Hash, Vec<u8>, Cosigners), BackupError> {
    let size = checkpoint.size;
    let bundle_of = |seq: u64| {
        let index = seq / TILE_WIDTH_MAX;
        let width = (size - index * TILE_WIDTH_MAX).min(TILE_WIDTH_MAX);
        TilePath::new(TileKind::Entries, index, width)
            .expect("a width from 1 to 256")
            .rel_path()
    };
    let origin = |seq: u64| format!("in {}", bundle_of(seq));
    let mut reader = TileReader::new(from, size);
    let mut store: Option<Store> = None;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    for index in 0..TileReader::bundles(size) {
        let (path, first, leaves) = reader.bundle(index)?;
        for (seq, leaf) in (first..).zip(leaves) {
            // Decoded here, so that a leaf that does not decode is named by
            // its seq (the store's batch reports only that one did not).
            if let Err(error) = Leaf::decode(&leaf) {
                return Err(BackupError::LeafDoesNotDecode {
                    seq,
                    bundle: path,
                    error,
                });
            }
            match &store {
                None => {
                    let created = Store::create(dir, &leaf, signer).map_err(|e| match e {
                        StoreError::WrongLogKey => BackupError::NotTheBackupsLogKey,
                        e => leaf_refused(e, origin),
                    })?;
                    store = Some(created);
                }
                Some(store) => {
                    if batch.len() == BATCH_ENTRIES_MAX {
                        store
                            .append_leaves(std::mem::take(&mut batch), None, signer)
                            .map_err(|e| leaf_refused(e, origin))?;
                    }
                    batch.push(leaf);
                }
            }
        }
    }
    if reader.root() != checkpoint.root {
        return Err(BackupError::BackupRootMismatch {
            root: reader.root(),
            signed: checkpoint.root,
        });
    }
    let store = store.expect("size is at least 1");
    store
        .append_leaves(batch, Some(note), signer)
        .map_err(|e| leaf_refused(e, origin))?;
    let stored = store.latest_checkpoint()?;
    if stored != note {
        return Err(BackupError::CheckpointNotKept);
    }
    if store.root() != checkpoint.root || store.size() != size {
        return Err(BackupError::RestoredRootDiffers);
    }
    let witnesses = from.witnesses()?;
    for witness in &witnesses {
        store.add_witness(witness)?;
    }
    let cosigners = Cosigners {
        roles: store.state().cosigner_keys(),
        witnesses,
    };
    let root = store.root();
    store.close()?;
    Ok((root, stored, cosigners))
}

//! [`export_tiles`]: a backup as C2SP tlog-tiles files (see the crate docs).

use crate::fsutil::{
    absent_or_empty, parent_of, remove_dir_if_any, rename, sync_dir, write_synced,
};
use crate::BackupError;
use feeledger_audit::tiles::{covered, CHECKPOINT_FILE, VKEY_FILE, WITNESSES_FILE};
use feeledger_audit::{check_cosignatures, Cosigners};
use feeledger_core::hash::Hash;
use feeledger_core::merkle::{self, NodeReader, TILE_WIDTH_MAX};
use feeledger_core::note::{open_checkpoint, Note, NoteSignature, VerifierKey};
use feeledger_core::tiles::{NewLeaf, Tile, TileEdge, TileKind};
use feeledger_store::Store;
use std::path::Path;

/// What [`export_tiles`] wrote.
#[derive(Debug)]
pub struct Exported {
    /// Entries in the backup: its checkpoint's size.
    pub size: u64,
    /// Its checkpoint's root.
    pub root: Hash,
    /// Tile files written (hash tiles and entry bundles).
    pub files: u64,
    pub log_key: VerifierKey,
    /// Each cosignature line left out of the backup's checkpoint, named.
    pub dropped: Vec<String>,
    /// The first of the store's own node tiles found to differ from the
    /// hashes of its entries: the backup is good, the store is damaged.
    pub store_damage: Option<String>,
}

/// The tile files being written, from the core's tile writer.
struct Files<'a> {
    store: &'a Store,
    dir: &'a Path,
    edge: TileEdge,
    files: u64,
    store_damage: Option<String>,
}

impl Files<'_> {
    /// Appends `leaves` and writes the tiles they fill; the partial tiles
    /// at the edge wait for [`Files::finish`].
    fn append(&mut self, leaves: &[Vec<u8>]) -> Result<(), BackupError> {
        let leaves: Vec<NewLeaf<'_>> = leaves.iter().map(|b| NewLeaf::new(b)).collect();
        for tile in self.edge.append(&leaves)? {
            if tile.path.partial_width.is_none() {
                self.write(&tile)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), BackupError> {
        for tile in self.edge.partial_tiles() {
            self.write(&tile)?;
        }
        Ok(())
    }

    fn write(&mut self, tile: &Tile) -> Result<(), BackupError> {
        if let TileKind::Hashes { level } = tile.path.kind {
            self.compare_with_store(level, tile);
        }
        write_synced(&self.dir.join(tile.path.rel_path()), &tile.bytes)?;
        self.files += 1;
        Ok(())
    }

    /// The store's own hashes should be the same; if not, the store is
    /// damaged (the backup holds the hashes of the entries, which give the
    /// signed root). Only the first difference is kept.
    fn compare_with_store(&mut self, level: u8, tile: &Tile) {
        if self.store_damage.is_some() {
            return;
        }
        let ids = merkle::tile_node_ids(level, tile.path.index, tile.path.width());
        match self.store.read_nodes(&ids) {
            Ok(stored) => {
                if let Some((id, _)) = ids
                    .iter()
                    .zip(stored)
                    .zip(tile.bytes.chunks_exact(32))
                    .find(|((_, s), b)| s.0 != **b)
                    .map(|((id, s), _)| (id, s))
                {
                    self.store_damage = Some(format!(
                        "the store's Merkle node level {} index {} differs from the hash of {}",
                        id.level,
                        id.index,
                        covered(*id)
                    ));
                }
            }
            Err(e) => self.store_damage = Some(e.to_string()),
        }
    }
}

/// Writes the backup described in the crate docs into `out`, which must
/// not exist (or be empty). A failed export leaves nothing behind.
///
/// # Errors
/// [`BackupError::OutNotEmpty`], a checkpoint that does not verify, a store
/// that cannot be read or whose entries do not give its signed root, or a
/// file that cannot be written (then as [`BackupError::ExportFailed`]).
pub fn export_tiles(store: &Store, out: &Path) -> Result<Exported, BackupError> {
    if !absent_or_empty(out)? {
        return Err(BackupError::OutNotEmpty {
            out: out.to_path_buf(),
        });
    }
    let state = store.state();
    let note = store
        .latest_checkpoint()
        .map_err(|source| BackupError::StoreRead {
            what: "reading the checkpoint",
            source,
        })?;
    let (checkpoint, parsed, _) = open_checkpoint(&note, state.log_key(), &[])
        .map_err(|error| BackupError::StoreCheckpoint { error })?;
    let witnesses = store.witnesses().map_err(|source| BackupError::StoreRead {
        what: "reading the witnesses",
        source,
    })?;
    let cosigners = Cosigners {
        roles: state.cosigner_keys(),
        witnesses: witnesses.clone(),
    };
    let (note, dropped) =
        without_bad_cosignatures(note, parsed, checkpoint.size, &cosigners, state.log_key());
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    let partial = parent_of(out).join(format!(".{name}.partial-{}", std::process::id()));
    remove_dir_if_any(&partial)?;
    let result = (|| -> Result<Files<'_>, BackupError> {
        std::fs::create_dir_all(&partial).map_err(|source| BackupError::Create {
            path: partial.clone(),
            source,
        })?;
        let mut files = Files {
            store,
            dir: &partial,
            edge: TileEdge::new(),
            files: 0,
            store_damage: None,
        };
        // One tile's worth of leaves at a time: memory stays at one
        // bundle and one tile per level.
        let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(TILE_WIDTH_MAX as usize);
        for item in store.iter_leaves(0) {
            let (seq, bytes) = item.map_err(|source| BackupError::StoreRead {
                what: "reading the store",
                source,
            })?;
            if seq >= checkpoint.size {
                break;
            }
            let expected = files.edge.size() + chunk.len() as u64;
            if seq != expected {
                return Err(BackupError::EntryMissing { seq: expected });
            }
            chunk.push(bytes);
            if chunk.len() as u64 == TILE_WIDTH_MAX {
                files.append(&std::mem::take(&mut chunk))?;
            }
        }
        files.append(&chunk)?;
        if files.edge.size() != checkpoint.size {
            return Err(BackupError::StoreShort {
                held: files.edge.size(),
                size: checkpoint.size,
            });
        }
        // The root of the very tiles written, against the signed one.
        if files.edge.root() != checkpoint.root {
            return Err(BackupError::StoreRootMismatch {
                root: files.edge.root(),
                signed: checkpoint.root,
            });
        }
        files.finish()?;
        write_synced(&partial.join(CHECKPOINT_FILE), &note)?;
        write_synced(
            &partial.join(VKEY_FILE),
            format!("{}\n", state.log_key()).as_bytes(),
        )?;
        if !witnesses.is_empty() {
            let text: String = witnesses.iter().map(|w| format!("{w}\n")).collect();
            write_synced(&partial.join(WITNESSES_FILE), text.as_bytes())?;
        }
        sync_dir(&partial);
        if out.exists() {
            std::fs::remove_dir(out).map_err(|source| BackupError::Replace {
                path: out.to_path_buf(),
                source,
            })?;
        }
        rename(&partial, out)?;
        sync_dir(&parent_of(out));
        Ok(files)
    })();
    let files = match result {
        Ok(files) => files,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(BackupError::ExportFailed {
                out: out.to_path_buf(),
                source: Box::new(e),
            });
        }
    };
    Ok(Exported {
        size: checkpoint.size,
        root: checkpoint.root,
        files: files.files,
        log_key: state.log_key().clone(),
        dropped,
        store_damage: files.store_damage,
    })
}

/// The checkpoint note without its bad cosignature lines (by a key the
/// ledger knows, not verifying, or a second line by one key), so that a
/// backup never carries a line `verify` would refuse; and each dropped
/// line, named. Lines by unknown keys are kept, as verifiers ignore them.
fn without_bad_cosignatures(
    bytes: Vec<u8>,
    note: Note,
    size: u64,
    cosigners: &Cosigners,
    log_key: &VerifierKey,
) -> (Vec<u8>, Vec<String>) {
    let all = check_cosignatures(&note, size, log_key, cosigners);
    if all.bad.is_empty() {
        // The stored bytes, exactly.
        return (bytes, Vec::new());
    }
    let mut kept: Vec<NoteSignature> = Vec::new();
    let mut dropped = Vec::new();
    for line in note.signatures {
        let alone = Note {
            text: note.text.clone(),
            signatures: vec![line.clone()],
        };
        let checked = check_cosignatures(&alone, size, log_key, cosigners);
        let twice = kept
            .iter()
            .any(|k| k.name == line.name && k.key_id == line.key_id);
        match checked.bad.first() {
            Some(bad) => dropped.push(bad.clone()),
            None if twice => dropped.push(format!(
                "a second cosignature line by {} (key id {})",
                line.name,
                hex::encode(line.key_id)
            )),
            None => kept.push(line),
        }
    }
    let note = Note {
        text: note.text,
        signatures: kept,
    };
    (note.to_bytes(), dropped)
}

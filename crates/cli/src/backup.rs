//! Backups (`feeledger export --format tiles`), restores (`feeledger
//! restore`) and rebuilds (`feeledger rebuild`).
//!
//! # Backup
//!
//! A backup is the log as plain C2SP tlog-tiles files, consistent with one
//! signed checkpoint:
//!
//! | file | what |
//! |---|---|
//! | `checkpoint` | the latest signed checkpoint note, with its cosignatures |
//! | `tile/<L>/<N>[.p/<W>]` | hash tiles: tree level 8·L, node hashes 256·N .. 256·N+W−1 |
//! | `tile/entries/<N>[.p/<W>]` | entry bundles: each leaf as a big-endian u16 length and its bytes |
//! | `log.vkey` | the log's verifier key, one line `<origin>+<hex8>+<base64(0x01 ‖ key)>\n`, for convenience; trust the one on the notice board |
//! | `witnesses` | registered witnesses' cosigner keys, one a line `<name>+<hex8>+<base64(0x04 ‖ key)>\n` (only if there are any); not in the log: the operator's list |
//!
//! Any C2SP tlog-tiles client can read it; it can be served by a static
//! file server as it is. `feeledger verify --tiles DIR|URL --log-key VKEY`
//! audits it (or a static mirror of it) with only the public log key,
//! reading the tiles through the same [`TileReader`] as `restore`. The export streams the leaves once, computes every
//! hash from them (checking the store's own node tiles as it goes), checks
//! the root against the signed checkpoint, writes into a temporary
//! directory beside the target and renames it, so a failed export leaves
//! nothing. A backup holds no private key: keep `DIR/log.key` safe
//! elsewhere, a restore needs it. Pending proposals and earlier
//! checkpoints are not part of the log and are not in a backup.
//!
//! # Recovery
//!
//! `feeledger verify --data DIR` checks everything the store holds: every
//! leaf, the hash chain, every signature and rule, and every key derived
//! from the leaves (each Merkle node tile, each index bucket, each body id
//! and reversal link, the monthly totals, the state snapshot, the signed
//! checkpoint), and names the first damaged one. `feeledger serve` and
//! every other command refuse a store whose head does not check out (last
//! leaf, chain link, Merkle leaf node, peaks and root against the signed
//! checkpoint), so a damaged store is never served.
//!
//! * **Derived data damaged** (a node tile, an index, the totals, the state
//!   snapshot, a body id or reversal link; or the head checks at open):
//!   stop the server and run `feeledger rebuild --data DIR`. (On a store
//!   that passes the full audit it says so and changes nothing.) It reads every
//!   leaf (even from a store `open` refuses), checks each again (its hash
//!   against the tree's record and the next entry's link, signatures,
//!   rules, balances), writes a fresh store in `DIR/ledger.rebuild`, keeps
//!   the latest signed checkpoint and every cosigned one if the leaves
//!   still give their roots (else signs a new latest one), with the
//!   cosignature lines that verify (a line by a role key in force at the
//!   checkpoint's size or now, or by a registered witness, that does not
//!   verify is dropped; a line by any other key is kept unchecked, as
//!   verifiers ignore it), keeps the registered witnesses and pending
//!   proposals, audits the fresh store as `verify` would (changing nothing
//!   if that fails), then swaps the directories and keeps the old store as
//!   `DIR/ledger.damaged-<time>`. It refuses to
//!   sign anything that contradicts a checkpoint the log key signed before.
//! * **A leaf damaged or missing**: a leaf cannot be rebuilt from itself.
//!   `rebuild` stops, names the entry and changes nothing. Restore from a
//!   backup: `feeledger restore --from BACKUP --data NEWDIR --log-key
//!   DIR/log.key`, check it with `feeledger verify --data NEWDIR --log-key
//!   VKEY`, and serve NEWDIR. A restore checks every entry against the
//!   backup's hash tiles and the checkpoint against the log key, rebuilds
//!   every derived key, and serves the backup's own checkpoint with its
//!   cosignatures. Entries appended after the backup are lost unless they
//!   can be proposed again.
//!
//! Make backups often (`feeledger export --data DIR --format tiles --out
//! BACKUP-DATE`; it opens the data directory, so the server must be
//! stopped while it runs) and keep them on another disk.

use crate::datadir::DataDir;
use crate::keyfile::KeyFile;
use anyhow::{anyhow, bail, Context, Result};
use feeledger_audit::tiles::{
    covered, tile_path, TileReader, TileSource, CHECKPOINT_FILE, TILE_LEVELS, VKEY_FILE,
    WITNESSES_FILE,
};
use feeledger_audit::{check_cosignatures, Audit, Cosigners};
use feeledger_core::entry::Leaf;
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::{self, Frontier, NodeId, NodeReader, TILE_HEIGHT, TILE_WIDTH_MAX};
use feeledger_core::note::{open_checkpoint, Checkpoint, Note, VerifierKey};
use feeledger_core::state::StateSnapshot;
use feeledger_core::tiles::TileKind;
use feeledger_store::{RecordedLeafHashes, Store, StoreError, BATCH_ENTRIES_MAX};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes a file and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Syncs a directory, so that the names in it (a rename) are durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` is absent or an empty directory.
fn absent_or_empty(path: &Path) -> Result<bool> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

// ------------------------------------------------------------------ export

/// Tiles being written as the leaves stream by: one buffer of hashes per
/// tile level and the current entry bundle. Bounded memory: at most six
/// tiles of 8 KB and one bundle.
struct TileWriter<'a> {
    store: &'a Store,
    dir: &'a Path,
    size: u64,
    hashes: [Vec<u8>; TILE_LEVELS],
    next_tile: [u64; TILE_LEVELS],
    bundle: Vec<u8>,
    bundle_entries: u64,
    next_bundle: u64,
    files: u64,
    /// The first stored node tile found to differ from the leaves.
    store_damage: Option<String>,
}

impl TileWriter<'_> {
    fn add_node(&mut self, id: NodeId, hash: Hash) -> Result<()> {
        if id.level % TILE_HEIGHT != 0 {
            return Ok(());
        }
        let level = usize::from(id.level / TILE_HEIGHT);
        if level >= TILE_LEVELS {
            bail!("the tree is too large for tile level {level}");
        }
        self.hashes[level].extend_from_slice(&hash.0);
        if self.hashes[level].len() as u64 == 32 * TILE_WIDTH_MAX {
            self.flush_hashes(level)?;
        }
        Ok(())
    }

    fn flush_hashes(&mut self, level: usize) -> Result<()> {
        let bytes = std::mem::take(&mut self.hashes[level]);
        let width = bytes.len() as u64 / 32;
        let index = self.next_tile[level];
        let tile_level = level as u8;
        debug_assert_eq!(
            merkle::tile_width(tile_level, index, self.size),
            Some(width)
        );
        // The store's own hashes should be the same; if not, the store is
        // damaged (the backup holds the hashes of the entries, which give
        // the signed root).
        if self.store_damage.is_none() {
            let ids = merkle::tile_node_ids(tile_level, index, width);
            match self.store.read_nodes(&ids) {
                Ok(stored) => {
                    if let Some((id, _)) = ids
                        .iter()
                        .zip(stored)
                        .zip(bytes.chunks_exact(32))
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
        let path = tile_path(TileKind::Hashes { level: tile_level }, index, width);
        write_synced(&self.dir.join(path), &bytes)?;
        self.next_tile[level] += 1;
        self.files += 1;
        Ok(())
    }

    fn add_leaf(&mut self, bytes: &[u8]) -> Result<()> {
        let len = u16::try_from(bytes.len()).map_err(|_| {
            anyhow!(
                "entry {} is {} bytes, more than a bundle can hold",
                self.next_bundle * TILE_WIDTH_MAX + self.bundle_entries,
                bytes.len()
            )
        })?;
        self.bundle.extend_from_slice(&len.to_be_bytes());
        self.bundle.extend_from_slice(bytes);
        self.bundle_entries += 1;
        if self.bundle_entries == TILE_WIDTH_MAX {
            self.flush_bundle()?;
        }
        Ok(())
    }

    fn flush_bundle(&mut self) -> Result<()> {
        let path = tile_path(TileKind::Entries, self.next_bundle, self.bundle_entries);
        write_synced(&self.dir.join(path), &self.bundle)?;
        self.bundle.clear();
        self.bundle_entries = 0;
        self.next_bundle += 1;
        self.files += 1;
        Ok(())
    }

    /// Writes the partial tiles at the right edge.
    fn finish(&mut self) -> Result<()> {
        for level in 0..TILE_LEVELS {
            if !self.hashes[level].is_empty() {
                self.flush_hashes(level)?;
            }
        }
        if self.bundle_entries > 0 {
            self.flush_bundle()?;
        }
        Ok(())
    }
}

/// `feeledger export --format tiles --out DIR`: writes the backup described
/// in the module docs into `out`, which must not exist (or be empty).
pub fn export_tiles(store: &Store, out: &Path) -> Result<()> {
    if !absent_or_empty(out)? {
        bail!(
            "{} exists and is not empty; a backup goes into a new directory",
            out.display()
        );
    }
    let state = store.state();
    let note = store
        .latest_checkpoint()
        .context("reading the checkpoint")?;
    let (checkpoint, parsed, _) = open_checkpoint(&note, state.log_key(), &[]).map_err(|e| {
        anyhow!("the store's latest checkpoint does not verify with its log key: {e}")
    })?;
    let cosigners = Cosigners {
        roles: state.cosigner_keys(),
        witnesses: store.witnesses().context("reading the witnesses")?,
    };
    let (note, dropped) =
        without_bad_cosignatures(note, parsed, checkpoint.size, &cosigners, state.log_key());
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "backup".into());
    let partial = parent_of(out).join(format!(".{name}.partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let result = (|| -> Result<TileWriter<'_>> {
        std::fs::create_dir_all(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut writer = TileWriter {
            store,
            dir: &partial,
            size: checkpoint.size,
            hashes: Default::default(),
            next_tile: [0; TILE_LEVELS],
            bundle: Vec::new(),
            bundle_entries: 0,
            next_bundle: 0,
            files: 0,
            store_damage: None,
        };
        let mut frontier = Frontier::new();
        for item in store.iter_leaves(0) {
            let (seq, bytes) = item.context("reading the store")?;
            if seq >= checkpoint.size {
                break;
            }
            if seq != frontier.size() {
                bail!("entry {} is missing from the store", frontier.size());
            }
            writer.add_leaf(&bytes)?;
            for (id, hash) in frontier.append(leaf_hash(&bytes)) {
                writer.add_node(id, hash)?;
            }
        }
        if frontier.size() != checkpoint.size {
            bail!(
                "the store holds {} entries; its checkpoint says {}",
                frontier.size(),
                checkpoint.size
            );
        }
        if frontier.root() != checkpoint.root {
            bail!(
                "the store's entries give root {}, its signed checkpoint says {}: the entries are damaged; run `feeledger verify`",
                frontier.root(),
                checkpoint.root
            );
        }
        writer.finish()?;
        write_synced(&partial.join(CHECKPOINT_FILE), &note)?;
        write_synced(
            &partial.join(VKEY_FILE),
            format!("{}\n", state.log_key()).as_bytes(),
        )?;
        let witnesses = store.witnesses().context("reading the witnesses")?;
        if !witnesses.is_empty() {
            let text: String = witnesses.iter().map(|w| format!("{w}\n")).collect();
            write_synced(&partial.join(WITNESSES_FILE), text.as_bytes())?;
        }
        sync_dir(&partial);
        if out.exists() {
            std::fs::remove_dir(out)
                .with_context(|| format!("cannot replace {}", out.display()))?;
        }
        std::fs::rename(&partial, out)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))?;
        sync_dir(&parent_of(out));
        Ok(writer)
    })();
    let writer = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e.context(format!("export to {} failed", out.display())));
        }
    };
    println!(
        "wrote a backup of {} entries to {}: {} tile files",
        checkpoint.size,
        out.display(),
        writer.files
    );
    println!(
        "checkpoint: size {} root {}",
        checkpoint.size, checkpoint.root
    );
    println!("log key:    {}", state.log_key());
    for bad in &dropped {
        println!(
            "dropped:    {bad}; not copied into the backup (`feeledger verify` names it in the store; `feeledger rebuild` drops it there)"
        );
    }
    if let Some(damage) = writer.store_damage {
        eprintln!(
            "warning: {damage}; the backup holds the hashes of the entries (which give the signed root), but the store is damaged: run `feeledger verify --data DIR` and `feeledger rebuild --data DIR`"
        );
    }
    Ok(())
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
    let mut kept: Vec<feeledger_core::note::NoteSignature> = Vec::new();
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

// ----------------------------------------------------------------- restore

/// What a restore or rebuild wrote.
struct Restored {
    root: Hash,
    checkpoint: Vec<u8>,
    /// The keys its checkpoint's cosignature lines are checked with.
    cosigners: Cosigners,
}

/// A refused leaf, with where it came from.
fn leaf_refused(e: StoreError, origin: impl Fn(u64) -> String) -> anyhow::Error {
    match e {
        StoreError::LeafRefused { seq, reason } => {
            anyhow!("entry {seq} ({}) is refused: {reason}", origin(seq))
        }
        // Only the genesis reaches the store undecoded-by-us: every other
        // leaf was decoded (and named) before its batch.
        StoreError::Rejected(e) => anyhow!("entry 0 ({}) is refused: {e}", origin(0)),
        other => anyhow::Error::new(other),
    }
}

/// `feeledger restore --from BACKUP --data NEWDIR --log-key KEYFILE`.
pub fn restore(from: &Path, data: &Path, key_path: &Path) -> Result<()> {
    let key = KeyFile::read(key_path)?;
    let vkey = key.verifier_key();
    let note = std::fs::read(from.join(CHECKPOINT_FILE)).with_context(|| {
        format!(
            "{} is not a feeledger backup: cannot read its {CHECKPOINT_FILE}",
            from.display()
        )
    })?;
    let (checkpoint, _, _) = open_checkpoint(&note, &vkey, &[]).map_err(|e| {
        anyhow!(
            "{}/{CHECKPOINT_FILE} does not verify with the log key {} ({vkey}): {e}",
            from.display(),
            key_path.display()
        )
    })?;
    if checkpoint.size == 0 {
        bail!("the backup's checkpoint is of an empty log");
    }
    let dd = DataDir::new(data);
    if dd.store_path().exists() {
        bail!(
            "{} already holds a ledger; restore into a new directory",
            data.display()
        );
    }
    if dd.log_key_path().exists() {
        bail!(
            "{} already exists; restore into a new directory",
            dd.log_key_path().display()
        );
    }
    let created_dir = !data.exists();
    let partial = data.join("ledger.restoring");
    let result = (|| -> Result<Restored> {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        if partial.exists() {
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("cannot remove {}", partial.display()))?;
        }
        let restored = restore_into(from, &partial, &note, &checkpoint, &key)?;
        key.write_new(&dd.log_key_path())?;
        std::fs::rename(&partial, dd.store_path()).with_context(|| {
            format!(
                "cannot rename {} to {}",
                partial.display(),
                dd.store_path().display()
            )
        })?;
        sync_dir(data);
        Ok(restored)
    })();
    let restored = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            let _ = std::fs::remove_file(dd.log_key_path());
            if created_dir {
                let _ = std::fs::remove_dir_all(data);
            }
            return Err(e.context(format!("restore from {} failed", from.display())));
        }
    };
    // The backup's checkpoint is kept as it is, every line; each line is
    // checked as `verify` will check it, and a bad one is named now.
    let lines = Note::parse(&restored.checkpoint)
        .map(|note| check_cosignatures(&note, checkpoint.size, &vkey, &restored.cosigners))
        .unwrap_or_default();
    println!(
        "restored {} entries from {} into {}",
        checkpoint.size,
        from.display(),
        data.display()
    );
    println!("root:       {}", restored.root);
    println!(
        "checkpoint: size {}, the backup's own; cosigned by: {}",
        checkpoint.size,
        if lines.verified.is_empty() {
            "nobody yet".to_string()
        } else {
            lines.verified.join(", ")
        }
    );
    for u in &lines.unverified {
        println!(
            "unverified: a cosignature line by {} (key id {}), neither a role key at size {} nor a witness in {WITNESSES_FILE}; kept, not counted",
            u.name, u.key_id, checkpoint.size
        );
    }
    if let Some(bad) = lines.failure(checkpoint.size) {
        println!(
            "WARNING:    {bad}. The backup's checkpoint is kept as it is, so `feeledger verify` fails on it; `feeledger rebuild --data {}` drops the bad line(s)",
            data.display()
        );
    }
    println!(
        "log key:    copied to {} (mode 0600)",
        dd.log_key_path().display()
    );
    println!(
        "check it:   feeledger verify --data {} --log-key '{vkey}'",
        data.display()
    );
    Ok(())
}

/// Builds a store in `dir` from the backup's entries, checking each against
/// the hash tiles, and stores the backup's checkpoint with the last batch.
fn restore_into(
    from: &Path,
    dir: &Path,
    note: &[u8],
    checkpoint: &Checkpoint,
    key: &KeyFile,
) -> Result<Restored> {
    let size = checkpoint.size;
    let bundle_of = |seq: u64| {
        let index = seq / TILE_WIDTH_MAX;
        let width = (size - index * TILE_WIDTH_MAX).min(TILE_WIDTH_MAX);
        tile_path(TileKind::Entries, index, width)
    };
    let origin = |seq: u64| format!("in {}", bundle_of(seq));
    let mut reader = TileReader::new(TileSource::Dir(from), size);
    let mut store: Option<Store> = None;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    for index in 0..TileReader::bundles(size) {
        let (path, first, leaves) = reader.bundle(index)?;
        for (seq, leaf) in (first..).zip(leaves) {
            // Decoded here, so that a leaf that does not decode is named by
            // its seq (the store's batch reports only that one did not).
            if let Err(e) = Leaf::decode(&leaf) {
                bail!("entry {seq} (in {path}) is refused: it does not decode: {e}");
            }
            match &store {
                None => {
                    let created = Store::create(dir, &leaf, &key.signer).map_err(|e| match e {
                        StoreError::WrongLogKey => {
                            anyhow!("the log key given is not the one the backup's genesis names")
                        }
                        e => leaf_refused(e, origin),
                    })?;
                    store = Some(created);
                }
                Some(store) => {
                    if batch.len() == BATCH_ENTRIES_MAX {
                        store
                            .append_leaves(std::mem::take(&mut batch), None, &key.signer)
                            .map_err(|e| leaf_refused(e, origin))?;
                    }
                    batch.push(leaf);
                }
            }
        }
    }
    if reader.root() != checkpoint.root {
        bail!(
            "the backup's entries give root {}, its signed checkpoint says {}: the backup is damaged",
            reader.root(),
            checkpoint.root
        );
    }
    let store = store.expect("size is at least 1");
    store
        .append_leaves(batch, Some(note), &key.signer)
        .map_err(|e| leaf_refused(e, origin))?;
    let stored = store.latest_checkpoint()?;
    if stored != note {
        bail!("the restored ledger did not keep the backup's checkpoint");
    }
    if store.root() != checkpoint.root || store.size() != size {
        bail!("the restored ledger's root differs from the backup's checkpoint");
    }
    let witnesses = TileSource::Dir(from).witnesses()?;
    for witness in &witnesses {
        store.add_witness(witness)?;
    }
    let cosigners = Cosigners {
        roles: store.state().cosigner_keys(),
        witnesses,
    };
    let root = store.root();
    store.close()?;
    Ok(Restored {
        root,
        cosigners,
        checkpoint: stored,
    })
}

// ----------------------------------------------------------------- rebuild

/// A checkpoint worth keeping across a rebuild: it carries cosignatures
/// (which cannot be made again), or it is the latest.
struct Kept {
    size: u64,
    /// The note with the log's signature only. Its cosignatures are added
    /// back once the rebuilt ledger's keys can check them.
    note: Vec<u8>,
    cosignatures: Vec<feeledger_core::note::NoteSignature>,
    /// The role keys (as cosigner keys) in force at this size, filled in
    /// when the rebuild reaches it.
    keys_at_size: Vec<VerifierKey>,
    /// Who, among the keys the ledger knows, cosigned it (filled in when
    /// its cosignatures are checked).
    verified_by: Vec<String>,
}

/// `feeledger rebuild --data DIR`: the recovery path of the module docs.
pub fn rebuild(data: &Path) -> Result<()> {
    let dd = DataDir::new(data);
    let store_path = dd.store_path();
    let key = dd.log_key()?;
    let vkey = key.verifier_key();

    // 1. What is damaged.
    let found = match Store::open(&store_path) {
        Ok(store) => {
            let mut audit = Audit::new(None, Vec::new());
            let mut bar = crate::audit::Bar::styled();
            let result =
                feeledger_audit::audit_store(&store, &mut audit, None, &mut |p| bar.update(p));
            bar.finish();
            let found = match result {
                Ok(_) => None,
                Err(f) => Some(match f.seq {
                    Some(seq) => format!("at entry {seq}: {}", f.cause),
                    None => f.cause.to_string(),
                }),
            };
            drop(store);
            found
        }
        Err(e @ (StoreError::Damaged { .. } | StoreError::IncompatibleFormat { .. })) => {
            Some(e.to_string())
        }
        Err(e) => return Err(anyhow::Error::new(e).context(data.display().to_string())),
    };
    let Some(damage) = &found else {
        // The full audit passed: there is nothing a rebuild would repair,
        // and no copy of a healthy store to keep.
        println!("the store is healthy; nothing to rebuild (it passes the full audit `feeledger verify --data` runs)");
        return Ok(());
    };
    println!("damage found: {damage} (the first found; a rebuild replaces all derived data)");

    // 2. A fresh store from the leaves, beside the old one.
    let fresh = data.join("ledger.rebuild");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).with_context(|| {
            format!(
                "cannot remove {} (left by an earlier rebuild)",
                fresh.display()
            )
        })?;
    }
    let raw = Store::open_unchecked(&store_path)
        .map_err(anyhow::Error::new)
        .with_context(|| data.display().to_string())?;
    let mut notes = Vec::new();
    let latest = raw.latest_checkpoint_size().unwrap_or(None);
    let outcome = (|| -> Result<Rebuilt> {
        let kept = checkpoints_to_keep(Box::new(raw.checkpoints()), latest, &vkey, &mut notes)?;
        let head = raw
            .state_snapshot()?
            .and_then(|s| serde_json::from_slice::<StateSnapshot>(&s).ok())
            .map(|s| s.head);
        let source = Source {
            leaves: Box::new(raw.leaves()),
            checkpoints: Box::new(raw.checkpoints()),
            recorded_leaf_hashes: raw.recorded_leaf_hashes(),
            head,
            kept,
            latest,
            witnesses: raw.witnesses()?,
            proposals: raw.proposals()?,
        };
        rebuild_into(source, &fresh, &key, &vkey)
    })();
    drop(raw);
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e.context(format!(
                "rebuild of {} failed; nothing was changed",
                data.display()
            )));
        }
    };
    notes.append(&mut outcome.notes);
    outcome.notes = notes;

    // 3. Check the new store as `verify` would, before it replaces anything.
    {
        let rebuilt = Store::open(&fresh)
            .with_context(|| format!("opening the rebuilt store {}", fresh.display()))?;
        let mut audit = Audit::new(Some(vkey), Vec::new());
        let mut bar = crate::audit::Bar::styled();
        let result =
            feeledger_audit::audit_store(&rebuilt, &mut audit, None, &mut |p| bar.update(p));
        bar.finish();
        if let Err(f) = result {
            bail!(
                "the rebuilt store does not pass the audit{}: {}; nothing was changed (the rebuilt copy is in {})",
                f.seq.map(|seq| format!(" at entry {seq}")).unwrap_or_default(),
                f.cause,
                fresh.display()
            );
        }
        rebuilt.close()?;
    }

    // 4. Swap: the damaged store is kept beside the new one.
    let stamp = crate::inspect::format_time_ms(crate::datadir::now_ms()).replace(':', "");
    let mut damaged = data.join(format!("ledger.damaged-{stamp}"));
    let mut n = 2;
    while damaged.exists() {
        damaged = data.join(format!("ledger.damaged-{stamp}-{n}"));
        n += 1;
    }
    std::fs::rename(&store_path, &damaged).with_context(|| {
        format!(
            "cannot rename {} to {}",
            store_path.display(),
            damaged.display()
        )
    })?;
    std::fs::rename(&fresh, &store_path).with_context(|| {
        format!(
            "cannot rename {} to {} (the old store is in {})",
            fresh.display(),
            store_path.display(),
            damaged.display()
        )
    })?;
    sync_dir(data);
    let store = dd.open()?;
    println!(
        "rebuilt from {} entries: Merkle node tiles, indexes, totals, body ids, reversal links and the state snapshot",
        store.size()
    );
    println!("root:       {}", store.root());
    println!("checkpoint: {}", outcome.checkpoint);
    if outcome.cosigned > 0 {
        println!(
            "kept:       {} cosigned checkpoint(s) with their cosignatures",
            outcome.cosigned
        );
    }
    for note in &outcome.notes {
        println!("note:       {note}");
    }
    println!("verified:   the rebuilt store passes the audit");
    println!(
        "the old store is kept in {}; remove it when you are satisfied",
        damaged.display()
    );
    Ok(())
}

/// What [`rebuild_into`] did.
struct Rebuilt {
    /// What happened to the latest checkpoint.
    checkpoint: String,
    cosigned: usize,
    notes: Vec<String>,
}

type RawItems<'a> = Box<dyn Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + 'a>;

/// What a rebuild reads from the old store, as it is on disk.
struct Source<'a> {
    leaves: RawItems<'a>,
    /// Every stored checkpoint, ascending by size: each must agree with
    /// the rebuilt tree.
    checkpoints: RawItems<'a>,
    /// The tree's record of each leaf's hash (its level-0 nodes).
    recorded_leaf_hashes: RecordedLeafHashes<'a>,
    /// The head the state snapshot records, if it parses.
    head: Option<Hash>,
    /// The checkpoints to store again, ascending by size.
    kept: Vec<Kept>,
    latest: Option<u64>,
    witnesses: Vec<String>,
    proposals: Vec<Vec<u8>>,
}

/// The checkpoints to keep: every cosigned one that verifies, and the
/// latest, if it verifies. (Damaged ones are reported by [`check_signed`].)
fn checkpoints_to_keep(
    checkpoints: RawItems<'_>,
    latest: Option<u64>,
    vkey: &VerifierKey,
    notes: &mut Vec<String>,
) -> Result<Vec<Kept>> {
    let mut kept = Vec::new();
    let mut plain = 0u64;
    for item in checkpoints {
        let (size, bytes) = item?;
        let Ok(note) = Note::parse(&bytes) else {
            continue;
        };
        if note.signatures.len() < 2 && latest != Some(size) {
            plain += 1;
            continue;
        }
        if let Ok((cp, note, _)) = open_checkpoint(&bytes, vkey, &[]) {
            if cp.size == size {
                let (logs, cosignatures) = note
                    .signatures
                    .into_iter()
                    .partition(|s| s.name == vkey.name() && s.key_id == vkey.key_id());
                kept.push(Kept {
                    size,
                    cosignatures,
                    note: Note {
                        text: note.text,
                        signatures: logs,
                    }
                    .to_bytes(),
                    keys_at_size: Vec::new(),
                    verified_by: Vec::new(),
                });
            }
        }
    }
    if plain > 0 {
        notes.push(format!(
            "{plain} earlier checkpoint(s) without cosignatures were not stored again (the log key signs the same text to the same bytes, should one be needed)"
        ));
    }
    Ok(kept)
}

/// Drops from `kept` each cosignature line by a key in `known` that does
/// not verify, keeps the others (a line by a key not in `known` unchecked),
/// records who verified in `kept.verified_by`, and returns how many lines
/// it dropped. (`known` may repeat a key: `Note::verify` allows that.)
fn keep_cosignatures_that_verify(
    kept: &mut Kept,
    vkey: &VerifierKey,
    known: &[VerifierKey],
) -> Result<u64> {
    let note = Note::parse(&kept.note).context("a kept checkpoint")?;
    let mut refused = 0;
    let mut lines = Vec::new();
    for line in std::mem::take(&mut kept.cosignatures) {
        let alone = Note {
            text: note.text.clone(),
            signatures: note.signatures.iter().chain([&line]).cloned().collect(),
        };
        match feeledger_core::note::verify_checkpoint_note(&alone, vkey, known) {
            Ok((_, verified)) => {
                kept.verified_by
                    .extend(verified.into_iter().map(|v| v.name));
                lines.push(line);
            }
            Err(feeledger_core::note::NoteError::InvalidSignature { .. }) => refused += 1,
            Err(e) => bail!("checkpoint {}: {e}", kept.size),
        }
    }
    kept.cosignatures = lines;
    Ok(refused)
}

const NEEDS_BACKUP: &str = "a damaged entry cannot be rebuilt from itself: restore the ledger from a backup (`feeledger restore --from BACKUP --data NEWDIR --log-key KEYFILE`)";

/// A stored checkpoint of `size` must agree with the rebuilt tree, unless
/// it is itself damaged (then it is dropped).
fn check_signed(
    size: u64,
    bytes: &[u8],
    root: Hash,
    vkey: &VerifierKey,
    notes: &mut Vec<String>,
) -> Result<()> {
    let parsed = Note::parse(bytes)
        .ok()
        .and_then(|n| Checkpoint::parse(&n.text).ok());
    if parsed.is_some_and(|cp| cp.size == size && cp.root == root) {
        return Ok(());
    }
    match open_checkpoint(bytes, vkey, &[]) {
        Ok((cp, _, _)) if cp.size == size => bail!(
            "the log key signed checkpoint {size} with root {}, but the stored entries give {root}: an entry before {size} is not the one that was signed; {NEEDS_BACKUP}",
            cp.root
        ),
        _ => {
            notes.push(format!(
                "checkpoint {size} is damaged (it does not verify); dropped"
            ));
            Ok(())
        }
    }
}

/// Reads every leaf of the old store and writes a fresh store in `dir`,
/// checking each leaf against the tree's record of its hash and the next
/// entry's link, and every stored checkpoint against the rebuilt tree.
fn rebuild_into(src: Source<'_>, dir: &Path, key: &KeyFile, vkey: &VerifierKey) -> Result<Rebuilt> {
    let Source {
        mut leaves,
        checkpoints,
        mut recorded_leaf_hashes,
        head,
        kept,
        latest,
        witnesses,
        proposals,
    } = src;
    let mut notes = Vec::new();
    let mut kept = kept.into_iter().peekable();
    let mut checkpoints = checkpoints.peekable();
    let mut written: Vec<Kept> = Vec::new();
    let mut frontier = Frontier::new();
    let mut store: Option<Store> = None;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut repaired_leaf_nodes = 0u64;
    let refused = |e: StoreError| match e {
        StoreError::LeafRefused { seq, reason } => {
            anyhow!("entry {seq} is refused ({reason}); {NEEDS_BACKUP}")
        }
        StoreError::Rejected(e) => anyhow!("entry 0 (genesis) is refused ({e}); {NEEDS_BACKUP}"),
        StoreError::WrongLogKey => anyhow!("its log.key is not this ledger's log key"),
        other => anyhow::Error::new(other),
    };
    let mut pending: Option<(u64, Vec<u8>, Hash)> = None;
    loop {
        let next = leaves.next().transpose()?;
        if let Some((seq, _)) = &next {
            let expected = frontier.size() + u64::from(pending.is_some());
            if *seq != expected {
                bail!("entry {expected} is missing from the store; {NEEDS_BACKUP}");
            }
        }
        if let Some((seq, bytes, hash)) = pending.take() {
            // Three records of this leaf's hash: its bytes, the tree's
            // level-0 node and the next entry's link (for the head, the
            // state's head). Damage in one place leaves two agreeing.
            let recorded = recorded_leaf_hashes.get(seq)?;
            let (linked, by) = match &next {
                Some((_, next)) => (
                    Leaf::decode(next).ok().map(|l| l.prev),
                    format!("entry {} links to", seq + 1),
                ),
                None => (head, "the recorded head is".to_string()),
            };
            if recorded != Some(hash) {
                if linked == Some(hash) {
                    repaired_leaf_nodes += 1;
                } else if let (Some(recorded), Some(linked)) = (recorded, linked) {
                    bail!(
                        "entry {seq} is damaged or was altered: its bytes hash to {hash}, but the Merkle tree records {recorded} and {by} {linked}; {NEEDS_BACKUP}"
                    );
                }
            }
            frontier.append(hash);
            match &store {
                None => store = Some(Store::create(dir, &bytes, &key.signer).map_err(refused)?),
                Some(_) => batch.push(bytes),
            }
            let size = frontier.size();
            while let Some(item) =
                checkpoints.next_if(|c| c.as_ref().map_or(true, |(s, _)| *s <= size))
            {
                let (s, bytes) = item?;
                if s == size {
                    check_signed(s, &bytes, frontier.root(), vkey, &mut notes)?;
                }
            }
            let boundary = kept.next_if(|k| k.size == size);
            if boundary.is_some() || batch.len() == BATCH_ENTRIES_MAX {
                let store = store.as_ref().expect("created with the genesis");
                store
                    .append_leaves(
                        std::mem::take(&mut batch),
                        boundary.as_ref().map(|k| k.note.as_slice()),
                        &key.signer,
                    )
                    .map_err(refused)?;
                if let Some(mut k) = boundary {
                    k.keys_at_size = store.state().cosigner_keys();
                    written.push(k);
                }
            }
        }
        match next {
            Some((seq, bytes)) => {
                let hash = leaf_hash(&bytes);
                pending = Some((seq, bytes, hash));
            }
            None => break,
        }
    }
    let store = store.ok_or_else(|| anyhow!("the store holds no entries; {NEEDS_BACKUP}"))?;
    let size = frontier.size();
    for item in checkpoints {
        let (s, bytes) = item?;
        if open_checkpoint(&bytes, vkey, &[]).is_ok() {
            bail!(
                "the log key signed a checkpoint of size {s}, but the store holds only {size} entries: entries {size}.. are missing; {NEEDS_BACKUP}"
            );
        }
        notes.push(format!(
            "checkpoint {s} is damaged (it does not verify); dropped"
        ));
    }
    if !batch.is_empty() {
        store
            .append_leaves(batch, None, &key.signer)
            .map_err(refused)?;
    }
    if repaired_leaf_nodes > 0 {
        notes.push(format!(
            "{repaired_leaf_nodes} Merkle leaf node(s) were missing or disagreed with intact entries"
        ));
    }
    let mut witness_keys = Vec::new();
    for text in witnesses {
        match VerifierKey::parse(text.trim()) {
            Ok(witness) if witness.alg() == feeledger_core::note::KeyAlg::CosignatureV1 => {
                witness_keys.push(witness)
            }
            Ok(_) => notes.push(format!(
                "witness key {text:?} is not a cosignature/v1 (type 0x04) key; dropped"
            )),
            Err(e) => notes.push(format!("witness key {text:?} is damaged ({e}); dropped")),
        }
    }
    // Cosignatures are added back one by one, as the server adds them,
    // which also records each cosigner's last cosigned size. A line by a
    // key this ledger knows (a role key in force at the checkpoint's size
    // or now, or a registered witness) must verify; a line by a key it
    // does not know is kept without a check, as verifiers ignore it (C2SP
    // signed-note).
    let final_keys = store.state().cosigner_keys();
    let mut cosigned = 0;
    let mut refused_lines = 0;
    for k in &mut written {
        let known: Vec<VerifierKey> = k
            .keys_at_size
            .iter()
            .chain(&final_keys)
            .chain(&witness_keys)
            .cloned()
            .collect();
        refused_lines += keep_cosignatures_that_verify(k, vkey, &known)?;
        if !k.verified_by.is_empty() {
            cosigned += 1;
        }
        for signature in &k.cosignatures {
            store.add_cosignature(k.size, signature.clone())?;
        }
    }
    if refused_lines > 0 {
        notes.push(format!(
            "{refused_lines} cosignature line(s) by a key this ledger knows did not verify; dropped"
        ));
    }
    let checkpoint = match written.last() {
        Some(k) if k.size == size && latest == Some(size) => {
            let names = &k.verified_by;
            format!(
                "kept the latest signed checkpoint (size {size}; cosigned by: {})",
                if names.is_empty() {
                    "nobody yet".to_string()
                } else {
                    names.join(", ")
                }
            )
        }
        _ => format!(
            "signed a new checkpoint of size {size} (the stored latest checkpoint was missing or damaged)"
        ),
    };
    for witness in &witness_keys {
        store.add_witness(witness)?;
    }
    let mut readded = 0;
    for bytes in proposals {
        let Ok(p) = serde_json::from_slice::<feeledger_store::Proposal>(&bytes) else {
            notes.push("a pending proposal is damaged; dropped".into());
            continue;
        };
        let check = p
            .decoded_body()
            .map_err(anyhow::Error::new)
            .and_then(|body| {
                let lookups = store.lookups(&body)?;
                Ok(store
                    .state()
                    .check_proposal(&body, &p.signatures, &lookups)?)
            });
        match check {
            Ok(approval) if approval.is_satisfied() => notes.push(format!(
                "pending proposal {} would commit now; not re-added (propose it again)",
                p.id
            )),
            Ok(_) => {
                store.propose(p.body.as_bytes(), p.signatures, p.created_ms, &key.signer)?;
                readded += 1;
            }
            Err(e) => notes.push(format!(
                "pending proposal {} is no longer valid ({e:#}); dropped",
                p.id
            )),
        }
    }
    if readded > 0 {
        notes.push(format!("{readded} pending proposal(s) kept"));
    }
    store.close()?;
    Ok(Rebuilt {
        checkpoint,
        cosigned,
        notes,
    })
}

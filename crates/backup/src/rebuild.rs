//! [`find_damage`] and [`rebuild`]: the recovery path of the crate docs.

use crate::error::{chain, LeafAltered};
use crate::fsutil::sync_dir;
use crate::BackupError;
use feeledger_audit::{Audit, Progress};
use feeledger_core::entry::Leaf;
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::Frontier;
use feeledger_core::note::{
    open_checkpoint, verify_checkpoint_note, Checkpoint, KeyAlg, Note, NoteError, NoteSignature,
    NoteSigner, VerifierKey,
};
use feeledger_core::state::StateSnapshot;
use feeledger_store::{RecordedLeafHashes, Store, StoreError, BATCH_ENTRIES_MAX};
use std::path::{Path, PathBuf};

/// What a rebuild is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An audit (of the old store, then of the rebuilt one) has checked so
    /// many entries.
    Audit(Progress),
    /// That audit is over.
    AuditDone,
}

/// Audits the store in `store_dir` as `feeledger verify --data` does and
/// returns the first damage found, or `None` for a healthy store (there is
/// then nothing to rebuild). A store that `open` refuses as damaged or of
/// another format is damage too.
///
/// # Errors
/// [`BackupError::Open`] if the store cannot be opened for another reason
/// (absent, locked, I/O); `data` names it.
pub fn find_damage(
    data: &Path,
    store_dir: &Path,
    step: &mut dyn FnMut(Step),
) -> Result<Option<String>, BackupError> {
    match Store::open(store_dir) {
        Ok(store) => {
            let mut audit = Audit::new(None, Vec::new());
            let result = feeledger_audit::audit_store(&store, &mut audit, None, &mut |p| {
                step(Step::Audit(p))
            });
            step(Step::AuditDone);
            Ok(match result {
                Ok(_) => None,
                Err(f) => Some(match f.seq {
                    Some(seq) => format!("at entry {seq}: {}", f.cause),
                    None => f.cause.to_string(),
                }),
            })
        }
        Err(e @ (StoreError::Damaged { .. } | StoreError::IncompatibleFormat { .. })) => {
            Ok(Some(e.to_string()))
        }
        Err(source) => Err(BackupError::Open {
            data: data.to_path_buf(),
            source,
        }),
    }
}

/// What [`rebuild`] did.
#[derive(Debug)]
pub struct Rebuilt {
    /// What happened to the latest checkpoint.
    pub checkpoint: String,
    /// Cosigned checkpoints kept with their cosignatures.
    pub cosigned: usize,
    /// What was dropped, repaired or kept, one line each.
    pub notes: Vec<String>,
    /// Where the old store is kept.
    pub damaged: PathBuf,
}

/// Rebuilds the store in `store_dir` (inside the data directory `data`)
/// from its leaves, in `DATA/ledger.rebuild`; audits the fresh store;
/// then swaps the two, keeping the old one as
/// `DATA/ledger.damaged-<stamp>` (with `-2`, `-3`, ... if taken). `signer`
/// is the ledger's log key. Call it when [`find_damage`] found some.
///
/// # Errors
/// A damaged or missing leaf (named, with the advice to restore from a
/// backup), a stored checkpoint the log key signed that the leaves
/// contradict, a log key that is not the ledger's, an I/O error, or a
/// rebuilt store that fails the audit. Nothing is changed then: the fresh
/// copy is removed (or, if its audit failed, left and named).
pub fn rebuild(
    data: &Path,
    store_dir: &Path,
    signer: &NoteSigner,
    stamp: &str,
    step: &mut dyn FnMut(Step),
) -> Result<Rebuilt, BackupError> {
    let vkey = signer.verifier_key();
    // 1. A fresh store from the leaves, beside the old one.
    let fresh = data.join("ledger.rebuild");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|source| BackupError::RemoveLeftover {
            path: fresh.clone(),
            source,
        })?;
    }
    let raw = Store::open_unchecked(store_dir).map_err(|source| BackupError::Open {
        data: data.to_path_buf(),
        source,
    })?;
    let mut notes = Vec::new();
    let latest = raw.latest_checkpoint_size().unwrap_or(None);
    let outcome = (|| -> Result<Outcome, BackupError> {
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
        rebuild_into(source, &fresh, signer, &vkey)
    })();
    drop(raw);
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(BackupError::RebuildFailed {
                data: data.to_path_buf(),
                source: Box::new(e),
            });
        }
    };
    notes.append(&mut outcome.notes);

    // 2. Check the new store as `verify` would, before it replaces anything.
    {
        let rebuilt = Store::open(&fresh).map_err(|source| BackupError::OpenRebuilt {
            path: fresh.clone(),
            source,
        })?;
        let mut audit = Audit::new(Some(vkey), Vec::new());
        let result =
            feeledger_audit::audit_store(&rebuilt, &mut audit, None, &mut |p| step(Step::Audit(p)));
        step(Step::AuditDone);
        if let Err(f) = result {
            return Err(BackupError::RebuiltFailsAudit {
                seq: f.seq,
                message: f.cause.to_string(),
                fresh,
            });
        }
        rebuilt.close()?;
    }

    // 3. Swap: the damaged store is kept beside the new one.
    let mut damaged = data.join(format!("ledger.damaged-{stamp}"));
    let mut n = 2;
    while damaged.exists() {
        damaged = data.join(format!("ledger.damaged-{stamp}-{n}"));
        n += 1;
    }
    crate::fsutil::rename(store_dir, &damaged)?;
    std::fs::rename(&fresh, store_dir).map_err(|source| BackupError::RenameKeptOld {
        from: fresh.clone(),
        to: store_dir.to_path_buf(),
        kept: damaged.clone(),
        source,
    })?;
    sync_dir(data);
    Ok(Rebuilt {
        checkpoint: outcome.checkpoint,
        cosigned: outcome.cosigned,
        notes,
        damaged,
    })
}

/// What [`rebuild_into`] did.
struct Outcome {
    checkpoint: String,
    cosigned: usize,
    notes: Vec<String>,
}

/// A checkpoint worth keeping across a rebuild: it carries cosignatures
/// (which cannot be made again), or it is the latest.
struct Kept {
    size: u64,
    /// The note with the log's signature only. Its cosignatures are added
    /// back once the rebuilt ledger's keys can check them.
    note: Vec<u8>,
    cosignatures: Vec<NoteSignature>,
    /// The role keys (as cosigner keys) in force at this size, filled in
    /// when the rebuild reaches it.
    keys_at_size: Vec<VerifierKey>,
    /// Who, among the keys the ledger knows, cosigned it (filled in when
    /// its cosignatures are checked).
    verified_by: Vec<String>,
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
) -> Result<Vec<Kept>, BackupError> {
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
) -> Result<u64, BackupError> {
    let note = Note::parse(&kept.note).map_err(|source| BackupError::KeptCheckpoint { source })?;
    let mut refused = 0;
    let mut lines = Vec::new();
    for line in std::mem::take(&mut kept.cosignatures) {
        let alone = Note {
            text: note.text.clone(),
            signatures: note.signatures.iter().chain([&line]).cloned().collect(),
        };
        match verify_checkpoint_note(&alone, vkey, known) {
            Ok((_, verified)) => {
                kept.verified_by
                    .extend(verified.into_iter().map(|v| v.name));
                lines.push(line);
            }
            Err(NoteError::InvalidSignature { .. }) => refused += 1,
            Err(error) => {
                return Err(BackupError::KeptCheckpointNote {
                    size: kept.size,
                    error,
                })
            }
        }
    }
    kept.cosignatures = lines;
    Ok(refused)
}

/// A stored checkpoint of `size` must agree with the rebuilt tree, unless
/// it is itself damaged (then it is dropped).
fn check_signed(
    size: u64,
    bytes: &[u8],
    root: Hash,
    vkey: &VerifierKey,
    notes: &mut Vec<String>,
) -> Result<(), BackupError> {
    let parsed = Note::parse(bytes)
        .ok()
        .and_then(|n| Checkpoint::parse(&n.text).ok());
    if parsed.is_some_and(|cp| cp.size == size && cp.root == root) {
        return Ok(());
    }
    match open_checkpoint(bytes, vkey, &[]) {
        Ok((cp, _, _)) if cp.size == size => Err(BackupError::SignedCheckpointContradicts {
            size,
            signed: cp.root,
            root,
        }),
        _ => {
            notes.push(format!(
                "checkpoint {size} is damaged (it does not verify); dropped"
            ));
            Ok(())
        }
    }
}

/// A leaf the fresh store refused, named for a rebuild.
fn refused(e: StoreError) -> BackupError {
    match e {
        StoreError::LeafRefused { seq, reason } => BackupError::LeafRefused { seq, reason },
        StoreError::Rejected(reason) => BackupError::GenesisRefused { reason },
        StoreError::WrongLogKey => BackupError::NotThisLedgersLogKey,
        other => BackupError::Store(other),
    }
}

/// Reads every leaf of the old store and writes a fresh store in `dir`,
/// checking each leaf against the tree's record of its hash and the next
/// entry's link, and every stored checkpoint against the rebuilt tree.
fn rebuild_into(
    src: Source<'_>,
    dir: &Path,
    signer: &NoteSigner,
    vkey: &VerifierKey,
) -> Result<Outcome, BackupError> {
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
    let mut pending: Option<(u64, Vec<u8>, Hash)> = None;
    loop {
        let next = leaves.next().transpose()?;
        if let Some((seq, _)) = &next {
            let expected = frontier.size() + u64::from(pending.is_some());
            if *seq != expected {
                return Err(BackupError::LeafMissing { seq: expected });
            }
        }
        if let Some((seq, bytes, hash)) = pending.take() {
            // Three records of this leaf's hash: its bytes, the tree's
            // level-0 node and the next entry's link (for the head, the
            // state's head). Damage in one place leaves two agreeing.
            let recorded = recorded_leaf_hashes.get(seq)?;
            let (linked, linked_by) = match &next {
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
                    return Err(BackupError::LeafAltered(Box::new(LeafAltered {
                        seq,
                        hash,
                        recorded,
                        linked_by,
                        linked,
                    })));
                }
            }
            frontier.append(hash);
            match &store {
                None => store = Some(Store::create(dir, &bytes, signer).map_err(refused)?),
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
                        signer,
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
    let store = store.ok_or(BackupError::NoEntries)?;
    let size = frontier.size();
    for item in checkpoints {
        let (s, bytes) = item?;
        if open_checkpoint(&bytes, vkey, &[]).is_ok() {
            return Err(BackupError::SignedBeyondStore {
                signed_size: s,
                size,
            });
        }
        notes.push(format!(
            "checkpoint {s} is damaged (it does not verify); dropped"
        ));
    }
    if !batch.is_empty() {
        store.append_leaves(batch, None, signer).map_err(refused)?;
    }
    if repaired_leaf_nodes > 0 {
        notes.push(format!(
            "{repaired_leaf_nodes} Merkle leaf node(s) were missing or disagreed with intact entries"
        ));
    }
    let mut witness_keys = Vec::new();
    for text in witnesses {
        match VerifierKey::parse(text.trim()) {
            Ok(witness) if witness.alg() == KeyAlg::CosignatureV1 => witness_keys.push(witness),
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
        let check = p.decoded_body().and_then(|body| {
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
                store.propose(p.body.as_bytes(), p.signatures, p.created_ms, signer)?;
                readded += 1;
            }
            Err(e) => notes.push(format!(
                "pending proposal {} is no longer valid ({}); dropped",
                p.id,
                chain(&e)
            )),
        }
    }
    if readded > 0 {
        notes.push(format!("{readded} pending proposal(s) kept"));
    }
    store.close()?;
    Ok(Outcome {
        checkpoint,
        cosigned,
        notes,
    })
}

//! `feeledger cosign-checkpoint`: a committee member (or witness) attests
//! that the log they see extends the one they saw before.
//!
//! The state file remembers the last checkpoint this key cosigned. A new
//! checkpoint is cosigned only if a consistency proof shows it extends that
//! one; otherwise the command refuses loudly, because the operator has shown
//! two different histories (a fork).

use anyhow::{bail, Context, Result};
use feeledger_core::hash::Hash;
use feeledger_core::merkle::verify_consistency;
use feeledger_core::note::{cosign, open_checkpoint, AddCheckpointRequest, Checkpoint};
use feeledger_ledgerdir::{DataDir, KeyFile};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a cosigner remembers between runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CosignerState {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

pub fn read_state(path: &Path) -> Result<Option<CosignerState>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!("cosigner state {} is damaged", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the state atomically: a crash leaves the old or the new file.
pub fn write_state(path: &Path, state: &CosignerState) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Checks `checkpoint` against what this cosigner saw before, given a
/// consistency proof from the old size to the new one.
pub fn check_extends(
    previous: Option<&CosignerState>,
    checkpoint: &Checkpoint,
    proof: &[Hash],
) -> Result<()> {
    let Some(previous) = previous else {
        return Ok(());
    };
    if previous.origin != checkpoint.origin {
        bail!(
            "REFUSED: this state file is for {:?}, the checkpoint is for {:?}",
            previous.origin,
            checkpoint.origin
        );
    }
    if checkpoint.size < previous.size {
        bail!(
            "REFUSED: the log shrank from {} to {} entries since this key last cosigned; the operator rewrote history",
            previous.size,
            checkpoint.size
        );
    }
    verify_consistency(previous.size, checkpoint.size, proof, &previous.root, &checkpoint.root).map_err(|e| {
        anyhow::anyhow!(
            "REFUSED: the checkpoint of size {} is NOT consistent with the one of size {} this key cosigned ({e}); the log forked",
            checkpoint.size,
            previous.size
        )
    })?;
    Ok(())
}

pub fn cosign_local(data: &DataDir, key: &KeyFile, state_path: &Path) -> Result<()> {
    let store = data.open()?;
    let state = store.state();
    if state.role_of(key.name()).is_none() {
        bail!(
            "key {:?} holds no role in this ledger; only role members cosign here",
            key.name()
        );
    }
    let bytes = store.latest_checkpoint()?;
    let (checkpoint, note, _) = open_checkpoint(&bytes, state.log_key(), &[])?;
    let previous = read_state(state_path)?;
    let proof = match &previous {
        Some(p) if p.size <= checkpoint.size => store.consistency_proof(p.size, checkpoint.size)?,
        _ => vec![],
    };
    check_extends(previous.as_ref(), &checkpoint, &proof)?;
    let now_s = crate::clock::now_ms() / 1000;
    let signature = cosign(&note.text, now_s, &key.cosigner()?)?;
    store.add_cosignature(checkpoint.size, signature)?;
    write_state(
        state_path,
        &CosignerState {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: checkpoint.root,
        },
    )?;
    println!(
        "cosigned checkpoint of size {} (root {}) as {}",
        checkpoint.size,
        checkpoint.root,
        key.name()
    );
    Ok(())
}

/// Cosigns a server's latest checkpoint and submits the cosignature through
/// `POST /add-checkpoint`. The log key is learned on first use and pinned in
/// the state file.
///
/// With `resync`, a 409 (the server records another size than the state
/// file for this key, as after a restore) is answered by sending again from
/// the size the server records; see [`size_conflict`].
pub fn cosign_remote(
    remote: &crate::remote::Remote,
    key: &KeyFile,
    state_path: &Path,
    resync: bool,
) -> Result<()> {
    let info = remote.get_json("/api/v1/ledger")?;
    let log_key_text = info["log_key"]
        .as_str()
        .context("the server did not say its log key")?;
    let pinned_path = state_path.with_extension("logkey");
    let log_key_text = match std::fs::read_to_string(&pinned_path) {
        Ok(pinned) => {
            if pinned.trim() != log_key_text {
                bail!(
                    "REFUSED: the server's log key changed from {} to {log_key_text}",
                    pinned.trim()
                );
            }
            pinned.trim().to_string()
        }
        Err(_) => {
            std::fs::write(&pinned_path, log_key_text)?;
            log_key_text.to_string()
        }
    };
    let log_key = feeledger_core::note::VerifierKey::parse(&log_key_text)?;
    let bytes = remote.get_bytes("/checkpoint")?;
    let (checkpoint, note, _) = open_checkpoint(&bytes, &log_key, &[])?;
    let previous = read_state(state_path)?;
    let old_size = previous.as_ref().map_or(0, |p| p.size);
    let proof = match &previous {
        Some(p) if p.size <= checkpoint.size && p.size > 0 => {
            remote.consistency(p.size, checkpoint.size)?
        }
        _ => vec![],
    };
    check_extends(previous.as_ref(), &checkpoint, &proof)?;
    let now_s = crate::clock::now_ms() / 1000;
    let signature = cosign(&note.text, now_s, &key.cosigner()?)?;
    // Send the log's signature and this key's cosignature only: other
    // cosigners' lines are theirs to submit.
    let mut cosigned = note.clone();
    cosigned
        .signatures
        .retain(|s| s.name == log_key.name() && s.key_id == log_key.key_id());
    cosigned.signatures.push(signature);
    let cosigned = cosigned.to_bytes();
    let (mut status, mut text) =
        remote.add_checkpoint(add_checkpoint_body(old_size, &proof, &cosigned)?)?;
    if status == 409 {
        let recorded = recorded_size(&text)?;
        if !resync {
            bail!(
                "{}",
                size_conflict(recorded, old_size, &checkpoint, &note, key, state_path)
            );
        }
        if recorded > checkpoint.size {
            bail!(
                "REFUSED: the server records that {:?} cosigned size {recorded}, beyond its checkpoint of size {}; the log shrank, so it is not resynced",
                key.name(),
                checkpoint.size
            );
        }
        // This key's own check (against its state file) passed above; the
        // server checks its own record: a proof from the size it records.
        let proof = if recorded > 0 {
            remote.consistency(recorded, checkpoint.size)?
        } else {
            vec![]
        };
        println!(
            "resync: the server records size {recorded} for {}, this state file {old_size}; sending from size {recorded}",
            key.name()
        );
        (status, text) =
            remote.add_checkpoint(add_checkpoint_body(recorded, &proof, &cosigned)?)?;
    }
    if status != 200 {
        bail!(
            "the server refused the cosignature ({status}): {}",
            text.trim()
        );
    }
    write_state(
        state_path,
        &CosignerState {
            origin: checkpoint.origin.clone(),
            size: checkpoint.size,
            root: checkpoint.root,
        },
    )?;
    println!(
        "cosigned checkpoint of size {} (root {}) as {}",
        checkpoint.size,
        checkpoint.root,
        key.name()
    );
    Ok(())
}

/// The tlog-witness `add-checkpoint` request body, built by the core
/// ([`AddCheckpointRequest::to_bytes`]), the same module the server parses
/// it with.
fn add_checkpoint_body(old_size: u64, proof: &[Hash], note: &[u8]) -> Result<String> {
    let request = AddCheckpointRequest {
        old_size,
        proof: proof.to_vec(),
        checkpoint: note.to_vec(),
    };
    Ok(String::from_utf8(request.to_bytes())?)
}

/// The body of a 409: the size of the last checkpoint the server records
/// this cosigner cosigning (`text/x.tlog.size`), 0 for none.
fn recorded_size(text: &str) -> Result<u64> {
    text.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "the server refused the cosignature (409) without a size: {}",
            text.trim()
        )
    })
}

/// Explains a 409: the server's record of the last size this key cosigned
/// there differs from the state file's. The server keeps that record in its
/// data directory only, so a directory restored from a tiles backup (or made
/// anew) records nothing, 0, while the backup's checkpoint still carries the
/// cosignatures made before. This key's own check against its state file
/// has passed by then; the server's record is the one out of step.
fn size_conflict(
    recorded: u64,
    old_size: u64,
    checkpoint: &Checkpoint,
    note: &feeledger_core::note::Note,
    key: &KeyFile,
    state_path: &Path,
) -> String {
    let name = key.name();
    let already = note.signatures.iter().any(|s| s.name == name);
    let carried = if already {
        format!("; it already carries a cosignature by {name:?} from before the restore")
    } else {
        String::new()
    };
    let state = state_path.display();
    if recorded < old_size {
        format!(
            "the server records {} for {name:?}, but {state} says this key last cosigned size {old_size}: the server most likely runs a ledger restored from a tiles backup, which keeps the checkpoints and their cosignatures but not each cosigner's last size; its checkpoint of size {} (root {}) extends the one you cosigned (checked here){carried}; ask the operator why it was restored, then run this again with --resync to cosign from the size the server records",
            if recorded == 0 {
                "no cosignature".to_string()
            } else {
                format!("size {recorded} as the last cosigned")
            },
            checkpoint.size,
            checkpoint.root,
        )
    } else {
        format!(
            "the server records that {name:?} last cosigned size {recorded}, but {state} says size {old_size}: this state file is older than the key's last cosignature (another copy of the key or of the state file cosigned since); use the newest state file, or run this again with --resync to cosign from the size the server records"
        )
    }
}

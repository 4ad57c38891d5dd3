//! The audit of a server's ledger over HTTP, trusting only the log key:
//! every entry up to the signed checkpoint's size fetched and replayed
//! ([`replay_server`], which `verify --url` and the CLI's `--url` readers
//! share), then the checkpoint's cosignatures, the served tiles and bundles
//! and a saved checkpoint checked ([`audit_server`]).

use crate::http::{HttpError, Server};
use crate::replay::{Audit, Cause, CheckpointReport, Failure};
use crate::tiles::{TileReader, TileSource};
use crate::{error_chain, Progress};
use feeledger_core::note::{open_checkpoint, Checkpoint, VerifierKey};

/// Why a server's entries could not all be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A page of entries could not be fetched: not a finding about the
    /// ledger, but the audit could not go on.
    #[error(transparent)]
    Fetch(#[from] HttpError),
    /// The entries do not verify.
    #[error(transparent)]
    Failed(#[from] Failure),
}

/// Fetches every entry of a server's ledger up to `size` (a verified
/// checkpoint's), page by page, and pushes them through `audit` in order.
///
/// An earlier entry read again (a reversal's target) is checked against the
/// hash the audit verified; it comes from `held` when the caller keeps the
/// leaves (then every leaf's bytes are appended to it, about 1 KiB an
/// entry), else from the server again (then the audit holds only 32 bytes
/// an entry). `progress` is told after each page.
///
/// # Errors
///
/// [`ReplayError::Fetch`] if a page cannot be fetched;
/// [`ReplayError::Failed`] with the entry at fault if the entries do not
/// verify, or the server leaves one out.
pub fn replay_server(
    server: &Server,
    size: u64,
    audit: &mut Audit,
    mut held: Option<&mut Vec<Vec<u8>>>,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ReplayError> {
    let mut next = audit.size();
    while next < size {
        let page = server.leaves(next, size)?;
        if page.is_empty() {
            return Err(Failure::at_entry(next, Cause::NotServed).into());
        }
        next = page.last().map_or(next, |(seq, _)| seq + 1);
        match held.as_deref_mut() {
            None => {
                let chunk = page
                    .into_iter()
                    .map(|(seq, bytes)| (seq, bytes, None))
                    .collect();
                let mut again = |seq: u64| {
                    server
                        .leaves(seq, seq + 1)
                        .ok()?
                        .pop()
                        .map(|(_, bytes)| bytes)
                };
                audit.push_chunk(chunk, &mut again)?;
            }
            Some(held) => {
                let chunk = page
                    .iter()
                    .map(|(seq, bytes)| (*seq, bytes.clone(), None))
                    .collect();
                // Entries of earlier pages from those held, of this page
                // from the page itself.
                let mut again = |seq: u64| -> Option<Vec<u8>> {
                    usize::try_from(seq)
                        .ok()
                        .and_then(|i| held.get(i))
                        .or_else(|| page.iter().find(|(s, _)| *s == seq).map(|(_, b)| b))
                        .cloned()
                };
                audit.push_chunk(chunk, &mut again)?;
                // The audit checked that the page's seqs follow on.
                held.extend(page.into_iter().map(|(_, bytes)| bytes));
            }
        }
        progress(Progress {
            entries_checked: next,
            entries_total: size,
        });
    }
    Ok(())
}

/// Audits a server's ledger, trusting only `trusted`: its checkpoint
/// (`checkpoint_bytes`, fetched by the caller so that it can save them)
/// against the log key, every entry up to its size replayed, every
/// cosignature line (witness keys from `/api/v1/ledger`), the hash tiles
/// and entry bundles it serves, and that the log extends `saved`.
///
/// # Errors
///
/// The first [`Failure`] found. A server that cannot be reached midway is
/// a failure too, named by its error.
pub fn audit_server(
    server: &Server,
    checkpoint_bytes: &[u8],
    trusted: &VerifierKey,
    saved: Option<&Checkpoint>,
    audit: &mut Audit,
    progress: &mut dyn FnMut(Progress),
) -> Result<CheckpointReport, Failure> {
    // The log's line alone; cosignature lines are checked (and named)
    // once the replay gives the role keys at this size.
    let (checkpoint, _, _) = open_checkpoint(checkpoint_bytes, trusted, &[]).map_err(|error| {
        Failure::of(Cause::CheckpointSignature {
            checkpoint: "the server's checkpoint".into(),
            error,
        })
    })?;
    replay_server(server, checkpoint.size, audit, None, progress).map_err(|e| match e {
        ReplayError::Fetch(e) => Failure::of(Cause::Server(e.to_string())),
        ReplayError::Failed(f) => f,
    })?;
    // Witness keys are not in the log: the server lists those its
    // operator registered. A line by any other key is reported as
    // unverified.
    let info = server.get_json("/api/v1/ledger").map_err(|e| {
        Failure::of(Cause::Server(format!(
            "reading the witness keys: {}",
            error_chain(&e)
        )))
    })?;
    let witnesses = info["witness_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            let text = w.as_str().unwrap_or_default();
            VerifierKey::parse(text).map_err(|e| {
                Failure::of(Cause::Server(format!(
                    "the server lists a witness key {text:?} that does not parse: {e}"
                )))
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let report = audit.check_checkpoint(checkpoint_bytes, &witnesses)?;
    check_served_tiles(server, audit, &checkpoint)?;
    if let Some(saved) = saved {
        audit.check_saved(saved)?;
    }
    Ok(report)
}

/// The witness keys a server lists, leniently: only used to check
/// cosignature lines of the checkpoint (a wrong one makes a line fail,
/// never pass), so one that does not parse, or a server that does not
/// answer, gives none.
pub fn served_witness_keys(server: &Server) -> Vec<VerifierKey> {
    let Ok(info) = server.get_json("/api/v1/ledger") else {
        return Vec::new();
    };
    info["witness_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| VerifierKey::parse(w.as_str()?).ok())
        .collect()
}

/// The hash tiles and entry bundles a server serves for the verified
/// checkpoint (`/tile/<L>/<N>[.p/<W>]` on every level, `/tile/entries/...`),
/// read as C2SP tlog-tiles clients read them: every bundle's entries must
/// be the ones `/api/v1/entries` served and the audit verified, and every
/// hash tile must hold the nodes recomputed from them.
fn check_served_tiles(
    server: &Server,
    audit: &Audit,
    checkpoint: &Checkpoint,
) -> Result<(), Failure> {
    let served = |e: crate::tiles::TileError| {
        Failure::of(Cause::Server(format!(
            "the server's tiles: {}",
            error_chain(&e)
        )))
    };
    let mut reader = TileReader::new(TileSource::Http(server), checkpoint.size);
    for index in 0..TileReader::bundles(checkpoint.size) {
        let (path, first, leaves) = reader.bundle(index).map_err(served)?;
        for (seq, leaf) in (first..).zip(leaves) {
            let hash = feeledger_core::hash::leaf_hash(&leaf);
            let verified = audit
                .verified_leaf_hash(seq)
                .ok_or_else(|| Failure::of(Cause::Internal("the audit holds no leaf hashes")))?;
            if hash != verified {
                return Err(Failure::at_entry(
                    seq,
                    Cause::Server(format!(
                        "the server's {path} holds another entry {seq} than /api/v1/entries: its bytes hash to {hash}, the verified entry to {verified}"
                    )),
                ));
            }
        }
    }
    if reader.root() != checkpoint.root {
        return Err(Failure::of(Cause::Server(format!(
            "the server's tiles give root {}, the signed checkpoint says {}",
            reader.root(),
            checkpoint.root
        ))));
    }
    Ok(())
}

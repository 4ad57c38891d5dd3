//! The append engine: every write to the store goes through
//! [`Store::commit_work`].
//!
//! A write builds a [`WorkingCopy`] of the writer's state and frontier,
//! under the writer's lock, in four steps:
//!
//! 1. **staged**: each entry is validated by the core (`apply`) against the
//!    copy and its keys are recorded in the copy's [`WriteSet`]; node
//!    hashes, index postings and totals are gathered in [`Staging`]. A
//!    refused entry changes nothing in the copy.
//! 2. **written**: if the tree grew, the gathered tiles, buckets and totals
//!    are read and extended, the new state snapshot and a checkpoint of the
//!    new size are signed, and the whole set is applied as one atomic sled
//!    batch ([`writes::commit`]);
//! 3. **flushed**: sled's flush; a failed flush is undone, or the store is
//!    poisoned (see the `writes` module);
//! 4. **published**: only then does the writer's state move to the copy's,
//!    and readers see the new tree.
//!
//! Appends of new entries ([`Store::append_batch`]), of existing leaves
//! ([`Store::append_leaves`]), proposals (`proposals.rs`), cosignatures and
//! witness keys all end in that one function; so do the genesis's writes
//! ([`commit_to_db`], before there is a `Store`).

use crate::writes::{self, FaultPoint as Fault, Faults, WriteSet};
use crate::{check_log_signer, BATCH_ENTRIES_MAX};
use crate::{keys, parallel_map, Committed, Store, StoreError, Submission, Writer};
use feeledger_core::entry::{check_signature_list, normalize_signatures, Body, Content};
use feeledger_core::entry::{EntrySignature, Leaf};
use feeledger_core::hash::Hash;
use feeledger_core::merkle::Frontier;
use feeledger_core::note::{sign_checkpoint, Checkpoint, Note, NoteSigner};
use feeledger_core::state::{Applied, ApplyError, LedgerState, Lookups, Needs, SignatureCheck};
use std::collections::BTreeMap;

/// A write being built: a copy of the writer's state and tree, and every
/// key the write will set. Nothing reaches sled or readers until
/// [`Store::commit_work`]; dropping it abandons the write.
pub(crate) struct WorkingCopy {
    pub(crate) state: LedgerState,
    pub(crate) frontier: Frontier,
    /// Point writes (a leaf, a body id, a reversal mark, a proposal, a
    /// cosignature), where later stagings of the same write see them
    /// ([`Store::lookups_with`]).
    pub(crate) writes: WriteSet,
    staging: Staging,
    /// The tree's size when the copy was taken.
    base_size: u64,
    /// Sign a checkpoint and store the state even if no leaf was staged
    /// (a restore's batch, which always records its checkpoint).
    always_checkpoint: bool,
    /// A checkpoint note to keep instead of the newly signed one, when it
    /// verifies and matches the new tree (a restore keeps the backup's).
    given_checkpoint: Option<Vec<u8>>,
}

impl WorkingCopy {
    /// A copy of the writer's committed state.
    pub(crate) fn of(writer: &Writer) -> WorkingCopy {
        WorkingCopy::new(writer.state.clone(), writer.frontier.clone())
    }

    pub(crate) fn new(state: LedgerState, frontier: Frontier) -> WorkingCopy {
        WorkingCopy {
            base_size: frontier.size(),
            state,
            frontier,
            writes: WriteSet::default(),
            staging: Staging::default(),
            always_checkpoint: false,
            given_checkpoint: None,
        }
    }

    /// Whether a leaf was staged.
    pub(crate) fn grew(&self) -> bool {
        self.frontier.size() != self.base_size
    }

    /// Records an applied leaf: its point writes now, its nodes, postings
    /// and totals in the staging.
    pub(crate) fn stage_leaf(
        &mut self,
        tree: &sled::Tree,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        applied: &Applied,
    ) -> Result<(), StoreError> {
        write_entry(
            &mut self.writes,
            leaf,
            leaf_bytes,
            applied,
            &mut self.frontier,
            &mut self.staging,
            tree,
        )
    }
}

/// The staged → written → flushed steps of [`Store::commit_work`], on a
/// database with no `Store` yet (the genesis) or a store's own. Returns the
/// state and tree to publish if the write signed a checkpoint.
///
/// # Errors
/// A fault, a storage failure or damage found while extending tiles: then
/// nothing of `work` is on disk (or the store is poisoned, see `writes`).
///
/// # Panics
/// If the tree must be checkpointed and no `log_signer` was given: every
/// caller that stages leaves passes one.
pub(crate) fn commit_to_db(
    tree: &sled::Tree,
    faults: &Faults,
    work: WorkingCopy,
    log_signer: Option<&NoteSigner>,
) -> Result<Option<(LedgerState, Frontier)>, StoreError> {
    let checkpoint = work.grew() || work.always_checkpoint;
    // Nothing staged (every entry refused): not even a poisoned store is
    // an error then, as before the commit paths were one.
    if !checkpoint && work.writes.is_empty() {
        return Ok(None);
    }
    // Checked before the tiles are read and extended: after a failed
    // undo, sled's tiles may hold hashes the writer's frontier does not,
    // and extending them would report damage the store does not have.
    faults.check_not_poisoned()?;
    faults.check_space()?;
    let WorkingCopy {
        state,
        frontier,
        mut writes,
        staging,
        given_checkpoint,
        ..
    } = work;
    if checkpoint {
        let log_signer = log_signer.expect("a write that checkpoints has the log signer");
        faults.check(Fault::ReadDerived)?;
        staging.finish(tree, &mut writes)?;
        faults.check(Fault::SignCheckpoint)?;
        write_state_and_checkpoint(&mut writes, &state, &frontier, log_signer)?;
        if let Some(note) = given_checkpoint {
            // A kept checkpoint (a restore's latest) may carry cosignature
            // lines: the cosigned index moves with it, as with
            // `Store::add_cosignature`.
            let cosigned = Note::parse(&note).is_ok_and(|n| n.signatures.len() > 1);
            if cosigned {
                let size = frontier.size();
                let indexed = tree
                    .get(keys::LATEST_COSIGNED)?
                    .map(|v| keys::decode_u64(&v))
                    .transpose()?;
                if indexed.is_none_or(|at| at < size) {
                    writes.insert(keys::LATEST_COSIGNED, size.to_be_bytes().to_vec());
                }
            }
            writes.insert(keys::checkpoint(frontier.size()), note);
        }
    }
    writes::commit(tree, faults, writes)?;
    Ok(checkpoint.then_some((state, frontier)))
}

impl Store {
    /// The one commit path: writes `work` as one atomic batch, flushes it,
    /// and, if it checkpointed a new tree, makes that the writer's state and
    /// publishes it to readers. `writer` must be the guard `work` was copied
    /// from, held throughout: the undo of a failed flush reads the old
    /// values, which holds only for the single writer.
    ///
    /// # Errors
    /// As [`commit_to_db`]; the writer's state is unchanged then.
    pub(crate) fn commit_work(
        &self,
        writer: &mut Writer,
        work: WorkingCopy,
        log_signer: Option<&NoteSigner>,
    ) -> Result<(), StoreError> {
        if let Some((state, frontier)) = commit_to_db(self.tree(), &self.faults, work, log_signer)?
        {
            writer.state = state;
            writer.frontier = frontier;
            self.publish(writer);
        }
        Ok(())
    }

    /// Appends entries in one atomic batch and one flush (group commit).
    /// Each submission gets its own result: a refused one does not stop the
    /// others. The batch is durable when this returns.
    ///
    /// # Errors
    /// An I/O error fails the whole batch, and the ledger stays as it was.
    ///
    /// # Panics
    /// If given more than [`BATCH_ENTRIES_MAX`] submissions.
    pub fn append_batch(
        &self,
        submissions: Vec<Submission>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
        assert!(
            submissions.len() <= BATCH_ENTRIES_MAX,
            "batch of {} entries",
            submissions.len()
        );
        let prepared = self.prepare_batch(submissions);
        self.append_prepared(prepared, now_ms, log_signer)
    }

    /// The first half of [`Store::append_batch`]: decodes each submission
    /// and checks its signatures against the published keys, on every core
    /// for large batches. It does not take the writer, so a bulk import can
    /// prepare one batch while [`Store::append_prepared`] commits the one
    /// before. A check made against keys that a later governance entry
    /// changed is not trusted: staging verifies those signatures again.
    ///
    /// # Panics
    /// If given more than [`BATCH_ENTRIES_MAX`] submissions.
    pub fn prepare_batch(&self, submissions: Vec<Submission>) -> PreparedBatch {
        assert!(
            submissions.len() <= BATCH_ENTRIES_MAX,
            "batch of {} entries",
            submissions.len()
        );
        let state = self.state();
        let items = submissions.into_iter().map(|s| (s, None)).collect();
        PreparedBatch {
            items: prepare_all(&state, items),
        }
    }

    /// The second half of [`Store::append_batch`]: stages the prepared
    /// submissions in order on a working copy, then commits it; the
    /// in-memory state moves only after the flush.
    ///
    /// # Errors
    /// As [`Store::append_batch`].
    pub fn append_prepared(
        &self,
        prepared: PreparedBatch,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<Vec<Result<Committed, StoreError>>, StoreError> {
        let mut w = self.lock();
        check_log_signer(&w.state, log_signer)?;
        let mut work = WorkingCopy::of(&w);
        let mut results = Vec::with_capacity(prepared.items.len());
        for p in prepared.items {
            let result = p.and_then(|p| self.stage(&mut work, p, now_ms));
            // A refused entry is that entry's answer; a storage failure
            // leaves the working copy half-staged, so the whole batch fails
            // and the ledger stays as it was.
            if let Err(e @ (StoreError::Io(_) | StoreError::Damaged { .. })) = result {
                return Err(e);
            }
            results.push(result);
        }
        let size = work.frontier.size();
        self.commit_work(&mut w, work, Some(log_signer))?;
        for committed in results.iter_mut().flatten() {
            committed.size = size;
        }
        Ok(results)
    }

    /// Appends leaves that already exist (a backup being restored, a store
    /// being rebuilt): each must be the exact next leaf, with its own seq,
    /// prev and time, and pass every check `apply` makes. One atomic batch
    /// and one flush; then a checkpoint for the new size is stored: the
    /// `checkpoint` note given, if it verifies with the log key and matches
    /// the new tree, else one newly signed with `log_signer`.
    ///
    /// # Errors
    /// The first leaf refused, as [`StoreError::LeafRefused`] naming its
    /// seq (or [`StoreError::Rejected`] if it does not decode); nothing is
    /// written then.
    ///
    /// # Panics
    /// If given more than [`BATCH_ENTRIES_MAX`] leaves.
    pub fn append_leaves(
        &self,
        leaves: Vec<Vec<u8>>,
        checkpoint: Option<&[u8]>,
        log_signer: &NoteSigner,
    ) -> Result<u64, StoreError> {
        assert!(
            leaves.len() <= BATCH_ENTRIES_MAX,
            "batch of {} leaves",
            leaves.len()
        );
        let mut w = self.lock();
        check_log_signer(&w.state, log_signer)?;
        let checks = check_leaves_parallel(&w.state, &leaves);
        let mut work = WorkingCopy::of(&w);
        work.always_checkpoint = true;
        for (bytes, (leaf, check)) in leaves.iter().zip(checks) {
            let expected_seq = work.state.size();
            let leaf = leaf.map_err(|e| StoreError::Rejected(ApplyError::Format(e)))?;
            let lookups = self.lookups_with(
                &feeledger_core::state::leaf_needs(&leaf, bytes),
                &work.writes,
            )?;
            let applied = work
                .state
                .apply_leaf_prechecked(&leaf, bytes, &lookups, check.as_ref())
                .map_err(|reason| StoreError::LeafRefused {
                    seq: expected_seq,
                    reason,
                })?;
            work.stage_leaf(self.tree(), &leaf, bytes, &applied)?;
        }
        work.given_checkpoint = checkpoint.and_then(|note| {
            let (cp, _, _) =
                feeledger_core::note::open_checkpoint(note, work.state.log_key(), &[]).ok()?;
            (cp.size == work.frontier.size() && cp.root == work.frontier.root())
                .then(|| note.to_vec())
        });
        self.commit_work(&mut w, work, Some(log_signer))?;
        Ok(w.frontier.size())
    }

    /// Validates one prepared submission against the working copy and
    /// stages its writes. The next leaf's seq, prev and time come from the
    /// core ([`LedgerState::next_leaf`]).
    pub(crate) fn stage(
        &self,
        work: &mut WorkingCopy,
        prepared: Prepared,
        now_ms: u64,
    ) -> Result<Committed, StoreError> {
        // `prepared.signatures` are normalized already; `next_leaf`
        // normalizing them again leaves them as they are.
        let leaf = work
            .state
            .next_leaf(prepared.body, prepared.signatures, now_ms);
        let leaf_bytes = Leaf::canonical_bytes_from_parts(
            &prepared.body_bytes,
            &leaf.prev,
            leaf.seq,
            &leaf.signatures,
            leaf.time_ms,
        );
        // The leaf-size limit is the core's rule: `apply_leaf_prechecked`
        // refuses a leaf over `LEAF_BYTES_MAX` (ApplyError::LeafTooLarge).
        let lookups = self.lookups_with(
            &feeledger_core::state::leaf_needs(&leaf, &leaf_bytes),
            &work.writes,
        )?;
        let applied = work.state.apply_leaf_prechecked(
            &leaf,
            &leaf_bytes,
            &lookups,
            Some(&prepared.check),
        )?;
        work.stage_leaf(self.tree(), &leaf, &leaf_bytes, &applied)?;
        if let Some(id) = prepared.drop_proposal {
            work.writes.remove(keys::proposal(&id));
        }
        Ok(Committed {
            seq: applied.seq,
            leaf_hash: applied.leaf_hash,
            size: work.frontier.size(),
        })
    }

    /// Looks up what `apply` needs, seeing the writes of `batch` so far.
    pub(crate) fn lookups_with(
        &self,
        needs: &Needs,
        batch: &WriteSet,
    ) -> Result<Lookups, StoreError> {
        self.fault(Fault::ReadLookups)?;
        let staged_or_stored = |key: &[u8]| -> Result<Option<Vec<u8>>, StoreError> {
            match batch.get(key) {
                Some(staged) => Ok(staged.map(<[u8]>::to_vec)),
                None => Ok(self.tree().get(key)?.map(|v| v.to_vec())),
            }
        };
        let body_seen_at = staged_or_stored(&keys::body(&needs.body_id))?
            .map(|v| keys::decode_u64(&v))
            .transpose()?;
        let target = match needs.target_seq {
            None => None,
            Some(seq) => {
                let leaf = staged_or_stored(&keys::leaf(seq))?;
                match leaf {
                    None => None,
                    Some(bytes) => {
                        let leaf = Leaf::decode(&bytes).map_err(|e| {
                            StoreError::damaged(format!("leaf {seq} does not decode: {e}"))
                        })?;
                        let reversed_by = staged_or_stored(&keys::reversal(seq))?
                            .map(|v| keys::decode_u64(&v))
                            .transpose()?;
                        Some((leaf, reversed_by))
                    }
                }
            }
        };
        Ok(Lookups {
            body_seen_at,
            target,
        })
    }
}

/// Batches smaller than this are prepared on the writer's thread: spawning
/// threads costs more than it saves.
const PARALLEL_BATCH_MIN: usize = 16;

/// A submission made ready off the sequential path: signatures sorted, the
/// body canonicalized and decoded (so a body built in memory gets every
/// check a reader will apply), and its signatures verified.
/// Submissions made ready by [`Store::prepare_batch`] for
/// [`Store::append_prepared`].
#[derive(Debug)]
pub struct PreparedBatch {
    items: Vec<Result<Prepared, StoreError>>,
}

impl PreparedBatch {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) body: Body,
    pub(crate) body_bytes: Vec<u8>,
    pub(crate) signatures: Vec<EntrySignature>,
    pub(crate) check: SignatureCheck,
    /// The pending proposal this entry commits, removed in the same batch.
    pub(crate) drop_proposal: Option<Hash>,
}

fn prepare(
    state: &LedgerState,
    submission: Submission,
    drop_proposal: Option<Hash>,
) -> Result<Prepared, StoreError> {
    let mut signatures = submission.signatures;
    normalize_signatures(&mut signatures);
    check_signature_list(&signatures, "$.signatures").map_err(ApplyError::from)?;
    let body_bytes = submission.body.to_canonical_bytes();
    let body = Body::decode(&body_bytes).map_err(ApplyError::from)?;
    let check = state.check_signatures(&body_bytes, &signatures);
    Ok(Prepared {
        body,
        body_bytes,
        signatures,
        check,
        drop_proposal,
    })
}

/// Decodes leaves and checks their signatures against `state`'s keys, on
/// every core for large batches, keeping their order.
fn check_leaves_parallel(
    state: &LedgerState,
    leaves: &[Vec<u8>],
) -> Vec<(
    Result<Leaf, feeledger_core::entry::FormatError>,
    Option<SignatureCheck>,
)> {
    let check = |bytes: &Vec<u8>| {
        let leaf = Leaf::decode(bytes);
        let check = match (&leaf, feeledger_core::entry::body_bytes_of_leaf(bytes)) {
            (Ok(leaf), Some(body)) => Some(state.check_signatures(body, &leaf.signatures)),
            _ => None,
        };
        (leaf, check)
    };
    parallel_map(leaves.iter().collect(), PARALLEL_BATCH_MIN, check)
}

/// Prepares submissions in order, on every core when the batch is large.
fn prepare_all(
    state: &LedgerState,
    items: Vec<(Submission, Option<Hash>)>,
) -> Vec<Result<Prepared, StoreError>> {
    parallel_map(items, PARALLEL_BATCH_MIN, |(s, d)| prepare(state, s, d))
}

fn write_entry(
    batch: &mut WriteSet,
    leaf: &Leaf,
    leaf_bytes: &[u8],
    applied: &Applied,
    frontier: &mut Frontier,
    staging: &mut Staging,
    tree: &sled::Tree,
) -> Result<(), StoreError> {
    batch.insert_new(keys::leaf(applied.seq), leaf_bytes.to_vec());
    for (id, hash) in frontier.append(applied.leaf_hash) {
        let (level, tile, _) = keys::node_place(id);
        let hashes = &mut staging
            .nodes
            .entry((level, tile))
            .or_insert_with(|| (id.index, Vec::new()))
            .1;
        hashes.push(hash);
    }
    debug_assert_eq!(frontier.size(), applied.seq + 1);
    batch.insert_new(
        keys::body(&applied.body_id),
        applied.seq.to_be_bytes().to_vec(),
    );
    if let Some(target) = applied.reverses {
        batch.insert_new(keys::reversal(target), applied.seq.to_be_bytes().to_vec());
    }
    for (tag, value) in index_values(leaf) {
        let key = keys::posting(tag, &value, applied.seq >> keys::POSTING_BUCKET_BITS);
        let seqs = staging.postings.entry(key).or_default();
        // A transfer lists one fund twice only if both are the same, which
        // the core refuses; still, never index an entry twice.
        if seqs.last() != Some(&applied.seq) {
            seqs.push(applied.seq);
        }
    }
    for posting in &applied.postings {
        // The month's totals, and the all-time totals beside them (`A`,
        // summed in the same batch, so the two never disagree).
        for key in [
            keys::totals(posting.month, &posting.fund, &posting.category),
            keys::all_time_totals(&posting.fund, &posting.category),
        ] {
            if !staging.totals.contains_key(&key) {
                let current = match tree.get(&key)? {
                    Some(v) => serde_json::from_slice(&v)
                        .map_err(|e| StoreError::damaged(format!("totals: {e}")))?,
                    None => (0, 0),
                };
                staging.totals.insert(key.clone(), current);
            }
            let total = staging.totals.get_mut(&key).expect("inserted above");
            // i128 sums of at most 2^64 postings of at most 10^13 fen cannot
            // overflow (see `CategoryTotals`).
            total.0 += i128::from(posting.income_fen);
            total.1 += i128::from(posting.spending_fen);
        }
    }
    Ok(())
}

/// What the batch being built appends to: node hashes, index postings and
/// totals are gathered here and written once per batch by
/// [`Staging::finish`]. Point writes (a leaf, a body id, a reversal mark) go
/// straight to the batch's [`WriteSet`], where later submissions in the
/// batch see them ([`Store::lookups_with`]).
#[derive(Default)]
pub(crate) struct Staging {
    /// (level, tile) → (index of the first new hash, new hashes in order).
    nodes: BTreeMap<(u8, u64), (u64, Vec<Hash>)>,
    /// Posting key → new seqs, ascending.
    postings: BTreeMap<Vec<u8>, Vec<u64>>,
    /// Totals key → running (income, spending) fen.
    totals: BTreeMap<Vec<u8>, (i128, i128)>,
}

impl Staging {
    /// Appends the gathered node hashes and seqs to their tiles and
    /// buckets (read, extend, write), and writes the totals.
    fn finish(self, tree: &sled::Tree, batch: &mut WriteSet) -> Result<(), StoreError> {
        for ((level, tile), (first_index, hashes)) in self.nodes {
            let stored = crate::nodes::read_stored_tile(tree, level, tile)?;
            let held_bytes = stored.as_ref().map_or(0, |t| t.bytes.len());
            let held = (held_bytes / 32) as u64;
            if held_bytes % 32 != 0 || tile * keys::NODE_TILE_WIDTH + held != first_index {
                return Err(StoreError::damaged(format!(
                    "node tile level {level} index {tile} holds {held} hashes; the next node is {first_index}"
                )));
            }
            let mut new_bytes = Vec::with_capacity(32 * hashes.len());
            for hash in hashes {
                new_bytes.extend_from_slice(&hash.0);
            }
            let total = held_bytes + new_bytes.len();
            assert!(
                total as u64 <= 32 * keys::NODE_TILE_WIDTH,
                "a node tile overflowed"
            );
            match stored {
                // A new tile: its first key.
                None => batch.insert_new(keys::node_tile(level, tile), new_bytes),
                // Filled by this batch: written whole as one key, its runs
                // removed, so that reads of full tiles take one key.
                Some(stored) if total as u64 == 32 * keys::NODE_TILE_WIDTH => {
                    let mut whole = stored.bytes.to_vec();
                    whole.extend_from_slice(&new_bytes);
                    batch.insert(keys::node_tile(level, tile), whole);
                    for run_key in stored.run_keys {
                        batch.remove(run_key.to_vec());
                    }
                }
                // Still filling: only the new hashes, as a run after the
                // stored ones, rather than the tile rewritten.
                Some(_) => {
                    let start = u16::try_from(held).expect("a tile holds at most 256 hashes");
                    batch.insert_new(keys::node_tile_run(level, tile, start), new_bytes);
                }
            }
        }
        for (key, seqs) in self.postings {
            let mut blob = tree.get(&key)?.map(|v| v.to_vec()).unwrap_or_default();
            if blob.len() % 8 != 0 {
                return Err(StoreError::damaged(format!(
                    "an index bucket holds {} bytes, not whole seqs (run `feeledger rebuild`)",
                    blob.len()
                )));
            }
            for seq in seqs {
                blob.extend_from_slice(&seq.to_be_bytes());
            }
            batch.insert(key, blob);
        }
        for (key, total) in self.totals {
            batch.insert(key, serde_json::to_vec(&total).expect("a tuple serializes"));
        }
        Ok(())
    }
}

/// The values each entry is indexed under: (tag, value).
pub(crate) fn index_values(leaf: &Leaf) -> Vec<(u8, String)> {
    let mut out = vec![
        (keys::IDX_KIND, leaf.body.kind().as_str().to_string()),
        (keys::IDX_MONTH, leaf.body.date.month().to_string()),
    ];
    match &leaf.body.content {
        Content::Income(i) => {
            out.push((keys::IDX_FUND, i.fund.clone()));
            out.push((keys::IDX_CATEGORY, i.category.as_str().to_string()));
            out.push((keys::IDX_PARTY, i.payer.clone()));
        }
        Content::Expenditure(e) => {
            out.push((keys::IDX_FUND, e.fund.clone()));
            out.push((keys::IDX_CATEGORY, e.category.as_str().to_string()));
            out.push((keys::IDX_PARTY, e.payee.clone()));
        }
        Content::Transfer(t) => {
            out.push((keys::IDX_FUND, t.from_fund.clone()));
            out.push((keys::IDX_FUND, t.to_fund.clone()));
            out.push((
                keys::IDX_CATEGORY,
                feeledger_core::state::TRANSFER_CATEGORY.to_string(),
            ));
        }
        _ => {}
    }
    out
}

fn write_state_and_checkpoint(
    batch: &mut WriteSet,
    state: &LedgerState,
    frontier: &Frontier,
    log_signer: &NoteSigner,
) -> Result<(), StoreError> {
    assert_eq!(
        state.size(),
        frontier.size(),
        "state and tree advance together"
    );
    batch.insert(
        keys::STATE,
        serde_json::to_vec(state.snapshot()).expect("snapshot serializes"),
    );
    let checkpoint = Checkpoint {
        origin: state.origin().to_string(),
        size: frontier.size(),
        root: frontier.root(),
        extensions: vec![],
    };
    let note = sign_checkpoint(&checkpoint, log_signer).map_err(StoreError::Signing)?;
    batch.insert_new(keys::checkpoint(frontier.size()), note.to_bytes());
    batch.insert(
        keys::LATEST_CHECKPOINT,
        frontier.size().to_be_bytes().to_vec(),
    );
    Ok(())
}

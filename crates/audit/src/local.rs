//! The audit of a data directory: the replay of every leaf, and every key
//! the store derives from the leaves, checked as the replay reaches it.

use crate::bodies::{BodyIdsSeen, SeenBodies};
use crate::replay::{AppliedLinks, Audit, Cause, CheckpointReport, Failure, Postings};
use crate::Progress;
use feeledger_core::entry::Leaf;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::NodeId;
use feeledger_core::note::open_checkpoint;
use feeledger_store::{IndexBucket, NodeTileFault, NodeTiles, Store};
use std::collections::BTreeMap;

/// Audits a data directory: everything [`Audit`] checks (every leaf, the
/// chain, signatures, rules, balances, the signed root), and every key the
/// store derives from the leaves: each Merkle node tile, each index bucket,
/// each body id and reversal link, the totals and the state snapshot. The
/// failure names the damaged key.
///
/// `audit` is made by the caller (with the trusted log key, if any, and the
/// size of `saved_checkpoint`), so that it can report what was checked
/// whichever way this ends. `progress` is told after each chunk of entries.
/// Memory stays bounded whatever the ledger's size: one chunk of leaves
/// and hashes, one node tile per level, the open index buckets, and a
/// filter of two to four bytes an entry ([`crate::bodies`]).
///
/// # Errors
///
/// The first [`Failure`] found, naming the entry or the damaged key. A
/// store that cannot be read is a failure too (`reading the store: ...`).
///
/// # Panics
/// Never for a store's contents: the genesis is applied before the
/// state is asked for, and the keys' lock is poisoned only if a thread of
/// this audit panicked already.
pub fn audit_store(
    store: &Store,
    audit: &mut Audit,
    saved_checkpoint: Option<&[u8]>,
    progress: &mut dyn FnMut(Progress),
) -> Result<CheckpointReport, Failure> {
    let size = store.size();
    let mut report_progress = |entries_checked: u64| {
        progress(Progress {
            entries_checked,
            entries_total: size,
        })
    };
    audit.collect_derived();
    audit.use_body_index();
    audit.prove_earlier_leaves();
    let mut tiles = store.node_tiles(size);
    let mut postings = PostingCheck::default();
    let mut fetch = StoreEarlier {
        store,
        seen: SeenBodies::for_entries(size),
        body_ids: BodyIdsSeen::new(),
        always_look_up: false,
    };
    // Genesis first: it defines the keys the other entries are checked
    // against.
    let mut leaves = store.iter_leaves(0);
    let Some(first) = leaves.next() else {
        return Err(Failure::of(Cause::EmptyLedger));
    };
    let (seq, bytes) = first.map_err(io)?;
    let stored = tiles
        .stored(NodeId {
            level: 0,
            index: seq,
        })
        .ok();
    audit
        .push_chunk(vec![(seq, bytes, stored)], &mut fetch)
        .map_err(|f| explain_leaf_hash_mismatch(store, f))?;
    let mut derived_check = |audit: &mut Audit,
                             tiles: &mut NodeTiles,
                             earlier: &mut StoreEarlier|
     -> Result<(), Failure> {
        let derived = audit.take_derived(false);
        for (id, hash) in derived.nodes {
            tiles.check(id, hash).map_err(tile_fault)?;
        }
        check_entry_links(earlier, &derived.applied)?;
        postings.check(store, derived.postings)?;
        report_progress(audit.size());
        Ok(())
    };
    derived_check(audit, &mut tiles, &mut fetch)?;
    // One thread reads chunks from sled, another decodes them and checks
    // their signatures (on every core), while this one applies the last and
    // checks what the store derived from it. The decoder checks signatures
    // against the keys as of the last chunk applied; after a governance
    // change the audit verifies the stale ones again itself.
    let keys = std::sync::Mutex::new(std::sync::Arc::new(
        audit.state().expect("genesis applied").clone(),
    ));
    let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, Vec<u8>)>, Failure>>(1);
    let (ready, decoded) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        let keys = &keys;
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(crate::replay::AUDIT_CHUNK);
            // The entries read before a failure are audited first, so that
            // damage among them is named before the failure is. An error
            // from `send` means the audit stopped at a failure.
            let send = |chunk: Vec<(u64, Vec<u8>)>| raw_tx.send(Ok(chunk)).is_ok();
            for item in leaves {
                let failure = match item {
                    Ok((seq, _)) if seq >= size => Failure::at_entry(seq, Cause::BeyondHead),
                    Ok(leaf) => {
                        chunk.push(leaf);
                        if chunk.len() == crate::replay::AUDIT_CHUNK
                            && !send(std::mem::take(&mut chunk))
                        {
                            return;
                        }
                        continue;
                    }
                    Err(e) => io(e),
                };
                if chunk.is_empty() || send(chunk) {
                    let _ = raw_tx.send(Err(failure));
                }
                return;
            }
            if !chunk.is_empty() {
                send(chunk);
            }
        });
        scope.spawn(move || {
            for raw in raw_rx {
                let decoded = raw.map(|chunk| {
                    let state = keys.lock().expect("keys lock").clone();
                    Audit::decode_chunk(&state, chunk)
                });
                let stop = decoded.is_err();
                if ready.send(decoded).is_err() || stop {
                    return;
                }
            }
        });
        for chunk in decoded {
            push_checked_against_stored(store, audit, &mut tiles, &mut fetch, chunk?)?;
            derived_check(audit, &mut tiles, &mut fetch)?;
            let state = audit.state().expect("genesis applied");
            let mut shared = keys.lock().expect("keys lock");
            if shared.roles_version() != state.roles_version() {
                *shared = std::sync::Arc::new(state.clone());
            }
        }
        Ok::<(), Failure>(())
    })?;
    if audit.size() != size {
        return Err(Failure::at_entry(
            audit.size(),
            Cause::MissingBeforeHead {
                expected: audit.size(),
                head_size: size,
            },
        ));
    }
    fetch.body_ids.check_index(store)?;
    let derived = audit.take_derived(true);
    postings.check(store, derived.postings)?;
    let replayer = audit
        .replayer()
        .ok_or_else(|| Failure::of(Cause::EmptyLedger))?;
    store.check_no_node_tiles_beyond(size).map_err(tile_fault)?;
    check_snapshot(replayer.state.snapshot(), store.state().snapshot())?;
    check_totals(store, &replayer.totals)?;
    check_all_time_totals(store, &replayer.totals)?;
    postings.finish(store)?;
    check_link_counts(store, derived.reversals)?;
    let checkpoint = store.latest_checkpoint().map_err(io)?;
    // Witness keys are not in the log: the store records those the
    // operator registered (`add-witness`).
    let witnesses = store.witnesses().map_err(io)?;
    let report = audit.check_checkpoint(&checkpoint, &witnesses)?;
    if let Some(saved) = saved_checkpoint {
        let (saved, _, _) = open_checkpoint(saved, replayer.state.log_key(), &[])
            .map_err(|e| Failure::of(Cause::SavedCheckpointSignature(e)))?;
        audit.check_saved(&saved)?;
    }
    Ok(report)
}

/// Where a resumed audit starts: the state and tree after the entries a
/// recorded audit verified, once the record is found to agree with the
/// store (see [`resume_point`]).
pub struct ResumePoint {
    state: feeledger_core::state::LedgerState,
    frontier: feeledger_core::merkle::Frontier,
}

impl ResumePoint {
    /// The entries already verified.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }
}

/// Checks a record of an earlier audit against the store: the tree's root
/// at the recorded size (from the stored node tiles) is the recorded one,
/// a consistency proof from it to the store's current root verifies (the
/// head check tied that root to the signed checkpoint), and the recorded
/// state is at that size with that head. `Err` says why the record cannot
/// be used; the caller then audits from genesis.
///
/// # Errors
/// A sentence saying why the record does not fit the store.
pub fn resume_point(
    store: &Store,
    record: &feeledger_store::AuditedRecord,
) -> Result<ResumePoint, String> {
    use feeledger_core::merkle::{peak_ids, verify_consistency, Frontier};
    let size = store.size();
    let at = record.size;
    if at == 0 || at > size {
        return Err(format!("it is of size {at}, the ledger has {size} entries"));
    }
    let recorded_root =
        Hash::from_hex(&record.root).map_err(|e| format!("its root does not parse: {e}"))?;
    let mut tiles = store.node_tiles(size);
    let peaks = peak_ids(at)
        .into_iter()
        .map(|id| tiles.stored(id).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let frontier = Frontier::from_peaks(at, peaks).map_err(|e| e.to_string())?;
    if frontier.root() != recorded_root {
        return Err(format!(
            "the tree's root at size {at} is {}, the record says {recorded_root}",
            frontier.root()
        ));
    }
    let proof = store
        .consistency_proof(at, size)
        .map_err(|e| e.to_string())?;
    if at < size {
        verify_consistency(at, size, &proof, &recorded_root, &store.root()).map_err(|e| {
            format!(
                "the tree at size {at} is not consistent with the signed tree of size {size}: {e}"
            )
        })?;
    }
    let state = feeledger_core::state::LedgerState::from_snapshot(record.snapshot.clone())
        .map_err(|e| format!("its state is invalid: {e}"))?;
    let head = store
        .leaf_bytes(at - 1)
        .map_err(|e| e.to_string())?
        .map(|bytes| feeledger_core::hash::leaf_hash(&bytes));
    if state.size() != at || head != Some(state.head()) {
        return Err(format!("its state is not the state after entry {}", at - 1));
    }
    Ok(ResumePoint { state, frontier })
}

/// Audits the entries after a [`ResumePoint`]: each later leaf (chain,
/// signatures, rules, balances, its place in the tree), the node tiles
/// and reversal links they complete, the state snapshot, and the latest
/// checkpoint against the replayed root. Index buckets, totals and the
/// body-id index are checked by the full audit only ([`audit_store`]).
/// Returns the audit, whose size and root are the store's.
///
/// # Errors
/// The first [`Failure`] among the later entries.
///
/// # Panics
/// Never: a resumed audit starts with a state.
pub fn audit_store_resumed(
    store: &Store,
    from: ResumePoint,
    progress: &mut dyn FnMut(Progress),
) -> Result<Audit, Failure> {
    let size = store.size();
    let mut audit = Audit::resume(from.state, from.frontier);
    let mut tiles = store.node_tiles(size);
    let mut fetch = StoreEarlier {
        store,
        seen: SeenBodies::for_entries(0),
        body_ids: BodyIdsSeen::new(),
        always_look_up: true,
    };
    progress(Progress {
        entries_checked: audit.size(),
        entries_total: size,
    });
    let mut chunk = Vec::with_capacity(crate::replay::AUDIT_CHUNK);
    let mut leaves = store.iter_leaves(audit.size()).peekable();
    while leaves.peek().is_some() {
        chunk.clear();
        for item in leaves.by_ref() {
            let (seq, bytes) = item.map_err(io)?;
            if seq >= size {
                return Err(Failure::at_entry(seq, Cause::BeyondHead));
            }
            chunk.push((seq, bytes));
            if chunk.len() == crate::replay::AUDIT_CHUNK {
                break;
            }
        }
        let state = audit.state().expect("resumed with a state").clone();
        let decoded = Audit::decode_chunk(&state, std::mem::take(&mut chunk));
        push_checked_against_stored(store, &mut audit, &mut tiles, &mut fetch, decoded)?;
        let derived = audit.take_derived(false);
        for (id, hash) in derived.nodes {
            tiles.check(id, hash).map_err(tile_fault)?;
        }
        check_entry_links(&mut fetch, &derived.applied)?;
        progress(Progress {
            entries_checked: audit.size(),
            entries_total: size,
        });
    }
    if audit.size() != size {
        return Err(Failure::at_entry(
            audit.size(),
            Cause::MissingBeforeHead {
                expected: audit.size(),
                head_size: size,
            },
        ));
    }
    let replayer = audit
        .replayer()
        .ok_or_else(|| Failure::of(Cause::EmptyLedger))?;
    store.check_no_node_tiles_beyond(size).map_err(tile_fault)?;
    check_snapshot(replayer.state.snapshot(), store.state().snapshot())?;
    let checkpoint = store.latest_checkpoint().map_err(io)?;
    let witnesses = store.witnesses().map_err(io)?;
    audit.check_checkpoint(&checkpoint, &witnesses)?;
    Ok(audit)
}

/// Pushes one decoded chunk, each leaf beside the store's own record of
/// its hash (when it can be read; a missing or short tile is named by the
/// node check), so a leaf that differs from it is explained.
fn push_checked_against_stored(
    store: &Store,
    audit: &mut Audit,
    tiles: &mut feeledger_store::NodeTiles<'_>,
    fetch: &mut StoreEarlier,
    mut chunk: crate::replay::DecodedChunk,
) -> Result<(), Failure> {
    chunk.set_stored_hashes(|seq| {
        tiles
            .stored(NodeId {
                level: 0,
                index: seq,
            })
            .ok()
    });
    audit
        .push_decoded(chunk, fetch)
        .map_err(|f| explain_leaf_hash_mismatch(store, f))
}

fn io(e: feeledger_store::StoreError) -> Failure {
    Failure::of(e)
}

/// A node tile's fault as the audit reports it; the store names the tile.
fn tile_fault(fault: NodeTileFault) -> Failure {
    Failure::of(fault)
}

/// A key the store derives from the leaves that disagrees with them.
fn derived(what: String) -> Failure {
    Failure::of(Cause::DerivedData(what))
}

/// A leaf whose bytes disagree with the tree's record of its hash: either
/// the leaf or the node tile is damaged. The next entry's link (or, for the
/// head, the state's head) is a third record that tells which.
fn explain_leaf_hash_mismatch(store: &Store, failure: Failure) -> Failure {
    let (Some(seq), Cause::LeafHashMismatch { computed, recorded }) =
        (failure.seq, &*failure.cause)
    else {
        return failure;
    };
    let (computed, recorded) = (*computed, *recorded);
    let (linked, by) = match store.leaf_bytes(seq + 1) {
        Ok(Some(next)) => (
            Leaf::decode(&next).ok().map(|l| l.prev),
            format!("entry {} links to it", seq + 1),
        ),
        _ => (
            (seq + 1 == store.size()).then(|| store.state().head()),
            "the recorded head is its hash".to_string(),
        ),
    };
    if linked == Some(computed) {
        Failure::of(Cause::LeafHashRecordDamaged {
            tile: feeledger_store::node_tile_name(NodeId {
                level: 0,
                index: seq,
            }),
            seq,
            vouched_by: by,
        })
    } else {
        Failure::at_entry(
            seq,
            Cause::LeafDamaged {
                seq,
                computed,
                recorded,
                next_links_to_recorded: linked == Some(recorded),
            },
        )
    }
}

/// Earlier entries, and the body id index, read from the store under audit.
/// The index is read only for a body the filter may have seen before (a
/// replay, or rarely by chance); every applied entry's body id is kept for
/// the merge with the whole index after the replay ([`crate::bodies`]).
struct StoreEarlier<'a> {
    store: &'a Store,
    seen: SeenBodies,
    body_ids: BodyIdsSeen,
    /// Look every body up in the index (a resumed audit, whose filter
    /// never saw the bodies before its starting point).
    always_look_up: bool,
}

impl crate::replay::Earlier for StoreEarlier<'_> {
    fn leaf(&mut self, seq: u64) -> Option<Vec<u8>> {
        self.store.leaf_bytes(seq).ok().flatten()
    }

    fn seq_of_body(&mut self, body_id: &Hash) -> Option<u64> {
        if !self.always_look_up && !self.seen.may_contain(body_id) {
            return None;
        }
        // A damaged record is named by the merge with the index.
        self.store.seq_of_body(body_id).ok().flatten()
    }

    fn applied(&mut self, _seq: u64, body_id: &Hash) {
        self.seen.insert(body_id);
    }

    fn inclusion_proof(&mut self, seq: u64, size: u64) -> Option<Vec<Hash>> {
        // Damaged nodes fail the proof; the node check names them.
        self.store.inclusion_proof(seq, size).ok()
    }
}

/// The reversal records of entries just applied; their body ids are kept
/// for the merge with the body id index after the replay.
fn check_entry_links(earlier: &mut StoreEarlier, applied: &[AppliedLinks]) -> Result<(), Failure> {
    let store = earlier.store;
    for &(seq, body_id, reverses) in applied {
        earlier.body_ids.push(&body_id, seq)?;
        if let Some(target) = reverses {
            let wrong = |what: String| {
                Err(Failure::at_entry(
                    seq,
                    Cause::DerivedData(format!("the reversal index {what}")),
                ))
            };
            match store.reversed_by(target) {
                Ok(Some(s)) if s == seq => {}
                Ok(Some(s)) => {
                    return wrong(format!(
                        "says entry {target} is reversed by entry {s}, not by entry {seq}"
                    ))
                }
                Ok(None) => {
                    return wrong(format!(
                        "is missing entry {seq} (the reversal of entry {target})"
                    ))
                }
                Err(e) => return wrong(format!("record of entry {target} is damaged: {e}")),
            }
        }
    }
    Ok(())
}

/// The stored state snapshot against the replayed one, naming the part
/// that differs.
fn check_snapshot(
    recomputed: &feeledger_core::state::StateSnapshot,
    stored: &feeledger_core::state::StateSnapshot,
) -> Result<(), Failure> {
    let differs = |what: &str, s: String, r: String| {
        Err(derived(format!(
            "the state snapshot's {what} differ from the recomputed ones: stored {s}, recomputed {r}"
        )))
    };
    if stored.balances != recomputed.balances {
        return differs(
            "balances",
            format!("{:?}", stored.balances),
            format!("{:?}", recomputed.balances),
        );
    }
    if stored.head != recomputed.head || stored.size != recomputed.size {
        return differs(
            "size and head",
            format!("{} {}", stored.size, stored.head),
            format!("{} {}", recomputed.size, recomputed.head),
        );
    }
    if stored.last_time_ms != recomputed.last_time_ms {
        return differs(
            "last recorded time",
            stored.last_time_ms.to_string(),
            recomputed.last_time_ms.to_string(),
        );
    }
    if stored != recomputed {
        return Err(derived(
            "the state snapshot's origin, genesis, roles or rules differ from the recomputed ones"
                .into(),
        ));
    }
    Ok(())
}

/// Every stored totals value against the replayed totals.
fn check_totals(store: &Store, totals: &feeledger_core::state::Totals) -> Result<(), Failure> {
    type Key = (String, String, String);
    let mut stored: BTreeMap<Key, (i128, i128)> = BTreeMap::new();
    for item in store.stored_totals() {
        let t = item.map_err(io)?;
        let value = t.fen.map_err(|e| {
            derived(format!(
                "totals of {} (fund {}, category {}) do not parse: {e}",
                t.month, t.fund, t.category
            ))
        })?;
        stored.insert((t.month, t.fund, t.category), value);
    }
    let recomputed: BTreeMap<Key, (i128, i128)> = totals
        .by_month
        .iter()
        .map(|((m, f, c), v)| ((m.to_string(), f.clone(), c.clone()), *v))
        .collect();
    let keys: std::collections::BTreeSet<&Key> = stored.keys().chain(recomputed.keys()).collect();
    for key in keys {
        let (month, fund, category) = key;
        let name = format!("totals of {month} (fund {fund}, category {category})");
        let show = |v: &(i128, i128)| format!("income {} fen, spending {} fen", v.0, v.1);
        match (stored.get(key), recomputed.get(key)) {
            (Some(s), Some(r)) if s == r => {}
            (Some(s), Some(r)) => {
                return Err(derived(format!(
                    "{name} differ: stored {}, recomputed {}",
                    show(s),
                    show(r)
                )))
            }
            (None, Some(r)) => {
                return Err(derived(format!(
                    "{name} are missing: recomputed {}",
                    show(r)
                )))
            }
            (Some(s), None) => {
                return Err(derived(format!(
                    "{name} are stored ({}) but no entry gives them",
                    show(s)
                )))
            }
            (None, None) => unreachable!("the key came from one of the maps"),
        }
    }
    Ok(())
}

/// The all-time totals (`A`), which the store keeps beside the month
/// totals so that a summary without a month reads a few keys: each must be
/// the sum of its fund's and category's months, recomputed from the leaves.
fn check_all_time_totals(
    store: &Store,
    totals: &feeledger_core::state::Totals,
) -> Result<(), Failure> {
    let mut stored: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for item in store.stored_all_time_totals() {
        let t = item.map_err(io)?;
        let value = t.fen.map_err(|e| {
            derived(format!(
                "all-time totals (fund {}, category {}) do not parse: {e}",
                t.fund, t.category
            ))
        })?;
        stored.insert((t.fund, t.category), value);
    }
    let mut recomputed: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for ((_, fund, category), (income, spending)) in &totals.by_month {
        let sum = recomputed
            .entry((fund.clone(), category.clone()))
            .or_insert((0, 0));
        sum.0 = sum
            .0
            .checked_add(*income)
            .ok_or_else(|| derived("all-time income overflows".into()))?;
        sum.1 = sum
            .1
            .checked_add(*spending)
            .ok_or_else(|| derived("all-time spending overflows".into()))?;
    }
    if stored != recomputed {
        let differing = stored
            .keys()
            .chain(recomputed.keys())
            .find(|k| stored.get(*k) != recomputed.get(*k))
            .cloned();
        if let Some((fund, category)) = differing {
            let show = |v: Option<&(i128, i128)>| {
                v.map_or("none".to_string(), |v| {
                    format!("income {} fen, spending {} fen", v.0, v.1)
                })
            };
            let key = (fund.clone(), category.clone());
            return Err(derived(format!(
                "all-time totals (fund {fund}, category {category}) differ: stored {}, recomputed {}",
                show(stored.get(&key)),
                show(recomputed.get(&key))
            )));
        }
    }
    Ok(())
}

/// Index buckets, compared as they complete: each one the leaves give must
/// be stored exactly; at the end, no other may be. Memory stays small: the
/// audit hands over each bucket once entries have moved past it.
#[derive(Default)]
struct PostingCheck {
    /// Buckets the leaves give, all found and equal so far.
    buckets: u64,
}

/// A stored bucket's seqs, or what is wrong with it (named `name`).
fn posting_seqs(name: &str, stored: IndexBucket) -> Result<Vec<u64>, Failure> {
    stored.seqs.map_err(|bad| {
        derived(format!(
            "{name} is truncated: {} bytes, not a whole number of seqs",
            bad.bytes
        ))
    })
}

impl PostingCheck {
    fn check(&mut self, store: &Store, postings: Postings) -> Result<(), Failure> {
        for ((bucket, index, value), want) in postings {
            self.buckets += 1;
            let name = format!("index {index}={value} bucket {bucket}");
            let Some(stored) = store.index_bucket(index, &value, bucket).map_err(io)? else {
                return Err(derived(format!(
                    "{name} is missing (it should list {} entries from entry {})",
                    want.len(),
                    want[0]
                )));
            };
            let seqs = posting_seqs(&name, stored)?;
            if seqs != want {
                if let Some(missing) = want.iter().find(|s| !seqs.contains(s)) {
                    return Err(derived(format!("{name} is missing entry {missing}")));
                }
                if let Some(extra) = seqs.iter().find(|s| !want.contains(s)) {
                    return Err(derived(format!(
                        "{name} lists entry {extra}, which is not a {index}={value} entry"
                    )));
                }
                return Err(derived(format!(
                    "{name} lists its entries out of order or twice"
                )));
            }
        }
        Ok(())
    }

    /// No stored bucket beyond those the leaves give; if there is one,
    /// names it.
    fn finish(&self, store: &Store) -> Result<(), Failure> {
        let mut count = 0u64;
        for item in store.index_buckets() {
            item.map_err(io)?;
            count += 1;
        }
        if count == self.buckets {
            return Ok(());
        }
        for item in store.index_buckets() {
            let stored = item.map_err(io)?;
            let (index, value, bucket) = (stored.index, stored.value.clone(), stored.bucket);
            let name = format!("index {index}={value} bucket {bucket}");
            let seqs = posting_seqs(&name, stored)?;
            let Some(&first) = seqs.first() else {
                return Err(derived(format!("{name} is stored but lists no entries")));
            };
            let belongs = feeledger_store::posting_bucket(first) == bucket
                && store
                    .leaf_bytes(first)
                    .ok()
                    .flatten()
                    .and_then(|bytes| Leaf::decode(&bytes).ok())
                    .is_some_and(|leaf| {
                        Store::index_values_of(&leaf)
                            .iter()
                            .any(|(i, v)| *i == index && *v == value)
                    });
            if !belongs {
                return Err(derived(format!(
                    "{name} lists entry {first}, which is not a {index}={value} entry"
                )));
            }
        }
        Err(derived(format!(
            "the indexes hold {count} buckets; the entries give {}",
            self.buckets
        )))
    }
}

/// There are as many reversal records as reversals (each reversal's was
/// checked during the replay); if not, names the record that belongs to no
/// reversal. (The body id index is checked whole by the merge.)
fn check_link_counts(store: &Store, reversals: u64) -> Result<(), Failure> {
    let leaf = |seq: u64| -> Option<Leaf> { Leaf::decode(&store.leaf_bytes(seq).ok()??).ok() };
    let count = store.reversal_links().count() as u64;
    if count != reversals {
        for item in store.reversal_links() {
            let (target, seq) = item.map_err(io)?;
            let seq = seq.ok();
            let reverses = seq.and_then(leaf).and_then(|leaf| match leaf.body.content {
                feeledger_core::entry::Content::Reversal(r) => Some(r.target_seq),
                _ => None,
            });
            if reverses != Some(target) {
                return Err(derived(format!(
                    "the reversal index says entry {target} is reversed by entry {}, which does not reverse it",
                    seq.map_or("(damaged)".to_string(), |s| s.to_string())
                )));
            }
        }
        return Err(derived(format!(
            "the reversal index holds {count} records for {reversals} reversals"
        )));
    }
    Ok(())
}

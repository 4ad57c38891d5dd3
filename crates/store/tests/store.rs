//! The store's own guarantees, on a real sled directory:
//! - I/O faults injected at each step of an append, of a proposal and of a
//!   cosignature (feature `faults`, enabled for this crate's tests): the
//!   write returns an error, the ledger is as it was (also after reopening
//!   the directory), and the next write works, both for a store in its own
//!   directory and for one in a tree of a `Db` shared with another ledger;
//! - bounds: pending proposals, and the lines a checkpoint may carry;
//! - opening after a crash left a sled snapshot unfinished;
//! - the bench's sled floor writes exactly a store's leaf and body-id
//!   records.

use ed25519_dalek::SigningKey;
use feeledger_core::entry::{
    Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, Governance, Role, RoleDef,
    Roles,
};
use feeledger_core::fixtures;
use feeledger_core::hash::Hash;
use feeledger_core::note::{cosign, KeyAlg, NoteSigner};
use feeledger_core::state::ApplyError;
use feeledger_store::{
    Backing, FaultPoint, ProposalOutcome, Store, StoreError, StoreOptions, Submission, WitnessError,
};
use std::path::{Path, PathBuf};

const ORIGIN: &str = "faults.example/ledger";

fn key(seed: u8) -> SigningKey {
    fixtures::seeded_key(seed)
}

fn log_signer() -> NoteSigner {
    fixtures::log_signer(ORIGIN)
}

fn sign(body: &Body, name: &str, seed: u8) -> EntrySignature {
    fixtures::sign_with(body, &[(name, seed)]).remove(0)
}

fn genesis() -> Vec<u8> {
    fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "故障小区")]).remove(0)
}

fn income(nonce: &str) -> Submission {
    let (body, signatures) = fixtures::property_fee(ORIGIN, nonce);
    Submission { body, signatures }
}

/// Everything a reader can see, to compare before and after a fault.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    size: u64,
    root: Hash,
    checkpoint: Vec<u8>,
    balances: Vec<(String, u64)>,
    proposals: usize,
    next_leaf: Option<Vec<u8>>,
}

fn seen(store: &Store) -> Seen {
    let size = store.size();
    Seen {
        size,
        root: store.root(),
        checkpoint: store.latest_checkpoint().unwrap(),
        balances: store.state().balances().clone().into_iter().collect(),
        proposals: store.proposals(10).unwrap().len(),
        next_leaf: store.leaf_bytes(size).unwrap(),
    }
}

fn ledger(dir: &Path) -> Store {
    let store = Store::create(dir, &genesis(), &log_signer()).unwrap();
    let batch = (0..3).map(|i| income(&format!("setup-{i}"))).collect();
    for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
        r.unwrap();
    }
    store
}

/// Where a store under test lives: its own data directory, or a tree of a
/// `Db` it shares with another ledger (which must come through unchanged).
#[derive(Debug, Clone, Copy)]
enum Place {
    OwnDirectory,
    SharedTree,
}

const PLACES: [Place; 2] = [Place::OwnDirectory, Place::SharedTree];

/// A test ledger in its place. Reopening it drops everything, the shared
/// `Db` too, and opens it again from the directory, as a restart does.
struct Placed {
    place: Place,
    path: PathBuf,
    db: Option<sled::Db>,
}

impl Placed {
    /// A ledger of a genesis and three incomes in `place` under `root`;
    /// in a shared `Db`, a neighbour ledger sits in another tree.
    fn ledger(place: Place, root: &Path) -> (Placed, Store) {
        let path = root.join("ledger");
        let db = match place {
            Place::OwnDirectory => None,
            Place::SharedTree => {
                let db = feeledger_store::open_shared_db(&path, 1 << 20).unwrap();
                let neighbour = Store::create_with(
                    db.open_tree("neighbour").unwrap(),
                    &genesis(),
                    &log_signer(),
                    &StoreOptions::default(),
                )
                .unwrap();
                neighbour
                    .append_batch(vec![income("neighbour")], 5, &log_signer())
                    .unwrap()[0]
                    .as_ref()
                    .unwrap();
                Some(db)
            }
        };
        let placed = Placed { place, path, db };
        let store = Store::create_with(
            placed.backing(),
            &genesis(),
            &log_signer(),
            &StoreOptions::default(),
        )
        .unwrap();
        let batch = (0..3).map(|i| income(&format!("setup-{i}"))).collect();
        for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
            r.unwrap();
        }
        (placed, store)
    }

    fn backing(&self) -> Backing {
        match &self.db {
            None => Backing::Directory(self.path.clone()),
            Some(db) => Backing::Tree(db.open_tree("under-test").unwrap()),
        }
    }

    /// Closes `store` (and a shared `Db`) and opens the ledger again,
    /// which runs `open`'s checks; in a shared `Db`, the neighbour ledger
    /// opens too, with its one income.
    fn reopen(&mut self, store: Store) -> Store {
        drop(store);
        if self.db.take().is_some() {
            let db = feeledger_store::open_shared_db(&self.path, 1 << 20).unwrap();
            let neighbour =
                Store::open_with(db.open_tree("neighbour").unwrap(), &StoreOptions::default())
                    .unwrap();
            assert_eq!(
                neighbour.size(),
                2,
                "{:?}: the neighbour changed",
                self.place
            );
            drop(neighbour);
            self.db = Some(db);
        }
        Store::open_with(self.backing(), &StoreOptions::default()).unwrap()
    }
}

fn is_injected(e: &StoreError) -> bool {
    e.to_string().contains("injected fault")
}

/// Proves that a fault at any step of an append fails the append, leaves
/// every readable thing as it was (in memory and after reopening), and that
/// the same entry then appends (so nothing of the failed one was kept, not
/// even its body id); in its own directory and in a shared `Db`'s tree,
/// where the neighbour ledger is left as it was.
#[test]
fn append_survives_a_fault_at_every_step() {
    let steps = [
        FaultPoint::ReadLookups,
        FaultPoint::ReadDerived,
        FaultPoint::SignCheckpoint,
        FaultPoint::WriteBatch,
        FaultPoint::Flush,
    ];
    for (place, step) in PLACES.iter().flat_map(|&p| steps.map(|s| (p, s))) {
        let dir = tempfile::tempdir().unwrap();
        let (mut placed, store) = Placed::ledger(place, dir.path());
        let before = seen(&store);
        store.inject_fault(step);
        let err = store
            .append_batch(vec![income("after")], 20, &log_signer())
            .unwrap_err();
        assert!(is_injected(&err), "{place:?} {step:?}: {err}");
        assert_eq!(
            seen(&store),
            before,
            "{place:?} {step:?}: the ledger changed in memory"
        );
        let store = placed.reopen(store);
        assert_eq!(
            seen(&store),
            before,
            "{place:?} {step:?}: the ledger changed on disk"
        );
        let results = store
            .append_batch(vec![income("after")], 30, &log_signer())
            .unwrap();
        assert_eq!(
            results[0].as_ref().unwrap().seq,
            before.size,
            "{place:?} {step:?}: the next append"
        );
    }
}

/// Proves the same for a proposal that stays pending and for one that
/// commits, in both places: a fault leaves no pending proposal and no
/// entry behind.
#[test]
fn proposals_survive_a_fault_at_every_step() {
    let steps = [
        FaultPoint::ReadLookups,
        FaultPoint::WriteBatch,
        FaultPoint::Flush,
    ];
    for (place, step) in PLACES.iter().flat_map(|&p| steps.map(|s| (p, s))) {
        let dir = tempfile::tempdir().unwrap();
        let (_placed, store) = Placed::ledger(place, dir.path());
        let body = Body {
            ledger: ORIGIN.into(),
            date: Date {
                year: 2026,
                month: 2,
                day: 9,
            },
            nonce: format!("spend-{step:?}"),
            content: Content::Expenditure(Expenditure {
                fund: "operating".into(),
                amount_fen: 5_000,
                category: ExpenseCategory::Cleaning,
                payee: "洁美保洁".into(),
                memo: String::new(),
                attachments: vec![],
                owners_approval: None,
            }),
        };
        let bytes = body.to_canonical_bytes();
        let before = seen(&store);
        store.inject_fault(step);
        let err = store
            .propose(&bytes, vec![sign(&body, "co", 1)], 20, &log_signer())
            .unwrap_err();
        assert!(is_injected(&err), "{step:?}: {err}");
        assert_eq!(
            seen(&store),
            before,
            "{step:?}: a pending proposal was left behind"
        );
        let pending = store
            .propose(&bytes, vec![sign(&body, "co", 1)], 21, &log_signer())
            .unwrap();
        let ProposalOutcome::Pending { id, .. } = pending else {
            panic!("expected pending")
        };
        let before = seen(&store);
        store.inject_fault(step);
        let err = store
            .add_signatures(&id, vec![sign(&body, "cm", 2)], 22, &log_signer())
            .unwrap_err();
        assert!(is_injected(&err), "{step:?}: {err}");
        assert_eq!(
            seen(&store),
            before,
            "{step:?}: the commit left something behind"
        );
        let committed = store
            .add_signatures(&id, vec![sign(&body, "cm", 2)], 23, &log_signer())
            .unwrap();
        assert!(
            matches!(committed, ProposalOutcome::Committed { .. }),
            "{step:?}"
        );
    }
}

/// Proves a fault while storing a cosignature leaves the checkpoint as it
/// was, and the cosignature can then be stored, in both places.
#[test]
fn cosignature_survives_a_fault() {
    let steps = [FaultPoint::WriteBatch, FaultPoint::Flush];
    for (place, step) in PLACES.iter().flat_map(|&p| steps.map(|s| (p, s))) {
        let dir = tempfile::tempdir().unwrap();
        let (_placed, store) = Placed::ledger(place, dir.path());
        let checkpoint = store.latest_checkpoint().unwrap();
        let note = feeledger_core::note::Note::parse(&checkpoint).unwrap();
        let cosigner = NoteSigner::new("cm", KeyAlg::CosignatureV1, key(2)).unwrap();
        let line = cosign(&note.text, 1_800_000_000, &cosigner).unwrap();
        store.inject_fault(step);
        let err = store
            .add_cosignature(store.size(), line.clone())
            .unwrap_err();
        assert!(is_injected(&err), "{step:?}: {err}");
        assert_eq!(store.latest_checkpoint().unwrap(), checkpoint, "{step:?}");
        assert_eq!(store.cosigned_size("cm").unwrap(), None, "{step:?}");
        let with = store.add_cosignature(store.size(), line).unwrap();
        assert_ne!(with, checkpoint);
        assert_eq!(store.cosigned_size("cm").unwrap(), Some(store.size()));
    }
}

/// Proves that when a flush fails and so does putting the old values back,
/// the store refuses every further write (it is poisoned) rather than build
/// on a state it cannot vouch for; reopened, it holds a consistent ledger
/// (the head check passes) with the entry either wholly there or absent.
/// In both places.
#[test]
fn a_failed_undo_poisons_the_store_until_reopened() {
    for place in PLACES {
        let dir = tempfile::tempdir().unwrap();
        let (mut placed, store) = Placed::ledger(place, dir.path());
        let before = store.size();
        store.inject_fault(FaultPoint::Flush);
        store.inject_fault(FaultPoint::FlushUndo);
        let err = store
            .append_batch(vec![income("doomed")], 20, &log_signer())
            .unwrap_err();
        assert!(matches!(err, StoreError::Poisoned), "{place:?}: {err}");
        let err = store
            .append_batch(vec![income("next")], 21, &log_signer())
            .unwrap_err();
        assert!(matches!(err, StoreError::Poisoned), "{place:?}: {err}");
        let store = placed.reopen(store);
        assert!(
            [before, before + 1].contains(&store.size()),
            "{place:?}: size {}",
            store.size()
        );
        let results = store
            .append_batch(vec![income("next")], 30, &log_signer())
            .unwrap();
        assert!(results[0].is_ok(), "{place:?}");
    }
}

fn lone_expenditure(nonce: &str) -> (Vec<u8>, Vec<EntrySignature>) {
    let body = Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 2,
            day: 9,
        },
        nonce: nonce.into(),
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: 100,
            category: ExpenseCategory::Cleaning,
            payee: "洁美保洁".into(),
            memo: String::new(),
            attachments: vec![],
            owners_approval: None,
        }),
    };
    let signatures = vec![sign(&body, "co", 1)];
    (body.to_canonical_bytes(), signatures)
}

// Proves that one key's pending proposals are bounded, and that proposals
// which have waited past their time stop counting: they can no longer be
// co-signed, and they are dropped when room is needed, so stale proposals
// cannot block new ones for ever.
#[test]
fn pending_proposals_are_bounded_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let limit = feeledger_store::PROPOSALS_PER_KEY_MAX;
    for i in 0..limit {
        let (bytes, sigs) = lone_expenditure(&format!("p{i}"));
        assert!(matches!(
            store.propose(&bytes, sigs, 1_000, &log_signer()).unwrap(),
            ProposalOutcome::Pending { .. }
        ));
    }
    let (bytes, sigs) = lone_expenditure("one-too-many");
    let err = store
        .propose(&bytes, sigs.clone(), 2_000, &log_signer())
        .unwrap_err();
    assert!(matches!(err, StoreError::TooManyProposals { .. }), "{err}");
    assert_eq!(store.proposals(1_000).unwrap().len(), limit);
    let later = 1_000 + feeledger_store::PROPOSAL_TTL_MS + 1;
    // An expired proposal can no longer be co-signed into the ledger.
    let (first, _) = lone_expenditure("p0");
    let first_body = Body::decode(&first).unwrap();
    let err = store
        .add_signatures(
            &feeledger_core::hash::sha256(&first),
            vec![sign(&first_body, "cm", 2)],
            later,
            &log_signer(),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NoProposal { .. }), "{err}");
    let outcome = store.propose(&bytes, sigs, later, &log_signer()).unwrap();
    assert!(matches!(outcome, ProposalOutcome::Pending { .. }));
    assert_eq!(
        store.proposals(1_000).unwrap().len(),
        1,
        "the expired proposals were dropped"
    );
}

// Proves a checkpoint never carries more signature lines than a note may
// hold: the cosignature past the limit is refused, and the store still
// opens (a note it wrote is always one it can read back).
#[test]
fn cosignatures_are_capped_at_what_a_note_may_hold() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = ledger(&path);
    let size = store.size();
    let note = feeledger_core::note::Note::parse(&store.latest_checkpoint().unwrap()).unwrap();
    let mut added = 0;
    let refused = loop {
        let cosigner =
            NoteSigner::new(&format!("w{added}.example"), KeyAlg::CosignatureV1, key(50)).unwrap();
        let line = cosign(&note.text, 1_800_000_000, &cosigner).unwrap();
        match store.add_cosignature(size, line) {
            Ok(_) => added += 1,
            Err(e) => break e,
        }
        assert!(added <= feeledger_core::note::NOTE_SIGNATURES_MAX, "no cap");
    };
    assert!(
        matches!(refused, StoreError::TooManyCosignatures { .. }),
        "{refused}"
    );
    assert_eq!(
        added + 1,
        feeledger_core::note::NOTE_SIGNATURES_MAX,
        "the log's line plus the cosignatures"
    );
    drop(store);
    Store::open(&path).expect("the store still opens");
}

// Proves that a reader never sees a checkpoint larger than the tree it can
// prove against: while a writer appends one entry per batch, readers take
// the latest checkpoint and ask for a consistency proof and an inclusion
// proof at its size. A batch's checkpoint lands in sled a moment before the
// batch is published; serving it early made these requests fail with
// "tree size N is beyond the log's N-1" under concurrent writers. Nor does
// a reader see a leaf before the checkpoint that proves it.
#[test]
fn readers_never_see_a_checkpoint_beyond_the_published_tree() {
    const BATCHES: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut checked = 0u64;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        let note =
                            feeledger_core::note::Note::parse(&store.latest_checkpoint().unwrap())
                                .unwrap();
                        let size: u64 = note.text.lines().nth(1).unwrap().parse().unwrap();
                        store
                            .consistency_proof(1, size)
                            .unwrap_or_else(|e| panic!("checkpoint {size}: {e}"));
                        store
                            .inclusion_proof(size - 1, size)
                            .unwrap_or_else(|e| panic!("checkpoint {size}: {e}"));
                        // The entry just past that checkpoint, if a reader
                        // can see it, is in a checkpoint that proves it (a
                        // receipt): no leaf is served before its batch is
                        // published.
                        if store.leaf_bytes(size).unwrap().is_some() {
                            let note = feeledger_core::note::Note::parse(
                                &store.latest_checkpoint().unwrap(),
                            )
                            .unwrap();
                            let newer: u64 = note.text.lines().nth(1).unwrap().parse().unwrap();
                            store
                                .inclusion_proof(size, newer)
                                .unwrap_or_else(|e| panic!("leaf {size} at {newer}: {e}"));
                        }
                        checked += 1;
                    }
                    checked
                })
            })
            .collect();
        for i in 0..BATCHES {
            let results = store
                .append_batch(vec![income(&format!("race-{i}"))], 40, &log_signer())
                .unwrap();
            for result in results {
                result.unwrap();
            }
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() > 0, "the reader ran");
        }
    });
    assert_eq!(store.size(), 4 + BATCHES as u64);
}

/// A governance entry that hands the company role from key "co" (seed 1)
/// to key "co2" (seed 3), signed by the company and the committee.
fn company_key_handover() -> Submission {
    let mut roles = Roles::new();
    for (role, name, seed) in [(Role::Company, "co2", 3), (Role::Committee, "cm", 2)] {
        roles.insert(
            role,
            RoleDef {
                threshold: 1,
                keys: vec![fixtures::key_def(name, seed)],
            },
        );
    }
    let body = Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 3,
            day: 1,
        },
        nonce: "handover".into(),
        content: Content::Governance(Governance {
            roles: Some(roles),
            rules: None,
            memo: "物业更换签名密钥".into(),
        }),
    };
    let signatures = vec![sign(&body, "cm", 2), sign(&body, "co", 1)];
    Submission { body, signatures }
}

// Proves that a batch prepared before a change of keys is judged by the
// keys in force when it commits, not by the ones it was prepared against:
// a bulk import prepares the next batch while the one before commits. An
// income signed by the retired key, whose signature checked out when it was
// prepared, is refused; one signed by the new key, which was unknown when
// it was prepared, commits.
#[test]
fn a_batch_prepared_before_a_key_change_is_judged_by_the_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let by_old_key = income("old-key");
    let mut by_new_key = income("new-key");
    by_new_key.signatures = vec![sign(&by_new_key.body, "co2", 3)];
    let prepared = store.prepare_batch(vec![by_old_key, by_new_key]);

    let results = store
        .append_batch(vec![company_key_handover()], 50, &log_signer())
        .unwrap();
    results
        .into_iter()
        .for_each(|r| assert!(r.is_ok(), "{r:?}"));

    let size = store.size();
    let results = store.append_prepared(prepared, 60, &log_signer()).unwrap();
    let refused = results[0].as_ref().unwrap_err().to_string();
    assert!(
        refused.contains("key \"co\" belongs to no role"),
        "{refused}"
    );
    let committed = results[1].as_ref().expect("signed by the key now in force");
    assert_eq!(committed.seq, size);
    assert_eq!(store.size(), size + 1);
}

/// Every proof and root the store serves, from the lowest levels in sled
/// and the upper ones in memory, equals one built from an in-memory tree
/// of its leaves: after batches that end inside and on the boundaries of
/// the in-memory levels (16 leaves and up), again after reopening, when the
/// in-memory levels are read back from sled, and from a store opened for a
/// scan, which reads every node from sled.
#[test]
fn proofs_agree_with_an_in_memory_tree_across_batches_and_reopening() {
    use feeledger_core::hash::leaf_hash;
    use feeledger_core::merkle::{self, MemoryTree};

    fn check_all_sizes(store: &Store, tree: &MemoryTree) {
        let size = store.size();
        assert_eq!(tree.size(), size);
        assert_eq!(store.root(), tree.root());
        for at in [
            1, 2, 7, 15, 16, 17, 63, 64, 65, 127, 128, 129, 511, 512, 513, 4_095, 4_096, 4_097,
            size,
        ]
        .into_iter()
        .filter(|&at| at <= size)
        {
            assert_eq!(
                store.root_at(at).unwrap(),
                merkle::tree_root(at, tree).unwrap()
            );
            for index in [0, at / 3, at / 2, at - 1] {
                assert_eq!(
                    store.inclusion_proof(index, at).unwrap(),
                    merkle::inclusion_proof(index, at, tree).unwrap(),
                    "inclusion of {index} at {at}"
                );
            }
            for old in [1, at / 2, at - 1].into_iter().filter(|&old| old >= 1) {
                assert_eq!(
                    store.consistency_proof(old, at).unwrap(),
                    merkle::consistency_proof(old, at, tree).unwrap(),
                    "consistency {old} to {at}"
                );
            }
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path(), &genesis(), &log_signer()).unwrap();
    let mut tree = MemoryTree::new();
    let mut nonce = 0;
    // Sizes after each batch: 1 (genesis), 9, 16, 17, 63, 64, 65, 130, 512,
    // 700, and 4,200, past the first node tile of level 4 (4,096 leaves).
    for batch_len in [8, 7, 1, 46, 1, 1, 65, 382, 188, 3_500] {
        let batch = (0..batch_len)
            .map(|_| {
                nonce += 1;
                income(&format!("proofs-{nonce}"))
            })
            .collect();
        for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
            r.unwrap();
        }
        while tree.size() < store.size() {
            let leaf = store.leaf_bytes(tree.size()).unwrap().unwrap();
            tree.push(leaf_hash(&leaf));
        }
        check_all_sizes(&store, &tree);
    }
    assert_eq!(store.size(), 4_200);
    store.close().unwrap();
    let store = Store::open(dir.path()).unwrap();
    check_all_sizes(&store, &tree);
    store.close().unwrap();
    let store = Store::open_for_scan(dir.path()).unwrap();
    check_all_sizes(&store, &tree);
}

/// Proves that later entries of one batch see the earlier ones, which are
/// not in sled yet: a body repeated within the batch is refused as a
/// replay of the first copy, a reversal of an entry staged earlier in the
/// batch is taken, and a second reversal of it is refused. The refused
/// ones change nothing; the batch commits the rest.
#[test]
fn entries_of_one_batch_see_the_earlier_ones() {
    use feeledger_core::entry::Reversal;
    use feeledger_core::state::ApplyError;

    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let first = store.size();
    let reversal = |nonce: &str| {
        let (mut body, _) = fixtures::property_fee(ORIGIN, nonce);
        body.content = Content::Reversal(Reversal {
            target_seq: first,
            reason: "recorded against the wrong unit".into(),
        });
        let signatures = fixtures::sign_with(&body, &[fixtures::COMPANY]);
        Submission { body, signatures }
    };
    let results = store
        .append_batch(
            vec![
                income("same-batch"),
                income("same-batch"),
                reversal("undo-1"),
                reversal("undo-2"),
            ],
            10,
            &log_signer(),
        )
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().seq, first);
    assert!(
        matches!(
            results[1],
            Err(StoreError::Rejected(ApplyError::Replay { seq })) if seq == first
        ),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().unwrap().seq, first + 1);
    assert!(
        matches!(
            results[3],
            Err(StoreError::Rejected(ApplyError::AlreadyReversed { target_seq, by_seq }))
                if target_seq == first && by_seq == first + 1
        ),
        "{:?}",
        results[3]
    );
    assert_eq!(store.size(), first + 2);
    assert_eq!(store.reversed_by(first).unwrap(), Some(first + 1));
}

fn unfinished_snapshots(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("snap.") && name.ends_with(".generating"))
        .collect();
    names.sort();
    names
}

/// Proves that a sled snapshot left unfinished by a crash (a
/// `snap.<lsn>.generating` file, empty or partial, which sled 0.34 takes as
/// its latest snapshot and reports as corruption) does not stop the ledger
/// from opening, and that nothing of the ledger is lost: the kill test hit
/// this (docs/performance.md, "Figures cited from code"). Without
/// `recovery.rs`, the open fails.
#[test]
fn a_snapshot_left_unfinished_by_a_crash_does_not_stop_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let before = seen(&store);
    store.close().unwrap();
    // Both sort after any finished snapshot, as a newer one would.
    std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFF0.generating"), b"").unwrap();
    std::fs::write(
        dir.path().join("snap.FFFFFFFFFFFFFFFF.generating"),
        b"partial snapshot bytes, cut off by the kill",
    )
    .unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(seen(&store), before);
    assert_eq!(unfinished_snapshots(dir.path()), Vec::<String>::new());
    // The ledger goes on.
    for r in store
        .append_batch(vec![income("after-the-crash")], 10, &log_signer())
        .unwrap()
    {
        r.unwrap();
    }
    assert_eq!(store.size(), before.size + 1);
    store.close().unwrap();
    assert_eq!(Store::open(dir.path()).unwrap().size(), before.size + 1);
}

/// Proves that an unfinished snapshot is left alone while another handle
/// holds the directory: its sled may be writing that very file. The second
/// open reports the lock, as it would without one.
#[test]
fn a_snapshot_being_written_by_a_live_store_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let in_progress = "snap.FFFFFFFFFFFFFFFF.generating";
    std::fs::write(dir.path().join(in_progress), b"").unwrap();

    let second = Store::open(dir.path());
    assert!(
        matches!(second, Err(StoreError::Locked { .. })),
        "{second:?}"
    );
    assert_eq!(
        unfinished_snapshots(dir.path()),
        vec![in_progress.to_string()]
    );
    drop(store);
}

/// Every key and value of a sled directory whose key starts with one of
/// `prefixes`, read once the directory's lock is free.
fn raw_records(dir: &Path, prefixes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match sled::open(dir) {
            Ok(db) => break db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("opening {}: {e}", dir.display()),
        }
    };
    db.iter()
        .map(|item| item.unwrap())
        .filter(|(key, _)| prefixes.contains(&key[0]))
        .map(|(key, value)| (key.to_vec(), value.to_vec()))
        .collect()
}

// The bench's sled floor times a part of every append; that holds only if
// it writes exactly the records a store writes for each entry's leaf and
// body id, and nothing more.
#[test]
fn the_sled_floor_writes_the_leaf_and_body_id_records_of_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let (store_dir, floor_dir) = (dir.path().join("store"), dir.path().join("floor"));
    let store = ledger(&store_dir);
    let entries: Vec<feeledger_store::floor::FloorEntry> = store
        .iter_leaves(0)
        .map(|item| {
            let (seq, leaf) = item.unwrap();
            let body = feeledger_core::entry::body_bytes_of_leaf(&leaf).unwrap();
            let body_id = feeledger_core::hash::sha256(body);
            (seq, leaf, body_id)
        })
        .collect();
    assert_eq!(entries.len(), 4, "genesis and three incomes");
    store.close().unwrap();

    feeledger_store::floor::write_leaves_and_body_ids(&floor_dir, &entries).unwrap();
    let stored = raw_records(&store_dir, b"LB");
    assert_eq!(stored.len(), 2 * entries.len());
    let written = raw_records(&floor_dir, &(0..=u8::MAX).collect::<Vec<_>>());
    assert_eq!(written, stored);

    let again = feeledger_store::floor::write_leaves_and_body_ids(&floor_dir, &entries);
    assert!(
        matches!(again, Err(StoreError::AlreadyInitialized { .. })),
        "{again:?}"
    );
}

/// The leaves and latest checkpoint of a small ledger, as a backup holds
/// them, for restoring into another directory.
fn backup_of(dir: &Path) -> (Vec<Vec<u8>>, Vec<u8>) {
    let source = ledger(dir);
    let leaves = (0..source.size())
        .map(|seq| source.leaf_bytes(seq).unwrap().unwrap())
        .collect();
    (leaves, source.latest_checkpoint().unwrap())
}

/// Proves that restoring leaves (`append_leaves`, which now commits through
/// the same path as an append) survives a fault at every step: nothing of
/// the batch is kept in memory or on disk, and the same leaves then restore
/// to the source's root, keeping the source's own checkpoint note.
#[test]
fn restoring_leaves_survives_a_fault_at_every_step() {
    let source_dir = tempfile::tempdir().unwrap();
    let (leaves, checkpoint) = backup_of(&source_dir.path().join("source"));
    let steps = [
        FaultPoint::ReadLookups,
        FaultPoint::ReadDerived,
        FaultPoint::SignCheckpoint,
        FaultPoint::WriteBatch,
        FaultPoint::Flush,
    ];
    for step in steps {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restored");
        let store = Store::create(&path, &leaves[0], &log_signer()).unwrap();
        let before = seen(&store);
        store.inject_fault(step);
        let err = store
            .append_leaves(leaves[1..].to_vec(), Some(&checkpoint), &log_signer())
            .unwrap_err();
        assert!(is_injected(&err), "{step:?}: {err}");
        assert_eq!(seen(&store), before, "{step:?}: changed in memory");
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(seen(&store), before, "{step:?}: changed on disk");
        let size = store
            .append_leaves(leaves[1..].to_vec(), Some(&checkpoint), &log_signer())
            .unwrap();
        assert_eq!(size, leaves.len() as u64, "{step:?}");
        assert_eq!(
            store.latest_checkpoint().unwrap(),
            checkpoint,
            "{step:?}: the backup's own checkpoint note is kept"
        );
    }
}

/// Proves a leaf refused on restore carries the core's typed reason and
/// the seq it would have taken, and that nothing of its batch is written.
#[test]
fn a_refused_leaf_carries_the_cores_typed_reason() {
    let source_dir = tempfile::tempdir().unwrap();
    let (leaves, _) = backup_of(&source_dir.path().join("source"));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("restored"), &leaves[0], &log_signer()).unwrap();
    let before = seen(&store);
    // Leaf 1 is fine; leaf 3 given as the next after it skips leaf 2.
    let err = store
        .append_leaves(
            vec![leaves[1].clone(), leaves[3].clone()],
            None,
            &log_signer(),
        )
        .unwrap_err();
    match &err {
        StoreError::LeafRefused {
            seq: 2,
            reason:
                ApplyError::Sequence {
                    expected: 2,
                    found: 3,
                },
        } => {}
        other => panic!("expected leaf 2 refused for its sequence, got {other:?}"),
    }
    assert_eq!(err.code(), "leaf_refused");
    assert_eq!(seen(&store), before, "nothing of the batch was written");
}

/// Proves `add_witness` refuses a note key (type 0x01) with its own error
/// and code, not a proof error, and writes nothing; a cosignature key is
/// registered, and a fault while writing one leaves none behind.
#[test]
fn add_witness_refuses_a_note_key_by_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let note_key = NoteSigner::new("witness-a", KeyAlg::Ed25519, key(7))
        .unwrap()
        .verifier_key();
    let err = store.add_witness(&note_key).unwrap_err();
    assert!(
        matches!(
            &err,
            WitnessError::NotACosignatureKey { name, alg: KeyAlg::Ed25519 } if name == "witness-a"
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "not_a_witness_key");
    assert!(
        err.to_string().contains("cosignature/v1 (type 0x04)"),
        "{err}"
    );
    assert!(store.witnesses().unwrap().is_empty());

    let cosigner_key = NoteSigner::new("witness-a", KeyAlg::CosignatureV1, key(7))
        .unwrap()
        .verifier_key();
    store.inject_fault(FaultPoint::Flush);
    let err = store.add_witness(&cosigner_key).unwrap_err();
    assert!(
        matches!(&err, WitnessError::Store(e) if is_injected(e)),
        "{err:?}"
    );
    assert!(
        store.witnesses().unwrap().is_empty(),
        "undone after the fault"
    );
    store.add_witness(&cosigner_key).unwrap();
    assert_eq!(store.witnesses().unwrap(), vec![cosigner_key]);
}

/// Proves the caller's options open the same ledger: a store created with a
/// 1 MiB cache and reopened for a scan (no levels in memory) and with the
/// defaults gives the same root and proofs, and the defaults are what
/// `Store::open` always used, so existing callers are unchanged.
#[test]
fn store_options_open_the_same_ledger() {
    assert_eq!(
        StoreOptions::default(),
        StoreOptions {
            cache_bytes: feeledger_store::CACHE_BYTES,
            hold_upper_levels: true
        }
    );
    assert_eq!(
        StoreOptions::for_scan(),
        StoreOptions {
            cache_bytes: feeledger_store::SCAN_CACHE_BYTES,
            hold_upper_levels: false
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let small = StoreOptions {
        cache_bytes: 1024 * 1024,
        hold_upper_levels: true,
    };
    let store = Store::create_with(&path, &genesis(), &log_signer(), &small).unwrap();
    let batch = (0..40).map(|i| income(&format!("opt-{i}"))).collect();
    for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
        r.unwrap();
    }
    let (root, proof) = (store.root(), store.inclusion_proof(17, 41).unwrap());
    drop(store);
    for options in [StoreOptions::for_scan(), StoreOptions::default(), small] {
        let store = Store::open_with(&path, &options).unwrap();
        assert_eq!(store.root(), root, "{options:?}");
        assert_eq!(store.inclusion_proof(17, 41).unwrap(), proof, "{options:?}");
        drop(store);
    }
}

/// The node tiles of `dir` as whole tiles: (level, tile) → its hashes,
/// with the runs of a tile still filling joined to it, and how many keys
/// each took.
fn joined_node_tiles(dir: &Path) -> std::collections::BTreeMap<(u8, u64), (Vec<u8>, usize)> {
    let mut tiles = std::collections::BTreeMap::<(u8, u64), (Vec<u8>, usize)>::new();
    // Full tiles and first hashes under `N`, runs under `M`: in key
    // order, all of a tile's runs come after its first key.
    let mut records = raw_records(dir, b"NM");
    records.sort_by(|(a, _), (b, _)| a[1..].cmp(&b[1..]));
    for (key, value) in records {
        let tile = u64::from_be_bytes(key[2..10].try_into().unwrap());
        let joined = tiles.entry((key[1], tile)).or_default();
        let start = match key.len() {
            10 => 0,
            12 => usize::from(u16::from_be_bytes([key[10], key[11]])),
            n => panic!("a node tile key of {n} bytes"),
        };
        assert_eq!(joined.0.len(), 32 * start, "runs follow one another");
        joined.0.extend_from_slice(&value);
        joined.1 += 1;
    }
    tiles
}

// Small group commits (the server's, a few entries each) append runs to
// the node tiles instead of rewriting them, and write small index buckets
// (docs/performance.md, "Round 2"). Proves the records they leave, after a
// reopen, hold what one large batch of the same entries writes: the same
// node hashes and index buckets, and each full tile as one key.
#[test]
fn small_batches_store_the_same_tiles_and_buckets_as_one_large_batch() {
    let entries: Vec<Submission> = (0..700).map(|i| income(&format!("runs-{i}"))).collect();
    let small = tempfile::tempdir().unwrap();
    let large = tempfile::tempdir().unwrap();
    {
        let store = Store::create(small.path(), &genesis(), &log_signer()).unwrap();
        let mut rest = entries.clone();
        for batch_len in [1, 17, 5, 64, 3, 200, 1, 1, 300].into_iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let batch: Vec<Submission> = rest.drain(..batch_len.min(rest.len())).collect();
            for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
                r.unwrap();
            }
        }
        store.close().unwrap();
        let store = Store::create(large.path(), &genesis(), &log_signer()).unwrap();
        for r in store.append_batch(entries, 10, &log_signer()).unwrap() {
            r.unwrap();
        }
        store.close().unwrap();
    }
    let reopened = Store::open(small.path()).unwrap();
    let one_batch = Store::open(large.path()).unwrap();
    assert_eq!(reopened.size(), 701);
    assert_eq!(reopened.root(), one_batch.root());
    for index in [0, 255, 256, 511, 512, 699, 700] {
        assert_eq!(
            reopened.inclusion_proof(index, 701).unwrap(),
            one_batch.inclusion_proof(index, 701).unwrap()
        );
    }
    reopened.close().unwrap();
    one_batch.close().unwrap();

    let small_tiles = joined_node_tiles(small.path());
    let large_tiles = joined_node_tiles(large.path());
    let hashes = |tiles: &std::collections::BTreeMap<(u8, u64), (Vec<u8>, usize)>| {
        tiles
            .iter()
            .map(|(at, (bytes, _))| (*at, bytes.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(hashes(&small_tiles), hashes(&large_tiles));
    for ((level, tile), (bytes, keys)) in &small_tiles {
        if bytes.len() == 32 * 256 {
            assert_eq!(*keys, 1, "full tile {level}/{tile} is one key");
        }
    }
    // Level 0's last tile (leaves 512..701) was filled by several batches:
    // it is in runs, not rewritten whole by each.
    assert!(small_tiles[&(0, 2)].1 > 1);
    // The runs are kept apart from the tiles (under `M`), so that sled
    // does not rewrite full tiles with the runs each batch inserts beside
    // them (docs/performance.md, "At 20,000 entries").
    assert!(raw_records(small.path(), b"N")
        .iter()
        .all(|(key, _)| key.len() == 10));
    assert!(!raw_records(small.path(), b"M").is_empty());
    assert_eq!(
        raw_records(small.path(), b"X"),
        raw_records(large.path(), b"X")
    );
}

//! The all-or-nothing batch of proposals (`Store::proposals_batch_atomic`,
//! an import's commit), on a real sled tree: a batch with one bad proposal
//! leaves every key and value of the store as it was, naming the proposal
//! and the core's reason; a good batch is one atomic write with one flush
//! and one checkpoint.

use feeledger_core::entry::{Body, Content, Expenditure, ExpenseCategory, Governance, Role};
use feeledger_core::entry::{Date, RoleDef, Roles};
use feeledger_core::fixtures::{self, COMMITTEE, COMPANY};
use feeledger_core::note::NoteSigner;
use feeledger_core::state::ApplyError;
use feeledger_store::{
    AtomicBatchError, Backing, FaultPoint, ProposalRequest, Store, StoreError, StoreOptions,
};

const ORIGIN: &str = "atomic.example/ledger";

fn log_signer() -> NoteSigner {
    fixtures::log_signer(ORIGIN)
}

/// A store in a tree of a shared `Db`, so that the test can read every key
/// and value of it while it is open; a genesis and one property fee.
fn ledger(dir: &std::path::Path) -> (sled::Tree, Store) {
    let db = feeledger_store::open_shared_db(&dir.join("ledger"), 1 << 20).unwrap();
    let tree = db.open_tree("ledger").unwrap();
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "原子小区")]).remove(0);
    let store = Store::create_with(
        Backing::Tree(tree.clone()),
        &genesis,
        &log_signer(),
        &StoreOptions::default(),
    )
    .unwrap();
    store
        .proposals_batch_atomic(vec![fee("recorded")], 10, &log_signer())
        .unwrap();
    (tree, store)
}

/// Every key and value of the store's tree.
fn every_record(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

/// A property fee of 300.00 yuan signed by the company: it commits alone.
fn fee(nonce: &str) -> ProposalRequest {
    let (body, signatures) = fixtures::property_fee(ORIGIN, nonce);
    propose(&body, signatures)
}

fn propose(body: &Body, signatures: Vec<feeledger_core::entry::EntrySignature>) -> ProposalRequest {
    ProposalRequest::Propose {
        body_bytes: body.to_canonical_bytes(),
        signatures,
        check: None,
    }
}

/// A governance entry, signed by both roles so that it commits at once,
/// that hands the company role from key "co" (seed 1) to "co2" (seed 3).
fn company_key_handover() -> ProposalRequest {
    let mut roles = Roles::new();
    for (role, name, seed) in [(Role::Company, "co2", 3), (Role::Committee, COMMITTEE.0, 2)] {
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
    let signatures = fixtures::sign_with(&body, &[COMMITTEE, COMPANY]);
    propose(&body, signatures)
}

/// Asserts that `result` refused proposal `index`, and returns the reason.
fn refused(
    result: Result<Vec<feeledger_store::Committed>, AtomicBatchError>,
    index: usize,
) -> StoreError {
    match result {
        Err(AtomicBatchError::Refused { index: at, reason }) => {
            assert_eq!(at, index, "refused at {at}: {reason}");
            reason
        }
        other => panic!("expected proposals[{index}] refused, got {other:?}"),
    }
}

/// Proves that a batch with one bad proposal records nothing and leaves
/// the store byte for byte as it was (every key and value of its tree, the
/// published size and balances): a replay of a recorded body, a fee signed
/// by a key that a governance entry staged earlier in the same batch
/// removed, and an expenditure that would only wait for the committee's
/// signature. Each refusal names the proposal's index and the core's
/// reason; the good proposals before it are not recorded either.
#[test]
fn one_bad_proposal_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, store) = ledger(dir.path());
    let before = every_record(&tree);
    let size = store.size();
    let balances = store.state().balances().clone();

    let replay = store.proposals_batch_atomic(
        vec![fee("a"), fee("b"), fee("recorded"), fee("c")],
        20,
        &log_signer(),
    );
    let reason = refused(replay, 2);
    assert!(
        matches!(reason, StoreError::Rejected(ApplyError::Replay { seq: 1 })),
        "{reason:?}"
    );

    let removed_key = store.proposals_batch_atomic(
        vec![fee("a"), company_key_handover(), fee("d")],
        20,
        &log_signer(),
    );
    let reason = refused(removed_key, 2);
    assert!(
        matches!(&reason, StoreError::Rejected(ApplyError::UnknownKey { .. })),
        "{reason:?}"
    );
    assert!(reason.to_string().contains("\"co\""), "{reason}");

    let (spend, _) = fixtures::property_fee(ORIGIN, "spend");
    let spend = Body {
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: 100,
            category: ExpenseCategory::Cleaning,
            payee: "保洁公司".into(),
            memo: String::new(),
            attachments: vec![],
            owners_approval: None,
        }),
        ..spend
    };
    let signatures = fixtures::sign_with(&spend, &[COMPANY]);
    let waits = store.proposals_batch_atomic(
        vec![fee("a"), propose(&spend, signatures)],
        20,
        &log_signer(),
    );
    let reason = refused(waits, 1);
    assert!(
        matches!(
            reason,
            StoreError::Rejected(ApplyError::RuleNotMet {
                role: Role::Committee,
                ..
            })
        ),
        "{reason:?}"
    );

    assert_eq!(every_record(&tree), before, "nothing was written");
    assert_eq!(store.size(), size);
    assert_eq!(store.state().balances(), &balances);
    assert!(
        store.proposals(10).unwrap().is_empty(),
        "no pending proposal is left"
    );
}

/// Proves that a good batch is one atomic write with one flush: with the
/// flush failing once, none of it is recorded; sent again, all of it is,
/// with one checkpoint for the new size and none for the sizes between.
#[test]
fn a_good_batch_commits_in_one_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (tree, store) = ledger(dir.path());
    let before = every_record(&tree);
    let size = store.size();
    let batch = || {
        (0..5)
            .map(|i| fee(&format!("month-{i}")))
            .collect::<Vec<_>>()
    };

    store.inject_fault(FaultPoint::Flush);
    let failed = store.proposals_batch_atomic(batch(), 30, &log_signer());
    assert!(
        matches!(failed, Err(AtomicBatchError::Store(StoreError::Io(_)))),
        "{failed:?}"
    );
    assert_eq!(every_record(&tree), before, "the failed flush was undone");
    assert_eq!(store.size(), size);

    let committed = store
        .proposals_batch_atomic(batch(), 30, &log_signer())
        .unwrap();
    let seqs: Vec<u64> = committed.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (size..size + 5).collect::<Vec<_>>());
    assert!(committed.iter().all(|c| c.size == size + 5));
    assert_eq!(store.size(), size + 5);
    assert!(store.checkpoint(size + 5).unwrap().is_some());
    for between in size + 1..size + 5 {
        assert_eq!(
            store.checkpoint(between).unwrap(),
            None,
            "one commit signs one checkpoint, not one at size {between}"
        );
    }
    assert_eq!(
        store.state().balances()["operating"],
        6 * 30_000,
        "the fee before and the five of the batch"
    );
}

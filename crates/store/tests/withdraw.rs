//! Withdrawing pending proposals, on a real sled directory: by the
//! proposer, by a role's threshold (a partial withdrawal is kept), refused
//! for a key that may not withdraw or a bad signature with nothing
//! changed, final (a withdrawn proposal can be neither signed nor proposed
//! again), durable across a reopen, and freeing the proposal's slot.

use feeledger_core::entry::{
    default_rules, Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, FundDef,
    Genesis, Role, RoleDef, Roles,
};
use feeledger_core::fixtures::{chain, key_def, log_signer, seeded_key, sign_with};
use feeledger_core::hash::Hash;
use feeledger_core::proposal_policy::IdPrefix;
use feeledger_core::withdrawal::{sign_withdrawal, WithdrawalError};
use feeledger_store::{ProposalOutcome, Store, StoreError, Submission, WithdrawalOutcome};
use std::path::Path;

const ORIGIN: &str = "withdraw.example/ledger";
const CO: (&str, u8) = ("co", 1);
const CO2: (&str, u8) = ("co2", 2);
const C1: (&str, u8) = ("c1", 3);
const C2: (&str, u8) = ("c2", 4);
const C3: (&str, u8) = ("c3", 5);

fn date() -> Date {
    Date {
        year: 2026,
        month: 1,
        day: 1,
    }
}

/// A ledger with two company keys and three committee keys (threshold 2
/// each), the default rules, and a property fee of 300.00 yuan in
/// `operating` (seq 1).
fn ledger(dir: &Path) -> Store {
    let mut roles = Roles::new();
    roles.insert(
        Role::Company,
        RoleDef {
            threshold: 2,
            keys: vec![key_def(CO.0, CO.1), key_def(CO2.0, CO2.1)],
        },
    );
    roles.insert(
        Role::Committee,
        RoleDef {
            threshold: 2,
            keys: [C1, C2, C3].iter().map(|(n, s)| key_def(n, *s)).collect(),
        },
    );
    let body = Body {
        ledger: ORIGIN.into(),
        date: date(),
        nonce: "g".into(),
        content: Content::Genesis(Genesis {
            name: "撤回小区".into(),
            currency: "CNY".into(),
            minor_unit: "fen".into(),
            minor_units_per_major: 100,
            funds: ["maintenance", "operating", "public_revenue"]
                .iter()
                .map(|f| FundDef {
                    id: f.to_string(),
                    name: f.to_string(),
                })
                .collect(),
            roles,
            rules: default_rules(false),
            log_key: log_signer(ORIGIN).verifier_key().to_string(),
        }),
    };
    let signatures = sign_with(&body, &[C1, C2, CO, CO2]);
    let genesis = chain(vec![(body, signatures)]).remove(0);
    let store = Store::create(dir, &genesis, &log_signer(ORIGIN)).unwrap();
    let (fee, _) = feeledger_core::fixtures::property_fee(ORIGIN, "fee");
    let fee_sigs = sign_with(&fee, &[CO, CO2]);
    for r in store
        .append_batch(
            vec![Submission {
                body: fee,
                signatures: fee_sigs,
            }],
            10,
            &log_signer(ORIGIN),
        )
        .unwrap()
    {
        r.unwrap();
    }
    store
}

/// An expenditure of `amount_fen` from `operating`, as canonical bytes and
/// its id.
fn expenditure(nonce: &str, amount_fen: u64) -> (Body, Vec<u8>, Hash) {
    let body = Body {
        ledger: ORIGIN.into(),
        date: date(),
        nonce: nonce.into(),
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen,
            category: ExpenseCategory::Cleaning,
            payee: "洁美保洁".into(),
            memo: String::new(),
            attachments: vec![],
            owners_approval: None,
        }),
    };
    let bytes = body.to_canonical_bytes();
    let id = body.id();
    (body, bytes, id)
}

fn propose(store: &Store, nonce: &str, by: (&str, u8)) -> (Body, Vec<u8>, Hash) {
    let (body, bytes, id) = expenditure(nonce, 100);
    let outcome = store
        .propose(&bytes, sign_with(&body, &[by]), 100, &log_signer(ORIGIN))
        .unwrap();
    assert!(matches!(outcome, ProposalOutcome::Pending { .. }));
    (body, bytes, id)
}

fn withdrawal(id: &Hash, by: (&str, u8)) -> EntrySignature {
    sign_withdrawal(by.0, &seeded_key(by.1), ORIGIN, id)
}

/// Proves the proposer alone withdraws: the proposal leaves the pending
/// set, is kept with who withdrew it and when, and stays so after the
/// directory is reopened.
#[test]
fn the_proposer_withdraws_and_it_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = ledger(&path);
    let (_, _, id) = propose(&store, "p1", CO);
    let outcome = store.withdraw(&id, vec![withdrawal(&id, CO)], 500).unwrap();
    let WithdrawalOutcome::Withdrawn(w) = outcome else {
        panic!("expected withdrawn: {outcome:?}")
    };
    assert_eq!(w.withdrawn_by, ["co"]);
    assert_eq!(w.withdrawn_ms, 500);
    assert!(store.proposals(10).unwrap().is_empty());
    drop(store);
    let store = Store::open(&path).unwrap();
    assert!(store.proposals(10).unwrap().is_empty());
    assert!(store.proposal(&id).unwrap().is_none());
    let kept = store.withdrawn(&id).unwrap().expect("kept after reopen");
    assert_eq!(kept.withdrawn_by, ["co"]);
    assert_eq!(kept.withdrawn_ms, 500);
    assert_eq!(kept.record.proposed_by, ["co"]);
    let recent = store.withdrawn_recent(10).unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].record.proposal.id, id);
}

/// Proves a withdrawn proposal is final: it cannot be co-signed, proposed
/// again with every signature it needs, or withdrawn twice, each with the
/// typed `withdrawn` error; and nothing is committed.
#[test]
fn a_withdrawn_proposal_cannot_be_signed_or_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let (body, bytes, id) = propose(&store, "p1", CO);
    store.withdraw(&id, vec![withdrawal(&id, CO)], 500).unwrap();
    let size = store.size();
    let err = store
        .add_signatures(&id, sign_with(&body, &[C1, C2]), 600, &log_signer(ORIGIN))
        .unwrap_err();
    assert!(matches!(err, StoreError::ProposalWithdrawn { .. }), "{err}");
    assert_eq!(err.code(), "withdrawn");
    let err = store
        .propose(
            &bytes,
            sign_with(&body, &[C1, C2, CO, CO2]),
            600,
            &log_signer(ORIGIN),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::ProposalWithdrawn { .. }), "{err}");
    let err = store
        .withdraw(&id, vec![withdrawal(&id, C1)], 600)
        .unwrap_err();
    assert!(matches!(err, StoreError::ProposalWithdrawn { .. }), "{err}");
    assert_eq!(store.size(), size, "nothing was committed");
    assert!(store.proposals(10).unwrap().is_empty());
}

/// Proves role members below the threshold are kept as a partial
/// withdrawal (also across a reopen), and the member who reaches the
/// threshold withdraws it, naming both.
#[test]
fn a_role_threshold_withdraws_and_a_partial_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = ledger(&path);
    let (_, _, id) = propose(&store, "p1", CO);
    let outcome = store.withdraw(&id, vec![withdrawal(&id, C1)], 500).unwrap();
    let WithdrawalOutcome::Pending { progress, .. } = outcome else {
        panic!("expected a partial withdrawal: {outcome:?}")
    };
    assert_eq!(progress[&Role::Committee], (1, 2));
    drop(store);
    let store = Store::open(&path).unwrap();
    let record = store.proposal_record(&id).unwrap().expect("still pending");
    assert_eq!(record.withdrawals.len(), 1);
    assert_eq!(record.withdrawals[0].key, "c1");
    let outcome = store.withdraw(&id, vec![withdrawal(&id, C3)], 700).unwrap();
    let WithdrawalOutcome::Withdrawn(w) = outcome else {
        panic!("expected withdrawn: {outcome:?}")
    };
    assert_eq!(w.withdrawn_by, ["c1", "c3"]);
    assert!(store.proposals(10).unwrap().is_empty());
}

/// Proves a key that may not withdraw (not the proposer, and of no role the
/// rule names; or no role at all) and a signature over another proposal
/// are refused, with the proposal, its signatures and the log unchanged.
#[test]
fn a_wrong_key_or_signature_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    // An income's rule names the company only, and it waits for the
    // second company key; c1 did not propose it.
    let (fee, _) = feeledger_core::fixtures::property_fee(ORIGIN, "pending-fee");
    let fee_bytes = fee.to_canonical_bytes();
    let id = fee.id();
    let outcome = store
        .propose(&fee_bytes, sign_with(&fee, &[CO]), 100, &log_signer(ORIGIN))
        .unwrap();
    assert!(matches!(outcome, ProposalOutcome::Pending { .. }));
    let before = (
        store.proposal_record(&id).unwrap(),
        store.size(),
        store.root(),
    );
    let err = store
        .withdraw(&id, vec![withdrawal(&id, C1)], 500)
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Withdrawal(WithdrawalError::NotAllowed { key, .. }) if key == "c1"),
        "{err}"
    );
    assert_eq!(err.code(), "not_allowed_to_withdraw");
    let err = store
        .withdraw(&id, vec![withdrawal(&id, ("stranger", 42))], 500)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Withdrawal(WithdrawalError::UnknownKey { .. })
        ),
        "{err}"
    );
    let other = Hash([9; 32]);
    let err = store
        .withdraw(&id, vec![withdrawal(&other, C1)], 500)
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Withdrawal(WithdrawalError::BadSignature { .. })
        ),
        "{err}"
    );
    assert_eq!(err.code(), "bad_signature");
    assert_eq!(
        (
            store.proposal_record(&id).unwrap(),
            store.size(),
            store.root()
        ),
        before,
        "a refused withdrawal changed nothing"
    );
    assert!(store.withdrawn(&id).unwrap().is_none());
    // An unknown id, and a committed one, are told apart.
    let unknown = Hash([7; 32]);
    let err = store
        .withdraw(&unknown, vec![withdrawal(&unknown, CO)], 500)
        .unwrap_err();
    assert!(matches!(err, StoreError::NoProposal { .. }), "{err}");
    let committed = store
        .add_signatures(&id, sign_with(&fee, &[CO2]), 600, &log_signer(ORIGIN))
        .unwrap();
    assert!(matches!(committed, ProposalOutcome::Committed { .. }));
    let err = store
        .withdraw(&id, vec![withdrawal(&id, CO)], 700)
        .unwrap_err();
    assert!(
        matches!(err, StoreError::ProposalCommitted { seq: 2, .. }),
        "{err}"
    );
}

/// Proves ids are found by a prefix of whole and half bytes, among
/// pending and withdrawn proposals, and that a prefix matching nothing
/// finds nothing.
#[test]
fn ids_are_found_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let (_, _, pending) = propose(&store, "p1", CO);
    let (_, _, gone) = propose(&store, "p2", CO);
    store
        .withdraw(&gone, vec![withdrawal(&gone, CO)], 500)
        .unwrap();
    for id in [pending, gone] {
        let prefix = IdPrefix::parse(&id.to_hex()[..9]).unwrap();
        assert_eq!(store.proposal_ids_with_prefix(&prefix, 10).unwrap(), [id]);
    }
    let none = if pending.to_hex().starts_with("00000000") {
        "ffffffff"
    } else {
        "00000000"
    };
    let prefix = IdPrefix::parse(none).unwrap();
    assert!(store
        .proposal_ids_with_prefix(&prefix, 10)
        .unwrap()
        .is_empty());
}

/// Proves a withdrawal frees its proposal's slot under the per-key bound.
#[test]
fn a_withdrawal_frees_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"));
    let limit = feeledger_store::PROPOSALS_PER_KEY_MAX;
    let mut first = None;
    for i in 0..limit {
        let (_, _, id) = propose(&store, &format!("p{i}"), CO);
        first.get_or_insert(id);
    }
    let (body, bytes, _) = expenditure("one-more", 100);
    let err = store
        .propose(&bytes, sign_with(&body, &[CO]), 200, &log_signer(ORIGIN))
        .unwrap_err();
    assert!(matches!(err, StoreError::TooManyProposals { .. }), "{err}");
    let first = first.unwrap();
    store
        .withdraw(&first, vec![withdrawal(&first, CO)], 300)
        .unwrap();
    let outcome = store
        .propose(&bytes, sign_with(&body, &[CO]), 400, &log_signer(ORIGIN))
        .unwrap();
    assert!(matches!(outcome, ProposalOutcome::Pending { .. }));
}

//! The reads that must not cost O(ledger) or O(pending), on a real sled
//! directory (issue 17):
//! - the all-time totals kept beside the month totals equal a walk over
//!   every month, across batches, expenditures, transfers and reversals,
//!   after reopening, and for a store written before they were kept (they
//!   are derived once at open);
//! - the latest months are read without reading the older ones' totals;
//! - the pending proposals' cursor gives every proposal pending
//!   throughout a walk exactly once, while proposals are added, committed
//!   and withdrawn between pages;
//! - the cache of signature checks never lets a bad signature through:
//!   a stored proposal whose signature or body was changed after it was
//!   accepted is reported as refused, on first reading and every reading
//!   after.

use feeledger_core::entry::{
    Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, Income, IncomeCategory,
    Month, Reversal, Transfer,
};
use feeledger_core::fixtures;
use feeledger_core::hash::Hash;
use feeledger_core::note::NoteSigner;
use feeledger_core::state::{ApplyError, CategoryTotals};
use feeledger_store::{ProposalOutcome, Store, StoreOptions, Submission};
use std::collections::{BTreeMap, BTreeSet};

const ORIGIN: &str = "bounded.example/ledger";

fn log_signer() -> NoteSigner {
    fixtures::log_signer(ORIGIN)
}

fn genesis() -> Vec<u8> {
    fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "有界小区")]).remove(0)
}

fn date(year: u16, month: u8) -> Date {
    Date {
        year,
        month,
        day: 5,
    }
}

fn body(nonce: &str, date: Date, content: Content) -> Body {
    Body {
        ledger: ORIGIN.into(),
        date,
        nonce: nonce.into(),
        content,
    }
}

fn income(nonce: &str, date: Date, fund: &str, category: IncomeCategory, fen: u64) -> Submission {
    let body = body(
        nonce,
        date,
        Content::Income(Income {
            fund: fund.into(),
            amount_fen: fen,
            category,
            payer: "3-1502".into(),
            period: Month {
                year: date.year,
                month: date.month,
            },
            memo: String::new(),
        }),
    );
    let signatures = fixtures::sign_with(&body, &[fixtures::COMPANY]);
    Submission { body, signatures }
}

/// Signed by both roles, as the default rules ask of every spending.
fn both(body: Body) -> Submission {
    let signatures = fixtures::sign_with(&body, &[fixtures::COMMITTEE, fixtures::COMPANY]);
    Submission { body, signatures }
}

fn expenditure(nonce: &str, date: Date, fen: u64) -> Body {
    body(
        nonce,
        date,
        Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: fen,
            category: ExpenseCategory::Cleaning,
            payee: "洁美保洁".into(),
            memo: String::new(),
            attachments: vec![],
            owners_approval: None,
        }),
    )
}

/// The all-time totals as a walk over every month gives them.
fn walk_of_every_month(store: &Store) -> CategoryTotals {
    let mut sum: CategoryTotals = BTreeMap::new();
    for month in store.months().unwrap() {
        for (key, (income, spending)) in store.month_totals(month).unwrap() {
            let total = sum.entry(key).or_default();
            total.0 += income;
            total.1 += spending;
        }
    }
    sum
}

fn append(store: &Store, batch: Vec<Submission>, now_ms: u64) {
    for result in store.append_batch(batch, now_ms, &log_signer()).unwrap() {
        result.unwrap();
    }
}

/// Three batches over three years: incomes of two funds and categories,
/// an expenditure, a transfer and a reversal of an income.
fn varied_ledger(store: &Store) {
    append(
        store,
        vec![
            income(
                "a",
                date(2024, 11),
                "operating",
                IncomeCategory::PropertyFee,
                30_000,
            ),
            income(
                "b",
                date(2024, 12),
                "operating",
                IncomeCategory::PropertyFee,
                31_000,
            ),
            income(
                "c",
                date(2024, 12),
                "public_revenue",
                IncomeCategory::Parking,
                5_000,
            ),
        ],
        10,
    );
    assert_eq!(store.all_time_totals().unwrap(), walk_of_every_month(store));
    append(
        store,
        vec![
            both(expenditure("d", date(2025, 1), 12_345)),
            both(body(
                "e",
                date(2025, 2),
                Content::Transfer(Transfer {
                    from_fund: "public_revenue".into(),
                    to_fund: "operating".into(),
                    amount_fen: 2_000,
                    memo: "公共收益补贴物业费".into(),
                    owners_approval: None,
                }),
            )),
        ],
        20,
    );
    assert_eq!(store.all_time_totals().unwrap(), walk_of_every_month(store));
    append(
        store,
        vec![
            income(
                "f",
                date(2026, 3),
                "operating",
                IncomeCategory::PropertyFee,
                29_000,
            ),
            // Entry 2 is income "b" (seq 0 is the genesis).
            both(body(
                "g",
                date(2026, 3),
                Content::Reversal(Reversal {
                    target_seq: 2,
                    reason: "重复收费".into(),
                }),
            )),
        ],
        30,
    );
}

// Proves the all-time totals equal the sum of every month's totals after
// each batch (incomes, an expenditure, a transfer, a reversal), and after
// reopening; and that they are not all zero (the walk would then agree
// trivially).
#[test]
fn all_time_totals_equal_a_walk_over_every_month() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = Store::create(&path, &genesis(), &log_signer()).unwrap();
    varied_ledger(&store);
    let all_time = store.all_time_totals().unwrap();
    assert_eq!(all_time, walk_of_every_month(&store));
    let fee = all_time[&("operating".to_string(), "property_fee".to_string())];
    // 300 + 310 + 290 yuan in, and the reversal of the 310 nets out.
    assert_eq!(fee.0, 30_000 + 29_000, "{all_time:?}");
    assert!(all_time.keys().any(|(fund, _)| fund == "public_revenue"));
    assert!(all_time.values().any(|(_, spending)| *spending == 12_345));
    store.close().unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.all_time_totals().unwrap(), all_time);
}

// Proves opening a store never writes its all-time totals again: a store
// whose `A` records were removed opens as found, with no all-time totals,
// so the audit (which recomputes them from the leaves) names the loss
// instead of a repair hiding it.
#[test]
fn a_store_missing_its_all_time_totals_is_opened_as_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = Store::create(&path, &genesis(), &log_signer()).unwrap();
    varied_ledger(&store);
    store.close().unwrap();
    {
        let db = sled::open(&path).unwrap();
        let keys: Vec<_> = db.scan_prefix(b"A").map(|item| item.unwrap().0).collect();
        assert!(!keys.is_empty(), "the store keeps all-time totals");
        for key in keys {
            db.remove(key).unwrap();
        }
        db.flush().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert!(store.all_time_totals().unwrap().is_empty());
    store.close().unwrap();
    let db = sled::open(&path).unwrap();
    assert!(db.scan_prefix(b"A").next().is_none(), "nothing was written");
}

// Proves the latest months come newest first, `before` moves back, and
// the first month is the oldest with totals.
#[test]
fn the_latest_months_are_listed_from_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("ledger"), &genesis(), &log_signer()).unwrap();
    varied_ledger(&store);
    let every = store.months().unwrap();
    assert!(every.len() >= 5, "{every:?}");
    let latest = store.months_before(None, 2).unwrap();
    assert_eq!(latest, vec![every[every.len() - 1], every[every.len() - 2]]);
    let older = store.months_before(Some(latest[1]), 100).unwrap();
    let mut expected: Vec<_> = every[..every.len() - 2].to_vec();
    expected.reverse();
    assert_eq!(older, expected);
    assert_eq!(store.first_month().unwrap(), Some(every[0]));
}

/// An expenditure signed by one role only: it waits as a proposal.
fn lone(nonce: &str, signer: (&str, u8)) -> (Vec<u8>, Vec<EntrySignature>, Body) {
    let body = expenditure(nonce, date(2026, 2), 100);
    let signatures = fixtures::sign_with(&body, &[signer]);
    (body.to_canonical_bytes(), signatures, body)
}

fn propose(store: &Store, nonce: &str, signer: (&str, u8)) -> Hash {
    let (bytes, signatures, _) = lone(nonce, signer);
    match store
        .propose(&bytes, signatures, 1_000, &log_signer())
        .unwrap()
    {
        ProposalOutcome::Pending { id, .. } => id,
        other => panic!("{other:?}"),
    }
}

/// The key pair (name, seed) that signed a pending proposal alone.
fn proposer_of(record: &feeledger_store::ProposalRecord) -> (&'static str, u8) {
    if record.proposal.signatures[0].key == fixtures::COMPANY.0 {
        fixtures::COMPANY
    } else {
        fixtures::COMMITTEE
    }
}

// Proves that following the cursor sees every proposal pending throughout
// the walk exactly once, and none twice, and none after it left, while
// between pages proposals are added, committed (co-signed) and withdrawn.
#[test]
fn the_proposals_cursor_sees_each_pending_proposal_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("ledger"), &genesis(), &log_signer()).unwrap();
    append(
        &store,
        vec![income(
            "fund",
            date(2026, 1),
            "operating",
            IncomeCategory::PropertyFee,
            1_000_000,
        )],
        10,
    );
    let initial: BTreeSet<Hash> = (0..150)
        .map(|i| {
            let signer = if i % 2 == 0 {
                fixtures::COMPANY
            } else {
                fixtures::COMMITTEE
            };
            propose(&store, &format!("p{i}"), signer)
        })
        .collect();
    let mut seen: Vec<Hash> = Vec::new();
    let mut removed: BTreeSet<Hash> = BTreeSet::new();
    let mut after: Option<Hash> = None;
    let mut pages = 0;
    loop {
        let (page, next) = store.proposal_records_after(after.as_ref(), 40).unwrap();
        assert!(page.len() <= 40);
        for record in &page {
            assert!(
                !removed.contains(&record.proposal.id),
                "a proposal that left before this page was listed"
            );
            seen.push(record.proposal.id);
        }
        pages += 1;
        // Between pages: one committed and one withdrawn among those not
        // seen yet, and one added.
        let unseen: Vec<Hash> = initial
            .iter()
            .filter(|id| !seen.contains(id) && !removed.contains(id))
            .copied()
            .collect();
        if let [commit, withdraw, ..] = unseen[..] {
            let record = store.proposal_record(&commit).unwrap().unwrap();
            let other = if proposer_of(&record) == fixtures::COMPANY {
                fixtures::COMMITTEE
            } else {
                fixtures::COMPANY
            };
            let body = Body::decode(record.proposal.body.as_bytes()).unwrap();
            let outcome = store
                .add_signatures(
                    &commit,
                    fixtures::sign_with(&body, &[other]),
                    2_000,
                    &log_signer(),
                )
                .unwrap();
            assert!(matches!(outcome, ProposalOutcome::Committed { .. }));
            removed.insert(commit);
            let record = store.proposal_record(&withdraw).unwrap().unwrap();
            let (name, seed) = proposer_of(&record);
            let message = feeledger_core::withdrawal::withdrawal_message(ORIGIN, &withdraw);
            let signature = EntrySignature::new(
                name,
                &ed25519_dalek::Signer::sign(&fixtures::seeded_key(seed), &message),
            );
            store.withdraw(&withdraw, vec![signature], 2_000).unwrap();
            assert!(store.proposal(&withdraw).unwrap().is_none());
            removed.insert(withdraw);
        }
        propose(&store, &format!("added-{pages}"), fixtures::COMPANY);
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert!(pages >= 3, "the walk took {pages} pages");
    assert!(removed.len() >= 4, "the walk changed the pending set");
    let unique: BTreeSet<Hash> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a proposal was listed twice");
    for id in initial.difference(&removed) {
        assert!(unique.contains(id), "pending proposal {id} was missed");
    }
}

/// Replaces the stored record of proposal `id` in `tree` by `change`'s.
fn tamper(tree: &sled::Tree, id: &Hash, change: impl FnOnce(&mut feeledger_store::ProposalRecord)) {
    let mut key = b"P".to_vec();
    key.extend_from_slice(&id.0);
    let mut record: feeledger_store::ProposalRecord =
        serde_json::from_slice(&tree.get(&key).unwrap().unwrap()).unwrap();
    change(&mut record);
    tree.insert(key, serde_json::to_vec(&record).unwrap())
        .unwrap();
}

fn is_bad_signature(status: &Result<feeledger_core::state::Approval, ApplyError>) -> bool {
    matches!(status, Err(ApplyError::BadSignature { .. }))
}

// Proves the cache of signature checks cannot be poisoned: a proposal
// whose signature was good when accepted (so its check is cached) and was
// then changed in the store is refused; so is one whose body was changed
// under the same id; and one read with a bad signature before any check
// is refused on every reading.
#[test]
fn a_bad_signature_is_never_served_as_valid() {
    let dir = tempfile::tempdir().unwrap();
    let db = feeledger_store::open_shared_db(&dir.path().join("db"), 1 << 20).unwrap();
    let tree = db.open_tree("ledger").unwrap();
    let options = StoreOptions::default();
    let store = Store::create_with(tree.clone(), &genesis(), &log_signer(), &options).unwrap();
    append(
        &store,
        vec![income(
            "fund",
            date(2026, 1),
            "operating",
            IncomeCategory::PropertyFee,
            100_000,
        )],
        10,
    );
    let good = propose(&store, "good", fixtures::COMPANY);
    let record = store.proposal_record(&good).unwrap().unwrap();
    assert!(store.proposal_status(&record).unwrap().is_ok());

    // The signature replaced by the same key's signature of another body.
    let (_, forged, _) = lone("other", fixtures::COMPANY);
    tamper(&tree, &good, |r| r.proposal.signatures = forged.clone());
    let record = store.proposal_record(&good).unwrap().unwrap();
    for _ in 0..2 {
        let status = store.proposal_status(&record).unwrap();
        assert!(is_bad_signature(&status), "{status:?}");
    }

    // The body changed under the same id, the signatures left as they
    // were accepted (so the cache holds a check of exactly these).
    let honest = propose(&store, "honest", fixtures::COMPANY);
    let record = store.proposal_record(&honest).unwrap().unwrap();
    assert!(store.proposal_status(&record).unwrap().is_ok());
    let swapped =
        String::from_utf8(expenditure("honest", date(2026, 2), 99_999).to_canonical_bytes())
            .unwrap();
    tamper(&tree, &honest, |r| r.proposal.body = swapped.clone());
    let record = store.proposal_record(&honest).unwrap().unwrap();
    let status = store.proposal_status(&record).unwrap();
    assert!(is_bad_signature(&status), "{status:?}");

    // Reopened (nothing cached), a bad signature is refused at the first
    // reading and every one after.
    drop(store);
    let store = Store::open_with(tree.clone(), &options).unwrap();
    let record = store.proposal_record(&good).unwrap().unwrap();
    for _ in 0..2 {
        let status = store.proposal_status(&record).unwrap();
        assert!(is_bad_signature(&status), "{status:?}");
    }
}

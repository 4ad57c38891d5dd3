//! Many ledgers in one sled `Db`, each in a tree of its own
//! (`Backing::Tree`), on a real sled directory: a write to one ledger never
//! changes another's records, each reopens and passes `open`'s checks, a
//! damaged tree is refused alone, and a tree is refused with the same typed
//! errors as a directory when it holds no ledger or another layout.

use feeledger_core::entry::{Body, Content, Date, Expenditure, ExpenseCategory};
use feeledger_core::fixtures;
use feeledger_core::note::NoteSigner;
use feeledger_store::{
    open_shared_db, Backing, ProposalOutcome, Store, StoreError, StoreOptions, Submission,
};

/// The ledgers of the shared `Db`: tree name and origin, one district's
/// communities.
const LEDGERS: [(&str, &str); 3] = [
    ("ledger-east", "east.example/ledger"),
    ("ledger-west", "west.example/ledger"),
    ("ledger-north", "north.example/ledger"),
];

const SHARED_CACHE_BYTES: u64 = 4 << 20;

fn log_signer(origin: &str) -> NoteSigner {
    fixtures::log_signer(origin)
}

fn genesis(origin: &str) -> Vec<u8> {
    fixtures::chain(vec![fixtures::two_role_genesis(origin, "共享小区")]).remove(0)
}

fn income(origin: &str, nonce: &str) -> Submission {
    let (body, signatures) = fixtures::property_fee(origin, nonce);
    Submission { body, signatures }
}

/// An expenditure, which needs the company's and the committee's
/// signatures: signed by the company alone, it stays pending.
fn expenditure(origin: &str) -> Body {
    Body {
        ledger: origin.into(),
        date: Date {
            year: 2026,
            month: 2,
            day: 9,
        },
        nonce: "spend".into(),
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: 5_000,
            category: ExpenseCategory::Cleaning,
            payee: "洁美保洁".into(),
            memo: String::new(),
            attachments: vec![],
            owners_approval: None,
        }),
    }
}

/// Every key and value of a tree.
fn records(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

/// Creates each ledger of [`LEDGERS`] in its own tree of `db`, with
/// `incomes` incomes each.
fn create_all(db: &sled::Db, incomes: usize) -> Vec<Store> {
    LEDGERS
        .iter()
        .map(|&(tree, origin)| {
            let store = Store::create_with(
                db.open_tree(tree).unwrap(),
                &genesis(origin),
                &log_signer(origin),
                &StoreOptions::default(),
            )
            .unwrap();
            let batch = (0..incomes)
                .map(|i| income(origin, &format!("{tree}-{i}")))
                .collect();
            for r in store.append_batch(batch, 10, &log_signer(origin)).unwrap() {
                r.unwrap();
            }
            store
        })
        .collect()
}

fn open_tree(db: &sled::Db, name: &str) -> Result<Store, StoreError> {
    Store::open_with(db.open_tree(name).unwrap(), &StoreOptions::default())
}

/// Proves ledgers sharing one `Db` are apart: every write kind to one
/// ledger (a batch of entries, a pending proposal, a witness key, a
/// cosignature) leaves every key and value of the other trees as it was,
/// and after the `Db` is closed and opened again each ledger opens (its
/// head, nodes and checkpoint checked) with its own size and root.
#[test]
fn a_write_to_one_ledger_never_changes_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared");
    let db = open_shared_db(&path, SHARED_CACHE_BYTES).unwrap();
    let stores = create_all(&db, 3);
    let others_before: Vec<_> = LEDGERS[1..]
        .iter()
        .map(|(name, _)| records(&db.open_tree(name).unwrap()))
        .collect();
    let (east, origin) = (&stores[0], LEDGERS[0].1);

    let batch = (0..20)
        .map(|i| income(origin, &format!("more-{i}")))
        .collect();
    for r in east.append_batch(batch, 20, &log_signer(origin)).unwrap() {
        r.unwrap();
    }
    let spend = expenditure(origin);
    let pending = east
        .propose(
            &spend.to_canonical_bytes(),
            fixtures::sign_with(&spend, &[("co", 1)]),
            30,
            &log_signer(origin),
        )
        .unwrap();
    assert!(matches!(pending, ProposalOutcome::Pending { .. }));
    let witness = NoteSigner::new(
        "witness.example",
        feeledger_core::note::KeyAlg::CosignatureV1,
        fixtures::seeded_key(9),
    )
    .unwrap();
    east.add_witness(&witness.verifier_key()).unwrap();
    let note = feeledger_core::note::Note::parse(&east.latest_checkpoint().unwrap()).unwrap();
    let line = feeledger_core::note::cosign(&note.text, 1_800_000_000, &witness).unwrap();
    east.add_cosignature(east.size(), line).unwrap();

    let others_after: Vec<_> = LEDGERS[1..]
        .iter()
        .map(|(name, _)| records(&db.open_tree(name).unwrap()))
        .collect();
    assert_eq!(
        others_after, others_before,
        "a write to {} changed another ledger's tree",
        LEDGERS[0].0
    );
    assert!(
        records(&db.open_tree(LEDGERS[0].0).unwrap()).len() > others_before[0].len(),
        "the writes went nowhere"
    );

    let expected: Vec<_> = stores.iter().map(|s| (s.size(), s.root())).collect();
    assert_eq!(expected[0].0, 24);
    assert_eq!(expected[1].0, 4);
    drop(stores);
    drop(db);
    let db = open_shared_db(&path, SHARED_CACHE_BYTES).unwrap();
    for ((name, _), (size, root)) in LEDGERS.iter().zip(expected) {
        let store = open_tree(&db, name).unwrap();
        assert_eq!((store.size(), store.root()), (size, root), "{name}");
        assert!(
            !store.inclusion_proof(1, size).unwrap().is_empty(),
            "{name}"
        );
    }
    let east = open_tree(&db, LEDGERS[0].0).unwrap();
    assert_eq!(east.proposals(10).unwrap().len(), 1);
    assert_eq!(east.witnesses().unwrap().len(), 1);
}

/// Proves damage stays in its tree: with the head leaf of one ledger
/// altered, that ledger is refused as damaged (`open` checks the head leaf
/// against the recorded head), while the other ledgers of the same `Db`
/// open with their roots.
#[test]
fn a_damaged_tree_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared");
    let db = open_shared_db(&path, SHARED_CACHE_BYTES).unwrap();
    let stores = create_all(&db, 2);
    let roots: Vec<_> = stores.iter().map(|s| s.root()).collect();
    let head_seq = stores[1].size() - 1;
    drop(stores);

    // The leaf record's key is `L` and its seq (the table in the store's
    // lib.rs); one byte of its value changes.
    let west = db.open_tree(LEDGERS[1].0).unwrap();
    let mut key = b"L".to_vec();
    key.extend_from_slice(&head_seq.to_be_bytes());
    let mut leaf = west.get(&key).unwrap().expect("the head leaf").to_vec();
    let last = leaf.len() - 3;
    leaf[last] ^= 0x01;
    west.insert(&key, leaf).unwrap();
    west.flush().unwrap();
    drop(west);
    drop(db);

    let db = open_shared_db(&path, SHARED_CACHE_BYTES).unwrap();
    let err = open_tree(&db, LEDGERS[1].0).unwrap_err();
    assert!(
        matches!(err, StoreError::Damaged { .. }),
        "the damaged ledger opened: {err:?}"
    );
    for i in [0, 2] {
        let store = open_tree(&db, LEDGERS[i].0).unwrap();
        assert_eq!(store.root(), roots[i], "{}", LEDGERS[i].0);
    }
}

/// What a backing holds before a store is opened in it.
#[derive(Debug, Clone, Copy)]
enum Held {
    Nothing,
    Garbage,
    AnotherFormat,
    Unversioned,
}

/// Fills `tree` with what `held` names.
fn plant(tree: &sled::Tree, held: Held) {
    match held {
        Held::Nothing => {}
        Held::Garbage => {
            tree.insert(b"zz-not-a-ledger", b"?".as_slice()).unwrap();
        }
        Held::AnotherFormat => {
            tree.insert(b"F", b"feeledger-store/1".as_slice()).unwrap();
            tree.insert(b"S", b"{}".as_slice()).unwrap();
        }
        Held::Unversioned => {
            tree.insert(b"S", b"{}".as_slice()).unwrap();
        }
    }
    tree.flush().unwrap();
}

/// The error `open_with` gives for `held`, as a comparable name.
fn refusal(backing: Backing) -> String {
    match Store::open_with(backing, &StoreOptions::default()) {
        Ok(_) => "opened".into(),
        Err(StoreError::NotInitialized { .. }) => "not_initialized".into(),
        Err(StoreError::IncompatibleFormat { found }) => format!("incompatible_format {found}"),
        Err(other) => format!("other: {other}"),
    }
}

/// Proves a tree is refused as a directory is: an empty one or one with
/// records but no ledger holds no ledger (`NotInitialized`, naming the
/// tree), one of another layout or the unversioned one is
/// `IncompatibleFormat`, and for each the error kind is the one a data
/// directory holding the same records gives. `create_with` refuses a tree
/// that holds a ledger (`AlreadyInitialized`), and `open_unchecked` reads
/// a tree's leaves.
#[test]
fn a_tree_is_refused_with_the_errors_of_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    let db = open_shared_db(&shared, SHARED_CACHE_BYTES).unwrap();
    let expected = [
        (Held::Nothing, "not_initialized"),
        (Held::Garbage, "not_initialized"),
        (Held::AnotherFormat, "incompatible_format feeledger-store/1"),
        (
            Held::Unversioned,
            "incompatible_format an earlier unversioned layout",
        ),
    ];
    for (held, want) in expected {
        let tree = db.open_tree(format!("{held:?}")).unwrap();
        plant(&tree, held);
        assert_eq!(
            refusal(Backing::Tree(tree)),
            want,
            "a tree holding {held:?}"
        );

        let own = dir.path().join(format!("own-{held:?}"));
        if !matches!(held, Held::Nothing) {
            let own_db = open_shared_db(&own, SHARED_CACHE_BYTES).unwrap();
            plant(&own_db, held);
            drop(own_db);
        }
        assert_eq!(
            refusal(Backing::Directory(own)),
            want,
            "a directory holding {held:?}"
        );
    }
    let err =
        Store::open_with(db.open_tree("Nothing").unwrap(), &StoreOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sled tree \"Nothing\" holds no ledger (run `feeledger init` first)"
    );

    let (name, origin) = LEDGERS[0];
    let store = Store::create_with(
        db.open_tree(name).unwrap(),
        &genesis(origin),
        &log_signer(origin),
        &StoreOptions::default(),
    )
    .unwrap();
    drop(store);
    let again = Store::create_with(
        db.open_tree(name).unwrap(),
        &genesis(origin),
        &log_signer(origin),
        &StoreOptions::default(),
    );
    assert!(
        matches!(again, Err(StoreError::AlreadyInitialized { .. })),
        "{again:?}"
    );
    let raw = Store::open_unchecked(db.open_tree(name).unwrap()).unwrap();
    let leaves: Vec<_> = raw.leaves().map(|r| r.unwrap().0).collect();
    assert_eq!(leaves, vec![0]);
    assert!(matches!(
        Store::open_unchecked(db.open_tree("Nothing").unwrap()),
        Err(StoreError::NotInitialized { .. })
    ));
}

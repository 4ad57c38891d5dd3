//! The store's index of its latest cosigned checkpoint, on a real sled
//! directory: what `GET /api/v1/checkpoints/cosigned` serves while later
//! appends sign checkpoints that nobody has cosigned yet.

use feeledger_core::fixtures;
use feeledger_core::note::{cosign, KeyAlg, Note, NoteSigner};
use feeledger_store::{FaultPoint, Store, Submission};
use std::path::Path;

const ORIGIN: &str = "cosigned.example/ledger";

fn log_signer() -> NoteSigner {
    fixtures::log_signer(ORIGIN)
}

fn cosigner(name: &str, seed: u8) -> NoteSigner {
    NoteSigner::new(name, KeyAlg::CosignatureV1, fixtures::seeded_key(seed)).unwrap()
}

fn genesis() -> Vec<u8> {
    fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "联署小区")]).remove(0)
}

/// Appends one property fee in its own batch (so a checkpoint of its own).
fn append_one(store: &Store, nonce: &str) {
    let (body, signatures) = fixtures::property_fee(ORIGIN, nonce);
    for r in store
        .append_batch(vec![Submission { body, signatures }], 10, &log_signer())
        .unwrap()
    {
        r.unwrap();
    }
}

/// Cosigns the checkpoint of `size` as `who` and stores the line.
fn cosign_at(store: &Store, size: u64, who: &NoteSigner) -> Vec<u8> {
    let note = Note::parse(&store.checkpoint(size).unwrap().unwrap()).unwrap();
    let line = cosign(&note.text, 1_800_000_000, who).unwrap();
    store.add_cosignature(size, line).unwrap()
}

fn ledger(dir: &Path, entries: usize) -> Store {
    let store = Store::create(dir, &genesis(), &log_signer()).unwrap();
    for i in 0..entries {
        append_one(&store, &format!("setup-{i}"));
    }
    store
}

/// Proves the latest cosigned checkpoint stays the one cosigned while later
/// appends sign new, uncosigned checkpoints, survives a reopen, moves when
/// a second cosigner signs a larger size, and does not move back when a
/// smaller size is cosigned; and that before any cosignature there is none.
#[test]
fn the_cosigned_index_survives_appends_and_reopening_and_moves_only_forward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let store = ledger(&path, 2);
    assert_eq!(store.latest_cosigned_checkpoint().unwrap(), None);
    let first = store.size();
    let wang = cosigner("weiyuan-wang", 21);
    let with_wang = cosign_at(&store, first, &wang);
    append_one(&store, "after-1");
    append_one(&store, "after-2");
    assert_eq!(store.size(), first + 2);
    assert_eq!(
        store.latest_cosigned_checkpoint().unwrap(),
        Some((first, with_wang.clone())),
        "later uncosigned checkpoints do not hide the cosigned one"
    );
    drop(store);

    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.latest_cosigned_checkpoint().unwrap(),
        Some((first, with_wang.clone())),
        "the index survives a reopen"
    );
    let later = store.size();
    let zhao = cosigner("weiyuan-zhao", 22);
    let with_zhao = cosign_at(&store, later, &zhao);
    assert_eq!(
        store.latest_cosigned_checkpoint().unwrap(),
        Some((later, with_zhao)),
        "a second cosigner at a larger size moves it"
    );
    // A cosignature on an older checkpoint is kept there, and the index
    // stays at the larger size.
    let older = cosign_at(&store, first, &zhao);
    assert_eq!(Note::parse(&older).unwrap().signatures.len(), 3);
    assert_eq!(store.latest_cosigned_size().unwrap(), Some(later));
    assert_eq!(store.checkpoint(first).unwrap(), Some(older));
}

/// Proves a cosignature that fails to be written does not move the index:
/// the index and the line are one write.
#[test]
fn a_failed_cosignature_leaves_the_index_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(&dir.path().join("ledger"), 1);
    let first = store.size();
    cosign_at(&store, first, &cosigner("weiyuan-wang", 21));
    append_one(&store, "after");
    let note = Note::parse(&store.latest_checkpoint().unwrap()).unwrap();
    let line = cosign(&note.text, 1_800_000_000, &cosigner("weiyuan-zhao", 22)).unwrap();
    store.inject_fault(FaultPoint::Flush);
    store.add_cosignature(store.size(), line).unwrap_err();
    assert_eq!(store.latest_cosigned_size().unwrap(), Some(first));
}

/// Proves a restore that keeps a cosigned latest checkpoint (its lines
/// byte for byte) indexes it as the latest cosigned one, and one that keeps
/// a checkpoint with the log's line only does not.
#[test]
fn restored_leaves_with_a_cosigned_checkpoint_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let source = ledger(&dir.path().join("source"), 3);
    let size = source.size();
    let cosigned = cosign_at(&source, size, &cosigner("weiyuan-wang", 21));
    let leaves: Vec<Vec<u8>> = (0..size)
        .map(|seq| source.leaf_bytes(seq).unwrap().unwrap())
        .collect();

    let plain = Store::create(&dir.path().join("plain"), &leaves[0], &log_signer()).unwrap();
    let log_only = source.checkpoint(size - 1).unwrap().unwrap();
    plain
        .append_leaves(
            leaves[1..size as usize - 1].to_vec(),
            Some(&log_only),
            &log_signer(),
        )
        .unwrap();
    assert_eq!(plain.latest_cosigned_size().unwrap(), None);

    let restored = Store::create(&dir.path().join("restored"), &leaves[0], &log_signer()).unwrap();
    restored
        .append_leaves(leaves[1..].to_vec(), Some(&cosigned), &log_signer())
        .unwrap();
    assert_eq!(
        restored.latest_cosigned_checkpoint().unwrap(),
        Some((size, cosigned))
    );
}

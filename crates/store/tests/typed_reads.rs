//! The store's typed readers of its derived keys, and its typed proof
//! errors, on a real sled directory: what the auditor and rebuild read
//! instead of the key layout.

use feeledger_core::fixtures;
use feeledger_core::hash::leaf_hash;
use feeledger_core::merkle::{NodeId, ProofRequestError};
use feeledger_core::note::NoteSigner;
use feeledger_store::{NodeTileFault, Store, StoreError, Submission};

const ORIGIN: &str = "typed.example/ledger";

fn log_signer() -> NoteSigner {
    fixtures::log_signer(ORIGIN)
}

/// A ledger of the genesis and `incomes` property fees.
fn ledger(dir: &std::path::Path, incomes: usize) -> Store {
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "类型小区")]).remove(0);
    let store = Store::create(dir, &genesis, &log_signer()).unwrap();
    let batch = (0..incomes)
        .map(|i| {
            let (body, signatures) = fixtures::property_fee(ORIGIN, &format!("fee-{i}"));
            Submission { body, signatures }
        })
        .collect();
    for r in store.append_batch(batch, 10, &log_signer()).unwrap() {
        r.unwrap();
    }
    store
}

/// A proof asked of a size beyond the log, or of a leaf beyond the size,
/// is a typed error with the old text and the `bad_proof_request` code.
#[test]
fn impossible_proof_requests_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path(), 2);
    let size = store.size();
    let beyond = store.inclusion_proof(0, size + 1).unwrap_err();
    assert!(
        matches!(beyond, StoreError::SizeBeyondLog { size: s, current } if s == size + 1 && current == size),
        "{beyond:?}"
    );
    assert_eq!(
        beyond.to_string(),
        format!(
            "proof request: tree size {} is beyond the log's {size}",
            size + 1
        )
    );
    assert_eq!(beyond.code(), "bad_proof_request");
    let index = store.inclusion_proof(size, size).unwrap_err();
    assert!(
        matches!(
            index,
            StoreError::ProofRequest(ProofRequestError::IndexOutOfRange { .. })
        ),
        "{index:?}"
    );
    assert_eq!(index.code(), "bad_proof_request");
    assert!(matches!(
        store.consistency_proof(2, 1).unwrap_err(),
        StoreError::ProofRequest(ProofRequestError::OldSizeExceedsNewSize { .. })
    ));
    assert!(matches!(
        store.root_at(size + 1).unwrap_err(),
        StoreError::SizeBeyondLog { .. }
    ));
}

/// The typed readers give what the leaves imply: each leaf's stored node
/// hash, one body-index record per entry with its seq, every entry in the
/// index buckets, and a node of a tree larger than the store is named as
/// missing from its tile.
#[test]
fn typed_readers_give_what_the_leaves_imply() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path(), 3);
    let size = store.size();
    let mut tiles = store.node_tiles(size);
    let mut body_seqs = Vec::new();
    for item in store.iter_leaves(0) {
        let (seq, bytes) = item.unwrap();
        let id = NodeId {
            level: 0,
            index: seq,
        };
        assert_eq!(tiles.stored(id).unwrap(), leaf_hash(&bytes));
        tiles.check(id, leaf_hash(&bytes)).unwrap();
        let body_id = feeledger_core::hash::sha256(
            feeledger_core::entry::body_bytes_of_leaf(&bytes).unwrap(),
        );
        body_seqs.push((body_id, Ok(seq)));
    }
    let differs = tiles
        .check(NodeId { level: 0, index: 0 }, leaf_hash(b"not a leaf"))
        .unwrap_err();
    assert_eq!(
        differs.to_string(),
        "Merkle node tile level 0 index 0 differs at node 0 (the hash of entries 0..=0)"
    );
    let missing = tiles
        .stored(NodeId {
            level: 0,
            index: size,
        })
        .unwrap_err();
    assert!(
        matches!(missing, NodeTileFault::Short { level: 0, tile: 0, hashes, node } if hashes as u64 == size && node == size),
        "{missing:?}"
    );
    store.check_no_node_tiles_beyond(size).unwrap();
    assert!(matches!(
        store.check_no_node_tiles_beyond(size - 1).unwrap_err(),
        NodeTileFault::WrongSize {
            level: 2,
            tile: 0,
            ..
        }
    ));

    body_seqs.sort_by_key(|(id, _)| *id);
    let index: Vec<_> = store.body_index().map(Result::unwrap).collect();
    assert_eq!(index, body_seqs);
    assert_eq!(store.reversal_links().count(), 0);

    let kind = store.index_bucket("kind", "income", 0).unwrap().unwrap();
    assert_eq!(kind.seqs, Ok((1..size).collect::<Vec<_>>()));
    assert!(store
        .index_bucket("nonesuch", "income", 0)
        .unwrap()
        .is_none());
    assert!(store.index_buckets().map(Result::unwrap).any(|b| b == kind));
    assert!(store
        .stored_totals()
        .map(Result::unwrap)
        .all(|t| t.fen.is_ok_and(|(income, _)| income > 0)));
}

//! What `feeledger verify-receipt` requires of a receipt beyond the C2SP
//! tlog-proof check (docs/format.md §11.5): the `extra` line, and a leaf
//! whose `seq` equals the receipt's index. Receipts are built here from the
//! core's fixtures and signed with a fixture log key, so each one verifies
//! as a tlog-proof and only the feeledger rule can refuse it.

mod support;

use feeledger_core::fixtures::{chain, log_signer, two_role_genesis};
use feeledger_core::hash::leaf_hash;
use feeledger_core::merkle::root_from_leaf_hashes;
use feeledger_core::note::{sign_checkpoint, Checkpoint, Receipt};
use support::run;

const ORIGIN: &str = "example.org/spec";

/// A receipt of `leaves[index]` in the tree of `leaves`, signed by the
/// fixture log key.
fn receipt(leaves: &[Vec<u8>], index: usize) -> Receipt {
    assert_eq!(leaves.len(), 2, "the proof below is for a tree of two");
    let hashes: Vec<_> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 2,
        root: root_from_leaf_hashes(&hashes),
        extensions: vec![],
    };
    Receipt {
        leaf: leaves[index].clone(),
        index: index as u64,
        proof: vec![hashes[1 - index]],
        checkpoint: sign_checkpoint(&checkpoint, &log_signer(ORIGIN)).unwrap(),
    }
}

fn verify(text: &str) -> support::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.txt");
    std::fs::write(&path, text).unwrap();
    let log_key = log_signer(ORIGIN).verifier_key().to_string();
    run([
        "verify-receipt",
        path.to_str().unwrap(),
        "--log-key",
        &log_key,
    ])
}

/// Proves a well-formed receipt of this shape verifies, so the refusals
/// below are the feeledger rules and not a broken fixture.
#[test]
fn a_receipt_with_extra_and_matching_seq_verifies() {
    let (genesis, sigs) = two_role_genesis(ORIGIN, "星光小区");
    let leaves = chain(vec![(genesis.clone(), sigs.clone()), (genesis, sigs)]);
    let out = verify(&receipt(&leaves, 0).to_text());
    out.assert_ok();
    assert!(out.stdout.contains("OK: entry 0"), "{}", out.stdout);
}

/// Proves a receipt whose leaf says seq 0 at index 1 is refused even
/// though its inclusion proof verifies (§11.5: seq MUST equal index).
#[test]
fn a_receipt_whose_leaf_seq_is_not_its_index_is_refused() {
    let (genesis, sigs) = two_role_genesis(ORIGIN, "星光小区");
    let seq0 = chain(vec![(genesis, sigs)]).remove(0);
    // The same leaf (seq 0) logged twice: at index 1 it lies about its place.
    let leaves = vec![seq0.clone(), seq0];
    let text = receipt(&leaves, 1).to_text();
    let parsed = Receipt::parse(text.as_bytes()).unwrap();
    parsed
        .verify(&log_signer(ORIGIN).verifier_key(), &[])
        .expect("the tlog-proof part verifies");
    let out = verify(&text);
    out.assert_failed();
    assert!(
        out.stderr
            .contains("the receipt's leaf says seq 0, its index is 1"),
        "{}",
        out.stderr
    );
}

/// Proves the `extra` line is required: a receipt without it (tlog-proof
/// allows that) stands for an empty leaf, and even when the log really
/// holds an empty leaf at that index, so that the proof verifies, it is
/// refused as no feeledger entry; `extra ` with nothing after it does not
/// even parse.
#[test]
fn a_receipt_without_extra_is_refused() {
    let (genesis, sigs) = two_role_genesis(ORIGIN, "星光小区");
    let leaves = vec![Vec::new(), chain(vec![(genesis, sigs)]).remove(0)];
    let text = receipt(&leaves, 0).to_text();
    assert!(
        !text.contains("\nextra"),
        "no extra line for an empty leaf: {text}"
    );
    Receipt::parse(text.as_bytes())
        .unwrap()
        .verify(&log_signer(ORIGIN).verifier_key(), &[])
        .expect("the tlog-proof part verifies");
    let out = verify(&text);
    out.assert_failed();
    assert!(
        out.stderr.contains("not a feeledger entry"),
        "{}",
        out.stderr
    );

    let with_extra = receipt(&leaves, 1).to_text();
    let extra_line = with_extra.lines().nth(1).unwrap();
    assert!(extra_line.starts_with("extra "), "{with_extra}");
    let out = verify(&with_extra.replacen(extra_line, "extra ", 1));
    out.assert_failed();
    assert!(out.stderr.contains("is not a receipt"), "{}", out.stderr);
}

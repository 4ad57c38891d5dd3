//! `feeledger-bench --merkle-only`: the Merkle work alone, in memory, as
//! `crates/bench/go/tlogbench.go` times Go's `golang.org/x/mod/sumdb/tlog`
//! on it: append N records of 500 bytes, keeping every node hash (Go's
//! `StoredHashes`; the core's `MemoryTree::push` after `leaf_hash`), then
//! build inclusion and consistency proofs at size N from random indices
//! (Go's `ProveRecord` and `ProveTree`; the core's `inclusion_proof` and
//! `consistency_proof`), with the same splitmix64 indices (seed 1) and the
//! same records, so both print the same root. See docs/performance.md,
//! "Compared with peers".

use crate::bench::Rng;
use anyhow::{bail, Context, Result};
use feeledger_core::hash::leaf_hash;
use feeledger_core::merkle::{consistency_proof, inclusion_proof, MemoryTree};
use std::hint::black_box;
use std::time::Instant;

/// Bytes of each record: about a feeledger leaf (the bench's are 496 on
/// average).
const RECORD_BYTES: usize = 500;

/// Proofs of each kind timed.
const PROOFS: u32 = 100_000;

/// Runs the Merkle-only figures for `entries` records.
///
/// # Errors
/// Fewer than 2 entries, or a proof the core refuses (a bug).
pub fn run(entries: u64) -> Result<()> {
    if entries < 2 {
        bail!("--merkle-only needs at least 2 entries");
    }
    let mut record = [0u8; RECORD_BYTES];
    let mut tree = MemoryTree::new();
    let start = Instant::now();
    for i in 0..entries {
        // Each record differs in its first 8 bytes (little-endian), as in
        // the Go program.
        record[..8].copy_from_slice(&i.to_le_bytes());
        tree.push(leaf_hash(&record));
    }
    let append_s = start.elapsed().as_secs_f64();
    println!(
        "figure  rust_tree_append         {:12.1} entry/s   ({:.3} us each, leaf_hash and MemoryTree::push of a {RECORD_BYTES}-byte record)",
        entries as f64 / append_s,
        append_s * 1e6 / entries as f64
    );
    let mut rng = Rng(1);
    let start = Instant::now();
    for _ in 0..PROOFS {
        let index = rng.below(entries);
        black_box(inclusion_proof(index, entries, &tree).context("inclusion proof")?);
    }
    println!(
        "figure  rust_inclusion_proof      {:12.3} us each",
        start.elapsed().as_secs_f64() * 1e6 / f64::from(PROOFS)
    );
    let start = Instant::now();
    for _ in 0..PROOFS {
        let old = rng.below(entries - 1) + 1;
        black_box(consistency_proof(old, entries, &tree).context("consistency proof")?);
    }
    println!(
        "figure  rust_consistency_proof    {:12.3} us each",
        start.elapsed().as_secs_f64() * 1e6 / f64::from(PROOFS)
    );
    println!(
        "note     root {} at {entries} entries",
        hex_of(&tree.root().0)
    );
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

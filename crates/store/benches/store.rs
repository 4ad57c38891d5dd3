//! Microbenchmarks of the store on a real sled directory: a durable append
//! (one entry, and a batch of 256 sharing one flush) and proofs read from
//! the store. `cargo bench -p feeledger-store`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use feeledger_core::fixtures;
use feeledger_store::{Store, Submission};
use std::hint::black_box;

const ORIGIN: &str = "bench.example/store";

fn new_store(dir: &std::path::Path) -> Store {
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "基准小区")]).remove(0);
    Store::create(dir, &genesis, &fixtures::log_signer(ORIGIN)).unwrap()
}

/// Signed incomes with fresh nonces (signing is setup, not timed).
fn incomes(next_nonce: &mut u64, count: usize) -> Vec<Submission> {
    (0..count)
        .map(|_| {
            *next_nonce += 1;
            let (body, signatures) = fixtures::property_fee(ORIGIN, &format!("n{next_nonce}"));
            Submission { body, signatures }
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let log_signer = fixtures::log_signer(ORIGIN);
    let mut group = c.benchmark_group("store");
    // Each append flushes to disk: a few hundred µs each on this machine.
    group.sample_size(20);
    for batch_len in [1usize, 256] {
        let dir = tempfile::tempdir().unwrap();
        let store = new_store(dir.path());
        let mut nonce = 0;
        group.throughput(Throughput::Elements(batch_len as u64));
        group.bench_function(format!("append_durable_batch_of_{batch_len}"), |b| {
            b.iter_batched(
                || incomes(&mut nonce, batch_len),
                |batch| {
                    for result in store.append_batch(batch, 10, &log_signer).unwrap() {
                        result.unwrap();
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.throughput(Throughput::Elements(1));
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    let mut nonce = 0;
    for _ in 0..10 {
        store
            .append_batch(incomes(&mut nonce, 1_000), 10, &log_signer)
            .unwrap();
    }
    let size = store.size();
    let mut index = 0u64;
    group.bench_function("inclusion_proof_10k", |b| {
        b.iter(|| {
            // A stride coprime with the size visits the leaves in a spread order.
            index = (index + 7_919) % size;
            black_box(store.inclusion_proof(index, size).unwrap())
        })
    });
    group.bench_function("consistency_proof_10k", |b| {
        b.iter(|| {
            index = (index + 7_919) % size;
            black_box(store.consistency_proof(index.max(1), size).unwrap())
        })
    });
    group.finish();
}

criterion_group!(store_benches, benches);
criterion_main!(store_benches);

//! Microbenchmarks of the core: canonical bytes, hashing, proofs, apply,
//! checkpoints. `cargo bench -p feeledger-core`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use feeledger_core::canonical::parse_canonical;
use feeledger_core::entry::{Body, Content, Date, Income, IncomeCategory, Leaf, Month};
use feeledger_core::fixtures;
use feeledger_core::hash::{leaf_hash, node_hash};
use feeledger_core::merkle::{self, MemoryTree};
use feeledger_core::note::{open_checkpoint, sign_checkpoint, Checkpoint};
use feeledger_core::state::Replayer;

const ORIGIN: &str = "bench.example/ledger";

fn genesis_leaf() -> Vec<u8> {
    fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "基准小区")]).remove(0)
}

fn income(i: u64) -> Body {
    Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 3,
            day: 15,
        },
        nonce: format!("n{i}"),
        content: Content::Income(Income {
            fund: "operating".into(),
            amount_fen: 28_050,
            category: IncomeCategory::PropertyFee,
            payer: "3-1502".into(),
            period: Month {
                year: 2026,
                month: 3,
            },
            memo: "三月物业费".into(),
        }),
    }
}

fn benches(c: &mut Criterion) {
    let genesis = genesis_leaf();
    let mut replayer = Replayer::start(&genesis).unwrap();
    let body = income(1);
    let leaf = replayer.state.next_leaf(
        body.clone(),
        fixtures::sign_with(&body, &[fixtures::COMPANY]),
        2,
    );
    let leaf_bytes = leaf.to_canonical_bytes();

    c.bench_function("canonical/encode_leaf", |b| {
        b.iter(|| black_box(&leaf).to_canonical_bytes())
    });
    c.bench_function("canonical/parse_leaf_bytes", |b| {
        b.iter(|| parse_canonical(black_box(&leaf_bytes)).unwrap())
    });
    c.bench_function("canonical/decode_leaf", |b| {
        b.iter(|| Leaf::decode(black_box(&leaf_bytes)).unwrap())
    });
    c.bench_function("hash/leaf_hash_400B", |b| {
        b.iter(|| leaf_hash(black_box(&leaf_bytes)))
    });
    let (h1, h2) = (leaf_hash(b"a"), leaf_hash(b"b"));
    c.bench_function("hash/node_hash", |b| {
        b.iter(|| node_hash(black_box(&h1), black_box(&h2)))
    });

    let mut tree = MemoryTree::new();
    for i in 0..100_000u64 {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    let root = tree.root();
    c.bench_function("proof/inclusion_build_100k", |b| {
        b.iter(|| merkle::inclusion_proof(black_box(54_321), 100_000, &tree).unwrap())
    });
    let proof = merkle::inclusion_proof(54_321, 100_000, &tree).unwrap();
    let lh = leaf_hash(&54_321u64.to_be_bytes());
    c.bench_function("proof/inclusion_verify_100k", |b| {
        b.iter(|| merkle::verify_inclusion(&lh, 54_321, 100_000, black_box(&proof), &root).unwrap())
    });
    c.bench_function("proof/consistency_build_100k", |b| {
        b.iter(|| merkle::consistency_proof(black_box(54_321), 100_000, &tree).unwrap())
    });

    c.bench_function("apply/income_1_signature", |b| {
        b.iter_batched(
            || replayer.state.clone(),
            |mut state| {
                let lookups = Default::default();
                state.apply(black_box(&leaf_bytes), &lookups).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    let _ = replayer.apply(&leaf_bytes).unwrap();

    let log = fixtures::log_signer(ORIGIN);
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 1_000_000,
        root,
        extensions: vec![],
    };
    c.bench_function("checkpoint/sign", |b| {
        b.iter(|| sign_checkpoint(black_box(&checkpoint), &log).unwrap())
    });
    let note = sign_checkpoint(&checkpoint, &log).unwrap().to_bytes();
    let vkey = log.verifier_key();
    c.bench_function("checkpoint/open_and_verify", |b| {
        b.iter(|| open_checkpoint(black_box(&note), &vkey, &[]).unwrap())
    });
}

criterion_group! {
    name = core;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = benches
}
criterion_main!(core);

//! Microbenchmarks of the core: canonical bytes, hashing, proofs, apply,
//! checkpoints. `cargo bench -p feeledger-core`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use ed25519_dalek::{Signer as _, SigningKey};
use feeledger_core::canonical::parse_canonical;
use feeledger_core::entry::{
    default_rules, Body, Content, Date, EntrySignature, FundDef, Genesis, Income, IncomeCategory,
    KeyDef, Leaf, Month, Role, RoleDef, Roles,
};
use feeledger_core::hash::{leaf_hash, node_hash, Hash};
use feeledger_core::merkle::{self, MemoryTree};
use feeledger_core::note::{open_checkpoint, sign_checkpoint, Checkpoint, KeyAlg, NoteSigner};
use feeledger_core::state::Replayer;

const ORIGIN: &str = "bench.example/ledger";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn sign(body: &Body, name: &str, k: &SigningKey) -> EntrySignature {
    EntrySignature::new(name, &k.sign(&body.signing_message()))
}

fn genesis_leaf() -> Vec<u8> {
    let b64 = |k: &SigningKey| {
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            k.verifying_key().as_bytes(),
        )
    };
    let mut roles = Roles::new();
    roles.insert(
        Role::Company,
        RoleDef {
            threshold: 1,
            keys: vec![KeyDef {
                name: "co".into(),
                public_key: b64(&key(1)),
            }],
        },
    );
    roles.insert(
        Role::Committee,
        RoleDef {
            threshold: 1,
            keys: vec![KeyDef {
                name: "cm".into(),
                public_key: b64(&key(2)),
            }],
        },
    );
    let log = NoteSigner::new(ORIGIN, KeyAlg::Ed25519, key(9)).unwrap();
    let body = Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 1,
            day: 1,
        },
        nonce: "g".into(),
        content: Content::Genesis(Genesis {
            name: "基准小区".into(),
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
            log_key: log.verifier_key().to_string(),
        }),
    };
    let sigs = vec![sign(&body, "cm", &key(2)), sign(&body, "co", &key(1))];
    Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: 1,
        body,
        signatures: sigs,
    }
    .to_canonical_bytes()
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
    let leaf = replayer
        .state
        .next_leaf(body.clone(), vec![sign(&body, "co", &key(1))], 2);
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

    let log = NoteSigner::new(ORIGIN, KeyAlg::Ed25519, key(9)).unwrap();
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

//! The worked example of `docs/format.md`, rebuilt from fixed keys.
//!
//! Ed25519 signatures are deterministic (RFC 8032), so a ledger built from
//! fixed seeds, fixed nonces and fixed times has fixed bytes, hashes,
//! signatures and checkpoint notes. This test rebuilds the example, checks it
//! with the crate's own verifiers, asserts every value against the constants
//! below, and asserts that each constant appears verbatim in
//! `docs/format.md`, so the document cannot drift from the code.
//!
//! Run `cargo test -p feeledger-core --test format_example -- --nocapture`
//! to print the values.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey};
use feeledger_core::entry::{
    default_rules, Body, Content, Date, EntrySignature, FundDef, Genesis, Income, IncomeCategory,
    KeyDef, Leaf, Month, Role, RoleDef, Roles,
};
use feeledger_core::hash::{leaf_hash, node_hash, sha256, Hash};
use feeledger_core::merkle::{inclusion_proof, root_from_leaf_hashes, MemoryTree};
use feeledger_core::note::{
    cosign, open_checkpoint, sign_checkpoint, Checkpoint, KeyAlg, NoteSigner, Receipt, VerifierKey,
};
use feeledger_core::state::Replayer;

const ORIGIN: &str = "example.org/xingguang";
const GENESIS_TIME_MS: u64 = 1_709_251_200_000; // 2024-03-01T00:00:00Z
const INCOME_TIME_MS: u64 = 1_709_614_800_000; // 2024-03-05T05:00:00Z
const COSIGNATURE_TIME_S: u64 = 1_709_614_801; // one second later

/// (key name, seed byte): the seed is 32 copies of the byte.
const ROLE_KEYS: [(&str, u8); 4] = [
    ("company-1", 0x01),
    ("committee-1", 0x02),
    ("committee-2", 0x03),
    ("committee-3", 0x04),
];
const LOG_SEED: u8 = 0x05;

fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn seed_of(name: &str) -> u8 {
    ROLE_KEYS.iter().find(|(n, _)| *n == name).unwrap().1
}

fn keydef(name: &str) -> KeyDef {
    KeyDef {
        display_name: None,
        name: name.into(),
        public_key: B64.encode(sk(seed_of(name)).verifying_key().as_bytes()),
    }
}

fn sign(body: &Body, names: &[&str]) -> Vec<EntrySignature> {
    // Already in key-name order: "committee-…" < "company-1".
    names
        .iter()
        .map(|n| EntrySignature::new(n, &sk(seed_of(n)).sign(&body.signing_message())))
        .collect()
}

/// Every value of the worked example, as `docs/format.md` shows it.
const EXPECTED: &[(&str, &str)] = &[
    (
        "seed company-1",
        "0101010101010101010101010101010101010101010101010101010101010101",
    ),
    (
        "seed committee-1",
        "0202020202020202020202020202020202020202020202020202020202020202",
    ),
    (
        "seed committee-2",
        "0303030303030303030303030303030303030303030303030303030303030303",
    ),
    (
        "seed committee-3",
        "0404040404040404040404040404040404040404040404040404040404040404",
    ),
    (
        "seed log",
        "0505050505050505050505050505050505050505050505050505050505050505",
    ),
    (
        "public key hex company-1",
        "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
    ),
    (
        "public key hex committee-1",
        "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394",
    ),
    (
        "public key hex committee-2",
        "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1",
    ),
    (
        "public key hex committee-3",
        "ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c",
    ),
    (
        "public key hex log",
        "6e7a1cdd29b0b78fd13af4c5598feff4ef2a97166e3ca6f2e4fbfccd80505bf1",
    ),
    (
        "public key base64 company-1",
        "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=",
    ),
    (
        "public key base64 committee-1",
        "gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=",
    ),
    (
        "public key base64 committee-2",
        "7UkoxijRwsbq6QM4kFmVYSlZJzpcY/k2NsFGFKyHN9E=",
    ),
    (
        "public key base64 committee-3",
        "ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw=",
    ),
    (
        "log key id",
        "3b39b79c",
    ),
    (
        "log verifier key",
        "example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx",
    ),
    (
        "genesis body JCS",
        "{\"currency\":\"CNY\",\"date\":\"2024-03-01\",\"funds\":[{\"id\":\"maintenance\",\"name\":\"专项维修资金\"},{\"id\":\"operating\",\"name\":\"日常运营\"},{\"id\":\"public_revenue\",\"name\":\"公共收益\"}],\"kind\":\"genesis\",\"ledger\":\"example.org/xingguang\",\"log_key\":\"example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx\",\"minor_unit\":\"fen\",\"minor_units_per_major\":100,\"name\":\"星光小区 X Star District\",\"nonce\":\"genesis\",\"roles\":{\"committee\":{\"keys\":[{\"name\":\"committee-1\",\"public_key\":\"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=\"},{\"name\":\"committee-2\",\"public_key\":\"7UkoxijRwsbq6QM4kFmVYSlZJzpcY/k2NsFGFKyHN9E=\"},{\"name\":\"committee-3\",\"public_key\":\"ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw=\"}],\"threshold\":2},\"company\":{\"keys\":[{\"name\":\"company-1\",\"public_key\":\"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=\"}],\"threshold\":1}},\"rules\":{\"expenditure\":[\"company\",\"committee\"],\"governance\":[\"company\",\"committee\"],\"income\":[\"company\"],\"transfer\":[\"company\",\"committee\"]}}",
    ),
    (
        "genesis proposal id",
        "4d55d2eb33501736d49af2e5f23afc0bd710921a7eb908f5182cef755d9cea73",
    ),
    (
        "genesis leaf JCS",
        "{\"body\":{\"currency\":\"CNY\",\"date\":\"2024-03-01\",\"funds\":[{\"id\":\"maintenance\",\"name\":\"专项维修资金\"},{\"id\":\"operating\",\"name\":\"日常运营\"},{\"id\":\"public_revenue\",\"name\":\"公共收益\"}],\"kind\":\"genesis\",\"ledger\":\"example.org/xingguang\",\"log_key\":\"example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx\",\"minor_unit\":\"fen\",\"minor_units_per_major\":100,\"name\":\"星光小区 X Star District\",\"nonce\":\"genesis\",\"roles\":{\"committee\":{\"keys\":[{\"name\":\"committee-1\",\"public_key\":\"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=\"},{\"name\":\"committee-2\",\"public_key\":\"7UkoxijRwsbq6QM4kFmVYSlZJzpcY/k2NsFGFKyHN9E=\"},{\"name\":\"committee-3\",\"public_key\":\"ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw=\"}],\"threshold\":2},\"company\":{\"keys\":[{\"name\":\"company-1\",\"public_key\":\"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=\"}],\"threshold\":1}},\"rules\":{\"expenditure\":[\"company\",\"committee\"],\"governance\":[\"company\",\"committee\"],\"income\":[\"company\"],\"transfer\":[\"company\",\"committee\"]}},\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"seq\":0,\"signatures\":[{\"key\":\"committee-1\",\"sig\":\"1IiWn1okvMIW+fz9/LAs42jzGfStb3Nb+XbF7ZeC9R+f/cVVZNzphEKq+O5+lyvh3Ya0HAobSYdZtS5iVUtNDw==\"},{\"key\":\"committee-2\",\"sig\":\"BXwcU1EyVH0PceVo0u795BIeHANR8EBoyfmXSrjYFHOGGjIG08Lel2Xrs3Hlhz48gVe1XnZSXhV0eQDorgCSDw==\"},{\"key\":\"company-1\",\"sig\":\"b3L4V/QxhqKJqW6RIa4jTOtZz3SSZJoZJfD7kcHvkfkkBlbo0WKcKItn2XGBfS5UT4gBj3s25DefLDfoiiyJCQ==\"}],\"time\":1709251200000}",
    ),
    (
        "genesis leaf hash",
        "30dc6720fd3aba740015e7edae68c8e755073b05bd4800112a9f05ccea4f0ee5",
    ),
    (
        "income body JCS",
        "{\"amount_fen\":128050,\"category\":\"parking\",\"date\":\"2024-03-05\",\"fund\":\"public_revenue\",\"kind\":\"income\",\"ledger\":\"example.org/xingguang\",\"memo\":\"3月车位租金 March parking rent\",\"nonce\":\"inc-2024-03-0001\",\"payer\":\"3-1502\",\"period\":\"2024-03\"}",
    ),
    (
        "income proposal id",
        "f30a8f0d95e02941b2dd4c3051fde39869f551f852484506a375f867dc7eac48",
    ),
    (
        "income company-1 signature",
        "JIGDH5gcFysuIUbf6/y/rNxjw8vhlbvHOR/h3DChsGfvOKP23V/7glnE7dC+flgpKpFj6GgnfmzAlpUxdcM/BQ==",
    ),
    (
        "income leaf JCS",
        "{\"body\":{\"amount_fen\":128050,\"category\":\"parking\",\"date\":\"2024-03-05\",\"fund\":\"public_revenue\",\"kind\":\"income\",\"ledger\":\"example.org/xingguang\",\"memo\":\"3月车位租金 March parking rent\",\"nonce\":\"inc-2024-03-0001\",\"payer\":\"3-1502\",\"period\":\"2024-03\"},\"prev\":\"30dc6720fd3aba740015e7edae68c8e755073b05bd4800112a9f05ccea4f0ee5\",\"seq\":1,\"signatures\":[{\"key\":\"company-1\",\"sig\":\"JIGDH5gcFysuIUbf6/y/rNxjw8vhlbvHOR/h3DChsGfvOKP23V/7glnE7dC+flgpKpFj6GgnfmzAlpUxdcM/BQ==\"}],\"time\":1709614800000}",
    ),
    (
        "income leaf hash",
        "d032ee19d4ea44c32fa3158b4cdaecb0fc6a79cf9a7a8a9a2de0b843eea5d79c",
    ),
    (
        "root hex",
        "c4e40e0f0d0cf599bd49eed413ccaf327b489fa9f79424161648e2300ec2d9f1",
    ),
    (
        "root base64",
        "xOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=",
    ),
    (
        "checkpoint note",
        "example.org/xingguang\n2\nxOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=\n\n— example.org/xingguang Ozm3nPH2/uq2K2gyisLoYMSZFtgfTAQGTraShBtR8hXXRTHmli0ENvG4CI17NBg+qwrd5f4lI5zKJ1Ym4wvEThVNfAo=\n",
    ),
    (
        "committee-1 cosigner key id",
        "a1ae8a3a",
    ),
    (
        "committee-1 cosigner verifier key",
        "committee-1+a1ae8a3a+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU",
    ),
    (
        "cosigned checkpoint note",
        "example.org/xingguang\n2\nxOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=\n\n— example.org/xingguang Ozm3nPH2/uq2K2gyisLoYMSZFtgfTAQGTraShBtR8hXXRTHmli0ENvG4CI17NBg+qwrd5f4lI5zKJ1Ym4wvEThVNfAo=\n— committee-1 oa6KOgAAAABl5qbR7It+1d0oxLBtwvE8vblkOgIgJzoAR2o8HMd1QKiVLouxHpqhQr7aokIV7OOLNAVUPxe5HPU00voOmPnZqJi3CQ==\n",
    ),
    (
        "receipt",
        "c2sp.org/tlog-proof@v1\nextra eyJib2R5Ijp7ImFtb3VudF9mZW4iOjEyODA1MCwiY2F0ZWdvcnkiOiJwYXJraW5nIiwiZGF0ZSI6IjIwMjQtMDMtMDUiLCJmdW5kIjoicHVibGljX3JldmVudWUiLCJraW5kIjoiaW5jb21lIiwibGVkZ2VyIjoiZXhhbXBsZS5vcmcveGluZ2d1YW5nIiwibWVtbyI6IjPmnIjovabkvY3np5/ph5EgTWFyY2ggcGFya2luZyByZW50Iiwibm9uY2UiOiJpbmMtMjAyNC0wMy0wMDAxIiwicGF5ZXIiOiIzLTE1MDIiLCJwZXJpb2QiOiIyMDI0LTAzIn0sInByZXYiOiIzMGRjNjcyMGZkM2FiYTc0MDAxNWU3ZWRhZTY4YzhlNzU1MDczYjA1YmQ0ODAwMTEyYTlmMDVjY2VhNGYwZWU1Iiwic2VxIjoxLCJzaWduYXR1cmVzIjpbeyJrZXkiOiJjb21wYW55LTEiLCJzaWciOiJKSUdESDVnY0Z5c3VJVWJmNi95L3JOeGp3OHZobGJ2SE9SL2gzRENoc0dmdk9LUDIzVi83Z2xuRTdkQytmbGdwS3BGajZHZ25mbXpBbHBVeGRjTS9CUT09In1dLCJ0aW1lIjoxNzA5NjE0ODAwMDAwfQ==\nindex 1\nMNxnIP06unQAFeftrmjI51UHOwW9SAARKp8FzOpPDuU=\n\nexample.org/xingguang\n2\nxOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=\n\n— example.org/xingguang Ozm3nPH2/uq2K2gyisLoYMSZFtgfTAQGTraShBtR8hXXRTHmli0ENvG4CI17NBg+qwrd5f4lI5zKJ1Ym4wvEThVNfAo=\n— committee-1 oa6KOgAAAABl5qbR7It+1d0oxLBtwvE8vblkOgIgJzoAR2o8HMd1QKiVLouxHpqhQr7aokIV7OOLNAVUPxe5HPU00voOmPnZqJi3CQ==\n",
    ),
];

/// Every value the document shows, in the order it shows them.
fn compute() -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let log = NoteSigner::new(ORIGIN, KeyAlg::Ed25519, sk(LOG_SEED)).unwrap();

    // Keys.
    for (label, seed) in [
        ("seed company-1", 0x01u8),
        ("seed committee-1", 0x02),
        ("seed committee-2", 0x03),
        ("seed committee-3", 0x04),
        ("seed log", LOG_SEED),
    ] {
        out.push((label, hex::encode([seed; 32])));
    }
    for (label, seed) in [
        ("public key hex company-1", 0x01u8),
        ("public key hex committee-1", 0x02),
        ("public key hex committee-2", 0x03),
        ("public key hex committee-3", 0x04),
        ("public key hex log", LOG_SEED),
    ] {
        out.push((label, hex::encode(sk(seed).verifying_key().as_bytes())));
    }
    for (label, seed) in [
        ("public key base64 company-1", 0x01u8),
        ("public key base64 committee-1", 0x02),
        ("public key base64 committee-2", 0x03),
        ("public key base64 committee-3", 0x04),
    ] {
        out.push((label, B64.encode(sk(seed).verifying_key().as_bytes())));
    }
    let log_vkey = log.verifier_key().to_string();
    out.push(("log key id", hex::encode(log.key_id())));
    out.push(("log verifier key", log_vkey.clone()));

    // Genesis.
    let mut roles = Roles::new();
    roles.insert(
        Role::Company,
        RoleDef {
            threshold: 1,
            keys: vec![keydef("company-1")],
        },
    );
    roles.insert(
        Role::Committee,
        RoleDef {
            threshold: 2,
            keys: vec![
                keydef("committee-1"),
                keydef("committee-2"),
                keydef("committee-3"),
            ],
        },
    );
    let genesis = Body {
        ledger: ORIGIN.into(),
        date: Date::parse("2024-03-01").unwrap(),
        nonce: "genesis".into(),
        content: Content::Genesis(Genesis {
            name: "星光小区 X Star District".into(),
            currency: "CNY".into(),
            minor_unit: "fen".into(),
            minor_units_per_major: 100,
            funds: vec![
                FundDef {
                    id: "maintenance".into(),
                    name: "专项维修资金".into(),
                },
                FundDef {
                    id: "operating".into(),
                    name: "日常运营".into(),
                },
                FundDef {
                    id: "public_revenue".into(),
                    name: "公共收益".into(),
                },
            ],
            roles,
            rules: default_rules(false),
            log_key: log_vkey,
        }),
    };
    let genesis_jcs = String::from_utf8(genesis.to_canonical_bytes()).unwrap();
    assert_eq!(Body::decode(genesis_jcs.as_bytes()).unwrap(), genesis);
    let genesis_leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: GENESIS_TIME_MS,
        signatures: sign(&genesis, &["committee-1", "committee-2", "company-1"]),
        body: genesis.clone(),
    };
    let genesis_leaf_jcs = String::from_utf8(genesis_leaf.to_canonical_bytes()).unwrap();
    let h0 = leaf_hash(genesis_leaf_jcs.as_bytes());
    out.push(("genesis body JCS", genesis_jcs));
    out.push(("genesis proposal id", genesis.id().to_hex()));
    out.push(("genesis leaf JCS", genesis_leaf_jcs.clone()));
    out.push(("genesis leaf hash", h0.to_hex()));

    // Income.
    let income = Body {
        ledger: ORIGIN.into(),
        date: Date::parse("2024-03-05").unwrap(),
        nonce: "inc-2024-03-0001".into(),
        content: Content::Income(Income {
            fund: "public_revenue".into(),
            amount_fen: 128_050,
            category: IncomeCategory::Parking,
            payer: "3-1502".into(),
            period: Month::parse("2024-03").unwrap(),
            memo: "3月车位租金 March parking rent".into(),
        }),
    };
    let income_jcs = String::from_utf8(income.to_canonical_bytes()).unwrap();
    let signing_message = income.signing_message();
    assert!(signing_message.starts_with(b"feeledger/entry/v1\n"));
    assert_eq!(&signing_message[19..], income_jcs.as_bytes());
    let income_sigs = sign(&income, &["company-1"]);
    let income_leaf = Leaf {
        seq: 1,
        prev: h0,
        time_ms: INCOME_TIME_MS,
        body: income.clone(),
        signatures: income_sigs.clone(),
    };
    let income_leaf_jcs = String::from_utf8(income_leaf.to_canonical_bytes()).unwrap();
    let h1 = leaf_hash(income_leaf_jcs.as_bytes());
    assert_eq!(income.id(), sha256(income_jcs.as_bytes()));
    out.push(("income body JCS", income_jcs));
    out.push(("income proposal id", income.id().to_hex()));
    out.push(("income company-1 signature", income_sigs[0].sig.clone()));
    out.push(("income leaf JCS", income_leaf_jcs.clone()));
    out.push(("income leaf hash", h1.to_hex()));

    // The ledger replays: both leaves are valid.
    let mut replayer = Replayer::start(genesis_leaf_jcs.as_bytes()).unwrap();
    let applied = replayer.apply(income_leaf_jcs.as_bytes()).unwrap();
    assert_eq!(applied.leaf_hash, h1);
    assert_eq!(replayer.state.balances()["public_revenue"], 128_050);

    // Tree and checkpoint.
    let root = node_hash(&h0, &h1);
    assert_eq!(root, root_from_leaf_hashes(&[h0, h1]));
    out.push(("root hex", root.to_hex()));
    out.push(("root base64", B64.encode(root.as_bytes())));
    let checkpoint = Checkpoint {
        origin: ORIGIN.into(),
        size: 2,
        root,
        extensions: vec![],
    };
    let mut note = sign_checkpoint(&checkpoint, &log).unwrap();
    let note_text = String::from_utf8(note.to_bytes()).unwrap();
    out.push(("checkpoint note", note_text));

    // A cosignature by committee-1's key, as a cosignature/v1 key.
    let witness = NoteSigner::new("committee-1", KeyAlg::CosignatureV1, sk(0x02)).unwrap();
    out.push(("committee-1 cosigner key id", hex::encode(witness.key_id())));
    out.push((
        "committee-1 cosigner verifier key",
        witness.verifier_key().to_string(),
    ));
    note.add_signature(cosign(&note.text, COSIGNATURE_TIME_S, &witness).unwrap())
        .unwrap();
    let cosigned = String::from_utf8(note.to_bytes()).unwrap();
    let (cp, _, cosigs) = open_checkpoint(
        cosigned.as_bytes(),
        replayer.state.log_key(),
        &replayer.state.cosigner_keys(),
    )
    .unwrap();
    assert_eq!((cp.size, cp.root), (2, root));
    assert_eq!(cosigs.len(), 1);
    assert_eq!(cosigs[0].timestamp_s, Some(COSIGNATURE_TIME_S));
    out.push(("cosigned checkpoint note", cosigned));

    // A receipt for the income (index 1).
    let mut tree = MemoryTree::new();
    tree.push(h0);
    tree.push(h1);
    let proof = inclusion_proof(1, 2, &tree).unwrap();
    assert_eq!(proof, vec![h0]);
    let receipt = Receipt {
        leaf: income_leaf_jcs.into_bytes(),
        index: 1,
        proof,
        checkpoint: note,
    };
    let receipt_text = receipt.to_text();
    let parsed = Receipt::parse(receipt_text.as_bytes()).unwrap();
    let log_vkey = VerifierKey::parse(
        &out.iter()
            .find(|(l, _)| *l == "log verifier key")
            .unwrap()
            .1,
    )
    .unwrap();
    let verified = parsed.verify(&log_vkey, &[]).unwrap();
    assert_eq!(verified.leaf_hash, h1);
    out.push(("receipt", receipt_text));
    out
}

// Proves the worked example prints, and that it is what the code builds.
#[test]
fn print_worked_example() {
    let values = compute();
    for (label, value) in &values {
        println!("=== {label}\n{value}");
    }
    // One machine-readable line, for regenerating the constants and the doc.
    let map: serde_json::Map<String, serde_json::Value> = values
        .into_iter()
        .map(|(l, v)| (l.to_string(), v.into()))
        .collect();
    println!("JSON {}", serde_json::Value::Object(map));
}

// Proves the code still builds exactly the worked example: every key,
// canonical body, proposal id, signature, leaf, leaf hash, root, checkpoint,
// cosignature and receipt equals the value recorded here.
#[test]
fn worked_example_is_fixed() {
    let got = compute();
    assert_eq!(got.len(), EXPECTED.len());
    for ((label, value), (want_label, want)) in got.iter().zip(EXPECTED) {
        assert_eq!(label, want_label);
        assert_eq!(value, want, "the worked example's {label} changed");
    }
}

// Proves docs/format.md shows every value of the worked example verbatim,
// so the document cannot drift from the code.
#[test]
fn format_doc_contains_the_worked_example() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format.md");
    let doc = std::fs::read_to_string(path).expect("docs/format.md");
    for (label, value) in EXPECTED {
        assert!(
            doc.contains(value),
            "docs/format.md does not show the {label} verbatim:\n{value}"
        );
    }
    // Multi-line values are shown as whole code blocks, not split up.
    for (label, value) in EXPECTED.iter().filter(|(_, v)| v.contains('\n')) {
        assert!(
            doc.contains(&format!("```text\n{value}```")),
            "the {label} is not one code block"
        );
    }
}

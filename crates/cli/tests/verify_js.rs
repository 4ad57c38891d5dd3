//! The page's verifier (`crates/server/web/verify.js`, the second
//! implementation of the format) against the vectors the core is held to:
//! the RFC 6962 inclusion vectors of `crates/core/tests/vectors/rfc6962/`
//! (every `wantErr` case included), the worked example of `docs/format.md`
//! (JCS, leaf hashes, entry signatures, key ids, the checkpoint note and its
//! cosignature, all checked against the core by
//! `crates/core/tests/format_example.rs`), JCS against the core's
//! canonicalizer, and tampered notes, keys and leaves.
//!
//! verify.js is taken as the real server serves it (`/assets/verify.js`),
//! and its exported pure functions run in real headless Chromium (its
//! WebCrypto is what the page uses): a small loopback server puts a harness
//! page and the cases on the same origin as the served module, the harness
//! runs every case and writes the results into the DOM, and each test below
//! compares its share of them with what the core says. Chromium runs once
//! for all the tests of this file.
//!
//! Not covered: verify.js has no consistency-proof function (the page never
//! checks one), so the consistency vectors have nothing to run against.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::chromium::chromium;
use support::http::Server;
use support::proxy::{loopback, Answer, Loopback};
use support::{reordered_json, Community};

// ---------------------------------------------------------------------------
// The worked example of docs/format.md (each value is asserted to appear
// there verbatim, and format_example.rs asserts the core builds it)
// ---------------------------------------------------------------------------

const LOG_VKEY: &str =
    "example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx";
const LOG_KEY_ID: &str = "3b39b79c";
const COSIGNER_VKEY: &str = "committee-1+a1ae8a3a+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
const COSIGNER_KEY_ID: &str = "a1ae8a3a";
const COMPANY_PUBLIC_KEY: &str = "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=";
const COMMITTEE_1_PUBLIC_KEY: &str = "gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=";
const GENESIS_BODY_JCS: &str = r#"{"currency":"CNY","date":"2024-03-01","funds":[{"id":"maintenance","name":"专项维修资金"},{"id":"operating","name":"日常运营"},{"id":"public_revenue","name":"公共收益"}],"kind":"genesis","ledger":"example.org/xingguang","log_key":"example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx","minor_unit":"fen","minor_units_per_major":100,"name":"星光小区 X Star District","nonce":"genesis","roles":{"committee":{"keys":[{"name":"committee-1","public_key":"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="},{"name":"committee-2","public_key":"7UkoxijRwsbq6QM4kFmVYSlZJzpcY/k2NsFGFKyHN9E="},{"name":"committee-3","public_key":"ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw="}],"threshold":2},"company":{"keys":[{"name":"company-1","public_key":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="}],"threshold":1}},"rules":{"expenditure":["company","committee"],"governance":["company","committee"],"income":["company"],"transfer":["company","committee"]}}"#;
const GENESIS_PROPOSAL_ID: &str =
    "4d55d2eb33501736d49af2e5f23afc0bd710921a7eb908f5182cef755d9cea73";
const GENESIS_LEAF_JCS: &str = r#"{"body":{"currency":"CNY","date":"2024-03-01","funds":[{"id":"maintenance","name":"专项维修资金"},{"id":"operating","name":"日常运营"},{"id":"public_revenue","name":"公共收益"}],"kind":"genesis","ledger":"example.org/xingguang","log_key":"example.org/xingguang+3b39b79c+AW56HN0psLeP0Tr0xVmP7/TvKpcWbjym8uT7/M2AUFvx","minor_unit":"fen","minor_units_per_major":100,"name":"星光小区 X Star District","nonce":"genesis","roles":{"committee":{"keys":[{"name":"committee-1","public_key":"gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q="},{"name":"committee-2","public_key":"7UkoxijRwsbq6QM4kFmVYSlZJzpcY/k2NsFGFKyHN9E="},{"name":"committee-3","public_key":"ypOsFwUYcHHWe4PH/w7+gQjo7EUwV113JoeTM9vavnw="}],"threshold":2},"company":{"keys":[{"name":"company-1","public_key":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="}],"threshold":1}},"rules":{"expenditure":["company","committee"],"governance":["company","committee"],"income":["company"],"transfer":["company","committee"]}},"prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":0,"signatures":[{"key":"committee-1","sig":"1IiWn1okvMIW+fz9/LAs42jzGfStb3Nb+XbF7ZeC9R+f/cVVZNzphEKq+O5+lyvh3Ya0HAobSYdZtS5iVUtNDw=="},{"key":"committee-2","sig":"BXwcU1EyVH0PceVo0u795BIeHANR8EBoyfmXSrjYFHOGGjIG08Lel2Xrs3Hlhz48gVe1XnZSXhV0eQDorgCSDw=="},{"key":"company-1","sig":"b3L4V/QxhqKJqW6RIa4jTOtZz3SSZJoZJfD7kcHvkfkkBlbo0WKcKItn2XGBfS5UT4gBj3s25DefLDfoiiyJCQ=="}],"time":1709251200000}"#;
const GENESIS_LEAF_HASH: &str = "30dc6720fd3aba740015e7edae68c8e755073b05bd4800112a9f05ccea4f0ee5";
const INCOME_BODY_JCS: &str = r#"{"amount_fen":128050,"category":"parking","date":"2024-03-05","fund":"public_revenue","kind":"income","ledger":"example.org/xingguang","memo":"3月车位租金 March parking rent","nonce":"inc-2024-03-0001","payer":"3-1502","period":"2024-03"}"#;
const INCOME_PROPOSAL_ID: &str = "f30a8f0d95e02941b2dd4c3051fde39869f551f852484506a375f867dc7eac48";
const INCOME_SIGNATURE: &str =
    "JIGDH5gcFysuIUbf6/y/rNxjw8vhlbvHOR/h3DChsGfvOKP23V/7glnE7dC+flgpKpFj6GgnfmzAlpUxdcM/BQ==";
const INCOME_LEAF_JCS: &str = r#"{"body":{"amount_fen":128050,"category":"parking","date":"2024-03-05","fund":"public_revenue","kind":"income","ledger":"example.org/xingguang","memo":"3月车位租金 March parking rent","nonce":"inc-2024-03-0001","payer":"3-1502","period":"2024-03"},"prev":"30dc6720fd3aba740015e7edae68c8e755073b05bd4800112a9f05ccea4f0ee5","seq":1,"signatures":[{"key":"company-1","sig":"JIGDH5gcFysuIUbf6/y/rNxjw8vhlbvHOR/h3DChsGfvOKP23V/7glnE7dC+flgpKpFj6GgnfmzAlpUxdcM/BQ=="}],"time":1709614800000}"#;
const INCOME_LEAF_HASH: &str = "d032ee19d4ea44c32fa3158b4cdaecb0fc6a79cf9a7a8a9a2de0b843eea5d79c";
const ROOT_HEX: &str = "c4e40e0f0d0cf599bd49eed413ccaf327b489fa9f79424161648e2300ec2d9f1";
const CHECKPOINT_NOTE: &str = "example.org/xingguang\n2\nxOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=\n\n\u{2014} example.org/xingguang Ozm3nPH2/uq2K2gyisLoYMSZFtgfTAQGTraShBtR8hXXRTHmli0ENvG4CI17NBg+qwrd5f4lI5zKJ1Ym4wvEThVNfAo=\n";
const COSIGNED_NOTE: &str = "example.org/xingguang\n2\nxOQODw0M9Zm9Se7UE8yvMntIn6n3lCQWFkjiMA7C2fE=\n\n\u{2014} example.org/xingguang Ozm3nPH2/uq2K2gyisLoYMSZFtgfTAQGTraShBtR8hXXRTHmli0ENvG4CI17NBg+qwrd5f4lI5zKJ1Ym4wvEThVNfAo=\n\u{2014} committee-1 oa6KOgAAAABl5qbR7It+1d0oxLBtwvE8vblkOgIgJzoAR2o8HMd1QKiVLouxHpqhQr7aokIV7OOLNAVUPxe5HPU00voOmPnZqJi3CQ==\n";
/// The cosignature's timestamp (seconds), one second after the income.
const COSIGNATURE_TIME_S: u64 = 1_709_614_801;

/// Every worked-example value used here, for the check that the document
/// shows each verbatim.
const FROM_THE_DOC: [&str; 16] = [
    LOG_VKEY,
    LOG_KEY_ID,
    COSIGNER_VKEY,
    COSIGNER_KEY_ID,
    COMPANY_PUBLIC_KEY,
    COMMITTEE_1_PUBLIC_KEY,
    GENESIS_BODY_JCS,
    GENESIS_PROPOSAL_ID,
    GENESIS_LEAF_JCS,
    GENESIS_LEAF_HASH,
    INCOME_BODY_JCS,
    INCOME_PROPOSAL_ID,
    INCOME_SIGNATURE,
    INCOME_LEAF_JCS,
    INCOME_LEAF_HASH,
    ROOT_HEX,
];

// ---------------------------------------------------------------------------
// Cases: what the harness runs, and what each result must contain
// ---------------------------------------------------------------------------

/// One call into verify.js: `input` goes to the harness (it names the
/// operation in "op"), and the result (`{"ok": true, ...}` or `{"ok":
/// false, "reason": ...}`) must hold every member of `expect`, objects
/// member by member (see [`contains`]).
struct Case {
    id: String,
    input: Value,
    expect: Value,
}

fn case(id: impl Into<String>, input: Value, expect: Value) -> Case {
    Case {
        id: id.into(),
        input,
        expect,
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors/rfc6962")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// Every inclusion vector file: accepted exactly when `wantErr` is false,
/// and then with the vector's root.
fn inclusion_cases() -> Vec<Case> {
    let mut files = Vec::new();
    json_files(&vectors_dir().join("inclusion"), &mut files);
    files
        .iter()
        .map(|path| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let name = path.strip_prefix(vectors_dir()).unwrap().display();
            let want_err = v["wantErr"].as_bool().expect("wantErr");
            let proof = match &v["proof"] {
                Value::Null => json!([]),
                list => list.clone(),
            };
            let expect = if want_err {
                json!({ "ok": false })
            } else {
                let root = BASE64.decode(v["root"].as_str().unwrap()).unwrap();
                json!({ "ok": true, "root": hex::encode(root) })
            };
            case(
                format!("rfc6962/{name}"),
                json!({
                    "op": "inclusion",
                    "index": v["leafIdx"],
                    "size": v["treeSize"],
                    "leaf": v["leafHash"],
                    "proof": proof,
                    "root": v["root"],
                }),
                expect,
            )
        })
        .collect()
}

/// JCS against the core's canonicalizer (values with non-ASCII keys, whose
/// UTF-16 order differs from their UTF-8 byte order, escapes and integer
/// limits), the worked example's bodies and leaves (canonical as given, and
/// re-canonicalized from a reordered copy), and leaf bytes that are not
/// canonical.
fn jcs_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let values = [
        r#"{"z":[9007199254740991,-9007199254740991,0],"a":{"y":"星光\"\\/ é 😀","b":[]},"M":"\u2028"}"#,
        r#"{"é":1,"z":2,"😀":3,"ｚ":4}"#,
        r#"{"payer":"3-1502","memo":"<b>&'\"","amount_fen":128050}"#,
    ];
    for (i, text) in values.iter().enumerate() {
        let value: Value = serde_json::from_str(text).unwrap();
        let core = feeledger_core::canonical::to_canonical_bytes(&value);
        cases.push(case(
            format!("jcs/core-{i}"),
            json!({ "op": "jcs", "json": text }),
            json!({ "ok": true, "text": String::from_utf8(core).unwrap() }),
        ));
    }
    for (name, canonical) in [
        ("genesis-body", GENESIS_BODY_JCS),
        ("genesis-leaf", GENESIS_LEAF_JCS),
        ("income-body", INCOME_BODY_JCS),
        ("income-leaf", INCOME_LEAF_JCS),
    ] {
        let value: Value = serde_json::from_str(canonical).unwrap();
        let reordered = reordered_json(&value);
        assert_ne!(reordered, canonical, "the reordered copy differs");
        cases.push(case(
            format!("jcs/{name}"),
            json!({ "op": "jcs", "json": canonical }),
            json!({ "ok": true, "text": canonical }),
        ));
        cases.push(case(
            format!("jcs/{name}-reordered"),
            json!({ "op": "jcs", "json": reordered }),
            json!({ "ok": true, "text": canonical }),
        ));
        cases.push(case(
            format!("canonical/{name}"),
            json!({ "op": "parseCanonical", "text": canonical }),
            json!({ "ok": true }),
        ));
        cases.push(case(
            format!("canonical/{name}-reordered"),
            json!({ "op": "parseCanonical", "text": reordered }),
            json!({ "ok": false, "reason": "not-canonical" }),
        ));
    }
    // Not canonical in ways the core also refuses (canonical.rs's unit
    // test): white space, a needless escape, a duplicate key, a trailing
    // newline; and bytes that are not JSON.
    for (name, text, reason) in [
        ("space", r#"{"a": 1}"#, "not-canonical"),
        ("escape", r#"{"a":"\u0041"}"#, "not-canonical"),
        ("duplicate", r#"{"a":1,"a":1}"#, "not-canonical"),
        ("newline", "{\"a\":1}\n", "not-canonical"),
        ("not-json", "{\"a\":", "not-json"),
    ] {
        assert!(feeledger_core::canonical::parse_canonical(text.as_bytes()).is_err());
        cases.push(case(
            format!("canonical/{name}"),
            json!({ "op": "parseCanonical", "text": text }),
            json!({ "ok": false, "reason": reason }),
        ));
    }
    cases
}

/// Leaf hashes, proposal ids (SHA-256 of the body's JCS) and the inclusion
/// of the income under the example's root, with a changed leaf as the
/// tampered case.
fn hash_cases() -> Vec<Case> {
    let tampered_income = INCOME_LEAF_JCS.replace("128050", "128051");
    let tampered_hash = feeledger_core::hash::leaf_hash(tampered_income.as_bytes()).to_hex();
    vec![
        case(
            "hash/genesis-leaf",
            json!({ "op": "leafHash", "text": GENESIS_LEAF_JCS }),
            json!({ "ok": true, "hex": GENESIS_LEAF_HASH }),
        ),
        case(
            "hash/income-leaf",
            json!({ "op": "leafHash", "text": INCOME_LEAF_JCS }),
            json!({ "ok": true, "hex": INCOME_LEAF_HASH }),
        ),
        case(
            "hash/income-leaf-tampered",
            json!({ "op": "leafHash", "text": tampered_income }),
            json!({ "ok": true, "hex": tampered_hash }),
        ),
        case(
            "hash/genesis-proposal-id",
            json!({ "op": "sha256", "text": GENESIS_BODY_JCS }),
            json!({ "ok": true, "hex": GENESIS_PROPOSAL_ID }),
        ),
        case(
            "hash/income-proposal-id",
            json!({ "op": "sha256", "text": INCOME_BODY_JCS }),
            json!({ "ok": true, "hex": INCOME_PROPOSAL_ID }),
        ),
        case(
            "hash/income-included",
            json!({
                "op": "inclusion",
                "index": 1,
                "size": 2,
                "leaf": b64_of_hex(INCOME_LEAF_HASH),
                "proof": [b64_of_hex(GENESIS_LEAF_HASH)],
                "root": b64_of_hex(ROOT_HEX),
            }),
            json!({ "ok": true, "root": ROOT_HEX }),
        ),
        case(
            "hash/tampered-income-not-included",
            json!({
                "op": "inclusion",
                "index": 1,
                "size": 2,
                "leaf": b64_of_hex(&tampered_hash),
                "proof": [b64_of_hex(GENESIS_LEAF_HASH)],
                "root": b64_of_hex(ROOT_HEX),
            }),
            json!({ "ok": false, "why": "root-mismatch" }),
        ),
    ]
}

fn b64_of_hex(hex_text: &str) -> String {
    BASE64.encode(hex::decode(hex_text).unwrap())
}

/// The worked example's leaf with the first `from` replaced by `to`.
fn with_changed(leaf_jcs: &str, from: &str, to: &str) -> String {
    assert!(leaf_jcs.contains(from), "{from} in the leaf");
    leaf_jcs.replacen(from, to, 1)
}

/// Entry signatures: the signed message, one Ed25519 signature, and whole
/// leaves against the genesis roles and rules, honest and tampered.
fn signature_cases() -> Vec<Case> {
    let genesis: Value = serde_json::from_str(GENESIS_BODY_JCS).unwrap();
    let roles = genesis["roles"].clone();
    let rules = genesis["rules"].clone();
    let all_roles = json!(["committee", "company"]);
    let leaf_case = |id: &str, leaf: String, required: &Value, expect: Value| {
        case(
            id,
            json!({ "op": "signatures", "leaf": leaf, "roles": roles, "required": required }),
            expect,
        )
    };
    // A base64 character in the middle of the company's income signature.
    let sig_at = INCOME_SIGNATURE.len() / 2;
    let mut bad_sig = INCOME_SIGNATURE.to_string();
    let flipped = if &bad_sig[sig_at..=sig_at] == "A" {
        "B"
    } else {
        "A"
    };
    bad_sig.replace_range(sig_at..=sig_at, flipped);
    let only_committee_1 = {
        let mut leaf: Value = serde_json::from_str(GENESIS_LEAF_JCS).unwrap();
        let sigs = leaf["signatures"].as_array_mut().unwrap();
        sigs.retain(|s| s["key"] != "committee-2");
        support::canonical_json(&leaf)
    };
    vec![
        case(
            "sig/signing-message",
            json!({ "op": "signingMessage", "body": INCOME_BODY_JCS }),
            json!({ "ok": true, "text": format!("feeledger/entry/v1\n{INCOME_BODY_JCS}") }),
        ),
        case(
            "sig/ed25519-income",
            json!({
                "op": "ed25519",
                "key": COMPANY_PUBLIC_KEY,
                "message": format!("feeledger/entry/v1\n{INCOME_BODY_JCS}"),
                "sig": INCOME_SIGNATURE,
            }),
            json!({ "ok": true, "valid": true }),
        ),
        case(
            "sig/ed25519-income-other-message",
            json!({
                "op": "ed25519",
                "key": COMPANY_PUBLIC_KEY,
                "message": format!("feeledger/entry/v1\n{}", INCOME_BODY_JCS.replace("128050", "128051")),
                "sig": INCOME_SIGNATURE,
            }),
            json!({ "ok": true, "valid": false }),
        ),
        leaf_case(
            "sig/genesis-leaf",
            GENESIS_LEAF_JCS.to_string(),
            &all_roles,
            json!({
                "ok": true,
                "signers": [
                    { "key": "committee-1", "role": "committee" },
                    { "key": "committee-2", "role": "committee" },
                    { "key": "company-1", "role": "company" },
                ],
                "progress": [
                    { "role": "committee", "have": 2, "need": 2 },
                    { "role": "company", "have": 1, "need": 1 },
                ],
            }),
        ),
        leaf_case(
            "sig/income-leaf",
            INCOME_LEAF_JCS.to_string(),
            &rules["income"],
            json!({ "ok": true, "signers": [{ "key": "company-1", "role": "company" }] }),
        ),
        leaf_case(
            "sig/income-amount-changed",
            with_changed(INCOME_LEAF_JCS, "128050", "128051"),
            &rules["income"],
            json!({ "ok": false, "reason": "bad-signature", "params": { "key": "company-1" } }),
        ),
        leaf_case(
            "sig/income-payer-changed",
            with_changed(INCOME_LEAF_JCS, "3-1502", "3-1503"),
            &rules["income"],
            json!({ "ok": false, "reason": "bad-signature" }),
        ),
        leaf_case(
            "sig/income-signature-changed",
            INCOME_LEAF_JCS.replace(INCOME_SIGNATURE, &bad_sig),
            &rules["income"],
            json!({ "ok": false, "reason": "bad-signature" }),
        ),
        leaf_case(
            "sig/income-unknown-key",
            with_changed(
                INCOME_LEAF_JCS,
                "\"key\":\"company-1\"",
                "\"key\":\"company-9\"",
            ),
            &rules["income"],
            json!({ "ok": false, "reason": "unknown-key", "params": { "key": "company-9" } }),
        ),
        leaf_case(
            "sig/income-as-expenditure-needs-the-committee",
            INCOME_LEAF_JCS.to_string(),
            &rules["expenditure"],
            json!({
                "ok": false,
                "reason": "rule-unmet",
                "params": { "role": "committee", "have": 0, "need": 2 },
            }),
        ),
        leaf_case(
            "sig/genesis-one-committee-signature",
            only_committee_1,
            &all_roles,
            json!({
                "ok": false,
                "reason": "rule-unmet",
                "params": { "role": "committee", "have": 1, "need": 2 },
            }),
        ),
    ]
}

/// Verifier keys and key ids, and checkpoint notes: the example's note and
/// its committee cosignature, and each way of tampering with them.
fn note_cases() -> Vec<Case> {
    let company_key_text = |alg: u8| {
        let mut raw = vec![alg];
        raw.extend(BASE64.decode(COMPANY_PUBLIC_KEY).unwrap());
        BASE64.encode(raw)
    };
    let wrong_id = {
        let (name, rest) = LOG_VKEY.split_once('+').unwrap();
        let first = if rest.starts_with('0') { '1' } else { '0' };
        format!("{name}+{first}{}", &rest[1..])
    };
    let (log_line, cosig_line) = {
        let lines: Vec<&str> = COSIGNED_NOTE.lines().collect();
        (lines[4], lines[5])
    };
    let note_case = |id: &str, note: &str, cosigners: Value, expect: Value| {
        case(
            id,
            json!({ "op": "note", "note": note, "logKey": LOG_VKEY, "cosigners": cosigners }),
            expect,
        )
    };
    let committee = json!([COSIGNER_VKEY]);
    vec![
        case(
            "vkey/log",
            json!({ "op": "vkey", "text": LOG_VKEY }),
            json!({ "ok": true, "name": "example.org/xingguang", "alg": 1, "keyId": LOG_KEY_ID }),
        ),
        case(
            "vkey/cosigner",
            json!({ "op": "vkey", "text": COSIGNER_VKEY }),
            json!({ "ok": true, "name": "committee-1", "alg": 4, "keyId": COSIGNER_KEY_ID }),
        ),
        case(
            "vkey/wrong-key-id",
            json!({ "op": "vkey", "text": wrong_id }),
            json!({ "ok": false, "reason": "bad-vkey", "params": { "why": "key id" } }),
        ),
        case(
            "vkey/unknown-algorithm",
            json!({ "op": "vkey", "text": format!("company-1+00000000+{}", company_key_text(0x02)) }),
            json!({ "ok": false, "reason": "bad-vkey", "params": { "why": "algorithm" } }),
        ),
        case(
            "vkey/key-id-of-committee-1-as-cosigner",
            json!({ "op": "keyId", "name": "committee-1", "alg": 4, "key": COMMITTEE_1_PUBLIC_KEY }),
            json!({ "ok": true, "hex": COSIGNER_KEY_ID }),
        ),
        note_case(
            "note/checkpoint",
            CHECKPOINT_NOTE,
            json!([]),
            json!({
                "ok": true,
                "origin": "example.org/xingguang",
                "size": 2,
                "root": ROOT_HEX,
                "cosignatures": [],
                "unknown": [],
            }),
        ),
        note_case(
            "note/cosigned",
            COSIGNED_NOTE,
            committee.clone(),
            json!({
                "ok": true,
                "size": 2,
                "root": ROOT_HEX,
                "cosignatures": [{ "name": "committee-1", "keyId": COSIGNER_KEY_ID, "time": COSIGNATURE_TIME_S }],
                "unknown": [],
            }),
        ),
        note_case(
            "note/cosigned-without-the-cosigner-key",
            COSIGNED_NOTE,
            json!([]),
            json!({ "ok": true, "cosignatures": [], "unknown": ["committee-1"] }),
        ),
        note_case(
            "note/log-signature-changed",
            &COSIGNED_NOTE.replace(log_line, &changed_sig_line(log_line)),
            committee.clone(),
            json!({ "ok": false, "step": "checkpoint", "reason": "bad-log-signature" }),
        ),
        note_case(
            "note/size-changed",
            &CHECKPOINT_NOTE.replacen("\n2\n", "\n3\n", 1),
            json!([]),
            json!({ "ok": false, "step": "checkpoint", "reason": "bad-log-signature" }),
        ),
        note_case(
            "note/root-changed",
            &CHECKPOINT_NOTE.replacen("xOQODw0M", "xOQODw0N", 1),
            json!([]),
            json!({ "ok": false, "step": "checkpoint", "reason": "bad-log-signature" }),
        ),
        note_case(
            "note/cosignature-changed",
            &COSIGNED_NOTE.replace(cosig_line, &changed_sig_line(cosig_line)),
            committee.clone(),
            json!({ "ok": false, "step": "cosignature", "reason": "bad-cosignature" }),
        ),
        note_case(
            "note/cosignature-only",
            &COSIGNED_NOTE.replace(&format!("{log_line}\n"), ""),
            committee.clone(),
            json!({ "ok": false, "step": "checkpoint", "reason": "no-log-signature" }),
        ),
        note_case(
            "note/log-line-twice",
            &CHECKPOINT_NOTE.replace(
                &format!("{log_line}\n"),
                &format!("{log_line}\n{log_line}\n"),
            ),
            json!([]),
            json!({ "ok": false, "step": "checkpoint", "reason": "note-format" }),
        ),
        note_case(
            "note/no-final-newline",
            CHECKPOINT_NOTE.trim_end_matches('\n'),
            json!([]),
            json!({ "ok": false, "step": "checkpoint", "reason": "note-format" }),
        ),
        note_case(
            "note/other-origin",
            &CHECKPOINT_NOTE.replacen("example.org/xingguang\n", "example.org/other\n", 1),
            json!([]),
            json!({ "ok": false, "step": "checkpoint", "reason": "origin-mismatch" }),
        ),
    ]
}

/// A note signature line with one bit of its last signature byte flipped.
fn changed_sig_line(line: &str) -> String {
    let (prefix, b64) = line.rsplit_once(' ').unwrap();
    let mut raw = BASE64.decode(b64).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 0x01;
    format!("{prefix} {}", BASE64.encode(raw))
}

fn all_cases() -> Vec<Case> {
    let mut cases = inclusion_cases();
    cases.extend(jcs_cases());
    cases.extend(hash_cases());
    cases.extend(signature_cases());
    cases.extend(note_cases());
    cases
}

// ---------------------------------------------------------------------------
// The harness: a page on the served module's origin that runs the cases
// ---------------------------------------------------------------------------

const HARNESS_PATH: &str = "/__verify-js-harness.html";
const CASES_PATH: &str = "/__verify-js-cases.json";

/// Imports the served verify.js, runs every case (one at a time), and
/// writes `{id: result}` as base64 of UTF-8 JSON into #results (base64, so
/// the dumped DOM needs no unescaping). Each branch mirrors how app.js or
/// verify.js's runner calls the function.
const HARNESS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<pre id="results"></pre>
<script type="module">
import * as v from '/assets/verify.js';

async function run(c) {
  switch (c.op) {
    case 'inclusion': {
      // The page's roots come only from parseCheckpoint (which insists on
      // 32 bytes), and its check is checkInclusion's: a root, and equal.
      let root;
      try {
        root = v.parseCheckpoint(`vectors\n${c.size}\n${c.root}\n`).root;
      } catch (e) {
        return { ok: false, why: `checkpoint: ${e.message}` };
      }
      const leaf = v.fromBase64(c.leaf);
      const proof = c.proof.map(v.fromBase64);
      const computed = await v.rootFromInclusionProof(c.index, c.size, leaf, proof);
      if (!computed) return { ok: false, why: 'bad-proof' };
      if (!v.equalBytes(computed, root)) return { ok: false, why: 'root-mismatch', root: v.toHex(computed) };
      return { ok: true, root: v.toHex(computed) };
    }
    case 'jcs':
      return { ok: true, text: v.jcs(JSON.parse(c.json)) };
    case 'parseCanonical': {
      const { text } = v.parseCanonical(v.utf8(c.text), 'signature');
      return { ok: true, text };
    }
    case 'leafHash':
      return { ok: true, hex: v.toHex(await v.leafHash(v.utf8(c.text))) };
    case 'sha256':
      return { ok: true, hex: v.toHex(await v.sha256(v.utf8(c.text))) };
    case 'signingMessage':
      return { ok: true, text: v.fromUtf8(v.entrySigningMessage(JSON.parse(c.body))) };
    case 'ed25519':
      return { ok: true, valid: await v.ed25519Verify(v.fromBase64(c.key), v.utf8(c.message), v.fromBase64(c.sig)) };
    case 'signatures': {
      const { signers, progress } = await v.checkEntrySignatures(JSON.parse(c.leaf), c.roles, c.required, 'signature');
      return { ok: true, signers, progress };
    }
    case 'vkey': {
      const k = await v.parseVkey(c.text);
      return { ok: true, name: k.name, alg: k.alg, keyId: k.keyId };
    }
    case 'keyId':
      return { ok: true, hex: await v.keyIdHex(c.name, c.alg, v.fromBase64(c.key)) };
    case 'note': {
      const logKey = await v.parseVkey(c.logKey);
      const cosigners = [];
      for (const text of c.cosigners) {
        const k = await v.parseVkey(text, 'cosignature');
        cosigners.push({ name: k.name, keyId: k.keyId, key: k.key, role: 'committee' });
      }
      const r = await v.verifyCheckpointNote(c.note, logKey, cosigners);
      return {
        ok: true,
        origin: r.checkpoint.origin,
        size: r.checkpoint.size,
        root: v.toHex(r.checkpoint.root),
        cosignatures: r.cosignatures.map((s) => ({ name: s.name, keyId: s.keyId, time: s.time })),
        unknown: r.unknown,
      };
    }
    default:
      return { ok: false, why: `the harness knows no op ${c.op}` };
  }
}

const out = {};
try {
  const cases = await (await fetch('/__verify-js-cases.json')).json();
  for (const c of cases) {
    try {
      out[c.id] = await run(c);
    } catch (e) {
      out[c.id] = e instanceof v.VerifyError
        ? { ok: false, step: e.step, reason: e.reason, params: e.params }
        : { ok: false, why: `${e.name}: ${e.message}` };
    }
  }
} catch (e) {
  out['harness'] = { ok: false, why: String(e && e.stack ? e.stack : e) };
}
document.getElementById('results').textContent = v.toBase64(v.utf8(JSON.stringify(out)));
</script></body></html>
"#;

/// A loopback server that serves the harness and the cases itself and
/// forwards everything else (the page's modules) to the real server, so
/// all of them share one origin. Stops on drop.
fn harness_server(upstream: &str, cases_json: String) -> Loopback {
    let upstream = upstream.to_string();
    loopback(move |target| {
        Ok(match target {
            HARNESS_PATH => Answer::ok("text/html; charset=utf-8", HARNESS),
            CASES_PATH => Answer::ok("application/json", cases_json.as_bytes()),
            _ => {
                let r = support::http::Http::new(&upstream).get(target);
                Answer {
                    status: r.status,
                    content_type: r.content_type,
                    body: r.body,
                    cache_control: None,
                }
            }
        })
    })
}

// ---------------------------------------------------------------------------
// One Chromium run for every test in this file
// ---------------------------------------------------------------------------

/// The page's modules as the real server served them, and every case with
/// verify.js's result.
struct Outcome {
    /// (path, status, content type) of each module of the page.
    modules: Vec<(String, u16, String)>,
    cases: Vec<(Case, Value)>,
}

/// The page's JavaScript modules, as index.html and their imports load them.
const MODULES: [&str; 6] = [
    "/assets/app.js",
    "/assets/strings.js",
    "/assets/dom.js",
    "/assets/format.js",
    "/assets/chart.js",
    "/assets/verify.js",
];

fn outcome() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let community = Community::new();
        let server = Server::start(&community.data);
        let http = server.http();
        let modules = MODULES
            .iter()
            .map(|path| {
                let r = http.get(path);
                (path.to_string(), r.status, r.content_type)
            })
            .collect();

        let cases = all_cases();
        let inputs: Vec<Value> = cases
            .iter()
            .map(|c| {
                let mut input = c.input.clone();
                input["id"] = Value::String(c.id.clone());
                input
            })
            .collect();
        let harness = harness_server(&server.url, Value::Array(inputs).to_string());
        let run = chromium(&["--dump-dom"], &format!("{}{HARNESS_PATH}", harness.url));
        drop(harness);
        drop(server);

        let dom = &run.stdout;
        let results = dom
            .find("<pre id=\"results\">")
            .map(|at| &dom[at + "<pre id=\"results\">".len()..])
            .and_then(|rest| rest.find("</pre>").map(|end| &rest[..end]))
            .unwrap_or("");
        assert!(
            !results.is_empty(),
            "the harness wrote no results; console:\n{}\nDOM:\n{dom}",
            run.console.join("\n")
        );
        let results: Map<String, Value> =
            serde_json::from_slice(&BASE64.decode(results).expect("base64 results"))
                .expect("JSON results");
        assert!(
            results.get("harness").is_none(),
            "the harness failed: {}",
            results["harness"]
        );
        let cases = cases
            .into_iter()
            .map(|c| {
                let result = results
                    .get(&c.id)
                    .cloned()
                    .unwrap_or_else(|| panic!("no result for {}", c.id));
                (c, result)
            })
            .collect();
        Outcome { modules, cases }
    })
}

/// Whether `got` holds `want`: objects member by member (members `want`
/// does not name are ignored), everything else equal.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(got), Value::Object(want)) => want
            .iter()
            .all(|(k, w)| got.get(k).is_some_and(|g| contains(g, w))),
        _ => got == want,
    }
}

/// Checks every case whose id starts with `prefix` and returns how many
/// there were and how many verify.js accepted; lists every mismatch.
#[track_caller]
fn check(prefix: &str) -> (usize, usize) {
    let mut wrong = Vec::new();
    let (mut count, mut accepted) = (0, 0);
    for (case, result) in outcome()
        .cases
        .iter()
        .filter(|(c, _)| c.id.starts_with(prefix))
    {
        count += 1;
        accepted += usize::from(result["ok"] == json!(true));
        let expect = case.expect.as_object().expect("expect is an object");
        for (key, want) in expect {
            if !result.get(key).is_some_and(|got| contains(got, want)) {
                wrong.push(format!(
                    "{}: {key} should be {want}, verify.js gave {result}",
                    case.id
                ));
                break;
            }
        }
    }
    assert!(count > 0, "no cases named {prefix}*");
    assert!(
        wrong.is_empty(),
        "verify.js disagrees with the core on {} of {count} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    (count, accepted)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// verify.js's inclusion check (rootFromInclusionProof, with the root as
/// parseCheckpoint hands it over) accepts exactly the happy paths of the
/// RFC 6962 inclusion vectors, with their roots, and refuses every
/// `wantErr` case; all 98 files ran.
#[test]
fn inclusion_proofs_agree_with_the_rfc6962_vectors() {
    // The same totals as the core's transparency_dev_vectors test: a
    // missing folder fails here too.
    assert_eq!(check("rfc6962/inclusion/"), (98, 6));
}

/// verify.js's JCS gives the core's bytes (non-ASCII keys in UTF-16 order,
/// escapes, integer limits), reproduces the worked example's bodies and
/// leaves from reordered copies, and parseCanonical accepts the canonical
/// leaves and refuses reordered, spaced, escaped, duplicated, trailing and
/// broken ones.
#[test]
fn jcs_agrees_with_the_core_and_the_worked_example() {
    check("jcs/");
    check("canonical/");
}

/// verify.js's leafHash and sha256 give the worked example's leaf hashes
/// and proposal ids, and the income is included under the example's root
/// while a changed income is not.
#[test]
fn leaf_hashes_and_inclusion_match_the_worked_example() {
    check("hash/");
}

/// verify.js checks entry signatures as the core does: the signed message
/// is the context line and the body's JCS; the example's genesis and income
/// leaves verify under the genesis roles with the right progress; a changed
/// amount, payer or signature, an unknown key, and a missing committee
/// signature are refused with the reason the page shows.
#[test]
fn entry_signatures_agree_with_the_worked_example() {
    check("sig/");
}

/// verify.js parses verifier keys and computes key ids as the core does,
/// verifies the example's checkpoint note and its committee cosignature
/// (with the cosignature's time), and refuses a changed log signature,
/// size, root or cosignature, a note with no log signature or two, a
/// missing final newline, and another origin.
#[test]
fn signed_notes_and_keys_agree_with_the_worked_example() {
    check("vkey/");
    check("note/");
}

/// Every worked-example value these tests use appears verbatim in
/// docs/format.md (whose values format_example.rs holds the core to), so
/// these cases cannot drift from the document.
#[test]
fn worked_example_values_are_the_documents() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format.md");
    let doc = std::fs::read_to_string(path).expect("docs/format.md");
    for value in FROM_THE_DOC
        .iter()
        .chain([&CHECKPOINT_NOTE, &COSIGNED_NOTE])
    {
        assert!(
            doc.contains(value),
            "docs/format.md does not show this value verbatim:\n{value}"
        );
    }
    // The cosignature's time is the first 8 bytes after its key id.
    let cosig_line = COSIGNED_NOTE.lines().nth(5).unwrap();
    let raw = BASE64
        .decode(cosig_line.rsplit_once(' ').unwrap().1)
        .unwrap();
    assert_eq!(
        u64::from_be_bytes(raw[4..12].try_into().unwrap()),
        COSIGNATURE_TIME_S
    );
}

/// The real server serves each of the page's modules at its own path as
/// JavaScript (a browser runs a module only with a JavaScript type).
#[test]
fn page_modules_are_served_as_javascript() {
    for (path, status, content_type) in &outcome().modules {
        assert_eq!(*status, 200, "{path}");
        assert_eq!(content_type, "text/javascript; charset=utf-8", "{path}");
    }
    assert_eq!(outcome().modules.len(), MODULES.len());
}

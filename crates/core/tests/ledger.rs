//! Rejection tests for `feeledger_core::state`: one test per rule of the
//! ledger, each asserting the exact `ApplyError` variant and that a refused
//! leaf leaves the state (size, head, time, roles, balances) and the totals
//! exactly as they were.
//!
//! The fixture is a small ledger with fixed keys: company `co-1` (seed 1,
//! threshold 1), committee `cm-1`/`cm-2`/`cm-3` (seeds 2-4, threshold 2),
//! optionally supervisor `sv-1` (seed 5, threshold 1), and the log key
//! (seed 9) named after the origin.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey};
use feeledger_core::canonical::{CanonicalError, LEAF_BYTES_MAX};
use feeledger_core::entry::{
    default_rules, normalize_signatures, signing_message, Attachment, Body, Content, Date,
    EntrySignature, Expenditure, ExpenseCategory, FormatError, FundDef, Genesis, Governance,
    Income, IncomeCategory, KeyDef, Kind, Leaf, Month, OwnersApproval, Reversal, Role, RoleDef,
    Roles, RuleKind, Transfer, AMOUNT_FEN_MAX,
};
use feeledger_core::hash::{leaf_hash, sha256, Hash};
use feeledger_core::note::{KeyAlg, NoteSigner};
use feeledger_core::state::{
    body_needs, Applied, ApplyError, Effect, LedgerState, Lookups, Replayer, StateSnapshot, Totals,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

const ORIGIN: &str = "test.example/xingguang";
const T0: u64 = 1_709_251_200_000; // 2024-03-01T00:00:00Z
const STEP_MS: u64 = 1_000;

/// Every key the tests use, by name. New committee keys `cm-4..cm-6` are not
/// in the genesis; `nobody` is never in any role.
fn seed_of(name: &str) -> u8 {
    match name {
        "co-1" => 1,
        "cm-1" => 2,
        "cm-2" => 3,
        "cm-3" => 4,
        "sv-1" => 5,
        "cm-4" => 6,
        "cm-5" => 7,
        "cm-6" => 8,
        "nobody" => 10,
        other => panic!("no test key named {other}"),
    }
}

fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, KeyAlg::Ed25519, sk(9)).unwrap()
}

fn keydef(name: &str) -> KeyDef {
    KeyDef {
        name: name.into(),
        public_key: B64.encode(sk(seed_of(name)).verifying_key().as_bytes()),
    }
}

fn role(threshold: u32, names: &[&str]) -> RoleDef {
    RoleDef {
        threshold,
        keys: names.iter().map(|n| keydef(n)).collect(),
    }
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn month(text: &str) -> Month {
    Month::parse(text).unwrap()
}

fn body(content: Content, nonce: &str) -> Body {
    Body {
        ledger: ORIGIN.into(),
        date: date("2024-03-15"),
        nonce: nonce.into(),
        content,
    }
}

fn dated(mut b: Body, d: &str) -> Body {
    b.date = date(d);
    b
}

fn genesis_roles(with_supervisor: bool) -> Roles {
    let mut roles = Roles::new();
    roles.insert(Role::Company, role(1, &["co-1"]));
    roles.insert(Role::Committee, role(2, &["cm-1", "cm-2", "cm-3"]));
    if with_supervisor {
        roles.insert(Role::Supervisor, role(1, &["sv-1"]));
    }
    roles
}

fn genesis_content(roles: Roles) -> Genesis {
    let has_supervisor = roles.contains_key(&Role::Supervisor);
    Genesis {
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
        rules: default_rules(has_supervisor),
        log_key: log_signer().verifier_key().to_string(),
    }
}

fn genesis_body(with_supervisor: bool) -> Body {
    dated(
        body(
            Content::Genesis(genesis_content(genesis_roles(with_supervisor))),
            "genesis",
        ),
        "2024-03-01",
    )
}

fn income(fund: &str, amount_fen: u64, nonce: &str) -> Body {
    body(
        Content::Income(Income {
            fund: fund.into(),
            amount_fen,
            category: IncomeCategory::PropertyFee,
            payer: "3-1502".into(),
            period: month("2024-03"),
            memo: "三月物业费 March fee".into(),
        }),
        nonce,
    )
}

fn income_cat(fund: &str, amount_fen: u64, category: IncomeCategory, nonce: &str) -> Body {
    let mut b = income(fund, amount_fen, nonce);
    if let Content::Income(i) = &mut b.content {
        i.category = category;
    }
    b
}

fn expenditure(fund: &str, amount_fen: u64, nonce: &str) -> Body {
    body(
        Content::Expenditure(Expenditure {
            fund: fund.into(),
            amount_fen,
            category: ExpenseCategory::Cleaning,
            payee: "洁净保洁服务有限公司".into(),
            memo: "三月保洁 March cleaning".into(),
            attachments: vec![Attachment {
                name: "发票 invoice.pdf".into(),
                sha256: sha256(b"invoice"),
                bytes: 52_133,
            }],
            owners_approval: None,
        }),
        nonce,
    )
}

fn transfer(from: &str, to: &str, amount_fen: u64, nonce: &str) -> Body {
    body(
        Content::Transfer(Transfer {
            from_fund: from.into(),
            to_fund: to.into(),
            amount_fen,
            memo: "按业主大会决议划转".into(),
            owners_approval: Some(OwnersApproval {
                decision_ref: "2024年第1次业主大会".into(),
                participating_area_bp: 8_000,
                participating_headcount_bp: 7_500,
                approving_area_bp: 6_000,
                approving_headcount_bp: 5_500,
            }),
        }),
        nonce,
    )
}

fn reversal(target_seq: u64, nonce: &str) -> Body {
    body(
        Content::Reversal(Reversal {
            target_seq,
            reason: "录入错误 entered in error".into(),
        }),
        nonce,
    )
}

fn governance(roles: Option<Roles>, nonce: &str) -> Body {
    body(
        Content::Governance(Governance {
            roles,
            rules: None,
            memo: "换届 new committee".into(),
        }),
        nonce,
    )
}

/// A signature by the key named `name` (its own key).
fn sig(body: &Body, name: &str) -> EntrySignature {
    sig_with(body, name, seed_of(name))
}

/// A signature made with the key of `seed`, labelled `name`.
fn sig_with(body: &Body, name: &str, seed: u8) -> EntrySignature {
    EntrySignature::new(name, &sk(seed).sign(&body.signing_message()))
}

fn sigs(body: &Body, names: &[&str]) -> Vec<EntrySignature> {
    let mut out: Vec<EntrySignature> = names.iter().map(|n| sig(body, n)).collect();
    normalize_signatures(&mut out);
    out
}

/// JCS of any JSON value, without feeledger's restrictions (so that tests
/// can build forbidden documents).
fn jcs(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).unwrap()
}

fn genesis_leaf(body: &Body, signers: &[&str]) -> Vec<u8> {
    Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: T0,
        body: body.clone(),
        signatures: sigs(body, signers),
    }
    .to_canonical_bytes()
}

/// Everything a rejection must leave untouched.
#[derive(Debug, PartialEq)]
struct Observed {
    snapshot: StateSnapshot,
    totals: Totals,
}

struct Ledger {
    r: Replayer,
}

impl Ledger {
    fn new(with_supervisor: bool) -> Ledger {
        let g = genesis_body(with_supervisor);
        let signers: &[&str] = if with_supervisor {
            &["co-1", "cm-1", "cm-2", "sv-1"]
        } else {
            &["co-1", "cm-1", "cm-2"]
        };
        Ledger {
            r: Replayer::start(&genesis_leaf(&g, signers)).unwrap(),
        }
    }

    /// A ledger with a supervisor and 1,000,000 fen in `operating` and in
    /// `public_revenue` (seq 1 and 2).
    fn funded() -> Ledger {
        let mut l = Ledger::new(true);
        l.commit(income("operating", 1_000_000, "fund-op"), &["co-1"]);
        l.commit(income("public_revenue", 1_000_000, "fund-pr"), &["co-1"]);
        l
    }

    fn state(&self) -> &LedgerState {
        &self.r.state
    }

    fn observe(&self) -> Observed {
        Observed {
            snapshot: self.r.state.snapshot().clone(),
            totals: self.r.totals.clone(),
        }
    }

    fn now(&self) -> u64 {
        self.state().last_time_ms() + STEP_MS
    }

    /// The next leaf for `body`, signed by `signers`.
    fn leaf(&self, body: Body, signers: &[&str]) -> Leaf {
        let s = sigs(&body, signers);
        self.state().next_leaf(body, s, self.now())
    }

    fn bytes(&self, body: Body, signers: &[&str]) -> Vec<u8> {
        self.leaf(body, signers).to_canonical_bytes()
    }

    fn commit(&mut self, body: Body, signers: &[&str]) -> Applied {
        let bytes = self.bytes(body, signers);
        self.r.apply(&bytes).unwrap()
    }

    /// Applies `bytes`, which must be refused, and checks nothing changed.
    fn reject(&mut self, bytes: &[u8]) -> ApplyError {
        let before = self.observe();
        let err = self.r.apply(bytes).expect_err("the leaf must be refused");
        assert_eq!(self.observe(), before, "a refused leaf changed the state");
        if let Ok(leaf) = Leaf::decode(bytes) {
            let lookups = self.r.history.lookups(&leaf.needs());
            if !matches!(err, ApplyError::Replay { .. }) {
                assert_eq!(lookups.body_seen_at, None, "a refused body was recorded");
            }
        }
        err
    }

    fn reject_body(&mut self, body: Body, signers: &[&str]) -> ApplyError {
        let bytes = self.bytes(body, signers);
        self.reject(&bytes)
    }

    /// A leaf whose body is an arbitrary JSON value (signed over its JCS by
    /// `signers`), at the right seq, prev and time.
    fn raw_leaf(&self, body: Value, signers: &[&str]) -> Value {
        let message = signing_message(&jcs(&body));
        let mut signatures: Vec<EntrySignature> = signers
            .iter()
            .map(|n| EntrySignature::new(n, &sk(seed_of(n)).sign(&message)))
            .collect();
        normalize_signatures(&mut signatures);
        json!({
            "seq": self.state().size(),
            "prev": self.state().head().to_hex(),
            "time": self.now(),
            "body": body,
            "signatures": serde_json::to_value(&signatures).unwrap(),
        })
    }

    fn balance(&self, fund: &str) -> u64 {
        self.state().balances()[fund]
    }
}

fn field_error(err: &ApplyError) -> (&str, &str) {
    match err {
        ApplyError::Format(FormatError::Field { path, reason }) => (path, reason),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn assert_field_error(err: &ApplyError, want_path: &str) {
    let (path, _) = field_error(err);
    assert_eq!(path, want_path, "{err}");
}

fn canonical_error(err: &ApplyError) -> &CanonicalError {
    match err {
        ApplyError::Format(FormatError::Canonical(c)) => c,
        other => panic!("expected a canonical-JSON error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The happy path the rejections are measured against
// ---------------------------------------------------------------------------

// Proves the fixture ledger works: genesis and one entry of every kind apply,
// seq and head advance, and the body id is SHA-256 of JCS(body).
#[test]
fn fixture_ledger_applies() {
    let mut l = Ledger::funded();
    assert_eq!(l.state().size(), 3);
    let e = expenditure("operating", 12_300, "exp-1");
    assert_eq!(e.id(), sha256(&e.to_canonical_bytes()));
    let leaf = l.leaf(e.clone(), &["co-1", "cm-1", "cm-2"]);
    let applied = l.commit(e, &["co-1", "cm-1", "cm-2"]);
    assert_eq!(applied.seq, 3);
    assert_eq!(applied.leaf_hash, leaf.hash());
    assert_eq!(l.state().head(), leaf.hash());
    l.commit(
        transfer("public_revenue", "maintenance", 500, "t-1"),
        &["co-1", "cm-2", "cm-3"],
    );
    l.commit(reversal(3, "rev-1"), &["co-1", "cm-1", "cm-3"]);
    assert_eq!(l.state().size(), 6);
    assert_eq!(l.balance("operating"), 1_000_000);
    assert_eq!(l.balance("public_revenue"), 999_500);
    assert_eq!(l.balance("maintenance"), 500);
}

// ---------------------------------------------------------------------------
// 1. Bytes: canonical JSON and field limits
// ---------------------------------------------------------------------------

// Proves a leaf whose keys are out of JCS order is refused as not canonical,
// although it is the same JSON value with valid signatures.
#[test]
fn key_order_is_refused() {
    let mut l = Ledger::funded();
    let leaf = l.leaf(income("operating", 100, "k-1"), &["co-1"]);
    let v = leaf.to_value();
    let reordered = format!(
        "{{\"seq\":{},\"body\":{},\"prev\":{},\"signatures\":{},\"time\":{}}}",
        v["seq"],
        String::from_utf8(leaf.body.to_canonical_bytes()).unwrap(),
        v["prev"],
        v["signatures"],
        v["time"]
    );
    assert_eq!(serde_json::from_str::<Value>(&reordered).unwrap(), v);
    let err = l.reject(reordered.as_bytes());
    assert!(matches!(
        canonical_error(&err),
        CanonicalError::NotCanonical { at_byte: 2 }
    ));
    // Out of order inside the body too.
    let text = String::from_utf8(leaf.to_canonical_bytes()).unwrap();
    let swapped = text.replacen(
        "\"amount_fen\":100,\"category\":\"property_fee\"",
        "\"category\":\"property_fee\",\"amount_fen\":100",
        1,
    );
    assert_ne!(swapped, text);
    let err = l.reject(swapped.as_bytes());
    assert!(matches!(
        canonical_error(&err),
        CanonicalError::NotCanonical { .. }
    ));
}

// Proves insignificant white space anywhere (after a colon, a comma, or a
// trailing newline) makes a leaf non-canonical.
#[test]
fn whitespace_is_refused() {
    let mut l = Ledger::funded();
    let text = String::from_utf8(l.bytes(income("operating", 100, "w-1"), &["co-1"])).unwrap();
    for bad in [
        text.replacen("\":", "\": ", 1),
        text.replacen(',', ", ", 1),
        format!(" {text}"),
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&text).unwrap()).unwrap(),
    ] {
        let err = l.reject(bad.as_bytes());
        assert!(
            matches!(canonical_error(&err), CanonicalError::NotCanonical { .. }),
            "{err:?}"
        );
    }
    // Canonical bytes followed by anything (a trailing newline, a space) are
    // refused, with the position where the canonical value ended.
    for tail in ["\n", " ", "\r\n"] {
        let err = l.reject(format!("{text}{tail}").as_bytes());
        assert_eq!(
            canonical_error(&err),
            &CanonicalError::TrailingBytes {
                at_byte: text.len()
            }
        );
    }
}

// Proves needless escapes are refused: a Chinese character, a slash or a
// plain letter written as an escape is the same string but not JCS.
#[test]
fn escaped_characters_are_refused() {
    let mut l = Ledger::funded();
    let text = String::from_utf8(l.bytes(income("operating", 100, "e-1"), &["co-1"])).unwrap();
    for bad in [
        text.replacen('三', "\\u4e09", 1),
        text.replacen("test.example/", "test.example\\/", 1),
        text.replacen("\"kind\"", "\"\\u006bind\"", 1),
        text.replacen("March", "\\u004darch", 1),
    ] {
        assert_ne!(bad, text);
        let err = l.reject(bad.as_bytes());
        assert!(
            matches!(canonical_error(&err), CanonicalError::NotCanonical { .. }),
            "{err:?}"
        );
    }
}

// Proves unknown fields are refused at every level: in the body, in a nested
// object of the body, in a signature, and in the leaf itself, even when the
// signatures cover the extra field.
#[test]
fn unknown_fields_are_refused() {
    let mut l = Ledger::funded();
    let signers = ["co-1", "cm-1", "cm-2"];

    let mut b = income("operating", 100, "u-1").to_value();
    b["note"] = json!("x");
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    match &err {
        ApplyError::Format(FormatError::Schema { path, reason }) => {
            assert_eq!(path, "$.body");
            assert!(reason.contains("unknown field `note`"), "{reason}");
        }
        other => panic!("{other:?}"),
    }

    let mut b = transfer("public_revenue", "maintenance", 100, "u-2").to_value();
    b["owners_approval"]["quorum"] = json!(1);
    let err = l.reject(&jcs(&l.raw_leaf(b, &signers)));
    assert!(
        matches!(&err, ApplyError::Format(FormatError::Schema { reason, .. }) if reason.contains("unknown field `quorum`")),
        "{err:?}"
    );

    let mut leaf = l.raw_leaf(income("operating", 100, "u-3").to_value(), &["co-1"]);
    leaf["signatures"][0]["role"] = json!("company");
    let err = l.reject(&jcs(&leaf));
    assert!(
        matches!(&err, ApplyError::Format(FormatError::Schema { path, reason }) if path == "$.signatures" && reason.contains("unknown field `role`")),
        "{err:?}"
    );

    let mut leaf = l.raw_leaf(income("operating", 100, "u-4").to_value(), &["co-1"]);
    leaf["extra"] = json!("x");
    let err = l.reject(&jcs(&leaf));
    assert_eq!(
        field_error(&err),
        ("$.extra", "unknown field"),
        "a leaf field outside {{body, prev, seq, signatures, time}}"
    );

    // A missing field is refused too.
    let mut b = income("operating", 100, "u-5").to_value();
    b.as_object_mut().unwrap().remove("memo");
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    assert!(
        matches!(&err, ApplyError::Format(FormatError::Schema { reason, .. }) if reason.contains("missing field `memo`")),
        "{err:?}"
    );
}

// Proves a float is refused, in the body and in the leaf, even as a whole
// number written with a fraction or an exponent.
#[test]
fn floats_are_refused() {
    let mut l = Ledger::funded();
    let mut b = income("operating", 100, "f-1").to_value();
    b["amount_fen"] = json!(100.5);
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::ForbiddenValue {
            path: "$.body.amount_fen".into(),
            what: "a fractional or huge number"
        }
    );
    let text = String::from_utf8(l.bytes(income("operating", 100, "f-2"), &["co-1"])).unwrap();
    for bad in [
        text.replacen("\"amount_fen\":100", "\"amount_fen\":100.0", 1),
        text.replacen("\"amount_fen\":100", "\"amount_fen\":1e2", 1),
    ] {
        let err = l.reject(bad.as_bytes());
        assert!(
            matches!(
                canonical_error(&err),
                CanonicalError::ForbiddenValue { path, .. } if path == "$.body.amount_fen"
            ),
            "{err:?}"
        );
    }
}

// Proves null is refused, including as the value of an optional field (an
// absent optional field must be omitted, not null).
#[test]
fn null_is_refused() {
    let mut l = Ledger::funded();
    let mut b = expenditure("operating", 100, "n-1").to_value();
    b["owners_approval"] = Value::Null;
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1", "cm-1", "cm-2"])));
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::ForbiddenValue {
            path: "$.body.owners_approval".into(),
            what: "null"
        }
    );
}

// Proves booleans are refused.
#[test]
fn booleans_are_refused() {
    let mut l = Ledger::funded();
    let mut leaf = l.raw_leaf(income("operating", 100, "b-1").to_value(), &["co-1"]);
    leaf["body"]["memo"] = json!(true);
    let err = l.reject(&jcs(&leaf));
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::ForbiddenValue {
            path: "$.body.memo".into(),
            what: "a boolean"
        }
    );
}

// Proves integers beyond ±(2^53 − 1) are refused wherever they appear (the
// limit itself is a valid JSON integer; amounts have their own lower limit).
#[test]
fn huge_integers_are_refused() {
    let mut l = Ledger::funded();
    let mut b = income("operating", 100, "h-1").to_value();
    b["amount_fen"] = json!(1u64 << 53);
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::IntegerRange {
            path: "$.body.amount_fen".into()
        }
    );
    let mut leaf = l.raw_leaf(income("operating", 100, "h-2").to_value(), &["co-1"]);
    leaf["time"] = json!(1u64 << 53);
    let err = l.reject(&jcs(&leaf));
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::IntegerRange {
            path: "$.time".into()
        }
    );
    // Beyond 64 bits the number is not an integer to the parser at all.
    let text = String::from_utf8(l.bytes(income("operating", 100, "h-5"), &["co-1"])).unwrap();
    let bad = text.replacen(
        "\"amount_fen\":100",
        "\"amount_fen\":18446744073709551616",
        1,
    );
    let err = l.reject(bad.as_bytes());
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::ForbiddenValue {
            path: "$.body.amount_fen".into(),
            what: "a fractional or huge number"
        }
    );
    let mut leaf = l.raw_leaf(income("operating", 100, "h-3").to_value(), &["co-1"]);
    leaf["seq"] = json!(-3);
    let err = l.reject(&jcs(&leaf));
    assert_eq!(field_error(&err).0, "$.seq");
    // 2^53 - 1 passes the JSON layer and is then refused by the amount limit.
    let mut b = income("operating", 100, "h-4").to_value();
    b["amount_fen"] = json!((1u64 << 53) - 1);
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    assert_field_error(&err, "$.body.amount_fen");
}

// Proves control characters (C0, DEL and C1) are refused in any string, and
// in an object key.
#[test]
fn control_characters_are_refused() {
    let mut l = Ledger::funded();
    for (c, code_point) in [('\u{7}', 7), ('\n', 10), ('\u{7f}', 0x7f), ('\u{85}', 0x85)] {
        let mut b = income("operating", 100, "c-1").to_value();
        b["memo"] = json!(format!("a{c}b"));
        let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
        assert_eq!(
            canonical_error(&err),
            &CanonicalError::ControlCharacter {
                path: "$.body.memo".into(),
                code_point
            }
        );
    }
    let mut b = income("operating", 100, "c-2").to_value();
    b["x\ty"] = json!("z");
    let err = l.reject(&jcs(&l.raw_leaf(b, &["co-1"])));
    assert!(matches!(
        canonical_error(&err),
        CanonicalError::ControlCharacter { code_point: 9, .. }
    ));
}

// Proves every string field has a byte (not character) limit: one byte over
// is refused with the field's path, exactly at the limit is accepted.
#[test]
fn over_long_string_fields_are_refused() {
    let mut l = Ledger::funded();
    let over = |n: usize| "x".repeat(n + 1);

    // memo: 1,000 bytes. 334 × "星" is 334 characters but 1,002 bytes.
    let mut b = income("operating", 100, "l-1");
    if let Content::Income(i) = &mut b.content {
        i.memo = "星".repeat(334);
    }
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.memo");
    let mut b = income("operating", 100, "l-2");
    if let Content::Income(i) = &mut b.content {
        i.memo = format!("{}x", "星".repeat(333));
        assert_eq!(i.memo.len(), 1_000);
    }
    l.commit(b, &["co-1"]);

    // payer: 100 bytes.
    let mut b = income("operating", 100, "l-3");
    if let Content::Income(i) = &mut b.content {
        i.payer = over(100);
    }
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.payer");

    // payee: 100 bytes.
    let mut b = expenditure("operating", 100, "l-4");
    if let Content::Expenditure(e) = &mut b.content {
        e.payee = over(100);
    }
    assert_field_error(&l.reject_body(b, &["co-1", "cm-1", "cm-2"]), "$.body.payee");

    // attachment name: 200 bytes.
    let mut b = expenditure("operating", 100, "l-5");
    if let Content::Expenditure(e) = &mut b.content {
        e.attachments[0].name = over(200);
    }
    assert_field_error(
        &l.reject_body(b, &["co-1", "cm-1", "cm-2"]),
        "$.body.attachments[0].name",
    );

    // decision_ref: 200 bytes.
    let mut b = transfer("public_revenue", "maintenance", 100, "l-6");
    if let Content::Transfer(t) = &mut b.content {
        t.owners_approval.as_mut().unwrap().decision_ref = over(200);
    }
    assert_field_error(
        &l.reject_body(b, &["co-1", "cm-1", "cm-2"]),
        "$.body.owners_approval.decision_ref",
    );

    // reason: 1,000 bytes.
    let mut b = reversal(1, "l-7");
    if let Content::Reversal(r) = &mut b.content {
        r.reason = over(1_000);
    }
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.reason");

    // nonce: 64 bytes of [A-Za-z0-9_-].
    let b = income("operating", 100, &over(64));
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.nonce");
    l.commit(income("operating", 100, &"n".repeat(64)), &["co-1"]);

    // fund id: 32 bytes.
    let b = income(&over(32), 100, "l-8");
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.fund");

    // origin: 128 bytes.
    let mut b = income("operating", 100, "l-9");
    b.ledger = format!("example.org/{}", over(116));
    assert_eq!(b.ledger.len(), 129);
    assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.ledger");

    // governance memo: 1,000 bytes.
    let mut b = governance(Some(genesis_roles(true)), "l-10");
    if let Content::Governance(g) = &mut b.content {
        g.memo = over(1_000);
    }
    assert_field_error(&l.reject_body(b, &["cm-1", "cm-2", "sv-1"]), "$.body.memo");

    // key name in a signature: 64 bytes.
    let mut leaf = l.raw_leaf(income("operating", 100, "l-11").to_value(), &["co-1"]);
    leaf["signatures"][0]["key"] = json!(over(64));
    assert_field_error(&l.reject(&jcs(&leaf)), "$.signatures[0].key");

    // genesis name: 200 bytes, checked before anything else of the ledger.
    let mut g = genesis_body(false);
    if let Content::Genesis(c) = &mut g.content {
        c.name = over(200);
    }
    let err = LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"]))
        .expect_err("over-long name");
    assert_field_error(&err, "$.body.name");
}

// Proves a leaf over 65,535 bytes is refused before it is parsed, and that a
// leaf of exactly 65,535 bytes gets past the size check.
#[test]
fn leaf_over_65535_bytes_is_refused() {
    let mut l = Ledger::funded();
    let mut leaf = l.raw_leaf(income("operating", 100, "big-1").to_value(), &["co-1"]);
    leaf["pad"] = json!("");
    let base = jcs(&leaf).len();
    leaf["pad"] = json!("x".repeat(LEAF_BYTES_MAX + 1 - base));
    let bytes = jcs(&leaf);
    assert_eq!(bytes.len(), LEAF_BYTES_MAX + 1);
    let err = l.reject(&bytes);
    assert_eq!(
        canonical_error(&err),
        &CanonicalError::TooLarge {
            found_bytes: LEAF_BYTES_MAX + 1
        }
    );
    leaf["pad"] = json!("x".repeat(LEAF_BYTES_MAX - base));
    let bytes = jcs(&leaf);
    assert_eq!(bytes.len(), LEAF_BYTES_MAX);
    // Exactly at the limit it parses, and is refused only for the unknown field.
    assert_eq!(field_error(&l.reject(&bytes)), ("$.pad", "unknown field"));
}

// ---------------------------------------------------------------------------
// 2. Position in the log
// ---------------------------------------------------------------------------

// Proves a correctly signed entry for another ledger (another origin) is
// refused, so signatures cannot be replayed across ledgers.
#[test]
fn wrong_ledger_origin_is_refused() {
    let mut l = Ledger::funded();
    let mut b = income("operating", 100, "o-1");
    b.ledger = "other.example/ledger".into();
    let err = l.reject_body(b, &["co-1"]);
    assert_eq!(
        err,
        ApplyError::WrongLedger {
            expected: ORIGIN.into(),
            found: "other.example/ledger".into()
        }
    );
}

// Proves a leaf must carry exactly the next seq: neither a gap nor a
// rewrite of an existing position.
#[test]
fn wrong_seq_is_refused() {
    let mut l = Ledger::funded();
    for seq in [4, 2, 0, u64::from(u32::MAX)] {
        let mut leaf = l.leaf(income("operating", 100, "s-1"), &["co-1"]);
        leaf.seq = seq;
        let err = l.reject(&leaf.to_canonical_bytes());
        assert_eq!(
            err,
            ApplyError::Sequence {
                expected: 3,
                found: seq
            }
        );
    }
}

// Proves `prev` must be the leaf hash of the entry before: zeros, a random
// hash or the hash of an older entry are refused.
#[test]
fn broken_prev_chain_is_refused() {
    let mut l = Ledger::new(true);
    let older = l
        .commit(income("operating", 100, "p-0"), &["co-1"])
        .leaf_hash;
    l.commit(income("operating", 100, "p-00"), &["co-1"]);
    let head = l.state().head();
    assert_ne!(head, older);
    for found in [Hash::ZERO, Hash([7; 32]), older] {
        let mut leaf = l.leaf(income("operating", 100, "p-1"), &["co-1"]);
        leaf.prev = found;
        let err = l.reject(&leaf.to_canonical_bytes());
        assert_eq!(
            err,
            ApplyError::BrokenChain {
                seq: 3,
                expected: head,
                found
            }
        );
    }
}

// Proves time never goes backwards (equal times are allowed), and that
// `next_leaf` clamps a clock that stepped back.
#[test]
fn time_going_backwards_is_refused() {
    let mut l = Ledger::funded();
    let last = l.state().last_time_ms();
    let mut leaf = l.leaf(income("operating", 100, "t-1"), &["co-1"]);
    leaf.time_ms = last - 1;
    let err = l.reject(&leaf.to_canonical_bytes());
    assert_eq!(
        err,
        ApplyError::TimeWentBackwards {
            seq: 3,
            previous_ms: last,
            found_ms: last - 1
        }
    );
    leaf.time_ms = last;
    l.r.apply(&leaf.to_canonical_bytes()).unwrap();
    let clamped = l
        .state()
        .next_leaf(income("operating", 1, "t-2"), vec![], 5);
    assert_eq!(clamped.time_ms, last);
}

// Proves a ledger has one genesis: a second, correctly signed by every role,
// is refused at any later seq.
#[test]
fn second_genesis_is_refused() {
    let mut l = Ledger::funded();
    let mut g = genesis_body(true);
    g.nonce = "genesis-2".into();
    let err = l.reject_body(g, &["co-1", "cm-1", "cm-2", "sv-1"]);
    assert_eq!(err, ApplyError::SecondGenesis { seq: 3 });
}

// Proves the first entry must be a genesis, and a genesis must sit at seq 0
// with zero prev; the genesis needs every role it defines up to its
// threshold; and its log key must be an Ed25519 key named after the origin.
#[test]
fn first_entry_must_be_a_proper_genesis() {
    let inc = income("operating", 100, "i-0");
    let leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: T0,
        signatures: sigs(&inc, &["co-1"]),
        body: inc,
    };
    let err = Replayer::start(&leaf.to_canonical_bytes()).unwrap_err();
    assert_eq!(
        err,
        ApplyError::NotGenesis {
            found: Kind::Income
        }
    );

    let g = genesis_body(true);
    let all = ["co-1", "cm-1", "cm-2", "sv-1"];
    let mut leaf = Leaf::decode(&genesis_leaf(&g, &all)).unwrap();
    leaf.seq = 1;
    assert_eq!(
        LedgerState::from_genesis(&leaf.to_canonical_bytes()).unwrap_err(),
        ApplyError::Sequence {
            expected: 0,
            found: 1
        }
    );
    leaf.seq = 0;
    leaf.prev = Hash([1; 32]);
    assert_eq!(
        LedgerState::from_genesis(&leaf.to_canonical_bytes()).unwrap_err(),
        ApplyError::BrokenChain {
            seq: 0,
            expected: Hash::ZERO,
            found: Hash([1; 32])
        }
    );

    // Every role must sign: the supervisor is missing, then the committee is short.
    assert_eq!(
        LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err(),
        ApplyError::RuleNotMet {
            kind: Kind::Genesis,
            role: Role::Supervisor,
            have: 0,
            need: 1
        }
    );
    assert_eq!(
        LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-3", "sv-1"])).unwrap_err(),
        ApplyError::RuleNotMet {
            kind: Kind::Genesis,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );

    // The log key must be named after the origin.
    let mut g = genesis_body(false);
    if let Content::Genesis(c) = &mut g.content {
        c.log_key = NoteSigner::new("other.example/log", KeyAlg::Ed25519, sk(9))
            .unwrap()
            .verifier_key()
            .to_string();
    }
    let err = LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
    assert!(matches!(err, ApplyError::BadLogKey { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------
// 3. Signatures and rules
// ---------------------------------------------------------------------------

// Proves a signature by a key that belongs to no role is refused, even when
// the rule is otherwise met.
#[test]
fn unknown_key_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(income("operating", 100, "uk-1"), &["co-1", "nobody"]);
    assert_eq!(
        err,
        ApplyError::UnknownKey {
            key: "nobody".into()
        }
    );
}

// Proves one flipped byte in any signature rejects the leaf, even when the
// other signatures meet the rule; and a non-canonical base64 spelling of a
// signature is refused as malformed.
#[test]
fn bad_signature_is_refused() {
    let mut l = Ledger::funded();
    let mut leaf = l.leaf(
        expenditure("operating", 100, "bs-1"),
        &["co-1", "cm-1", "cm-2", "cm-3"],
    );
    let mut raw = B64.decode(&leaf.signatures[2].sig).unwrap();
    raw[10] ^= 0x01;
    leaf.signatures[2].sig = B64.encode(raw);
    let err = l.reject(&leaf.to_canonical_bytes());
    assert_eq!(err, ApplyError::BadSignature { key: "cm-3".into() });

    let mut leaf = l.leaf(income("operating", 100, "bs-2"), &["co-1"]);
    let mut sig = leaf.signatures[0].sig.clone();
    assert!(sig.ends_with("=="));
    sig.truncate(sig.len() - 2); // unpadded base64
    leaf.signatures[0].sig = sig;
    assert_field_error(&l.reject(&leaf.to_canonical_bytes()), "$.signatures[0].sig");
}

// Proves a `SignatureCheck` (made ahead, on another thread) speaks only for
// the body and the signature list it was made on. Handed in with a list in
// which one signature is flipped, or with the same signatures over another
// body, it is not used: the signatures are verified again and the leaf is
// refused. With its own leaf, it is used and the leaf commits.
#[test]
fn a_signature_check_speaks_only_for_its_own_body_and_list() {
    let l = Ledger::funded();
    let signers = ["co-1", "cm-1", "cm-2"];
    let honest = l.leaf(expenditure("operating", 100, "sc-1"), &signers);
    let check = l
        .state()
        .check_signatures(&honest.body.to_canonical_bytes(), &honest.signatures);
    let try_apply = |leaf: &Leaf| {
        let lookups = l.r.history.lookups(&leaf.needs());
        l.state().clone().apply_leaf_prechecked(
            leaf,
            &leaf.to_canonical_bytes(),
            &lookups,
            Some(&check),
        )
    };

    let mut flipped = honest.clone();
    let mut raw = B64.decode(&flipped.signatures[1].sig).unwrap();
    raw[10] ^= 0x01;
    flipped.signatures[1].sig = B64.encode(raw);
    let key = flipped.signatures[1].key.clone();
    assert_eq!(try_apply(&flipped), Err(ApplyError::BadSignature { key }));

    let mut other_body = honest.clone();
    other_body.body = expenditure("operating", 100_000, "sc-1");
    let key = other_body.signatures[0].key.clone();
    assert_eq!(
        try_apply(&other_body),
        Err(ApplyError::BadSignature { key })
    );

    assert!(try_apply(&honest).is_ok());
}

// Proves the company key can never count for the committee: a company
// signature beside one committee signature leaves the committee at 1 of 2,
// and a company signature labelled with a committee key name does not verify.
#[test]
fn company_key_cannot_stand_in_for_committee() {
    let mut l = Ledger::funded();
    let err = l.reject_body(expenditure("operating", 100, "cs-1"), &["co-1", "cm-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Expenditure,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );

    let b = expenditure("operating", 100, "cs-2");
    let mut s = vec![sig(&b, "co-1"), sig(&b, "cm-1"), sig_with(&b, "cm-2", 1)];
    normalize_signatures(&mut s);
    let leaf = l.state().next_leaf(b, s, l.now());
    let err = l.reject(&leaf.to_canonical_bytes());
    assert_eq!(err, ApplyError::BadSignature { key: "cm-2".into() });
}

// Proves thresholds count distinct keys: one committee key listed twice is
// refused as a malformed signature list, never counted as two.
#[test]
fn one_key_twice_is_refused() {
    let mut l = Ledger::funded();
    let b = expenditure("operating", 100, "dk-1");
    let s = vec![sig(&b, "cm-1"), sig(&b, "cm-1"), sig(&b, "co-1")];
    let leaf = Leaf {
        seq: l.state().size(),
        prev: l.state().head(),
        time_ms: l.now(),
        body: b,
        signatures: s,
    };
    assert_field_error(&l.reject(&leaf.to_canonical_bytes()), "$.signatures");
    // Unsorted signatures are refused the same way.
    let b = expenditure("operating", 100, "dk-2");
    let s = vec![sig(&b, "co-1"), sig(&b, "cm-1"), sig(&b, "cm-2")];
    let leaf = Leaf {
        seq: l.state().size(),
        prev: l.state().head(),
        time_ms: l.now(),
        body: b,
        signatures: s,
    };
    assert_field_error(&l.reject(&leaf.to_canonical_bytes()), "$.signatures");
}

// Proves a spend with the company and only 1 of the 2 committee signatures
// is refused with the exact shortfall; with no signature at all the list is
// malformed.
#[test]
fn one_of_two_committee_signatures_is_not_enough() {
    let mut l = Ledger::funded();
    let err = l.reject_body(expenditure("operating", 100, "rn-1"), &["co-1", "cm-3"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Expenditure,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );
    let err = l.reject_body(expenditure("operating", 100, "rn-2"), &["cm-1", "cm-2"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Expenditure,
            role: Role::Company,
            have: 0,
            need: 1
        }
    );
    let err = l.reject_body(transfer("operating", "maintenance", 1, "rn-3"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Transfer,
            role: Role::Committee,
            have: 0,
            need: 2
        }
    );
    assert_field_error(
        &l.reject_body(expenditure("operating", 100, "rn-4"), &[]),
        "$.signatures",
    );
}

// Proves check_proposal refuses a proposal none of whose signers belongs to
// a role the rule names, and accepts a partial but relevant one (reporting
// what is still missing).
#[test]
fn proposal_needs_a_signer_from_the_rule() {
    let l = Ledger::funded();
    let check = |b: &Body, names: &[&str]| {
        let lookups = l.r.history.lookups(&body_needs(b));
        l.state().check_proposal(b, &sigs(b, names), &lookups)
    };
    let b = income("operating", 100, "pr-1");
    assert_eq!(
        check(&b, &["cm-1", "sv-1"]).unwrap_err(),
        ApplyError::NoRuleSigner {
            kind: Kind::Income,
            roles: "company".into()
        }
    );
    let b = expenditure("operating", 100, "pr-2");
    assert_eq!(
        check(&b, &["sv-1"]).unwrap_err(),
        ApplyError::NoRuleSigner {
            kind: Kind::Expenditure,
            roles: "company + committee".into()
        }
    );
    let approval = check(&b, &["co-1"]).unwrap();
    assert!(!approval.is_satisfied());
    assert_eq!(
        approval.unmet(),
        Some(ApplyError::RuleNotMet {
            kind: Kind::Expenditure,
            role: Role::Committee,
            have: 0,
            need: 2
        })
    );
    assert!(check(&b, &["co-1", "cm-1", "cm-2"]).unwrap().is_satisfied());
    // A bad signature in a proposal is refused too.
    let mut s = sigs(&b, &["co-1"]);
    s.push(sig_with(&b, "cm-1", 10));
    normalize_signatures(&mut s);
    let lookups = l.r.history.lookups(&body_needs(&b));
    assert_eq!(
        l.state().check_proposal(&b, &s, &lookups).unwrap_err(),
        ApplyError::BadSignature { key: "cm-1".into() }
    );
}

// ---------------------------------------------------------------------------
// 4. Role sets
// ---------------------------------------------------------------------------

/// The identity point (order 1) and the point of order 2, encoded.
fn small_order_keys() -> [String; 2] {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32]; // y = p - 1 = -1
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    for bytes in [identity, minus_one] {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&bytes).unwrap();
        assert!(vk.is_weak());
    }
    [B64.encode(identity), B64.encode(minus_one)]
}

fn with_key(mut roles: Roles, role: Role, index: usize, public_key: &str) -> Roles {
    roles.get_mut(&role).unwrap().keys[index].public_key = public_key.into();
    roles
}

// Proves small-order ("weak") public keys are refused in genesis roles and
// in governance roles: anyone can forge signatures for them.
#[test]
fn weak_keys_are_refused() {
    for weak in small_order_keys() {
        let mut g = genesis_body(false);
        if let Content::Genesis(c) = &mut g.content {
            c.roles = with_key(genesis_roles(false), Role::Committee, 2, &weak);
        }
        let err =
            LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
        assert_eq!(
            field_error(&err),
            (
                "$.body.roles.committee.keys[2].public_key",
                "weak (small-order) key refused"
            )
        );

        let mut l = Ledger::funded();
        let roles = with_key(genesis_roles(true), Role::Supervisor, 0, &weak);
        let err = l.reject_body(governance(Some(roles), "wk-1"), &["cm-1", "cm-2", "sv-1"]);
        assert_eq!(
            field_error(&err),
            (
                "$.body.roles.supervisor.keys[0].public_key",
                "weak (small-order) key refused"
            )
        );
    }
}

// Proves a key name may appear only once across all roles.
#[test]
fn duplicate_key_name_across_roles_is_refused() {
    let mut roles = genesis_roles(true);
    roles.get_mut(&Role::Supervisor).unwrap().keys[0].name = "co-1".into();
    let mut g = genesis_body(true);
    if let Content::Genesis(c) = &mut g.content {
        c.roles = roles.clone();
    }
    let err = LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
    assert_field_error(&err, "$.body.roles.supervisor.keys[0].name");

    let mut l = Ledger::funded();
    let err = l.reject_body(governance(Some(roles), "dn-1"), &["cm-1", "cm-2", "sv-1"]);
    assert_field_error(&err, "$.body.roles.supervisor.keys[0].name");
}

// Proves one public key may belong to one role only, once: the same key in
// the company and the committee (under two names) is refused.
#[test]
fn same_public_key_in_two_roles_is_refused() {
    let co = keydef("co-1").public_key;
    let mut g = genesis_body(false);
    if let Content::Genesis(c) = &mut g.content {
        c.roles = with_key(genesis_roles(false), Role::Committee, 0, &co);
    }
    let err = LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
    assert_eq!(
        field_error(&err),
        (
            "$.body.roles.committee.keys[0].public_key",
            "a key belongs to one role only, once"
        )
    );
    let mut l = Ledger::funded();
    let roles = with_key(genesis_roles(true), Role::Supervisor, 0, &co);
    let err = l.reject_body(governance(Some(roles), "sk-1"), &["cm-1", "cm-2", "sv-1"]);
    assert_field_error(&err, "$.body.roles.supervisor.keys[0].public_key");
}

// Proves a threshold must be 1 to the role's key count, and that company and
// committee are mandatory roles.
#[test]
fn threshold_zero_or_above_key_count_is_refused() {
    for threshold in [0, 4] {
        let mut roles = genesis_roles(false);
        roles.get_mut(&Role::Committee).unwrap().threshold = threshold;
        let mut g = genesis_body(false);
        if let Content::Genesis(c) = &mut g.content {
            c.roles = roles.clone();
        }
        let err =
            LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
        assert_field_error(&err, "$.body.roles.committee.threshold");

        let mut l = Ledger::new(false);
        let err = l.reject_body(governance(Some(roles), "th-1"), &["co-1", "cm-1", "cm-2"]);
        assert_field_error(&err, "$.body.roles.committee.threshold");
    }
    let mut roles = genesis_roles(false);
    roles.remove(&Role::Committee);
    let mut l = Ledger::new(false);
    let err = l.reject_body(governance(Some(roles), "th-2"), &["co-1", "cm-1", "cm-2"]);
    assert_field_error(&err, "$.body.roles");
}

// ---------------------------------------------------------------------------
// 5. Replays
// ---------------------------------------------------------------------------

// Proves the same body cannot be recorded twice, even re-signed by other
// keys; and two identical payments that differ only in their nonce are two
// entries.
#[test]
fn replay_is_refused_and_nonces_distinguish() {
    let mut l = Ledger::funded();
    let first = l.commit(income("operating", 5_000, "pay-1"), &["co-1"]);
    let err = l.reject_body(income("operating", 5_000, "pay-1"), &["co-1"]);
    assert_eq!(err, ApplyError::Replay { seq: first.seq });
    // A replayed spend, with another committee pair, is refused as well.
    let spend = l.commit(
        expenditure("operating", 700, "sp-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    let err = l.reject_body(
        expenditure("operating", 700, "sp-1"),
        &["co-1", "cm-2", "cm-3"],
    );
    assert_eq!(err, ApplyError::Replay { seq: spend.seq });

    let before = l.balance("operating");
    let a = l.commit(income("operating", 5_000, "pay-2"), &["co-1"]);
    let b = l.commit(income("operating", 5_000, "pay-3"), &["co-1"]);
    assert_ne!(a.body_id, b.body_id);
    assert_eq!(l.balance("operating"), before + 10_000);
}

// ---------------------------------------------------------------------------
// 6. Reversals
// ---------------------------------------------------------------------------

// Proves a reversal of a seq that does not exist (yet) is refused.
#[test]
fn reversal_of_missing_seq_is_refused() {
    let mut l = Ledger::funded();
    for target_seq in [3, 99, u64::from(u32::MAX)] {
        let err = l.reject_body(reversal(target_seq, "rm-1"), &["co-1", "cm-1", "cm-2"]);
        assert_eq!(err, ApplyError::TargetMissing { target_seq });
    }
}

// Proves genesis, governance and reversal entries cannot be reversed. The
// look-ups here are what the store gives (`feeledger_store` passes the
// target leaf whatever its kind).
#[test]
fn reversal_of_non_money_entries_is_refused() {
    let mut l = Ledger::funded();
    let mut all_leaves = vec![];
    let gov = l.leaf(
        governance(Some(genesis_roles(true)), "gv-1"),
        &["cm-1", "cm-2", "sv-1"],
    );
    l.r.apply(&gov.to_canonical_bytes()).unwrap();
    all_leaves.push((3, gov));
    l.commit(reversal(1, "rv-1"), &["co-1"]);
    let rev = l.leaf(reversal(2, "rv-2"), &["co-1"]);
    l.r.apply(&rev.to_canonical_bytes()).unwrap();
    all_leaves.push((5, rev));

    let genesis = Leaf::decode(&genesis_leaf(&genesis_body(true), &["co-1"])).unwrap();
    all_leaves.push((0, genesis));
    for (seq, target) in all_leaves {
        let kind = target.body.kind();
        let b = reversal(seq, "rv-x");
        let bytes = l.bytes(b, &["co-1", "cm-1", "cm-2", "sv-1"]);
        let lookups = Lookups {
            body_seen_at: None,
            target: Some((target, None)),
        };
        let before = l.observe();
        let err = l.r.state.apply(&bytes, &lookups).unwrap_err();
        assert_eq!(
            err,
            ApplyError::NotReversible {
                target_seq: seq,
                kind
            }
        );
        assert_eq!(l.observe(), before);
        // The in-memory auditor refuses it too (its history keeps only the
        // leaves of money-moving entries, so it reports the target missing).
        let err = l.reject(&bytes);
        assert!(
            matches!(
                err,
                ApplyError::NotReversible { .. } | ApplyError::TargetMissing { .. }
            ),
            "{err:?}"
        );
    }
}

// Proves an entry can be reversed once only.
#[test]
fn reversal_twice_is_refused() {
    let mut l = Ledger::funded();
    let first = l.commit(reversal(1, "r2-1"), &["co-1"]);
    assert_eq!(first.reverses, Some(1));
    let err = l.reject_body(reversal(1, "r2-2"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::AlreadyReversed {
            target_seq: 1,
            by_seq: first.seq
        }
    );
}

// Proves a reversal needs its target's rule: reversing an expenditure takes
// company + committee (the company alone, enough for an income, is not).
#[test]
fn reversal_needs_the_targets_rule() {
    let mut l = Ledger::funded();
    let spend = l.commit(
        expenditure("operating", 10_000, "rr-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    let err = l.reject_body(reversal(spend.seq, "rr-2"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Reversal,
            role: Role::Committee,
            have: 0,
            need: 2
        }
    );
    let err = l.reject_body(reversal(spend.seq, "rr-3"), &["co-1", "cm-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Reversal,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );
    let applied = l.commit(reversal(spend.seq, "rr-4"), &["co-1", "cm-2", "cm-3"]);
    assert_eq!(
        applied.effect,
        Effect::Credit {
            fund: "operating".into(),
            amount_fen: 10_000
        }
    );
    assert_eq!(l.balance("operating"), 1_000_000);
    // Reversing an income needs only the income rule (the company).
    l.commit(reversal(2, "rr-5"), &["co-1"]);
    assert_eq!(l.balance("public_revenue"), 0);
}

// Proves reversing an income whose money was already spent would overdraft
// and is refused; so is reversing a transfer whose money moved on.
#[test]
fn reversal_that_would_overdraft_is_refused() {
    let mut l = Ledger::new(true);
    let inc = l.commit(income("operating", 10_000, "ro-1"), &["co-1"]);
    l.commit(
        expenditure("operating", 8_000, "ro-2"),
        &["co-1", "cm-1", "cm-2"],
    );
    let err = l.reject_body(reversal(inc.seq, "ro-3"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "operating".into(),
            balance_fen: 2_000,
            amount_fen: 10_000
        }
    );

    let t = l.commit(
        transfer("operating", "maintenance", 2_000, "ro-4"),
        &["co-1", "cm-1", "cm-2"],
    );
    l.commit(
        expenditure("maintenance", 1_500, "ro-5"),
        &["co-1", "cm-1", "cm-2"],
    );
    let err = l.reject_body(reversal(t.seq, "ro-6"), &["co-1", "cm-1", "cm-2"]);
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "maintenance".into(),
            balance_fen: 500,
            amount_fen: 2_000
        }
    );
}

// ---------------------------------------------------------------------------
// 7. Money
// ---------------------------------------------------------------------------

// Proves amounts are 1 to 10^13 fen: 0 and 10^13 + 1 are refused in every
// kind that carries an amount; 10^13 itself is accepted.
#[test]
fn amount_limits() {
    let mut l = Ledger::funded();
    for amount in [0, AMOUNT_FEN_MAX + 1] {
        let err = l.reject_body(income("operating", amount, "am-1"), &["co-1"]);
        assert_field_error(&err, "$.body.amount_fen");
        let err = l.reject_body(
            expenditure("operating", amount, "am-2"),
            &["co-1", "cm-1", "cm-2"],
        );
        assert_field_error(&err, "$.body.amount_fen");
        let err = l.reject_body(
            transfer("operating", "maintenance", amount, "am-3"),
            &["co-1", "cm-1", "cm-2"],
        );
        assert_field_error(&err, "$.body.amount_fen");
    }
    l.commit(income("maintenance", AMOUNT_FEN_MAX, "am-4"), &["co-1"]);
    assert_eq!(l.balance("maintenance"), AMOUNT_FEN_MAX);
}

// Proves no fund goes below zero: a spend of one fen more than the balance is
// refused with the balance and the amount; exactly the balance is accepted.
#[test]
fn overdraft_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        expenditure("operating", 1_000_001, "od-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "operating".into(),
            balance_fen: 1_000_000,
            amount_fen: 1_000_001
        }
    );
    let err = l.reject_body(
        expenditure("maintenance", 1, "od-2"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "maintenance".into(),
            balance_fen: 0,
            amount_fen: 1
        }
    );
    l.commit(
        expenditure("operating", 1_000_000, "od-3"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(l.balance("operating"), 0);
}

// Proves a transfer cannot take more than its source fund holds.
#[test]
fn transfer_overdraft_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        transfer("public_revenue", "maintenance", 1_000_001, "to-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "public_revenue".into(),
            balance_fen: 1_000_000,
            amount_fen: 1_000_001
        }
    );
}

// Proves a fund that the genesis does not define is refused, in each field
// that names a fund.
#[test]
fn unknown_fund_is_refused() {
    let mut l = Ledger::funded();
    let unknown = ApplyError::UnknownFund {
        fund: "parking".into(),
    };
    assert_eq!(
        l.reject_body(income("parking", 1, "uf-1"), &["co-1"]),
        unknown
    );
    assert_eq!(
        l.reject_body(expenditure("parking", 1, "uf-2"), &["co-1", "cm-1", "cm-2"]),
        unknown
    );
    assert_eq!(
        l.reject_body(
            transfer("operating", "parking", 1, "uf-3"),
            &["co-1", "cm-1", "cm-2"]
        ),
        unknown
    );
    assert_eq!(
        l.reject_body(
            transfer("parking", "operating", 1, "uf-4"),
            &["co-1", "cm-1", "cm-2"]
        ),
        unknown
    );
}

// Proves a transfer needs two different funds.
#[test]
fn transfer_to_the_same_fund_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        transfer("operating", "operating", 1, "sf-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        field_error(&err),
        ("$.body.to_fund", "a transfer needs two different funds")
    );
}

// Proves balances are exact (integer fen, no rounding) after a mixed
// sequence of entries, and that the effects are reported.
#[test]
fn balances_are_exact_after_a_sequence() {
    let mut l = Ledger::new(false);
    let steps: Vec<(Body, &[&str])> = vec![
        (income("operating", 128_050, "bx-1"), &["co-1"]),
        (income("operating", 1, "bx-2"), &["co-1"]),
        (income("public_revenue", 33_333, "bx-3"), &["co-1"]),
        (
            expenditure("operating", 99_999, "bx-4"),
            &["co-1", "cm-1", "cm-3"],
        ),
        (
            transfer("public_revenue", "maintenance", 11_111, "bx-5"),
            &["co-1", "cm-2", "cm-3"],
        ),
        (
            expenditure("maintenance", 11_110, "bx-6"),
            &["co-1", "cm-1", "cm-2"],
        ),
        (reversal(4, "bx-7"), &["co-1", "cm-1", "cm-2"]),
        (
            transfer("operating", "public_revenue", 28_052, "bx-8"),
            &["co-1", "cm-1", "cm-2"],
        ),
    ];
    for (b, signers) in steps {
        l.commit(b, signers);
    }
    let want: BTreeMap<String, u64> = [
        ("maintenance", 1),
        ("operating", 100_000 - 1),
        ("public_revenue", 33_333 - 11_111 + 28_052),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(l.state().balances(), &want);
    // Money in equals money out plus what is held.
    let held: u64 = l.state().balances().values().sum();
    assert_eq!(held, 128_050 + 1 + 33_333 - 11_110);
}

// ---------------------------------------------------------------------------
// 8. Governance
// ---------------------------------------------------------------------------

fn new_committee_roles() -> Roles {
    let mut roles = genesis_roles(true);
    roles.insert(Role::Committee, role(2, &["cm-4", "cm-5", "cm-6"]));
    roles
}

// Proves a new committee takes effect from the entry after the governance
// entry: the new keys cannot sign the change itself, the old ones sign it,
// and afterwards the old committee keys are unknown and the new ones work.
#[test]
fn new_committee_takes_effect_from_the_next_entry() {
    let mut l = Ledger::funded();
    let g = governance(Some(new_committee_roles()), "gn-1");
    let err = l.reject_body(g.clone(), &["cm-4", "cm-5", "sv-1"]);
    assert_eq!(err, ApplyError::UnknownKey { key: "cm-4".into() });
    l.commit(g, &["cm-1", "cm-2", "sv-1"]);
    assert_eq!(l.state().role_of("cm-1"), None);
    assert_eq!(l.state().role_of("cm-4"), Some(Role::Committee));

    let err = l.reject_body(
        expenditure("operating", 100, "gn-2"),
        &["cm-1", "cm-2", "co-1"],
    );
    assert_eq!(err, ApplyError::UnknownKey { key: "cm-1".into() });
    l.commit(
        expenditure("operating", 100, "gn-3"),
        &["cm-5", "cm-6", "co-1"],
    );
    // Entries signed before the change still replay: audit from genesis.
    assert_eq!(l.balance("operating"), 999_900);
}

// Proves that with a supervisor, governance needs committee + supervisor:
// company + committee is not enough.
#[test]
fn governance_needs_committee_and_supervisor() {
    let mut l = Ledger::funded();
    let g = governance(Some(new_committee_roles()), "gs-1");
    let err = l.reject_body(g.clone(), &["co-1", "cm-1", "cm-2", "cm-3"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Supervisor,
            have: 0,
            need: 1
        }
    );
    let err = l.reject_body(g.clone(), &["cm-1", "sv-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );
    l.commit(g, &["cm-1", "cm-3", "sv-1"]);
}

// Proves that without a supervisor, governance needs company + committee.
#[test]
fn governance_without_supervisor_needs_company_and_committee() {
    let mut l = Ledger::new(false);
    let mut roles = genesis_roles(false);
    roles.insert(Role::Committee, role(2, &["cm-4", "cm-5", "cm-6"]));
    let g = governance(Some(roles), "gc-1");
    let err = l.reject_body(g.clone(), &["cm-1", "cm-2", "cm-3"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Governance,
            role: Role::Company,
            have: 0,
            need: 1
        }
    );
    l.commit(g, &["co-1", "cm-2", "cm-3"]);
    assert_eq!(l.state().role_of("cm-5"), Some(Role::Committee));
}

// Proves governance must leave rules that name only existing roles: removing
// the supervisor while the governance rule still names it is refused; the
// same change with new rules is accepted, and the new rules apply next.
#[test]
fn governance_rules_must_fit_the_roles() {
    let mut l = Ledger::funded();
    let roles = genesis_roles(false);
    let err = l.reject_body(
        governance(Some(roles.clone()), "gr-1"),
        &["cm-1", "cm-2", "sv-1"],
    );
    assert_field_error(&err, "$.body.rules.governance");

    let mut b = governance(Some(roles), "gr-2");
    if let Content::Governance(g) = &mut b.content {
        let mut rules = default_rules(false);
        rules.insert(RuleKind::Income, vec![Role::Company, Role::Committee]);
        g.rules = Some(rules);
    }
    l.commit(b, &["cm-1", "cm-2", "sv-1"]);
    let err = l.reject_body(income("operating", 1, "gr-3"), &["co-1"]);
    assert_eq!(
        err,
        ApplyError::RuleNotMet {
            kind: Kind::Income,
            role: Role::Committee,
            have: 0,
            need: 2
        }
    );
    // Governance that changes nothing at all is malformed.
    let err = l.reject_body(governance(None, "gr-4"), &["co-1", "cm-1", "cm-2"]);
    assert_field_error(&err, "$.body");
}

// ---------------------------------------------------------------------------
// 9. Parties and text
// ---------------------------------------------------------------------------

// Proves a payer or payee with a run of more than 6 digits (an 11-digit
// phone number, an ID number) is refused; unit numbers are fine.
#[test]
fn phone_number_payer_is_refused() {
    let mut l = Ledger::funded();
    for bad in [
        "13800138000",
        "张先生 13800138000",
        "1234567",
        "138-0013-8000",
        "１３８００１３８０００",
        "一三八〇〇一三八〇〇〇",
    ] {
        let mut b = income("operating", 100, "ph-1");
        if let Content::Income(i) = &mut b.content {
            i.payer = bad.into();
        }
        assert_field_error(&l.reject_body(b, &["co-1"]), "$.body.payer");
    }
    let mut b = expenditure("operating", 100, "ph-2");
    if let Content::Expenditure(e) = &mut b.content {
        e.payee = "13800138000".into();
    }
    assert_field_error(&l.reject_body(b, &["co-1", "cm-1", "cm-2"]), "$.body.payee");
    for (i, ok) in ["3-1502", "12-2-1502", "123456", "星光停车管理有限公司"]
        .into_iter()
        .enumerate()
    {
        let mut b = income("operating", 100, &format!("ph-ok-{i}"));
        if let Content::Income(inc) = &mut b.content {
            inc.payer = ok.into();
        }
        l.commit(b, &["co-1"]);
    }
}

// Proves Chinese text is accepted in memo, payee, payer, fund names and the
// ledger name, and survives the round trip byte for byte (JCS does not escape
// it).
#[test]
fn chinese_text_is_accepted() {
    let mut l = Ledger::funded();
    let mut b = expenditure("operating", 100, "zh-1");
    if let Content::Expenditure(e) = &mut b.content {
        e.payee = "星光物业管理有限公司".into();
        e.memo = "电梯年检费用（含税）".into();
    }
    let bytes = l.bytes(b.clone(), &["co-1", "cm-1", "cm-2"]);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.contains("\"payee\":\"星光物业管理有限公司\""));
    l.r.apply(&bytes).unwrap();
    assert_eq!(Leaf::decode(&bytes).unwrap().body, b);
    assert_eq!(l.state().genesis().name, "星光小区 X Star District");
    assert_eq!(l.state().genesis().funds[0].name, "专项维修资金");
}

// ---------------------------------------------------------------------------
// 10. Totals
// ---------------------------------------------------------------------------

// Proves totals by month and by (fund, category), and that a reversal posts
// negative amounts into its target's month and category, netting it out.
#[test]
fn totals_by_month_and_category() {
    let mut l = Ledger::new(true);
    let c = ["co-1", "cm-1", "cm-2"];
    l.commit(
        dated(
            income_cat("public_revenue", 100_000, IncomeCategory::Parking, "tt-1"),
            "2024-03-02",
        ),
        &["co-1"],
    );
    l.commit(
        dated(income("operating", 500_000, "tt-2"), "2024-03-03"),
        &["co-1"],
    );
    let cleaning = l.commit(
        dated(expenditure("operating", 120_000, "tt-3"), "2024-03-20"),
        &c,
    );
    l.commit(
        dated(expenditure("operating", 30_000, "tt-4"), "2024-03-21"),
        &c,
    );
    l.commit(
        dated(income("operating", 300_000, "tt-5"), "2024-04-01"),
        &["co-1"],
    );
    l.commit(
        dated(
            transfer("public_revenue", "maintenance", 50_000, "tt-6"),
            "2024-04-02",
        ),
        &c,
    );
    let rev = l.commit(dated(reversal(cleaning.seq, "tt-7"), "2024-04-10"), &c);
    assert_eq!(rev.postings.len(), 1);
    assert_eq!(rev.postings[0].month, month("2024-03"));
    assert_eq!(rev.postings[0].spending_fen, -120_000);

    let key = |f: &str, c: &str| (f.to_string(), c.to_string());
    let march = l.r.totals.month(month("2024-03"));
    let want_march = BTreeMap::from([
        (key("operating", "cleaning"), (0, 30_000)),
        (key("operating", "property_fee"), (500_000, 0)),
        (key("public_revenue", "parking"), (100_000, 0)),
    ]);
    assert_eq!(march, want_march);
    let april = l.r.totals.month(month("2024-04"));
    let want_april = BTreeMap::from([
        (key("maintenance", "transfer"), (50_000, 0)),
        (key("operating", "property_fee"), (300_000, 0)),
        (key("public_revenue", "transfer"), (0, 50_000)),
    ]);
    assert_eq!(april, want_april);
    assert!(l.r.totals.month(month("2024-05")).is_empty());
    let all = l.r.totals.by_category();
    assert_eq!(all[&key("operating", "property_fee")], (800_000, 0));
    assert_eq!(all[&key("operating", "cleaning")], (0, 30_000));
    assert_eq!(all.len(), 5);
    // The totals agree with the balances.
    let net = |f: &str| -> i128 {
        all.iter()
            .filter(|((fund, _), _)| fund == f)
            .map(|(_, (i, s))| i - s)
            .sum()
    };
    for (fund, balance) in l.state().balances() {
        assert_eq!(net(fund), i128::from(*balance), "{fund}");
    }
}

// ---------------------------------------------------------------------------
// 11. Properties
// ---------------------------------------------------------------------------

/// A funded ledger, and the next leaf (an expenditure with every optional
/// field, signed by three keys), shared by the mutation tests.
struct MutationFixture {
    replayer: Replayer,
    leaf: Leaf,
    bytes: Vec<u8>,
}

fn mutation_fixture() -> &'static MutationFixture {
    static FIXTURE: OnceLock<MutationFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let l = Ledger::funded();
        let mut b = expenditure("operating", 4_321, "mut-1");
        if let Content::Expenditure(e) = &mut b.content {
            e.owners_approval = Some(OwnersApproval {
                decision_ref: "业主大会决议 2024-01".into(),
                participating_area_bp: 9_000,
                participating_headcount_bp: 8_000,
                approving_area_bp: 7_000,
                approving_headcount_bp: 6_000,
            });
        }
        let leaf = l.leaf(b, &["co-1", "cm-1", "cm-3"]);
        let bytes = leaf.to_canonical_bytes();
        // The unmutated leaf applies.
        let mut state = l.r.state.clone();
        let lookups = l.r.history.lookups(&leaf.needs());
        state.apply_leaf(&leaf, &bytes, &lookups).unwrap();
        MutationFixture {
            replayer: l.r,
            leaf,
            bytes,
        }
    })
}

/// The property: a changed leaf either fails to decode, or fails to apply,
/// or (if it applies) carries the same signed body and signatures — only
/// unsigned metadata (its time) changed — and has another leaf hash.
fn check_mutated(mutated: &[u8]) {
    let fx = mutation_fixture();
    let Ok(leaf) = Leaf::decode(mutated) else {
        return;
    };
    let mut state = fx.replayer.state.clone();
    let lookups = fx.replayer.history.lookups(&leaf.needs());
    if state.apply_leaf(&leaf, mutated, &lookups).is_err() {
        assert_eq!(state.snapshot(), fx.replayer.state.snapshot());
        return;
    }
    assert_eq!(leaf.body, fx.leaf.body, "a signed body changed undetected");
    assert_eq!(leaf.signatures, fx.leaf.signatures);
    assert_eq!((leaf.seq, leaf.prev), (fx.leaf.seq, fx.leaf.prev));
    assert_ne!(leaf.time_ms, fx.leaf.time_ms);
    assert_ne!(leaf_hash(mutated), leaf_hash(&fx.bytes));
}

// Proves, exhaustively for every byte position and a set of likely
// replacements (bit flips, digits, quotes, escapes, white space), that no
// single-byte change to a valid signed leaf alters what was signed.
#[test]
fn every_single_byte_change_is_caught() {
    let fx = mutation_fixture();
    let mut replacements: Vec<u8> = b"059\"\\ ,:{]az-=+".to_vec();
    replacements.extend([0x00, 0xff]);
    let mut accepted = 0;
    for i in 0..fx.bytes.len() {
        let original = fx.bytes[i];
        let flips = [
            original ^ 0x01,
            original ^ 0x02,
            original ^ 0x20,
            original ^ 0x80,
        ];
        for &b in replacements.iter().chain(flips.iter()) {
            if b == original {
                continue;
            }
            let mut m = fx.bytes.clone();
            m[i] = b;
            check_mutated(&m);
            if Leaf::decode(&m).is_ok_and(|leaf| leaf.body == fx.leaf.body) {
                accepted += 1;
            }
        }
    }
    // Some changes (in the unsigned time) do decode; none changes the body.
    assert!(accepted > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // Proves Body::decode and Leaf::decode return (never panic) on arbitrary
    // bytes.
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Body::decode(&bytes);
        let _ = Leaf::decode(&bytes);
    }

    // Proves the decoders never panic on JSON-looking text either (built from
    // JSON punctuation, digits, keys of our schema and escapes), which
    // reaches deeper than random bytes.
    #[test]
    fn decode_never_panics_on_json_like_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"),
                Just("\""), Just("\\u0000"), Just("\\ud800"), Just("0"), Just("-1"),
                Just("9007199254740993"), Just("1e400"), Just("1.5"), Just("null"),
                Just("true"), Just("\"kind\":\"income\""), Just("\"body\":"),
                Just("\"amount_fen\":"), Just("\"ledger\":\"a\""), Just("星"),
                Just("\"signatures\":[]"), Just("\"date\":\"2024-02-30\""),
            ],
            0..64,
        )
    ) {
        let text: String = parts.concat();
        let _ = Body::decode(text.as_bytes());
        let _ = Leaf::decode(text.as_bytes());
    }

    // Proves a random single-byte change to a valid signed leaf never slips
    // a changed body or signature past decode and apply.
    #[test]
    fn random_single_byte_change_is_caught(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fx = mutation_fixture();
        let i = index.index(fx.bytes.len());
        prop_assume!(fx.bytes[i] != byte);
        let mut m = fx.bytes.clone();
        m[i] = byte;
        check_mutated(&m);
        let _ = Body::decode(&m);
    }

    // Proves decoding a valid body with one byte changed never panics, and
    // a changed body that still decodes has another proposal id.
    #[test]
    fn mutated_body_decode_never_panics(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fx = mutation_fixture();
        let body = fx.leaf.body.to_canonical_bytes();
        let i = index.index(body.len());
        prop_assume!(body[i] != byte);
        let mut m = body.clone();
        m[i] = byte;
        if let Ok(b) = Body::decode(&m) {
            prop_assert_ne!(b.id(), fx.leaf.body.id());
        }
    }
}

// Proves a role key must be the canonical encoding of its point: the
// encoding y = p + 3 decodes to the same point as y = 3, so accepting it
// would let one key sit in two roles under different bytes.
#[test]
fn non_canonical_role_key_is_refused() {
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xf0;
    non_canonical[31] = 0x7f;
    let mut roles = feeledger_core::entry::Roles::new();
    for (role, name, key) in [
        (
            Role::Company,
            "co-x",
            B64.encode(SigningKey::from_bytes(&[1; 32]).verifying_key().as_bytes()),
        ),
        (Role::Committee, "cm-x", B64.encode(non_canonical)),
    ] {
        roles.insert(
            role,
            feeledger_core::entry::RoleDef {
                threshold: 1,
                keys: vec![feeledger_core::entry::KeyDef {
                    name: name.into(),
                    public_key: key,
                }],
            },
        );
    }
    let err = feeledger_core::entry::check_roles(&roles, "$.roles").unwrap_err();
    assert!(err.to_string().contains("canonically encoded"), "{err}");
}

// Proves that no fund can wrap around: a credit that would take a balance
// past what a u64 holds is refused with `Overflow`, and the balances given
// are left as they were (a ledger of 1.8 million incomes of the largest
// amount would reach it).
#[test]
fn a_fund_never_overflows() {
    use feeledger_core::state::{apply_effect, ApplyError, Effect};
    let balances: std::collections::BTreeMap<String, u64> =
        [("operating".to_string(), u64::MAX - 5)].into();
    let credit = |amount_fen| Effect::Credit {
        fund: "operating".into(),
        amount_fen,
    };
    assert_eq!(
        apply_effect(&balances, &credit(5)).unwrap()["operating"],
        u64::MAX
    );
    assert_eq!(
        apply_effect(&balances, &credit(6)),
        Err(ApplyError::Overflow {
            fund: "operating".into()
        })
    );
    assert_eq!(balances["operating"], u64::MAX - 5);
}

//! The fixture every ledger test shares: fixed keys, body builders and a
//! `Ledger` wrapper whose `reject` checks that a refused leaf changed nothing.
//! Its imports are re-exported so that each topic module needs one `use`.

#![allow(unused_imports)]

pub(crate) use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
pub(crate) use ed25519_dalek::{Signer as _, SigningKey};
pub(crate) use feeledger_core::canonical::{CanonicalError, LEAF_BYTES_MAX};
pub(crate) use feeledger_core::entry::{
    default_rules, normalize_signatures, signing_message, Attachment, Body, Content, Date,
    EntrySignature, Expenditure, ExpenseCategory, FormatError, FundDef, Genesis, Governance,
    Income, IncomeCategory, KeyDef, Kind, Leaf, Month, OwnersApproval, Reversal, Role, RoleDef,
    Roles, RuleKind, Transfer, AMOUNT_FEN_MAX,
};
pub(crate) use feeledger_core::hash::{leaf_hash, sha256, Hash};
pub(crate) use feeledger_core::note::{KeyAlg, NoteSigner};
pub(crate) use feeledger_core::state::{
    body_needs, Applied, ApplyError, Effect, LedgerState, Lookups, Replayer, StateSnapshot, Totals,
};
pub(crate) use proptest::prelude::*;
pub(crate) use serde_json::{json, Value};
pub(crate) use std::collections::BTreeMap;
pub(crate) use std::sync::OnceLock;

// Fixture
// ---------------------------------------------------------------------------

pub(crate) const ORIGIN: &str = "test.example/xingguang";
pub(crate) const T0: u64 = 1_709_251_200_000; // 2024-03-01T00:00:00Z
pub(crate) const STEP_MS: u64 = 1_000;

/// Every key the tests use, by name. New committee keys `cm-4..cm-6` are not
/// in the genesis; `nobody` is never in any role.
pub(crate) fn seed_of(name: &str) -> u8 {
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

pub(crate) fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, KeyAlg::Ed25519, sk(9)).unwrap()
}

pub(crate) fn keydef(name: &str) -> KeyDef {
    KeyDef {
        display_name: None,
        name: name.into(),
        public_key: B64.encode(sk(seed_of(name)).verifying_key().as_bytes()),
    }
}

pub(crate) fn role(threshold: u32, names: &[&str]) -> RoleDef {
    RoleDef {
        threshold,
        keys: names.iter().map(|n| keydef(n)).collect(),
    }
}

pub(crate) fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

pub(crate) fn month(text: &str) -> Month {
    Month::parse(text).unwrap()
}

pub(crate) fn body(content: Content, nonce: &str) -> Body {
    Body {
        ledger: ORIGIN.into(),
        date: date("2024-03-15"),
        nonce: nonce.into(),
        content,
    }
}

pub(crate) fn dated(mut b: Body, d: &str) -> Body {
    b.date = date(d);
    b
}

pub(crate) fn genesis_roles(with_supervisor: bool) -> Roles {
    let mut roles = Roles::new();
    roles.insert(Role::Company, role(1, &["co-1"]));
    roles.insert(Role::Committee, role(2, &["cm-1", "cm-2", "cm-3"]));
    if with_supervisor {
        roles.insert(Role::Supervisor, role(1, &["sv-1"]));
    }
    roles
}

pub(crate) fn genesis_content(roles: Roles) -> Genesis {
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

pub(crate) fn genesis_body(with_supervisor: bool) -> Body {
    dated(
        body(
            Content::Genesis(genesis_content(genesis_roles(with_supervisor))),
            "genesis",
        ),
        "2024-03-01",
    )
}

pub(crate) fn income(fund: &str, amount_fen: u64, nonce: &str) -> Body {
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

pub(crate) fn income_cat(
    fund: &str,
    amount_fen: u64,
    category: IncomeCategory,
    nonce: &str,
) -> Body {
    let mut b = income(fund, amount_fen, nonce);
    if let Content::Income(i) = &mut b.content {
        i.category = category;
    }
    b
}

pub(crate) fn expenditure(fund: &str, amount_fen: u64, nonce: &str) -> Body {
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

pub(crate) fn transfer(from: &str, to: &str, amount_fen: u64, nonce: &str) -> Body {
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

pub(crate) fn reversal(target_seq: u64, nonce: &str) -> Body {
    body(
        Content::Reversal(Reversal {
            target_seq,
            reason: "录入错误 entered in error".into(),
        }),
        nonce,
    )
}

pub(crate) fn governance(roles: Option<Roles>, nonce: &str) -> Body {
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
pub(crate) fn sig(body: &Body, name: &str) -> EntrySignature {
    sig_with(body, name, seed_of(name))
}

/// A signature made with the key of `seed`, labelled `name`.
pub(crate) fn sig_with(body: &Body, name: &str, seed: u8) -> EntrySignature {
    EntrySignature::new(name, &sk(seed).sign(&body.signing_message()))
}

pub(crate) fn sigs(body: &Body, names: &[&str]) -> Vec<EntrySignature> {
    let mut out: Vec<EntrySignature> = names.iter().map(|n| sig(body, n)).collect();
    normalize_signatures(&mut out);
    out
}

/// JCS of any JSON value, without feeledger's restrictions (so that tests
/// can build forbidden documents).
pub(crate) fn jcs(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).unwrap()
}

pub(crate) fn genesis_leaf(body: &Body, signers: &[&str]) -> Vec<u8> {
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
pub(crate) struct Observed {
    pub(crate) snapshot: StateSnapshot,
    pub(crate) totals: Totals,
}

pub(crate) struct Ledger {
    pub(crate) r: Replayer,
}

impl Ledger {
    pub(crate) fn new(with_supervisor: bool) -> Ledger {
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
    pub(crate) fn funded() -> Ledger {
        let mut l = Ledger::new(true);
        l.commit(income("operating", 1_000_000, "fund-op"), &["co-1"]);
        l.commit(income("public_revenue", 1_000_000, "fund-pr"), &["co-1"]);
        l
    }

    pub(crate) fn state(&self) -> &LedgerState {
        &self.r.state
    }

    pub(crate) fn observe(&self) -> Observed {
        Observed {
            snapshot: self.r.state.snapshot().clone(),
            totals: self.r.totals.clone(),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.state().last_time_ms() + STEP_MS
    }

    /// The next leaf for `body`, signed by `signers`.
    pub(crate) fn leaf(&self, body: Body, signers: &[&str]) -> Leaf {
        let s = sigs(&body, signers);
        self.state().next_leaf(body, s, self.now())
    }

    pub(crate) fn bytes(&self, body: Body, signers: &[&str]) -> Vec<u8> {
        self.leaf(body, signers).to_canonical_bytes()
    }

    pub(crate) fn commit(&mut self, body: Body, signers: &[&str]) -> Applied {
        let bytes = self.bytes(body, signers);
        self.r.apply(&bytes).unwrap()
    }

    /// Applies `bytes`, which must be refused, and checks nothing changed.
    pub(crate) fn reject(&mut self, bytes: &[u8]) -> ApplyError {
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

    pub(crate) fn reject_body(&mut self, body: Body, signers: &[&str]) -> ApplyError {
        let bytes = self.bytes(body, signers);
        self.reject(&bytes)
    }

    /// A leaf whose body is an arbitrary JSON value (signed over its JCS by
    /// `signers`), at the right seq, prev and time.
    pub(crate) fn raw_leaf(&self, body: Value, signers: &[&str]) -> Value {
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

    pub(crate) fn balance(&self, fund: &str) -> u64 {
        self.state().balances()[fund]
    }
}

pub(crate) fn field_error(err: &ApplyError) -> (&str, &str) {
    match err {
        ApplyError::Format(FormatError::Field { path, reason }) => (path, reason),
        other => panic!("expected a field error, got {other:?}"),
    }
}

pub(crate) fn assert_field_error(err: &ApplyError, want_path: &str) {
    let (path, _) = field_error(err);
    assert_eq!(path, want_path, "{err}");
}

pub(crate) fn canonical_error(err: &ApplyError) -> &CanonicalError {
    match err {
        ApplyError::Format(FormatError::Canonical(c)) => c,
        other => panic!("expected a canonical-JSON error, got {other:?}"),
    }
}

// The happy path the rejections are measured against
// ---------------------------------------------------------------------------

/// Proves the fixture ledger works: genesis and one entry of every kind apply,
/// seq and head advance, and the body id is SHA-256 of JCS(body).
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

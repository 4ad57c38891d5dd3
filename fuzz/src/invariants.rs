//! What must hold for every input of every decoder that takes outside bytes,
//! and the fixed ledger the checks verify against.
//!
//! This one file is shared: the fuzz targets call it through the
//! `feeledger-fuzz` crate (`fuzz/src/lib.rs`), and the workspace's
//! `cargo test` compiles it into `crates/core/tests/fuzz_corpus.rs` (with
//! `#[path]`) to replay every file of `fuzz/corpus/` without a fuzzer. So it
//! uses only `feeledger_core` and the core's own dependencies.
//!
//! Every `check_*` function takes arbitrary bytes, must not panic for any
//! input, and panics (with `assert!`) when an invariant is broken. The
//! invariants are the core's promises: one value has one encoding (what
//! decodes re-encodes to the same bytes), a parsed note or checkpoint
//! prints back to its input, a signature the core accepts also verifies
//! when checked independently with `ed25519_dalek`, and `apply` leaves the
//! state unchanged when it refuses a leaf.
#![allow(dead_code)]

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey};
use feeledger_core::canonical::{self, CanonicalError, LEAF_BYTES_MAX};
use feeledger_core::entry::{
    body_bytes_of_leaf, check_signature_list, default_rules, normalize_signatures, signing_message,
    Attachment, Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, FundDef,
    Genesis, Governance, Income, IncomeCategory, KeyDef, Leaf, Month, OwnersApproval, Reversal,
    Role, RoleDef, Roles, RuleKind, Transfer, ENTRY_SIGNATURE_CONTEXT,
};
use feeledger_core::hash::{leaf_hash, sha256, Hash};
use feeledger_core::merkle::{inclusion_proof, verify_inclusion, MemoryTree};
use feeledger_core::note::{
    cosign, cosignature_message, open_checkpoint, sign_checkpoint, AddCheckpointRequest,
    Checkpoint, KeyAlg, Note, NoteSignature, NoteSigner, Receipt, VerifierKey,
    COSIGNATURE_TIMESTAMP_MAX, NOTE_BYTES_MAX, NOTE_SIGNATURES_MAX, RECEIPT_PROOF_HASHES_MAX,
};
use feeledger_core::state::{leaf_needs, Effect, LedgerState, MemoryHistory, Replayer};
use feeledger_core::tiles::{parse_tile_path, TileKind, TilePath, TILE_LEVEL_MAX};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// The fixed ledger
// ---------------------------------------------------------------------------

/// Origin of the fixed ledger; also the log key's name.
pub const ORIGIN: &str = "fuzz.feeledger.example/xingguang";
/// Recorded time of the genesis (2024-03-01T00:00:00Z); each entry is 1 s later.
pub const T0_MS: u64 = 1_709_251_200_000;
/// Name of the independent witness whose cosignatures the corpus carries.
pub const WITNESS_NAME: &str = "witness.fuzz.example/w1";
/// Cosignature timestamp used in the corpus (POSIX seconds).
pub const COSIGN_TIME_S: u64 = 1_709_300_000;

/// Role keys: name, seed of the Ed25519 key, role. Committee is 2 of 3.
pub const ROLE_KEYS: [(&str, u8, Role); 5] = [
    ("co-1", 1, Role::Company),
    ("cm-1", 2, Role::Committee),
    ("cm-2", 3, Role::Committee),
    ("cm-3", 4, Role::Committee),
    ("sv-1", 5, Role::Supervisor),
];

/// A key that governance adds to the committee (replacing `cm-3`).
pub const NEW_MEMBER: (&str, u8) = ("cm-4", 6);

const LOG_SEED: u8 = 9;
const WITNESS_SEED: u8 = 11;

fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn seed_of(name: &str) -> u8 {
    if name == NEW_MEMBER.0 {
        return NEW_MEMBER.1;
    }
    ROLE_KEYS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, s, _)| *s)
        .expect("a fixture key name")
}

/// The log key (Ed25519, named after the origin).
pub fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, KeyAlg::Ed25519, sk(LOG_SEED)).expect("valid log key")
}

pub fn log_key() -> VerifierKey {
    log_signer().verifier_key()
}

/// The independent witness (cosignature/v1).
pub fn witness_signer() -> NoteSigner {
    NoteSigner::new(WITNESS_NAME, KeyAlg::CosignatureV1, sk(WITNESS_SEED)).expect("valid key")
}

/// Committee member `cm-1` cosigning checkpoints with its role key, as
/// `LedgerState::cosigner_keys` allows.
pub fn member_cosigner() -> NoteSigner {
    NoteSigner::new("cm-1", KeyAlg::CosignatureV1, sk(seed_of("cm-1"))).expect("valid key")
}

/// The cosigner keys the checks trust: the witness and `cm-1`.
pub fn cosigner_keys() -> Vec<VerifierKey> {
    vec![
        witness_signer().verifier_key(),
        member_cosigner().verifier_key(),
    ]
}

fn keydef(name: &str) -> KeyDef {
    KeyDef {
        display_name: None,
        name: name.into(),
        public_key: B64.encode(sk(seed_of(name)).verifying_key().as_bytes()),
    }
}

fn role_def(threshold: u32, names: &[&str]) -> RoleDef {
    RoleDef {
        threshold,
        keys: names.iter().map(|n| keydef(n)).collect(),
    }
}

fn genesis_roles() -> Roles {
    let mut roles = Roles::new();
    roles.insert(Role::Company, role_def(1, &["co-1"]));
    roles.insert(Role::Committee, role_def(2, &["cm-1", "cm-2", "cm-3"]));
    roles.insert(Role::Supervisor, role_def(1, &["sv-1"]));
    roles
}

fn body(date: &str, nonce: &str, content: Content) -> Body {
    Body {
        ledger: ORIGIN.into(),
        date: Date::parse(date).expect("fixture date"),
        nonce: nonce.into(),
        content,
    }
}

fn approval() -> OwnersApproval {
    OwnersApproval {
        decision_ref: "2024年第1次业主大会决议".into(),
        participating_area_bp: 8_000,
        participating_headcount_bp: 7_500,
        approving_area_bp: 6_000,
        approving_headcount_bp: 5_500,
    }
}

fn income(nonce: &str, fund: &str, amount_fen: u64, category: IncomeCategory, payer: &str) -> Body {
    body(
        "2024-03-15",
        nonce,
        Content::Income(Income {
            fund: fund.into(),
            amount_fen,
            category,
            payer: payer.into(),
            period: Month::parse("2024-03").expect("fixture month"),
            memo: "三月物业费 March fee".into(),
        }),
    )
}

fn expenditure(nonce: &str, fund: &str, amount_fen: u64, owners: bool) -> Body {
    body(
        "2024-03-20",
        nonce,
        Content::Expenditure(Expenditure {
            fund: fund.into(),
            amount_fen,
            category: if owners {
                ExpenseCategory::Elevator
            } else {
                ExpenseCategory::Cleaning
            },
            payee: "洁净保洁服务有限公司".into(),
            memo: "三月保洁 \"March\" cleaning\\".into(),
            attachments: vec![Attachment {
                name: "发票 invoice.pdf".into(),
                sha256: sha256(b"invoice"),
                bytes: 52_133,
            }],
            owners_approval: owners.then(approval),
        }),
    )
}

fn sign(body: &Body, names: &[&str]) -> Vec<EntrySignature> {
    let message = body.signing_message();
    let mut out: Vec<EntrySignature> = names
        .iter()
        .map(|n| EntrySignature::new(n, &sk(seed_of(n)).sign(&message)))
        .collect();
    normalize_signatures(&mut out);
    out
}

/// The entries of the fixed ledger, in order: body, signatures, recorded
/// time. The store of the `add_checkpoint` target appends exactly these,
/// one per batch, so its checkpoints are the ones the corpus carries.
pub fn entries() -> Vec<(Body, Vec<EntrySignature>, u64)> {
    let genesis = body(
        "2024-03-01",
        "genesis",
        Content::Genesis(Genesis {
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
            roles: genesis_roles(),
            rules: default_rules(true),
            log_key: log_key().to_string(),
        }),
    );
    let mut new_roles = genesis_roles();
    new_roles.insert(Role::Committee, role_def(2, &["cm-1", "cm-2", "cm-4"]));
    let list: Vec<(Body, &[&str])> = vec![
        (genesis, &["co-1", "cm-1", "cm-2", "sv-1"]),
        (
            income(
                "i1",
                "operating",
                50_000,
                IncomeCategory::PropertyFee,
                "3-1502",
            ),
            &["co-1"],
        ),
        (
            income(
                "i2",
                "maintenance",
                1_000_000,
                IncomeCategory::Other,
                "12-2-1502",
            ),
            &["co-1"],
        ),
        (
            income(
                "i3",
                "public_revenue",
                30_000,
                IncomeCategory::Advertising,
                "分众传媒",
            ),
            &["co-1"],
        ),
        (
            expenditure("e1", "operating", 20_000, false),
            &["co-1", "cm-1", "cm-2"],
        ),
        (
            body(
                "2024-03-21",
                "t1",
                Content::Transfer(Transfer {
                    from_fund: "public_revenue".into(),
                    to_fund: "maintenance".into(),
                    amount_fen: 10_000,
                    memo: "按业主大会决议划转".into(),
                    owners_approval: Some(approval()),
                }),
            ),
            &["co-1", "cm-1", "cm-3"],
        ),
        (
            expenditure("e2", "maintenance", 300_000, true),
            &["co-1", "cm-2", "cm-3"],
        ),
        (
            body(
                "2024-03-22",
                "r1",
                Content::Reversal(Reversal {
                    target_seq: 4,
                    reason: "录入错误 entered in error".into(),
                }),
            ),
            &["co-1", "cm-1", "cm-2"],
        ),
        (
            body(
                "2024-03-23",
                "g1",
                Content::Governance(Governance {
                    roles: Some(new_roles),
                    rules: None,
                    memo: "换届 new committee".into(),
                }),
            ),
            &["cm-1", "cm-2", "sv-1"],
        ),
    ];
    list.into_iter()
        .enumerate()
        .map(|(i, (b, names))| {
            let sigs = sign(&b, names);
            (b, sigs, T0_MS + 1_000 * i as u64)
        })
        .collect()
}

/// Valid bodies (and signers) for the entry after the fixed ledger, one
/// per kind: the `apply` target's seeds.
fn next_entries() -> Vec<(Body, Vec<EntrySignature>)> {
    let mut rules = default_rules(true);
    rules.insert(RuleKind::Income, vec![Role::Company, Role::Committee]);
    let list: Vec<(Body, &[&str])> = vec![
        (
            income(
                "n1",
                "operating",
                1,
                IncomeCategory::Parking,
                "地下车库 B-017",
            ),
            &["co-1"],
        ),
        (
            expenditure("n2", "operating", 30_000, false),
            &["co-1", "cm-1", "cm-4"],
        ),
        (
            body(
                "2024-04-01",
                "n3",
                Content::Transfer(Transfer {
                    from_fund: "maintenance".into(),
                    to_fund: "operating".into(),
                    amount_fen: 5,
                    memo: String::new(),
                    owners_approval: None,
                }),
            ),
            &["co-1", "cm-2", "cm-4"],
        ),
        (
            body(
                "2024-04-02",
                "n4",
                Content::Reversal(Reversal {
                    target_seq: 1,
                    reason: "重复录入".into(),
                }),
            ),
            &["co-1"],
        ),
        (
            body(
                "2024-04-03",
                "n5",
                Content::Governance(Governance {
                    roles: None,
                    rules: Some(rules),
                    memo: "收入也需业委会签字".into(),
                }),
            ),
            &["cm-1", "cm-4", "sv-1"],
        ),
    ];
    list.into_iter()
        .map(|(b, names)| {
            let sigs = sign(&b, names);
            (b, sigs)
        })
        .collect()
}

/// The fixed ledger, built and checked once.
pub struct Fixture {
    /// The committed leaves, in order.
    pub leaves: Vec<Vec<u8>>,
    /// Their bodies' canonical bytes.
    pub bodies: Vec<Vec<u8>>,
    /// Valid leaves for the next seq, one per kind (not committed).
    pub next_leaves: Vec<Vec<u8>>,
    /// State and history after every committed leaf.
    pub state: LedgerState,
    pub history: MemoryHistory,
    /// The log-signed checkpoint of each size 1..=n (index size - 1), as
    /// the store signs them.
    pub checkpoints: Vec<Note>,
    /// The latest checkpoint with cosignatures by the witness and `cm-1`.
    pub cosigned: Note,
    pub tree: MemoryTree,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let entries = entries();
    let log = log_signer();
    let mut leaves = Vec::new();
    let mut bodies = Vec::new();
    let mut checkpoints = Vec::new();
    let mut tree = MemoryTree::new();
    let mut replayer: Option<Replayer> = None;
    for (i, (body, sigs, time_ms)) in entries.into_iter().enumerate() {
        let leaf = match &replayer {
            None => Leaf {
                seq: 0,
                prev: Hash::ZERO,
                time_ms,
                body: body.clone(),
                signatures: sigs,
            },
            Some(r) => r.state.next_leaf(body.clone(), sigs, time_ms),
        };
        let bytes = leaf.to_canonical_bytes();
        match &mut replayer {
            None => replayer = Some(Replayer::start(&bytes).expect("fixture genesis applies")),
            Some(r) => {
                r.apply(&bytes)
                    .unwrap_or_else(|e| panic!("fixture entry {i} applies: {e}"));
            }
        }
        tree.push(leaf_hash(&bytes));
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: tree.size(),
            root: tree.root(),
            extensions: vec![],
        };
        checkpoints.push(sign_checkpoint(&cp, &log).expect("fixture checkpoint"));
        leaves.push(bytes);
        bodies.push(body.to_canonical_bytes());
    }
    let replayer = replayer.expect("a genesis");
    let mut cosigned = checkpoints.last().expect("a checkpoint").clone();
    for signer in [witness_signer(), member_cosigner()] {
        let line = cosign(&cosigned.text, COSIGN_TIME_S, &signer).expect("cosign");
        cosigned.add_signature(line).expect("add cosignature");
    }
    let next_leaves = next_entries()
        .into_iter()
        .map(|(b, s)| {
            replayer
                .state
                .next_leaf(b, s, T0_MS + 3_600_000)
                .to_canonical_bytes()
        })
        .collect();
    let fixture = Fixture {
        leaves,
        bodies,
        next_leaves,
        state: replayer.state,
        history: replayer.history,
        checkpoints,
        cosigned,
        tree,
    };
    for leaf in &fixture.next_leaves {
        let mut state = fixture.state.clone();
        let lookups = fixture
            .history
            .lookups(&leaf_needs(&Leaf::decode(leaf).expect("decodes"), leaf));
        if let Err(e) = state.apply(leaf, &lookups) {
            panic!("fixture next leaf applies: {e}");
        }
    }
    fixture
}

/// A receipt (tlog-proof text) for leaf `index` against `checkpoint`.
pub fn receipt_text(f: &Fixture, index: usize, checkpoint: &Note) -> String {
    let size = Checkpoint::parse(&checkpoint.text)
        .expect("fixture checkpoint")
        .size;
    Receipt {
        leaf: f.leaves[index].clone(),
        index: index as u64,
        proof: inclusion_proof(index as u64, size, &f.tree).expect("proof"),
        checkpoint: checkpoint.clone(),
    }
    .to_text()
}

// ---------------------------------------------------------------------------
// The checks, one per fuzz target
// ---------------------------------------------------------------------------

/// `canonical::parse_canonical`: accepted bytes are exactly the JCS of the
/// value they parse to, obey the restrictions, and parse again the same;
/// a refusal for size happens exactly above the limit.
pub fn check_canonical(bytes: &[u8]) {
    let result = canonical::parse_canonical(bytes);
    assert_eq!(
        matches!(result, Err(CanonicalError::TooLarge { .. })),
        bytes.len() > LEAF_BYTES_MAX,
        "TooLarge exactly above the limit"
    );
    if let Ok(value) = result {
        assert_eq!(canonical::check_value(&value, "$", 0), Ok(()));
        assert_eq!(
            canonical::to_canonical_bytes(&value),
            bytes,
            "accepted bytes are the canonical encoding"
        );
        let again: serde_json::Value =
            serde_json::from_slice(bytes).expect("accepted bytes are JSON");
        assert_eq!(again, value);
    } else if bytes.len() <= LEAF_BYTES_MAX {
        // Completeness: whatever serde_json reads and our restrictions
        // allow has a canonical form, and that form is accepted.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if canonical::check_value(&value, "$", 0).is_ok() {
                let jcs = canonical::to_canonical_bytes(&value);
                if jcs.len() <= LEAF_BYTES_MAX {
                    assert_eq!(
                        canonical::parse_canonical(&jcs).as_ref(),
                        Ok(&value),
                        "the canonical form of an allowed value is accepted"
                    );
                }
            }
        }
    }
}

/// `Body::decode`: a decoded body re-encodes to the input, its id is the
/// SHA-256 of the input, its signing message is the context line and the
/// input, and it passes its own field checks.
pub fn check_body(bytes: &[u8]) {
    let Ok(body) = Body::decode(bytes) else {
        return;
    };
    assert_eq!(body.to_canonical_bytes(), bytes, "body re-encodes");
    assert!(canonical::parse_canonical(bytes).is_ok());
    assert_eq!(body.id(), sha256(bytes));
    let mut message = ENTRY_SIGNATURE_CONTEXT.to_vec();
    message.extend_from_slice(bytes);
    assert_eq!(body.signing_message(), message);
    assert_eq!(signing_message(bytes), message);
    assert_eq!(body.check_fields("$"), Ok(()));
    assert_eq!(Body::from_value(body.to_value(), "$").as_ref(), Ok(&body));
}

/// `Leaf::decode`: a decoded leaf re-encodes to the input; the body bytes
/// sliced out of it (`body_bytes_of_leaf`) and the leaf rebuilt from parts
/// (`Leaf::canonical_bytes_from_parts`) agree with full re-encoding; the
/// body decodes on its own; the signature list is well-formed.
pub fn check_leaf(bytes: &[u8]) {
    let sliced = body_bytes_of_leaf(bytes);
    let Ok(leaf) = Leaf::decode(bytes) else {
        return;
    };
    assert_eq!(leaf.to_canonical_bytes(), bytes, "leaf re-encodes");
    let body_bytes = leaf.body.to_canonical_bytes();
    assert_eq!(sliced, Some(&body_bytes[..]), "body_bytes_of_leaf");
    assert_eq!(
        Leaf::canonical_bytes_from_parts(
            &body_bytes,
            &leaf.prev,
            leaf.seq,
            &leaf.signatures,
            leaf.time_ms
        ),
        bytes,
        "canonical_bytes_from_parts"
    );
    assert_eq!(Body::decode(&body_bytes).as_ref(), Ok(&leaf.body));
    assert_eq!(
        check_signature_list(&leaf.signatures, "$.signatures"),
        Ok(())
    );
    assert!(leaf.signatures.iter().all(|s| s.signature().is_some()));
    assert_eq!(leaf.hash(), leaf_hash(bytes));
}

/// Keys an `apply` input can sign with, one bit each of its first byte:
/// the company, the committee (with `cm-3`, replaced by governance, and its
/// replacement `cm-4`), the supervisor; bit 7 signs as `co-1` with `cm-1`'s
/// key (a forged signature).
pub const APPLY_SIGNERS: [&str; 6] = ["co-1", "cm-1", "cm-2", "cm-3", "cm-4", "sv-1"];

/// The leaf an `apply` input stands for (see [`check_apply`]): the input
/// itself if it starts with `{`, else the next leaf of the fixed ledger
/// for the body after the first byte, signed by the keys that byte picks.
pub fn apply_input_leaf(bytes: &[u8]) -> Option<Vec<u8>> {
    let (&mask, rest) = bytes.split_first()?;
    if mask == b'{' {
        return Some(bytes.to_vec());
    }
    let body = Body::decode(rest).ok()?;
    let message = body.signing_message();
    let mut sigs: Vec<EntrySignature> = APPLY_SIGNERS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| EntrySignature::new(n, &sk(seed_of(n)).sign(&message)))
        .collect();
    if mask & 0x80 != 0 {
        sigs.retain(|s| s.key != "co-1");
        sigs.push(EntrySignature::new(
            "co-1",
            &sk(seed_of("cm-1")).sign(&message),
        ));
    }
    if sigs.is_empty() {
        return None;
    }
    Some(
        fixture()
            .state
            .next_leaf(body, sigs, T0_MS + 3_600_000)
            .to_canonical_bytes(),
    )
}

/// `LedgerState::apply` on the fixed ledger, in two modes.
///
/// * Input starting with `{`: a whole leaf, applied as it is (sequence,
///   chain link, time, signature list, replay).
/// * Otherwise: the first byte picks signers ([`APPLY_SIGNERS`]), the rest
///   is a body, which the harness signs and wraps in the next leaf. This
///   reaches the rules behind the signatures (thresholds, funds, overdraft,
///   reversals, governance), which mutated leaves with stale signatures
///   never would.
///
/// Invariants: a refused leaf leaves the state exactly as it was; an
/// accepted one advances size and head by one leaf, moves the balances by
/// exactly its effect (no fund appears or disappears, none goes negative),
/// and carries, for every role its rule needs, at least that role's
/// threshold of distinct valid signatures by keys in force before it.
pub fn check_apply(bytes: &[u8]) {
    let f = fixture();
    let Some(leaf_bytes) = apply_input_leaf(bytes) else {
        return;
    };
    let Ok(leaf) = Leaf::decode(&leaf_bytes) else {
        return;
    };
    let lookups = f.history.lookups(&leaf_needs(&leaf, &leaf_bytes));
    let before = &f.state;
    let mut state = before.clone();
    let applied = match state.apply(&leaf_bytes, &lookups) {
        Err(_) => {
            assert_eq!(state.snapshot(), before.snapshot(), "refusal changed state");
            return;
        }
        Ok(applied) => applied,
    };
    assert_eq!(applied.seq, before.size());
    assert_eq!(state.size(), before.size() + 1);
    assert_eq!(state.head(), leaf_hash(&leaf_bytes));
    assert_eq!(applied.leaf_hash, leaf_hash(&leaf_bytes));
    assert_eq!(applied.body_id, sha256(&leaf.body.to_canonical_bytes()));
    assert_eq!(applied.kind, leaf.body.kind());
    assert_eq!(leaf.prev, before.head());
    assert!(state.last_time_ms() >= before.last_time_ms());
    // Money: exactly the effect, on the same funds.
    let expected = feeledger_core::state::apply_effect(before.balances(), &applied.effect)
        .expect("an accepted effect applies");
    assert_eq!(state.balances(), &expected, "balances moved by the effect");
    let sum = |b: &std::collections::BTreeMap<String, u64>| -> i128 {
        b.values().map(|v| i128::from(*v)).sum()
    };
    let delta = sum(state.balances()) - sum(before.balances());
    let want: i128 = match &applied.effect {
        Effect::None | Effect::Move { .. } => 0,
        Effect::Credit { amount_fen, .. } => i128::from(*amount_fen),
        Effect::Debit { amount_fen, .. } => -i128::from(*amount_fen),
    };
    assert_eq!(delta, want, "total money moved by the effect");
    // Authorization: the rule of the kind (a reversal: of its target's
    // kind), met by keys in force before this entry.
    let rule_kind = match &leaf.body.content {
        Content::Reversal(_) => {
            let (target, _) = lookups.target.as_ref().expect("a reversal has a target");
            rule_kind_of(&target.body.content)
        }
        other => rule_kind_of(other),
    };
    let Some(rule_kind) = rule_kind else {
        panic!("only entries with a rule are accepted after genesis");
    };
    for role in &before.rules()[&rule_kind] {
        let threshold = before.roles()[role].threshold as usize;
        let mut keys: Vec<&str> = applied
            .signers
            .iter()
            .filter(|s| before.role_of(&s.key) == Some(*role))
            .map(|s| s.key.as_str())
            .collect();
        keys.dedup();
        assert!(
            keys.len() >= threshold,
            "{role} signed {} times, needs {threshold}",
            keys.len()
        );
        for key in keys {
            let sig = leaf
                .signatures
                .iter()
                .find(|s| s.key == key)
                .expect("a signer signed");
            let verifying = before.roles()[role]
                .keys
                .iter()
                .find(|k| k.name == key)
                .and_then(|k| k.verifying_key())
                .expect("a key in force");
            verifying
                .verify_strict(
                    &leaf.body.signing_message(),
                    &sig.signature().expect("64 bytes"),
                )
                .expect("independently verified");
        }
    }
}

fn rule_kind_of(content: &Content) -> Option<RuleKind> {
    match content {
        Content::Income(_) => Some(RuleKind::Income),
        Content::Expenditure(_) => Some(RuleKind::Expenditure),
        Content::Transfer(_) => Some(RuleKind::Transfer),
        Content::Governance(_) => Some(RuleKind::Governance),
        Content::Genesis(_) | Content::Reversal(_) => None,
    }
}

/// `Checkpoint::parse`: a parsed checkpoint prints back to its input.
pub fn check_checkpoint(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let Ok(cp) = Checkpoint::parse(&text) else {
        return;
    };
    assert_eq!(cp.to_text(), text, "checkpoint to_text");
    assert!(!cp.origin.is_empty() && !cp.origin.contains('\n'));
    assert!(cp
        .extensions
        .iter()
        .all(|e| !e.is_empty() && !e.contains('\n')));
    assert!(text.len() <= NOTE_BYTES_MAX);
}

/// `Note::parse` and `Note::verify` with the fixed log key: a parsed note
/// prints back to its input and rebuilds with `Note::new`; every line
/// parses alone; a signature that `verify` accepts also verifies with
/// `ed25519_dalek` directly over the note text.
pub fn check_note(bytes: &[u8]) {
    let Ok(note) = Note::parse(bytes) else {
        return;
    };
    assert_eq!(note.to_bytes(), bytes, "note to_bytes");
    assert_eq!(
        Note::new(note.text.clone(), note.signatures.clone()).as_ref(),
        Ok(&note)
    );
    assert!(!note.signatures.is_empty() && note.signatures.len() <= NOTE_SIGNATURES_MAX);
    for sig in &note.signatures {
        let line = sig.to_line();
        let line = line.strip_suffix('\n').expect("lines end in a newline");
        assert_eq!(NoteSignature::parse_line(line).as_ref(), Ok(sig));
    }
    let log = log_key();
    if let Ok(verified) = note.verify(std::slice::from_ref(&log)) {
        assert_eq!(verified.len(), 1, "one line per known key");
        let v = &verified[0];
        assert_eq!((v.name.as_str(), v.key_id), (log.name(), log.key_id()));
        let sig = note
            .signatures
            .iter()
            .find(|s| s.name == v.name && s.key_id == v.key_id)
            .expect("the verified line is in the note");
        let raw: [u8; 64] = sig.signature[..].try_into().expect("64-byte Ed25519");
        log.key()
            .verify_strict(
                note.text.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&raw),
            )
            .expect("independently verified");
    }
}

/// A cosigned checkpoint opened with the fixed log key and cosigners
/// (`open_checkpoint`): on success the checkpoint prints back to the note
/// text, its origin is the log's, and each verified cosignature is the one
/// `cosign` makes for its timestamp (Ed25519 signing is deterministic) and
/// verifies independently.
pub fn check_cosignature(bytes: &[u8]) {
    let cosigners = cosigner_keys();
    let Ok((cp, note, verified)) = open_checkpoint(bytes, &log_key(), &cosigners) else {
        return;
    };
    assert_eq!(cp.to_text(), note.text);
    assert_eq!(cp.origin, ORIGIN);
    let signers = [witness_signer(), member_cosigner()];
    for v in &verified {
        assert_eq!(v.alg, KeyAlg::CosignatureV1);
        let ts = v.timestamp_s.expect("a cosignature has a timestamp");
        assert!(ts <= COSIGNATURE_TIMESTAMP_MAX);
        let line = note
            .signatures
            .iter()
            .find(|s| s.name == v.name && s.key_id == v.key_id)
            .expect("the verified line is in the note");
        assert_eq!(line.cosignature_timestamp(), Some(ts));
        let signer = signers
            .iter()
            .find(|s| s.name() == v.name && s.key_id() == v.key_id)
            .expect("a configured cosigner");
        assert_eq!(
            cosign(&note.text, ts, signer).as_ref(),
            Ok(line),
            "the line is the cosignature of this text at this time"
        );
        let raw: [u8; 64] = line.signature[8..].try_into().expect("64 bytes");
        signer
            .verifier_key()
            .key()
            .verify_strict(
                &cosignature_message(&note.text, ts),
                &ed25519_dalek::Signature::from_bytes(&raw),
            )
            .expect("independently verified");
    }
}

/// `Receipt::parse` and `Receipt::verify` with the fixed keys: a parsed
/// receipt prints back to its input; a verified one has its index below the
/// checkpoint size and its leaf included under the checkpoint root when
/// checked again with `verify_inclusion`.
pub fn check_receipt(bytes: &[u8]) {
    let Ok(receipt) = Receipt::parse(bytes) else {
        return;
    };
    assert_eq!(receipt.to_text().as_bytes(), bytes, "receipt to_text");
    assert!(receipt.proof.len() <= RECEIPT_PROOF_HASHES_MAX);
    let Ok(v) = receipt.verify(&log_key(), &cosigner_keys()) else {
        return;
    };
    assert_eq!(v.index, receipt.index);
    assert!(v.index < v.checkpoint.size);
    assert_eq!(v.leaf_hash, leaf_hash(&receipt.leaf));
    assert_eq!(v.checkpoint.origin, ORIGIN);
    assert_eq!(
        verify_inclusion(
            &v.leaf_hash,
            v.index,
            v.checkpoint.size,
            &receipt.proof,
            &v.checkpoint.root
        ),
        Ok(())
    );
}

/// `tiles::parse_tile_path`: a parsed path prints back to its input, names
/// a level in range and a width of 1 to 256, and has no `..`. Also, from
/// the same bytes, a `TilePath` is built and must survive `to_path` and
/// `parse_tile_path` whenever its index fits the 6 path elements the
/// parser allows.
pub fn check_tile_path(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Some(p) = parse_tile_path(&text) {
        assert_eq!(p.to_path(), text, "tile to_path");
        assert!((1..=256).contains(&p.width()));
        if let TileKind::Hashes { level } = p.kind {
            assert!(level <= TILE_LEVEL_MAX);
            assert_eq!(p.tree_level(), Some(level * 8));
        }
        assert!(!text.contains(".."));
    }
    if let [k, w, rest @ ..] = bytes {
        if rest.len() >= 8 {
            let index = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
            let kind = match k % 7 {
                6 => TileKind::Entries,
                level => TileKind::Hashes { level },
            };
            let partial_width = (*w != 0).then_some(u16::from(*w));
            let tp = TilePath {
                kind,
                index,
                partial_width,
            };
            let back = parse_tile_path(&tp.to_path());
            if index < 1_000_000_000_000_000_000 {
                assert_eq!(back, Some(tp), "built path round-trips");
            } else {
                assert_eq!(back, None, "more than 6 index elements");
            }
        }
    }
}

/// `witness_request`: [`AddCheckpointRequest::parse`]. An accepted body is
/// exactly the one `to_bytes` builds from what was parsed (so the server
/// accepts one spelling of each request, the CLI's), with at most
/// `PROOF_HASHES_MAX` proof hashes and the note taken verbatim after the
/// first blank line; a refused body is refused again the same way.
pub fn check_witness_request(bytes: &[u8]) {
    match AddCheckpointRequest::parse(bytes) {
        Ok(request) => {
            assert_eq!(request.to_bytes(), bytes, "witness request to_bytes");
            assert!(request.proof.len() as u64 <= feeledger_core::merkle::PROOF_HASHES_MAX);
            let blank = bytes
                .windows(2)
                .position(|w| w == b"\n\n")
                .expect("an accepted body has a blank line");
            assert_eq!(request.checkpoint, &bytes[blank + 2..], "note verbatim");
        }
        Err(e) => assert_eq!(AddCheckpointRequest::parse(bytes), Err(e)),
    }
}

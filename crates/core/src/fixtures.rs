//! Small ledgers for tests and benchmarks (feature `fixtures`): keys made
//! from a one-byte seed, which anyone can recompute, so never for a real
//! ledger; a genesis with one company key and one committee key; property
//! fee incomes; and leaves chained without any check, as a forger would.

use crate::entry::{
    default_rules, Body, Content, Date, EntrySignature, FundDef, Genesis, Income, IncomeCategory,
    KeyDef, Leaf, Month, Role, RoleDef, Roles,
};
use crate::hash::{leaf_hash, Hash};
use crate::note::{KeyAlg, NoteSigner};
use ed25519_dalek::{Signer as _, SigningKey};

/// The company's key in [`two_role_genesis`]: name "co", seed 1.
pub const COMPANY: (&str, u8) = ("co", 1);
/// The committee's key in [`two_role_genesis`]: name "cm", seed 2.
pub const COMMITTEE: (&str, u8) = ("cm", 2);
/// The log key's seed in [`two_role_genesis`].
pub const LOG_SEED: u8 = 9;

pub fn seeded_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn key_def(name: &str, seed: u8) -> KeyDef {
    use base64::Engine as _;
    KeyDef {
        display_name: None,
        name: name.into(),
        public_key: base64::engine::general_purpose::STANDARD
            .encode(seeded_key(seed).verifying_key().as_bytes()),
    }
}

/// The log key of a ledger made with [`two_role_genesis`] for `origin`.
pub fn log_signer(origin: &str) -> NoteSigner {
    NoteSigner::new(origin, KeyAlg::Ed25519, seeded_key(LOG_SEED)).expect("a valid origin")
}

/// Signatures on `body` by each (key name, seed), in the order given.
pub fn sign_with(body: &Body, signers: &[(&str, u8)]) -> Vec<EntrySignature> {
    let message = body.signing_message();
    signers
        .iter()
        .map(|(name, seed)| EntrySignature::new(name, &seeded_key(*seed).sign(&message)))
        .collect()
}

/// A genesis for `origin` named `name`: the three standard funds, the
/// default rules, the company key [`COMPANY`] and the committee key
/// [`COMMITTEE`] (threshold 1 each), signed by both.
pub fn two_role_genesis(origin: &str, name: &str) -> (Body, Vec<EntrySignature>) {
    let mut roles = Roles::new();
    for (role, (key_name, seed)) in [(Role::Company, COMPANY), (Role::Committee, COMMITTEE)] {
        roles.insert(
            role,
            RoleDef {
                threshold: 1,
                keys: vec![key_def(key_name, seed)],
            },
        );
    }
    let body = Body {
        ledger: origin.into(),
        date: Date {
            year: 2026,
            month: 1,
            day: 1,
        },
        nonce: "g".into(),
        content: Content::Genesis(Genesis {
            name: name.into(),
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
            log_key: log_signer(origin).verifier_key().to_string(),
        }),
    };
    let signatures = sign_with(&body, &[COMMITTEE, COMPANY]);
    (body, signatures)
}

/// A property fee of 300.00 CNY from unit 3-1502 into the operating fund,
/// for February 2026, signed by [`COMPANY`].
pub fn property_fee(origin: &str, nonce: &str) -> (Body, Vec<EntrySignature>) {
    let body = Body {
        ledger: origin.into(),
        date: Date {
            year: 2026,
            month: 2,
            day: 3,
        },
        nonce: nonce.into(),
        content: Content::Income(Income {
            fund: "operating".into(),
            amount_fen: 30_000,
            category: IncomeCategory::PropertyFee,
            payer: "3-1502".into(),
            period: Month {
                year: 2026,
                month: 2,
            },
            memo: String::new(),
        }),
    };
    let signatures = sign_with(&body, &[COMPANY]);
    (body, signatures)
}

/// Chains bodies into leaves from seq 0, with times 1, 2, ..., checking
/// nothing: a forged log may hold what `apply` refuses.
pub fn chain(entries: Vec<(Body, Vec<EntrySignature>)>) -> Vec<Vec<u8>> {
    let mut prev = Hash::ZERO;
    let mut leaves = Vec::with_capacity(entries.len());
    for (seq, (body, signatures)) in entries.into_iter().enumerate() {
        let bytes = Leaf {
            seq: seq as u64,
            prev,
            time_ms: 1 + seq as u64,
            body,
            signatures,
        }
        .to_canonical_bytes();
        prev = leaf_hash(&bytes);
        leaves.push(bytes);
    }
    leaves
}

//! Signed bodies built in a test, without the binary: role keys read from
//! their key files, income and expenditure bodies, signature lists, and the
//! `POST /api/v1/proposals` request that carries them.

use ed25519_dalek::{Signer as _, SigningKey};
use feeledger_core::entry::{
    signing_message, Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, Income,
    IncomeCategory, Month,
};
use feeledger_core::note::NoteSigner;
use serde_json::{json, Value};
use std::path::Path;

/// The signer in a key file (`feeledger keygen`, the demo's keys, `log.key`).
pub fn read_signer(path: &Path) -> NoteSigner {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    NoteSigner::parse(text.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The Ed25519 key in a role key file.
pub fn signing_key(path: &Path) -> SigningKey {
    read_signer(path).signing_key().clone()
}

pub fn date(text: &str) -> Date {
    Date::parse(text).expect("a valid date")
}

/// Where the bodies a test builds belong: the ledger (its origin), the month
/// they are dated in (incomes on the 15th, expenditures on the 20th, so both
/// fall after the ledger's last entry) and the memo they carry.
#[derive(Clone, Copy, Debug)]
pub struct Bodies<'a> {
    pub ledger: &'a str,
    /// `YYYY-MM`.
    pub month: &'a str,
    pub memo: &'a str,
}

impl Bodies<'_> {
    /// A property-fee income into `operating`, paid by `payer` for the month.
    pub fn income(&self, nonce: &str, amount_fen: u64, payer: &str) -> Body {
        Body {
            ledger: self.ledger.to_string(),
            date: date(&format!("{}-15", self.month)),
            nonce: nonce.to_string(),
            content: Content::Income(Income {
                fund: "operating".into(),
                amount_fen,
                category: IncomeCategory::PropertyFee,
                payer: payer.into(),
                period: Month::parse(self.month).expect("a valid month"),
                memo: self.memo.into(),
            }),
        }
    }

    /// A repair paid from `operating`.
    pub fn expenditure(&self, nonce: &str, amount_fen: u64) -> Body {
        Body {
            ledger: self.ledger.to_string(),
            date: date(&format!("{}-20", self.month)),
            nonce: nonce.to_string(),
            content: Content::Expenditure(Expenditure {
                fund: "operating".into(),
                amount_fen,
                category: ExpenseCategory::Repairs,
                payee: "宏达机电维修服务部".into(),
                memo: self.memo.into(),
                attachments: vec![],
                owners_approval: None,
            }),
        }
    }
}

/// Signatures over a body by the named keys, in key-name order.
pub fn sign_with(body: &Body, keys: &[(&str, &SigningKey)]) -> Vec<EntrySignature> {
    sign_bytes(&body.to_canonical_bytes(), keys)
}

/// Signatures over exactly these body bytes, canonical or not, in key-name
/// order.
pub fn sign_bytes(body: &[u8], keys: &[(&str, &SigningKey)]) -> Vec<EntrySignature> {
    let message = signing_message(body);
    let mut sigs: Vec<EntrySignature> = keys
        .iter()
        .map(|(name, key)| EntrySignature::new(name, &key.sign(&message)))
        .collect();
    sigs.sort_by(|a, b| a.key.cmp(&b.key));
    sigs
}

/// The `POST /api/v1/proposals` request for a body and its signatures.
pub fn proposal_request(body: &Body, signatures: &[EntrySignature]) -> Value {
    json!({
        "body": String::from_utf8(body.to_canonical_bytes()).unwrap(),
        "signatures": signatures,
    })
}

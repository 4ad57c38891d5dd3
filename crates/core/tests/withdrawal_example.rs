//! The worked withdrawal of docs/format.md §8.5, rebuilt from the fixed
//! key of §15.1: the message bytes and the signature are asserted against
//! the constants below, checked with the crate's own verifier, and each
//! constant must appear verbatim in docs/format.md, so the document
//! cannot drift from the code.

use ed25519_dalek::SigningKey;
use feeledger_core::hash::Hash;
use feeledger_core::withdrawal::{sign_withdrawal, withdrawal_message};

const ORIGIN: &str = "example.org/xingguang";
/// The income of §15.3.
const PROPOSAL_ID: &str = "f30a8f0d95e02941b2dd4c3051fde39869f551f852484506a375f867dc7eac48";
/// `committee-1`'s seed: 32 bytes of 0x02.
const SEED: u8 = 0x02;

const MESSAGE_BYTES: &str = "111";
const SIGNATURE: &str =
    "S7phwUF0PQCI4DtlbP0foPs20vxK85OMmX+v+TM2pZh9w0hKH0FF41H6IDI5TWoMpreSFn1fAA3awz0nA0beCQ==";

fn doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format.md"))
        .expect("docs/format.md")
}

/// Proves the message is the three lines of §8.5 and the signature is the
/// one the document shows, and that it verifies under committee-1's key.
#[test]
fn withdrawal_example_is_fixed() {
    let id = Hash::from_hex(PROPOSAL_ID).unwrap();
    let message = withdrawal_message(ORIGIN, &id);
    let text = format!("feeledger/withdrawal/v1\n{ORIGIN}\n{PROPOSAL_ID}\n");
    assert_eq!(message, text.as_bytes());
    let key = SigningKey::from_bytes(&[SEED; 32]);
    let sig = sign_withdrawal("committee-1", &key, ORIGIN, &id);
    println!("message bytes {}\nsignature {}", message.len(), sig.sig);
    assert_eq!(message.len().to_string(), MESSAGE_BYTES);
    assert_eq!(sig.sig, SIGNATURE);
    key.verifying_key()
        .verify_strict(&message, &sig.signature().unwrap())
        .unwrap();
}

/// Proves docs/format.md shows the example's message and signature
/// verbatim.
#[test]
fn format_doc_contains_the_withdrawal_example() {
    let doc = doc();
    let message_block = format!("```text\nfeeledger/withdrawal/v1\n{ORIGIN}\n{PROPOSAL_ID}\n```");
    assert!(doc.contains(&message_block), "the message lines");
    assert!(
        doc.contains(&format!("It is {MESSAGE_BYTES} bytes.")),
        "the message length"
    );
    assert!(
        doc.contains(&format!("```text\n{SIGNATURE}\n```")),
        "the signature"
    );
}

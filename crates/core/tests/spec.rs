//! The exact rules docs/format.md states where it used to leave a gap:
//! which characters the party rule counts as digits (§6.7), which
//! characters the text rule trims (§6.6), the range of an attachment's
//! `bytes` (§5.3), and how a key's text form is split (§11.2). Each test
//! uses the examples the document gives.

use feeledger_core::canonical::to_canonical_bytes;
use feeledger_core::entry::Body;
use feeledger_core::fixtures::{property_fee, seeded_key};
use feeledger_core::note::{KeyAlg, NoteSigner, VerifierKey};
use serde_json::{json, Value};

const ORIGIN: &str = "example.org/spec";

/// An income body as JSON, with `payer` and `memo` set.
fn income(payer: &str, memo: &str) -> Value {
    let (body, _) = property_fee(ORIGIN, "n1");
    let mut value = body.to_value();
    value["payer"] = json!(payer);
    value["memo"] = json!(memo);
    value
}

/// An expenditure body as JSON with one attachment of `bytes` bytes.
fn expenditure_with_attachment(bytes: Value) -> Value {
    let mut value = income("3-1502", "").as_object().unwrap().clone();
    for member in ["payer", "period"] {
        value.remove(member);
    }
    value.insert("kind".into(), json!("expenditure"));
    value.insert("category".into(), json!("cleaning"));
    value.insert("payee".into(), json!("保洁公司"));
    value.insert(
        "attachments".into(),
        json!([{"bytes": bytes, "name": "invoice.pdf", "sha256": "ab".repeat(32)}]),
    );
    Value::Object(value)
}

fn decode(value: &Value) -> Result<Body, String> {
    Body::decode(&to_canonical_bytes(value)).map_err(|e| e.to_string())
}

/// Proves the character tables the document names are the ones the code
/// uses: Unicode 17.0.0 (for `char::is_numeric` in §6.7 and `White_Space`
/// in §6.6). A toolchain with another Unicode version changes which payers
/// and texts are valid, so docs/format.md must be updated with it.
#[test]
fn the_unicode_version_is_the_documented_one() {
    assert_eq!(
        char::UNICODE_VERSION,
        (17, 0, 0),
        "docs/format.md §6.6 and §6.7 name Unicode 17.0.0; update them for this toolchain"
    );
}

/// Proves §6.7's examples: General_Category Nd/Nl/No characters (full-width,
/// circled) and the listed Chinese numerals count as digits; 十 does not.
#[test]
fn party_rule_counts_exactly_the_documented_digits() {
    for passes in [
        "3-1502",
        "12-2-1502",
        "十十十十十十十",
        "星光物业",
        "①②③④⑤⑥",
    ] {
        decode(&income(passes, "")).unwrap_or_else(|e| panic!("{passes:?} must pass: {e}"));
    }
    for refused in [
        "13800138000",
        "138-0013-8000",
        "１３８００１３８０００",
        "一三八〇〇一三八〇〇〇",
        "①②③④⑤⑥⑦",
        "1234567",
        "壹贰叁肆伍陆柒",
        "Ⅰ-Ⅱ-Ⅲ-Ⅳ-Ⅴ-Ⅵ-Ⅶ-Ⅷ-Ⅸ",
        "½½½½½½½",
        "٣٣٣٣٣٣٣",
    ] {
        let e = decode(&income(refused, "")).expect_err(refused);
        assert!(e.contains("phone or ID number"), "{refused:?}: {e}");
    }
}

/// Proves §6.6: a text may not start or end with a White_Space character
/// (U+0020, U+00A0, U+1680, U+2000, U+3000, ...), while look-alikes that
/// are not White_Space (U+200B, U+FEFF) are kept, and inner spaces pass.
#[test]
fn text_rule_trims_exactly_white_space() {
    for ws in [
        '\u{20}', '\u{a0}', '\u{1680}', '\u{2000}', '\u{200a}', '\u{2028}', '\u{202f}', '\u{205f}',
        '\u{3000}',
    ] {
        for memo in [format!("{ws}物业费"), format!("物业费{ws}")] {
            let e = decode(&income("3-1502", &memo)).expect_err(&memo);
            assert!(e.contains("white space"), "{memo:?}: {e}");
        }
        decode(&income("3-1502", &format!("物业{ws}费")))
            .unwrap_or_else(|e| panic!("inner U+{:04X}: {e}", ws as u32));
    }
    for not_ws in ['\u{200b}', '\u{feff}'] {
        decode(&income("3-1502", &format!("{not_ws}物业费{not_ws}")))
            .unwrap_or_else(|e| panic!("U+{:04X} is not White_Space: {e}", not_ws as u32));
    }
}

/// Proves §5.3's range of an attachment's `bytes`: 0 to 2^53 − 1 inclusive;
/// 2^53 is refused (by the canonical-JSON layer).
#[test]
fn attachment_bytes_range_is_zero_to_two_pow_53_minus_one() {
    for ok in [0u64, 1, (1 << 53) - 1] {
        decode(&expenditure_with_attachment(json!(ok)))
            .unwrap_or_else(|e| panic!("bytes {ok} must pass: {e}"));
    }
    // Out of the canonical range, so written with serde_json (which the
    // canonical encoder refuses to do), keys in the same order.
    for refused in [json!(1u64 << 53), json!(u64::MAX), json!(-1)] {
        let bytes = serde_json::to_vec(&expenditure_with_attachment(refused.clone())).unwrap();
        let e = Body::decode(&bytes).expect_err(&format!("bytes {refused} must be refused"));
        if refused == json!(1u64 << 53) {
            // The canonical layer names where the value is.
            assert!(
                e.to_string().contains("$.attachments[0].bytes"),
                "{refused}: {e}"
            );
        }
    }
}

/// Proves §11.2: a key's text is split at its first two `+` only, so a key
/// whose base64 part contains `+` parses and prints back unchanged, both as
/// a verifier key and as a signer key.
#[test]
fn key_text_splits_only_at_the_first_two_plus() {
    let mut found = 0;
    for seed in 1..=40u8 {
        let signer = NoteSigner::new("wuye-li", KeyAlg::Ed25519, seeded_key(seed)).unwrap();
        let vkey = signer.verifier_key().to_string();
        let base64_part = vkey.splitn(3, '+').nth(2).unwrap();
        if !base64_part.contains('+') {
            continue;
        }
        found += 1;
        let parsed = VerifierKey::parse(&vkey).expect("a verifier key with + in its base64");
        assert_eq!(parsed.to_string(), vkey);
        assert_eq!(parsed.name(), "wuye-li");
        let private = signer.to_private_key_text();
        let back = NoteSigner::parse(&private).expect("a signer key with + in its base64");
        assert_eq!(back.verifier_key().to_string(), vkey);
    }
    assert!(
        found > 0,
        "no seed in 1..=40 gave a key with + in its base64"
    );
}

/// Proves the key file example of docs/format.md §11.6 is what the code
/// reads: the private key line parses, is an Ed25519 (0x01) key of seed
/// 32 × 0x01, prints back unchanged, and gives the verifier key shown.
#[test]
fn the_documented_key_file_example_parses() {
    const PRIVATE: &str =
        "PRIVATE+KEY+wuye-li+801219f1+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB";
    const VERIFIER: &str = "wuye-li+801219f1+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
    let doc = include_str!("../../../docs/format.md");
    assert!(doc.contains(PRIVATE) && doc.contains(VERIFIER));
    let signer = NoteSigner::parse(PRIVATE).expect("the example key file parses");
    assert_eq!(signer.alg(), KeyAlg::Ed25519);
    assert_eq!(signer.to_private_key_text(), PRIVATE);
    assert_eq!(signer.verifier_key().to_string(), VERIFIER);
    assert_eq!(
        signer.verifier_key().to_string(),
        NoteSigner::new("wuye-li", KeyAlg::Ed25519, seeded_key(1))
            .unwrap()
            .verifier_key()
            .to_string()
    );
    // A wrong key id is refused.
    assert!(NoteSigner::parse(&PRIVATE.replace("801219f1", "801219f2")).is_err());
}

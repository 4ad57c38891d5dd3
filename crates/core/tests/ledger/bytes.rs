//! Bytes: canonical JSON (key order, white space, escapes, unknown fields,
//! floats, null, booleans, huge integers, control characters) and the byte
//! limits of fields and leaves.

use crate::fixture::*;

/// Proves a leaf whose keys are out of JCS order is refused as not canonical,
/// although it is the same JSON value with valid signatures.
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

/// Proves insignificant white space anywhere (after a colon, a comma, or a
/// trailing newline) makes a leaf non-canonical.
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

/// Proves needless escapes are refused: a Chinese character, a slash or a
/// plain letter written as an escape is the same string but not JCS.
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

/// Proves unknown fields are refused at every level: in the body, in a nested
/// object of the body, in a signature, and in the leaf itself, even when the
/// signatures cover the extra field.
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

/// Proves a float is refused, in the body and in the leaf, even as a whole
/// number written with a fraction or an exponent.
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

/// Proves null is refused, including as the value of an optional field (an
/// absent optional field must be omitted, not null).
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

/// Proves booleans are refused.
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

/// Proves integers beyond ±(2^53 − 1) are refused wherever they appear (the
/// limit itself is a valid JSON integer; amounts have their own lower limit).
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

/// Proves control characters (C0, DEL and C1) are refused in any string, and
/// in an object key.
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

/// Proves every string field has a byte (not character) limit: one byte over
/// is refused with the field's path, exactly at the limit is accepted.
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

/// Proves a leaf over 65,535 bytes is refused before it is parsed, and that a
/// leaf of exactly 65,535 bytes gets past the size check.
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

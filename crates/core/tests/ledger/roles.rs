//! Role sets: weak and non-canonical keys, duplicate names and keys,
//! thresholds.

use crate::fixture::*;

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

/// Proves small-order ("weak") public keys are refused in genesis roles and
/// in governance roles: anyone can forge signatures for them.
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

/// Proves a key name may appear only once across all roles.
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

/// Proves one public key may belong to one role only, once: the same key in
/// the company and the committee (under two names) is refused.
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

/// Proves a threshold must be 1 to the role's key count, and that company and
/// committee are mandatory roles.
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

/// Proves a role key must be the canonical encoding of its point: the
/// encoding y = p + 3 decodes to the same point as y = 3, so accepting it
/// would let one key sit in two roles under different bytes.
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
                    display_name: None,
                    name: name.into(),
                    public_key: key,
                }],
            },
        );
    }
    let err = feeledger_core::entry::check_roles(&roles, "$.roles").unwrap_err();
    assert!(err.to_string().contains("canonically encoded"), "{err}");
}

/// The id of the fixture's genesis body, whose role keys have no display
/// names: a body without them must keep its bytes, and so this id.
const GENESIS_ID_WITHOUT_NAMES: &str =
    "9814932b700c13ab70d86ece1905b6e552a1c56b1f6fdd5a66e953f97734f571";

/// Proves a role key without a display name is encoded exactly as before
/// the field existed (no `display_name` key, not even `null`), so old
/// ledgers keep their bytes and hashes; and that a display name, when
/// present, is part of the signed body and kept in the roles in force.
#[test]
fn display_name_absent_is_absent_and_present_is_signed() {
    let key = keydef("cm-1");
    let bytes = String::from_utf8(jcs(&serde_json::to_value(&key).unwrap())).unwrap();
    assert_eq!(
        bytes,
        format!(r#"{{"name":"cm-1","public_key":"{}"}}"#, key.public_key)
    );
    let g = genesis_body(false);
    assert_eq!(g.id().to_hex(), GENESIS_ID_WITHOUT_NAMES);
    assert!(!String::from_utf8(g.to_canonical_bytes())
        .unwrap()
        .contains("display_name"));
    // An explicit null is not "absent": it does not re-encode to itself.
    let mut l = Ledger::funded();
    let mut with_null = governance(Some(genesis_roles(true)), "dn-null").to_value();
    with_null["roles"]["committee"]["keys"][0]["display_name"] = Value::Null;
    let leaf = l.raw_leaf(with_null, &["cm-1", "cm-2", "sv-1"]);
    assert!(matches!(l.reject(&jcs(&leaf)), ApplyError::Format(_)));

    // Named: the name is in the signed bytes, and in the roles in force.
    let mut roles = genesis_roles(true);
    roles.get_mut(&Role::Committee).unwrap().keys[0].display_name = Some("王建国".into());
    roles.get_mut(&Role::Company).unwrap().keys[0].display_name = Some("李明（物业经理）".into());
    let body = governance(Some(roles), "dn-ok");
    let text = String::from_utf8(body.to_canonical_bytes()).unwrap();
    assert!(
        text.contains(r#"{"display_name":"王建国","name":"cm-1","#),
        "{text}"
    );
    let mut unnamed = body.clone();
    if let Content::Governance(g) = &mut unnamed.content {
        g.roles
            .as_mut()
            .unwrap()
            .get_mut(&Role::Committee)
            .unwrap()
            .keys[0]
            .display_name = None;
    }
    assert_ne!(
        unnamed.id(),
        body.id(),
        "the name is covered by the body's hash"
    );
    l.commit(body, &["cm-1", "cm-2", "sv-1"]);
    let committee = &l.state().roles()[&Role::Committee];
    assert_eq!(committee.keys[0].display_name.as_deref(), Some("王建国"));
    assert_eq!(committee.keys[1].display_name, None);
}

/// Proves a bad display name is refused, in a genesis and in a governance
/// entry, by the rule it breaks (`reject` checks the ledger is as it was).
#[test]
fn bad_display_names_are_refused_by_their_rule() {
    let seventeen = "王".repeat(17); // 51 bytes
    let cases: [(&str, &str); 4] = [
        ("", "is empty"),
        (&seventeen, "is 51"),
        (" 王建国", "white space"),
        ("王建国\u{3000}", "white space"),
    ];
    for (name, rule) in cases {
        let mut roles = genesis_roles(false);
        roles.get_mut(&Role::Committee).unwrap().keys[1].display_name = Some(name.into());

        let mut g = genesis_body(false);
        if let Content::Genesis(c) = &mut g.content {
            c.roles = roles.clone();
        }
        let err =
            LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
        let (path, reason) = field_error(&err);
        assert_eq!(
            path, "$.body.roles.committee.keys[1].display_name",
            "{name:?}"
        );
        assert!(reason.contains(rule), "{name:?}: {reason}");

        let mut l = Ledger::new(false);
        let err = l.reject_body(governance(Some(roles), "dn-bad"), &["co-1", "cm-1", "cm-2"]);
        let (path, reason) = field_error(&err);
        assert_eq!(
            path, "$.body.roles.committee.keys[1].display_name",
            "{name:?}"
        );
        assert!(reason.contains(rule), "{name:?}: {reason}");
    }
    // A control character is refused before any field is read (§3.1),
    // wherever it is; the field rule says the same to callers such as keygen.
    for name in ["王\n建国", "王建国\u{85}"] {
        let mut l = Ledger::new(false);
        let mut body = governance(Some(genesis_roles(false)), "dn-ctl").to_value();
        body["roles"]["committee"]["keys"][1]["display_name"] = json!(name);
        let leaf = l.raw_leaf(body, &["co-1", "cm-1", "cm-2"]);
        match canonical_error(&l.reject(&jcs(&leaf))) {
            CanonicalError::ControlCharacter { path, .. } => {
                assert_eq!(path, "$.body.roles.committee.keys[1].display_name")
            }
            other => panic!("{name:?}: {other:?}"),
        }
        assert_eq!(
            feeledger_core::entry::check_display_name(name),
            Err(feeledger_core::entry::DisplayNameError::ControlCharacter)
        );
    }
    // 16 Chinese characters (48 bytes) is the longest accepted.
    assert_eq!(
        feeledger_core::entry::check_display_name(&"王".repeat(16)),
        Ok(())
    );
    assert_eq!(
        feeledger_core::entry::check_display_name(&seventeen),
        Err(feeledger_core::entry::DisplayNameError::TooLong { bytes: 51 })
    );
}

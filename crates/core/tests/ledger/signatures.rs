//! Signatures and rules: unknown keys, bad signatures, precomputed signature
//! checks, role thresholds and who may propose.

use crate::fixture::*;

/// Proves a signature by a key that belongs to no role is refused, even when
/// the rule is otherwise met.
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

/// Proves one flipped byte in any signature rejects the leaf, even when the
/// other signatures meet the rule; and a non-canonical base64 spelling of a
/// signature is refused as malformed.
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

/// Proves a `SignatureCheck` (made ahead, on another thread) speaks only for
/// the body and the signature list it was made on. Handed in with a list in
/// which one signature is flipped, or with the same signatures over another
/// body, it is not used: the signatures are verified again and the leaf is
/// refused. With its own leaf, it is used and the leaf commits.
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

/// Proves a `SignatureCheck` made before a change of roles is trusted only
/// for the keys the change left alone: after `cm-2`'s name is given another
/// key, the same leaf with the same check is refused (its `cm-2` signature
/// is verified again, against the new key), while a leaf whose signers kept
/// their keys commits with a check made before the change.
#[test]
fn a_signature_check_is_not_trusted_for_a_key_changed_since() {
    let mut l = Ledger::funded();
    let stale = expenditure("operating", 100, "kc-1");
    let kept = expenditure("operating", 200, "kc-2");
    let checks: Vec<_> = [
        (&stale, ["co-1", "cm-1", "cm-2"]),
        (&kept, ["co-1", "cm-1", "cm-3"]),
    ]
    .into_iter()
    .map(|(body, signers)| {
        let leaf = l.leaf(body.clone(), &signers);
        l.state()
            .check_signatures(&leaf.body.to_canonical_bytes(), &leaf.signatures)
    })
    .collect();
    let mut roles = l.state().roles().clone();
    for key in &mut roles.get_mut(&Role::Committee).unwrap().keys {
        if key.name == "cm-2" {
            key.public_key = B64.encode(sk(200).verifying_key().as_bytes());
        }
    }
    l.commit(governance(Some(roles), "kc-g"), &["cm-1", "cm-2", "sv-1"]);
    let try_apply = |leaf: &Leaf, check| {
        let lookups = l.r.history.lookups(&leaf.needs());
        l.state().clone().apply_leaf_prechecked(
            leaf,
            &leaf.to_canonical_bytes(),
            &lookups,
            Some(check),
        )
    };
    let stale_leaf = l.leaf(stale, &["co-1", "cm-1", "cm-2"]);
    assert_eq!(
        try_apply(&stale_leaf, &checks[0]),
        Err(ApplyError::BadSignature { key: "cm-2".into() })
    );
    let kept_leaf = l.leaf(kept, &["co-1", "cm-1", "cm-3"]);
    assert!(try_apply(&kept_leaf, &checks[1]).is_ok());
}

/// Proves the company key can never count for the committee: a company
/// signature beside one committee signature leaves the committee at 1 of 2,
/// and a company signature labelled with a committee key name does not verify.
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

/// Proves thresholds count distinct keys: one committee key listed twice is
/// refused as a malformed signature list, never counted as two.
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

/// Proves a spend with the company and only 1 of the 2 committee signatures
/// is refused with the exact shortfall; with no signature at all the list is
/// malformed.
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

/// Proves check_proposal refuses a proposal none of whose signers belongs to
/// a role the rule names, and accepts a partial but relevant one (reporting
/// what is still missing).
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

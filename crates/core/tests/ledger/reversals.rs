//! Replays and reversals: a body recorded once, and what may be reversed, once,
//! under which rule, without overdraft.

use crate::fixture::*;

/// Proves the same body cannot be recorded twice, even re-signed by other
/// keys; and two identical payments that differ only in their nonce are two
/// entries.
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

/// Proves a reversal of a seq that does not exist (yet) is refused.
#[test]
fn reversal_of_missing_seq_is_refused() {
    let mut l = Ledger::funded();
    for target_seq in [3, 99, u64::from(u32::MAX)] {
        let err = l.reject_body(reversal(target_seq, "rm-1"), &["co-1", "cm-1", "cm-2"]);
        assert_eq!(err, ApplyError::TargetMissing { target_seq });
    }
}

/// Proves genesis, governance and reversal entries cannot be reversed. The
/// look-ups here are what the store gives (`feeledger_store` passes the
/// target leaf whatever its kind).
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

/// Proves an entry can be reversed once only.
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

/// Proves a reversal needs its target's rule: reversing an expenditure takes
/// company + committee (the company alone, enough for an income, is not).
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

/// Proves reversing an income whose money was already spent would overdraft
/// and is refused; so is reversing a transfer whose money moved on.
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

//! Money: amount limits, overdrafts, unknown funds, transfers, exact balances
//! and overflow.

use crate::fixture::*;

/// Proves amounts are 1 to 10^13 fen: 0 and 10^13 + 1 are refused in every
/// kind that carries an amount; 10^13 itself is accepted.
#[test]
fn amount_limits() {
    let mut l = Ledger::funded();
    for amount in [0, AMOUNT_FEN_MAX + 1] {
        let err = l.reject_body(income("operating", amount, "am-1"), &["co-1"]);
        assert_field_error(&err, "$.body.amount_fen");
        let err = l.reject_body(
            expenditure("operating", amount, "am-2"),
            &["co-1", "cm-1", "cm-2"],
        );
        assert_field_error(&err, "$.body.amount_fen");
        let err = l.reject_body(
            transfer("operating", "maintenance", amount, "am-3"),
            &["co-1", "cm-1", "cm-2"],
        );
        assert_field_error(&err, "$.body.amount_fen");
    }
    l.commit(income("maintenance", AMOUNT_FEN_MAX, "am-4"), &["co-1"]);
    assert_eq!(l.balance("maintenance"), AMOUNT_FEN_MAX);
}

/// Proves no fund goes below zero: a spend of one fen more than the balance is
/// refused with the balance and the amount; exactly the balance is accepted.
#[test]
fn overdraft_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        expenditure("operating", 1_000_001, "od-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "operating".into(),
            balance_fen: 1_000_000,
            amount_fen: 1_000_001
        }
    );
    let err = l.reject_body(
        expenditure("maintenance", 1, "od-2"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "maintenance".into(),
            balance_fen: 0,
            amount_fen: 1
        }
    );
    l.commit(
        expenditure("operating", 1_000_000, "od-3"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(l.balance("operating"), 0);
}

/// Proves a transfer cannot take more than its source fund holds.
#[test]
fn transfer_overdraft_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        transfer("public_revenue", "maintenance", 1_000_001, "to-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        err,
        ApplyError::Overdraft {
            fund: "public_revenue".into(),
            balance_fen: 1_000_000,
            amount_fen: 1_000_001
        }
    );
}

/// Proves a fund that the genesis does not define is refused, in each field
/// that names a fund.
#[test]
fn unknown_fund_is_refused() {
    let mut l = Ledger::funded();
    let unknown = ApplyError::UnknownFund {
        fund: "parking".into(),
    };
    assert_eq!(
        l.reject_body(income("parking", 1, "uf-1"), &["co-1"]),
        unknown
    );
    assert_eq!(
        l.reject_body(expenditure("parking", 1, "uf-2"), &["co-1", "cm-1", "cm-2"]),
        unknown
    );
    assert_eq!(
        l.reject_body(
            transfer("operating", "parking", 1, "uf-3"),
            &["co-1", "cm-1", "cm-2"]
        ),
        unknown
    );
    assert_eq!(
        l.reject_body(
            transfer("parking", "operating", 1, "uf-4"),
            &["co-1", "cm-1", "cm-2"]
        ),
        unknown
    );
}

/// Proves a transfer needs two different funds.
#[test]
fn transfer_to_the_same_fund_is_refused() {
    let mut l = Ledger::funded();
    let err = l.reject_body(
        transfer("operating", "operating", 1, "sf-1"),
        &["co-1", "cm-1", "cm-2"],
    );
    assert_eq!(
        field_error(&err),
        ("$.body.to_fund", "a transfer needs two different funds")
    );
}

/// Proves balances are exact (integer fen, no rounding) after a mixed
/// sequence of entries, and that the effects are reported.
#[test]
fn balances_are_exact_after_a_sequence() {
    let mut l = Ledger::new(false);
    let steps: Vec<(Body, &[&str])> = vec![
        (income("operating", 128_050, "bx-1"), &["co-1"]),
        (income("operating", 1, "bx-2"), &["co-1"]),
        (income("public_revenue", 33_333, "bx-3"), &["co-1"]),
        (
            expenditure("operating", 99_999, "bx-4"),
            &["co-1", "cm-1", "cm-3"],
        ),
        (
            transfer("public_revenue", "maintenance", 11_111, "bx-5"),
            &["co-1", "cm-2", "cm-3"],
        ),
        (
            expenditure("maintenance", 11_110, "bx-6"),
            &["co-1", "cm-1", "cm-2"],
        ),
        (reversal(4, "bx-7"), &["co-1", "cm-1", "cm-2"]),
        (
            transfer("operating", "public_revenue", 28_052, "bx-8"),
            &["co-1", "cm-1", "cm-2"],
        ),
    ];
    for (b, signers) in steps {
        l.commit(b, signers);
    }
    let want: BTreeMap<String, u64> = [
        ("maintenance", 1),
        ("operating", 100_000 - 1),
        ("public_revenue", 33_333 - 11_111 + 28_052),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(l.state().balances(), &want);
    // Money in equals money out plus what is held.
    let held: u64 = l.state().balances().values().sum();
    assert_eq!(held, 128_050 + 1 + 33_333 - 11_110);
}

/// Proves that no fund can wrap around: a credit that would take a balance
/// past what a u64 holds is refused with `Overflow`, and the balances given
/// are left as they were (a ledger of 1.8 million incomes of the largest
/// amount would reach it).
#[test]
fn a_fund_never_overflows() {
    use feeledger_core::state::{apply_effect, ApplyError, Effect};
    let balances: std::collections::BTreeMap<String, u64> =
        [("operating".to_string(), u64::MAX - 5)].into();
    let credit = |amount_fen| Effect::Credit {
        fund: "operating".into(),
        amount_fen,
    };
    assert_eq!(
        apply_effect(&balances, &credit(5)).unwrap()["operating"],
        u64::MAX
    );
    assert_eq!(
        apply_effect(&balances, &credit(6)),
        Err(ApplyError::Overflow {
            fund: "operating".into()
        })
    );
    assert_eq!(balances["operating"], u64::MAX - 5);
}

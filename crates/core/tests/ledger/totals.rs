//! Totals by month and category, reversals netting out.

use crate::fixture::*;

/// Proves totals by month and by (fund, category), and that a reversal posts
/// negative amounts into its target's month and category, netting it out.
#[test]
fn totals_by_month_and_category() {
    let mut l = Ledger::new(true);
    let c = ["co-1", "cm-1", "cm-2"];
    l.commit(
        dated(
            income_cat("public_revenue", 100_000, IncomeCategory::Parking, "tt-1"),
            "2024-03-02",
        ),
        &["co-1"],
    );
    l.commit(
        dated(income("operating", 500_000, "tt-2"), "2024-03-03"),
        &["co-1"],
    );
    let cleaning = l.commit(
        dated(expenditure("operating", 120_000, "tt-3"), "2024-03-20"),
        &c,
    );
    l.commit(
        dated(expenditure("operating", 30_000, "tt-4"), "2024-03-21"),
        &c,
    );
    l.commit(
        dated(income("operating", 300_000, "tt-5"), "2024-04-01"),
        &["co-1"],
    );
    l.commit(
        dated(
            transfer("public_revenue", "maintenance", 50_000, "tt-6"),
            "2024-04-02",
        ),
        &c,
    );
    let rev = l.commit(dated(reversal(cleaning.seq, "tt-7"), "2024-04-10"), &c);
    assert_eq!(rev.postings.len(), 1);
    assert_eq!(rev.postings[0].month, month("2024-03"));
    assert_eq!(rev.postings[0].spending_fen, -120_000);

    let key = |f: &str, c: &str| (f.to_string(), c.to_string());
    let march = l.r.totals.month(month("2024-03"));
    let want_march = BTreeMap::from([
        (key("operating", "cleaning"), (0, 30_000)),
        (key("operating", "property_fee"), (500_000, 0)),
        (key("public_revenue", "parking"), (100_000, 0)),
    ]);
    assert_eq!(march, want_march);
    let april = l.r.totals.month(month("2024-04"));
    let want_april = BTreeMap::from([
        (key("maintenance", "transfer"), (50_000, 0)),
        (key("operating", "property_fee"), (300_000, 0)),
        (key("public_revenue", "transfer"), (0, 50_000)),
    ]);
    assert_eq!(april, want_april);
    assert!(l.r.totals.month(month("2024-05")).is_empty());
    let all = l.r.totals.by_category();
    assert_eq!(all[&key("operating", "property_fee")], (800_000, 0));
    assert_eq!(all[&key("operating", "cleaning")], (0, 30_000));
    assert_eq!(all.len(), 5);
    // The totals agree with the balances.
    let net = |f: &str| -> i128 {
        all.iter()
            .filter(|((fund, _), _)| fund == f)
            .map(|(_, (i, s))| i - s)
            .sum()
    };
    for (fund, balance) in l.state().balances() {
        assert_eq!(net(fund), i128::from(*balance), "{fund}");
    }
}

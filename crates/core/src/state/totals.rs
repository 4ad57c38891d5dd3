//! Income and spending by month, fund and category, net of reversals:
//! what the postings of applied entries add up to.

use super::*;

/// (fund, category) → (income fen, spending fen), net of reversals. Sums
/// are i128: 2^64 entries of at most 10^13 fen cannot overflow them.
pub type CategoryTotals = BTreeMap<(String, String), (i128, i128)>;

/// Income and spending by month, fund and category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// (month, fund, category) → (income fen, spending fen), net of reversals.
    pub by_month: BTreeMap<(Month, String, String), (i128, i128)>,
}

impl Totals {
    pub fn add(&mut self, postings: &[Posting]) {
        for p in postings {
            let entry = self
                .by_month
                .entry((p.month, p.fund.clone(), p.category.clone()))
                .or_default();
            entry.0 += i128::from(p.income_fen);
            entry.1 += i128::from(p.spending_fen);
        }
    }

    /// Totals of one month, by (fund, category).
    pub fn month(&self, month: Month) -> CategoryTotals {
        self.by_month
            .range((month, String::new(), String::new())..)
            .take_while(|((m, _, _), _)| *m == month)
            .map(|((_, f, c), v)| ((f.clone(), c.clone()), *v))
            .collect()
    }

    /// Totals over all months, by (fund, category).
    pub fn by_category(&self) -> CategoryTotals {
        let mut out = CategoryTotals::new();
        for ((_, f, c), (i, s)) in &self.by_month {
            let e = out.entry((f.clone(), c.clone())).or_default();
            e.0 += i;
            e.1 += s;
        }
        out
    }
}

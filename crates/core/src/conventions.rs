//! The community's conventions, which the ledger allows to be broken but a
//! person should look at again: which fund a category's money usually goes
//! to, and the warnings a proposal gets before it is recorded (a date after
//! today, a fund unusual for its category, maintenance-fund spending that
//! cites no owners' vote, a likely duplicate payment).
//!
//! Pure: "today" and the neighbouring proposals and entries are passed in.
//! `feeledger propose` and the CSV import read these; each warning's text
//! (Chinese first, then English) is its `Display`.

use crate::entry::{Body, Content, Date, ExpenseCategory, IncomeCategory};
use crate::hash::Hash;
use crate::money::format_yuan;
use crate::names::{expense_category_zh, income_category_zh};
use std::fmt;

/// The company's operating fund (物业服务费).
pub const OPERATING_FUND: &str = "operating";
/// The owners' income from the common areas (公共收益).
pub const PUBLIC_REVENUE_FUND: &str = "public_revenue";
/// The maintenance fund (专项维修资金), spent only on an owners' decision.
pub const MAINTENANCE_FUND: &str = "maintenance";

/// How far apart, in days, two expenditures of the same amount from the same
/// fund to the same payee may be dated and still look like one payment
/// recorded twice: about one quarter, the usual billing cycle of a service
/// contract.
pub const DUPLICATE_WINDOW_DAYS: i64 = 90;

/// The fund an income of this category goes to unless the person says
/// otherwise: money from the common areas (parking, advertising, venue
/// rental) belongs to the owners, as 公共收益, not to the company's
/// operating fund.
pub fn default_income_fund(category: IncomeCategory) -> &'static str {
    match category {
        IncomeCategory::Parking | IncomeCategory::Advertising | IncomeCategory::VenueRental => {
            PUBLIC_REVENUE_FUND
        }
        IncomeCategory::PropertyFee | IncomeCategory::Interest | IncomeCategory::Other => {
            OPERATING_FUND
        }
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), to
/// measure how far apart two dates are.
pub fn days_since_epoch(date: Date) -> i64 {
    let (m, d) = (i64::from(date.month), i64::from(date.day));
    let y = i64::from(date.year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Something allowed but often a mistake; the person must confirm it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The business date is after today (UTC).
    FutureDate { date: Date, today: Date },
    /// An income recorded to a fund other than its category's usual one.
    UnusualIncomeFund {
        category: IncomeCategory,
        usual: &'static str,
        fund: String,
    },
    /// Salaries or the company's fee paid from a fund other than operating.
    UnusualExpenseFund {
        category: ExpenseCategory,
        fund: String,
    },
    /// Spending (or a transfer out) from the maintenance fund with no owners'
    /// vote cited.
    MaintenanceWithoutVote { transfer: bool },
    /// The same fund, amount and payee is already waiting for signatures.
    PendingDuplicate {
        id: Hash,
        date: Date,
        amount_fen: u64,
        payee: String,
        fund: String,
    },
    /// The same fund, amount and payee was paid within
    /// [`DUPLICATE_WINDOW_DAYS`].
    RecentDuplicate {
        seq: u64,
        date: Date,
        amount_fen: u64,
        payee: String,
        fund: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::FutureDate { date, today } => write!(
                f,
                "业务日期在今天之后 the business date {date} is after today ({today}, UTC)"
            ),
            Warning::UnusualIncomeFund {
                category,
                usual,
                fund,
            } => write!(
                f,
                "资金与类别不符 {} {} usually goes to {usual}, not {fund}{}",
                income_category_zh(*category),
                category.as_str(),
                if *usual == PUBLIC_REVENUE_FUND {
                    " (income from the common areas belongs to the owners, 公共收益)"
                } else {
                    ""
                }
            ),
            Warning::UnusualExpenseFund { category, fund } => write!(
                f,
                "资金与类别不符 {} {} is usually paid from operating, not {fund}",
                expense_category_zh(*category),
                category.as_str()
            ),
            Warning::MaintenanceWithoutVote { transfer } => write!(
                f,
                "专项维修资金未引用业主表决 {} cites no owners' vote (--decision-ref and the vote's shares)",
                if *transfer {
                    "a transfer out of the maintenance fund"
                } else {
                    "spending from the maintenance fund"
                }
            ),
            Warning::PendingDuplicate {
                id,
                date,
                amount_fen,
                payee,
                fund,
            } => write!(
                f,
                "可能重复 possible duplicate: {} to {payee} from {fund} is already waiting for signatures (id {}, dated {date})",
                format_yuan(*amount_fen),
                &id.to_hex()[..16]
            ),
            Warning::RecentDuplicate {
                seq,
                date,
                amount_fen,
                payee,
                fund,
            } => write!(
                f,
                "可能重复 possible duplicate: entry {seq} (dated {date}) already paid {} to {payee} from {fund} (same fund, amount and payee within {DUPLICATE_WINDOW_DAYS} days)",
                format_yuan(*amount_fen)
            ),
        }
    }
}

/// The warnings `body` gets, given today's date, the pending proposals (id
/// and body) and recent committed expenditures (seq and body) to compare it
/// with.
pub fn warnings(
    body: &Body,
    today: Date,
    pending: &[(Hash, Body)],
    recent: &[(u64, Body)],
) -> Vec<Warning> {
    let mut out = Vec::new();
    if body.date > today {
        out.push(Warning::FutureDate {
            date: body.date,
            today,
        });
    }
    match &body.content {
        Content::Income(i) => {
            let usual = default_income_fund(i.category);
            if i.fund != usual && i.category != IncomeCategory::Other {
                out.push(Warning::UnusualIncomeFund {
                    category: i.category,
                    usual,
                    fund: i.fund.clone(),
                });
            }
        }
        Content::Expenditure(e) => {
            if e.fund == MAINTENANCE_FUND && e.owners_approval.is_none() {
                out.push(Warning::MaintenanceWithoutVote { transfer: false });
            }
            if e.fund != OPERATING_FUND
                && matches!(
                    e.category,
                    ExpenseCategory::Salaries | ExpenseCategory::ManagementFee
                )
            {
                out.push(Warning::UnusualExpenseFund {
                    category: e.category,
                    fund: e.fund.clone(),
                });
            }
            let same = |b: &Body| match &b.content {
                Content::Expenditure(o) => {
                    o.fund == e.fund && o.amount_fen == e.amount_fen && o.payee == e.payee
                }
                _ => false,
            };
            for (id, b) in pending.iter().filter(|(_, b)| same(b)) {
                out.push(Warning::PendingDuplicate {
                    id: *id,
                    date: b.date,
                    amount_fen: e.amount_fen,
                    payee: e.payee.clone(),
                    fund: e.fund.clone(),
                });
            }
            let near_in_time = |b: &Body| {
                (days_since_epoch(b.date) - days_since_epoch(body.date)).abs()
                    <= DUPLICATE_WINDOW_DAYS
            };
            for (seq, b) in recent.iter().filter(|(_, b)| same(b) && near_in_time(b)) {
                out.push(Warning::RecentDuplicate {
                    seq: *seq,
                    date: b.date,
                    amount_fen: e.amount_fen,
                    payee: e.payee.clone(),
                    fund: e.fund.clone(),
                });
            }
        }
        Content::Transfer(t) if t.from_fund == MAINTENANCE_FUND && t.owners_approval.is_none() => {
            out.push(Warning::MaintenanceWithoutVote { transfer: true });
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Expenditure;

    /// Day counts match the civil calendar, across a leap day and a year end.
    #[test]
    fn days_count_the_calendar() {
        let d = |s: &str| days_since_epoch(Date::parse(s).unwrap());
        assert_eq!(d("2000-01-01"), 10_957);
        assert_eq!(d("2000-03-01") - d("2000-02-28"), 2);
        assert_eq!(d("2027-01-01") - d("2026-12-31"), 1);
        assert_eq!(d("2026-04-01") - d("2026-01-01"), 90);
        assert_eq!(
            crate::genesis::date_from_days(d("2026-10-01")).to_string(),
            "2026-10-01"
        );
    }

    /// Common-area income belongs to the owners; the rest to operating.
    #[test]
    fn the_category_chooses_the_fund() {
        assert_eq!(
            default_income_fund(IncomeCategory::Parking),
            PUBLIC_REVENUE_FUND
        );
        assert_eq!(
            default_income_fund(IncomeCategory::PropertyFee),
            OPERATING_FUND
        );
    }

    fn expenditure(date: &str, fund: &str, amount_fen: u64, payee: &str) -> Body {
        Body {
            ledger: "example.org/x".into(),
            date: Date::parse(date).unwrap(),
            nonce: "n".into(),
            content: Content::Expenditure(Expenditure {
                fund: fund.into(),
                amount_fen,
                category: ExpenseCategory::Repairs,
                payee: payee.into(),
                memo: String::new(),
                attachments: Vec::new(),
                owners_approval: None,
            }),
        }
    }

    /// A payment like one waiting, or one paid within the window, is flagged;
    /// one paid long before, or to another payee, is not; a future date and
    /// maintenance spending without a vote are flagged, with their words.
    #[test]
    fn likely_mistakes_are_flagged() {
        let today = Date::parse("2026-12-06").unwrap();
        let body = expenditure("2026-12-01", "operating", 128_050, "洁美保洁");
        let twin = expenditure("2026-11-01", "operating", 128_050, "洁美保洁");
        let old = expenditure("2026-01-01", "operating", 128_050, "洁美保洁");
        let other = expenditure("2026-11-30", "operating", 128_050, "别家");
        let pending = [(Hash([7; 32]), twin.clone())];
        let recent = [(5, twin), (2, old), (9, other)];
        let found = warnings(&body, today, &pending, &recent);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(found[0], Warning::PendingDuplicate { .. }));
        assert!(matches!(found[1], Warning::RecentDuplicate { seq: 5, .. }));
        assert!(found[1].to_string().contains("¥1,280.50"), "{}", found[1]);
        assert!(warnings(&body, today, &[], &[]).is_empty());

        let later = expenditure("2026-12-07", "maintenance", 100, "迅达");
        let found = warnings(&later, today, &[], &[]);
        assert_eq!(
            found,
            [
                Warning::FutureDate {
                    date: later.date,
                    today
                },
                Warning::MaintenanceWithoutVote { transfer: false },
            ]
        );
        assert!(found[0].to_string().starts_with("业务日期在今天之后"));
    }
}

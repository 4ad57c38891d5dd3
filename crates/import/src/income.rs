//! The rules an income follows whether it is typed (`feeledger propose
//! income`) or imported: which fund a category goes to by default, how a
//! fund is named, and the Chinese names of the categories.

use feeledger_core::entry::{Date, FundDef, IncomeCategory};

/// The company's operating fund (物业服务费).
pub const OPERATING_FUND: &str = "operating";
/// The owners' income from the common areas (公共收益).
pub const PUBLIC_REVENUE_FUND: &str = "public_revenue";
/// The maintenance fund (专项维修资金), spent only on an owners' decision.
pub const MAINTENANCE_FUND: &str = "maintenance";

pub use feeledger_core::names::{income_category_zh, INCOME_CATEGORIES as INCOME_CATEGORY_NAMES};

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

/// An income category by its English code (`parking`) or Chinese name
/// (停车费).
pub fn income_category(text: &str) -> Option<IncomeCategory> {
    INCOME_CATEGORY_NAMES
        .iter()
        .find(|(c, zh)| c.as_str() == text || *zh == text)
        .map(|(c, _)| *c)
}

/// A fund that is not in the ledger, or a name that fits none (or two).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fund {text:?} does not exist in this ledger; use one of: {}", valid.join(", "))]
pub struct UnknownFund {
    pub text: String,
    /// Every fund of the ledger: `id (name)`.
    pub valid: Vec<String>,
}

/// A fund named by id, by its full name, or by the first word of its name
/// (the Chinese name in the default funds, e.g. 公共收益). A name that
/// matches two funds is not guessed at.
///
/// # Errors
/// [`UnknownFund`], listing the ledger's funds.
pub fn resolve_fund(text: &str, funds: &[FundDef]) -> Result<String, UnknownFund> {
    if funds.iter().any(|f| f.id == text) {
        return Ok(text.to_string());
    }
    let by_name: Vec<&FundDef> = funds
        .iter()
        .filter(|f| f.name == text || f.name.split_whitespace().next() == Some(text))
        .collect();
    if let [only] = by_name.as_slice() {
        return Ok(only.id.clone());
    }
    Err(UnknownFund {
        text: text.to_string(),
        valid: funds
            .iter()
            .map(|f| format!("{} ({})", f.id, f.name))
            .collect(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn funds() -> Vec<FundDef> {
        [
            ("operating", "物业服务费 Operating"),
            ("public_revenue", "公共收益 Public revenue"),
            ("maintenance", "专项维修资金 Maintenance fund"),
        ]
        .map(|(id, name)| FundDef {
            id: id.into(),
            name: name.into(),
        })
        .to_vec()
    }

    /// Common-area income goes to 公共收益 by default, the rest to operating.
    #[test]
    fn categories_choose_their_fund() {
        assert_eq!(
            default_income_fund(IncomeCategory::Parking),
            PUBLIC_REVENUE_FUND
        );
        assert_eq!(
            default_income_fund(IncomeCategory::PropertyFee),
            OPERATING_FUND
        );
        assert_eq!(income_category("停车费"), Some(IncomeCategory::Parking));
        assert_eq!(
            income_category("venue_rental"),
            Some(IncomeCategory::VenueRental)
        );
        assert_eq!(income_category("cleaning"), None);
        assert_eq!(income_category_zh(IncomeCategory::Interest), "利息");
    }

    /// A fund is found by id, full name or Chinese name; an unknown one
    /// lists the valid ones.
    #[test]
    fn funds_are_found_by_id_or_name() {
        assert_eq!(
            resolve_fund("公共收益", &funds()).unwrap(),
            "public_revenue"
        );
        assert_eq!(resolve_fund("operating", &funds()).unwrap(), "operating");
        let err = resolve_fund("维修", &funds()).unwrap_err();
        assert!(
            err.to_string().contains("maintenance (专项维修资金"),
            "{err}"
        );
    }

    /// Day counts match the civil calendar across a leap day and a year end.
    #[test]
    fn days_count_the_calendar() {
        let d = |s: &str| days_since_epoch(Date::parse(s).unwrap());
        assert_eq!(d("2000-01-01"), 10_957);
        assert_eq!(d("2000-03-01") - d("2000-02-28"), 2);
        assert_eq!(d("2027-01-01") - d("2026-12-31"), 1);
    }
}

//! The rules an income follows whether it is typed (`feeledger propose
//! income`) or imported: which fund a category goes to by default, how a
//! fund is named, and the Chinese names of the categories.

use feeledger_core::entry::{FundDef, IncomeCategory};

pub use feeledger_core::conventions::{
    days_since_epoch, default_income_fund, MAINTENANCE_FUND, OPERATING_FUND, PUBLIC_REVENUE_FUND,
};
pub use feeledger_core::names::{income_category_zh, INCOME_CATEGORIES as INCOME_CATEGORY_NAMES};

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
}

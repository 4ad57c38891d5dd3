//! The Chinese names residents know the categories by (the page's
//! `strings.js` holds the same names for the page). One table for every
//! library: the descriptions, the CSV import's column values, the CLI's
//! lists of valid values.

use crate::entry::{ExpenseCategory, IncomeCategory};

/// Income categories, each with the Chinese name residents know it by (the
/// web page's names), in the order people read them.
pub const INCOME_CATEGORIES: [(IncomeCategory, &str); 6] = [
    (IncomeCategory::PropertyFee, "物业费"),
    (IncomeCategory::Parking, "停车费"),
    (IncomeCategory::Advertising, "广告收入"),
    (IncomeCategory::VenueRental, "场地租金"),
    (IncomeCategory::Interest, "利息"),
    (IncomeCategory::Other, "其他"),
];

/// Expenditure categories with their Chinese names.
pub const EXPENSE_CATEGORIES: [(ExpenseCategory, &str); 9] = [
    (ExpenseCategory::Cleaning, "保洁"),
    (ExpenseCategory::Security, "秩序维护"),
    (ExpenseCategory::Greening, "绿化"),
    (ExpenseCategory::Elevator, "电梯"),
    (ExpenseCategory::Repairs, "维修"),
    (ExpenseCategory::Utilities, "公共水电"),
    (ExpenseCategory::Salaries, "人员工资"),
    (ExpenseCategory::ManagementFee, "物业酬金"),
    (ExpenseCategory::Other, "其他"),
];

/// `停车费`: the Chinese name of an income category.
pub fn income_category_zh(category: IncomeCategory) -> &'static str {
    INCOME_CATEGORIES
        .iter()
        .find(|(c, _)| *c == category)
        .map_or("", |(_, zh)| zh)
}

/// `保洁`: the Chinese name of an expenditure category.
pub fn expense_category_zh(category: ExpenseCategory) -> &'static str {
    EXPENSE_CATEGORIES
        .iter()
        .find(|(c, _)| *c == category)
        .map_or("", |(_, zh)| zh)
}

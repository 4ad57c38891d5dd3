//! Each row checked by every rule, then built into an income body.
//!
//! The rules, in the order a row is checked (all of them, so that every
//! problem of a row is found in one pass over the file):
//! - a row has no more cells than the header; a row of empty cells is
//!   skipped (spreadsheets leave them at the end);
//! - 房号 unit: required; a totals row (合计, 小计, total) is refused, since
//!   importing it would count the month twice; otherwise the core's rule for
//!   a payer (a unit or business, never a phone or ID number);
//! - 金额 amount: the core's strict yuan grammar (`1280.50`, `1,280.50`;
//!   `12,8050` is refused), 0.01 yuan or more; a leading ¥ is allowed;
//! - 类别 category: an income category's Chinese name or code (default
//!   物业费 property_fee);
//! - 资金 fund: a fund of the ledger by id or name (default: by category);
//! - 缴费日期 date: `YYYY-MM-DD` or `YYYY/M/D`, 2000 or later, and not after
//!   tomorrow (today is UTC, and China is eight hours ahead);
//! - 所属月份 period: `YYYY-MM` or `YYYY/M` (default: the date's month);
//! - 备注 memo and everything else: the core's field rules
//!   ([`Body::check_fields`]).

use crate::columns::{Column, Layout};
use crate::income::{
    days_since_epoch, default_income_fund, income_category, income_category_zh, resolve_fund,
    UnknownFund,
};
use crate::{ImportError, ImportRow, LedgerInfo, FILE_ROWS_MAX, ROW_ERRORS_SHOWN_MAX};
use feeledger_core::entry::{Body, Content, Date, FormatError, Income, IncomeCategory, Month};
use feeledger_core::hash::sha256;
use feeledger_core::money::{parse_amount, AmountError};
use std::collections::HashMap;

/// How many days after today (UTC) a business date may be: one, because
/// the bookkeeper's day in China starts eight hours before UTC's.
pub const DAYS_AFTER_TODAY_MAX: i64 = 1;

/// Payers that are the totals line of a billing export, not a payment.
const TOTALS_ROW_NAMES: [&str; 6] = ["合计", "总计", "小计", "total", "subtotal", "sum"];

/// What the nonce of an imported row is derived from, before its fields:
/// names the derivation, so that another one can never collide with it.
pub const NONCE_DOMAIN: &str = "feeledger import row v1";

/// Imported rows' nonces start with this, so that a reader of the ledger
/// can tell an imported entry from a typed one.
pub const NONCE_PREFIX: &str = "csv-";

/// Hex digits of the row hash kept in the nonce (128 bits).
const NONCE_HEX_DIGITS: usize = 32;

/// Why one row is bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("这一行有 {found} 列，表头只有 {expected} 列 the row has {found} cells, the header {expected} (a comma in an amount needs quotes: \"1,280.50\")")]
    TooManyCells { found: usize, expected: usize },
    #[error("缺少{zh} {en} is empty", zh = column.zh(), en = column.en())]
    Missing { column: Column },
    #[error("金额错误 amount: {0}")]
    Amount(AmountError),
    #[error(
        "类别 \"{text}\" 不是收入类别 category {text:?} is not an income category; use one of: {}",
        category_list()
    )]
    Category { text: String },
    #[error("资金错误 fund: {0}")]
    Fund(UnknownFund),
    #[error("日期 \"{text}\" 无效 date {text:?} is not a date of 2000 or later; write YYYY-MM-DD, e.g. 2026-10-05")]
    Date { text: String },
    #[error("日期在今天之后 date {date} is after today ({today}, UTC)")]
    DateAfterToday { date: Date, today: Date },
    #[error("所属月份 \"{text}\" 无效 period {text:?} is not a month of 2000 or later; write YYYY-MM, e.g. 2026-10")]
    Period { text: String },
    #[error("这是合计行 \"{text}\" this is a totals row, not a payment: delete it, or the month is counted twice")]
    TotalsRow { text: String },
    #[error("{zh} {en}: {reason}", zh = column.zh(), en = column.en())]
    Field { column: Column, reason: String },
    #[error("{0}")]
    Body(FormatError),
}

impl RowProblem {
    /// A stable code for the problem, for an API answer and for the
    /// page's words (which are keyed by it, not by the message).
    pub fn code(&self) -> &'static str {
        match self {
            RowProblem::TooManyCells { .. } => "too_many_cells",
            RowProblem::Missing { .. } => "missing",
            RowProblem::Amount(AmountError::Syntax { .. }) => "amount_syntax",
            RowProblem::Amount(AmountError::Negative { .. }) => "amount_negative",
            RowProblem::Amount(AmountError::Zero { .. }) => "amount_zero",
            RowProblem::Amount(AmountError::TooLarge { .. }) => "amount_too_large",
            RowProblem::Category { .. } => "category",
            RowProblem::Fund(_) => "fund",
            RowProblem::Date { .. } => "date",
            RowProblem::DateAfterToday { .. } => "date_after_today",
            RowProblem::Period { .. } => "period",
            RowProblem::TotalsRow { .. } => "totals_row",
            RowProblem::Field { .. } => "field",
            RowProblem::Body(_) => "body",
        }
    }

    /// The column the problem is in, where one column is to blame.
    pub fn column(&self) -> Option<Column> {
        match self {
            RowProblem::Missing { column } | RowProblem::Field { column, .. } => Some(*column),
            RowProblem::Amount(_) => Some(Column::Amount),
            RowProblem::Category { .. } => Some(Column::Category),
            RowProblem::Fund(_) => Some(Column::Fund),
            RowProblem::Date { .. } | RowProblem::DateAfterToday { .. } => Some(Column::Date),
            RowProblem::Period { .. } => Some(Column::Period),
            RowProblem::TotalsRow { .. } => Some(Column::Unit),
            RowProblem::TooManyCells { .. } | RowProblem::Body(_) => None,
        }
    }
}

fn category_list() -> String {
    crate::income::INCOME_CATEGORY_NAMES
        .iter()
        .map(|(c, zh)| format!("{zh} {}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bad row: its line in the file and the first problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第 {line} 行 line {line}: {problem}")]
pub struct RowError {
    pub line: u64,
    pub problem: RowProblem,
}

/// A row that is allowed but often a mistake; the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowWarning {
    /// The fund is not the one the category usually goes to.
    UnusualFund {
        line: u64,
        category: IncomeCategory,
        fund: String,
        usual: &'static str,
    },
    /// The same payment as an earlier row, field for field. Both are
    /// recorded (two parking spaces, say), each with its own nonce.
    Identical { line: u64, first_line: u64 },
}

impl std::fmt::Display for RowWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowWarning::UnusualFund {
                line,
                category,
                fund,
                usual,
            } => write!(
                f,
                "第 {line} 行 line {line}: 资金与类别不符 {} {} usually goes to {usual}, not {fund}",
                income_category_zh(*category),
                category.as_str()
            ),
            RowWarning::Identical { line, first_line } => write!(
                f,
                "第 {line} 行 line {line}: 与第 {first_line} 行相同 the same as line {first_line}; both will be recorded"
            ),
        }
    }
}

/// The line a record starts on (the header is line 1), counted from its
/// byte offset: the reader's own line count is off by one after CRLF line
/// ends.
fn line_of(text: &str, record: &csv::StringRecord) -> u64 {
    let offset = record
        .position()
        .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
    // After a CRLF the reader puts a record's start at the LF.
    let bytes = text.as_bytes();
    let start = bytes
        .iter()
        .skip(offset)
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(bytes.len(), |skipped| offset + skipped);
    bytes[..start].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// A row's cell, trimmed; empty if the row is short.
fn cell<'a>(record: &'a csv::StringRecord, layout: &Layout, column: Column) -> &'a str {
    layout
        .index(column)
        .and_then(|i| record.get(i))
        .map_or("", str::trim)
}

/// Reads every row after the header.
pub(crate) fn read_rows(
    text: &str,
    ledger: &LedgerInfo<'_>,
    today: Date,
) -> Result<(Vec<ImportRow>, Vec<RowWarning>), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let csv_error = |e: csv::Error| ImportError::Csv {
        line: e.position().map_or(0, |p| p.line()),
        reason: e.to_string(),
    };
    let header = records
        .next()
        .ok_or(ImportError::Empty)?
        .map_err(csv_error)?;
    let layout = Layout::of_header(header.iter())?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut bad_rows = 0;
    let mut warnings = Vec::new();
    // Each distinct row's first line and how many times it has been seen.
    let mut seen: HashMap<[u8; 32], (u64, u64)> = HashMap::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        let line = line_of(text, &record);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() + bad_rows >= FILE_ROWS_MAX {
            return Err(ImportError::TooManyRows);
        }
        match check_row(&record, &layout, ledger, today) {
            Ok(income_row) => {
                let key = row_key(&income_row);
                let (first_line, count) = seen.entry(key).or_insert((line, 0));
                *count += 1;
                if *count > 1 {
                    warnings.push(RowWarning::Identical {
                        line,
                        first_line: *first_line,
                    });
                }
                let occurrence = *count;
                let usual = default_income_fund(income_row.income.category);
                if income_row.income.fund != usual
                    && income_row.income.category != IncomeCategory::Other
                {
                    warnings.push(RowWarning::UnusualFund {
                        line,
                        category: income_row.income.category,
                        fund: income_row.income.fund.clone(),
                        usual,
                    });
                }
                let body = Body {
                    ledger: ledger.origin.to_string(),
                    date: income_row.date,
                    nonce: row_nonce(&income_row, occurrence),
                    content: Content::Income(income_row.income),
                };
                match body.check_fields("$") {
                    Ok(()) => rows.push(ImportRow { line, body }),
                    Err(e) => {
                        bad_rows += 1;
                        if errors.len() < ROW_ERRORS_SHOWN_MAX {
                            errors.push(RowError {
                                line,
                                problem: field_problem(e),
                            });
                        }
                    }
                }
            }
            Err(problem) => {
                bad_rows += 1;
                if errors.len() < ROW_ERRORS_SHOWN_MAX {
                    errors.push(RowError { line, problem });
                }
            }
        }
    }
    if bad_rows > 0 {
        return Err(ImportError::Rows { errors, bad_rows });
    }
    if rows.is_empty() {
        return Err(ImportError::NoRows);
    }
    Ok((rows, warnings))
}

/// A row's fields, checked, before the nonce is derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeRow {
    pub date: Date,
    pub income: Income,
}

/// Checks one row against every rule but the core's field rules.
///
/// # Errors
/// The first problem found, in the order of the module's rules.
pub fn check_row(
    record: &csv::StringRecord,
    layout: &Layout,
    ledger: &LedgerInfo<'_>,
    today: Date,
) -> Result<IncomeRow, RowProblem> {
    if record.len() > layout.width {
        return Err(RowProblem::TooManyCells {
            found: record.len(),
            expected: layout.width,
        });
    }
    let get = |column| cell(record, layout, column);
    let required = |column| match get(column) {
        "" => Err(RowProblem::Missing { column }),
        text => Ok(text),
    };
    let payer = required(Column::Unit)?;
    if TOTALS_ROW_NAMES.contains(&payer.to_ascii_lowercase().as_str()) {
        return Err(RowProblem::TotalsRow {
            text: payer.to_string(),
        });
    }
    let amount = required(Column::Amount)?;
    let amount = amount
        .strip_prefix('¥')
        .or_else(|| amount.strip_prefix('￥'))
        .unwrap_or(amount);
    let amount_fen = parse_amount(amount).map_err(RowProblem::Amount)?;
    let category = match get(Column::Category) {
        "" => IncomeCategory::PropertyFee,
        text => income_category(text).ok_or_else(|| RowProblem::Category {
            text: text.to_string(),
        })?,
    };
    let fund = match get(Column::Fund) {
        "" => default_income_fund(category).to_string(),
        text => resolve_fund(text, ledger.funds).map_err(RowProblem::Fund)?,
    };
    let date_text = required(Column::Date)?;
    let date = parse_date(date_text).ok_or_else(|| RowProblem::Date {
        text: date_text.to_string(),
    })?;
    if days_since_epoch(date) - days_since_epoch(today) > DAYS_AFTER_TODAY_MAX {
        return Err(RowProblem::DateAfterToday { date, today });
    }
    let period = match get(Column::Period) {
        "" => date.month(),
        text => parse_period(text).ok_or_else(|| RowProblem::Period {
            text: text.to_string(),
        })?,
    };
    Ok(IncomeRow {
        date,
        income: Income {
            fund,
            amount_fen,
            category,
            payer: payer.to_string(),
            period,
            memo: get(Column::Memo).to_string(),
        },
    })
}

/// The column a core field error is about, for the message.
fn field_problem(e: FormatError) -> RowProblem {
    let column = match &e {
        FormatError::Field { path, .. } => match path.rsplit('.').next() {
            Some("payer") => Some(Column::Unit),
            Some("memo") => Some(Column::Memo),
            Some("fund") => Some(Column::Fund),
            _ => None,
        },
        _ => None,
    };
    match (column, e) {
        (Some(column), FormatError::Field { reason, .. }) => RowProblem::Field { column, reason },
        (_, e) => RowProblem::Body(e),
    }
}

/// `2026-10-05`, `2026/10/05` or `2026/10/5` (Excel's Chinese date format).
fn parse_date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    Date::parse(&format!("{year}-{:0>2}-{:0>2}", short(month)?, short(day)?))
}

/// `2026-10` or `2026/10`.
fn parse_period(text: &str) -> Option<Month> {
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let [year, month] = parts.as_slice() else {
        return None;
    };
    Month::parse(&format!("{year}-{:0>2}", short(month)?))
}

/// A month or day of one or two digits.
fn short(text: &str) -> Option<&str> {
    (matches!(text.len(), 1 | 2) && text.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

/// The row's canonical fields, each as its byte length, `:` and its bytes,
/// after the domain: the same payment gives the same bytes however the
/// file wrote it (`1,280.50` or `1280.5`, 物业费 or property_fee).
fn canonical_fields(row: &IncomeRow) -> Vec<u8> {
    let i = &row.income;
    let fields = [
        NONCE_DOMAIN.to_string(),
        i.payer.clone(),
        i.amount_fen.to_string(),
        i.category.as_str().to_string(),
        i.fund.clone(),
        row.date.to_string(),
        i.period.to_string(),
        i.memo.clone(),
    ];
    let mut bytes = Vec::new();
    for field in fields {
        bytes.extend_from_slice(field.len().to_string().as_bytes());
        bytes.push(b':');
        bytes.extend_from_slice(field.as_bytes());
    }
    bytes
}

fn row_key(row: &IncomeRow) -> [u8; 32] {
    sha256(&canonical_fields(row)).0
}

/// The nonce of an imported row: [`NONCE_PREFIX`], then the first 32 hex
/// digits of SHA-256 of the row's canonical fields followed by its
/// occurrence (`1` for the first row with these fields, `2` for the next
/// identical one, ...), written as the fields are. Importing the same file
/// again gives the same bodies, which the ledger refuses as replays; two
/// identical payments in one file stay two entries.
pub fn row_nonce(row: &IncomeRow, occurrence: u64) -> String {
    let mut bytes = canonical_fields(row);
    let occurrence = occurrence.to_string();
    bytes.extend_from_slice(occurrence.len().to_string().as_bytes());
    bytes.push(b':');
    bytes.extend_from_slice(occurrence.as_bytes());
    let hex = sha256(&bytes).to_hex();
    format!("{NONCE_PREFIX}{}", &hex[..NONCE_HEX_DIGITS])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_csv, Sheet};
    use feeledger_core::entry::FundDef;

    const ORIGIN: &str = "example.org/xingguang";

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

    fn today() -> Date {
        Date::parse("2026-10-31").unwrap()
    }

    fn read(text: &str) -> Result<Sheet, ImportError> {
        let funds = funds();
        let ledger = LedgerInfo {
            origin: ORIGIN,
            funds: &funds,
        };
        read_csv(text.as_bytes(), &ledger, today())
    }

    fn income(sheet: &Sheet, i: usize) -> &Income {
        match &sheet.rows[i].body.content {
            Content::Income(income) => income,
            other => panic!("not an income: {other:?}"),
        }
    }

    /// The one problem of a file with one bad row.
    fn problem(text: &str) -> RowError {
        match read(text) {
            Err(ImportError::Rows {
                mut errors,
                bad_rows,
            }) => {
                assert_eq!((bad_rows, errors.len()), (1, 1), "{errors:?}");
                errors.remove(0)
            }
            other => panic!("one bad row expected: {other:?}"),
        }
    }

    const HEADER: &str = "房号,金额,类别,缴费日期,所属月份,备注,资金\n";

    /// A row becomes the body `propose income` builds: the amount in fen,
    /// the category's default fund, the period from the date.
    #[test]
    fn a_row_becomes_an_income_body() {
        let sheet = read(&format!(
            "{HEADER}3-1502,\"1,280.50\",物业费,2026/10/5,,十月物业费,\n3-1502,300,停车费,2026-10-05,2026-11,,\n"
        ))
        .unwrap();
        assert_eq!(sheet.rows[0].line, 2);
        assert_eq!(sheet.rows[0].body.date, Date::parse("2026-10-05").unwrap());
        assert_eq!(sheet.rows[0].body.ledger, ORIGIN);
        assert!(sheet.rows[0].body.nonce.starts_with(NONCE_PREFIX));
        let fee = income(&sheet, 0);
        assert_eq!(
            (
                fee.amount_fen,
                fee.fund.as_str(),
                fee.period.to_string(),
                fee.memo.as_str()
            ),
            (128_050, "operating", "2026-10".into(), "十月物业费")
        );
        let parking = income(&sheet, 1);
        assert_eq!(parking.fund, "public_revenue");
        assert_eq!(parking.category, IncomeCategory::Parking);
        assert_eq!(parking.period.to_string(), "2026-11");
        let totals = sheet.totals().unwrap();
        assert_eq!(totals.total_fen, 158_050);
        assert_eq!(totals.by_fund["public_revenue"], (1, 30_000));
        assert_eq!(
            totals.by_category[&IncomeCategory::PropertyFee],
            (1, 128_050)
        );
    }

    /// The same row gives the same nonce however it is written, a
    /// different row another, and a repeated row a nonce of its own (with
    /// a warning).
    #[test]
    fn nonces_follow_the_content() {
        let a = read(&format!(
            "{HEADER}3-1502,1280.5,property_fee,2026-10-05,2026-10,,operating\n"
        ))
        .unwrap();
        let b = read(&format!(
            "{HEADER}3-1502,\"1,280.50\",物业费,2026/10/5,,,\n"
        ))
        .unwrap();
        assert_eq!(a.rows[0].body, b.rows[0].body);
        let c = read(&format!(
            "{HEADER}3-1503,\"1,280.50\",物业费,2026/10/5,,,\n"
        ))
        .unwrap();
        assert_ne!(a.rows[0].body.nonce, c.rows[0].body.nonce);
        let twice = read(&format!(
            "{HEADER}3-1502,300,停车费,2026-10-05,,,\n3-1502,300,停车费,2026-10-05,,,\n"
        ))
        .unwrap();
        assert_ne!(twice.rows[0].body.nonce, twice.rows[1].body.nonce);
        assert_eq!(
            twice.warnings,
            vec![RowWarning::Identical {
                line: 3,
                first_line: 2
            }]
        );
    }

    /// Amounts go through the core's strict grammar: grouped thousands and
    /// a ¥ pass, a misplaced comma, a minus sign and zero are refused with
    /// the line.
    #[test]
    fn amounts_are_strict_yuan() {
        let ok = read(&format!("{HEADER}3-1502,¥1280,,2026-10-05,,,\n")).unwrap();
        assert_eq!(income(&ok, 0).amount_fen, 128_000);
        for bad in ["\"12,8050\"", "-5", "0", "12.345", "1e3"] {
            let err = problem(&format!("{HEADER}3-1502,{bad},,2026-10-05,,,\n"));
            assert_eq!(err.line, 2);
            assert!(matches!(err.problem, RowProblem::Amount(_)), "{bad}: {err}");
            assert!(
                err.to_string().starts_with("第 2 行 line 2: 金额错误"),
                "{err}"
            );
        }
        // Unquoted, the comma splits the amount: the row has a cell too many.
        let err = problem("房号,金额,缴费日期\n3-1502,1,280.50,2026-10-05\n");
        assert!(
            matches!(
                err.problem,
                RowProblem::TooManyCells {
                    found: 4,
                    expected: 3
                }
            ),
            "{err}"
        );
    }

    /// Required cells, categories, funds, dates and periods each have
    /// their rule.
    #[test]
    fn every_field_has_its_rule() {
        type Case = (&'static str, fn(&RowProblem) -> bool);
        let cases: [Case; 9] = [
            (",100,,2026-10-05,,,", |p| {
                matches!(
                    p,
                    RowProblem::Missing {
                        column: Column::Unit
                    }
                )
            }),
            ("3-1502,,,2026-10-05,,,", |p| {
                matches!(
                    p,
                    RowProblem::Missing {
                        column: Column::Amount
                    }
                )
            }),
            ("3-1502,100,,,,,", |p| {
                matches!(
                    p,
                    RowProblem::Missing {
                        column: Column::Date
                    }
                )
            }),
            ("3-1502,100,保洁,2026-10-05,,,", |p| {
                matches!(p, RowProblem::Category { .. })
            }),
            ("3-1502,100,,2026-10-05,,,维修", |p| {
                matches!(p, RowProblem::Fund(_))
            }),
            ("3-1502,100,,2026-02-30,,,", |p| {
                matches!(p, RowProblem::Date { .. })
            }),
            ("3-1502,100,,2026-11-02,,,", |p| {
                matches!(p, RowProblem::DateAfterToday { .. })
            }),
            ("3-1502,100,,2026-10-05,2026-13,,", |p| {
                matches!(p, RowProblem::Period { .. })
            }),
            ("合计,100,,2026-10-05,,,", |p| {
                matches!(p, RowProblem::TotalsRow { .. })
            }),
        ];
        for (row, expected) in cases {
            let err = problem(&format!("{HEADER}{row}\n"));
            assert!(expected(&err.problem), "{row}: {err}");
            assert_eq!(err.line, 2, "{row}");
        }
        // Tomorrow (UTC) is allowed: it is already today in China.
        assert!(read(&format!("{HEADER}3-1502,100,,2026-11-01,,,\n")).is_ok());
    }

    /// The core's field rules apply: a phone number as payer is refused and
    /// named as the unit column.
    #[test]
    fn core_field_rules_apply() {
        let err = problem(&format!("{HEADER}13812345678,100,,2026-10-05,,,\n"));
        assert!(
            matches!(
                err.problem,
                RowProblem::Field {
                    column: Column::Unit,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("phone"), "{err}");
        let long_memo = "备".repeat(400);
        let err = problem(&format!("{HEADER}3-1502,100,,2026-10-05,,{long_memo},\n"));
        assert!(
            matches!(
                err.problem,
                RowProblem::Field {
                    column: Column::Memo,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// Every bad row is counted, the first ones named by line, and blank
    /// rows and CRLF line ends are read as Excel writes them.
    #[test]
    fn all_bad_rows_are_listed() {
        let mut text = String::from("房号,金额,缴费日期\r\n");
        for i in 0..30 {
            text.push_str(&format!("3-{i:04},abc,2026-10-05\r\n"));
        }
        text.push_str(",,\r\n");
        match read(&text) {
            Err(ImportError::Rows { errors, bad_rows }) => {
                assert_eq!(bad_rows, 30);
                assert_eq!(errors.len(), ROW_ERRORS_SHOWN_MAX);
                assert_eq!(errors[0].line, 2);
                assert_eq!(errors[19].line, 21);
                let message = ImportError::Rows { errors, bad_rows }.to_string();
                assert!(message.contains("and 10 more"), "{message}");
            }
            other => panic!("bad rows expected: {other:?}"),
        }
        let sheet = read("房号,金额,缴费日期\r\n3-1502,100,2026-10-05\r\n,,\r\n\r\n").unwrap();
        assert_eq!(sheet.rows.len(), 1);
    }

    /// A file is bounded in bytes and rows, and needs a row.
    #[test]
    fn files_are_bounded() {
        assert_eq!(
            read("房号,金额,缴费日期\n").unwrap_err(),
            ImportError::NoRows
        );
        assert_eq!(read("  \n").unwrap_err(), ImportError::Empty);
        let mut text = String::from("房号,金额,缴费日期\n");
        for i in 0..=FILE_ROWS_MAX {
            text.push_str(&format!("{}-{},1,2026-10-05\n", i / 1000, i % 1000));
        }
        assert_eq!(read(&text).unwrap_err(), ImportError::TooManyRows);
        let huge = vec![b'a'; crate::FILE_BYTES_MAX + 1];
        assert!(matches!(
            read(std::str::from_utf8(&huge).unwrap()),
            Err(ImportError::TooLarge { .. })
        ));
    }

    /// A fund other than the category's usual one is recorded, with a
    /// warning for the preview.
    #[test]
    fn unusual_funds_are_warned() {
        let sheet = read(&format!(
            "{HEADER}3-1502,300,停车费,2026-10-05,,,operating\n"
        ))
        .unwrap();
        assert_eq!(income(&sheet, 0).fund, "operating");
        assert!(matches!(
            sheet.warnings.as_slice(),
            [RowWarning::UnusualFund {
                line: 2,
                usual: "public_revenue",
                ..
            }]
        ));
    }
}

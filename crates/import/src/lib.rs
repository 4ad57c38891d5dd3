//! A month of fee payments from a spreadsheet: a CSV file's bytes become
//! checked income bodies, one per row. It performs no I/O and reads no
//! clock: the file's bytes, the ledger's origin and funds, and today's date
//! are passed in, and bodies come out for the caller to sign and record.
//!
//! The steps, each its own module:
//! - [`decode`]: bytes to text (UTF-8, UTF-8 with a BOM, GBK), or an error
//!   saying how to save the file from Excel;
//! - [`columns`]: the header row, Chinese or English names;
//! - [`rows`]: each row checked by every rule (amounts through the core's
//!   strict yuan grammar), and built into the body `feeledger propose
//!   income` would build, with a nonce derived from the row's content;
//! - [`income`]: the rules an income follows however it is entered
//!   (default fund by category, fund names), shared with `propose`;
//! - [`batch`]: the rule of a batch of signed incomes, checked against the
//!   ledger's state before one group commit (the CLI with `--data`, and the
//!   server's `POST /api/v1/proposals/batch`).
//!
//! Nothing is partial: [`read_csv`] returns every row, or an error listing
//! the bad rows by line number, and the caller records nothing then.
//!
//! ```
//! use feeledger_core::entry::{Date, FundDef};
//! use feeledger_import::{read_csv, LedgerInfo};
//!
//! let funds = [("operating", "物业服务费"), ("public_revenue", "公共收益"), ("maintenance", "专项维修资金")]
//!     .map(|(id, name)| FundDef { id: id.into(), name: name.into() });
//! let ledger = LedgerInfo { origin: "example.org/xingguang", funds: &funds };
//! let csv = "房号,金额,类别,缴费日期\n3-1502,\"1,280.50\",物业费,2026-10-05\n3-1502,300,停车费,2026-10-05\n";
//! let sheet = read_csv(csv.as_bytes(), &ledger, Date::parse("2026-10-31").unwrap()).unwrap();
//! assert_eq!(sheet.rows.len(), 2);
//! assert_eq!(sheet.totals().unwrap().total_fen, 158_050);
//! ```

pub mod batch;
pub mod columns;
pub mod decode;
pub mod income;
pub mod rows;

pub use columns::Column;
pub use decode::Encoding;
pub use rows::{RowError, RowProblem, RowWarning};

use feeledger_core::entry::{Body, Content, Date, FundDef, IncomeCategory};
use std::collections::BTreeMap;

/// Largest file read: a month of a large community's payments is tens of
/// kilobytes; a bound keeps a wrong file (a database dump) from being read.
pub const FILE_BYTES_MAX: usize = 512 * 1024;

/// Most rows in one file. All of them are recorded in one group commit and,
/// over `--url`, sent in one request, which must stay under the server's
/// request limit (a row signed by one key is about 450 bytes).
pub const FILE_ROWS_MAX: usize = 2_000;

/// Most bad rows named in an error; the count of all of them is given too.
pub const ROW_ERRORS_SHOWN_MAX: usize = 20;

/// How to save a file that cannot be read, in the words of Excel's menus.
pub const SAVE_AS_CSV_UTF8: &str = "在 Excel 中选择 文件 → 另存为 → \"CSV UTF-8 (逗号分隔)\" (File → Save As → CSV UTF-8 (Comma delimited))";

/// Why a file cannot be imported. Nothing is recorded on any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("文件为空 the file is empty: it needs a header row (房号,金额,类别,缴费日期, ...) and one row per payment")]
    Empty,
    #[error("文件太大 the file is {bytes} bytes; the limit is {max} bytes: split the month into several files", max = FILE_BYTES_MAX)]
    TooLarge { bytes: u64 },
    #[error("文件编码无法识别 the file is neither UTF-8 nor GBK (byte {offset_bytes} is neither); {SAVE_AS_CSV_UTF8}")]
    Encoding { offset_bytes: usize },
    #[error("文件是 UTF-16 (Excel 的\"Unicode 文本\") the file is UTF-16 text, not CSV; {SAVE_AS_CSV_UTF8}")]
    Utf16,
    #[error("这是 Excel 工作簿，不是 CSV the file is an Excel workbook (.xlsx or .xls), not CSV; {SAVE_AS_CSV_UTF8}")]
    Workbook,
    #[error("第 {line} 行 line {line}: the CSV does not parse ({reason}); {SAVE_AS_CSV_UTF8}")]
    Csv { line: u64, reason: String },
    #[error("表头第 {column_number} 列 \"{text}\" 无法识别 header column {column_number} {text:?} is not a known column; the first line must be the header, with columns {}", columns::known_columns())]
    UnknownColumn { column_number: usize, text: String },
    #[error("表头 \"{text}\" 重复 the header names column {text:?} twice")]
    DuplicateColumn { text: String },
    #[error("缺少 \"{zh}\" 列 the header has no {en} column ({zh}/{en}); columns are {}", columns::known_columns(), zh = column.zh(), en = column.en())]
    MissingColumn { column: Column },
    #[error("没有缴费记录 the file has a header but no rows")]
    NoRows,
    #[error("行数太多 the file has more than {max} rows; split the month into several files", max = FILE_ROWS_MAX)]
    TooManyRows,
    #[error("{bad_rows} 行有误，未记入任何一行 {bad_rows} bad row(s), nothing recorded: {}{}", list_rows(errors), more_rows(*bad_rows, errors.len()))]
    Rows {
        /// The first [`ROW_ERRORS_SHOWN_MAX`] bad rows, in file order.
        errors: Vec<RowError>,
        /// How many rows are bad in all.
        bad_rows: usize,
    },
    #[error("合计溢出 the file's total overflows")]
    TotalOverflow,
}

impl ImportError {
    /// A stable code for the error, for an API answer and for the page's
    /// words (which are keyed by it, not by the message).
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty",
            ImportError::TooLarge { .. } => "too_large",
            ImportError::Encoding { .. } => "encoding",
            ImportError::Utf16 => "utf16",
            ImportError::Workbook => "workbook",
            ImportError::Csv { .. } => "csv",
            ImportError::UnknownColumn { .. } => "unknown_column",
            ImportError::DuplicateColumn { .. } => "duplicate_column",
            ImportError::MissingColumn { .. } => "missing_column",
            ImportError::NoRows => "no_rows",
            ImportError::TooManyRows => "too_many_rows",
            ImportError::Rows { .. } => "bad_rows",
            ImportError::TotalOverflow => "total_overflow",
        }
    }
}

fn list_rows(errors: &[RowError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn more_rows(bad_rows: usize, shown: usize) -> String {
    match bad_rows.saturating_sub(shown) {
        0 => String::new(),
        more => format!("; 另有 {more} 行 and {more} more"),
    }
}

/// What the import needs to know of the ledger.
#[derive(Debug, Clone, Copy)]
pub struct LedgerInfo<'a> {
    /// The ledger's origin, which every body names.
    pub origin: &'a str,
    /// The ledger's funds, by which a row's fund is named.
    pub funds: &'a [FundDef],
}

/// One row, checked and built into a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// The income body, exactly as `feeledger propose income` builds it,
    /// with the nonce derived from the row ([`rows::row_nonce`]).
    pub body: Body,
}

/// A whole file, every row checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub encoding: Encoding,
    pub rows: Vec<ImportRow>,
    /// Rows that are allowed but often a mistake, for the preview.
    pub warnings: Vec<RowWarning>,
}

/// Counts and sums, in fen, for the preview.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub rows: u64,
    pub total_fen: u64,
    /// Rows and fen per fund id.
    pub by_fund: BTreeMap<String, (u64, u64)>,
    /// Rows and fen per category.
    pub by_category: BTreeMap<IncomeCategory, (u64, u64)>,
}

impl Totals {
    /// The totals of some income bodies (other kinds are not counted).
    ///
    /// # Errors
    /// [`ImportError::TotalOverflow`] if a sum overflows `u64` fen.
    pub fn of<'a>(bodies: impl IntoIterator<Item = &'a Body>) -> Result<Totals, ImportError> {
        let mut totals = Totals::default();
        for body in bodies {
            let Content::Income(income) = &body.content else {
                continue;
            };
            let add = |(rows, fen): &mut (u64, u64)| -> Result<(), ImportError> {
                *rows += 1;
                *fen = fen
                    .checked_add(income.amount_fen)
                    .ok_or(ImportError::TotalOverflow)?;
                Ok(())
            };
            add(totals.by_fund.entry(income.fund.clone()).or_default())?;
            add(totals.by_category.entry(income.category).or_default())?;
            let mut all = (totals.rows, totals.total_fen);
            add(&mut all)?;
            (totals.rows, totals.total_fen) = all;
        }
        Ok(totals)
    }
}

impl Sheet {
    /// The totals of every row.
    ///
    /// # Errors
    /// As [`Totals::of`].
    pub fn totals(&self) -> Result<Totals, ImportError> {
        Totals::of(self.rows.iter().map(|r| &r.body))
    }
}

/// Reads a CSV file's bytes into checked bodies, one per row; `today` is
/// the date (UTC) the import runs on, against which business dates are
/// checked.
///
/// # Errors
/// [`ImportError`]: the file's size, encoding or header, or every bad row
/// (up to [`ROW_ERRORS_SHOWN_MAX`] named, all counted).
pub fn read_csv(bytes: &[u8], ledger: &LedgerInfo<'_>, today: Date) -> Result<Sheet, ImportError> {
    if bytes.len() > FILE_BYTES_MAX {
        return Err(ImportError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    let (text, encoding) = decode::decode(bytes)?;
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let (rows, warnings) = rows::read_rows(&text, ledger, today)?;
    Ok(Sheet {
        encoding,
        rows,
        warnings,
    })
}

//! The header row: which column holds what. Names are matched after
//! trimming spaces and lower-casing ASCII; a column that is not known is
//! refused rather than ignored, so that a misspelt 备注 is not dropped
//! without a word.

use crate::ImportError;

/// A column of the import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// 房号: the unit (3-1502) or the business that paid.
    Unit,
    /// 金额: yuan, `1280.50` or `1,280.50`.
    Amount,
    /// 类别: an income category (default 物业费 property_fee).
    Category,
    /// 缴费日期: the business date, `2026-10-05` or `2026/10/5`.
    Date,
    /// 所属月份: the period paid for (default: the month of the date).
    Period,
    /// 备注: free text.
    Memo,
    /// 资金: the fund (default: by category).
    Fund,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Unit,
        Column::Amount,
        Column::Category,
        Column::Date,
        Column::Period,
        Column::Memo,
        Column::Fund,
    ];

    /// The Chinese name the docs and sample file use: 房号.
    pub fn zh(self) -> &'static str {
        self.names()[0]
    }

    /// The English name: `unit`.
    pub fn en(self) -> &'static str {
        self.names()[1]
    }

    /// Whether a file must have this column. The date is required so that
    /// a row means the same body whenever it is imported: a default of
    /// "today" would make the same file record twice on two days.
    pub fn required(self) -> bool {
        matches!(self, Column::Unit | Column::Amount | Column::Date)
    }

    /// Every header accepted for the column: the Chinese name, the English
    /// name, then the names billing systems commonly export.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Column::Unit => &["房号", "unit", "payer", "房间号", "房屋", "付款方"],
            Column::Amount => &[
                "金额",
                "amount",
                "金额(元)",
                "金额（元）",
                "实收金额",
                "amount (yuan)",
            ],
            Column::Category => &["类别", "category", "收费项目"],
            Column::Date => &["缴费日期", "date", "日期", "收款日期"],
            Column::Period => &["所属月份", "period", "所属期间", "month"],
            Column::Memo => &["备注", "memo", "note"],
            Column::Fund => &["资金", "fund", "基金"],
        }
    }

    fn of_header(text: &str) -> Option<Column> {
        let wanted = text.trim().to_ascii_lowercase();
        Column::ALL
            .into_iter()
            .find(|c| c.names().iter().any(|n| *n == wanted))
    }
}

/// `房号/unit, 金额/amount, ...`, for messages.
pub fn known_columns() -> String {
    Column::ALL
        .iter()
        .map(|c| format!("{}/{}", c.zh(), c.en()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where each column is in the file's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The file's column index of each [`Column`], in `Column::ALL` order.
    index: [Option<usize>; 7],
    /// How many columns the header has.
    pub width: usize,
}

impl Layout {
    /// Reads the header row.
    ///
    /// # Errors
    /// An unknown or repeated column, or a required one missing.
    pub fn of_header<'a>(cells: impl IntoIterator<Item = &'a str>) -> Result<Layout, ImportError> {
        let mut index = [None; 7];
        let mut width = 0;
        for (i, cell) in cells.into_iter().enumerate() {
            width = i + 1;
            let column = Column::of_header(cell).ok_or_else(|| ImportError::UnknownColumn {
                column_number: i + 1,
                text: cell.trim().to_string(),
            })?;
            let slot = &mut index[column as usize];
            if slot.is_some() {
                return Err(ImportError::DuplicateColumn {
                    text: cell.trim().to_string(),
                });
            }
            *slot = Some(i);
        }
        if let Some(missing) = Column::ALL
            .into_iter()
            .find(|c| c.required() && index[*c as usize].is_none())
        {
            return Err(ImportError::MissingColumn { column: missing });
        }
        Ok(Layout { index, width })
    }

    /// The column's index in a row, if the file has it.
    pub fn index(&self, column: Column) -> Option<usize> {
        self.index[column as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinese and English headers, in any order and case, find their
    /// columns; optional ones may be left out.
    #[test]
    fn reads_chinese_and_english_headers() {
        let layout = Layout::of_header(["缴费日期", " Amount ", "房号", "备注"]).unwrap();
        assert_eq!(layout.index(Column::Date), Some(0));
        assert_eq!(layout.index(Column::Amount), Some(1));
        assert_eq!(layout.index(Column::Unit), Some(2));
        assert_eq!(layout.index(Column::Memo), Some(3));
        assert_eq!(layout.index(Column::Fund), None);
        assert_eq!(layout.width, 4);
        let english = Layout::of_header([
            "unit", "amount", "category", "date", "period", "memo", "fund",
        ]);
        assert_eq!(english.unwrap().index(Column::Fund), Some(6));
    }

    /// An unknown, repeated or missing column is named.
    #[test]
    fn refuses_bad_headers() {
        let err = Layout::of_header(["房号", "金额", "缴费日期", "备忘"]).unwrap_err();
        assert_eq!(
            err,
            ImportError::UnknownColumn {
                column_number: 4,
                text: "备忘".into()
            }
        );
        assert!(err.to_string().contains("备注/memo"), "{err}");
        let err = Layout::of_header(["房号", "金额", "unit", "date"]).unwrap_err();
        assert_eq!(
            err,
            ImportError::DuplicateColumn {
                text: "unit".into()
            }
        );
        let err = Layout::of_header(["房号", "金额"]).unwrap_err();
        assert_eq!(
            err,
            ImportError::MissingColumn {
                column: Column::Date
            }
        );
        assert!(err.to_string().contains("缴费日期"), "{err}");
    }
}

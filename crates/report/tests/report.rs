//! The report library on a real sled store: the exports of a small ledger
//! (incomes, a spending and a reversal) in each format, their typed errors,
//! and the descriptions a bookkeeper reads.

use feeledger_audit::{Leaves, LedgerView, ViewError};
use feeledger_core::entry::{
    Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, Reversal,
};
use feeledger_core::fixtures::{self, COMMITTEE, COMPANY};
use feeledger_core::hash::Hash;
use feeledger_core::state::LedgerState;
use feeledger_report::describe::{format_time_ms, kind_and_amount, proposal_echo};
use feeledger_report::{write_csv, write_hledger, write_json, ExportError, CSV_COLUMNS};
use feeledger_store::{EntryFilter, Proposal, Store, Submission};
use std::sync::Arc;

const ORIGIN: &str = "report.example/ledger";

/// A spending of 120.50 yuan on cleaning from the operating fund.
fn cleaning(nonce: &str) -> (Body, Vec<EntrySignature>) {
    let body = Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 2,
            day: 5,
        },
        nonce: nonce.into(),
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: 12_050,
            category: ExpenseCategory::Cleaning,
            payee: "洁净保洁公司".into(),
            memo: "二月保洁".into(),
            attachments: Vec::new(),
            owners_approval: None,
        }),
    };
    let signatures = fixtures::sign_with(&body, &[COMPANY, COMMITTEE]);
    (body, signatures)
}

/// The reversal of entry `target_seq`.
fn reversal(target_seq: u64) -> (Body, Vec<EntrySignature>) {
    let body = Body {
        ledger: ORIGIN.into(),
        date: Date {
            year: 2026,
            month: 2,
            day: 6,
        },
        nonce: "rev".into(),
        content: Content::Reversal(Reversal {
            target_seq,
            reason: "重复录入".into(),
        }),
    };
    let signatures = fixtures::sign_with(&body, &[COMPANY, COMMITTEE]);
    (body, signatures)
}

/// | seq | entry                                   |
/// |-----|-----------------------------------------|
/// | 0   | genesis                                 |
/// | 1   | property fee 300.00 into operating      |
/// | 2   | property fee 300.00 into operating      |
/// | 3   | cleaning 120.50 from operating          |
/// | 4   | reversal of entry 2                     |
///
/// Operating ends at 300.00 - 120.50 = 179.50.
fn ledger(dir: &std::path::Path) -> Store {
    let log_signer = fixtures::log_signer(ORIGIN);
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "报表小区")]).remove(0);
    let store = Store::create(dir, &genesis, &log_signer).unwrap();
    let batch = [
        fixtures::property_fee(ORIGIN, "fee-1"),
        fixtures::property_fee(ORIGIN, "fee-2"),
        cleaning("clean-1"),
        reversal(2),
    ]
    .into_iter()
    .map(|(body, signatures)| Submission { body, signatures })
    .collect();
    for committed in store.append_batch(batch, 10, &log_signer).unwrap() {
        committed.unwrap();
    }
    assert_eq!(store.state().balances()["operating"], 17_950);
    store
}

fn export(
    store: &dyn LedgerView,
    write: fn(&dyn LedgerView, &mut dyn std::io::Write) -> Result<(), ExportError>,
) -> String {
    let mut out = Vec::new();
    write(store, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Proves that the hledger journal declares the commodity, tags the
/// reversed entry and its reversal, and asserts the operating fund's
/// running balance, ending at the ledger's 179.50.
#[test]
fn hledger_journal_ends_at_the_ledgers_balances() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let journal = export(&store, write_hledger);
    assert!(journal.contains("\ncommodity 1,000.00 CNY\n"), "{journal}");
    assert!(journal.contains("seq:2, kind:income"), "{journal}");
    assert!(journal.contains(", reversed_by:4\n"), "{journal}");
    assert!(
        journal.contains("reversal of entry 2: 重复录入"),
        "{journal}"
    );
    assert!(journal.contains(", reverses:2\n"), "{journal}");
    let operating: Vec<&str> = journal
        .lines()
        .filter(|l| l.trim_start().starts_with("assets:funds:operating"))
        .collect();
    let last = operating.last().expect("operating postings");
    assert!(last.ends_with("= 179.50 CNY"), "{last}");
}

/// Proves that the CSV export has the header and one quoted row per entry,
/// CRLF-terminated, with exact amounts in fen and yuan, and that a
/// reversal row repeats its target's money columns and names it.
#[test]
fn csv_has_a_row_per_entry_with_exact_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let csv = export(&store, write_csv);
    assert!(csv.ends_with("\r\n"), "{csv}");
    let rows: Vec<Vec<&str>> = csv
        .split_terminator("\r\n")
        .map(|line| {
            line.strip_prefix('"')
                .and_then(|l| l.strip_suffix('"'))
                .unwrap()
                .split("\",\"")
                .collect()
        })
        .collect();
    assert_eq!(rows[0], CSV_COLUMNS);
    assert_eq!(rows.len(), 1 + 5, "{csv}");
    let column = |row: usize, name: &str| {
        let i = CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        rows[row][i]
    };
    assert_eq!(column(4, "kind"), "expenditure");
    assert_eq!(column(4, "amount_fen"), "12050");
    assert_eq!(column(4, "amount_yuan"), "120.50");
    assert_eq!(column(4, "party"), "洁净保洁公司");
    assert_eq!(column(3, "reversed_by"), "4");
    assert_eq!(column(5, "reverses"), "2");
    assert_eq!(column(5, "amount_fen"), "30000");
    assert_eq!(column(5, "memo"), "重复录入");
    assert_eq!(column(5, "signers"), "cm;co");
}

/// Proves that the JSON export parses, lists every entry with its seq and
/// reversal link, and ends with the ledger's balances in fen.
#[test]
fn json_lists_every_entry_and_the_balances() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let json: serde_json::Value = serde_json::from_str(&export(&store, write_json)).unwrap();
    assert_eq!(json["size"], 5);
    assert_eq!(json["entries"].as_array().unwrap().len(), 5);
    assert_eq!(json["entries"][2]["seq"], 2);
    assert_eq!(json["entries"][2]["reversed_by"], 4);
    assert_eq!(json["entries"][3]["reversed_by"], serde_json::Value::Null);
    assert_eq!(json["balances_fen"]["operating"], 17_950);
}

/// A store that hides one entry, as a damaged one might.
struct Hiding<'a> {
    store: &'a Store,
    hidden_seq: u64,
}

impl LedgerView for Hiding<'_> {
    fn state(&self) -> Arc<LedgerState> {
        LedgerView::state(self.store)
    }
    fn size(&self) -> u64 {
        LedgerView::size(self.store)
    }
    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, ViewError> {
        if seq == self.hidden_seq {
            return Ok(None);
        }
        LedgerView::leaf_bytes(self.store, seq)
    }
    fn leaves(&self) -> Leaves<'_> {
        let hidden = self.hidden_seq;
        Box::new(
            LedgerView::leaves(self.store)
                .filter(move |item| !matches!(item, Ok((seq, _)) if *seq == hidden)),
        )
    }
    fn list_newest_first(
        &self,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, ViewError> {
        self.store.list_newest_first(filter, limit)
    }
    fn reversed_by(&self, seq: u64) -> Result<Option<u64>, ViewError> {
        LedgerView::reversed_by(self.store, seq)
    }
    fn proposals(&self) -> Result<Vec<Proposal>, ViewError> {
        LedgerView::proposals(self.store)
    }
    fn latest_checkpoint(&self) -> Result<Vec<u8>, ViewError> {
        LedgerView::latest_checkpoint(self.store)
    }
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, ViewError> {
        LedgerView::inclusion_proof(self.store, seq, size)
    }
}

/// Proves that an entry missing from the ledger stops every export with a
/// typed error naming it, whether it is met in order (CSV, JSON) or read
/// by seq as a reversal's target (the journal's second pass).
#[test]
fn a_missing_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    for (hidden_seq, write) in [
        (
            3,
            write_csv as fn(&dyn LedgerView, &mut dyn std::io::Write) -> _,
        ),
        (3, write_json),
        (2, write_hledger),
    ] {
        let hiding = Hiding {
            store: &store,
            hidden_seq,
        };
        let error = write(&hiding, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(error, ExportError::Missing { seq } if seq == hidden_seq),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("entry {hidden_seq} is missing from the store")
        );
    }
}

/// A writer that always fails, as a full disk does.
struct Full;

impl std::io::Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("no space left"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Proves that a failing output is a typed write error carrying the I/O
/// error, for each format.
#[test]
fn a_failing_writer_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    for write in [
        write_csv as fn(&dyn LedgerView, &mut dyn std::io::Write) -> _,
        write_json,
        write_hledger,
    ] {
        let error = write(&store, &mut Full).unwrap_err();
        assert!(matches!(error, ExportError::Write(_)), "{error:?}");
        assert_eq!(error.to_string(), "no space left");
    }
}

/// Proves that times are shown in UTC to the second, across the epoch and
/// a leap day.
#[test]
fn times_are_utc_dates_and_seconds() {
    assert_eq!(format_time_ms(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_time_ms(1_709_251_199_999), "2024-02-29T23:59:59Z");
    assert_eq!(format_time_ms(1_770_105_909_000), "2026-02-03T08:05:09Z");
}

/// Terminal columns of `text`, CJK counted as two.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| if c >= '\u{2E80}' { 2 } else { 1 })
        .sum()
}

/// Proves that the echo of a property fee says, Chinese first, the kind,
/// the amount in yuan (grouped and as typed), the fund, category, payer,
/// period and date, each value starting at the same terminal column.
#[test]
fn proposal_echo_is_chinese_first_and_aligned() {
    let (body, _) = fixtures::property_fee(ORIGIN, "fee-1");
    let (genesis, _) = fixtures::two_role_genesis(ORIGIN, "报表小区");
    let Content::Genesis(genesis) = genesis.content else {
        unreachable!("a genesis")
    };
    assert_eq!(kind_and_amount(&body), "收入 income ¥300.00");
    let echo = proposal_echo(&body, &genesis.funds, None);
    let values = [
        ("类型 kind:", "收入 income"),
        ("金额 amount:", "¥300.00 (300.00 元)"),
        ("资金 fund:", "operating (operating)"),
        ("类别 category:", "物业费 property_fee"),
        ("付款方 payer:", "3-1502"),
        ("所属期 period:", "2026-02"),
        ("业务日期 date:", "2026-02-03"),
    ];
    let lines: Vec<&str> = echo.lines().collect();
    assert_eq!(lines.len(), values.len(), "{echo}");
    for (line, (label, value)) in lines.iter().zip(values) {
        let (before, after) = line.split_at(line.find(value).unwrap_or(0));
        assert_eq!(after, value, "{echo}");
        assert_eq!(before.trim(), label, "{echo}");
        assert_eq!(columns(before), 2 + 26, "{echo}");
    }
}

//! The notice-board statement on a real sled store: a month's figures
//! (opening balances, income with arrears told apart, spending, transfers,
//! reversals, entries after the month left out), the balance identity per
//! fund, the digest, and the rendered page.

use feeledger_core::entry::{
    Body, Content, Date, EntrySignature, Expenditure, ExpenseCategory, Income, IncomeCategory,
    Month, Reversal, Transfer,
};
use feeledger_core::fixtures::{self, COMMITTEE, COMPANY};
use feeledger_report::statement::{Lang, Period, Statement, ARREARS_CATEGORY};
use feeledger_store::{Store, Submission};

const ORIGIN: &str = "statement.example/ledger";

fn date(month: u8, day: u8) -> Date {
    Date {
        year: 2026,
        month,
        day,
    }
}

fn signed(body: Body) -> (Body, Vec<EntrySignature>) {
    let signatures = fixtures::sign_with(&body, &[COMPANY, COMMITTEE]);
    (body, signatures)
}

fn income(
    nonce: &str,
    on: Date,
    fund: &str,
    category: IncomeCategory,
    fee_month: u8,
    fen: u64,
) -> (Body, Vec<EntrySignature>) {
    signed(Body {
        ledger: ORIGIN.into(),
        date: on,
        nonce: nonce.into(),
        content: Content::Income(Income {
            fund: fund.into(),
            amount_fen: fen,
            category,
            payer: "3-1502".into(),
            period: Month {
                year: 2026,
                month: fee_month,
            },
            memo: String::new(),
        }),
    })
}

fn cleaning(nonce: &str, on: Date, fen: u64) -> (Body, Vec<EntrySignature>) {
    signed(Body {
        ledger: ORIGIN.into(),
        date: on,
        nonce: nonce.into(),
        content: Content::Expenditure(Expenditure {
            fund: "operating".into(),
            amount_fen: fen,
            category: ExpenseCategory::Cleaning,
            payee: "洁净保洁公司".into(),
            memo: String::new(),
            attachments: Vec::new(),
            owners_approval: None,
        }),
    })
}

/// | seq | date       | entry                                          |
/// |-----|------------|------------------------------------------------|
/// | 1   | 2026-01-10 | property fee for January, 300.00, operating    |
/// | 2   | 2026-02-03 | property fee for February, 300.00              |
/// | 3   | 2026-02-04 | property fee for January (arrears), 250.00     |
/// | 4   | 2026-02-05 | parking 80.00, public_revenue                  |
/// | 5   | 2026-02-05 | cleaning 120.50 from operating                 |
/// | 6   | 2026-02-07 | transfer 50.00 operating → maintenance         |
/// | 7   | 2026-03-01 | cleaning 10.00 (after February)                |
/// | 8   | 2026-03-02 | reversal of entry 4 (undoes February parking)  |
fn ledger(dir: &std::path::Path) -> Store {
    let log_signer = fixtures::log_signer(ORIGIN);
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "公示小区")]).remove(0);
    let store = Store::create(dir, &genesis, &log_signer).unwrap();
    let transfer = signed(Body {
        ledger: ORIGIN.into(),
        date: date(2, 7),
        nonce: "t".into(),
        content: Content::Transfer(Transfer {
            from_fund: "operating".into(),
            to_fund: "maintenance".into(),
            amount_fen: 5_000,
            memo: String::new(),
            owners_approval: None,
        }),
    });
    let reversal = signed(Body {
        ledger: ORIGIN.into(),
        date: date(3, 2),
        nonce: "r".into(),
        content: Content::Reversal(Reversal {
            target_seq: 4,
            reason: "录错".into(),
        }),
    });
    let batch = [
        income(
            "f1",
            date(1, 10),
            "operating",
            IncomeCategory::PropertyFee,
            1,
            30_000,
        ),
        income(
            "f2",
            date(2, 3),
            "operating",
            IncomeCategory::PropertyFee,
            2,
            30_000,
        ),
        income(
            "f3",
            date(2, 4),
            "operating",
            IncomeCategory::PropertyFee,
            1,
            25_000,
        ),
        income(
            "p",
            date(2, 5),
            "public_revenue",
            IncomeCategory::Parking,
            2,
            8_000,
        ),
        cleaning("c1", date(2, 5), 12_050),
        transfer,
        cleaning("c2", date(3, 1), 1_000),
        reversal,
    ]
    .into_iter()
    .map(|(body, signatures)| Submission { body, signatures })
    .collect();
    for committed in store.append_batch(batch, 10, &log_signer).unwrap() {
        committed.unwrap();
    }
    store
}

/// Proves February's figures: January's fee is the opening balance, the
/// fee paid for January in February is arrears, the reversed parking
/// nets to nothing, the transfer moves 50.00, March's spending is left
/// out, and opening + flows = closing for every fund.
#[test]
fn a_months_figures_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let s = Statement::for_period(&store, Period::parse("2026-02").unwrap()).unwrap();
    let f = &s.figures;
    assert_eq!(f.size, 9);
    let fund = |id: &str| f.funds.iter().find(|x| x.fund == id).unwrap().clone();
    let op = fund("operating");
    assert_eq!(
        (
            op.opening_fen,
            op.income_fen,
            op.spending_fen,
            op.transfers_out_fen,
            op.closing_fen
        ),
        (30_000, 55_000, 12_050, 5_000, 67_950)
    );
    let mt = fund("maintenance");
    assert_eq!((mt.transfers_in_fen, mt.closing_fen), (5_000, 5_000));
    assert_eq!(fund("public_revenue").closing_fen, 0);
    for x in &f.funds {
        assert_eq!(
            x.opening_fen + x.income_fen - x.spending_fen + x.transfers_in_fen
                - x.transfers_out_fen,
            x.closing_fen,
            "{}",
            x.fund
        );
    }
    let lines: Vec<(&str, &str, i128)> = f
        .income
        .iter()
        .map(|l| (l.fund.as_str(), l.category.as_str(), l.fen))
        .collect();
    assert_eq!(
        lines,
        [
            ("operating", "property_fee", 30_000),
            ("operating", ARREARS_CATEGORY, 25_000)
        ]
    );
    assert_eq!(f.spending.len(), 1);
    assert_eq!(f.spending[0].fen, 12_050);
    // The ledger's balance is March's closing: February's less 10.00.
    assert_eq!(store.state().balances()["operating"], 66_950);
}

/// Proves the digest is 16 hex digits of the canonical figures, changes
/// when a figure does, and that the page prints it with the title, the
/// amounts in yuan and a QR code opening the page at this size.
#[test]
fn digest_and_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let s = Statement::for_period(&store, Period::parse("2026-02").unwrap()).unwrap();
    let digest = s.figures.digest().unwrap();
    assert_eq!(digest.len(), 16);
    let json = s.figures.canonical_json().unwrap();
    assert!(
        json.starts_with("{\"format\":\"feeledger-statement/1\",\"funds\":["),
        "{json}"
    );
    let mut changed = s.figures.clone();
    changed.funds[0].closing_fen += 1;
    assert_ne!(changed.digest().unwrap(), digest);

    let html = s.to_html(Lang::Zh, "https://ledger.example/").unwrap();
    assert!(
        html.contains("<h1>公示小区 2026年2月 公共收支公示</h1>"),
        "{html}"
    );
    assert!(html.contains("¥679.50"), "{html}");
    assert!(html.contains("追缴往期欠费"), "{html}");
    assert!(html.contains("https://ledger.example/?statement=2026-02&amp;size=9"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("http://") || html.contains("http://www.w3.org/2000/svg"));
    let grouped: String = digest
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(html.contains(&grouped));
    let en = s.to_html(Lang::En, "https://ledger.example").unwrap();
    assert!(en.contains("Arrears recovered"), "{en}");
    assert!(!en.contains("公共收支公示"));
}

/// Proves a quarter covers its three months and a year its twelve: the
/// January fee moves from the opening balance into the flows.
#[test]
fn quarter_and_year() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    for period in ["2026-Q1", "2026"] {
        let s = Statement::for_period(&store, Period::parse(period).unwrap()).unwrap();
        let op = s
            .figures
            .funds
            .iter()
            .find(|x| x.fund == "operating")
            .unwrap();
        assert_eq!(op.opening_fen, 0, "{period}");
        assert_eq!(op.closing_fen, 66_950, "{period}");
        // Fees for January paid in February are in the period, not arrears.
        assert!(s
            .figures
            .income
            .iter()
            .all(|l| l.category != ARREARS_CATEGORY));
    }
}

//! `feeledger export`, end to end: the real binary builds a real ledger in a
//! temporary sled directory, exports it, and the real hledger (1.25 or
//! later) checks the journal. hledger is required: without it these tests
//! fail, they are never skipped.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::{hledger, run};

const NAME: &str = "星光小区 X Star District";
const ORIGIN: &str = "ledger.xingguang.example";
/// The memo of entry 3: a comma, quotes and a semicolon, for CSV quoting
/// and the hledger description.
const CLEANING_MEMO: &str = "一月保洁; \"A栋\", 含税";

fn text(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// Runs the binary; panics with everything it printed unless it exits 0.
#[track_caller]
fn feeledger(args: &[&str]) -> String {
    run(args).assert_ok().stdout.clone()
}

fn hledger_ok(args: &[&str]) -> String {
    let output = hledger(args);
    assert!(
        output.status.success(),
        "hledger {args:?} failed:\n{}{}",
        text(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    text(&output)
}

/// A ledger built with the CLI:
///
/// | seq | date       | entry                                                  |
/// |-----|------------|--------------------------------------------------------|
/// | 0   | 2026-01-01 | genesis                                                |
/// | 1   | 2026-01-05 | income 1280.50 operating property_fee from 3-1502      |
/// | 2   | 2026-01-06 | income 600.00 public_revenue parking                   |
/// | 3   | 2026-01-10 | expenditure 450.25 operating cleaning (one propose)    |
/// | 4   | 2026-01-15 | transfer 200.00 public_revenue → maintenance           |
/// | 5   | 2026-01-03 | back-dated expenditure 100.00 operating (propose+sign) |
/// | 6   | 2026-01-20 | reversal of entry 3                                    |
///
/// In date order, entry 5 comes first and takes operating to -100.00.
struct Ledger {
    dir: tempfile::TempDir,
}

impl Ledger {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self, name: &str) -> String {
        self.path(&format!("{name}.key")).display().to_string()
    }

    /// `feeledger propose --data D --key K... --date DATE ARGS...`
    fn propose(&self, keys: &[&str], date: &str, args: &[&str]) -> String {
        let data = self.data().display().to_string();
        let mut all = vec!["propose", "--yes", "--data", &data];
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        for key in &keys {
            all.extend(["--key", key]);
        }
        all.extend(["--date", date]);
        all.extend(args);
        feeledger(&all)
    }

    fn balances_fen(&self) -> BTreeMap<String, i64> {
        let out = feeledger(&[
            "balances",
            "--data",
            self.data().to_str().unwrap(),
            "--json",
        ]);
        serde_json::from_str(&out).expect("balances --json parses")
    }

    fn export(&self, format: &str, out: &str) -> PathBuf {
        let path = self.path(out);
        feeledger(&[
            "export",
            "--data",
            self.data().to_str().unwrap(),
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ]);
        path
    }
}

const COMPANY: &str = "wuye-li";
const COMMITTEE: [&str; 3] = ["weiyuan-wang", "weiyuan-zhang", "weiyuan-zhao"];

fn build_ledger() -> Ledger {
    let ledger = Ledger {
        dir: tempfile::tempdir().expect("a temporary directory"),
    };
    let mut public_keys = BTreeMap::new();
    for name in std::iter::once(COMPANY).chain(COMMITTEE) {
        let out = feeledger(&["keygen", "--name", name, "--out", &ledger.key(name)]);
        let public_key = out
            .lines()
            .find_map(|l| l.strip_prefix("public_key:"))
            .expect("keygen prints public_key:")
            .trim()
            .to_string();
        public_keys.insert(name, public_key);
    }
    let key_def = |name: &str| {
        format!(
            "{{ name = \"{name}\", public_key = \"{}\" }}",
            public_keys[name]
        )
    };
    let genesis = format!(
        r#"origin = "{ORIGIN}"
name = "{NAME}"
date = "2026-01-01"
signers = ["{COMPANY}.key", "{}.key", "{}.key"]

[roles.company]
threshold = 1
keys = [{}]

[roles.committee]
threshold = 2
keys = [{}]
"#,
        COMMITTEE[0],
        COMMITTEE[1],
        key_def(COMPANY),
        COMMITTEE.map(key_def).join(", "),
    );
    let genesis_path = ledger.path("genesis.toml");
    std::fs::write(&genesis_path, genesis).unwrap();
    feeledger(&[
        "init",
        "--data",
        ledger.data().to_str().unwrap(),
        "--genesis",
        genesis_path.to_str().unwrap(),
    ]);
    let all = [COMPANY, COMMITTEE[0], COMMITTEE[1]];
    let committed = |out: String, seq: u64| {
        assert!(
            out.contains(&format!("committed as entry {seq} ")),
            "expected entry {seq}: {out}"
        );
    };
    committed(
        ledger.propose(
            &[COMPANY],
            "2026-01-05",
            &[
                "income",
                "--amount",
                "1280.50",
                "--category",
                "property_fee",
                "--payer",
                "3-1502",
                "--period",
                "2026-01",
            ],
        ),
        1,
    );
    committed(
        ledger.propose(
            &[COMPANY],
            "2026-01-06",
            &[
                "income",
                "--fund",
                "public_revenue",
                "--amount",
                "600",
                "--category",
                "parking",
                "--payer",
                "停车场 B区",
                "--memo",
                "一月车位费",
            ],
        ),
        2,
    );
    committed(
        ledger.propose(
            &all,
            "2026-01-10",
            &[
                "expenditure",
                "--amount",
                "450.25",
                "--category",
                "cleaning",
                "--payee",
                "洁净保洁公司",
                "--memo",
                CLEANING_MEMO,
            ],
        ),
        3,
    );
    committed(
        ledger.propose(
            &all,
            "2026-01-15",
            &[
                "transfer",
                "--from",
                "public_revenue",
                "--to",
                "maintenance",
                "--amount",
                "200",
            ],
        ),
        4,
    );
    // Back-dated, and co-signed in two steps.
    let out = ledger.propose(
        &[COMPANY],
        "2026-01-03",
        &[
            "expenditure",
            "--amount",
            "100",
            "--category",
            "repairs",
            "--payee",
            "快修水电",
            "--memo",
            "back-dated repair",
        ],
    );
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("pending proposal "))
        .expect("the expenditure waits for the committee")
        .trim()
        .to_string();
    for (member, last) in [(COMMITTEE[2], false), (COMMITTEE[0], true)] {
        let out = feeledger(&[
            "sign",
            "--data",
            ledger.data().to_str().unwrap(),
            "--key",
            &ledger.key(member),
            "--yes",
            &id,
        ]);
        if last {
            committed(out, 5);
        } else {
            assert!(out.contains("pending proposal"), "{out}");
        }
    }
    committed(
        ledger.propose(
            &all,
            "2026-01-20",
            &[
                "reversal",
                "--target",
                "3",
                "--reason",
                "发票重复 duplicate invoice",
            ],
        ),
        6,
    );
    ledger
}

const ENTRIES: usize = 7;

/// Yuan text as hledger prints it ("1,180.50 CNY", "-100.00 CNY", "0") → fen.
fn parse_fen(amount: &str) -> i64 {
    let number = amount
        .trim()
        .trim_end_matches("CNY")
        .trim()
        .replace(',', "");
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
    assert_eq!(fraction.len(), 2, "two decimals in {amount:?}");
    let fen: i64 = whole.parse::<i64>().expect("yuan digits") * 100
        + fraction.parse::<i64>().expect("fen digits");
    if negative {
        -fen
    } else {
        fen
    }
}

/// `hledger balance` of every fund account, in fen.
fn hledger_fund_balances(journal: &Path) -> BTreeMap<String, i64> {
    let out = hledger_ok(&[
        "-f",
        journal.to_str().unwrap(),
        "balance",
        "assets:funds",
        "--flat",
        "--empty",
        "--no-total",
        "-O",
        "csv",
    ]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("\"account\",\"balance\""), "{out}");
    lines
        .map(|line| {
            let fields = parse_csv(&format!("{line}\n"));
            let [account, amount] = fields[0].as_slice() else {
                panic!("unexpected balance line {line:?}");
            };
            let fund = account
                .strip_prefix("assets:funds:")
                .unwrap_or_else(|| panic!("unexpected account {account:?}"));
            (fund.to_string(), parse_fen(amount))
        })
        .collect()
}

/// RFC 4180: quoted fields, doubled quotes, CRLF or LF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "CSV ends with a record"
    );
    records
}

/// Proves: the journal passes `hledger check --strict` (every account and
/// commodity declared) plus ordereddates and payees, names the ledger, asserts
/// running balances in date order (the back-dated entry makes operating
/// -100.00 on 2026-01-03), and hledger's fund balances equal
/// `feeledger balances --json` exactly.
#[test]
fn hledger_journal_passes_strict_check_and_matches_balances() {
    let ledger = build_ledger();
    let journal = ledger.export("hledger", "j.journal");
    let file = journal.to_str().unwrap();
    hledger_ok(&["-f", file, "check", "--strict"]);
    hledger_ok(&["-f", file, "check", "ordereddates", "payees"]);

    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(&format!("; ledger:  {ORIGIN}")), "{text}");
    assert!(text.contains(&format!("; name:    {NAME}")), "{text}");
    assert!(text.contains("commodity 1,000.00 CNY"), "{text}");
    assert!(
        text.contains("2026-01-03 (5) 快修水电 | repairs — back-dated repair"),
        "{text}"
    );
    assert!(text.contains("-100.00 CNY = -100.00 CNY"), "{text}");
    // The memo's ';' would start a comment: it is written full-width.
    assert!(text.contains("一月保洁； \"A栋\", 含税"), "{text}");
    assert!(
        text.contains(
            "2026-01-20 (6) 洁净保洁公司 | reversal of entry 3: 发票重复 duplicate invoice"
        ),
        "{text}"
    );
    // One transaction per money-moving entry (genesis included, no governance).
    assert_eq!(text.matches("\n2026-").count(), ENTRIES, "{text}");

    let expected = ledger.balances_fen();
    assert_eq!(
        expected,
        BTreeMap::from([
            ("maintenance".to_string(), 20_000),
            ("operating".to_string(), 118_050),
            ("public_revenue".to_string(), 40_000),
        ])
    );
    assert_eq!(hledger_fund_balances(&journal), expected);

    // Income and spending by category, net of the reversal.
    let out = hledger_ok(&[
        "-f", file, "balance", "income", "expenses", "--flat", "--empty", "-N", "-O", "csv",
    ]);
    assert!(
        out.contains("\"expenses:operating:cleaning\",\"0\""),
        "{out}"
    );
    assert!(
        out.contains("\"income:operating:property_fee\",\"-1280.50 CNY\""),
        "{out}"
    );
}

/// Proves the balance assertions are real: changing one transaction's amount
/// (kept balanced, so only an assertion can catch it) makes hledger refuse
/// the journal, in `check` and in a plain `balance` report.
#[test]
fn altered_journal_amount_fails_a_balance_assertion() {
    let ledger = build_ledger();
    let journal = ledger.export("hledger", "j.journal");
    hledger_ok(&["-f", journal.to_str().unwrap(), "check", "--strict"]);

    let text = std::fs::read_to_string(&journal).unwrap();
    assert_eq!(text.matches(" 1280.50 CNY = ").count(), 1, "{text}");
    assert_eq!(text.matches("-1280.50 CNY").count(), 1, "{text}");
    let altered = text
        .replace(" 1280.50 CNY = ", " 1280.51 CNY = ")
        .replace("-1280.50 CNY", "-1280.51 CNY");
    let bad = ledger.path("altered.journal");
    std::fs::write(&bad, altered).unwrap();
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["-f", bad, "check", "--strict"],
        vec!["-f", bad, "balance", "assets:funds"],
    ] {
        let output = hledger(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "hledger {args:?} accepted it");
        assert!(stderr.contains("balance assertion"), "{stderr}");
        assert!(stderr.contains("calculated: 1180.51"), "{stderr}");
    }
}

/// Proves: the CSV has a header and one row per entry (genesis and reversal
/// included), RFC 4180 quoting round-trips commas and quotes, Chinese text
/// survives, and known rows carry the right fields.
#[test]
fn csv_has_one_row_per_entry_with_exact_fields() {
    let ledger = build_ledger();
    let path = ledger.export("csv", "entries.csv");
    let rows = parse_csv(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(rows.len(), ENTRIES + 1);
    let header = &rows[0];
    assert_eq!(
        header.join(","),
        "seq,time,date,kind,fund,from_fund,to_fund,category,amount_fen,amount_yuan,party,period,memo,reverses,reversed_by,signers,leaf_hash"
    );
    let row = |seq: usize| -> BTreeMap<&str, &str> {
        assert_eq!(rows[seq + 1].len(), header.len());
        header
            .iter()
            .map(String::as_str)
            .zip(rows[seq + 1].iter().map(String::as_str))
            .collect()
    };
    for seq in 0..ENTRIES {
        assert_eq!(row(seq)["seq"], seq.to_string());
        assert_eq!(row(seq)["leaf_hash"].len(), 64);
        assert!(row(seq)["time"].ends_with('Z'));
    }

    let genesis = row(0);
    assert_eq!(genesis["kind"], "genesis");
    assert_eq!(genesis["memo"], NAME);

    let income = row(1);
    for (column, value) in [
        ("date", "2026-01-05"),
        ("kind", "income"),
        ("fund", "operating"),
        ("category", "property_fee"),
        ("amount_fen", "128050"),
        ("amount_yuan", "1280.50"),
        ("party", "3-1502"),
        ("period", "2026-01"),
        ("signers", "wuye-li"),
    ] {
        assert_eq!(income[column], value, "{column}");
    }

    let cleaning = row(3);
    assert_eq!(cleaning["memo"], CLEANING_MEMO);
    assert_eq!(cleaning["party"], "洁净保洁公司");
    assert_eq!(cleaning["reversed_by"], "6");
    assert_eq!(cleaning["signers"], "weiyuan-wang;weiyuan-zhang;wuye-li");

    let transfer = row(4);
    assert_eq!(
        [
            transfer["from_fund"],
            transfer["to_fund"],
            transfer["amount_fen"]
        ],
        ["public_revenue", "maintenance", "20000"]
    );

    let reversal = row(6);
    assert_eq!(reversal["kind"], "reversal");
    assert_eq!(reversal["reverses"], "3");
    assert_eq!(reversal["memo"], "发票重复 duplicate invoice");
    assert_eq!(reversal["amount_fen"], "45025");
}

/// Proves: the JSON export (here to standard output) parses, holds every
/// entry with its decoded leaf and hash, and its balances equal
/// `feeledger balances --json`; and a failed export to a file leaves nothing
/// behind and says why in one line.
#[test]
fn json_parses_with_every_entry_and_the_balances() {
    let ledger = build_ledger();
    let out = feeledger(&[
        "export",
        "--data",
        ledger.data().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("the export is JSON");
    assert_eq!(doc["ledger"], ORIGIN);
    assert_eq!(doc["name"], NAME);
    let entries = doc["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), ENTRIES);
    for (seq, entry) in entries.iter().enumerate() {
        assert_eq!(entry["seq"], seq as u64);
        assert_eq!(entry["leaf"]["seq"], seq as u64);
        assert_eq!(entry["leaf_hash"].as_str().unwrap().len(), 64);
    }
    assert_eq!(entries[1]["leaf"]["body"]["amount_fen"], 128_050);
    assert_eq!(entries[3]["leaf"]["body"]["memo"], CLEANING_MEMO);
    assert_eq!(entries[3]["reversed_by"], 6);
    assert_eq!(entries[6]["leaf"]["body"]["target_seq"], 3);
    let balances: BTreeMap<String, i64> =
        serde_json::from_value(doc["balances_fen"].clone()).unwrap();
    assert_eq!(balances, ledger.balances_fen());

    let missing = ledger.path("no-such-dir").join("x.json");
    let out = run([
        "export",
        "--data",
        ledger.data().to_str().unwrap(),
        "--format",
        "json",
        "--out",
        missing.to_str().unwrap(),
    ]);
    out.assert_one_line_error(&[]);
    assert!(out.stderr.starts_with("error: export to "), "{out:#?}");
    assert!(!missing.exists());
}

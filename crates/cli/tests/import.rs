//! `feeledger import`: a month of fees from a CSV file, with the real
//! binary on a real data directory and against the real server. Files are
//! written as Excel writes them (UTF-8 with a BOM and CRLF, GBK), and each
//! test checks the ledger's balances, not only the command's words.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::http::Server;
use support::{Community, Output, COMMITTEE, COMPANY};

/// Rows in the large files: a month of a mid-sized estate.
const ROWS: usize = 500;

/// A generated month: the CSV text and, computed here independently of
/// the importer, the fen each fund should gain.
struct Month {
    text: String,
    fen_by_fund: BTreeMap<&'static str, u64>,
}

/// `rows` payments: property fees by area (2.80 yuan per square metre,
/// amounts over a thousand written grouped and quoted), and every fifth a
/// parking fee, which goes to 公共收益.
fn month(rows: usize) -> Month {
    let mut text = String::from("房号,金额,类别,缴费日期,所属月份,备注\r\n");
    let mut fen_by_fund = BTreeMap::new();
    for i in 0..rows {
        let unit = format!("{}-{:02}{:02}", 1 + i % 9, 1 + (i / 9) % 33, 1 + i / 297);
        let date = format!("2026-10-{:02}", 1 + i % 28);
        if i % 5 == 4 {
            text.push_str(&format!(
                "{unit},300,停车费,{date},2026-10,\"车位 B2-{i}, 月租\"\r\n"
            ));
            *fen_by_fund.entry("public_revenue").or_default() += 30_000;
        } else {
            // 80.00 to 179.99 square metres, for one to twelve months.
            let area_fen = 8_000 + (i as u64 * 37) % 10_000;
            let months = 1 + (i as u64 % 12);
            let fen = area_fen * 280 / 100 * months;
            let (whole, cents) = (fen / 100, fen % 100);
            let amount = if whole >= 1_000 {
                format!("\"{},{:03}.{cents:02}\"", whole / 1_000, whole % 1_000)
            } else {
                format!("{whole}.{cents:02}")
            };
            text.push_str(&format!(
                "{unit},{amount},物业费,{date},2026-10,{months} 个月\r\n"
            ));
            *fen_by_fund.entry("operating").or_default() += fen;
        }
    }
    Month { text, fen_by_fund }
}

fn utf8_bom(text: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the test's text is all GBK");
    assert_ne!(bytes.as_ref(), text.as_bytes(), "GBK differs from UTF-8");
    bytes.into_owned()
}

fn write(community: &Community, name: &str, bytes: &[u8]) -> PathBuf {
    let path = community.path(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `import --data DATA --key COMPANY --csv FILE --yes`.
fn import(community: &Community, file: &Path) -> Output {
    import_with(community, file, COMPANY)
}

fn import_with(community: &Community, file: &Path, key: &str) -> Output {
    let key = community.key_path(key).display().to_string();
    let file = file.display().to_string();
    community.cmd("import", &["--key", &key, "--csv", &file, "--yes"])
}

fn balances(community: &Community) -> BTreeMap<String, u64> {
    let out = community.cmd("balances", &["--json"]);
    out.assert_ok();
    serde_json::from_value(out.json()).expect("balances are fen by fund")
}

/// The balances after, less those before, by fund.
fn gained(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(fund, fen)| (fund.clone(), fen - before.get(fund).copied().unwrap_or(0)))
        .filter(|(_, fen)| *fen > 0)
        .collect()
}

fn expected(month: &Month) -> BTreeMap<String, u64> {
    month
        .fen_by_fund
        .iter()
        .map(|(fund, fen)| (fund.to_string(), *fen))
        .collect()
}

/// Proves that a file in `bytes` imports whole in one commit, the balances
/// rise by exactly the file's total, the preview prints the count and
/// totals in yuan, and importing it again records nothing and says so.
fn imports_once(bytes: impl Fn(&str) -> Vec<u8>, encoding: &str) {
    let community = Community::new();
    let month = month(ROWS);
    let file = write(&community, "2026-10.csv", &bytes(&month.text));
    let before = balances(&community);
    let out = import(&community, &file);
    out.assert_ok();
    assert_eq!(gained(&before, &balances(&community)), expected(&month));
    let total: u64 = month.fen_by_fund.values().sum();
    let total_line = format!(
        "合计 total:                 {}",
        feeledger_core::money::format_yuan(total)
    );
    for needle in [
        format!("({encoding})"),
        format!("新记录 to record:           {ROWS}"),
        total_line,
        "公共收益".to_string(),
        "停车费 parking".to_string(),
        format!("已记入 recorded {ROWS} rows as entries 1 to {ROWS} in one commit"),
    ] {
        assert!(out.stdout.contains(&needle), "{needle:?} missing: {out:#?}");
    }
    let snapshot = community.snapshot();
    assert_eq!(snapshot.entries, 1 + ROWS as u64);

    let again = import(&community, &file);
    again.assert_ok();
    assert!(
        again
            .stdout
            .contains(&format!("nothing new: {ROWS} rows already recorded")),
        "{again:#?}"
    );
    assert_eq!(
        community.snapshot(),
        snapshot,
        "the second import records nothing"
    );
}

/// Proves a 500-row file saved by Excel as "CSV UTF-8" (BOM, CRLF, quoted
/// grouped amounts) imports once and only once.
#[test]
fn utf8_with_bom_imports_once() {
    imports_once(utf8_bom, "UTF-8 (BOM)");
}

/// Proves a 500-row file saved by a Chinese Excel as "CSV" (GBK) imports
/// once and only once, with the same amounts.
#[test]
fn gbk_imports_once() {
    imports_once(gbk, "GBK");
}

/// Proves a file with one bad amount among 500 rows records nothing, and
/// the one-line error names the row's line and its amount.
#[test]
fn one_bad_row_records_nothing_and_names_its_line() {
    let community = Community::new();
    let mut month = month(ROWS);
    // Line 321 of the file (the header is line 1) gets a misplaced comma.
    let mut lines: Vec<String> = month.text.lines().map(str::to_string).collect();
    let cells: Vec<&str> = lines[320].splitn(2, ',').collect();
    lines[320] = format!("{},\"12,8050\",物业费,2026-10-05,2026-10,", cells[0]);
    month.text = lines.join("\r\n");
    let file = write(&community, "bad.csv", &utf8_bom(&month.text));
    let before = community.snapshot();
    import(&community, &file).assert_one_line_error(&[
        "nothing recorded",
        "第 321 行 line 321",
        "12,8050",
        "1,280.50",
    ]);
    assert_eq!(community.snapshot(), before);
}

/// Proves a file in neither UTF-8 nor GBK (Latin-1) is refused with the
/// encodings accepted and how to save it from Excel, recording nothing.
#[test]
fn latin1_file_gets_the_encoding_error() {
    let community = Community::new();
    let file = write(
        &community,
        "latin1.csv",
        b"unit,amount,date\n3-1502,100,2026-10-05\nCaf\xE9 Rose,200,2026-10-05\n",
    );
    let before = community.snapshot();
    import(&community, &file).assert_one_line_error(&["UTF-8", "GBK", "另存为", "CSV UTF-8"]);
    assert_eq!(community.snapshot(), before);
}

/// Proves a key that cannot record an income by itself (one committee
/// member, whose role the income rule does not name) records nothing, and
/// the error says which key to use.
#[test]
fn a_key_that_cannot_record_income_records_nothing() {
    let community = Community::new();
    let file = write(&community, "m.csv", month(3).text.as_bytes());
    let before = community.snapshot();
    import_with(&community, &file, COMMITTEE[0]).assert_one_line_error(&[
        "nothing recorded",
        "第 2 行 line 2",
        "物业公司",
    ]);
    assert_eq!(community.snapshot(), before);
}

/// Proves nothing is recorded unless the question is answered yes: with
/// no answer on stdin, the preview is printed and the import refused.
#[test]
fn unconfirmed_import_records_nothing() {
    let community = Community::new();
    let file = write(&community, "m.csv", month(3).text.as_bytes());
    let before = community.snapshot();
    let key = community.key_path(COMPANY).display().to_string();
    let file = file.display().to_string();
    let out = community.cmd("import", &["--key", &key, "--csv", &file]);
    out.assert_failed();
    assert!(
        out.stdout.contains("新记录 to record:           3"),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains("记入账本？Record it? [y/N]"),
        "{out:#?}"
    );
    assert!(
        out.stderr.contains("not recorded: not confirmed"),
        "{out:#?}"
    );
    assert_eq!(community.snapshot(), before);
}

/// Proves the sample file in docs/ imports as documented: every row, and
/// each fund gains what the file says (totals worked out by hand from it).
#[test]
fn the_sample_file_imports() {
    let community = Community::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/sample-fees.csv");
    let before = balances(&community);
    let out = import(&community, &sample);
    out.assert_ok();
    assert!(
        out.stdout.contains("新记录 to record:           38"),
        "{out:#?}"
    );
    let want: BTreeMap<String, u64> = [
        ("operating".to_string(), 1_359_194),
        ("public_revenue".to_string(), 800_000),
    ]
    .into();
    assert_eq!(gained(&before, &balances(&community)), want);
    community.verify_json();
}

/// `import --url URL ...`.
fn import_url(community: &Community, server: &Server, file: &Path) -> Output {
    let key = community.key_path(COMPANY).display().to_string();
    support::run([
        "import",
        "--url",
        &server.url,
        "--key",
        &key,
        "--csv",
        &file.display().to_string(),
        "--yes",
    ])
}

/// Proves the same over `--url` against the real server: a 500-row GBK
/// file is recorded in one batch and the balances rise by its total;
/// importing it again records nothing; a file with one bad row records
/// nothing and the error names the line; and a refusal by the server
/// itself (a key the income rule does not name) is named by the file's
/// line, recording nothing.
#[test]
fn over_url_imports_once_and_refuses_whole() {
    let community = Community::new();
    let server = Server::start(&community.data);
    let http = server.http();
    let month = month(ROWS);
    let file = write(&community, "2026-10.csv", &gbk(&month.text));
    let fen = |v: &Value, fund: &str| v["balances_fen"][fund].as_u64().unwrap_or(0);
    let before = http.get("/api/v1/balances").ok_json();
    let out = import_url(&community, &server, &file);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("新记录 to record:           {ROWS}")),
        "{out:#?}"
    );
    let after = http.get("/api/v1/balances").ok_json();
    for (fund, gained) in &month.fen_by_fund {
        assert_eq!(
            fen(&after, fund) - fen(&before, fund),
            *gained,
            "{fund}: {after}"
        );
    }
    let size = http.get("/api/v1/ledger").ok_json()["size"].clone();
    assert_eq!(size, 1 + ROWS as u64);

    let again = import_url(&community, &server, &file);
    again.assert_ok();
    assert!(
        again
            .stdout
            .contains(&format!("nothing new: {ROWS} rows already recorded")),
        "{again:#?}"
    );
    assert_eq!(http.get("/api/v1/ledger").ok_json()["size"], size);

    // A new month whose line 4 is paid by a phone number, which the
    // ledger's payer rule refuses.
    let mut next = month_text_for_november();
    next = next.replacen("7-0101", "13812345678", 1);
    let bad = write(&community, "2026-11.csv", next.as_bytes());
    support::run([
        "import",
        "--url",
        &server.url,
        "--key",
        &community.key_path(COMPANY).display().to_string(),
        "--csv",
        &bad.display().to_string(),
        "--yes",
    ])
    .assert_one_line_error(&["nothing recorded", "第 4 行 line 4", "phone"]);
    assert_eq!(http.get("/api/v1/ledger").ok_json()["size"], size);

    let good = write(
        &community,
        "2026-11-ok.csv",
        month_text_for_november().as_bytes(),
    );
    support::run([
        "import",
        "--url",
        &server.url,
        "--key",
        &community.key_path(COMMITTEE[0]).display().to_string(),
        "--csv",
        &good.display().to_string(),
        "--yes",
    ])
    .assert_one_line_error(&["nothing recorded", "第 2 行 line 2", "unauthorized_signer"]);
    assert_eq!(http.get("/api/v1/balances").ok_json(), after);
    server.kill();
}

fn month_text_for_november() -> String {
    "房号,金额,缴费日期\n5-0101,100,2026-11-02\n6-0101,100,2026-11-02\n7-0101,100,2026-11-02\n8-0101,100,2026-11-02\n".to_string()
}

/// Proves the batch route itself is all-or-nothing and names the index:
/// a batch whose second proposal is an expenditure, or a replay of a
/// recorded body, is refused with a JSON error and records nothing; a dry
/// run writes nothing.
#[test]
fn the_batch_route_refuses_whole() {
    use support::bodies::{proposal_request, sign_with, signing_key, Bodies};
    let community = Community::new();
    let server = Server::start(&community.data);
    let http = server.http();
    let company = signing_key(community.key_path(COMPANY));
    let bodies = Bodies {
        ledger: support::ORIGIN,
        month: "2026-10",
        memo: "",
    };
    let signed = |body: &feeledger_core::entry::Body| {
        proposal_request(body, &sign_with(body, &[(COMPANY, &company)]))
    };
    let a = bodies.income("batch-a", 10_000, "3-1502");
    let b = bodies.income("batch-b", 20_000, "3-1503");
    let spend = bodies.expenditure("batch-c", 100);
    let batch = |items: Vec<Value>, dry_run: bool| serde_json::json!({"proposals": items, "dry_run": dry_run});
    let size = || http.get("/api/v1/ledger").ok_json()["size"].clone();
    let start = size();

    let message = http
        .post_json(
            "/api/v1/proposals/batch",
            &batch(vec![signed(&a), signed(&spend)], false),
        )
        .assert_error(422, "not_income");
    assert!(message.contains("proposals[1]"), "{message}");
    assert_eq!(size(), start);

    let plan = http
        .post_json(
            "/api/v1/proposals/batch",
            &batch(vec![signed(&a), signed(&b)], true),
        )
        .ok_json();
    assert_eq!(plan["results"][1]["status"], "new");
    assert_eq!(size(), start, "a dry run writes nothing");

    let done = http.post_json("/api/v1/proposals/batch", &batch(vec![signed(&a)], false));
    assert_eq!(done.status, 201, "{}", done.text());
    let message = http
        .post_json(
            "/api/v1/proposals/batch",
            &batch(vec![signed(&b), signed(&a)], false),
        )
        .assert_error(409, "replay");
    assert!(message.contains("proposals[1]"), "{message}");
    let after_a = size();
    assert_eq!(after_a, start.as_u64().unwrap() + 1);
    let plan = http
        .post_json(
            "/api/v1/proposals/batch",
            &batch(vec![signed(&b), signed(&a)], true),
        )
        .ok_json();
    assert_eq!(plan["results"][0]["status"], "new");
    assert_eq!(plan["results"][1]["status"], "recorded");
    assert_eq!(plan["results"][1]["seq"], start);
    server.kill();
}

/// Proves the batch is judged again at commit and recorded all or nothing:
/// a batch checked by a dry run (every proposal new), one of whose
/// proposals is then recorded by itself before the batch is sent, is
/// refused whole by the store's all-or-nothing commit, naming that
/// proposal as a replay; the other two are not recorded, and the balances
/// and the tree size stay as they were after the single proposal.
#[test]
fn a_row_recorded_after_the_dry_run_refuses_the_whole_batch() {
    use support::bodies::{proposal_request, sign_with, signing_key, Bodies};
    let community = Community::new();
    let server = Server::start(&community.data);
    let http = server.http();
    let company = signing_key(community.key_path(COMPANY));
    let bodies = Bodies {
        ledger: support::ORIGIN,
        month: "2026-10",
        memo: "",
    };
    let signed = |body: &feeledger_core::entry::Body| {
        proposal_request(body, &sign_with(body, &[(COMPANY, &company)]))
    };
    let rows = [
        bodies.income("race-a", 10_000, "3-1502"),
        bodies.income("race-b", 20_000, "3-1503"),
        bodies.income("race-c", 40_000, "3-1504"),
    ];
    let batch = |dry_run: bool| serde_json::json!({"proposals": rows.iter().map(signed).collect::<Vec<_>>(), "dry_run": dry_run});
    let plan = http
        .post_json("/api/v1/proposals/batch", &batch(true))
        .ok_json();
    for result in plan["results"].as_array().unwrap() {
        assert_eq!(result["status"], "new", "{plan}");
    }

    let alone = http.post_json("/api/v1/proposals", &signed(&rows[1]));
    assert_eq!(alone.status, 201, "{}", alone.text());
    let balances = http.get("/api/v1/balances").ok_json();
    let size = http.get("/api/v1/ledger").ok_json()["size"].clone();

    let message = http
        .post_json("/api/v1/proposals/batch", &batch(false))
        .assert_error(409, "replay");
    assert!(message.starts_with("proposals[1]:"), "{message}");
    assert!(
        message.contains("nothing of the batch was recorded"),
        "{message}"
    );
    assert_eq!(http.get("/api/v1/balances").ok_json(), balances);
    assert_eq!(http.get("/api/v1/ledger").ok_json()["size"], size);
    server.kill();
}

/// Proves `import --data` commits all or nothing too: while a person reads
/// the preview of a three-row file (the store is let go meanwhile), its
/// first row is recorded by another import; answered yes, the first import
/// records nothing, its one-line error names line 2 as a replay, and the
/// ledger is as the other import left it.
#[test]
fn with_data_a_row_recorded_while_deciding_refuses_the_whole_file() {
    use std::io::{Read as _, Write as _};
    let community = Community::new();
    let (three, one) = (month(3), month(1));
    assert!(three.text.starts_with(&one.text));
    let file = write(&community, "three.csv", three.text.as_bytes());
    let first_row = write(&community, "one.csv", one.text.as_bytes());
    let key = community.key_path(COMPANY).display().to_string();
    let mut deciding = support::command()
        .args(["import", "--data"])
        .arg(&community.data)
        .args(["--key", &key, "--csv"])
        .arg(&file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = deciding.stderr.take().unwrap();
    let prompt = "记入账本？Record it? [y/N] ";
    let mut asked = Vec::new();
    while !String::from_utf8_lossy(&asked).ends_with(prompt) {
        let mut byte = [0u8];
        assert_eq!(
            stderr.read(&mut byte).unwrap(),
            1,
            "the import ended before asking: {}",
            String::from_utf8_lossy(&asked)
        );
        asked.push(byte[0]);
    }

    import(&community, &first_row).assert_ok();
    let after_other = community.snapshot();
    let balances_after_other = balances(&community);

    deciding.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = deciding.wait().unwrap();
    assert!(!status.success(), "{rest}");
    let lines: Vec<&str> = rest.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line of error: {rest}");
    for needle in ["error: ", "nothing recorded", "第 2 行 line 2", "replay"] {
        assert!(lines[0].contains(needle), "{needle:?} missing: {rest}");
    }
    assert_eq!(community.snapshot(), after_other);
    assert_eq!(balances(&community), balances_after_other);
}

/// Proves a file that extends one imported before (the month so far, then
/// the whole month) records only the new rows, and the preview counts the
/// rest as already recorded.
#[test]
fn a_longer_file_records_only_its_new_rows() {
    let community = Community::new();
    let first = month(3);
    let whole = month(5);
    assert!(whole.text.starts_with(&first.text));
    let early = write(&community, "early.csv", first.text.as_bytes());
    import(&community, &early).assert_ok();
    let before = balances(&community);
    let later = write(&community, "whole.csv", whole.text.as_bytes());
    let out = import(&community, &later);
    out.assert_ok();
    assert!(
        out.stdout.contains("已记入 already recorded:    3"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("新记录 to record:           2"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("recorded 2 rows as entries 4 to 5"),
        "{out:#?}"
    );
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for (fund, fen) in &whole.fen_by_fund {
        let already = first.fen_by_fund.get(fund).copied().unwrap_or(0);
        if *fen > already {
            want.insert(fund.to_string(), fen - already);
        }
    }
    assert_eq!(gained(&before, &balances(&community)), want);
}

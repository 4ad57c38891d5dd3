//! A month of fees imported in the residents' page (导入缴费表), driven in
//! real headless Chromium (support/cdp.rs) against the real server on
//! loopback, with a ledger made by the real binary; and the route it uses,
//! `POST /api/v1/import/preview`, called directly.
//!
//! What is proved: the company's key, kept in the page, imports a 500-row
//! GBK file; the totals the page shows equal the file's, computed here
//! independently; the ledger then holds 500 new entries whose sum is the
//! file's; the same file again records nothing and the page says so; a
//! file with one bad row shows that line and its reason and records
//! nothing; the preview route lists bad rows in a 422 and stores nothing
//! either way; and a browser whose key is not the company's is offered no
//! import.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::cdp::Phone;
use support::http::{Http, Server};
use support::{Community, COMMITTEE, COMPANY, ORIGIN};

/// Rows in the large file: a month of a mid-sized estate.
const ROWS: usize = 500;

/// A generated month: the CSV text and, computed here independently of
/// the importer, the fen per fund and per category.
struct Month {
    text: String,
    fen_by_fund: BTreeMap<&'static str, u64>,
    fen_by_category: BTreeMap<&'static str, u64>,
}

impl Month {
    fn total_fen(&self) -> u64 {
        self.fen_by_fund.values().sum()
    }
}

/// `rows` payments in September 2026: property fees (amounts over a
/// thousand written grouped and quoted, as Excel exports them), and every
/// seventh a parking fee, which goes to 公共收益.
fn month(rows: usize) -> Month {
    let mut text = String::from("房号,金额,类别,缴费日期,所属月份,备注\r\n");
    let mut fen_by_fund = BTreeMap::new();
    let mut fen_by_category = BTreeMap::new();
    for i in 0..rows {
        let unit = format!("{}-{:02}{:02}", 1 + i % 7, 1 + (i / 7) % 30, 1 + i / 210);
        let date = format!("2026-09-{:02}", 1 + i % 30);
        if i % 7 == 6 {
            text.push_str(&format!("{unit},350.00,停车费,{date},2026-09,车位月租\r\n"));
            *fen_by_fund.entry("public_revenue").or_default() += 35_000;
            *fen_by_category.entry("parking").or_default() += 35_000;
        } else {
            let fen = 9_000 + (i as u64 * 7_919) % 300_000;
            let (whole, cents) = (fen / 100, fen % 100);
            let amount = if whole >= 1_000 {
                format!("\"{},{:03}.{cents:02}\"", whole / 1_000, whole % 1_000)
            } else {
                format!("{whole}.{cents:02}")
            };
            text.push_str(&format!(
                "{unit},{amount},物业费,{date},2026-09,九月物业费\r\n"
            ));
            *fen_by_fund.entry("operating").or_default() += fen;
            *fen_by_category.entry("property_fee").or_default() += fen;
        }
    }
    Month {
        text,
        fen_by_fund,
        fen_by_category,
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable, "the test's text is all GBK");
    assert_ne!(bytes.as_ref(), text.as_bytes(), "GBK differs from UTF-8");
    bytes.into_owned()
}

fn utf8_bom(text: &str) -> Vec<u8> {
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

fn write(c: &Community, name: &str, bytes: &[u8]) -> PathBuf {
    let path = c.path(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Entries in the ledger, balances by fund, and pending proposals, as the
/// server serves them.
fn ledger_now(http: &Http) -> (u64, BTreeMap<String, u64>, usize) {
    let size = http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .expect("size");
    let balances: BTreeMap<String, u64> =
        serde_json::from_value(http.get("/api/v1/balances").ok_json()["balances_fen"].clone())
            .expect("balances_fen");
    let pending = http.get("/api/v1/proposals").ok_json()["proposals"]
        .as_array()
        .map_or(0, Vec::len);
    (size, balances, pending)
}

/// The text of the nav's link to the import section, or null without one.
const NAV_IMPORT_LINK: &str =
    "document.querySelector('#nav a[href=\"#import-section\"]')?.textContent ?? null";

/// Imports `member`'s key file in the page's signing view and waits until
/// the page holds it.
fn import_key(phone: &mut Phone, c: &Community, member: &str) {
    phone.wait_for(
        "document.getElementById('key-file')",
        "the key import field",
    );
    phone.choose_file("#key-file", c.key_path(member));
    phone.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the imported key",
    );
}

/// Chooses `file` (each test file has a name of its own) in the import
/// section and waits for the page's answer to it: `preview`, `error` or
/// `nothing-new`.
fn choose(phone: &mut Phone, file: &Path) -> String {
    let name = json!(file.file_name().unwrap().to_str().unwrap());
    phone.choose_file("#import-file", file);
    let state = phone.wait_for(
        &format!(
            "(() => {{ const e = document.getElementById('import-error'), p = document.getElementById('import-preview');
               if (e && e.dataset.file === {name}) return 'error';
               if (p && p.dataset.file === {name}) return document.getElementById('import-nothing-new') ? 'nothing-new' : 'preview';
               return null; }})()"
        ),
        "the import preview or its error",
    );
    state.as_str().unwrap().to_string()
}

fn section_text(phone: &mut Phone) -> String {
    phone
        .eval("document.getElementById('import-section').innerText")
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Proves the whole import in the page: a 500-row GBK file is previewed
/// with the count and per-fund and per-category totals equal to the
/// file's (summed here, independently), in yuan; "确认入账 500 笔"
/// records 500 entries in one batch whose sum is the file's; the same file
/// again records nothing and the page says so; a UTF-8 (BOM) file with one
/// bad row names line 5 and its reason in Chinese and records nothing.
#[test]
fn the_bookkeeper_imports_a_month_in_the_page_once() {
    let c = Community::new();
    let server = Server::start(&c.data);
    let http = server.http();
    let month = month(ROWS);
    let file = write(&c, "2026-09.csv", &gbk(&month.text));
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Phone::start("bookkeeper", &dir.path().join("phone"), &[]);
    phone.open(&format!("{}/", server.url));
    phone.wait_for(
        "document.getElementById('import-section').dataset.key === 'none'",
        "the import section to have looked for a kept key",
    );
    assert_eq!(
        phone.eval("document.getElementById('import-section').hidden"),
        json!(true),
        "no key kept yet: no import offered"
    );
    assert_eq!(
        phone.eval(NAV_IMPORT_LINK),
        json!(null),
        "no import in the nav either"
    );
    import_key(&mut phone, &c, COMPANY);
    phone.wait_for(
        "document.getElementById('import-file')",
        "the import section, once the company's key is kept",
    );
    assert_eq!(
        phone.wait_for(NAV_IMPORT_LINK, "the import's link in the nav"),
        json!("导入缴费"),
        "the nav leads to the import once the company's key is kept"
    );

    let (size_before, balances_before, _) = ledger_now(&http);
    assert_eq!(choose(&mut phone, &file), "preview");
    let shown = phone.eval(
        "(() => { const p = document.getElementById('import-preview');
           const fen = (sel) => Object.fromEntries([...document.querySelectorAll(sel)].map((r) => [r.dataset.fund || r.dataset.category, r.dataset.fen]));
           return { new: p.dataset.new, already: p.dataset.already, total: document.getElementById('import-total').dataset.fen,
             total_text: document.getElementById('import-total').textContent,
             funds: fen('#import-totals tr[data-fund]'), categories: fen('#import-totals tr[data-category]'),
             rows: document.querySelectorAll('#import-rows tbody tr').length,
             confirm: document.getElementById('import-confirm').textContent }; })()",
    );
    assert_eq!(shown["new"], json!(ROWS.to_string()), "{shown}");
    assert_eq!(shown["already"], json!("0"), "{shown}");
    assert_eq!(shown["rows"], json!(ROWS), "{shown}");
    assert_eq!(
        shown["total"],
        json!(month.total_fen().to_string()),
        "{shown}"
    );
    assert_eq!(
        shown["total_text"],
        json!(feeledger_core::money::format_yuan(month.total_fen())),
        "the total is shown in yuan: {shown}"
    );
    let as_text = |m: &BTreeMap<&str, u64>| -> Value {
        m.iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_string())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(shown["funds"], as_text(&month.fen_by_fund), "{shown}");
    assert_eq!(
        shown["categories"],
        as_text(&month.fen_by_category),
        "{shown}"
    );
    assert_eq!(shown["confirm"], json!(format!("确认入账 {ROWS} 笔")));
    // The preview stored nothing.
    assert_eq!(ledger_now(&http).0, size_before);

    phone.click("#import-confirm");
    let recorded = phone.wait_for(
        "document.getElementById('import-result')?.dataset.recorded || document.getElementById('import-error')?.dataset.code",
        "the import's result",
    );
    assert_eq!(
        recorded,
        json!(ROWS.to_string()),
        "{}",
        section_text(&mut phone)
    );
    let (size_after, balances_after, pending) = ledger_now(&http);
    assert_eq!(size_after, size_before + ROWS as u64);
    assert_eq!(pending, 0, "a batch leaves nothing pending");
    for (fund, fen) in &month.fen_by_fund {
        assert_eq!(
            balances_after[*fund] - balances_before.get(*fund).copied().unwrap_or(0),
            *fen,
            "{fund}"
        );
    }
    let text = section_text(&mut phone);
    assert!(
        text.contains(&format!("已记入 {ROWS} 笔")),
        "the page says what it recorded: {text}"
    );

    // The same file again (the same bytes, another name, so that the wait
    // sees this answer): every row is already recorded, nothing is sent.
    let again = write(&c, "2026-09-again.csv", &gbk(&month.text));
    assert_eq!(choose(&mut phone, &again), "nothing-new");
    let already = phone.eval("document.getElementById('import-preview').dataset.already");
    assert_eq!(already, json!(ROWS.to_string()));
    let text = section_text(&mut phone);
    assert!(
        text.contains("没有新记录"),
        "the page says nothing is new: {text}"
    );
    assert!(
        phone.eval("document.getElementById('import-confirm')") == Value::Null,
        "no button to record anything"
    );
    assert_eq!(ledger_now(&http).0, size_after);

    // One bad amount on line 5 (the header is line 1): nothing recorded.
    let mut lines: Vec<String> = month.text.lines().map(str::to_string).collect();
    lines[4] = "2-0101,\"12,8050\",物业费,2026-09-03,2026-09,写错的金额".to_string();
    let bad = write(&c, "bad.csv", &utf8_bom(&(lines.join("\r\n") + "\r\n")));
    assert_eq!(choose(&mut phone, &bad), "error");
    let error = phone.eval(
        "(() => { const e = document.getElementById('import-error');
           return { code: e.dataset.code, rows: [...e.querySelectorAll('li')].map((li) => [li.dataset.line, li.dataset.code, li.textContent]) }; })()",
    );
    assert_eq!(error["code"], json!("bad_rows"), "{error}");
    assert_eq!(error["rows"].as_array().map(Vec::len), Some(1), "{error}");
    assert_eq!(error["rows"][0][0], json!("5"), "{error}");
    assert_eq!(error["rows"][0][1], json!("amount_syntax"), "{error}");
    let said = error["rows"][0][2].as_str().unwrap();
    assert!(
        said.contains("第 5 行") && said.contains("金额格式不对"),
        "the line and the reason in Chinese: {said}"
    );
    let text = section_text(&mut phone);
    assert!(text.contains("没有记入任何一行"), "{text}");
    assert!(
        !text.contains("amount"),
        "no English in the Chinese page: {text}"
    );
    assert_eq!(ledger_now(&http).0, size_after);
    let errors = phone.eval("document.getElementById('js-errors').textContent");
    assert_eq!(errors, json!(""), "no script errors");
}

/// Proves that a committee member's key, kept in the page, is offered no
/// import: the income rule names the company only.
#[test]
fn a_committee_key_is_offered_no_import() {
    let c = Community::new();
    let server = Server::start(&c.data);
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Phone::start("member", &dir.path().join("phone"), &[]);
    phone.open(&format!("{}/", server.url));
    import_key(&mut phone, &c, COMMITTEE[0]);
    phone.reload();
    phone.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the kept key after a reload",
    );
    phone.wait_for(
        "document.getElementById('import-section').dataset.key === 'not-income'",
        "the import section to have read the kept key",
    );
    assert_eq!(
        phone.eval(
            "document.getElementById('import-section').hidden && !document.getElementById('import-file')"
        ),
        json!(true)
    );
    assert_eq!(
        phone.eval(NAV_IMPORT_LINK),
        json!(null),
        "no import in the nav"
    );
}

/// Proves the preview route's contract: a good file gives each row's
/// canonical body (its id is SHA-256 of `body_jcs`, it names the ledger,
/// the amount is the row's), marked `new`, and stores nothing; a file
/// with two bad rows is a 422 listing both by line with reason codes and
/// columns, and stores nothing; an undecodable file is 422 `encoding`;
/// a body already recorded is marked `recorded` with its entry.
#[test]
fn the_preview_route_reads_the_file_and_stores_nothing() {
    let c = Community::new();
    let server = Server::start(&c.data);
    let http = server.http();
    let before = ledger_now(&http);

    let good = "房号,金额,类别,缴费日期\r\n3-1502,\"1,280.50\",物业费,2026-09-05\r\n3-1502,300,停车费,2026-09-05\r\n";
    let preview = http
        .post("/api/v1/import/preview", "text/csv", gbk(good))
        .ok_json();
    assert_eq!(preview["encoding"], json!("GBK"));
    assert_eq!(
        (preview["count"].clone(), preview["new"].clone()),
        (json!(2), json!(2))
    );
    let rows = preview["rows"].as_array().unwrap();
    assert_eq!(rows[0]["line"], json!(2));
    assert_eq!(rows[1]["line"], json!(3));
    for (row, (fen, fund)) in rows
        .iter()
        .zip([(128_050, "operating"), (30_000, "public_revenue")])
    {
        let jcs = row["body_jcs"].as_str().unwrap();
        assert_eq!(
            row["id"],
            json!(feeledger_core::hash::sha256(jcs.as_bytes()).to_hex())
        );
        let body: Value = serde_json::from_str(jcs).unwrap();
        assert_eq!(support::canonical_json(&body), jcs, "canonical");
        assert_eq!(body["ledger"], json!(ORIGIN));
        assert_eq!(body["kind"], json!("income"));
        assert_eq!(body["amount_fen"], json!(fen));
        assert_eq!(body["fund"], json!(fund));
        assert_eq!(row["status"], json!("new"));
    }
    assert_eq!(ledger_now(&http), before, "the preview stored nothing");

    let bad = "房号,金额,类别,缴费日期\n3-1502,100,物业费,2026-09-05\n3-1503,-5,物业费,2026-09-05\n合计,95,物业费,2026-09-05\n";
    let r = http.post("/api/v1/import/preview", "text/csv", bad);
    assert_eq!(r.status, 422, "{}", r.text());
    let e = r.json();
    assert_eq!(e["error"]["code"], json!("bad_rows"), "{e}");
    assert_eq!(e["error"]["bad_rows"], json!(2), "{e}");
    let listed: Vec<(Value, Value, Value)> = e["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].clone(), r["code"].clone(), r["column"].clone()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (json!(3), json!("amount_negative"), json!("amount")),
            (json!(4), json!("totals_row"), json!("unit")),
        ],
        "{e}"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("第 3 行"));
    assert_eq!(ledger_now(&http), before, "a refused file stored nothing");

    let latin1 = b"unit,amount,date\n3-1502,100,2026-09-05\nCaf\xE9 Rose,200,2026-09-05\n".to_vec();
    let r = http.post("/api/v1/import/preview", "text/csv", latin1);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], json!("encoding"));

    // Record the first row through the CLI, then preview again.
    let csv = write(&c, "one.csv", good.as_bytes());
    let out = support::run([
        "import".to_string(),
        "--url".to_string(),
        server.url.clone(),
        "--key".to_string(),
        c.key_path(COMPANY).display().to_string(),
        "--csv".to_string(),
        csv.display().to_string(),
        "--yes".to_string(),
    ]);
    out.assert_ok();
    let again = http
        .post("/api/v1/import/preview", "text/csv", gbk(good))
        .ok_json();
    assert_eq!(
        (again["new"].clone(), again["recorded"].clone()),
        (json!(0), json!(2))
    );
    let seqs: Vec<Value> = again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].clone())
        .collect();
    assert_eq!(seqs, vec![json!(1), json!(2)], "{again}");
}

//! `feeledger statement`, the notice-board statement (公示), on the demo
//! ledger with the real binary, the real server on loopback and real
//! headless Chromium:
//!
//! - a month's totals and closing balances equal what the test adds up
//!   itself from `feeledger export --json`, and opening + flows = closing
//!   for every fund;
//! - `--url` (verified against the log key) and `--data` write the same
//!   HTML;
//! - the footer of a checkpoint with no cosignature names the committee's
//!   last confirmation (its size, who and when) and how many printed
//!   entries came after it;
//! - a bad period is refused in one line naming the accepted forms;
//! - printed to PDF by Chromium it is one A4 page;
//! - the page opened at the QR code's address re-derives the figures in
//!   the browser and shows "与公示一致" with the paper's check code; a
//!   paper whose code differs, or that claims more entries than the log
//!   holds, is flagged.

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::cdp::Phone;
use support::demo::Demo;
use support::http::Server;
use support::run;

/// The link base the statements of these tests print in their QR code
/// when read from a data directory.
const LINK_BASE: &str = "https://ledger.example/xingguang";

/// Every money posting of the export: (month, fund, category, income
/// fen, spending fen), a reversal undoing its target in the target's month
/// (negated amounts).
type Posting = (String, String, String, i128, i128);

fn postings(export: &Value) -> Vec<Posting> {
    let entries = export["entries"].as_array().unwrap();
    let body = |seq: u64| entries[seq as usize]["leaf"]["body"].clone();
    let of = |b: &Value, sign: i128| -> Vec<Posting> {
        let month = b["date"].as_str().unwrap()[..7].to_string();
        let fen = sign * i128::from(b["amount_fen"].as_u64().unwrap_or(0));
        let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
        match b["kind"].as_str().unwrap() {
            "income" => vec![(month, s("fund"), s("category"), fen, 0)],
            "expenditure" => vec![(month, s("fund"), s("category"), 0, fen)],
            "transfer" => vec![
                (month.clone(), s("from_fund"), "transfer".into(), 0, fen),
                (month, s("to_fund"), "transfer".into(), fen, 0),
            ],
            _ => vec![],
        }
    };
    let mut out = Vec::new();
    for e in entries {
        let b = &e["leaf"]["body"];
        if b["kind"] == "reversal" {
            out.extend(of(&body(b["target_seq"].as_u64().unwrap()), -1));
        } else {
            out.extend(of(b, 1));
        }
    }
    out
}

/// `¥1,280.50` or `−¥5.00` → fen.
fn fen_of(text: &str) -> i128 {
    let negative = text.starts_with('−');
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let fen: i128 = digits.parse().unwrap();
    if negative {
        -fen
    } else {
        fen
    }
}

/// The amounts of the `<tr data-fund="FUND">` row of table `id`.
fn row_amounts(html: &str, id: &str, fund: &str) -> Vec<i128> {
    let table = html.split(&format!("<table id=\"{id}\">")).nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    let row = table
        .split(&format!("<tr data-fund=\"{fund}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row for {fund} in {table}"));
    let row = row.split("</tr>").next().unwrap();
    row.split("<td class=\"num")
        .skip(1)
        .map(|cell| fen_of(cell.split('>').nth(1).unwrap().split('<').next().unwrap()))
        .collect()
}

/// The figures line `data-digest="..."` of a statement.
fn digest_of(html: &str) -> String {
    html.split("data-digest=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The month with the most maintenance-fund spending in the demo: the
/// richest statement.
fn busiest_maintenance_month(export: &Value) -> String {
    let mut count: BTreeMap<String, u32> = BTreeMap::new();
    for e in export["entries"].as_array().unwrap() {
        let b = &e["leaf"]["body"];
        if b["kind"] == "expenditure" && b["fund"] == "maintenance" {
            *count
                .entry(b["date"].as_str().unwrap()[..7].to_string())
                .or_default() += 1;
        }
    }
    count
        .into_iter()
        .max_by_key(|(m, n)| (*n, m.clone()))
        .map(|(m, _)| m)
        .expect("the demo spends from the maintenance fund")
}

fn statement(args: &[&str], out: &Path) -> String {
    let mut all: Vec<&str> = vec!["statement"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap()]);
    let o = run(&all);
    o.assert_ok();
    assert!(o.stdout.contains("check code "), "{}", o.stdout);
    std::fs::read_to_string(out).unwrap()
}

/// Proves that a month's statement prints the closing balance and the
/// income and spending totals of each fund that the test adds up itself
/// from `feeledger export --json`, that opening + income − spending +
/// transfers in − transfers out = closing on every row, that `--url`
/// (verified against the log key) and `--data` write identical HTML, and
/// that the English statement is in English.
#[test]
fn a_months_statement_has_the_exports_totals_and_url_equals_data() {
    let demo = Demo::new();
    let data = demo.data.to_str().unwrap();
    let export = run(["export", "--format", "json", "--data", data]);
    export.assert_ok();
    let export = export.json();
    let month = busiest_maintenance_month(&export);
    let from_data = statement(
        &["--period", &month, "--data", data, "--link-base", LINK_BASE],
        &demo.path("data.html"),
    );
    let server = Server::start(&demo.data);
    let from_url = statement(
        &[
            "--period",
            &month,
            "--url",
            &server.url,
            "--log-key",
            &demo.log_key,
            "--link-base",
            LINK_BASE,
        ],
        &demo.path("url.html"),
    );
    assert_eq!(
        from_data, from_url,
        "--data and --url write the same statement"
    );

    let all = postings(&export);
    let sum = |keep: &dyn Fn(&Posting) -> bool, pick: fn(&Posting) -> i128| -> i128 {
        all.iter().filter(|p| keep(p)).map(pick).sum()
    };
    let mut income_total = 0;
    for fund in ["operating", "public_revenue", "maintenance"] {
        let closing = sum(&|p| p.1 == fund && p.0 <= month, |p| p.3 - p.4);
        let opening = sum(&|p| p.1 == fund && p.0 < month, |p| p.3 - p.4);
        let flow = |pick: fn(&Posting) -> i128, transfers: bool| {
            sum(
                &|p| p.1 == fund && p.0 == month && (p.2 == "transfer") == transfers,
                pick,
            )
        };
        let row = row_amounts(&from_data, "balances", fund);
        assert_eq!(
            row,
            [
                opening,
                flow(|p| p.3, false),
                flow(|p| p.4, false),
                flow(|p| p.3, true),
                flow(|p| p.4, true),
                closing
            ],
            "{fund}: opening, income, spending, transfers in and out, closing"
        );
        let [opening, income, spending, tin, tout, close] = row[..] else {
            unreachable!()
        };
        assert_eq!(opening + income - spending + tin - tout, close, "{fund}");
        income_total += income;
    }
    // The income table's total is the funds' income.
    let income_table = from_data
        .split("<table class=\"lines\" id=\"income\">")
        .nth(1)
        .unwrap();
    let total_row = income_table.split("<tr class=\"total\">").nth(1).unwrap();
    let total_cell = total_row.split("<td class=\"num\">").nth(1).unwrap();
    assert_eq!(fen_of(total_cell.split('<').next().unwrap()), income_total);
    assert!(income_total > 0);
    assert!(from_data.contains("公共收支公示"));

    // The demo's latest checkpoint carries no cosignature (the committee
    // confirmed November); the footer names that confirmation instead:
    // the members whose cosignatures verify with the keys the ledger's
    // governance registers (the demo's witness is registered with the
    // server, not in the ledger, so the paper does not name it).
    let http = server.http();
    let size = http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .unwrap();
    let cosigned = http.get("/api/v1/checkpoints/cosigned").text();
    let confirmed: u64 = cosigned.lines().nth(1).unwrap().parse().unwrap();
    assert!(confirmed < size, "the demo's cosigned checkpoint is older");
    let cosigners = from_data
        .split("<dd id=\"cosigners\">")
        .nth(1)
        .and_then(|x| x.split("</dd>").next())
        .expect("the footer's cosigners");
    assert!(!from_data.contains("此检查点无联署签名"), "{cosigners}");
    let group = |n: u64| {
        let d = n.to_string();
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            if i > 0 && (d.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert!(
        cosigners.starts_with(&format!(
            "业委会最近一次联署确认到第 {} 笔（王建国、赵秀英，",
            group(confirmed)
        )),
        "{cosigners}"
    );
    assert!(
        cosigners.ends_with(&format!(
            "日），本公示的数字还包括此后记的 {} 笔",
            group(size - confirmed)
        )),
        "{cosigners}"
    );
    assert!(from_data.contains(&format!("{LINK_BASE}/?statement={month}&amp;size=")));

    let en = statement(
        &[
            "--period",
            &month,
            "--url",
            &server.url,
            "--log-key",
            &demo.log_key,
            "--lang",
            "en",
            "--link-base",
            LINK_BASE,
        ],
        &demo.path("en.html"),
    );
    assert!(en.contains("Statement of income and spending"), "{en}");
    assert!(
        en.contains(&format!(
            "The committee last cosigned up to entry {} (王建国, 赵秀英, ",
            group(confirmed)
        )) && en.contains(&format!(
            "); the figures printed also include the {} entries recorded after it",
            group(size - confirmed)
        )),
        "{en}"
    );
    assert_eq!(
        digest_of(&en),
        digest_of(&from_data),
        "the figures do not depend on the language"
    );
}

/// Proves that a period in none of the accepted forms is refused in one
/// line that names the forms, and writes nothing.
#[test]
fn a_bad_period_is_refused_naming_the_forms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.html");
    for bad in ["2025-13", "2025Q4", "Dec 2025"] {
        run([
            "statement",
            "--period",
            bad,
            "--data",
            dir.path().to_str().unwrap(),
            "--link-base",
            LINK_BASE,
            "--out",
            out.to_str().unwrap(),
        ])
        .assert_one_line_error(&[bad, "2025-12", "2025-Q4", "2025"]);
        assert!(!out.exists());
    }
    run([
        "statement",
        "--period",
        "2025-12",
        "--data",
        dir.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .assert_one_line_error(&["--link-base"]);
}

fn screenshot_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(&tmp).join("web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn screenshot(phone: &mut Phone, name: &str, full_page: bool) {
    let shot = phone.call(
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": full_page}),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    std::fs::write(screenshot_dir().join(name), png).unwrap();
}

fn viewport(phone: &mut Phone, width: u32, height: u32) {
    phone.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500}),
    );
}

/// The number of page objects of a PDF (`/Type /Page`, not `/Pages`) and
/// the sizes its `/MediaBox`es give, in points.
fn pdf_pages(pdf: &[u8]) -> (usize, Vec<(f64, f64)>) {
    let text = String::from_utf8_lossy(pdf);
    let mut pages = 0;
    for marker in ["/Type /Page", "/Type/Page"] {
        for (at, _) in text.match_indices(marker) {
            if !text[at + marker.len()..].starts_with('s') {
                pages += 1;
            }
        }
    }
    let boxes = text
        .split("/MediaBox")
        .skip(1)
        .filter_map(|rest| {
            let inside = rest.trim_start().strip_prefix('[')?.split(']').next()?;
            let n: Vec<f64> = inside
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (n.len() == 4).then(|| (n[2] - n[0], n[3] - n[1]))
        })
        .collect();
    (pages, boxes)
}

/// Waits for the statement check to finish; returns its data-status.
fn check_status(phone: &mut Phone) -> String {
    phone
        .wait_for(
            "(() => { const s = document.getElementById('statement-section'); return s && s.dataset.status !== 'running' ? s.dataset.status : null; })()",
            "the statement check to finish",
        )
        .as_str()
        .unwrap()
        .to_string()
}

/// Proves that the printed statement is one A4 page (Chromium's PDF), and
/// that the page opened at the QR code's address (with the paper's check
/// code) re-derives the figures in the browser: it shows "与公示一致" with
/// the paper's code and the paper's closing balances. A paper with another
/// code is flagged, and so is one claiming more entries than the log
/// holds. Screenshots of both, in zh and en, are written.
#[test]
fn the_paper_is_one_a4_page_and_the_page_confirms_it() {
    let demo = Demo::new();
    let data = demo.data.to_str().unwrap();
    let export = run(["export", "--format", "json", "--data", data]).json();
    let month = busiest_maintenance_month(&export);
    let server = Server::start(&demo.data);
    let args = |lang: &'static str| {
        vec![
            "--period".to_string(),
            month.clone(),
            "--url".into(),
            server.url.clone(),
            "--log-key".into(),
            demo.log_key.clone(),
            "--lang".into(),
            lang.into(),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let mut phone = Phone::start("paper", &dir.path().join("paper"), &[]);
    let mut papers = Vec::new();
    for lang in ["zh", "en"] {
        let path = demo.path(&format!("statement-{lang}.html"));
        let a = args(lang);
        let html = statement(&a.iter().map(String::as_str).collect::<Vec<_>>(), &path);
        let url = format!("file://{}", path.display());
        viewport(&mut phone, 794, 1123);
        phone.call("Page.navigate", json!({"url": url}));
        phone.wait_for(
            &format!("location.href === {} && document.readyState === 'complete' && !!document.getElementById('digest')", json!(url)),
            "the statement to load",
        );
        let pdf = phone.call(
            "Page.printToPDF",
            json!({"preferCSSPageSize": true, "printBackground": true}),
        );
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(pdf["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(
            screenshot_dir().join(format!("statement-paper-{lang}.pdf")),
            &pdf,
        )
        .unwrap();
        screenshot(&mut phone, &format!("statement-paper-{lang}.png"), true);
        let (pages, boxes) = pdf_pages(&pdf);
        assert_eq!(pages, 1, "{lang}: the statement is one page");
        for (w, h) in boxes {
            assert!(
                (w - 595.3).abs() < 2.0 && (h - 841.9).abs() < 2.0,
                "{lang}: the page is A4 (595 × 842 pt), not {w} × {h}"
            );
        }
        papers.push(html);
    }
    let zh = &papers[0];
    let digest = digest_of(zh);
    let link = zh
        .split("id=\"link\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(
        link.starts_with(&format!("{}/?statement={month}&size=", server.url)),
        "{link}"
    );
    assert!(link.ends_with(&format!("&code={digest}")), "{link}");

    let mut resident = Phone::start("resident", &dir.path().join("resident"), &[]);
    viewport(&mut resident, 390, 844);
    resident.open(&link);
    assert_eq!(check_status(&mut resident), "match");
    let shown = resident.eval("document.getElementById('statement-section').dataset.digest");
    assert_eq!(shown, json!(digest));
    let text = resident
        .eval("document.getElementById('statement-section').innerText")
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("与公示一致"), "{text}");
    for fund in ["operating", "public_revenue", "maintenance"] {
        let closing = *row_amounts(zh, "balances", fund).last().unwrap();
        let page = resident.eval(&format!(
            "document.querySelector('#st-balances tr[data-fund=\"{fund}\"] td:last-child').textContent"
        ));
        assert_eq!(fen_of(page.as_str().unwrap()), closing, "{fund}");
    }
    resident.eval("document.getElementById('statement-section').scrollIntoView()");
    screenshot(&mut resident, "statement-check-zh.png", false);
    resident.open(&format!("{link}&lang=en"));
    assert_eq!(check_status(&mut resident), "match");
    screenshot(&mut resident, "statement-check-en.png", false);

    // A paper printed with another figure carries another code.
    let mut other = digest.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let other = String::from_utf8(other).unwrap();
    resident.open(&link.replace(&digest, &other));
    assert_eq!(check_status(&mut resident), "differs");
    let text = resident
        .eval("document.getElementById('statement-section').innerText")
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("与公示不一致"), "{text}");

    // A paper claiming more entries than the log holds.
    let size: u64 = link
        .split("&size=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    resident.open(&link.replace(&format!("&size={size}"), &format!("&size={}", size + 5)));
    assert_eq!(check_status(&mut resident), "failed");
    let text = resident
        .eval("document.getElementById('statement-section').innerText")
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("账本被回退过"), "{text}");
}

/// Proves the statement made in the page itself: the footer's form opens
/// `?statement=PERIOD` (no size, no code), the page verifies the whole log
/// and shows the statement of the latest checkpoint with the same check
/// code and closing balances as `feeledger statement` made from the same
/// ledger, and names the committee's last confirmation in the paper's
/// words; printed (print media), only the statement shows, on A4 pages.
#[test]
fn the_page_makes_and_prints_the_same_statement() {
    let demo = Demo::new();
    let data = demo.data.to_str().unwrap();
    let export = run(["export", "--format", "json", "--data", data]).json();
    let month = busiest_maintenance_month(&export);
    let server = Server::start(&demo.data);
    let paper_path = demo.path("statement.html");
    let paper = statement(
        &[
            "--period",
            &month,
            "--url",
            &server.url,
            "--log-key",
            &demo.log_key,
        ],
        &paper_path,
    );
    let digest = digest_of(&paper);

    let dir = tempfile::tempdir().unwrap();
    let mut clerk = Phone::start("clerk", &dir.path().join("clerk"), &[]);
    clerk.open(&format!("{}/", server.url));
    clerk.wait_for(
        "document.getElementById('statement-form')",
        "the footer's statement form",
    );
    clerk.type_into("#statement-period", &month);
    clerk.eval("document.getElementById('statement-form').requestSubmit(); true");
    clerk.wait_for(
        &format!(
            "location.search === {} && !!document.getElementById('statement-section')",
            json!(format!("?statement={month}"))
        ),
        "the page's own statement",
    );
    assert_eq!(
        check_status(&mut clerk),
        "unchecked",
        "no paper code to compare"
    );
    let shown = clerk.eval("document.getElementById('statement-section').dataset.digest");
    assert_eq!(shown, json!(digest), "the page's code is the CLI's");
    for fund in ["operating", "public_revenue", "maintenance"] {
        let closing = *row_amounts(&paper, "balances", fund).last().unwrap();
        let page = clerk.eval(&format!(
            "document.querySelector('#st-balances tr[data-fund=\"{fund}\"] td:last-child').textContent"
        ));
        assert_eq!(fen_of(page.as_str().unwrap()), closing, "{fund}");
    }
    // The committee's last confirmation, in the same words as the paper's
    // footer (the demo's latest checkpoint is newer than the confirmed one).
    let paper_confirmed = paper
        .split("<dd id=\"cosigners\">")
        .nth(1)
        .and_then(|x| x.split("</dd>").next())
        .expect("the paper's cosigned line");
    let page_confirmed = clerk.eval(
        "(() => { const el = document.getElementById('statement-confirmed'); return el && {status: el.dataset.status, text: el.textContent}; })()",
    );
    assert_eq!(
        page_confirmed,
        json!({"status": "before", "text": paper_confirmed}),
        "the page names the last confirmation as the paper does"
    );
    assert!(clerk
        .eval("!!document.getElementById('statement-print')")
        .as_bool()
        .unwrap());

    clerk.call("Emulation.setEmulatedMedia", json!({"media": "print"}));
    let shown = clerk.eval(
        "[...document.querySelectorAll('#app > section, #nav, #footer')].filter((el) => getComputedStyle(el).display !== 'none').map((el) => el.id)",
    );
    assert_eq!(
        shown,
        json!(["statement-section"]),
        "printed, only the statement shows"
    );
    let pdf = clerk.call("Page.printToPDF", json!({"preferCSSPageSize": true}));
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(pdf["data"].as_str().unwrap())
        .unwrap();
    let (pages, boxes) = pdf_pages(&pdf);
    assert!((1..=3).contains(&pages), "{pages} pages");
    for (w, h) in boxes {
        assert!(
            (w - 595.3).abs() < 2.0 && (h - 841.9).abs() < 2.0,
            "A4, not {w} × {h}"
        );
    }
}

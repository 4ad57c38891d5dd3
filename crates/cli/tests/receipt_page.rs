//! The readable receipt page (`/receipt/<seq>`, `web/receipt.js`), in real
//! headless Chromium (support/cdp.rs) against the real server on loopback
//! and a ledger made by the real binary.
//!
//! What is proved: a fee's receipt shows the community, the unit, the
//! amount in yuan, the period, the date, the entry number and who signed,
//! and "已核验 ✓" once the page verified it; its QR code, decoded from the
//! pixels Chromium drew, is the receipt's own address; the English receipt
//! writes dates as `6 Dec 2026`, holds no Chinese words and fits a 390 px
//! screen; a server that changes the amount gets no tick and a plain
//! failure; a reversed fee says so once the reversal verified; a path that
//! is not an entry number is a JSON 400, a missing entry a message in the
//! page; and the receipt prints on exactly one A4 page.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::cdp::Phone;
use support::http::Server;
use support::proxy::{forward_get, loopback, path_of, Loopback};
use support::{Community, COMMITTEE, COMPANY};

/// The fee the receipts are of: ¥1,280.50 from unit 3-1502 for November,
/// paid on 6 December 2026.
const UNIT: &str = "3-1502";
const AMOUNT_FEN: u64 = 128_050;

/// A community with one property fee, served on loopback. (The server is
/// dropped, and killed, before the community's directory is removed.)
struct Fixture {
    server: Server,
    _c: Community,
    seq: u64,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(|_, _| {})
    }

    /// As [`Fixture::new`], with `more` run on the ledger (given the fee's
    /// seq) before it is served.
    fn with(more: impl FnOnce(&Community, u64)) -> Fixture {
        let c = Community::new();
        let out = c.propose(
            &[COMPANY],
            "2026-12-06",
            &[
                "income",
                "--amount",
                "1280.50",
                "--category",
                "property_fee",
                "--payer",
                UNIT,
                "--period",
                "2026-11",
            ],
        );
        out.assert_ok();
        let seq = out
            .committed_seq()
            .unwrap_or_else(|| panic!("the fee commits at once: {out:#?}"));
        more(&c, seq);
        let server = Server::start(&c.data);
        Fixture { server, _c: c, seq }
    }

    /// The receipt's address on `base` (the server or a proxy).
    fn receipt_url(&self, base: &str, query: &str) -> String {
        format!("{base}/receipt/{}{query}", self.seq)
    }
}

/// A new phone: Chromium with a profile of its own under `dir`.
fn phone(dir: &Path, name: &str) -> Phone {
    Phone::start(name, &dir.join(format!("phone-{name}")), &[])
}

/// Loads `url` and waits until the receipt has finished verifying.
fn open_receipt(phone: &mut Phone, url: &str) -> Value {
    phone.open(url);
    let shown = phone.eval(
        "(() => { const text = (id) => document.getElementById(id)?.textContent ?? null;
          const r = document.getElementById('receipt');
          return { status: r?.dataset.status ?? null, seq: r?.dataset.seq ?? null,
            community: text('receipt-community'), unit: text('receipt-unit'), amount: text('receipt-amount'),
            amount_fen: document.getElementById('receipt-amount')?.dataset.fen ?? null,
            what: text('receipt-what'), period: text('receipt-period'), date: text('receipt-date'),
            number: text('receipt-seq'), recorded: text('receipt-recorded'), signers: text('receipt-signers'),
            verified: text('receipt-verified'), failed: text('receipt-failed'), error: text('receipt-error'),
            reversed: text('receipt-reversed'), reversal_verified: document.getElementById('receipt-reversed')?.dataset.verified ?? null,
            qr_text: document.getElementById('receipt-qr')?.dataset.qrText ?? null,
            download: document.getElementById('receipt-download')?.getAttribute('href') ?? null,
            text: r?.innerText ?? '', lang: document.documentElement.lang,
            errors: document.getElementById('js-errors')?.textContent ?? '' }; })()",
    );
    assert_eq!(shown["errors"], json!(""), "no script errors: {shown:#}");
    shown
}

/// The QR code as Chromium draws it, read back from its pixels: the SVG
/// is drawn on a canvas at 4 px a module, and `rqrr` decodes the grey
/// values. Returns every code found.
fn decode_qr(phone: &mut Phone) -> Vec<String> {
    let drawn = phone.eval(
        "(async () => {
          const el = document.getElementById('receipt-qr');
          const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(el)], { type: 'image/svg+xml' }));
          const img = new Image();
          img.src = url;
          await img.decode();
          const modules = el.viewBox.baseVal.width;
          const side = modules * 4;
          const canvas = document.createElement('canvas');
          canvas.width = side;
          canvas.height = side;
          const ctx = canvas.getContext('2d');
          ctx.fillStyle = '#fff';
          ctx.fillRect(0, 0, side, side);
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(img, 0, 0, side, side);
          const px = ctx.getImageData(0, 0, side, side).data;
          let grey = '';
          for (let i = 0; i < px.length; i += 4) grey += String.fromCharCode(Math.round((px[i] + px[i + 1] + px[i + 2]) / 3));
          URL.revokeObjectURL(url);
          return { side, grey: btoa(grey) };
        })()",
    );
    let side = drawn["side"].as_u64().expect("the QR code was drawn") as usize;
    let grey = BASE64
        .decode(drawn["grey"].as_str().unwrap())
        .expect("base64 grey values");
    assert_eq!(grey.len(), side * side, "one grey value per pixel");
    let dark = grey.iter().filter(|&&g| g < 128).count();
    assert!(
        dark > side * side / 5 && dark < side * side * 4 / 5,
        "the drawing holds a code, not a blank square: {dark} of {} pixels dark",
        side * side
    );
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| grey[y * side + x]);
    image
        .detect_grids()
        .into_iter()
        .map(|grid| grid.decode().expect("the QR code decodes").1)
        .collect()
}

/// True if `text` holds a CJK ideograph.
fn has_chinese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3400}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c))
}

/// A proxy in front of `upstream` that serves entry `seq` with 1 yuan more
/// than the signed bytes say (the JSON's amount, not the leaf bytes): a
/// server lying about what was paid.
fn amount_changing_proxy(upstream: &str, seq: u64) -> Loopback {
    let upstream = upstream.to_string();
    let client = reqwest::blocking::Client::new();
    let entry_path = format!("/api/v1/entries/{seq}");
    loopback(move |target| {
        let mut answer = forward_get(&client, &upstream, target)?;
        if answer.status == 200 && path_of(target) == entry_path {
            let mut entry: Value = serde_json::from_slice(&answer.body).unwrap();
            let fen = entry["leaf"]["body"]["amount_fen"].as_u64().unwrap();
            entry["leaf"]["body"]["amount_fen"] = Value::from(fen + 100);
            answer.body = serde_json::to_vec(&entry).unwrap();
        }
        Ok(answer)
    })
}

/// Proves the Chinese receipt of a fee shows the community, the unit, the
/// amount in yuan, what it was for, the period and date in Chinese, the
/// entry number, who signed and "已核验 ✓" after the page verified it;
/// that its QR code, decoded from the drawn pixels, is the receipt's own
/// address; and that its download is the machine-readable tlog-proof.
#[test]
fn a_fee_receipt_shows_the_unit_the_amount_and_the_verified_mark() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "resident");
    let url = f.receipt_url(&f.server.url, "");
    let shown = open_receipt(&mut p, &url);
    let seq = f.seq;
    assert_eq!(shown["status"], json!("verified"), "{shown:#}");
    assert_eq!(shown["lang"], json!("zh-CN"), "{shown:#}");
    assert_eq!(shown["seq"], json!(seq.to_string()), "{shown:#}");
    assert_eq!(
        shown["community"],
        json!("星光小区 X Star District"),
        "{shown:#}"
    );
    assert_eq!(shown["unit"], json!(UNIT), "{shown:#}");
    assert_eq!(shown["amount"], json!("¥1,280.50"), "{shown:#}");
    assert_eq!(
        shown["amount_fen"],
        json!(AMOUNT_FEN.to_string()),
        "{shown:#}"
    );
    assert_eq!(shown["what"], json!("物业费，计入物业服务费"), "{shown:#}");
    assert_eq!(shown["period"], json!("2026年11月"), "{shown:#}");
    assert_eq!(shown["date"], json!("2026年12月6日"), "{shown:#}");
    assert_eq!(shown["number"], json!(format!("第 {seq} 笔")), "{shown:#}");
    assert_eq!(
        shown["signers"],
        json!(format!("物业公司 {COMPANY}")),
        "{shown:#}"
    );
    let recorded = shown["recorded"].as_str().unwrap();
    assert!(
        recorded.starts_with("2026年12月") && recorded.contains(':'),
        "{shown:#}"
    );
    let verified = shown["verified"].as_str().unwrap_or("");
    assert!(
        verified.starts_with("已核验 ✓") && verified.contains("无法悄悄改动或删除"),
        "the tick and what it means: {shown:#}"
    );
    assert_eq!(shown["failed"], Value::Null, "{shown:#}");

    assert_eq!(
        shown["qr_text"],
        json!(url),
        "the QR code is given the receipt's address"
    );
    assert_eq!(
        decode_qr(&mut p),
        vec![url.clone()],
        "the drawn QR code decodes to the receipt's address"
    );

    let download = shown["download"].as_str().unwrap();
    assert_eq!(download, format!("/api/v1/entries/{seq}/receipt"));
    let proof = f.server.http().get(download);
    assert_eq!(proof.status, 200, "{proof:?}");
    assert!(
        proof.text().starts_with("c2sp.org/tlog-proof@v1\n"),
        "the download is the tlog-proof file: {}",
        proof.text()
    );

    // The card in the residents' page links to this receipt.
    p.open(&format!("{}/?unit={UNIT}", f.server.url));
    let link = p.wait_for(
        &format!("document.querySelector('#mine-list [data-card-seq=\"{seq}\"] a.receipt')?.getAttribute('href')"),
        "the receipt link on the payment's card",
    );
    assert_eq!(link, json!(format!("/receipt/{seq}")));
}

/// Proves the English receipt writes the date as `6 Dec 2026` and the
/// period as `Nov 2026`, says "Verified ✓", holds no Chinese words (only
/// the community's own name is Chinese), its QR code keeps English, and it
/// fits a 390 px phone screen without scrolling sideways.
#[test]
fn the_english_receipt_writes_dates_the_english_way() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "resident");
    p.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    let url = f.receipt_url(&f.server.url, "?lang=en");
    let shown = open_receipt(&mut p, &url);
    let widths =
        p.eval("[document.documentElement.clientWidth, document.documentElement.scrollWidth]");
    assert_eq!(
        widths,
        json!([390, 390]),
        "no sideways scrolling on a phone"
    );
    assert_eq!(shown["status"], json!("verified"), "{shown:#}");
    assert_eq!(shown["lang"], json!("en"), "{shown:#}");
    assert_eq!(shown["date"], json!("6 Dec 2026"), "{shown:#}");
    assert_eq!(shown["period"], json!("Nov 2026"), "{shown:#}");
    assert_eq!(
        shown["number"],
        json!(format!("No. {}", f.seq)),
        "{shown:#}"
    );
    assert_eq!(shown["amount"], json!("¥1,280.50"), "{shown:#}");
    assert_eq!(
        shown["what"],
        json!("property fee, paid into “Property fees”"),
        "{shown:#}"
    );
    assert!(
        shown["recorded"].as_str().unwrap().contains("Dec 2026"),
        "{shown:#}"
    );
    assert!(
        shown["verified"]
            .as_str()
            .unwrap_or("")
            .starts_with("Verified ✓"),
        "{shown:#}"
    );
    let text = shown["text"].as_str().unwrap().replace("星光小区", "");
    assert!(
        !has_chinese(&text),
        "Chinese in the English receipt: {text}"
    );
    assert_eq!(shown["qr_text"], json!(url), "{shown:#}");
}

/// Proves a server that serves the fee with another amount than the
/// signed bytes gets no tick: the receipt says plainly that it does not
/// match the public ledger, names the step, and shows no "已核验".
#[test]
fn a_changed_amount_gets_no_tick_and_a_plain_failure() {
    let f = Fixture::new();
    let lying = amount_changing_proxy(&f.server.url, f.seq);
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "resident");
    let shown = open_receipt(&mut p, &f.receipt_url(&lying.url, ""));
    assert_eq!(shown["status"], json!("failed"), "{shown:#}");
    assert_eq!(
        shown["verified"],
        Value::Null,
        "no verified mark: {shown:#}"
    );
    let text = shown["text"].as_str().unwrap();
    assert!(!text.contains('✓') && !text.contains("已核验"), "{text}");
    let failed = shown["failed"].as_str().unwrap_or("");
    assert!(
        failed.starts_with("未能核验") && failed.contains("与公开账本对不上"),
        "a plain failure: {shown:#}"
    );
    assert!(
        failed.contains("¥1,281.50") && failed.contains("¥1,280.50"),
        "{failed}"
    );
    assert!(
        text.contains("尚未核验"),
        "what is shown is marked as the server's word: {text}"
    );
}

/// Proves a reversed fee's receipt says it was reversed, as verified, once
/// the reversing entry verified and names it; and that the reversal's own
/// receipt names what it reverses, the unit and the amount it undoes.
#[test]
fn a_reversed_fee_says_so_and_the_reversal_has_its_own_receipt() {
    let reversal = std::cell::Cell::new(0);
    let f = Fixture::with(|c, seq| {
        let out = c.propose(
            &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
            "2026-12-07",
            &[
                "reversal",
                "--target",
                &seq.to_string(),
                "--reason",
                "重复录入",
            ],
        );
        out.assert_ok();
        reversal.set(out.committed_seq().expect("the reversal commits at once"));
    });
    let reversal = reversal.get();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "resident");
    let shown = open_receipt(&mut p, &f.receipt_url(&f.server.url, ""));
    assert_eq!(shown["status"], json!("verified"), "{shown:#}");
    assert_eq!(shown["reversal_verified"], json!("true"), "{shown:#}");
    assert!(
        shown["reversed"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("已被第 {reversal} 笔冲销")),
        "{shown:#}"
    );

    let shown = open_receipt(&mut p, &format!("{}/receipt/{reversal}", f.server.url));
    assert_eq!(shown["status"], json!("verified"), "{shown:#}");
    assert_eq!(
        shown["what"],
        json!(format!("冲销第 {} 笔：重复录入", f.seq)),
        "{shown:#}"
    );
    assert_eq!(shown["unit"], json!(UNIT), "{shown:#}");
    assert_eq!(shown["amount"], json!("¥1,280.50"), "{shown:#}");
    assert_eq!(shown["reversed"], Value::Null, "{shown:#}");
}

/// Proves a receipt address that is not an entry number is refused with
/// the API's JSON 400, and an entry the ledger does not hold gets a
/// message in the page's language (and no tick).
#[test]
fn a_bad_or_missing_receipt_is_said_so() {
    let f = Fixture::new();
    let message = f
        .server
        .http()
        .get("/receipt/12abc")
        .assert_error(400, "malformed");
    assert!(
        message.contains("/receipt/12"),
        "the fix is named: {message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "resident");
    let shown = open_receipt(&mut p, &format!("{}/receipt/99", f.server.url));
    assert_eq!(shown["status"], json!("failed"), "{shown:#}");
    assert_eq!(
        shown["error"],
        json!("账本里没有第 99 笔记录。"),
        "{shown:#}"
    );
    assert_eq!(shown["verified"], Value::Null, "{shown:#}");
}

/// Proves the receipt prints on one A4 portrait page: Chromium's
/// `Page.printToPDF`, with the page's own `@page` size, gives a PDF of one
/// page whose MediaBox is 595×842 pt.
#[test]
fn the_receipt_prints_on_one_a4_page() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "printer");
    let shown = open_receipt(&mut p, &f.receipt_url(&f.server.url, ""));
    assert_eq!(shown["status"], json!("verified"), "{shown:#}");
    let printed = p.call(
        "Page.printToPDF",
        json!({"preferCSSPageSize": true, "printBackground": true}),
    );
    let pdf = BASE64
        .decode(printed["data"].as_str().expect("PDF data"))
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert_eq!(pages, 1, "one page");
    let boxes: Vec<Vec<f64>> = text
        .split("/MediaBox [")
        .skip(1)
        .map(|rest| {
            rest.split(']')
                .next()
                .unwrap()
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect()
        })
        .collect();
    assert!(!boxes.is_empty(), "the PDF names its MediaBox");
    for b in boxes {
        assert_eq!(b.len(), 4, "{b:?}");
        assert!(
            (b[2] - b[0] - 595.0).abs() < 1.0 && (b[3] - b[1] - 842.0).abs() < 1.0,
            "A4 portrait is 595×842 pt: {b:?}"
        );
    }
}

/// Writes docs/screenshots/receipt-zh.png and receipt-en.png: the receipt
/// on a 390×844 phone screen, for the README. Run by hand after a change
/// to the page: `cargo test -p feeledger --test receipt_page -- --ignored`.
#[test]
#[ignore = "writes the committed screenshots; run by hand"]
fn receipt_screenshots() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(dir.path(), "screenshot");
    p.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (name, query) in [("receipt-zh.png", ""), ("receipt-en.png", "?lang=en")] {
        let shown = open_receipt(&mut p, &f.receipt_url(&f.server.url, query));
        assert_eq!(shown["status"], json!("verified"), "{shown:#}");
        let shot = p.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = BASE64.decode(shot["data"].as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        std::fs::write(out.join(name), &png).unwrap();
        println!("wrote {}", out.join(name).display());
    }
}

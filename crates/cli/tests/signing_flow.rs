//! The whole signing flow of issue 14 in one run, each person on a phone
//! of their own (a separate headless Chromium profile, support/cdp.rs),
//! against the real server on loopback and a ledger made by the real
//! binary. No step uses the CLI or a key file except the founders'
//! imports: every signature after the genesis is made in a page.
//!
//! 1. A new committee member (孙) makes a key in her page; committee member
//!    王 proposes its enrolment in his page; committee member 赵 and the
//!    company's bookkeeper co-sign it in theirs, and it commits.
//! 2. The bookkeeper proposes an expenditure in the page, with an invoice
//!    attached (hashed in the browser, uploaded, bound by hash).
//! 3. 孙 (the new key) and 王 co-sign it in their pages, each after the
//!    page checked the invoice; 孙's second tap is answered "already
//!    signed"; the second signature commits it.
//! 4. A resident's page (a fifth profile) verifies the ledger itself up to
//!    the new entry, and the entry's receipt page shows it verified.
//!
//! What each piece does alone (tampered amounts, withdrawals, bad keys,
//! mismatching files) is proved in signing_page.rs, enrol_page.rs,
//! propose_page.rs, ledger_page.rs and receipt_page.rs.

mod support;

use serde_json::{json, Value};
use support::http::{Http, Server};
use support::page::{choose, cosign, import_key, phone};
use support::{Community, COMMITTEE, COMPANY};

/// The new member's key name, made in her page.
const NEW: &str = "weiyuan-sun";

/// The keys that signed proposal `id` so far.
fn signers(http: &Http, id: &str) -> Vec<String> {
    http.get(&format!("/api/v1/proposals/{id}")).ok_json()["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect()
}

/// Proves the flow above end to end, and at each step what the server then
/// holds: the enrolment commits with the roles it showed, the expenditure
/// is pending with exactly the typed amount and the invoice's SHA-256, the
/// new key's signature counts toward the committee's threshold, the entry
/// commits with the company's and both members' signatures, and a
/// resident's page verifies the ledger through it.
#[test]
fn a_member_enrolled_in_the_page_cosigns_a_payment_proposed_in_the_page() {
    let c = Community::new();
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let server = Server::start(&c.data);
    let http = server.http();
    let page = format!("{}/", server.url);
    let dir = tempfile::tempdir().unwrap();

    // 1. 孙 makes her key in her page.
    let mut sun = phone(dir.path(), "sun");
    sun.open(&page);
    sun.wait_for(
        "document.getElementById('key-make')",
        "the make-a-key button",
    );
    sun.type_into("#key-name", NEW);
    sun.click("#key-make");
    sun.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the new key",
    );
    let key_def = sun
        .eval("document.getElementById('key-public').textContent")
        .as_str()
        .unwrap()
        .to_string();
    let public_key = sun
        .eval("document.getElementById('key-card').dataset.publicKey")
        .as_str()
        .unwrap()
        .to_string();

    // 王 proposes her enrolment in his page.
    let mut wang = phone(dir.path(), "wang");
    wang.open(&page);
    import_key(&mut wang, &c, COMMITTEE[0]);
    wang.wait_for(
        "document.querySelector('#enrol-state[data-state=ready]')",
        "the enrol form",
    );
    wang.type_into("#enrol-key", &key_def);
    wang.type_into("#enrol-name", "");
    wang.type_into("#enrol-threshold", "");
    wang.click("#enrol-check");
    let added = wang.wait_for(
        "document.querySelector('#enrol-preview [data-change=added]')?.dataset.name",
        "the enrolment preview",
    );
    assert_eq!(added, json!(NEW));
    wang.click("#enrol-propose");
    let proposed = wang.wait_for(
        "(() => { const r = document.getElementById('enrol-result'); return r && r.dataset.status !== 'proposing' ? {status: r.dataset.status, id: r.dataset.id} : null; })()",
        "the enrolment's answer",
    );
    assert_eq!(proposed["status"], json!("pending"), "{proposed}");
    let enrolment = proposed["id"].as_str().unwrap().to_string();

    // 赵 and the bookkeeper co-sign it in theirs.
    let mut zhao = phone(dir.path(), "zhao");
    zhao.open(&page);
    import_key(&mut zhao, &c, COMMITTEE[1]);
    let (status, text) = cosign(&mut zhao, &enrolment);
    assert_eq!(status, "pending", "the company has not signed: {text}");
    let mut bookkeeper = phone(dir.path(), "bookkeeper");
    bookkeeper.open(&page);
    import_key(&mut bookkeeper, &c, COMPANY);
    let (status, text) = cosign(&mut bookkeeper, &enrolment);
    assert_eq!(status, "committed", "{text}");
    let ledger = http.get("/api/v1/ledger").ok_json();
    assert!(
        ledger["roles"]["committee"]["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == json!(NEW) && k["public_key"] == json!(public_key)),
        "the committee now lists the key made in 孙's page: {ledger}"
    );

    // 2. The bookkeeper proposes a payment with an invoice, in the page.
    let invoice_path = c.path("电梯维修发票.pdf");
    let invoice: Vec<u8> = (0..30_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&invoice_path, &invoice).unwrap();
    let sha = feeledger_core::hash::sha256(&invoice).to_hex();
    bookkeeper.reload();
    bookkeeper.wait_for(
        "document.querySelector('#propose-form')",
        "the propose form",
    );
    choose(&mut bookkeeper, "#propose-kind", "expenditure");
    choose(&mut bookkeeper, "#propose-category", "repairs");
    bookkeeper.type_into("#propose-party", "星光电梯维修有限公司");
    bookkeeper.type_into("#propose-amount", "1,280.50");
    bookkeeper.type_into("#propose-date", "2026-02-10");
    bookkeeper.type_into("#propose-memo", "3号楼电梯更换钢丝绳");
    bookkeeper.choose_file("#propose-files", &invoice_path);
    let hashed = bookkeeper.wait_for(
        "document.querySelector('#propose-file-list li')?.dataset.sha256",
        "the hashed invoice",
    );
    assert_eq!(hashed, json!(sha));
    bookkeeper.click("#propose-submit");
    bookkeeper.wait_for(
        "document.getElementById('propose-confirm')",
        "the confirmation",
    );
    bookkeeper.click("#propose-yes");
    let status = bookkeeper.wait_for(
        "document.getElementById('propose-result')?.dataset.status",
        "the server's answer",
    );
    assert_eq!(status, json!("pending"));
    let id = bookkeeper
        .eval("document.getElementById('propose-result').dataset.id")
        .as_str()
        .unwrap()
        .to_string();
    let pending = http.get(&format!("/api/v1/proposals/{id}")).ok_json();
    assert_eq!(pending["body"]["amount_fen"], json!(128050), "{pending}");
    assert_eq!(
        pending["body"]["attachments"][0]["sha256"],
        json!(sha),
        "{pending}"
    );
    assert_eq!(
        http.get(&format!("/api/v1/attachments/{sha}")).body,
        invoice,
        "the server keeps the uploaded invoice"
    );

    // 3. 孙 co-signs with the key her page made, after the invoice check.
    sun.reload();
    let card = format!("[data-sign-card=\"{id}\"]");
    let checked = sun.wait_for(
        &format!("(() => {{ const s = document.querySelector('{card} [data-file]')?.dataset.fileState; return s && s !== 'checking' ? s : null; }})()"),
        "the invoice check in 孙's page",
    );
    assert_eq!(checked, json!("ok"));
    let (status, text) = cosign(&mut sun, &id);
    assert_eq!(status, "pending", "one of two members: {text}");
    assert!(signers(&http, &id).contains(&NEW.to_string()));
    let (status, text) = cosign(&mut sun, &id);
    assert_eq!(status, "already", "{text}");
    assert_eq!(
        sun.requests("POST")
            .iter()
            .filter(|u| u.contains(&format!("/api/v1/proposals/{id}/signatures")))
            .count(),
        1,
        "the second tap posts nothing"
    );

    // 王's signature reaches the committee's threshold: committed.
    wang.reload();
    let (status, text) = cosign(&mut wang, &id);
    assert_eq!(status, "committed", "{text}");
    let seq = wang
        .eval(&format!(
            "Number(document.querySelector('[data-committed=\"{id}\"]').dataset.seq)"
        ))
        .as_u64()
        .expect("the page names the entry");
    let entry = http.get(&format!("/api/v1/entries/{seq}")).ok_json();
    assert_eq!(entry["leaf"]["body"]["amount_fen"], json!(128050));
    let mut keys: Vec<&str> = entry["leaf"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    let mut expected = vec![COMMITTEE[0], NEW, COMPANY];
    expected.sort_unstable();
    assert_eq!(keys, expected, "{entry}");

    // 4. A resident's page verifies the ledger itself, through the entry.
    let size = http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .expect("the ledger's size");
    assert!(size > seq);
    let mut resident = phone(dir.path(), "resident");
    resident.open(&page);
    let check: Value = resident.wait_for(
        "(() => { const el = document.getElementById('ledger-check'); const s = el && el.dataset.state;
           return (s === 'verified' || s === 'failed') ? {state: s, size: el.dataset.size} : null; })()",
        "the resident page's check of the ledger",
    );
    assert_eq!(
        check,
        json!({"state": "verified", "size": size.to_string()}),
        "the resident's page verified every entry, the new payment included"
    );
    resident.open(&format!("{}/receipt/{seq}", server.url));
    let receipt = resident.wait_for(
        "(() => { const r = document.getElementById('receipt'); const s = r && r.dataset.status;
           return s === 'verified' || s === 'failed' ? {status: s, amount: document.getElementById('receipt-amount')?.dataset.fen} : null; })()",
        "the payment's receipt",
    );
    assert_eq!(
        receipt,
        json!({"status": "verified", "amount": "128050"}),
        "the receipt of the payment is verified in the resident's page"
    );
}

//! Proposing in the residents' page (记一笔), driven in real headless
//! Chromium (support/cdp.rs), one profile directory per phone, against the
//! real server on loopback and a ledger made by the real binary.
//!
//! What is proved: the company's bookkeeper, with a key file made by
//! `feeledger keygen` imported in the page, proposes an expenditure with an
//! attachment; the server then holds a pending proposal of exactly the
//! typed amount in fen, listing the file's SHA-256, and serves the file; an
//! ambiguous amount is refused in plain Chinese and nothing is sent; a
//! committee member's page downloads and checks the file (附件已核对) and
//! co-signs; a server that serves other bytes, or none, gets the co-sign
//! button disabled with the reason in words.

mod support;

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use support::http::Server;
use support::page::{choose, import_key, phone};
use support::proxy::{forward_get, loopback, path_of, Answer};
use support::{Community, COMMITTEE, COMPANY};

/// What the proxy does to `/api/v1/attachments/...`.
const HONEST: u8 = 0;
const CHANGED: u8 = 1;
const GONE: u8 = 2;

/// The pending proposals on the server.
fn pending(server: &Server) -> Vec<Value> {
    server.http().get("/api/v1/proposals").ok_json()["proposals"]
        .as_array()
        .unwrap()
        .clone()
}

/// Proves the whole path of a proposal made in the page: the company's
/// key (a `keygen` file imported in the page) gets the form; a typed
/// `1,280.50` becomes exactly 128050 fen in a pending expenditure signed
/// by the company, listing the chosen file's SHA-256 and size, and the
/// server serves that file's exact bytes; `12,34` is refused with a plain
/// Chinese message, no request is sent and no proposal is made. Then a
/// committee member's page, through a proxy that serves other bytes for
/// the file, disables co-signing and says 附件与登记的不一致; with the file
/// withheld it says 附件缺失; on the honest server it shows 附件已核对
/// with a link to the checked file, and the co-signature is recorded.
#[test]
fn a_proposal_made_in_the_page_carries_its_attachment_and_the_committee_checks_it() {
    let c = Community::new();
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let server = Server::start(&c.data);
    let invoice_path = c.path("电梯维修发票.pdf");
    let invoice: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 256) as u8).collect();
    std::fs::write(&invoice_path, &invoice).unwrap();
    let sha = feeledger_core::hash::sha256(&invoice).to_hex();
    let dir = tempfile::tempdir().unwrap();

    // The bookkeeper's phone.
    let mut a = phone(dir.path(), "bookkeeper");
    a.open(&format!("{}/", server.url));
    import_key(&mut a, &c, COMPANY);
    a.wait_for(
        "document.querySelector('#propose-form')",
        "the propose form for the company's key",
    );
    assert_eq!(
        a.wait_for(
            "document.querySelector('#nav a[href=\"#propose-section\"]')?.textContent ?? null",
            "the proposing section's link in the nav",
        ),
        json!("记一笔"),
        "the nav leads to proposing once a key that may propose is kept"
    );
    let kinds = a.eval("[...document.querySelectorAll('#propose-kind option')].map(o => o.value)");
    assert_eq!(kinds, json!(["income", "expenditure", "transfer"]));

    // An ambiguous amount: refused in words, nothing sent.
    choose(&mut a, "#propose-kind", "expenditure");
    choose(&mut a, "#propose-category", "repairs");
    a.type_into("#propose-party", "星光电梯维修有限公司");
    a.type_into("#propose-amount", "12,34");
    a.type_into("#propose-date", "2026-02-10");
    a.click("#propose-submit");
    let error = a.wait_for(
        "document.getElementById('propose-error')?.textContent",
        "the amount error",
    );
    let error = error.as_str().unwrap();
    assert!(
        error.contains("12,34") && error.contains("看不懂") && error.contains("1,280.50"),
        "{error}"
    );
    assert!(a
        .eval("document.getElementById('propose-confirm') === null")
        .as_bool()
        .unwrap());

    // The real proposal, with its attachment.
    a.type_into("#propose-amount", "1,280.50");
    a.type_into("#propose-memo", "3号楼电梯更换钢丝绳");
    a.choose_file("#propose-files", &invoice_path);
    let listed = a.wait_for(
        "document.querySelector('#propose-file-list li')?.dataset.sha256",
        "the hashed file",
    );
    assert_eq!(listed, json!(sha), "the page's SHA-256 of the file");
    assert_eq!(
        a.eval("document.getElementById('propose-fund').value"),
        json!("operating")
    );
    a.click("#propose-submit");
    let confirm = a.wait_for(
        "document.getElementById('propose-confirm')?.innerText",
        "the confirmation",
    );
    let confirm = confirm.as_str().unwrap();
    assert!(
        confirm.contains("¥1,280.50")
            && confirm.contains("星光电梯维修有限公司")
            && confirm.contains("物业服务费")
            && confirm.contains("电梯维修发票.pdf"),
        "{confirm}"
    );
    assert!(
        pending(&server).is_empty(),
        "nothing is sent before confirming"
    );
    assert!(
        a.requests("POST").is_empty(),
        "no request for the refused amount"
    );
    a.click("#propose-yes");
    let status = a.wait_for(
        "document.getElementById('propose-result')?.dataset.status",
        "the server's answer",
    );
    assert_eq!(status, json!("pending"));
    let uploaded =
        a.eval("[...document.querySelectorAll('.propose-upload')].map(p => p.dataset.uploaded)");
    assert_eq!(uploaded, json!(["yes"]));
    let id = a
        .eval("document.getElementById('propose-result').dataset.id")
        .as_str()
        .unwrap()
        .to_string();

    let list = pending(&server);
    assert_eq!(list.len(), 1, "{list:?}");
    let p = &list[0];
    assert_eq!(p["id"], json!(id));
    assert_eq!(
        p["body"]["amount_fen"],
        json!(128050),
        "exactly the typed amount"
    );
    assert_eq!(p["body"]["kind"], json!("expenditure"));
    assert_eq!(p["body"]["category"], json!("repairs"));
    assert_eq!(
        p["body"]["attachments"],
        json!([{"bytes": invoice.len(), "name": "电梯维修发票.pdf", "sha256": sha}])
    );
    assert_eq!(p["proposed_by"], json!([COMPANY]), "{p}");
    assert_eq!(
        server
            .http()
            .get(&format!("/api/v1/attachments/{sha}"))
            .body,
        invoice,
        "the server keeps the uploaded bytes"
    );

    // A committee member's phone, first through a lying proxy.
    let mode = Arc::new(AtomicU8::new(CHANGED));
    let how = mode.clone();
    let upstream = server.url.clone();
    let client = reqwest::blocking::Client::new();
    let proxy = loopback(move |target| {
        let answer = forward_get(&client, &upstream, target)?;
        if !path_of(target).starts_with("/api/v1/attachments/") {
            return Ok(answer);
        }
        Ok(match how.load(Ordering::SeqCst) {
            CHANGED => {
                let mut body = answer.body;
                body[100] ^= 0xff;
                Answer::ok("application/octet-stream", body)
            }
            GONE => Answer {
                status: 404,
                content_type: "application/json".into(),
                body: br#"{"error":{"code":"not_found","message":"no attachment"}}"#.to_vec(),
                cache_control: None,
            },
            HONEST => answer,
            other => panic!("no proxy mode {other}"),
        })
    });
    let card = format!("[data-sign-card=\"{id}\"]");
    let mut b = phone(dir.path(), "committee");
    b.open(&format!("{}/", proxy.url));
    import_key(&mut b, &c, COMMITTEE[0]);
    for (how, state, words) in [
        (CHANGED, "mismatch", "附件与登记的不一致"),
        (GONE, "missing", "附件缺失"),
    ] {
        mode.store(how, Ordering::SeqCst);
        b.reload();
        let seen = b.wait_for(
            &format!("(() => {{ const s = document.querySelector('{card} [data-files-state]')?.dataset.filesState; return s && s !== 'checking' ? s : null; }})()"),
            "the attachment check",
        );
        assert_eq!(seen, json!(state));
        let shown = b.eval(&format!(
            "(() => {{ const c = document.querySelector('{card}'); return {{ text: c.innerText, disabled: c.querySelector('[data-sign]').disabled }}; }})()"
        ));
        assert_eq!(
            shown["disabled"],
            json!(true),
            "co-signing is disabled: {shown}"
        );
        assert!(shown["text"].as_str().unwrap().contains(words), "{shown}");
    }

    // The honest server: checked, and co-signed.
    b.open(&format!("{}/", server.url));
    import_key(&mut b, &c, COMMITTEE[0]);
    let state = b.wait_for(
        &format!("(() => {{ const s = document.querySelector('{card} [data-file]')?.dataset.fileState; return s && s !== 'checking' ? s : null; }})()"),
        "the attachment check",
    );
    assert_eq!(state, json!("ok"));
    let shown = b.eval(&format!(
        "(() => {{ const c = document.querySelector('{card}'); const a = c.querySelector('[data-file] a');
           return {{ text: c.innerText, disabled: c.querySelector('[data-sign]').disabled, link: a ? a.getAttribute('download') : null, blob: a ? a.href.startsWith('blob:') : false }}; }})()"
    ));
    assert!(
        shown["text"].as_str().unwrap().contains("附件已核对"),
        "{shown}"
    );
    assert_eq!(shown["disabled"], json!(false), "{shown}");
    assert_eq!(shown["link"], json!("电梯维修发票.pdf"), "{shown}");
    assert_eq!(
        shown["blob"],
        json!(true),
        "the link opens the checked bytes: {shown}"
    );
    b.click(&format!("{card} [data-sign]"));
    let status = b.wait_for(
        &format!("(() => {{ const r = document.querySelector('{card} .sign-result'); const s = r && r.dataset.status; return s && s !== 'signing' ? s : null; }})()"),
        "the co-signature's answer",
    );
    assert_eq!(status, json!("pending"));
    let signed: Vec<String> = server
        .http()
        .get(&format!("/api/v1/proposals/{id}"))
        .ok_json()["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    assert!(signed.contains(&COMMITTEE[0].to_string()), "{signed:?}");
    drop(proxy);
    server.kill();
}

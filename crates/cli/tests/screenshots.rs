//! The committed screenshots of the residents' page on the demo ledger
//! (docs/screenshots/): the balances as the page verified them, and the
//! trust section, in Chinese and in English, on a 390×844 phone screen.
//!
//! Run by hand after a change to the page:
//! `cargo test -p feeledger --test screenshots -- --ignored`. The one test
//! that always runs checks what the screenshots are meant to show, so a
//! screenshot of a broken page cannot be taken silently.

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use std::path::PathBuf;
use support::cdp::Phone;
use support::demo::{Demo, DEMO_ENTRIES};
use support::http::Server;

/// Opens the demo's page in `lang` and waits until its own check of the
/// ledger ended and the trust section says who confirmed it; what it shows.
fn open_verified(phone: &mut Phone, url: &str) -> Value {
    phone.open(url);
    phone.wait_for(
        "(() => { const el = document.getElementById('ledger-check'); const s = el && el.dataset.state;
           const lead = document.getElementById('trust-section')?.innerText || '';
           return (s === 'verified' || s === 'failed') ? { state: s, size: el.dataset.size, trust: lead, lang: document.documentElement.lang } : null; })()",
        "the page's check of the demo ledger",
    )
}

/// Proves that on the demo the page verifies every entry itself, and that
/// the trust section leads in plain words with the number of entries and
/// the committee's confirmation (the demo's members cosigned), in both
/// languages: what the committed screenshots show.
#[test]
fn the_demo_page_verifies_itself_and_says_who_confirmed_it() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let dir = tempfile::tempdir().unwrap();
    let mut p = Phone::start("resident", &dir.path().join("phone"), &[]);
    let zh = open_verified(&mut p, &format!("{}/", server.url));
    assert_eq!(zh["state"], json!("verified"), "{zh:#}");
    assert_eq!(zh["size"], json!(DEMO_ENTRIES.to_string()), "{zh:#}");
    let trust = zh["trust"].as_str().unwrap();
    assert!(trust.contains("3,669 笔"), "{trust}");
    assert!(trust.contains("联署确认"), "{trust}");
    // The cosigning members by the names the roles sign, in natural
    // Chinese; their key names one tap away, in the technical details.
    let confirm = p.wait_for(CONFIRMED, "the committee's confirmation");
    let lead = confirm["lead"].as_str().unwrap();
    assert!(
        lead.starts_with("业委会王建国、赵秀英两位委员于 2") && lead.contains(" 联署确认了前 "),
        "{lead}"
    );
    assert!(!lead.contains("weiyuan"), "{lead}");
    assert_eq!(confirm["keys"], json!("weiyuan-wang weiyuan-zhao"));
    let technical = confirm["technical"].as_str().unwrap();
    assert!(
        technical.contains("联署所用的密钥：王建国（weiyuan-wang）、赵秀英（weiyuan-zhao）"),
        "{technical}"
    );
    // Entry cards name their signers as people too (the clerk records the
    // fees), each with its key name kept as data.
    let signers = p.eval(SIGNERS);
    let signers = signers.as_array().unwrap();
    assert!(!signers.is_empty());
    for pair in signers {
        let key = pair[0].as_str().unwrap();
        let person = feeledger_demo::display_name(key).unwrap_or(key);
        assert_eq!(pair[1], json!(person), "{signers:?}");
    }
    assert!(
        signers.iter().any(|p| p[1] == json!("周丽（收费员）")),
        "{signers:?}"
    );

    // A receipt names them so too, from the roles it verified the entry by.
    let entry = server.http().get("/api/v1/entries/1").ok_json();
    p.open(&format!("{}/receipt/1", server.url));
    let receipt = p.wait_for(
        "(() => { const r = document.getElementById('receipt'); return r && r.dataset.status === 'verified' ? document.getElementById('receipt-signers').textContent : null; })()",
        "the verified receipt of entry 1",
    );
    let receipt = receipt.as_str().unwrap();
    for s in entry["leaf"]["signatures"].as_array().unwrap() {
        let key = s["key"].as_str().unwrap();
        let person = feeledger_demo::display_name(key).expect("a demo key");
        assert!(
            receipt.contains(person) && !receipt.contains(key),
            "{receipt}"
        );
    }

    let en = open_verified(&mut p, &format!("{}/?lang=en", server.url));
    assert_eq!(en["state"], json!("verified"), "{en:#}");
    let trust = en["trust"].as_str().unwrap();
    assert!(trust.contains("3,669"), "{trust}");
    assert!(
        !trust.contains("联署") && !trust.contains("笔"),
        "the English trust section is in English: {trust}"
    );
    let confirm = p.wait_for(CONFIRMED, "the committee's confirmation");
    let lead = confirm["lead"].as_str().unwrap();
    assert!(
        lead.starts_with("Committee members 王建国 and 赵秀英 cosigned the first "),
        "{lead}"
    );
}

/// The trust section's confirmation once the cosignatures are checked:
/// its words, the key names it carries, and the technical details' text.
const CONFIRMED: &str = "(() => { const c = document.querySelector('#trust-confirm[data-size]');
  return c ? { lead: c.innerText, keys: c.dataset.cosigners, technical: document.getElementById('trust-technical').textContent } : null; })()";

/// [key name, shown name] of every signer on the entry cards.
const SIGNERS: &str = "[...document.querySelectorAll('#entries-section .signer .key-name')].map((e) => [e.dataset.key, e.textContent])";

/// Writes docs/screenshots/{balances,trust}-{zh,en}.png.
#[test]
#[ignore = "writes the committed screenshots; run by hand"]
fn page_screenshots() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let dir = tempfile::tempdir().unwrap();
    let mut p = Phone::start("screenshot", &dir.path().join("phone"), &[]);
    p.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    for (lang, query) in [("zh", ""), ("en", "?lang=en")] {
        let shown = open_verified(&mut p, &format!("{}/{query}", server.url));
        assert_eq!(shown["state"], json!("verified"), "{shown:#}");
        // The lead names the members who confirmed it.
        p.wait_for(CONFIRMED, "the committee's confirmation");
        for (section, name) in [("balances-section", "balances"), ("trust-section", "trust")] {
            p.eval(&format!(
                "(() => {{ document.getElementById('{section}').scrollIntoView(); return true; }})()"
            ));
            std::thread::sleep(std::time::Duration::from_millis(300));
            let shot = p.call("Page.captureScreenshot", json!({"format": "png"}));
            let png = base64::engine::general_purpose::STANDARD
                .decode(shot["data"].as_str().unwrap())
                .unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            let path = out.join(format!("{name}-{lang}.png"));
            std::fs::write(&path, &png).unwrap();
            println!("wrote {}", path.display());
        }
    }
}

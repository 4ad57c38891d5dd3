//! The residents' page opened from the bucket alone (`serve --mirror`,
//! crates/mirror/src/page.rs, web/base.js `FROM_MIRROR`): a real S3 server
//! (`s3s-fs`, support/s3.rs), a demo ledger mirrored to it, then the
//! feeledger server stopped, so that nothing but the bucket answers, and
//! the page's `index.html` opened from the bucket in real headless
//! Chromium (support/cdp.rs):
//!
//! - the page's files are in the bucket with the content types a browser
//!   needs (ES modules as `text/javascript`) and `no-cache`, and the
//!   uploaded `index.html` carries the mirror's marker;
//! - the page replays the log from the bucket's bundles, shows the balances
//!   verified and equal to `feeledger balances`, lists the newest entry
//!   first, says in one line what only the server has, and asks for no
//!   `/api/v1/` URL;
//! - one changed byte in one bundle in the bucket makes the page name the
//!   entry and show no verified balance;
//! - a bucket that, between two visits, holds another history under the
//!   same log key (a fork) raises the witness's alarm, with no consistency
//!   proof to ask for.

mod support;

use feeledger_core::note::VerifierKey;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use support::cdp::Phone;
use support::demo::{copy_dir, Demo, DEMO_ENTRIES};
use support::s3::{serve_mirrored, wait_for_bucket, write_incomes, BUCKET, PREFIX, S3};

/// Entries written between the two visits of the page.
const MORE: usize = 10;

/// The marker the mirror writes into the uploaded index.html.
const MARKER: &str = r#"<meta name="feeledger-source" content="mirror">"#;

/// A demo ledger mirrored to a running s3s-fs, caught up, with the server
/// stopped: the bucket is all there is.
fn mirrored_demo() -> (Demo, S3) {
    let demo = Demo::new();
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let server = serve_mirrored(&demo.data, &s3);
    wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(60));
    // The page goes up before the first checkpoint (Mirror::start), so a
    // caught-up bucket holds it.
    server.stop();
    (demo, s3)
}

fn phone(dir: &Path, name: &str) -> Phone {
    Phone::start(name, &dir.join(format!("phone-{name}")), &[])
}

/// The page's address in the bucket, path-style, as a resident opens it.
fn page_url(s3: &S3) -> String {
    format!("{}/index.html", s3.public_url())
}

/// Waits until the page's check of the ledger has ended; its state.
fn check_ended(p: &mut Phone) -> Value {
    p.wait_for(
        "(() => { const el = document.getElementById('ledger-check'); \
           const s = el && el.dataset.state; \
           return (s === 'verified' || s === 'failed') ? {state: s, size: el.dataset.size || null, seq: el.dataset.seq || null, step: el.dataset.step || null, text: el.innerText} : null; })()",
        "the ledger check to end",
    )
}

/// Each fund card's fen and whether it is marked verified.
fn cards(p: &mut Phone) -> Value {
    p.eval(
        "Object.fromEntries([...document.querySelectorAll('#balances-section [data-fund]')].map((el) => [el.dataset.fund, {fen: el.dataset.fen, verified: el.dataset.verified}]))",
    )
}

/// A plain anonymous GET from the bucket: (status, Content-Type,
/// Cache-Control, body).
fn get(url: &str) -> (u16, String, String, Vec<u8>) {
    let r = reqwest::blocking::get(url).unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, cache) = (header("content-type"), header("cache-control"));
    (
        r.status().as_u16(),
        content_type,
        cache,
        r.bytes().unwrap().to_vec(),
    )
}

/// Changes one byte of the first leaf in `bundle` that has an amount (a
/// digit of it); returns that leaf's index in the bundle.
fn tamper_first_amount(bundle: &mut [u8]) -> u64 {
    let needle = b"\"amount_fen\":";
    let mut at = 0;
    let mut index = 0;
    while at < bundle.len() {
        let length = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
        let leaf = &mut bundle[at + 2..at + 2 + length];
        if let Some(pos) = leaf.windows(needle.len()).position(|w| w == needle) {
            let pos = pos + needle.len();
            leaf[pos] = if leaf[pos] == b'9' {
                b'8'
            } else {
                leaf[pos] + 1
            };
            return index;
        }
        at += 2 + length;
        index += 1;
    }
    panic!("no leaf in the bundle has an amount");
}

/// Proves that the bucket holds the page with the headers a browser needs:
/// ES modules as `text/javascript`, the style sheet as CSS, `index.html`
/// as HTML with the mirror's marker, each `no-cache`.
#[test]
fn the_bucket_holds_the_page_with_its_content_types() {
    let (_demo, s3) = mirrored_demo();
    let base = s3.public_url();
    for (path, content_type) in [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/app.js", "text/javascript; charset=utf-8"),
        ("assets/base.js", "text/javascript; charset=utf-8"),
        ("assets/worker.js", "text/javascript; charset=utf-8"),
        ("assets/replay.js", "text/javascript; charset=utf-8"),
        ("assets/qrcode.mjs", "text/javascript; charset=utf-8"),
        ("assets/style.css", "text/css; charset=utf-8"),
    ] {
        let (status, got_type, cache, _) = get(&format!("{base}/{path}"));
        assert_eq!(status, 200, "{path}");
        assert_eq!(got_type, content_type, "{path}");
        assert_eq!(cache, "no-cache", "{path}");
    }
    let (_, _, _, index) = get(&format!("{base}/index.html"));
    let index = String::from_utf8(index).unwrap();
    assert!(
        index.contains(MARKER),
        "the uploaded page is marked: {index}"
    );
    assert!(
        index.find(MARKER) < index.find(r#"<script type="module""#),
        "the marker comes before the page's module"
    );
}

/// Proves that the page opened from the bucket, with no feeledger server
/// running, verifies the log itself and shows the balances `feeledger
/// balances` computes, marked verified; lists the newest entry first;
/// names the community from the log's genesis; says in one line what only
/// the server has; asks for nothing under `/api/v1/`; pins the log key
/// under the bucket folder's name; and, on a second
/// visit after more entries, verifies the larger log against the
/// checkpoint it kept, with no consistency proof to ask for.
#[test]
fn the_page_from_the_bucket_alone_verifies_and_shows_the_ledger() {
    let (demo, s3) = mirrored_demo();
    let cli = support::run(["balances", "--json", "--data", demo.data.to_str().unwrap()]);
    cli.assert_ok();
    let cli = cli.json();

    let mut p = phone(&demo.path("phones"), "a");
    p.open(&page_url(&s3));
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(DEMO_ENTRIES.to_string()), "{check}");
    let cards = cards(&mut p);
    let funds = cli.as_object().expect("balances by fund");
    assert_eq!(cards.as_object().unwrap().len(), funds.len(), "{cards}");
    for (fund, fen) in funds {
        assert_eq!(
            cards[fund],
            json!({"fen": fen.as_u64().unwrap().to_string(), "verified": "true"}),
            "{fund}: {cards}"
        );
    }

    // The list, from the replayed log: the newest entry first.
    let newest = DEMO_ENTRIES - 1;
    let first = p.wait_for(
        "document.querySelector('#entry-list > article')?.dataset.cardSeq",
        "the entry list",
    );
    assert_eq!(first, json!(newest.to_string()));
    let card = p.eval("document.querySelector('#entry-list > article').innerText");
    assert!(
        card.as_str().unwrap().contains("已随全部记录一起核对"),
        "the card says it was checked with the ledger: {card}"
    );

    // The community's name, from the genesis the page replayed.
    let name = p.eval("document.getElementById('ledger-name').textContent");
    assert!(
        name.as_str()
            .is_some_and(|n| !n.is_empty() && n != "feeledger"),
        "the page names the community: {name}"
    );

    // One line says what only the server has; its sections are hidden.
    let note = p.eval("document.getElementById('mirror-note')?.textContent || ''");
    assert!(
        note.as_str().unwrap().contains("物业服务器上的账本页"),
        "{note}"
    );
    let shown = p.eval(
        "['sign-section', 'propose-section', 'enrol-section', 'import-section'].filter((id) => !document.getElementById(id).hidden)",
    );
    assert_eq!(shown, json!([]), "the server's sections are hidden");
    let errors = p.eval("document.getElementById('js-errors').textContent");
    assert_eq!(errors, json!(""), "no script errors");

    // Nothing asked of an API: the page read the bucket's objects only.
    // (The worker's requests are not in the page's network events; with
    // the server stopped, any API request of the worker's fails the check,
    // which verified.)
    let requests = p.requests("GET");
    assert!(
        requests.iter().any(|u| u.ends_with("/log.vkey")),
        "the page read the log key from the bucket: {requests:#?}"
    );
    let api: Vec<&String> = requests.iter().filter(|u| u.contains("/api/")).collect();
    assert!(api.is_empty(), "requests to an API: {api:#?}");

    // The log key pinned in this browser, as on the server's page: kept
    // per ledger under the page's base, the bucket's folder.
    p.click("#fingerprint button");
    let pinned = p.eval(&format!(
        "localStorage.getItem('feeledger.logkey.v1 /{BUCKET}/{PREFIX}')"
    ));
    assert_eq!(
        pinned,
        json!(demo.log_key),
        "the pin, keyed by the page's base"
    );

    // Ten more entries, mirrored, and the server stopped again. The second
    // visit (in English) finds the kept checkpoint in the browser: the
    // server's page would extend it with a consistency proof from the
    // API; from the bucket the replay meets the kept root at the kept size
    // instead, and the check verifies the larger log.
    let server = serve_mirrored(&demo.data, &s3);
    write_incomes(&server.http(), &demo, 0, MORE);
    let size = DEMO_ENTRIES + MORE as u64;
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    wait_for_bucket(&s3, &log_key, size, Duration::from_secs(30));
    server.stop();
    p.open(&format!("{}?lang=en", page_url(&s3)));
    let again = check_ended(&mut p);
    assert_eq!(again["state"], json!("verified"), "{again}");
    assert_eq!(again["size"], json!(size.to_string()), "{again}");
    let first = p.wait_for(
        "document.querySelector('#entry-list > article')?.dataset.cardSeq",
        "the entry list",
    );
    assert_eq!(first, json!((size - 1).to_string()), "the new newest entry");
    let note = p.wait_for(
        "document.getElementById('mirror-note')?.textContent",
        "the note in English",
    );
    assert!(note.as_str().unwrap().contains("property server"), "{note}");
}

/// Proves that one changed byte in one entry bundle in the bucket (written
/// over through the S3 API) makes the page name that entry (第 N 笔) and
/// show no balance as verified, and that it lists no entries.
#[test]
fn a_changed_byte_in_a_bundle_in_the_bucket_names_the_entry() {
    let (demo, s3) = mirrored_demo();
    let url = format!("{}/tile/entries/001", s3.public_url());
    let (status, content_type, _, mut bundle) = get(&url);
    assert_eq!(status, 200, "{url}");
    let seq = 256 + tamper_first_amount(&mut bundle);
    let put = reqwest::blocking::Client::new()
        .put(&url)
        .header("content-type", content_type)
        .body(bundle)
        .send()
        .unwrap();
    assert!(put.status().is_success(), "{:?}", put.text());

    let mut p = phone(&demo.path("phones"), "t");
    p.open(&page_url(&s3));
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("failed"), "{check}");
    assert_eq!(check["seq"], json!(seq.to_string()), "{check}");
    let text = check["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("第 {seq} 笔")) && text.contains("未核对"),
        "{text}"
    );
    let verified = p.eval("document.querySelectorAll('[data-verified=\"true\"]').length");
    assert_eq!(verified, json!(0), "no balance is shown as verified");
    let listed = p.eval("document.querySelectorAll('#entry-list > article').length");
    assert_eq!(listed, json!(0), "no entry listed from a log that failed");
    let chart = p.eval("document.getElementById('chart-wait')?.textContent || ''");
    assert!(
        chart.as_str().unwrap().contains("核对通过后"),
        "the chart says its totals come with the check: {chart}"
    );
}

/// Proves that the browser is a witness from the bucket too: after a visit
/// that verified a history, the same prefix holding another history signed
/// by the same log key, longer than the kept one and not extending it,
/// raises the fork alarm and shows no balance as verified. The bucket
/// serves no consistency proof; the replay's root at the kept size is what
/// differs.
#[test]
fn another_history_in_the_bucket_between_two_visits_raises_the_fork_alarm() {
    let (demo, s3) = mirrored_demo();
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let other = demo.path("data-forked");
    copy_dir(&demo.data, &other);

    // The history the phone sees first: ten incomes more.
    let server = serve_mirrored(&demo.data, &s3);
    write_incomes(&server.http(), &demo, 0, MORE);
    let kept = DEMO_ENTRIES + MORE as u64;
    wait_for_bucket(&s3, &log_key, kept, Duration::from_secs(30));
    server.stop();
    let mut p = phone(&demo.path("phones"), "w");
    p.open(&page_url(&s3));
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(kept.to_string()), "{check}");

    // Another history from the shared prefix: twenty other incomes. The
    // mirror never overwrites a bucket of another root, so the prefix is
    // emptied first, as someone replacing the bucket's objects would.
    std::fs::remove_dir_all(demo.path("s3").join(BUCKET).join(PREFIX)).unwrap();
    let forked = serve_mirrored(&other, &s3);
    write_incomes(&forked.http(), &demo, 1_000, 2 * MORE);
    let forked_size = DEMO_ENTRIES + 2 * MORE as u64;
    wait_for_bucket(&s3, &log_key, forked_size, Duration::from_secs(60));
    forked.stop();

    p.reload();
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("failed"), "{check}");
    assert_eq!(check["step"], json!("consistency"), "{check}");
    let alarm = p.wait_for(
        "document.getElementById('ledger-alarm')?.dataset.kind",
        "the alarm",
    );
    assert_eq!(alarm, json!("fork"));
    let verified = p.eval("document.querySelectorAll('[data-verified=\"true\"]').length");
    assert_eq!(verified, json!(0), "no balance is shown as verified");
}

//! The residents' page verifying the whole ledger itself (ledger-state.js
//! starting worker.js), in real headless Chromium driven over the DevTools
//! protocol (support/cdp.rs), against the real server on loopback:
//!
//! - the balances it shows equal `feeledger balances` and are marked
//!   verified, up to the log's size;
//! - a proxy that changes one byte of one entry bundle leaves them
//!   unverified, and the page names the changed entry;
//! - a second visit in the same profile, after 100 new entries, fetches only
//!   the new bundle (counted at the proxy);
//! - a server rolled back between two visits raises the alarm and offers an
//!   evidence file holding both signed checkpoints, and the kept checkpoint
//!   is not replaced;
//! - a server that, under the same log key, serves another history as long
//!   or longer (a fork) raises the same alarm, with evidence that the two
//!   signed checkpoints cannot both be true.
//!
//! The page is always loaded through a loopback proxy (support/proxy.rs)
//! whose port does not change, so the page's origin (and its IndexedDB)
//! stays the same when the server behind it is stopped, copied or swapped.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::bodies::{proposal_request, sign_with, signing_key, Bodies};
use support::cdp::Phone;
use support::demo::copy_dir;
use support::http::{Http, Server};
use support::proxy::{forward_get, loopback, path_of, Loopback};
use support::{run, Community, COMPANY, ORIGIN};

/// Incomes in the ledger before the first visit: with the genesis, a full
/// bundle (256 leaves) and a partial one.
const FIRST_INCOMES: u64 = 300;

/// Entries appended between two visits.
const APPENDED: u64 = 100;

/// The entry the tampering proxy changes: an income in the first bundle.
const TAMPERED_SEQ: u64 = 100;

/// The page loaded through a proxy in front of the real server: the
/// upstream can be swapped, bundle requests are recorded, and one byte of
/// [`TAMPERED_SEQ`] can be changed.
struct Proxy {
    loopback: Loopback,
    upstream: Arc<Mutex<String>>,
    tamper: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn new(upstream: &str) -> Proxy {
        let upstream = Arc::new(Mutex::new(upstream.to_string()));
        let tamper = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (up, tampering, seen) = (upstream.clone(), tamper.clone(), requests.clone());
        let client = reqwest::blocking::Client::new();
        let loopback = loopback(move |target| {
            seen.lock().unwrap().push(target.to_string());
            let base = up.lock().unwrap().clone();
            let mut answer = forward_get(&client, &base, target)?;
            let bundle = format!("/tile/entries/{:03}", TAMPERED_SEQ / 256);
            let path = path_of(target);
            let holds = path == bundle || path.starts_with(&format!("{bundle}.p/"));
            if tampering.load(Ordering::SeqCst) && holds && answer.status == 200 {
                tamper_bundle(&mut answer.body, TAMPERED_SEQ);
            }
            Ok(answer)
        });
        Proxy {
            loopback,
            upstream,
            tamper,
            requests,
        }
    }

    fn page(&self) -> String {
        format!("{}/", self.loopback.url)
    }

    fn switch_to(&self, upstream: &str) {
        *self.upstream.lock().unwrap() = upstream.to_string();
    }

    /// The entry bundles requested since the last call.
    fn take_bundles(&self) -> Vec<String> {
        let mut all = self.requests.lock().unwrap();
        let bundles = all
            .iter()
            .filter(|t| t.starts_with("/tile/entries/"))
            .cloned()
            .collect();
        all.clear();
        bundles
    }
}

/// Changes one byte of `seq`'s leaf in its bundle: a digit of its amount.
fn tamper_bundle(bundle: &mut [u8], seq: u64) {
    let mut at = 0;
    for _ in 0..seq % 256 {
        at += 2 + u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
    }
    let length = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
    let leaf = &mut bundle[at + 2..at + 2 + length];
    let needle = b"\"amount_fen\":";
    let pos = leaf
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the tampered entry has an amount")
        + needle.len();
    leaf[pos] = if leaf[pos] == b'9' {
        b'8'
    } else {
        leaf[pos] + 1
    };
}

/// Appends `count` incomes over HTTP, signed by the company (the income
/// rule needs one company key, so each commits at once).
fn append_incomes(c: &Community, http: &Http, first: u64, count: u64) {
    let clerk = signing_key(c.key_path(COMPANY));
    let bodies = Bodies {
        ledger: ORIGIN,
        month: "2026-03",
        memo: "ledger_page 测试",
    };
    for i in first..first + count {
        let body = bodies.income(&format!("ledger-page-{i}"), 10_000 + i, "3-1502");
        let sigs = sign_with(&body, &[(COMPANY, &clerk)]);
        let r = http.post_json("/api/v1/proposals", &proposal_request(&body, &sigs));
        assert_eq!(r.status, 201, "append {i}: {}", r.text());
    }
}

/// A community with [`FIRST_INCOMES`] incomes, served.
fn ledger() -> (Community, Server) {
    let c = Community::new();
    let server = Server::start(&c.data);
    append_incomes(&c, &server.http(), 0, FIRST_INCOMES);
    (c, server)
}

fn size_of(http: &Http) -> u64 {
    http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .unwrap()
}

fn phone(dir: &Path, name: &str) -> Phone {
    Phone::start(name, &dir.join(format!("phone-{name}")), &[])
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

/// Writes a 390×844 screenshot of the page to
/// `target/web-screenshots/<name>.png`, for a person to look at (not a check).
fn screenshot(p: &mut Phone, name: &str) {
    p.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
    );
    let shot = p.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = BASE64
        .decode(shot["data"].as_str().expect("a screenshot"))
        .expect("base64 PNG");
    let tmp = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(&tmp).join("web-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// `feeledger balances --json --data` (the server must be stopped).
fn cli_balances(data: &Path) -> Value {
    let out = run(["balances", "--json", "--data", data.to_str().unwrap()]);
    out.assert_ok();
    out.json()
}

/// Proves that the balances the page shows are the replay's, equal to what
/// `feeledger balances` computes from the data directory, marked verified
/// up to the log's size, and that the chart says its figures are checked.
#[test]
fn page_balances_equal_the_cli_and_are_marked_verified() {
    let (c, server) = ledger();
    let size = size_of(&server.http());
    server.stop();
    let cli = cli_balances(&c.data);
    let server = Server::start(&c.data);
    let proxy = Proxy::new(&server.url);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(size.to_string()), "{check}");
    let shown = check["text"].as_str().unwrap();
    assert!(shown.contains(&format!("已核对到第 {size} 笔")), "{shown}");
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
    assert!(
        cards["operating"]["fen"] != json!("0"),
        "the incomes are counted: {cards}"
    );
    let chart = p.eval("document.getElementById('chart-check')?.dataset.verified");
    assert_eq!(chart, json!("true"));
    let differs = p.eval("!!document.getElementById('ledger-differs')");
    assert_eq!(differs, json!(false), "an honest server's numbers agree");
    screenshot(&mut p, "ledger-verified");
}

/// Proves that one changed byte in one entry bundle leaves the balances
/// marked unverified (the server's numbers, each card 未核对) and that the
/// page names the changed entry (第 N 笔).
#[test]
fn a_changed_byte_in_a_bundle_leaves_the_balances_unverified_and_names_the_entry() {
    let (c, server) = ledger();
    let proxy = Proxy::new(&server.url);
    proxy.tamper.store(true, Ordering::SeqCst);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("failed"), "{check}");
    assert_eq!(check["seq"], json!(TAMPERED_SEQ.to_string()), "{check}");
    let text = check["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("第 {TAMPERED_SEQ} 笔")) && text.contains("未核对"),
        "{text}"
    );
    let cards = cards(&mut p);
    for (fund, card) in cards.as_object().unwrap() {
        assert_eq!(card["verified"], json!("false"), "{fund}: {cards}");
    }
    screenshot(&mut p, "ledger-failed");
    let badges = p.eval("document.getElementById('balances-section').innerText");
    assert!(badges.as_str().unwrap().contains("未核对"), "{badges}");
    assert!(
        p.eval("document.getElementById('ledger-alarm')").is_null(),
        "a bad bundle is not a second history"
    );
}

/// Proves that a second visit in the same profile, after 100 new entries,
/// fetches only the bundle holding new entries (after a consistency proof
/// from the kept checkpoint) and none of the page's files, and shows the
/// new size verified.
#[test]
fn a_second_visit_fetches_only_the_new_bundles() {
    let (c, server) = ledger();
    let first = size_of(&server.http());
    let proxy = Proxy::new(&server.url);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    let bundles = proxy.take_bundles();
    assert_eq!(
        bundles,
        vec![
            "/tile/entries/000".to_string(),
            format!("/tile/entries/001.p/{}", first - 256)
        ],
        "the first visit reads every bundle"
    );

    append_incomes(&c, &server.http(), FIRST_INCOMES, APPENDED);
    let second = size_of(&server.http());
    assert_eq!(second, first + APPENDED);
    proxy.requests.lock().unwrap().clear();
    p.revisit(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(second.to_string()), "{check}");
    let requests = proxy.requests.lock().unwrap().clone();
    let files: Vec<&String> = requests.iter().filter(|t| t.contains("/assets/")).collect();
    assert!(
        files.is_empty(),
        "the page's files, named by the build tag, come from the cache: {files:#?}"
    );
    assert_eq!(
        adopted(&mut p),
        json!(true),
        "the run index.html started from the last visit's memory is the one shown"
    );
    assert_eq!(
        begun_from(&mut p),
        json!("name"),
        "that run began from the worker's name, as the worker started, not from the message"
    );
    let bundles = proxy.take_bundles();
    assert_eq!(
        bundles,
        vec![format!("/tile/entries/001.p/{}", second - 256)],
        "only the bundle with new entries: {requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|t| t == &format!("/api/v1/consistency?from={first}&to={second}")),
        "a consistency proof from the kept checkpoint: {requests:#?}"
    );
    let cards = cards(&mut p);
    let served = server.http().get("/api/v1/balances").ok_json();
    assert_eq!(
        cards["operating"]["fen"],
        json!(served["balances_fen"]["operating"]
            .as_u64()
            .unwrap()
            .to_string())
    );
}

/// Whether the page's check is the run index.html started from the last
/// visit's memory (`ledgerCheck.status().adopted`, read from the page's own
/// instance of ledger-state.js: the module at its tagged address).
fn adopted(p: &mut Phone) -> Value {
    p.eval(
        "(async () => { const href = document.querySelector('link[rel=modulepreload][href*=\"/ledger-state.js\"]').href; \
           return (await import(href)).ledgerCheck.status().adopted; })()",
    )
}

/// Where the shown run began (`fetched.begunFrom` of the worker's result):
/// `name` for the run index.html gave the worker in its name, `message` for
/// one begun from a message.
fn begun_from(p: &mut Phone) -> Value {
    p.eval(
        "(async () => { const href = document.querySelector('link[rel=modulepreload][href*=\"/ledger-state.js\"]').href; \
           const s = (await import(href)).ledgerCheck.status(); return s.fetched && s.fetched.begunFrom; })()",
    )
}

/// Proves that the run a page remembers from its last visit is adopted only
/// if it is exactly the run this visit would start: with the remembered log
/// key changed to another ledger's, the next visit starts over with the key
/// served, verifies, and shows no failure on the way.
#[test]
fn a_remembered_run_with_another_log_key_is_not_adopted() {
    let (c, server) = ledger();
    let proxy = Proxy::new(&server.url);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    assert_eq!(check_ended(&mut p)["state"], json!("verified"));
    let other_dir = c.dir.path().join("other-log-key");
    std::fs::create_dir_all(&other_dir).unwrap();
    let other_key = support::log_keygen(&other_dir, "other.example/ledger").verifier_key;
    let changed = p.eval(&format!(
        "(() => {{ const k = Object.keys(localStorage).find((k) => k.startsWith('feeledger.check.v1 '));            if (!k) return null; const m = JSON.parse(localStorage.getItem(k)); m.logKey = {};            localStorage.setItem(k, JSON.stringify(m)); return k; }})()",
        json!(other_key)
    ));
    assert!(changed.is_string(), "the first visit remembered its run");

    p.eval("document.documentElement.removeAttribute('data-app'); true");
    p.call("Page.navigate", json!({"url": "about:blank"}));
    p.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__states = []; new MutationObserver(() => { const el = document.getElementById('ledger-check'); if (el && window.__states.at(-1) !== el.dataset.state) window.__states.push(el.dataset.state); }).observe(document, {subtree: true, childList: true, attributes: true});"}),
    );
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    let states = p.eval("window.__states");
    assert!(
        !states.as_array().unwrap().contains(&json!("failed")),
        "no failure shown on the way: {states}"
    );
    assert_eq!(
        adopted(&mut p),
        json!(false),
        "the remembered run is not the one shown"
    );
    assert_eq!(
        begun_from(&mut p),
        json!("message"),
        "the run shown is the page's own, begun from its message"
    );
    let served = server.http().get("/api/v1/ledger").ok_json()["log_key"].clone();
    let remembered = p.eval(&format!(
        "JSON.parse(localStorage.getItem({})).logKey",
        changed
    ));
    assert_eq!(remembered, served, "the verified run is remembered instead");
}

/// Asserts the page's check failed at the consistency proof and the alarm
/// of `kind` stands at the very top of the page, telling the resident whom
/// to show the evidence file to.
#[track_caller]
fn raises_the_alarm(p: &mut Phone, kind: &str) {
    let check = check_ended(p);
    assert_eq!(check["state"], json!("failed"), "{check}");
    assert_eq!(check["step"], json!("consistency"), "{check}");
    let alarm = p.wait_for(
        "(() => { const el = document.getElementById('ledger-alarm'); return el && {kind: el.dataset.kind, text: el.innerText, first: document.body.firstElementChild === el}; })()",
        "the alarm",
    );
    assert_eq!(alarm["kind"], json!(kind), "{alarm}");
    assert_eq!(alarm["first"], json!(true), "the banner is at the very top");
    let words = alarm["text"].as_str().unwrap();
    assert!(
        words.contains("业主委员会")
            && words.contains("街道办事处")
            && words.contains("下载证据文件"),
        "{words}"
    );
}

/// The evidence file the alarm offers, as the page would download it.
fn evidence_of(p: &mut Phone) -> String {
    let evidence =
        p.eval("fetch(document.getElementById('ledger-evidence').href).then((r) => r.text())");
    evidence.as_str().unwrap().to_string()
}

/// Proves that a server rolled back between two visits (the same log key
/// serving a copy of the data taken earlier) raises the alarm, offers an
/// evidence file holding both signed checkpoints exactly, and that the kept
/// checkpoint is not replaced: a further visit to the rolled-back server
/// raises it again, and back on the real server the page verifies from it
/// without an alarm.
#[test]
fn a_rollback_between_two_visits_raises_the_alarm_with_evidence() {
    let (c, server) = ledger();
    let old_size = size_of(&server.http());
    let old_note = String::from_utf8(server.http().checkpoint()).unwrap();
    server.stop();
    let old_data = c.path("data-earlier");
    copy_dir(&c.data, &old_data);
    let server = Server::start(&c.data);
    append_incomes(&c, &server.http(), FIRST_INCOMES, APPENDED);
    let new_size = size_of(&server.http());
    let new_note = String::from_utf8(server.http().checkpoint()).unwrap();

    let proxy = Proxy::new(&server.url);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(new_size.to_string()));

    let earlier = Server::start(&old_data);
    proxy.switch_to(&earlier.url);
    p.reload();
    raises_the_alarm(&mut p, "rollback");
    screenshot(&mut p, "ledger-alarm");
    let evidence = evidence_of(&mut p);
    let kept = format!("kept {new_size} {}\n{new_note}", new_note.len());
    let served = format!("served {old_size} {}\n{old_note}", old_note.len());
    assert!(
        evidence.starts_with("feeledger-evidence/v1\nkind rollback\n"),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("\norigin {ORIGIN}\n")),
        "{evidence}"
    );
    assert!(evidence.contains(&kept), "the kept note:\n{evidence}");
    assert!(evidence.contains(&served), "the served note:\n{evidence}");
    assert!(evidence.ends_with("proof 0\n"), "{evidence}");

    // The kept checkpoint was not replaced by the rolled-back one: the
    // next visit to the rolled-back server raises the alarm again.
    p.reload();
    let check = check_ended(&mut p);
    assert_eq!(check["step"], json!("consistency"), "{check}");
    let again = p.wait_for(
        "document.getElementById('ledger-alarm')?.dataset.kind",
        "the alarm again",
    );
    assert_eq!(again, json!("rollback"));
    // Back on the real server, the page verifies from the kept checkpoint.
    proxy.switch_to(&server.url);
    p.reload();
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(new_size.to_string()));
    assert!(p.eval("document.getElementById('ledger-alarm')").is_null());
    drop(earlier);
}

/// The incomes appended to the other history of a fork: more than
/// [`APPENDED`], so the forked log is longer than the kept one and the
/// page asks it for a consistency proof (the same size is a root compare).
const FORKED: u64 = APPENDED + 10;

/// Proves that a fork raises the same alarm as a rollback: the page has
/// verified ledger A; then the same origin and log key serve another
/// history B, longer than A, that shares A's first entries but not its
/// last ones (a copy of the data directory, each copy appended to with
/// different incomes). The page refuses B, keeps A's checkpoint (a later
/// visit to B raises the alarm again, and A still verifies from it), and
/// offers an evidence file whose two signed notes both verify under the
/// log key while the proof served cannot join them: the operator signed
/// two histories.
#[test]
fn a_fork_between_two_visits_raises_the_alarm_with_evidence() {
    use feeledger_core::hash::Hash;
    use feeledger_core::merkle::verify_consistency;
    use feeledger_core::note::{open_checkpoint, VerifierKey};

    let (c, server) = ledger();
    let shared_size = size_of(&server.http());
    server.stop();
    let other_data = c.path("data-forked");
    copy_dir(&c.data, &other_data);

    let server = Server::start(&c.data);
    append_incomes(&c, &server.http(), FIRST_INCOMES, APPENDED);
    let kept_size = size_of(&server.http());
    let kept_note = String::from_utf8(server.http().checkpoint()).unwrap();
    // The other history: different incomes (other amounts and ids) from
    // the same shared entries, signed by the same log key.
    let forked = Server::start(&other_data);
    append_incomes(&c, &forked.http(), FIRST_INCOMES + 1_000, FORKED);
    let forked_size = size_of(&forked.http());
    let forked_note = String::from_utf8(forked.http().checkpoint()).unwrap();
    assert!(forked_size > kept_size && kept_size > shared_size);

    let proxy = Proxy::new(&server.url);
    let mut p = phone(c.dir.path(), "a");
    p.open(&proxy.page());
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(kept_size.to_string()));

    proxy.switch_to(&forked.url);
    p.reload();
    raises_the_alarm(&mut p, "fork");
    // The balances are not shown as verified from the other history.
    let shown = cards(&mut p);
    assert!(
        shown
            .as_object()
            .unwrap()
            .values()
            .all(|card| card["verified"] != json!("true")),
        "{shown}"
    );

    let evidence = evidence_of(&mut p);
    assert!(
        evidence.starts_with("feeledger-evidence/v1\nkind fork\n"),
        "{evidence}"
    );
    assert!(
        evidence.contains(&format!("\norigin {ORIGIN}\n")),
        "{evidence}"
    );
    let kept = format!("kept {kept_size} {}\n{kept_note}", kept_note.len());
    let served = format!("served {forked_size} {}\n{forked_note}", forked_note.len());
    assert!(evidence.contains(&kept), "the kept note:\n{evidence}");
    assert!(evidence.contains(&served), "the served note:\n{evidence}");

    // Both notes verify under the log key (the one on the notice board):
    // the operator signed both. And the proof the forked server served
    // does not show that its tree extends the kept one.
    let log_key = VerifierKey::parse(&c.log_key).expect("the log key");
    let open = |note: &str| {
        open_checkpoint(note.as_bytes(), &log_key, &[])
            .expect("the note verifies under the log key")
            .0
    };
    let (kept_cp, served_cp) = (open(&kept_note), open(&forked_note));
    assert_eq!((kept_cp.size, served_cp.size), (kept_size, forked_size));
    let proof_lines: Vec<Hash> = evidence
        .split_once("\nproof ")
        .expect("a proof section")
        .1
        .lines()
        .skip(1)
        .map(|b64| {
            let bytes = BASE64.decode(b64).expect("base64 proof hash");
            Hash(bytes.try_into().expect("32 bytes"))
        })
        .collect();
    assert!(
        !proof_lines.is_empty(),
        "the served proof is kept:\n{evidence}"
    );
    assert!(
        verify_consistency(
            kept_size,
            forked_size,
            &proof_lines,
            &kept_cp.root,
            &served_cp.root
        )
        .is_err(),
        "the two signed trees are inconsistent"
    );
    assert_ne!(kept_cp.root, served_cp.root);

    // The kept checkpoint is still A's: B raises the alarm again, and A
    // verifies from it without one.
    p.reload();
    let check = check_ended(&mut p);
    assert_eq!(check["step"], json!("consistency"), "{check}");
    let again = p.wait_for(
        "document.getElementById('ledger-alarm')?.dataset.kind",
        "the alarm again",
    );
    assert_eq!(again, json!("fork"));
    proxy.switch_to(&server.url);
    p.reload();
    let check = check_ended(&mut p);
    assert_eq!(check["state"], json!("verified"), "{check}");
    assert_eq!(check["size"], json!(kept_size.to_string()));
    assert!(p.eval("document.getElementById('ledger-alarm')").is_null());
    drop(forked);
}

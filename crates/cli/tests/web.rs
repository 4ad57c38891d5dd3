//! Browser tests of the residents' web page (`/`, `/assets/*`): real
//! headless Chromium (`/usr/bin/chromium`, Debian package `chromium`)
//! loads the page from the real `feeledger serve` on a demo ledger whose
//! checkpoint carries committee and witness cosignatures, and the tests read
//! the DOM after the page's JavaScript ran (`--dump-dom` with a virtual time
//! budget), the console (`--enable-logging=stderr`), and a phone-sized
//! screenshot. Tampering is done by a small HTTP proxy between the browser
//! and the server.
//!
//! Chromium is required: without it these tests fail, they never skip.
//! Install it with `apt-get install chromium`. WebCrypto Ed25519 needs no
//! flag in Chromium 137 and later.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use support::chromium::{assert_chromium, chromium};
use support::http::Server;
use support::proxy::{forward_get, loopback, path_of, Answer, Loopback};
use support::{keygen, run};

// ---------------------------------------------------------------------------
// Fixtures: a cosigned demo ledger and the real server
// ---------------------------------------------------------------------------

/// The demo community, its checkpoint cosigned by a registered witness and
/// two committee members, one pending proposal, served.
struct Fixture {
    _dir: tempfile::TempDir,
    server: Server,
}

impl Fixture {
    fn new() -> Fixture {
        assert_chromium();
        let started = Instant::now();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("demo");
        let data_arg = data.to_str().expect("UTF-8 temp path");
        run(["demo", "--no-serve", "--data", data_arg]).assert_ok();

        // A witness cosigns over HTTP; then two committee members cosign
        // locally.
        let witness = keygen(dir.path(), "witness-beijing");
        run(["add-witness", "--data", data_arg, &witness.cosigner_key]).assert_ok();
        let server = Server::start(&data);
        let state = dir.path().join("witness-state.json");
        run([
            "cosign-checkpoint",
            "--url",
            &server.url,
            "--key",
            witness.path.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ])
        .assert_ok();
        server.stop();
        for member in ["weiyuan-wang", "weiyuan-zhao"] {
            let key = data.join("keys").join(format!("{member}.key"));
            let state = dir.path().join(format!("{member}-state.json"));
            run([
                "cosign-checkpoint",
                "--data",
                data_arg,
                "--key",
                key.to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
            ])
            .assert_ok();
        }
        // A spending proposal the committee has not signed yet.
        let company = data.join("keys").join("wuye-li.key");
        let out = run([
            "propose",
            "--yes",
            "--data",
            data_arg,
            "--key",
            company.to_str().unwrap(),
            "expenditure",
            "--amount",
            "1200",
            "--category",
            "repairs",
            "--payee",
            "宏达机电维修服务部",
            "--memo",
            "单元门禁维修",
        ]);
        out.assert_ok();
        assert!(
            out.pending_id().is_some(),
            "the proposal waits for the committee: {out:#?}"
        );

        let server = Server::start(&data);
        let note = String::from_utf8(server.http().checkpoint()).expect("UTF-8 checkpoint");
        for name in ["witness-beijing", "weiyuan-wang", "weiyuan-zhao"] {
            assert!(
                note.contains(&format!("\u{2014} {name} ")),
                "{name} cosigned:\n{note}"
            );
        }
        println!("fixture ready in {:?} at {}", started.elapsed(), server.url);
        Fixture { _dir: dir, server }
    }

    /// The maintenance-fund elevator repair: an expenditure with the owners'
    /// approval, signed by the company and two committee members.
    fn committee_expenditure(&self) -> u64 {
        let list = self
            .server
            .http()
            .get("/api/v1/entries?kind=expenditure&fund=maintenance&limit=500")
            .ok_json();
        let entry = list["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                !e["leaf"]["body"]["owners_approval"].is_null()
                    && e["signers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| s["role"] == "committee")
                        .count()
                        >= 2
            })
            .expect("the demo has an owner-approved, committee-signed repair");
        entry["seq"].as_u64().unwrap()
    }

    fn first_of_kind(&self, kind: &str) -> Value {
        let list = self
            .server
            .http()
            .get(&format!("/api/v1/entries?kind={kind}&limit=1"))
            .ok_json();
        list["entries"][0].clone()
    }
}

/// The page's DOM once its scripts ran and went idle.
struct Page {
    url: String,
    dom: String,
    console: Vec<String>,
}

fn load(url: &str) -> Page {
    let run = chromium(&["--dump-dom"], url);
    assert!(
        run.stdout.contains("</html>"),
        "no DOM dumped for {url}: {:?}",
        run.console
    );
    Page {
        url: url.to_string(),
        dom: run.stdout,
        console: run.console,
    }
}

impl Page {
    /// The attributes of the element with this id, or None.
    fn attrs(&self, id: &str) -> Option<BTreeMap<String, String>> {
        let at = self.dom.find(&format!(" id=\"{id}\""))?;
        let start = self.dom[..at].rfind('<')?;
        let end = at + self.dom[at..].find('>')?;
        Some(parse_attrs(&self.dom[start..end]))
    }

    #[track_caller]
    fn attr(&self, id: &str, name: &str) -> String {
        let attrs = self
            .attrs(id)
            .unwrap_or_else(|| panic!("no #{id} on {}:\n{}", self.url, self.summary()));
        attrs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("#{id} has no {name} ({attrs:?}) on {}", self.url))
    }

    /// The text inside an element that holds only text (e.g. #js-errors).
    fn text(&self, id: &str) -> Option<String> {
        let at = self.dom.find(&format!(" id=\"{id}\""))?;
        let open_end = at + self.dom[at..].find('>')? + 1;
        let close = open_end + self.dom[open_end..].find('<')?;
        Some(unescape(&self.dom[open_end..close]))
    }

    /// Element text without tags, for failure messages.
    fn summary(&self) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in self.dom.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        let words: Vec<&str> = out.split_whitespace().collect();
        let text = words.join(" ");
        text.chars().take(3000).collect()
    }

    /// The page loaded, and no script error reached the console or #js-errors.
    #[track_caller]
    fn assert_clean(&self) {
        assert_eq!(
            self.attrs("js-errors").map(|_| ()),
            Some(()),
            "#js-errors exists on {}",
            self.url
        );
        let errors = self.text("js-errors").unwrap_or_default();
        assert!(
            errors.trim().is_empty(),
            "#js-errors on {}:\n{errors}",
            self.url
        );
        assert!(
            self.console.is_empty(),
            "console messages on {}:\n{}",
            self.url,
            self.console.join("\n")
        );
        assert!(
            self.dom.contains("data-app=\"ready\""),
            "the page never finished loading {}:\n{}",
            self.url,
            self.summary()
        );
    }

    /// data-status (and data-step) of a verification result element.
    #[track_caller]
    fn verification(&self, id: &str) -> (String, Option<String>) {
        let attrs = self
            .attrs(id)
            .unwrap_or_else(|| panic!("no #{id} on {}:\n{}", self.url, self.summary()));
        (
            attrs.get("data-status").cloned().unwrap_or_default(),
            attrs.get("data-step").cloned(),
        )
    }
}

fn parse_attrs(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag.trim_start_matches('<');
    rest = rest.trim_start_matches(|c: char| !c.is_whitespace());
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_string();
        rest = &rest[name_end..];
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            out.insert(name, unescape(&after[..close]));
            rest = after.get(close + 1..).unwrap_or("");
        } else {
            out.insert(name, String::new());
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------
// A tampering proxy
// ---------------------------------------------------------------------------

/// What the proxy changes on its way from the server to the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tamper {
    /// Nothing: an honest proxy (which also serves the phone-frame page).
    Nothing,
    /// One byte of the leaf inside `leaf_base64` (an amount digit).
    LeafByte,
    /// One byte of an entry signature inside the leaf, with `leaf_hash`
    /// recomputed in the entry and its proof so that the hashes agree.
    Signature,
    /// One byte of the first hash of the inclusion proof.
    ProofHash,
    /// The decoded `leaf.body.amount_fen` only (the bytes stay honest).
    ShownAmount,
    /// One byte of the log key's signature on the checkpoint.
    CheckpointSignature,
    /// The key id written in the log key that `/api/v1/ledger` serves (the
    /// key itself stays honest).
    LogKeyId,
    /// `/api/v1/ledger` says it is one entry smaller than it is, with one
    /// more signature required of the first role than the log gives.
    RolesAtSmallerSize,
    /// `/api/v1/ledger` says it is one entry larger than the checkpoint,
    /// with honest roles (as a stale cached checkpoint would look).
    SizeAheadOfCheckpoint,
    /// `/api/v1/ledger` states the size just before its last governance
    /// entry, with the roles in force after it: roles checked at the
    /// checkpoint's size instead of the stated one would match.
    SizeBeforeLastGovernance,
    /// `/api/v1/ledger` states a size of 0.
    SizeZero,
}

/// A proxy in front of the server that tampers as `tamper` says with entry
/// `seq`, and serves [`PHONE_FRAME`]; stopped on drop.
fn proxy(upstream: &str, tamper: Tamper, seq: u64) -> Loopback {
    let upstream = upstream.to_string();
    let client = reqwest::blocking::Client::new();
    loopback(move |target| {
        let path = path_of(target);
        if path == PHONE_FRAME_PATH {
            return Ok(Answer::ok("text/html; charset=utf-8", PHONE_FRAME));
        }
        let mut answer = forward_get(&client, &upstream, target)?;
        if answer.status == 200 {
            answer.body = tampered(tamper, seq, path, answer.body, &upstream, &client);
        }
        Ok(answer)
    })
}

/// Where the proxy serves [`PHONE_FRAME`].
const PHONE_FRAME_PATH: &str = "/__phone-frame.html";

/// A page that shows `?src=` (same origin, through the proxy) in a 390×844
/// iframe, waits until it is ready and its verifications ran, then records
/// in #frame its layout width, scroll width and any element that sticks out
/// to the right. Headless Chromium's window is never narrower than 500 px
/// for --dump-dom, but an iframe has exactly the width it is given.
const PHONE_FRAME: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="phone" style="width:390px;height:844px;border:0"></iframe>
<div id="frame"></div>
<script>
const frame = document.getElementById('phone');
const started = Date.now();
function measure() {
  const d = frame.contentDocument;
  const running = d && d.querySelector('[data-status="running"]');
  if (!d || d.documentElement.getAttribute('data-app') !== 'ready' || running) {
    if (Date.now() - started < 20000) return setTimeout(measure, 50);
  }
  const root = d.documentElement;
  const width = root.clientWidth;
  const wide = [...d.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className : ''));
  const out = document.getElementById('frame');
  out.setAttribute('data-client-width', String(width));
  out.setAttribute('data-scroll-width', String(root.scrollWidth));
  out.setAttribute('data-wide', wide.slice(0, 20).join(' '));
  out.setAttribute('data-ready', d.documentElement.getAttribute('data-app') || '');
}
frame.addEventListener('load', () => setTimeout(measure, 50));
frame.src = new URLSearchParams(location.search).get('src');
</script></body></html>
"#;

fn tampered(
    tamper: Tamper,
    seq: u64,
    path: &str,
    body: Vec<u8>,
    upstream: &str,
    client: &reqwest::blocking::Client,
) -> Vec<u8> {
    let entry_path = format!("/api/v1/entries/{seq}");
    let proof_path = format!("{entry_path}/proof");
    match tamper {
        Tamper::LeafByte if path == entry_path => {
            let mut entry: Value = serde_json::from_slice(&body).unwrap();
            let leaf = change_leaf(&entry, Tamper::LeafByte);
            entry["leaf_base64"] = Value::String(BASE64.encode(&leaf));
            serde_json::to_vec(&entry).unwrap()
        }
        Tamper::Signature if path == entry_path => {
            let mut entry: Value = serde_json::from_slice(&body).unwrap();
            let leaf = change_leaf(&entry, Tamper::Signature);
            entry["leaf_base64"] = Value::String(BASE64.encode(&leaf));
            entry["leaf_hash"] = Value::String(feeledger_core::hash::leaf_hash(&leaf).to_hex());
            entry["leaf"] = serde_json::from_slice(&leaf).unwrap();
            serde_json::to_vec(&entry).unwrap()
        }
        Tamper::Signature if path == proof_path => {
            // Agree with the tampered entry, as a careful liar would.
            let entry: Value = client
                .get(format!("{upstream}{entry_path}"))
                .send()
                .unwrap()
                .json()
                .unwrap();
            let leaf = change_leaf(&entry, Tamper::Signature);
            let mut proof: Value = serde_json::from_slice(&body).unwrap();
            proof["leaf_hash"] = Value::String(feeledger_core::hash::leaf_hash(&leaf).to_hex());
            serde_json::to_vec(&proof).unwrap()
        }
        Tamper::ProofHash if path == proof_path => {
            let mut proof: Value = serde_json::from_slice(&body).unwrap();
            let mut first = BASE64.decode(proof["proof"][0].as_str().unwrap()).unwrap();
            first[0] ^= 0x01;
            proof["proof"][0] = Value::String(BASE64.encode(first));
            serde_json::to_vec(&proof).unwrap()
        }
        Tamper::ShownAmount if path == entry_path => {
            let mut entry: Value = serde_json::from_slice(&body).unwrap();
            let amount = entry["leaf"]["body"]["amount_fen"].as_u64().unwrap();
            entry["leaf"]["body"]["amount_fen"] = Value::from(amount + 100);
            serde_json::to_vec(&entry).unwrap()
        }
        Tamper::CheckpointSignature if path == "/checkpoint" => {
            let text = String::from_utf8(body).unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let first_sig = lines
                .iter()
                .position(|l| l.starts_with('\u{2014}'))
                .expect("a signature line");
            let (prefix, b64) = lines[first_sig].rsplit_once(' ').unwrap();
            let mut raw = BASE64.decode(b64).unwrap();
            let last = raw.len() - 1;
            raw[last] ^= 0x01;
            lines[first_sig] = format!("{prefix} {}", BASE64.encode(raw));
            format!("{}\n", lines.join("\n")).into_bytes()
        }
        Tamper::LogKeyId
        | Tamper::RolesAtSmallerSize
        | Tamper::SizeBeforeLastGovernance
        | Tamper::SizeZero
        | Tamper::SizeAheadOfCheckpoint
            if path == "/api/v1/ledger" =>
        {
            let mut ledger: Value = serde_json::from_slice(&body).unwrap();
            let size = ledger["size"].as_u64().unwrap();
            match tamper {
                Tamper::LogKeyId => {
                    let key = ledger["log_key"].as_str().unwrap().to_string();
                    let (name, rest) = key.split_once('+').unwrap();
                    let (id, public) = rest.split_once('+').unwrap();
                    let first = if id.starts_with('0') { '1' } else { '0' };
                    let forged = format!("{name}+{first}{}+{public}", &id[1..]);
                    ledger["log_key"] = Value::String(forged);
                }
                Tamper::RolesAtSmallerSize => {
                    ledger["size"] = Value::from(size - 1);
                    let roles = ledger["roles"].as_object_mut().unwrap();
                    let first = roles.values_mut().next().unwrap();
                    let threshold = first["threshold"].as_u64().unwrap();
                    first["threshold"] = Value::from(threshold + 1);
                }
                Tamper::SizeBeforeLastGovernance => {
                    let listing: Value = client
                        .get(format!(
                            "{upstream}/api/v1/entries?kind=governance&limit=500"
                        ))
                        .send()
                        .unwrap()
                        .json()
                        .unwrap();
                    let last = listing["entries"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["seq"].as_u64().unwrap())
                        .max()
                        .expect("the demo has a governance entry");
                    ledger["size"] = Value::from(last);
                }
                Tamper::SizeZero => ledger["size"] = Value::from(0),
                Tamper::SizeAheadOfCheckpoint => ledger["size"] = Value::from(size + 1),
                _ => unreachable!("matched above"),
            }
            serde_json::to_vec(&ledger).unwrap()
        }
        _ => body,
    }
}

/// The served entry's leaf bytes with one byte changed: the first digit of
/// the amount, or a base64 character in the middle of the first signature.
fn change_leaf(entry: &Value, how: Tamper) -> Vec<u8> {
    let mut leaf = BASE64
        .decode(entry["leaf_base64"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(leaf.clone()).unwrap();
    let at = match how {
        Tamper::LeafByte => text.find("\"amount_fen\":").unwrap() + "\"amount_fen\":".len(),
        Tamper::Signature => text.find("\"sig\":\"").unwrap() + "\"sig\":\"".len() + 20,
        _ => unreachable!(),
    };
    leaf[at] = match (how, leaf[at]) {
        (Tamper::LeafByte, b'9') => b'8',
        (Tamper::LeafByte, d) => d + 1,
        (_, b'A') => b'B',
        _ => b'A',
    };
    leaf
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Proves that the page, loaded from the real server, renders without
/// errors and shows each fund's balance with exactly the fen the API
/// reports (data-fen on #balance-<fund>), the latest checkpoint's size, the
/// cosigners (committee and witness), the pending proposal, and the log
/// key's fingerprint built from the served log key.
#[test]
fn page_shows_the_balances_the_api_reports() {
    let f = Fixture::new();
    let page = load(&format!("{}/", f.server.url));
    page.assert_clean();

    let balances = f.server.http().get("/api/v1/balances").ok_json();
    let funds = balances["balances_fen"].as_object().unwrap();
    assert_eq!(funds.len(), 3, "{balances}");
    for (fund, fen) in funds {
        let id = format!("balance-{fund}");
        assert_eq!(page.attr(&id, "data-fund"), *fund);
        assert_eq!(
            page.attr(&id, "data-fen"),
            fen.as_u64().unwrap().to_string(),
            "{fund}"
        );
    }
    // The maintenance fund, in yuan, as the page writes it.
    let maintenance = funds["maintenance"].as_u64().unwrap();
    let yuan = format!(
        "¥{}.{:02}",
        group_thousands(maintenance / 100),
        maintenance % 100
    );
    assert!(
        page.dom.contains(&yuan),
        "{yuan} shown:\n{}",
        page.summary()
    );

    let ledger = f.server.http().get("/api/v1/ledger").ok_json();
    let size = ledger["size"].as_u64().unwrap();
    assert_eq!(page.attr("checkpoint", "data-size"), size.to_string());
    for name in ["witness-beijing", "weiyuan-wang", "weiyuan-zhao"] {
        assert!(page.dom.contains(name), "{name} shown as a cosigner");
    }
    assert_eq!(page.attr("fingerprint", "data-key-id"), served_key_id(&f));
    assert!(
        page.dom.contains("data-proposal="),
        "the pending proposal is listed"
    );
    assert!(
        page.dom.contains("单元门禁维修"),
        "the proposal's memo is shown"
    );
    assert!(
        page.dom.matches("data-card-seq=").count() >= 20,
        "a first page of entries:\n{}",
        page.summary()
    );
}

/// The key id written in the log key the server serves (its text's middle
/// part, as the server states it).
fn served_key_id(f: &Fixture) -> String {
    let ledger = f.server.http().get("/api/v1/ledger").ok_json();
    let key = ledger["log_key"].as_str().unwrap();
    key.split('+').nth(1).unwrap().to_string()
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Proves that `#verify=<seq>` verifies, in the browser, an expenditure
/// co-signed by the committee (hash, signatures against the roles in force,
/// inclusion, checkpoint signature and cosignatures, amount); and that the
/// same holds for a transfer signed by a committee member who left later
/// (governance history is replayed) and for a reversal (its target is
/// verified too); and that the target of a reversal, verified alone, says
/// the reversal is not verified yet. No script errors along the way.
#[test]
fn verify_hash_verifies_committee_cosigned_entries() {
    let f = Fixture::new();
    let seq = f.committee_expenditure();
    let page = load(&format!("{}/#verify={seq}", f.server.url));
    page.assert_clean();
    let (status, step) = page.verification("verify-result");
    assert_eq!(
        (status.as_str(), step),
        ("verified", None),
        "entry {seq}:\n{}",
        page.summary()
    );
    assert_eq!(page.attr("verify-result", "data-seq"), seq.to_string());
    let entry = f
        .server
        .http()
        .get(&format!("/api/v1/entries/{seq}"))
        .ok_json();
    let amount = entry["leaf"]["body"]["amount_fen"].as_u64().unwrap();
    assert!(
        page.dom
            .contains(&format!("data-verified-amount-fen=\"{amount}\"")),
        "the verified amount is shown"
    );

    let transfer = f.first_of_kind("transfer");
    assert!(
        transfer["signers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["role"].is_null()),
        "the demo transfer is signed by a member who left the committee: {}",
        transfer["signers"]
    );
    let reversal = f.first_of_kind("reversal");
    for other in [&transfer, &reversal] {
        let seq = other["seq"].as_u64().unwrap();
        let page = load(&format!("{}/#verify={seq}", f.server.url));
        page.assert_clean();
        let (status, step) = page.verification("verify-result");
        assert_eq!(
            (status.as_str(), step),
            ("verified", None),
            "{} {seq}:\n{}",
            other["kind"],
            page.summary()
        );
    }

    // The server's word that an entry was reversed is marked as such until
    // the reversal itself verifies: verifying only the target leaves it
    // unverified.
    let reversal_seq = reversal["seq"].as_u64().unwrap();
    let target = reversal["leaf"]["body"]["target_seq"].as_u64().unwrap();
    let page = load(&format!("{}/?lang=en#verify={target}", f.server.url));
    page.assert_clean();
    let (status, _) = page.verification("verify-result");
    assert_eq!(status, "verified", "entry {target}:\n{}", page.summary());
    let note = format!("class=\"reversed\" data-reversed-by=\"{reversal_seq}\"");
    let at = page
        .dom
        .find(&note)
        .unwrap_or_else(|| panic!("entry {target} shows its reversal:\n{}", page.summary()));
    let paragraph = &page.dom[at..at + page.dom[at..].find("</p>").unwrap()];
    assert!(
        !paragraph.contains("data-verified") && paragraph.contains("not checked yet"),
        "{paragraph}"
    );
}

/// Proves that the page trusts the bytes, not the server: through a proxy
/// that alters one thing, `#verify=<seq>` shows data-status="failed" and
/// data-step names the check that caught it — a changed leaf byte (hash), a
/// changed signature byte with hashes made to agree (signature), a changed
/// proof hash (inclusion), a changed decoded amount (amount), a changed
/// checkpoint signature (checkpoint). The honest proxy path verifies.
#[test]
fn tampered_responses_fail_at_the_step_that_catches_them() {
    let f = Fixture::new();
    let seq = f.committee_expenditure();
    for (tamper, step) in [
        (Tamper::LeafByte, "leaf-hash"),
        (Tamper::Signature, "signature"),
        (Tamper::ProofHash, "inclusion"),
        (Tamper::ShownAmount, "amount"),
        (Tamper::CheckpointSignature, "checkpoint"),
        // Roles are compared at the size the server states, not skipped
        // when it differs from the checkpoint's.
        (Tamper::RolesAtSmallerSize, "governance"),
        (Tamper::SizeBeforeLastGovernance, "governance"),
        (Tamper::SizeZero, "governance"),
    ] {
        let p = proxy(&f.server.url, tamper, seq);
        let page = load(&format!("{}/#verify={seq}", p.url));
        let (status, got) = page.verification("verify-result");
        assert_eq!(
            (status.as_str(), got.as_deref()),
            ("failed", Some(step)),
            "{tamper:?}:\n{}",
            page.summary()
        );
        let errors = page.text("js-errors").unwrap_or_default();
        assert!(errors.trim().is_empty(), "{tamper:?}: #js-errors {errors}");
        println!("{tamper:?}: failed at {step}");
    }
    // A listing ahead of the checkpoint cannot be compared; the page
    // verifies the entry and says the roles went uncompared.
    let p = proxy(&f.server.url, Tamper::SizeAheadOfCheckpoint, seq);
    let page = load(&format!("{}/#verify={seq}", p.url));
    assert_eq!(page.verification("verify-result").0, "verified");
    assert!(
        page.dom.contains("未能比对"),
        "no word that the roles went uncompared:\n{}",
        page.summary()
    );
    // The same proxy, tampering with another entry only, changes nothing here.
    let p = proxy(&f.server.url, Tamper::LeafByte, seq + 1);
    let page = load(&format!("{}/#verify={seq}", p.url));
    page.assert_clean();
    assert_eq!(page.verification("verify-result").0, "verified");
}

/// Proves that the fingerprint panel shows the key id computed from the
/// served log key, not the one written in it: a server that labels a key
/// with another key's id (here, the honest key with one hex digit of its id
/// changed) gets a warning and no key id to compare with the notice board.
#[test]
fn a_log_key_whose_key_id_does_not_match_it_is_flagged() {
    let f = Fixture::new();
    let honest = load(&format!("{}/", f.server.url));
    honest.assert_clean();
    assert!(honest.attrs("fp-bad").is_none(), "{}", honest.summary());
    assert_eq!(honest.attr("fingerprint", "data-key-id"), served_key_id(&f));

    let p = proxy(&f.server.url, Tamper::LogKeyId, 0);
    let page = load(&format!("{}/", p.url));
    assert!(
        page.attrs("fp-bad").is_some(),
        "no key id warning:\n{}",
        page.summary()
    );
    let panel = page.attrs("fingerprint").expect("a fingerprint panel");
    assert!(panel["class"].contains("danger"), "{panel:?}");
    assert!(
        !panel.contains_key("data-key-id"),
        "a key id is shown for an invalid key: {panel:?}"
    );
    assert_eq!(page.text("fp-keyid").as_deref(), Some("—"));
    let errors = page.text("js-errors").unwrap_or_default();
    assert!(errors.trim().is_empty(), "#js-errors {errors}");
}

/// Proves that on plain HTTP from another host, where the browser offers no
/// WebCrypto, the fingerprint panel shows the served key id as the server
/// states it, with no warning that the key is invalid: only a key that
/// fails its own id check is flagged.
#[test]
fn without_webcrypto_the_fingerprint_shows_the_served_id_and_no_warning() {
    let f = Fixture::new();
    let port = f.server.url.rsplit(':').next().unwrap().to_string();
    // Not localhost: not a secure context, so no crypto.subtle.
    let url = format!("http://feeledger.test:{port}/");
    let run = chromium(
        &[
            "--dump-dom",
            "--host-resolver-rules=MAP feeledger.test 127.0.0.1",
        ],
        &url,
    );
    let page = Page {
        url: url.clone(),
        dom: run.stdout,
        console: run.console,
    };
    assert!(page.dom.contains("</html>"), "no DOM for {url}");
    assert!(page.attrs("fp-bad").is_none(), "{}", page.summary());
    assert_eq!(page.attr("fingerprint", "data-key-id"), served_key_id(&f));
    assert!(
        !page.attrs("fingerprint").unwrap()["class"].contains("danger"),
        "{}",
        page.summary()
    );
}

/// Proves that the page renders on a 390×844 phone screen: Chromium writes
/// PNG screenshots (the top of the page in Chinese and in English, and
/// taller ones with a verified entry and with a tampered one) under
/// target/web-screenshots/ that are real, non-trivial images of that size.
#[test]
fn phone_screenshots_are_written() {
    let f = Fixture::new();
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let seq = f.committee_expenditure();
    let tampering = proxy(&f.server.url, Tamper::LeafByte, seq);
    for (name, height, url) in [
        ("phone-390x844.png", 844, format!("{}/", f.server.url)),
        (
            "phone-390x844-en.png",
            844,
            format!("{}/?lang=en", f.server.url),
        ),
        (
            "phone-390-verified.png",
            1800,
            format!("{}/#verify={seq}", f.server.url),
        ),
        (
            "phone-390-tampered.png",
            844,
            format!("{}/#verify={seq}", tampering.url),
        ),
    ] {
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        let run = chromium(
            &[
                &format!("--window-size=390,{height}"),
                &format!("--screenshot={}", path.display()),
            ],
            &url,
        );
        let png = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("no screenshot {} ({e}): {:?}", path.display(), run.console)
        });
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is a PNG",
            path.display()
        );
        assert!(
            png.len() > 20_000,
            "{} is only {} bytes: a blank page?",
            path.display(),
            png.len()
        );
        let (width, h) = png_size(&png);
        assert_eq!((width, h), (390, height), "{}", path.display());
        assert!(run.console.is_empty(), "console: {:?}", run.console);
        println!("screenshot: {} ({} bytes)", path.display(), png.len());
    }
}

/// Proves that the page fits a 390 px phone screen without horizontal
/// scrolling — in Chinese and in English, with every entry verified and a
/// household's payments listed: in a 390×844 iframe its scroll width is its
/// width and no element sticks out to the right.
#[test]
fn page_fits_a_390_px_screen_without_horizontal_scrolling() {
    let f = Fixture::new();
    let honest = proxy(&f.server.url, Tamper::Nothing, 0);
    for src in ["/#verify-all", "/?lang=en&unit=3-1502#verify-all"] {
        let url = format!(
            "{}{PHONE_FRAME_PATH}?src={}",
            honest.url,
            src.replace('?', "%3F")
                .replace('&', "%26")
                .replace('=', "%3D")
                .replace('#', "%23")
        );
        let page = load(&url);
        assert_eq!(page.attr("frame", "data-ready"), "ready", "{src}");
        let client: u32 = page.attr("frame", "data-client-width").parse().unwrap();
        let scroll: u32 = page.attr("frame", "data-scroll-width").parse().unwrap();
        assert_eq!(client, 390, "{src}: the frame is a 390 px screen");
        assert_eq!(
            (scroll, page.attr("frame", "data-wide")),
            (390, String::new()),
            "{src}: nothing is wider than the screen"
        );
    }
}

/// target/web-screenshots (the parent of CARGO_TARGET_TMPDIR is target/).
fn screenshot_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("web-screenshots")
}

fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

/// Proves that loading the page and verifying everything on it (`#verify-all`:
/// checkpoint, cosignatures, the first page of entries; and in English with
/// a household's payments listed) raises no JavaScript error: nothing in
/// the console, nothing in #js-errors, and the page-wide result is verified.
#[test]
fn no_script_errors_while_loading_and_verifying_the_page() {
    let f = Fixture::new();
    for url in [
        format!("{}/#verify-all", f.server.url),
        format!("{}/?lang=en&unit=3-1502#verify-all", f.server.url),
    ] {
        let page = load(&url);
        page.assert_clean();
        let (status, step) = page.verification("verify-all-result");
        assert_eq!(
            (status.as_str(), step),
            ("verified", None),
            "{url}:\n{}",
            page.summary()
        );
        let count: usize = page
            .attr("verify-all-result", "data-count")
            .parse()
            .unwrap();
        let cards = page.dom.matches("data-card-seq=").count();
        assert!(
            count >= 20 && count <= cards,
            "{count} verified of {cards} cards"
        );
        assert_eq!(
            page.dom.matches("data-status=\"verified\"").count(),
            cards + 1,
            "every card and the page show verified"
        );
    }
}

/// The markup of one page section, `<section id="...">` to its end.
fn section<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page
        .dom
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}:\n{}", page.summary()));
    let end = start + page.dom[start..].find("</section>").unwrap();
    &page.dom[start..end]
}

/// Proves what a resident sees first: the page is in Chinese by default
/// and in English with `?lang=en`; the monthly chart is drawn as SVG; and a
/// household's payments (`?unit=3-1502`, as a QR code on a bill would link)
/// are listed, every one the API has for that unit, each with its receipt
/// link.
#[test]
fn page_speaks_chinese_draws_the_chart_and_lists_my_payments() {
    let f = Fixture::new();
    let page = load(&format!("{}/", f.server.url));
    page.assert_clean();
    assert!(
        page.dom.contains("<html lang=\"zh-CN\""),
        "{}",
        page.summary()
    );
    assert!(section(&page, "entries-section").contains("收支明细"));
    let chart = section(&page, "chart-section");
    assert!(
        chart.contains("<svg") && chart.contains("class=\"chart\""),
        "{chart}"
    );

    let unit = "3-1502";
    let payments = f
        .server
        .http()
        .get(&format!("/api/v1/payers/{unit}/entries?limit=500"))
        .ok_json();
    let seqs: Vec<u64> = payments["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(!seqs.is_empty(), "the demo has payments from {unit}");
    let page = load(&format!("{}/?lang=en&unit={unit}", f.server.url));
    page.assert_clean();
    assert!(page.dom.contains("<html lang=\"en\""), "{}", page.summary());
    let mine = section(&page, "mine-section");
    assert!(mine.contains("id=\"mine-list\""), "{mine}");
    assert_eq!(
        mine.matches("data-card-seq=").count(),
        seqs.len(),
        "every payment of {unit} is listed"
    );
    for seq in &seqs {
        assert!(
            mine.contains(&format!("data-card-seq=\"{seq}\""))
                && mine.contains(&format!("href=\"/receipt/{seq}?lang=en\"")),
            "payment {seq} and its receipt link"
        );
    }
}

/// Proves that the page's files carry a validator (`ETag`) and that a
/// returning browser that names it in `If-None-Match` gets 304 with no
/// body, for the page, an asset and the receipt page; a tag that is not
/// the file's (an older build) gets the whole file again.
#[test]
fn page_files_are_revalidated_not_downloaded_again() {
    let c = support::Community::new();
    let server = Server::start(&c.data);
    let client = reqwest::blocking::Client::new();
    for path in ["/", "/assets/app.js", "/assets/strings.js", "/receipt/0"] {
        let url = format!("{}{path}", server.url);
        let first = client.get(&url).send().unwrap();
        assert_eq!(first.status().as_u16(), 200, "{path}");
        let tag = first
            .headers()
            .get("etag")
            .unwrap_or_else(|| panic!("{path} has an ETag"))
            .to_str()
            .unwrap()
            .to_string();
        let body = first.bytes().unwrap();
        assert!(!body.is_empty());
        let again = client
            .get(&url)
            .header("if-none-match", &tag)
            .send()
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(again.headers().get("etag").unwrap().to_str().unwrap(), tag);
        assert!(again.bytes().unwrap().is_empty(), "{path}: no body");
        let stale = client
            .get(&url)
            .header("if-none-match", "\"0000000000000000\"")
            .send()
            .unwrap();
        assert_eq!(stale.status().as_u16(), 200, "{path}");
        assert_eq!(stale.bytes().unwrap(), body, "{path}: the whole file");
    }
}

/// Proves that the pages name their files by the build tag, that those
/// addresses are kept for a year without revalidation (so a returning
/// browser asks for none of them), that every module the entry module
/// imports is preloaded, and that a tag of another build gets today's file
/// revalidated as usual, never kept as immutable.
#[test]
fn page_modules_are_named_by_the_build_tag_and_kept_immutable() {
    let c = support::Community::new();
    let server = Server::start(&c.data);
    let client = reqwest::blocking::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.url)).send().unwrap();
    let html = get("/").text().unwrap();
    let at = html
        .find("<script type=\"module\" src=\"assets/v/")
        .unwrap_or_else(|| panic!("the entry module is tagged: {html}"));
    let src = &html[at + "<script type=\"module\" src=\"".len()..];
    let src = &src[..src.find('"').unwrap()];
    let tag = src.split('/').nth(2).unwrap().to_string();
    assert_eq!(src, format!("assets/v/{tag}/app.js"));
    assert_eq!(tag.len(), 32, "{tag}");
    assert!(tag.bytes().all(|b| b.is_ascii_hexdigit()), "{tag}");
    assert!(
        html.contains(&format!("href=\"assets/v/{tag}/style.css\"")),
        "{html}"
    );
    assert!(
        !html.contains("\"assets/app.js\""),
        "no untagged address: {html}"
    );

    let preloaded: Vec<&str> = html
        .split("<link rel=\"modulepreload\" href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    for module in [
        "strings.js",
        "verify.js",
        "ledger-state.js",
        "format.js",
        "dom.js",
    ] {
        let path = format!("assets/v/{tag}/{module}");
        assert!(
            preloaded.contains(&path.as_str()),
            "{module} preloaded: {preloaded:?}"
        );
    }
    for path in preloaded.iter().copied().chain([src]) {
        let r = get(&format!("/{path}"));
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(
            r.headers()["cache-control"].to_str().unwrap(),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        let plain = get(&format!("/assets/{}", path.rsplit('/').next().unwrap()));
        assert_eq!(
            plain.headers()["cache-control"].to_str().unwrap(),
            "no-cache"
        );
        assert_eq!(
            r.bytes().unwrap(),
            plain.bytes().unwrap(),
            "{path}: the same file"
        );
    }

    let other = get("/assets/v/00000000000000000000000000000000/app.js");
    assert_eq!(other.status().as_u16(), 200);
    assert_eq!(
        other.headers()["cache-control"].to_str().unwrap(),
        "no-cache"
    );
    let missing = get(&format!("/assets/v/{tag}/nothing.js"));
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing.text().unwrap().contains("not_found"));

    // The receipt page, one folder down, names them the same way.
    let receipt = get("/receipt/0").text().unwrap();
    assert!(
        receipt.contains(&format!("src=\"../assets/v/{tag}/receipt.js\"")),
        "{receipt}"
    );
}

/// Proves that the server gzips what the page reads (its files, the API's
/// JSON, checkpoints and tiles) when the client sends
/// `Accept-Encoding: gzip`, that the gzip body decodes to exactly the
/// bytes a client without it gets, and that such a client (Go's sumdb
/// client, the Python verifier, the CLI) still gets identity with a right
/// `Content-Length`. The page file's weak `ETag` is the same either way,
/// and revalidates a gzip copy with 304.
#[test]
fn answers_are_gzipped_only_for_clients_that_ask() {
    use std::io::Read as _;
    let c = support::Community::new();
    for day in 1..=3 {
        c.income(&format!("2026-02-0{day}"), "300.00", "1-101", "物业费");
    }
    let server = Server::start(&c.data);
    let client = reqwest::blocking::Client::new();
    let size = server.http().get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .unwrap();
    assert!(size > 2 && size < 256, "one partial tile of each: {size}");
    let bundle = format!("/tile/entries/000.p/{size}");
    let hashes = format!("/tile/0/000.p/{size}");
    for path in [
        "/",
        "/assets/app.js",
        "/api/v1/balances",
        "/api/v1/entries",
        "/checkpoint",
        bundle.as_str(),
        hashes.as_str(),
    ] {
        let url = format!("{}{path}", server.url);
        let plain = client.get(&url).send().unwrap();
        assert_eq!(plain.status().as_u16(), 200, "{path}");
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "{path}: identity without Accept-Encoding"
        );
        let length: usize = plain
            .headers()
            .get("content-length")
            .unwrap_or_else(|| panic!("{path}: Content-Length without Accept-Encoding"))
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let tag = plain.headers().get("etag").cloned();
        let plain = plain.bytes().unwrap().to_vec();
        assert_eq!(length, plain.len(), "{path}: Content-Length is the body's");

        let zipped = client
            .get(&url)
            .header("accept-encoding", "gzip")
            .send()
            .unwrap();
        assert_eq!(zipped.status().as_u16(), 200, "{path}");
        assert_eq!(
            zipped
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            Some("gzip"),
            "{path}: gzip when asked"
        );
        assert_eq!(
            zipped.headers().get("etag"),
            tag.as_ref(),
            "{path}: same tag"
        );
        let wire = zipped.bytes().unwrap().to_vec();
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(wire.as_slice())
            .read_to_end(&mut decoded)
            .unwrap_or_else(|e| panic!("{path}: not gzip: {e}"));
        assert_eq!(decoded, plain, "{path}: gzip decodes to the same bytes");
        if path == "/assets/app.js" {
            assert!(
                wire.len() * 3 < plain.len(),
                "app.js gzipped: {} of {} bytes",
                wire.len(),
                plain.len()
            );
            let again = client
                .get(&url)
                .header("accept-encoding", "gzip")
                .header("if-none-match", tag.clone().unwrap())
                .send()
                .unwrap();
            assert_eq!(again.status().as_u16(), 304, "{path}: revalidated");
            assert!(again.bytes().unwrap().is_empty());
        }
    }
}

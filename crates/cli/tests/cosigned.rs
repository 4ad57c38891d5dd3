//! The committee's last confirmation is always served: the real binary
//! cosigns and appends, the real server answers
//! `GET /api/v1/checkpoints/cosigned` and `GET /api/v1/checkpoints/{size}`;
//! and the demo's cosigned checkpoint carries committee and witness lines
//! that verify.

mod support;

use feeledger_core::note::{open_checkpoint, KeyAlg, Note, VerifierKey};
use serde_json::Value;
use support::demo::{Demo, DEMO_ENTRIES};
use support::http::Server;
use support::{Community, COMMITTEE};

/// `feeledger cosign-checkpoint --data DATA --key KEY --state STATE`: the
/// member cosigns the latest checkpoint of the data directory.
fn cosign_locally(c: &Community, member: &str) -> u64 {
    let state = c.path(&format!("{member}.state"));
    let out = c.cmd(
        "cosign-checkpoint",
        &[
            "--key",
            c.key_path(member).to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    let size: u64 = out
        .stdout
        .split("cosigned checkpoint of size ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cosign-checkpoint names the size: {out:#?}"));
    size
}

/// The committee members' cosigner keys (type 0x04), as `keygen` printed them.
fn committee_cosigners(c: &Community) -> Vec<VerifierKey> {
    COMMITTEE
        .iter()
        .map(|name| VerifierKey::parse(&c.key(name).cosigner_key).unwrap())
        .collect()
}

/// Proves the latest cosigned checkpoint stays served after later appends
/// sign newer, uncosigned checkpoints: `/api/v1/checkpoints/cosigned` is the
/// checkpoint of size N with the member's line (verifying with the member's
/// cosigner key) while `/checkpoint` has moved on without one;
/// `/api/v1/checkpoints/{N}` is byte for byte the same note; an older
/// uncosigned kept size is served with the log's line only; a second
/// member cosigning a larger size moves it; and an unknown size, a size
/// beyond the log and a non-number are JSON errors.
#[test]
fn the_latest_cosigned_checkpoint_stays_served_after_appends() {
    let c = Community::new();
    let before = c.income("2026-01-05", "1280.50", "3-1502", "一月物业费") + 1;
    c.income("2026-01-06", "1280.50", "3-1503", "一月物业费");
    let n = cosign_locally(&c, COMMITTEE[0]);
    assert_eq!(n, before + 1);
    c.income("2026-01-07", "1280.50", "3-1504", "一月物业费");
    let latest_size = c.income("2026-01-08", "1280.50", "3-1505", "一月物业费") + 1;

    let server = Server::start(&c.data);
    let http = server.http();
    let log_key = VerifierKey::parse(&c.log_key).unwrap();
    let cosigners = committee_cosigners(&c);

    let latest = http.checkpoint();
    let (cp, _, lines) = open_checkpoint(&latest, &log_key, &cosigners).unwrap();
    assert_eq!(cp.size, latest_size);
    assert!(lines.is_empty(), "the latest checkpoint is not cosigned");

    let served = http.get("/api/v1/checkpoints/cosigned");
    assert_eq!(served.status, 200, "{}", served.text());
    assert!(
        served.content_type.starts_with("text/plain"),
        "{}",
        served.content_type
    );
    let (cp, _, lines) = open_checkpoint(&served.body, &log_key, &cosigners).unwrap();
    assert_eq!(cp.size, n, "still the size the member cosigned");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].name, COMMITTEE[0]);
    assert_eq!(lines[0].alg, KeyAlg::CosignatureV1);

    let by_size = http.get(&format!("/api/v1/checkpoints/{n}"));
    assert_eq!(by_size.status, 200, "{}", by_size.text());
    assert_eq!(by_size.body, served.body, "the same note by its size");

    let older = http.get(&format!("/api/v1/checkpoints/{before}"));
    assert_eq!(older.status, 200, "{}", older.text());
    let (cp, note, lines) = open_checkpoint(&older.body, &log_key, &cosigners).unwrap();
    assert_eq!(
        (cp.size, lines.len(), note.signatures.len()),
        (before, 0, 1)
    );

    // A consistency proof links it to the latest, as a reader asks.
    let proof = http
        .get(&format!("/api/v1/consistency?from={n}&to={latest_size}"))
        .ok_json();
    assert_eq!(proof["from"], Value::from(n));
    server.kill();

    // A second member cosigns the latest size: the served one moves there.
    let m = cosign_locally(&c, COMMITTEE[1]);
    assert_eq!(m, latest_size);
    let server = Server::start(&c.data);
    let http = server.http();
    let served = http.get("/api/v1/checkpoints/cosigned");
    let (cp, _, lines) = open_checkpoint(&served.body, &log_key, &cosigners).unwrap();
    assert_eq!((cp.size, lines.len()), (latest_size, 1));
    assert_eq!(lines[0].name, COMMITTEE[1]);
    assert_eq!(http.checkpoint(), served.body);

    http.get(&format!("/api/v1/checkpoints/{}", latest_size + 1))
        .assert_error(404, "not_found");
    http.get("/api/v1/checkpoints/0")
        .assert_error(404, "not_found");
    http.get("/api/v1/checkpoints/3x")
        .assert_error(400, "malformed");
    http.get("/api/v1/checkpoints/18446744073709551616")
        .assert_error(400, "malformed");
    server.kill();
}

/// Proves a ledger nobody has cosigned answers
/// `/api/v1/checkpoints/cosigned` with 404 `no_cosigned_checkpoint`, a
/// JSON error, while its checkpoints by size are served.
#[test]
fn no_cosigned_checkpoint_is_a_json_404() {
    let c = Community::new();
    let server = Server::start(&c.data);
    let http = server.http();
    let message = http
        .get("/api/v1/checkpoints/cosigned")
        .assert_error(404, "no_cosigned_checkpoint");
    assert!(message.contains("cosigned"), "{message}");
    let genesis = http.get("/api/v1/checkpoints/1");
    assert_eq!(genesis.status, 200, "{}", genesis.text());
    assert_eq!(genesis.body, http.checkpoint());
    server.kill();
}

/// Proves the demo serves a latest cosigned checkpoint, November's last
/// (its last entry is dated November, the next December; the latest
/// checkpoint is newer and not cosigned), carrying two committee members'
/// cosignatures, verifying with the cosigner forms of their role keys, and
/// the demo witness's, verifying with the witness key `/api/v1/ledger`
/// lists; every line the log key did not make is one of these three.
#[test]
fn the_demo_serves_committee_and_witness_cosignatures() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let info = http.get("/api/v1/ledger").ok_json();
    let mut known = Vec::new();
    for role in ["committee", "supervisor"] {
        for key in info["roles"][role]["keys"].as_array().unwrap() {
            let name = key["name"].as_str().unwrap();
            let public = key["public_key"].as_str().unwrap();
            let raw = base64_decode(public);
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap();
            known.push(VerifierKey::new(name, KeyAlg::CosignatureV1, vk).unwrap());
        }
    }
    let witnesses: Vec<VerifierKey> = info["witness_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| VerifierKey::parse(k.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(witnesses.len(), 1, "{info}");
    known.extend(witnesses.iter().cloned());

    let served = http.get("/api/v1/checkpoints/cosigned");
    assert_eq!(served.status, 200, "{}", served.text());
    let (cp, note, lines) = open_checkpoint(&served.body, &log_key, &known).unwrap();
    let date = |seq: u64| {
        http.get(&format!("/api/v1/entries/{seq}")).ok_json()["leaf"]["body"]["date"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(date(cp.size - 1).starts_with("2025-11-"), "{}", cp.size);
    assert!(date(cp.size).starts_with("2025-12-"), "{}", cp.size);
    let latest = http.checkpoint();
    let (latest_cp, _, latest_lines) = open_checkpoint(&latest, &log_key, &known).unwrap();
    assert_eq!(latest_cp.size, DEMO_ENTRIES);
    assert!(latest_lines.is_empty(), "the latest checkpoint is newer");
    assert_eq!(
        http.get(&format!("/api/v1/checkpoints/{}", cp.size)).body,
        served.body
    );
    let mut names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["demo-witness", "weiyuan-wang", "weiyuan-zhao"],
        "two committee members and the witness"
    );
    assert_eq!(
        note.signatures.len(),
        4,
        "the log's line and three cosignatures"
    );
    assert!(Note::parse(&served.body).is_ok());
    server.kill();
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

// ---------------------------------------------------------------------------
// The page's check of the committee's confirmation (web/confirm.js)
// ---------------------------------------------------------------------------

const HARNESS_PATH: &str = "/__confirm-harness.html";
const CASES_PATH: &str = "/__confirm-cases.json";
/// Requests under this prefix are forwarded without it, with the first
/// hash of every consistency proof changed (a server that forges one).
const FORGED_PREFIX: &str = "/forged";

/// Entries the demo grows by after its cosigned checkpoint, so that the
/// page's latest checkpoint is beyond the confirmed one.
const APPENDED: u64 = 2;

const HARNESS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>confirm.js harness</title></head>
<body>
<script type="module">
import { committeeConfirmation } from '/assets/confirm.js';
import * as v from '/assets/verify.js';

const out = {};
try {
  const cases = await (await fetch('/__confirm-cases.json')).json();
  // The latest checkpoint, verified with the log key, as the page holds it.
  const logKey = await v.parseVkey(cases.logKey);
  const latestNote = await (await fetch('/checkpoint', { cache: 'no-store' })).text();
  const cp = (await v.verifyCheckpointNote(latestNote, logKey, [])).checkpoint;
  out.latest = { size: cp.size };
  for (const c of cases.runs) {
    try {
      const r = await committeeConfirmation({ base: c.base, logKey: cases.logKey, roles: c.roles, latest: { size: cp.size, root: cp.root } });
      out[c.id] = { ok: true, size: r.size, time: r.time, cosigners: r.cosigners, unknown: r.unknown, extendsLatest: r.extendsLatest };
    } catch (e) {
      out[c.id] = { ok: false, step: e.step, reason: e.reason, why: String(e.message) };
    }
  }
} catch (e) {
  out.harness = { ok: false, why: String(e && e.stack ? e.stack : e) };
}
const text = v.toBase64(v.utf8(JSON.stringify(out))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const CHUNK_CHARS = 16000;
const n = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
for (let i = 0; i < n; i++) {
  await fetch(`/__result/${i}/${n}?${text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS)}`);
}
</script></body></html>
"#;

/// A consistency proof answer with its first hash changed.
fn forge_proof(body: &[u8]) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    let mut answer: Value = serde_json::from_slice(body).expect("a consistency proof is JSON");
    let first = answer["proof"][0]
        .as_str()
        .expect("a proof of one hash or more");
    let mut hash = BASE64.decode(first).unwrap();
    hash[0] ^= 0x01;
    answer["proof"][0] = Value::from(BASE64.encode(hash));
    answer.to_string().into_bytes()
}

/// Proves the page's `committeeConfirmation` (web/confirm.js), imported
/// into a page in real Chromium against the real demo server grown by two
/// entries: the genuine cosigned checkpoint (November's) verifies, naming
/// the two committee members with their role and time, and proving by a
/// consistency proof that the latest checkpoint extends it; the demo
/// witness's line, whose key is in no role, is not counted; a member whose
/// key in the roles is another key is not counted either; with no
/// committee key among the lines it is the typed `no-committee-cosignature`
/// error; and through a proxy that forges the consistency proof it fails at
/// step `consistency`.
#[test]
fn the_page_checks_the_committees_confirmation() {
    use support::bodies::{proposal_request, sign_with, Bodies};
    use support::browser::{chromium_until_reported, ResultChunks};
    use support::proxy::{loopback, path_of, Answer};

    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let bodies = Bodies {
        ledger: support::demo::DEMO_ORIGIN,
        month: "2027-01",
        memo: "confirm.js 测试",
    };
    let li = demo.signing_key("wuye-li");
    for i in 0..APPENDED {
        let income = bodies.income(&format!("confirm-{i}"), 27_525, "3-1502");
        let r = http.post_json(
            "/api/v1/proposals",
            &proposal_request(&income, &sign_with(&income, &[("wuye-li", &li)])),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }

    let confirmed = http.get("/api/v1/checkpoints/cosigned");
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    let confirmed_size: u64 = confirmed.text().lines().nth(1).unwrap().parse().unwrap();
    assert!(confirmed_size < DEMO_ENTRIES);
    let info = http.get("/api/v1/ledger").ok_json();
    let roles = info["roles"].clone();
    let mut swapped = roles.clone();
    let other = roles["committee"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "weiyuan-chen")
        .unwrap()["public_key"]
        .clone();
    for key in swapped["committee"]["keys"].as_array_mut().unwrap() {
        if key["name"] == "weiyuan-wang" {
            key["public_key"] = other.clone();
        }
    }
    let mut no_committee = roles.clone();
    no_committee["committee"]["keys"] = Value::Array(vec![]);
    let cases = serde_json::json!({
        "logKey": demo.log_key,
        "runs": [
            { "id": "genuine", "base": "", "roles": roles },
            { "id": "swapped", "base": "", "roles": swapped },
            { "id": "no-committee", "base": "", "roles": no_committee },
            { "id": "forged", "base": FORGED_PREFIX, "roles": roles },
        ],
    })
    .to_string();

    let reported = ResultChunks::default();
    let chunks = reported.clone();
    let upstream = server.url.clone();
    let proxy = loopback(move |target| {
        if chunks.take(target) {
            return Ok(Answer::ok("text/plain", "ok"));
        }
        Ok(match path_of(target) {
            HARNESS_PATH => Answer::ok("text/html; charset=utf-8", HARNESS),
            CASES_PATH => Answer::ok("application/json", cases.as_bytes()),
            _ => {
                let (forward, forged) = match target.strip_prefix(FORGED_PREFIX) {
                    Some(rest) => (rest, true),
                    None => (target, false),
                };
                let r = support::http::Http::new(&upstream).get(forward);
                let body = if forged && path_of(forward) == "/api/v1/consistency" && r.status == 200
                {
                    forge_proof(&r.body)
                } else {
                    r.body
                };
                Answer {
                    status: r.status,
                    content_type: r.content_type,
                    body,
                    cache_control: None,
                }
            }
        })
    });
    let (results, console) =
        chromium_until_reported(&format!("{}{HARNESS_PATH}", proxy.url), &reported);
    drop(proxy);
    server.kill();
    let results: Value = serde_json::from_slice(&results).expect("JSON results");
    assert!(
        results.get("harness").is_none(),
        "the harness failed: {}\nconsole:\n{}",
        results["harness"],
        console.join("\n")
    );
    assert_eq!(
        results["latest"]["size"],
        Value::from(DEMO_ENTRIES + APPENDED)
    );

    let genuine = &results["genuine"];
    assert_eq!(genuine["ok"], Value::Bool(true), "{genuine}");
    assert_eq!(genuine["size"], Value::from(confirmed_size), "{genuine}");
    assert_eq!(genuine["extendsLatest"], Value::Bool(true), "{genuine}");
    let names: Vec<(&str, &str)> = genuine["cosigners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("weiyuan-wang", "committee"), ("weiyuan-zhao", "committee")],
        "{genuine}"
    );
    assert!(
        genuine["cosigners"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["time"].as_u64().is_some_and(|t| t > 1_700_000_000)),
        "each cosigner's time, POSIX seconds: {genuine}"
    );
    assert_eq!(
        genuine["unknown"],
        serde_json::json!(["demo-witness"]),
        "the witness is in no role: not counted"
    );

    let swapped = &results["swapped"];
    assert_eq!(swapped["ok"], Value::Bool(true), "{swapped}");
    let names: Vec<&str> = swapped["cosigners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["weiyuan-zhao"], "{swapped}");
    assert!(
        swapped["unknown"]
            .as_array()
            .unwrap()
            .contains(&Value::from("weiyuan-wang")),
        "{swapped}"
    );

    let none = &results["no-committee"];
    assert_eq!(
        (&none["ok"], &none["step"], &none["reason"]),
        (
            &Value::Bool(false),
            &Value::from("cosignature"),
            &Value::from("no-committee-cosignature")
        ),
        "{none}"
    );

    let forged = &results["forged"];
    assert_eq!(
        (&forged["ok"], &forged["step"], &forged["reason"]),
        (
            &Value::Bool(false),
            &Value::from("consistency"),
            &Value::from("inconsistent")
        ),
        "{forged}"
    );
}

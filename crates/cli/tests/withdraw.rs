//! The committee's workflow through the real binary, a real sled
//! directory and the real server on loopback: `withdraw` by the proposer
//! (over `--data` and `--url`) and by a role's threshold, refusals that
//! change nothing, proposal ids by prefix, what `sign` shows, and
//! `proposals` naming who still must sign.

mod support;

use serde_json::json;
use support::http::Server;
use support::proxy::{forward_get, loopback, path_of, Answer};
use support::{run, Community, COMMITTEE, COMPANY, ORIGIN, OUTSIDER};

/// A community with ¥2,000.00 in `operating` and one expenditure of
/// ¥300.00 proposed by the company, waiting for two committee members.
fn with_pending() -> (Community, String) {
    let c = Community::new();
    c.income("2026-01-05", "2,000.00", "3-1502", "一月物业费");
    let id = expenditure(&c, "300", "一月保洁");
    (c, id)
}

/// Proposes an expenditure by the company; returns its id.
#[track_caller]
fn expenditure(c: &Community, amount: &str, memo: &str) -> String {
    let out = c.propose(
        &[COMPANY],
        "2026-01-08",
        &[
            "expenditure",
            "--amount",
            amount,
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
            "--memo",
            memo,
        ],
    );
    out.assert_ok();
    out.pending_id().expect("spending waits for the committee")
}

fn key(c: &Community, name: &str) -> String {
    c.key_path(name).display().to_string()
}

/// A withdrawal signature by key `name` over proposal `id` (hex), made
/// from the key file: its secret is the base64 after the fourth `+`.
fn withdrawal_sig(c: &Community, name: &str, id: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let line = std::fs::read_to_string(c.key_path(name)).unwrap();
    let secret = line.trim().splitn(5, '+').nth(4).unwrap();
    let bytes = b64.decode(secret).unwrap();
    let seed: [u8; 32] = bytes[1..33].try_into().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let id = feeledger_core::hash::Hash::from_hex(id).unwrap();
    feeledger_core::withdrawal::sign_withdrawal(name, &key, ORIGIN, &id).sig
}

/// `withdraw --data DATA --key NAME --yes ID`.
fn withdraw_local(c: &Community, name: &str, id: &str) -> support::Output {
    c.cmd("withdraw", &["--key", &key(c, name), "--yes", id])
}

/// Proves the proposer withdraws alone over `--data`, by an 8-digit
/// prefix: the proposal leaves the pending list, and signing it afterwards
/// is refused in one line naming the withdrawal, with nothing changed.
#[test]
fn the_proposer_withdraws_over_data() {
    let (c, id) = with_pending();
    let out = withdraw_local(&c, COMPANY, &id[..8]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("已撤回 withdrawn proposal {id} (by {COMPANY})")),
        "{out:#?}"
    );
    assert!(out.stderr.contains("撤回 To withdraw"), "{out:#?}");
    assert_eq!(c.cmd("proposals", &["--json"]).json(), json!([]));
    let before = c.snapshot();
    c.sign(COMMITTEE[0], &id)
        .assert_one_line_error(&[&format!("proposal {id} was withdrawn by {COMPANY}")]);
    withdraw_local(&c, COMPANY, &id).assert_one_line_error(&["was withdrawn"]);
    assert_eq!(c.snapshot(), before);
}

/// Proves a committee member alone (threshold 2) records a partial
/// withdrawal, kept and shown; signing the withdrawal twice is refused;
/// the second member withdraws it, and both are named.
#[test]
fn a_role_threshold_withdraws() {
    let (c, id) = with_pending();
    let out = withdraw_local(&c, COMMITTEE[0], &id);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("撤回待定 withdrawal pending for proposal {id}")),
        "{out:#?}"
    );
    assert!(out.stdout.contains("committee: 1 of 2"), "{out:#?}");
    assert_eq!(
        c.cmd("proposals", &["--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1,
        "still pending"
    );
    let before = c.snapshot();
    withdraw_local(&c, COMMITTEE[0], &id).assert_one_line_error(&[&format!(
        "you already signed the withdrawal of this proposal (as {})",
        COMMITTEE[0]
    )]);
    assert_eq!(c.snapshot(), before);
    let out = withdraw_local(&c, COMMITTEE[2], &id);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "已撤回 withdrawn proposal {id} (by {}, {})",
            COMMITTEE[2], COMMITTEE[0]
        )),
        "{out:#?}"
    );
    assert_eq!(c.cmd("proposals", &["--json"]).json(), json!([]));
}

/// Proves a key of no role is refused in one line naming the rule, and
/// that ids shorter than 8 digits or matching nothing are refused; none of
/// it changes the ledger.
#[test]
fn refusals_change_nothing() {
    let (c, id) = with_pending();
    let before = c.snapshot();
    withdraw_local(&c, OUTSIDER, &id)
        .assert_one_line_error(&[OUTSIDER, "holds no role in this ledger"]);
    withdraw_local(&c, COMPANY, &id[..7])
        .assert_one_line_error(&["is too short: give at least 8 of its 64 hex digits"]);
    c.sign(COMMITTEE[0], &id[..7])
        .assert_one_line_error(&["is too short: give at least 8"]);
    let other = if id.starts_with("00000000") {
        "ffffffff"
    } else {
        "00000000"
    };
    c.sign(COMMITTEE[0], other)
        .assert_one_line_error(&["no pending or withdrawn proposal has an id starting with"]);
    withdraw_local(&c, COMPANY, "xyz12345").assert_one_line_error(&["is not a proposal id"]);
    assert_eq!(c.snapshot(), before);
}

/// Proves `sign` shows, in Chinese and English, who proposed the proposal,
/// who signed it, who still must, and the fund's balance after, and
/// co-signs it by a 10-digit prefix.
#[test]
fn sign_shows_proposer_signers_and_balance_after() {
    let (c, id) = with_pending();
    let out = c.sign(COMMITTEE[0], &id[..10]);
    out.assert_ok();
    for shown in [
        "联署 To co-sign",
        &format!("提议人 proposed by:       {COMPANY}"),
        &format!("已签 signed by:           {COMPANY}"),
        "还需 2 人 2 more",
        "余额 balance after:",
        "¥2,000.00 → ¥1,700.00",
    ] {
        assert!(out.stderr.contains(shown), "shows {shown:?}: {out:#?}");
    }
    assert!(out.stdout.contains("signatures so far"), "{out:#?}");
}

/// Proves `proposals` over `--data` and `--url` prints the same lines,
/// naming for each role how many signed and which keys still may.
#[test]
fn proposals_show_who_still_must_sign() {
    let (c, id) = with_pending();
    c.sign(COMMITTEE[0], &id).assert_ok();
    let local = c.cmd("proposals", &[]);
    local.assert_ok();
    for shown in [
        id.as_str(),
        &format!("已签 signed by: {}, {COMPANY}", COMMITTEE[0]),
        "待签 waiting for: company (物业公司): 1 of 1, 已满足 met",
        &format!(
            "待签 waiting for: committee (业主委员会): 1 of 2; 还需 1 人 1 more, from: {}, {}",
            COMMITTEE[2], COMMITTEE[1]
        ),
    ] {
        assert!(local.stdout.contains(shown), "shows {shown:?}: {local:#?}");
    }
    let server = Server::start(&c.data);
    let remote = run(["proposals", "--url", &server.url, "--log-key", &c.log_key]);
    remote.assert_ok();
    assert_eq!(remote.stdout, local.stdout);
}

/// Proves the proposer withdraws over `--url` by prefix; the API then shows
/// it withdrawn (who, when), lists it among the recent withdrawals only,
/// and refuses to co-sign it (409 `withdrawn`); and that the API refuses a
/// withdrawal by a key of no role (403), with a bad signature (401), of an
/// unknown id (404) and of a committed proposal (409), changing nothing.
#[test]
fn withdrawal_over_url_and_the_api() {
    let (c, id) = with_pending();
    let other = expenditure(&c, "100", "二月保洁");
    let server = Server::start(&c.data);
    let http = server.http();
    let out = run([
        "withdraw",
        "--url",
        &server.url,
        "--key",
        &key(&c, COMPANY),
        "--yes",
        &id[..12],
    ]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("已撤回 withdrawn proposal {id} (by {COMPANY})")),
        "{out:#?}"
    );
    let view = http.get(&format!("/api/v1/proposals/{id}")).ok_json();
    assert_eq!(view["state"], json!("withdrawn"), "{view}");
    assert_eq!(view["withdrawn_by"], json!([COMPANY]), "{view}");
    assert!(view["withdrawn_ms"].as_u64().unwrap() > 0, "{view}");
    let pending = http.get("/api/v1/proposals").ok_json();
    let ids: Vec<&str> = pending["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other.as_str()]);
    let gone = http.get("/api/v1/proposals?state=withdrawn").ok_json();
    assert_eq!(gone["proposals"][0]["id"], json!(id), "{gone}");
    let snapshot = http.snapshot();
    run([
        "sign",
        "--url",
        &server.url,
        "--key",
        &key(&c, COMMITTEE[0]),
        "--yes",
        &id,
    ])
    .assert_one_line_error(&["was withdrawn by"]);
    http.post_json(
        &format!("/api/v1/proposals/{id}/signatures"),
        &json!({"signatures": [{"key": COMMITTEE[0], "sig": "A".repeat(86) + "=="}]}),
    )
    .assert_error(409, "withdrawn");
    let sig = |key: &str, about: &str| json!({"signatures": [{"key": key, "sig": withdrawal_sig(&c, key, about)}]});
    http.post_json(
        &format!("/api/v1/proposals/{other}/withdrawal"),
        &sig(OUTSIDER, &other),
    )
    .assert_error(403, "unknown_key");
    http.post_json(
        &format!("/api/v1/proposals/{other}/withdrawal"),
        &sig(COMPANY, &id),
    )
    .assert_error(401, "bad_signature");
    let unknown = "ab".repeat(32);
    http.post_json(
        &format!("/api/v1/proposals/{unknown}/withdrawal"),
        &sig(COMPANY, &unknown),
    )
    .assert_error(404, "not_found");
    http.post_json(
        &format!("/api/v1/proposals/{id}/withdrawal"),
        &sig(COMPANY, &id),
    )
    .assert_error(409, "withdrawn");
    assert_eq!(http.snapshot(), snapshot, "refusals changed nothing");
}

/// Proves an ambiguous prefix is refused, listing the proposals it
/// starts, rather than guessed: a proxy answers the prefix search with two
/// ids that share it (two real ids sharing 8 digits would take about 2^16
/// proposals to find).
#[test]
fn an_ambiguous_prefix_lists_the_matches() {
    let (c, id) = with_pending();
    let server = Server::start(&c.data);
    let upstream = server.url.clone();
    let twin = format!("{}{}", &id[..8], "0".repeat(56));
    let twin_in_proxy = twin.clone();
    let id_in_proxy = id.clone();
    let client = reqwest::blocking::Client::new();
    let proxy = loopback(move |target| {
        if path_of(target) == "/api/v1/proposals" && target.contains("prefix=") {
            let body = json!({"proposals": [{"id": id_in_proxy}, {"id": twin_in_proxy}]});
            return Ok(Answer::ok("application/json", body.to_string()));
        }
        forward_get(&client, &upstream, target)
    });
    let out = run([
        "sign",
        "--url",
        &proxy.url,
        "--key",
        &key(&c, COMMITTEE[0]),
        "--yes",
        &id[..8],
    ]);
    out.assert_one_line_error(&[
        &format!(
            "proposal id {} is ambiguous: it starts 2 proposals",
            &id[..8]
        ),
        &twin,
        &id,
        "give more of its digits",
    ]);
}

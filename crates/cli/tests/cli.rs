//! End-to-end tests of the `feeledger` binary on real sled data directories:
//! a full session, refusals of bad input, tamper detection, and crash
//! (SIGKILL) safety of appends.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{
    assert_refused, canonical_json, reordered_json, run, Community, Rng, COMMITTEE, COMPANY,
    OUTSIDER,
};

// ---------------------------------------------------------------------------
// 1. A full session
// ---------------------------------------------------------------------------

/// The everyday session so far: keygen and init, an income the company
/// commits at once (seq 1), and an expenditure that stays pending after one
/// committee co-signature and commits with the second (seq 2). Each step is
/// checked on the way.
fn session_with_a_cosigned_spend() -> Community {
    let c = Community::new();
    assert!(
        c.log_key.starts_with(&format!("{}+", support::ORIGIN)),
        "init prints the log key named after the origin: {}",
        c.log_key
    );

    // Income: the company alone commits it.
    let out = c.propose(
        &[COMPANY],
        "2026-01-05",
        &[
            "income",
            "--amount",
            "1280.50",
            "--category",
            "property_fee",
            "--payer",
            "3-1502",
            "--period",
            "2026-01",
        ],
    );
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(1), "{out:#?}");

    // Expenditure: pending until two committee members co-sign.
    let out = c.propose(
        &[COMPANY],
        "2026-01-06",
        &[
            "expenditure",
            "--amount",
            "300",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
            "--memo",
            "1月保洁",
        ],
    );
    out.assert_ok();
    let id = out.pending_id().expect("the expenditure is pending");
    assert_eq!(out.committed_seq(), None);
    let pending = c.cmd("proposals", &["--json"]).json();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["id"], json!(id));

    let out = c.sign(COMMITTEE[0], &id);
    out.assert_ok();
    assert_eq!(out.pending_id().as_deref(), Some(id.as_str()), "{out:#?}");
    assert!(out.stdout.contains("1 of 2"), "{out:#?}");
    assert_eq!(
        c.verify_json()["entries"],
        json!(2),
        "still not in the ledger"
    );

    let out = c.sign(COMMITTEE[1], &id);
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(2), "{out:#?}");
    assert_eq!(c.cmd("proposals", &["--json"]).json(), json!([]));

    c
}

/// The operating balance after the session's income and spend, in fen.
fn session_balances() -> Value {
    json!({"maintenance": 0, "operating": 98050, "public_revenue": 0})
}

/// Proves the everyday write path through the binary: keygen and init (the
/// log key is named after the origin), an income that the company alone
/// commits at once, and an expenditure that stays pending (listed by
/// `proposals`, "1 of 2", not in the ledger) until a second committee member
/// co-signs it.
#[test]
fn an_income_commits_at_once_and_a_spend_waits_for_two_committee_signatures() {
    let c = session_with_a_cosigned_spend();
    assert_eq!(c.verify_json()["entries"], json!(3));
}

/// Proves that after the session the balances are exact in fen and in yuan,
/// `list` shows the entries newest first in yuan, `list --payer` finds the
/// income with its amount and period, and `show` (text and JSON) shows the
/// expenditure with its payee, memo and three signers.
#[test]
fn balances_list_and_show_report_the_session_exactly() {
    let c = session_with_a_cosigned_spend();
    // Balances, exact in fen: 1280.50 - 300.00.
    let balances = c.cmd("balances", &["--json"]).json();
    assert_eq!(balances, session_balances());
    let text = c.cmd("balances", &[]);
    text.assert_ok();
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("operating") && l.contains("980.50 CNY")),
        "{text:#?}"
    );

    // list and show.
    let list = c.cmd("list", &[]);
    list.assert_ok();
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "newest first, genesis last: {list:#?}");
    assert!(
        lines[0].trim_start().starts_with("2  2026-01-06"),
        "{list:#?}"
    );
    assert!(
        lines[0].contains("-300.00 CNY from operating to 洁美保洁公司 (cleaning)"),
        "{list:#?}"
    );
    assert!(
        lines[1].contains("+1280.50 CNY into operating from 3-1502"),
        "{list:#?}"
    );
    assert!(lines[2].contains("genesis"), "{list:#?}");

    let rows = c.list_json(&["--payer", "3-1502"]);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["seq"], json!(1));
    assert_eq!(rows[0]["leaf"]["body"]["amount_fen"], json!(128050));
    assert_eq!(rows[0]["leaf"]["body"]["period"], json!("2026-01"));

    let show = c.cmd("show", &["2"]);
    show.assert_ok();
    assert!(show.stdout.contains("entry:    2"), "{show:#?}");
    assert!(show.stdout.contains("洁美保洁公司"), "{show:#?}");
    assert!(show.stdout.contains("1月保洁"), "{show:#?}");
    for name in [COMPANY, COMMITTEE[0], COMMITTEE[1]] {
        assert!(show.stdout.contains(name), "signed by {name}: {show:#?}");
    }
    let shown = c.show_json(2);
    assert_eq!(shown["leaf"]["body"]["kind"], json!("expenditure"));
    assert_eq!(shown["leaf"]["signatures"].as_array().unwrap().len(), 3);
    assert_eq!(shown["reversed_by"], Value::Null);
}

/// Proves that the audit passes with the session's entries, balances and
/// checkpoint, with and without the posted log key, and fails with another
/// log key; and that a receipt verifies offline with the posted log key and
/// not with another.
#[test]
fn the_audit_and_a_receipt_trust_only_the_posted_log_key() {
    let c = session_with_a_cosigned_spend();
    let balances = session_balances();
    // The audit, with and without the trusted log key.
    let report = c.verify_json();
    assert_eq!(report["entries"], json!(3));
    assert_eq!(report["origin"], json!(support::ORIGIN));
    assert_eq!(report["balances_fen"], balances);
    assert_eq!(report["failure"], Value::Null);
    assert_eq!(report["checkpoint"]["size"], json!(3));
    assert_eq!(report["checkpoint"]["root"], report["root"]);
    let out = c.cmd("verify", &["--log-key", &c.log_key]);
    out.assert_ok();
    assert!(out.stdout.contains("OK: the ledger verifies"), "{out:#?}");
    // A different log key is not trusted.
    let other_log_key = support::keygen(c.dir.path(), "example.org").verifier_key;
    let out = c.cmd("verify", &["--log-key", &other_log_key]);
    out.assert_failed();
    assert!(out.stdout.contains("FAILED"), "{out:#?}");

    // A receipt verifies offline with the posted log key, not another.
    let r1 = c.path("r1.txt");
    c.cmd("receipt", &["1", "--out", r1.to_str().unwrap()])
        .assert_ok();
    let out = run([
        "verify-receipt",
        r1.to_str().unwrap(),
        "--log-key",
        &c.log_key,
    ]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("OK: entry 1 is in example.org/xingguang at tree size 3"),
        "{out:#?}"
    );
    run([
        "verify-receipt",
        r1.to_str().unwrap(),
        "--log-key",
        &other_log_key,
    ])
    .assert_one_line_error(&["does NOT verify"]);
}

/// `weiyuan-wang` cosigns the checkpoint with `cosign-checkpoint`, its state
/// kept in DIR/wang.state; the checkpoint cosigned is of `size` entries.
#[track_caller]
fn cosign_as_wang(c: &Community, size: u64) {
    let wang = c.key_path(COMMITTEE[0]).to_str().unwrap().to_string();
    let wang_state = c.path("wang.state");
    let out = c.cmd(
        "cosign-checkpoint",
        &["--key", &wang, "--state", wang_state.to_str().unwrap()],
    );
    out.assert_ok();
    assert!(
        out.stdout
            .contains(&format!("cosigned checkpoint of size {size}")),
        "{out:#?}"
    );
}

/// Proves that a committee member's checkpoint cosignature is reported by
/// the audit (JSON and text), and that a receipt made afterwards carries it,
/// checked with `--cosigner`.
#[test]
fn a_checkpoint_cosignature_is_reported_and_carried_by_receipts() {
    let c = session_with_a_cosigned_spend();
    // A committee member cosigns the checkpoint; the audit reports it.
    cosign_as_wang(&c, 3);
    let report = c.verify_json();
    assert_eq!(report["checkpoint"]["cosigned_by"], json!([COMMITTEE[0]]));
    let out = c.cmd("verify", &[]);
    assert!(out.stdout.contains("cosigned by: weiyuan-wang"), "{out:#?}");
    // A receipt made now carries the cosignature, checked with --cosigner.
    let r1c = c.path("r1-cosigned.txt");
    c.cmd("receipt", &["1", "--out", r1c.to_str().unwrap()])
        .assert_ok();
    let out = run([
        "verify-receipt",
        r1c.to_str().unwrap(),
        "--log-key",
        &c.log_key,
        "--cosigner",
        &c.key(COMMITTEE[0]).cosigner_key,
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("cosigned by: weiyuan-wang"), "{out:#?}");
}

/// Proves that a checkpoint saved with `verify --save-checkpoint` is shown
/// to be extended by the longer log (JSON and text, with exact balances),
/// and that the same cosigner cosigns the larger checkpoint, its state
/// checked with a consistency proof from the old size.
#[test]
fn a_saved_checkpoint_is_extended_and_cosigned_again() {
    let c = session_with_a_cosigned_spend();
    // The cosigner's first cosignature, at size 3, records its state.
    cosign_as_wang(&c, 3);

    // Save the checkpoint, grow the log, and show that it extends it.
    let saved = c.path("saved.txt");
    let out = c.cmd(
        "verify",
        &[
            "--log-key",
            &c.log_key,
            "--save-checkpoint",
            saved.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    let saved_text = std::fs::read_to_string(&saved).unwrap();
    assert!(
        saved_text.starts_with("example.org/xingguang\n3\n"),
        "{saved_text}"
    );

    c.income("2026-01-07", "60", "B2-017", "车位费");
    c.income("2026-01-08", "0.01", "5-0101", "");
    let out = c.cmd(
        "verify",
        &[
            "--json",
            "--log-key",
            &c.log_key,
            "--checkpoint",
            saved.to_str().unwrap(),
        ],
    );
    out.assert_ok();
    let report = out.json();
    assert_eq!(report["ok"], json!(true), "{out:#?}");
    assert_eq!(report["entries"], json!(5));
    assert_eq!(report["consistent_with_saved_size"], json!(3));
    assert_eq!(report["balances_fen"]["operating"], json!(98050 + 6000 + 1));
    let out = c.cmd("verify", &["--checkpoint", saved.to_str().unwrap()]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("consistent:  extends the saved checkpoint of size 3"),
        "{out:#?}"
    );

    // The same cosigner cosigns the larger checkpoint (a consistency proof
    // from size 3 to 5 is checked on the way).
    cosign_as_wang(&c, 5);
    assert_eq!(
        c.verify_json()["checkpoint"]["cosigned_by"],
        json!([COMMITTEE[0]])
    );
}

// ---------------------------------------------------------------------------
// 2. Bad input: a one-line error, a non-zero exit, an unchanged ledger
// ---------------------------------------------------------------------------

/// A community whose operating fund holds 5,100.00 yuan: entry 1 is an
/// income of 5,000.00 and entry 2 an income of 100.00.
fn funded() -> Community {
    let c = Community::new();
    assert_eq!(c.income("2026-01-05", "5000", "3-1502", "一季度物业费"), 1);
    assert_eq!(c.income("2026-01-06", "100", "3-1503", "一月物业费"), 2);
    c
}

/// Proves that a key holding no role cannot record anything, and that
/// nothing is stored (not even a pending proposal).
#[test]
fn refuses_a_key_in_no_role() {
    let c = funded();
    assert_refused(&c, &["outsider-zhou", "belongs to no role"], || {
        c.propose(
            &[OUTSIDER],
            "2026-01-07",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "parking",
                "--payer",
                "B2-017",
            ],
        )
    });
    // Alongside a valid company signature it is still refused.
    assert_refused(&c, &["belongs to no role"], || {
        c.propose(
            &[COMPANY, OUTSIDER],
            "2026-01-07",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "parking",
                "--payer",
                "B2-017",
            ],
        )
    });
    // And it cannot co-sign a pending expenditure.
    let out = c.propose(
        &[COMPANY],
        "2026-01-07",
        &[
            "expenditure",
            "--amount",
            "10",
            "--category",
            "repairs",
            "--payee",
            "维修公司",
        ],
    );
    let id = out.pending_id().expect("pending");
    let before = c.snapshot();
    let out = c.sign(OUTSIDER, &id);
    out.assert_failed();
    // `sign` first shows the proposal on stderr; the error is its last line.
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{out:#?}");
    assert!(errors[0].contains("belongs to no role"), "{out:#?}");
    assert_eq!(out.stderr.lines().last(), Some(errors[0]), "{out:#?}");
    assert_eq!(c.snapshot(), before, "{out:#?}");
}

/// Proves that an expenditure signed only by the company (or by the company
/// and one of the two committee members needed) stays a pending proposal:
/// it is not in the ledger, the balances and root do not move.
#[test]
fn missing_cosignature_stays_pending() {
    let c = funded();
    let before = c.snapshot();
    let out = c.propose(
        &[COMPANY],
        "2026-01-07",
        &[
            "expenditure",
            "--amount",
            "1000",
            "--category",
            "elevator",
            "--payee",
            "迅达电梯维保",
            "--memo",
            "电梯年检",
        ],
    );
    out.assert_ok();
    let id = out.pending_id().expect("pending, not committed");
    assert_eq!(out.committed_seq(), None);
    assert!(out.stdout.contains("0 of 2"), "{out:#?}");
    // The co-signing command it prints names the same data directory, so
    // it can be copied as it stands.
    let hint = format!(
        "co-signers run: feeledger sign --data {} --key KEY {id}",
        c.data.display()
    );
    assert!(out.stdout.contains(&hint), "{out:#?}");

    let out = c.sign(COMMITTEE[2], &id);
    out.assert_ok();
    assert_eq!(out.committed_seq(), None, "one committee signature of two");
    assert!(out.stdout.contains("1 of 2"), "{out:#?}");

    let after = c.snapshot();
    assert_eq!(after.entries, before.entries);
    assert_eq!(after.root, before.root);
    assert_eq!(after.balances, before.balances);
    let pending = after.proposals.as_array().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], json!(id));
    assert!(c.list_json(&["--payer", "迅达电梯维保"]).is_empty());
    assert!(c.list_json(&["--kind", "expenditure"]).is_empty());
    // The entry does not exist.
    c.cmd("show", &["3"])
        .assert_one_line_error(&["there is no entry 3"]);
}

/// Proves that an expenditure larger than its fund is refused as an
/// overdraft even with every signature the rule needs given at once.
#[test]
fn refuses_an_overdraft() {
    let c = funded();
    assert_refused(&c, &["overdraft", "operating", "¥5,100.00"], || {
        c.propose(
            &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
            "2026-01-07",
            &[
                "expenditure",
                "--amount",
                "5100.01",
                "--category",
                "repairs",
                "--payee",
                "某某工程公司",
            ],
        )
    });
    // An empty fund cannot pay anything either.
    assert_refused(&c, &["overdraft", "maintenance"], || {
        c.propose(
            &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
            "2026-01-07",
            &[
                "expenditure",
                "--fund",
                "maintenance",
                "--amount",
                "0.01",
                "--category",
                "repairs",
                "--payee",
                "某某工程公司",
            ],
        )
    });
    // Exactly the whole fund is fine: the boundary is not an overdraft.
    let out = c.propose(
        &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
        "2026-01-07",
        &[
            "expenditure",
            "--amount",
            "5100",
            "--category",
            "repairs",
            "--payee",
            "某某工程公司",
        ],
    );
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(3), "{out:#?}");
    assert_eq!(c.verify_json()["balances_fen"]["operating"], json!(0));
}

/// Writes `text` (no trailing newline) and proposes it as a raw body.
fn propose_body(c: &Community, name: &str, text: &str) -> support::Output {
    let path = c.path(name);
    std::fs::write(&path, text).unwrap();
    c.propose(&[COMPANY], "2026-01-07", &["body", path.to_str().unwrap()])
}

/// A fresh income body, as `show --json` spells bodies, with a new nonce.
fn income_body(c: &Community, nonce: &str) -> Value {
    let mut body = c.show_json(1)["leaf"]["body"].clone();
    body["nonce"] = json!(nonce);
    body["payer"] = json!("7-0808");
    body["amount_fen"] = json!(4242);
    body
}

/// Proves that the same body cannot be recorded twice: a canonical body
/// file proposed a second time, and the body of an existing entry proposed
/// again, are refused as replays.
#[test]
fn refuses_a_replay() {
    let c = funded();

    // The body of entry 1, re-serialized canonically, is entry 1 again.
    let body = c.show_json(1)["leaf"]["body"].clone();
    assert_refused(&c, &["already recorded as entry 1", "replay"], || {
        propose_body(&c, "entry1.json", &canonical_json(&body))
    });

    // A new canonical body commits once, and only once.
    let text = canonical_json(&income_body(&c, "replay0test0nonce"));
    let out = propose_body(&c, "new.json", &text);
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(3), "{out:#?}");
    assert_eq!(c.show_json(3)["leaf"]["body"]["amount_fen"], json!(4242));
    assert_refused(&c, &["already recorded as entry 3", "replay"], || {
        propose_body(&c, "new.json", &text)
    });
    // Signed by other keys, it is still the same body.
    assert_refused(&c, &["replay"], || {
        let path = c.path("new.json");
        c.propose(
            &[COMPANY, COMMITTEE[0]],
            "2026-01-07",
            &["body", path.to_str().unwrap()],
        )
    });
    assert_eq!(c.list_json(&["--payer", "7-0808"]).len(), 1);
}

/// Proves that a body file that is valid JSON with the right meaning but
/// not byte-for-byte canonical (white space, reordered keys, a trailing
/// newline, a needless escape) is refused, while its canonical form is
/// accepted.
#[test]
fn refuses_a_non_canonical_body() {
    let c = funded();
    let body = income_body(&c, "canonical0test");
    let canonical = canonical_json(&body);
    let variants = [
        ("pretty.json", serde_json::to_string_pretty(&body).unwrap()),
        ("spaced.json", canonical.replacen(",", ", ", 1)),
        ("reordered.json", reordered_json(&body)),
        ("newline.json", format!("{canonical}\n")),
        (
            "escaped.json",
            canonical.replacen("\"income\"", "\"\\u0069ncome\"", 1),
        ),
    ];
    for (name, text) in &variants {
        assert_ne!(text, &canonical, "{name} differs from the canonical form");
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap(),
            body,
            "{name} means the same body"
        );
        assert_refused(&c, &["canonical"], || propose_body(&c, name, text));
    }
    // Not JSON at all.
    assert_refused(&c, &["not valid JSON"], || {
        propose_body(&c, "garbage.json", "{\"kind\":")
    });
    // The canonical form itself is accepted.
    let out = propose_body(&c, "canonical.json", &canonical);
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(3), "{out:#?}");
}

/// Proves that damaged key files are refused before anything is signed:
/// garbage, a truncated key, a missing file, and a valid key that other
/// users can read (mode 0644).
#[test]
fn refuses_bad_key_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let c = funded();
    let income = |key: &Path| {
        run([
            "propose",
            "--yes",
            "--data",
            c.data.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--date",
            "2026-01-07",
            "income",
            "--amount",
            "10",
            "--category",
            "parking",
            "--payer",
            "B2-017",
        ])
    };
    let write_key = |name: &str, bytes: &[u8], mode: u32| {
        let path = c.path(name);
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    };
    let valid = std::fs::read(c.key_path(COMPANY)).unwrap();

    let garbage = write_key("garbage.key", b"not a key at all\n", 0o600);
    assert_refused(&c, &["garbage.key", "not a valid feeledger key"], || {
        income(&garbage)
    });
    let binary = write_key("binary.key", b"\x00\xff\xfe\x80 binary", 0o600);
    assert_refused(&c, &["cannot read key file", "binary.key"], || {
        income(&binary)
    });
    let truncated = write_key("truncated.key", &valid[..valid.len() / 2], 0o600);
    assert_refused(&c, &["truncated.key", "not a valid feeledger key"], || {
        income(&truncated)
    });
    let missing = c.path("missing.key");
    assert_refused(&c, &["cannot read key file", "missing.key"], || {
        income(&missing)
    });
    let open = write_key("open.key", &valid, 0o644);
    assert_refused(
        &c,
        &["open.key", "readable by other users", "644", "chmod 600"],
        || income(&open),
    );
    // The error never shows the key itself.
    let out = income(&open);
    let secret = String::from_utf8_lossy(&valid);
    assert!(!out.stderr.contains(secret.trim()), "{out:#?}");
    // The same bytes with mode 0600 are accepted.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o600)).unwrap();
    income(&open).assert_ok();
}

/// Proves that an entry can be reversed once, and a second reversal of the
/// same entry is refused.
#[test]
fn refuses_a_double_reversal() {
    let c = funded();
    let out = c.propose(
        &[COMPANY],
        "2026-01-08",
        &["reversal", "--target", "2", "--reason", "重复收款"],
    );
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(3), "{out:#?}");
    assert_eq!(c.show_json(2)["reversed_by"], json!(3));
    assert_eq!(c.verify_json()["balances_fen"]["operating"], json!(500000));

    assert_refused(&c, &["entry 2 was already reversed by entry 3"], || {
        c.propose(
            &[COMPANY],
            "2026-01-09",
            &["reversal", "--target", "2", "--reason", "再次冲正"],
        )
    });
    // Neither a reversal nor the genesis can be reversed; nor a future entry.
    assert_refused(&c, &["cannot be reversed"], || {
        c.propose(
            &[COMPANY],
            "2026-01-09",
            &["reversal", "--target", "3", "--reason", "冲正的冲正"],
        )
    });
    assert_refused(&c, &["cannot be reversed"], || {
        c.propose(
            &[COMPANY],
            "2026-01-09",
            &["reversal", "--target", "0", "--reason", "创世"],
        )
    });
    assert_refused(&c, &["reversal target 99 does not exist"], || {
        c.propose(
            &[COMPANY],
            "2026-01-09",
            &["reversal", "--target", "99", "--reason", "不存在"],
        )
    });
}

/// Proves that an entry naming a fund the genesis does not define is refused.
#[test]
fn refuses_an_unknown_fund() {
    let c = funded();
    assert_refused(&c, &["fund \"slush\" does not exist"], || {
        c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "income",
                "--fund",
                "slush",
                "--amount",
                "10",
                "--category",
                "parking",
                "--payer",
                "B2-017",
            ],
        )
    });
    assert_refused(&c, &["does not exist"], || {
        c.propose(
            &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
            "2026-01-07",
            &[
                "transfer",
                "--from",
                "operating",
                "--to",
                "slush",
                "--amount",
                "1",
            ],
        )
    });
}

/// Proves that an unknown category (and other unparsable arguments) fail
/// before touching the ledger, with an "error:" message and a non-zero exit.
#[test]
fn refuses_an_unknown_category_and_bad_arguments() {
    let c = funded();
    for kind in [
        &[
            "income",
            "--amount",
            "10",
            "--category",
            "donation",
            "--payer",
            "B2-017",
        ][..],
        &[
            "expenditure",
            "--amount",
            "10",
            "--category",
            "bribes",
            "--payee",
            "某人",
        ][..],
        &[
            "income",
            "--amount",
            "10.001",
            "--category",
            "parking",
            "--payer",
            "B2-017",
        ][..],
        &[
            "income",
            "--amount",
            "-5",
            "--category",
            "parking",
            "--payer",
            "B2-017",
        ][..],
    ] {
        let before = c.snapshot();
        let out = c.propose(&[COMPANY], "2026-01-07", kind);
        // clap's usage errors span several lines; the first is the error.
        out.assert_failed();
        assert!(out.stderr.starts_with("error:"), "{out:#?}");
        assert_eq!(c.snapshot(), before, "{out:#?}");
    }
    // Errors found by feeledger itself are one line.
    assert_refused(&c, &["--date", "2026-02-30"], || {
        c.propose(
            &[COMPANY],
            "2026-02-30",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "parking",
                "--payer",
                "B2-017",
            ],
        )
    });
    assert_refused(&c, &["phone or ID number"], || {
        c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "parking",
                "--payer",
                "13800138000",
            ],
        )
    });
}

/// Kills a child process on drop, so that a failed assertion never leaves
/// one running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Proves that a committee member reading an interactive `sign` prompt does
/// not lock everyone else out: while the prompt waits, `balances` (and
/// `propose`) still work, and answering "y" then commits the co-signature.
#[test]

fn an_open_sign_prompt_does_not_lock_the_ledger() {
    use std::io::{Read as _, Write as _};
    let c = funded();
    let out = c.propose(
        &[COMPANY, COMMITTEE[0]],
        "2026-01-07",
        &[
            "expenditure",
            "--amount",
            "10",
            "--category",
            "greening",
            "--payee",
            "绿化公司",
        ],
    );
    let id = out.pending_id().expect("pending");
    let mut child = KillOnDrop(
        support::command()
            .args(["sign", "--data", c.data.to_str().unwrap(), "--key"])
            .arg(c.key_path(COMMITTEE[1]))
            .arg(&id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Wait for the question on stderr.
    let mut stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("[y/N]") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("sign asks before signing");

    // Others can read and write while the prompt waits.
    c.cmd("balances", &["--json"]).assert_ok();
    c.income("2026-01-07", "1", "B2-020", "prompt open");

    child.0.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "the co-signature commits: {status:?}");
    assert_eq!(c.list_json(&["--payer", "绿化公司"]).len(), 1);
}

// ---------------------------------------------------------------------------
// 3. Tamper detection
// ---------------------------------------------------------------------------

/// The sled key of leaf `seq`.
fn leaf_key(seq: u64) -> Vec<u8> {
    [&b"L"[..], &seq.to_be_bytes()].concat()
}

/// Replaces `from` by `to` (same length) inside the stored bytes of leaf
/// `seq`, directly in sled, and returns the new bytes. No feeledger process
/// may hold the directory.
/// Opens the store's sled directory, waiting while a handle dropped just
/// before still holds its lock: sled's flusher thread keeps the database
/// (and its file lock) alive a moment after the last handle is dropped, so
/// a second open right after a first can fail with `WouldBlock`.
fn open_sled(path: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("sled opens the store at {}: {e}", path.display()),
        }
    }
}

fn tamper_leaf(data: &Path, seq: u64, from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let db = open_sled(&data.join("ledger"));
    let key = leaf_key(seq);
    let bytes = db.get(&key).unwrap().expect("the leaf is stored").to_vec();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} in {text}");
    let altered = text.replacen(from, to, 1);
    // Still a well-formed leaf: only the hashes can tell.
    let parsed: Value = serde_json::from_str(&altered).unwrap();
    assert_eq!(canonical_json(&parsed), altered);
    db.insert(key, altered.as_bytes()).unwrap();
    db.flush().unwrap();
    altered.into_bytes()
}

/// Builds a ledger of six entries (genesis + 5 incomes).
fn ledger_for_tampering() -> Community {
    let c = Community::new();
    for (i, memo) in ["一月", "二月", "三月", "四月", "五月"].iter().enumerate() {
        c.income(
            &format!("2026-0{}-10", i + 1),
            &format!("{}.00", 100 + i),
            &format!("8-{:04}", 1000 + i),
            memo,
        );
    }
    assert_eq!(c.verify_json()["entries"], json!(6));
    c
}

/// Proves that changing one byte of a stored middle entry (its amount, or
/// its memo) is caught by `verify`, which exits non-zero and names the
/// entry; and that also rewriting the entry's Merkle leaf node does not
/// hide it (entry 2's signature no longer verifies).
#[test]
fn verify_names_a_tampered_middle_entry() {
    // The amount of entry 3: 102.00 yuan becomes 902.00 yuan.
    let c = ledger_for_tampering();
    tamper_leaf(&c.data, 3, "\"amount_fen\":10200,", "\"amount_fen\":90200,");
    let out = c.cmd("verify", &[]);
    out.assert_failed();
    assert!(out.stdout.contains("FAILED at entry 3:"), "{out:#?}");
    assert!(out.stdout.contains("altered"), "{out:#?}");
    let out = c.cmd("verify", &["--json"]);
    out.assert_failed();
    let report = out.json();
    assert_eq!(report["ok"], json!(false));
    assert_eq!(report["failure"]["seq"], json!(3), "{out:#?}");
    assert_eq!(report["entries"], json!(3), "the audit stops at entry 3");

    // The memo of entry 2: one character changes (二 → 三, same length).
    let c = ledger_for_tampering();
    tamper_leaf(&c.data, 2, "\"memo\":\"二月\"", "\"memo\":\"三月\"");
    let out = c.cmd("verify", &["--json"]);
    out.assert_failed();
    assert_eq!(out.json()["failure"]["seq"], json!(2), "{out:#?}");

    // The tamperer also rewrites the Merkle leaf node of entry 2: the
    // company's signature on entry 2 no longer verifies.
    let c = ledger_for_tampering();
    let altered = tamper_leaf(&c.data, 2, "\"memo\":\"二月\"", "\"memo\":\"三月\"");
    {
        let db = open_sled(&c.data.join("ledger"));
        // Level-0 node tile 0 holds the leaf hashes of entries 0..256, 32
        // bytes each; while it fills, it is kept as its first hashes under
        // the tile's key and runs under `M`, the same level and tile and
        // the run's first position (u16 BE), as the batches appended them
        // (see the key layout in crates/store/src/lib.rs).
        let mut tile_key = vec![b'N', 0];
        tile_key.extend_from_slice(&0u64.to_be_bytes());
        let mut run_prefix = tile_key.clone();
        run_prefix[0] = b'M';
        let (key, mut run, start) = db
            .scan_prefix(&tile_key)
            .chain(db.scan_prefix(&run_prefix))
            .map(|item| item.unwrap())
            .map(|(key, value)| {
                let start = if key.len() == tile_key.len() {
                    0
                } else {
                    usize::from(u16::from_be_bytes([
                        key[tile_key.len()],
                        key[tile_key.len() + 1],
                    ]))
                };
                (key.to_vec(), value.to_vec(), start)
            })
            .find(|(_, value, start)| *start <= 2 && 2 < start + value.len() / 32)
            .expect("the node tile key layout: a run holding entry 2");
        let hash = feeledger_core::hash::leaf_hash(&altered);
        let at = (2 - start) * 32;
        run[at..at + 32].copy_from_slice(&hash.0);
        db.insert(key, run).unwrap();
        db.flush().unwrap();
    }
    let out = c.cmd("verify", &[]);
    out.assert_failed();
    assert!(out.stdout.contains("FAILED at entry 2:"), "{out:#?}");
    assert!(out.stdout.contains("does not verify"), "{out:#?}");
}

/// Proves that `serve` audits the whole store in the background and stops
/// serving a damaged one: with a byte of a middle entry changed (which
/// opening, a head check, does not see) it starts, its status shows the
/// audit failing at that entry, and then every route but the status
/// answers 503 `damaged` naming the entry, writes included; with
/// `--no-check` it serves without the audit.
#[test]
fn serve_stops_serving_a_store_damaged_below_the_head() {
    use support::http::Server;
    let c = ledger_for_tampering();
    tamper_leaf(&c.data, 3, "\"amount_fen\":10200,", "\"amount_fen\":90200,");
    let server = Server::start(&c.data);
    let http = server.http();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = http.get("/api/v1/status").ok_json();
        if status["audit"]["state"] != json!("running") {
            break status;
        }
        assert!(Instant::now() < deadline, "the audit did not end: {status}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status["audit"]["state"], json!("failed"), "{status}");
    assert_eq!(status["audit"]["seq"], json!(3), "{status}");
    assert_eq!(status["writable"], json!(false), "{status}");
    for path in ["/checkpoint", "/api/v1/entries/1", "/api/v1/balances", "/"] {
        let message = http.get(path).assert_error(503, "damaged");
        assert!(message.contains("at entry 3"), "{path}: {message}");
    }
    let write = http.post_json("/api/v1/proposals", &json!({}));
    write.assert_error(503, "damaged");
    drop(server);
    let server = Server::start_with(&c.data, |cmd| {
        cmd.arg("--no-check");
    });
    let http = server.http();
    let status = http.get("/api/v1/status").ok_json();
    assert_eq!(status["audit"]["state"], json!("not_run"), "{status}");
    assert_eq!(http.get("/checkpoint").status, 200);
}

/// Proves that changing the last entry (the head) makes the store refuse to
/// open: `verify` fails naming the damaged leaf, and every other command
/// refuses with a one-line "damaged" error.
#[test]
fn a_tampered_head_is_refused() {
    let c = ledger_for_tampering();
    tamper_leaf(&c.data, 5, "\"amount_fen\":10400,", "\"amount_fen\":10401,");
    let out = c.cmd("verify", &[]);
    out.assert_failed();
    assert!(out.stdout.contains("FAILED"), "{out:#?}");
    assert!(out.stdout.contains("damaged"), "{out:#?}");
    assert!(out.stdout.contains("leaf 5"), "{out:#?}");
    let report = c.cmd("verify", &["--json"]).json();
    assert_eq!(report["ok"], json!(false));
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("leaf 5"),
        "{report:#}"
    );

    c.cmd("balances", &[])
        .assert_one_line_error(&["damaged", "leaf 5"]);
    c.cmd("list", &[]).assert_one_line_error(&["damaged"]);
    c.propose(
        &[COMPANY],
        "2026-06-01",
        &[
            "income",
            "--amount",
            "1",
            "--category",
            "parking",
            "--payer",
            "B2-017",
        ],
    )
    .assert_one_line_error(&["damaged"]);
    // Nothing was appended on top of the damage.
    let db = open_sled(&c.data.join("ledger"));
    assert!(db.get(leaf_key(6)).unwrap().is_none());
}

// ---------------------------------------------------------------------------
// 4. Crash safety: SIGKILL during appends
// ---------------------------------------------------------------------------

/// Proves that killing `feeledger propose` (SIGKILL) at seeded random moments
/// never loses or duplicates an acknowledged entry and never leaves a ledger
/// that fails its audit: after every kill, `verify` passes and every entry
/// whose propose printed "committed as entry N" and exited 0 is in the
/// ledger exactly once, as entry N; an entry whose propose was killed is in
/// it at most once.
#[test]
fn sigkill_during_appends_loses_nothing_acknowledged() {
    const SEED: u64 = 0x5eed_fee1_ed6e_0001;
    const KILLS_WANTED: usize = 15;
    const ATTEMPTS_MAX: usize = 300; // list --json shows at most 500 rows
    let budget = Duration::from_secs(25);

    let c = Community::new();
    let mut rng = Rng::new(SEED);
    let income_args = |i: usize| {
        c.propose_args(
            &[COMPANY],
            "2026-02-01",
            &[
                "income",
                "--amount",
                &format!("{}.{:02}", 1 + i % 50, i % 100),
                "--category",
                "parking",
                "--payer",
                &format!("9-{i}"),
                "--memo",
                &format!("kill-{i}"),
            ],
        )
    };

    // How long an uninterrupted propose takes here, to aim the kills.
    let mut timings = Vec::new();
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    let mut attempted: Vec<String> = Vec::new();
    let mut i = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let out = run(income_args(i));
        timings.push(started.elapsed());
        out.assert_ok();
        acknowledged.push((out.committed_seq().unwrap(), format!("kill-{i}")));
        attempted.push(format!("kill-{i}"));
        i += 1;
    }
    timings.sort();
    let typical_us = timings[timings.len() / 2].as_micros().max(1) as u64;

    let started = Instant::now();
    let mut kills = 0;
    let mut killed_but_committed = 0;
    while (kills < KILLS_WANTED || i < 40) && i < ATTEMPTS_MAX && started.elapsed() < budget {
        let memo = format!("kill-{i}");
        let mut child = support::command()
            .args(income_args(i))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("propose starts");
        attempted.push(memo.clone());
        i += 1;
        // Half the kills anywhere from the start to a little after a typical
        // propose ends; half aimed at its last part (the write and flush).
        let delay_us = if rng.below(2) == 0 {
            rng.below(typical_us * 5 / 4)
        } else {
            typical_us * 3 / 5 + rng.below(typical_us / 2)
        };
        let delay = Duration::from_micros(delay_us);
        std::thread::sleep(delay);
        let finished = child.try_wait().expect("try_wait").is_some();
        if !finished {
            child.kill().expect("SIGKILL");
        }
        let out = support::Output::from_std(vec![memo.clone()], child.wait_with_output().unwrap());
        if finished || out.success() {
            // It ran to the end before the kill landed.
            match (out.success(), out.committed_seq()) {
                (true, Some(seq)) => acknowledged.push((seq, memo)),
                _ => panic!("an uninterrupted propose failed: {out:#?}"),
            }
            continue;
        }
        kills += 1;
        assert_eq!(out.code, None, "killed by a signal: {out:#?}");

        // After the kill: the ledger audits, and holds what was promised.
        let report = c.verify_json();
        let rows = c.list_json(&["--kind", "income"]);
        assert_eq!(
            report["entries"].as_u64().unwrap(),
            rows.len() as u64 + 1,
            "only our incomes and the genesis are in the ledger"
        );
        let memos: Vec<(u64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["seq"].as_u64().unwrap(),
                    r["leaf"]["body"]["memo"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for (seq, memo) in &acknowledged {
            let found: Vec<u64> = memos
                .iter()
                .filter(|(_, m)| m == memo)
                .map(|(s, _)| *s)
                .collect();
            assert_eq!(
                found,
                vec![*seq],
                "acknowledged {memo} as entry {seq}; found at {found:?} (seed {SEED:#x})"
            );
        }
        for memo in &attempted {
            let n = memos.iter().filter(|(_, m)| m == memo).count();
            assert!(n <= 1, "{memo} recorded {n} times (seed {SEED:#x})");
        }
        if memos.iter().any(|(_, m)| *m == out.args[0]) {
            killed_but_committed += 1;
        }
        assert_eq!(c.cmd("proposals", &["--json"]).json(), json!([]));
    }

    // The final state, once more.
    let report = c.verify_json();
    let rows = c.list_json(&["--kind", "income"]);
    let found = acknowledged
        .iter()
        .filter(|(seq, memo)| {
            rows.iter()
                .filter(|r| r["leaf"]["body"]["memo"] == json!(memo))
                .map(|r| r["seq"].as_u64().unwrap())
                .collect::<Vec<_>>()
                == vec![*seq]
        })
        .count();
    let mismatches = acknowledged.len() - found;
    println!(
        "kill test (seed {SEED:#x}, typical propose {typical_us} us): attempts {i}, kills {kills}, \
         acknowledged {}, found {found}, killed but committed {killed_but_committed}, \
         entries {}, mismatches {mismatches}",
        acknowledged.len(),
        report["entries"]
    );
    assert!(kills >= 10, "only {kills} kills landed in {i} attempts");
    assert_eq!(mismatches, 0);
}

/// Runs `f` on the store's sled tree directly, then flushes. No feeledger
/// process may hold the directory.
fn with_raw_store(data: &Path, f: impl FnOnce(&sled::Db)) {
    let db = open_sled(&data.join("ledger"));
    f(&db);
    db.flush().unwrap();
}

/// Proves that damage to the stored records beside the leaves and tiles is
/// named: a body-id index record that points at another entry, is
/// truncated, is missing, or belongs to no entry (`verify` names the entry
/// and the index), a garbled state
/// snapshot, and a flipped byte in the latest checkpoint's signature (both
/// refused when the store opens, naming what is wrong).
#[test]
fn verify_names_damaged_records_beside_the_leaves() {
    let body_key = |db: &sled::Db, seq: u64| {
        let leaf = db.get(leaf_key(seq)).unwrap().unwrap();
        let body = feeledger_core::entry::body_bytes_of_leaf(&leaf).unwrap();
        [&b"B"[..], &feeledger_core::hash::sha256(body).0].concat()
    };
    for (value, names) in [
        (3u64.to_be_bytes().to_vec(), "maps entry 2's body"),
        (vec![0, 0, 2], "body id index record of entry 2 is damaged"),
    ] {
        let c = ledger_for_tampering();
        with_raw_store(&c.data, |db| {
            let key = body_key(db, 2);
            assert!(db.get(&key).unwrap().is_some(), "the body id key layout");
            db.insert(key, value.clone()).unwrap();
        });
        let report = c.cmd("verify", &["--json"]).json();
        assert_eq!(report["ok"], json!(false));
        assert_eq!(report["failure"]["seq"], json!(2), "{report:#}");
        let message = report["failure"]["message"].as_str().unwrap();
        assert!(message.contains(names), "{message}");
    }

    // A record taken away, and a record of no entry added: the audit merges
    // every entry's body id with the whole index, so both are named.
    let c = ledger_for_tampering();
    with_raw_store(&c.data, |db| {
        let key = body_key(db, 2);
        assert!(db.remove(&key).unwrap().is_some(), "the body id key layout");
    });
    let report = c.cmd("verify", &["--json"]).json();
    assert_eq!(report["failure"]["seq"], json!(2), "{report:#}");
    let message = report["failure"]["message"].as_str().unwrap();
    assert!(message.contains("missing entry 2"), "{message}");

    let c = ledger_for_tampering();
    let stranger = [&b"B"[..], &[0x5a; 32]].concat();
    with_raw_store(&c.data, |db| {
        assert!(db.get(&stranger).unwrap().is_none());
        db.insert(&stranger, &4u64.to_be_bytes()).unwrap();
    });
    let report = c.cmd("verify", &["--json"]).json();
    assert_eq!(report["ok"], json!(false));
    let message = report["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "lists body {} at entry 4",
            hex::encode([0x5a; 32])
        )) && message.contains("not that entry's body"),
        "{message}"
    );

    let c = ledger_for_tampering();
    with_raw_store(&c.data, |db| {
        let snapshot = db.get(b"S").unwrap().expect("the state snapshot key");
        db.insert(b"S", &snapshot[..snapshot.len() / 2]).unwrap();
    });
    let out = c.cmd("verify", &[]);
    out.assert_failed();
    assert!(out.stdout.contains("state snapshot"), "{out:#?}");
    c.cmd("balances", &[])
        .assert_one_line_error(&["damaged", "state snapshot"]);

    let c = ledger_for_tampering();
    with_raw_store(&c.data, |db| {
        let key = [&b"C"[..], &6u64.to_be_bytes()].concat();
        let mut note = db.get(&key).unwrap().expect("the checkpoint key").to_vec();
        // The last line is the log key's signature, base64 then "\n": change
        // one base64 character in it.
        let at = note.len() - 10;
        note[at] = if note[at] == b'A' { b'B' } else { b'A' };
        db.insert(key, note).unwrap();
    });
    c.cmd("balances", &[])
        .assert_one_line_error(&["damaged", "checkpoint"]);
}

/// Proves that `serve` and `demo` listen on loopback unless told otherwise:
/// their `--listen` default is 127.0.0.1.
#[test]
fn servers_listen_on_loopback_by_default() {
    for command in ["serve", "demo"] {
        let out = support::run([command, "--help"]);
        out.assert_ok();
        let help = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains("--listen <LISTEN>") && help.contains("[default: 127.0.0.1:8080]"),
            "{command} --help:\n{}",
            out.stdout
        );
    }
}

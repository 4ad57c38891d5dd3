//! An auditor with only the server's URL and the log key from the notice
//! board: `list`, `show`, `balances`, `proposals`, `receipt` and `export`
//! with `--url URL --log-key KEY` print exactly what `--data DIR` prints on
//! the same ledger, and print nothing but a one-line error when the server
//! lies or the key is wrong. The real binary, a real sled directory, the
//! real server on loopback, and a tampering proxy in front of it.

mod support;

use serde_json::Value;
use std::path::Path;
use support::http::Server;
use support::proxy::{forward_get, loopback, path_of, Answer, Loopback};
use support::{hledger, log_keygen, run, Community, Output, COMMITTEE, COMPANY, ORIGIN};

/// The entry whose leaf the lying proxy alters: an income.
const TAMPERED_SEQ: u64 = 2;

/// A ledger with incomes, a committed expenditure, a reversal, and one
/// pending expenditure signed by the company and one committee member.
fn ledger() -> Community {
    let c = Community::new();
    c.income("2026-01-05", "1,280.50", "3-1502", "一月物业费");
    c.income("2026-01-06", "960.00", "5-0301", "一月物业费");
    c.income("2026-01-07", "88.00", "5-0302", "错收");
    let out = c.propose(
        &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
        "2026-01-08",
        &[
            "expenditure",
            "--amount",
            "300",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
            "--memo",
            "一月保洁; \"A栋\"",
        ],
    );
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(4), "{out:#?}");
    let out = c.propose(
        &[COMPANY],
        "2026-01-09",
        &["reversal", "--target", "3", "--reason", "重复收款"],
    );
    out.assert_ok();
    assert_eq!(out.committed_seq(), Some(5), "{out:#?}");
    let out = c.propose(
        &[COMPANY],
        "2026-01-10",
        &[
            "expenditure",
            "--amount",
            "120.50",
            "--category",
            "repairs",
            "--payee",
            "王师傅",
            "--memo",
            "门禁维修",
        ],
    );
    out.assert_ok();
    let id = out.pending_id().expect("the expenditure is pending");
    c.sign(COMMITTEE[2], &id).assert_ok();
    c
}

/// One read command's arguments after `--data DIR` or `--url URL
/// --log-key KEY`. `RECEIPT` stands for the receipt's output file.
const COMMANDS: [(&str, &[&str]); 16] = [
    ("list", &[]),
    ("list", &["--json"]),
    ("list", &["--kind", "income", "--limit", "2"]),
    ("list", &["--payer", "3-1502", "--json"]),
    ("show", &["3"]),
    ("show", &["3", "--json"]),
    ("show", &["5"]),
    ("balances", &[]),
    ("balances", &["--json"]),
    ("proposals", &[]),
    ("proposals", &["--json"]),
    ("receipt", &["4", "--out", "RECEIPT"]),
    ("export", &["--format", "hledger"]),
    ("export", &["--format", "csv"]),
    ("export", &["--format", "json"]),
    ("export", &["--format", "hledger", "--out", "RECEIPT"]),
];

/// Where a command reads the ledger.
enum Source<'a> {
    Data(&'a Path),
    Url(&'a str, &'a str),
}

/// Runs `sub [--data D | --url U --log-key K] args`, with `RECEIPT` in
/// `args` replaced by `out`. Returns the run and the bytes of `out`, if
/// the command wrote it.
fn read(from: &Source, sub: &str, args: &[&str], out: &Path) -> (Output, Option<Vec<u8>>) {
    let mut all: Vec<String> = vec![sub.into()];
    match from {
        Source::Data(data) => all.extend(["--data".into(), data.display().to_string()]),
        Source::Url(url, key) => all.extend([
            "--url".into(),
            url.to_string(),
            "--log-key".into(),
            key.to_string(),
        ]),
    }
    let out_text = out.display().to_string();
    all.extend(args.iter().map(|a| {
        if *a == "RECEIPT" {
            out_text.clone()
        } else {
            a.to_string()
        }
    }));
    let _ = std::fs::remove_file(out);
    let output = run(&all);
    let written = std::fs::read(out).ok();
    (output, written)
}

/// Proves that each of the six read commands, with every output form,
/// prints exactly the same from `--url` (against the real server) as from
/// `--data` on the same ledger, and writes the same receipt and export
/// files. Fails if any command ignored `--url`, read something else, or
/// printed it differently.
#[test]
fn every_read_command_prints_the_same_from_a_url_as_from_the_data_directory() {
    let c = ledger();
    let out = c.path("out.file");
    let from_data: Vec<_> = COMMANDS
        .iter()
        .map(|(sub, args)| {
            let (run, file) = read(&Source::Data(&c.data), sub, args, &out);
            run.assert_ok();
            (run.stdout, file)
        })
        .collect();
    let server = Server::start(&c.data);
    let mut differ = Vec::new();
    for ((sub, args), (data_stdout, data_file)) in COMMANDS.iter().zip(&from_data) {
        let (run, file) = read(&Source::Url(&server.url, &c.log_key), sub, args, &out);
        run.assert_ok();
        assert!(run.stderr.is_empty(), "{run:#?}");
        if run.stdout != *data_stdout || file != *data_file {
            differ.push(format!(
                "{sub} {args:?}:\n--data:\n{data_stdout}\n--url:\n{}",
                run.stdout
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n\n"));
    // The outputs say something: the pending proposal, the reversal, the
    // receipt and the journal are there.
    let text = |i: usize| from_data[i].0.as_str();
    assert!(text(9).contains("signed by"), "{}", text(9));
    assert!(text(6).contains("entry:    5"), "{}", text(6));
    assert!(text(4).contains("REVERSED by entry 5"), "{}", text(4));
    let receipt = from_data[11].1.as_deref().expect("a receipt was written");
    assert!(receipt.starts_with(b"c2sp.org/tlog-proof@v1\n"));
    assert!(text(12).contains("assets:funds:operating"), "{}", text(12));
}

/// Proves that the journal an auditor exports with only the URL is read
/// by the real hledger: it passes `hledger check --strict`, and hledger's
/// balance of the operating fund is the ledger's (1,280.50 + 960.00 +
/// 88.00 - 300.00 - 88.00 = 1,940.50 CNY).
#[test]
fn hledger_reads_the_journal_exported_from_a_url() {
    let c = ledger();
    let server = Server::start(&c.data);
    let journal = c.path("url.journal");
    let from = Source::Url(&server.url, &c.log_key);
    let (out, written) = read(
        &from,
        "export",
        &["--format", "hledger", "--out", "RECEIPT"],
        &journal,
    );
    out.assert_ok();
    assert!(written.is_some(), "{out:#?}");
    let file = journal.to_str().unwrap();
    let check = hledger(&["-f", file, "check", "--strict"]);
    assert!(
        check.status.success(),
        "hledger check --strict: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let balance = hledger(&[
        "-f",
        file,
        "balance",
        "assets:funds:operating",
        "--flat",
        "--no-total",
    ]);
    assert!(balance.status.success(), "{balance:?}");
    let text = String::from_utf8_lossy(&balance.stdout);
    assert!(text.contains("1,940.50 CNY"), "{text}");
}

/// Another log key with the ledger's own name (its origin): only the key
/// differs from the one on the notice board.
fn wrong_log_key(c: &Community) -> String {
    let dir = c.path("wrong");
    std::fs::create_dir_all(&dir).unwrap();
    log_keygen(&dir, ORIGIN).verifier_key
}

/// What the proxy changes on its way from the server to the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lie {
    /// One digit of an amount inside the leaf bytes of entry
    /// [`TAMPERED_SEQ`] in `/api/v1/entries`.
    LeafByte,
    /// One digit of the first fund's balance in `/api/v1/balances`.
    Balance,
    /// One character of the pending proposal's memo in
    /// `/api/v1/proposals` (its id and signatures stay).
    ProposalBody,
    /// One byte of the pending proposal's last signature.
    ProposalSignature,
}

/// Changes one ASCII digit after `marker` in `text` (0↔1, else → 0).
fn flip_digit_after(text: &str, marker: &str) -> String {
    let at = text.find(marker).expect("marker present") + marker.len();
    let mut bytes = text.as_bytes().to_vec();
    let i = (at..bytes.len())
        .find(|&i| bytes[i].is_ascii_digit())
        .unwrap();
    bytes[i] = if bytes[i] == b'1' { b'2' } else { b'1' };
    String::from_utf8(bytes).unwrap()
}

fn tamper(lie: Lie, path: &str, body: Vec<u8>) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return body,
    };
    match (lie, path) {
        (Lie::LeafByte, "/api/v1/entries") => {
            for e in v["entries"].as_array_mut().into_iter().flatten() {
                if e["seq"] == TAMPERED_SEQ {
                    let leaf = b64.decode(e["leaf_base64"].as_str().unwrap()).unwrap();
                    let leaf = String::from_utf8(leaf).unwrap();
                    let altered = flip_digit_after(&leaf, "\"amount_fen\":");
                    e["leaf_base64"] = b64.encode(altered).into();
                }
            }
        }
        (Lie::Balance, "/api/v1/balances") => {
            let balances = v["balances_fen"].as_object_mut().unwrap();
            let first = balances.values_mut().next().unwrap();
            *first = (first.as_u64().unwrap() + 1).into();
        }
        (Lie::ProposalBody, "/api/v1/proposals") => {
            let p = &mut v["proposals"][0];
            let body = p["body_jcs"].as_str().unwrap().replace("门禁", "门窗");
            p["body_jcs"] = body.into();
        }
        (Lie::ProposalSignature, "/api/v1/proposals") => {
            let p = &mut v["proposals"][0];
            let sigs = p["signatures"].as_array_mut().unwrap();
            let last = sigs.last_mut().unwrap();
            let mut sig = b64.decode(last["sig"].as_str().unwrap()).unwrap();
            sig[0] ^= 1;
            last["sig"] = b64.encode(sig).into();
        }
        _ => return body,
    }
    serde_json::to_vec(&v).unwrap()
}

/// A proxy in front of the server that tells one [`Lie`]; stopped on drop.
fn proxy(upstream: &str, lie: Lie) -> Loopback {
    let upstream = upstream.to_string();
    let client = reqwest::blocking::Client::new();
    loopback(move |target| {
        let answer = forward_get(&client, &upstream, target)?;
        Ok(Answer {
            body: tamper(lie, path_of(target), answer.body),
            ..answer
        })
    })
}

/// Asserts a refusal: one line `error: ...` naming every needle, nothing
/// on stdout, and no file written.
#[track_caller]
fn assert_refused(run: &Output, file: &Option<Vec<u8>>, needles: &[&str]) {
    run.assert_one_line_error(needles);
    assert!(run.stdout.is_empty(), "nothing is printed: {run:#?}");
    assert!(file.is_none(), "nothing is written: {run:#?}");
}

/// Proves that a server whose leaves or balances lie, or a wrong log key,
/// makes every read command fail with one line naming the lie, printing
/// nothing else and writing no file; and that a lying pending proposal
/// (a body that is not the id's, a signature that does not verify) makes
/// `proposals` fail the same way. Each lie is told by a proxy in front of
/// the honest server, through which the honest answers pass.
#[test]
fn a_lying_server_or_a_wrong_log_key_prints_nothing_but_an_error() {
    let c = ledger();
    let server = Server::start(&c.data);
    let out = c.path("out.file");
    let wrong_key = wrong_log_key(&c);
    let leaf_lie = proxy(&server.url, Lie::LeafByte);
    let balance_lie = proxy(&server.url, Lie::Balance);
    let cases: [(&str, &str, &[&str]); 3] = [
        (
            &leaf_lie.url,
            &c.log_key,
            &["does not verify at entry 2", "nothing from it is shown"],
        ),
        (
            &balance_lie.url,
            &c.log_key,
            &["the server shows fund", "its own entries give", "lying"],
        ),
        (
            &server.url,
            &wrong_key,
            &["checkpoint does not verify with the log key", "--log-key"],
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (url, key, needles) in cases {
        for (sub, args) in COMMANDS {
            let (run, file) = read(&Source::Url(url, key), sub, args, &out);
            assert_refused(&run, &file, needles);
            seen.insert(sub);
        }
    }
    assert_eq!(seen.len(), 6, "all six commands were tried: {seen:?}");

    for (lie, needles) in [
        (
            Lie::ProposalBody,
            &["pending proposal", "body whose hash is"][..],
        ),
        (
            Lie::ProposalSignature,
            &["pending proposal", "signature by", "does not verify"][..],
        ),
    ] {
        let liar = proxy(&server.url, lie);
        for args in [&[][..], &["--json"][..]] {
            let (run, file) = read(&Source::Url(&liar.url, &c.log_key), "proposals", args, &out);
            assert_refused(&run, &file, needles);
        }
        // The rest of the ledger is honest, so the other reads still work.
        let (run, _) = read(&Source::Url(&liar.url, &c.log_key), "balances", &[], &out);
        run.assert_ok();
    }
}

/// Proves that `--url` without `--log-key` is refused by every read
/// command with one line saying why the key is needed, before anything is
/// fetched (the URL here has no server).
#[test]
fn a_url_without_the_log_key_says_why_it_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.file");
    for (sub, args) in COMMANDS {
        let mut all = vec![sub, "--url", "http://127.0.0.1:9"];
        all.extend(args.iter().map(|a| {
            if *a == "RECEIPT" {
                out.to_str().unwrap()
            } else {
                *a
            }
        }));
        let run = run(&all);
        assert_refused(
            &run,
            &std::fs::read(&out).ok(),
            &["--url needs --log-key", "notice board", "not trusted"],
        );
    }
}

/// Proves that `--log-key` with `--data` checks the data directory's
/// ledger: the right key reads it, another is refused naming both keys.
#[test]
fn the_log_key_with_a_data_directory_must_be_the_ledgers() {
    let c = ledger();
    let data = c.data.display().to_string();
    let ok = run(["balances", "--data", &data, "--log-key", &c.log_key]);
    ok.assert_ok();
    assert_eq!(ok.stdout, c.cmd("balances", &[]).stdout);
    let wrong_key = wrong_log_key(&c);
    let refused = run(["balances", "--data", &data, "--log-key", &wrong_key]);
    refused.assert_one_line_error(&["has log key", &c.log_key, &wrong_key]);
    assert!(refused.stdout.is_empty(), "{refused:#?}");
}

/// Proves that a tiles backup asked of a URL is refused with one line
/// saying it needs the data directory and naming the formats that work,
/// and creates no directory.
#[test]
fn a_tiles_backup_from_a_url_is_refused() {
    let c = ledger();
    let server = Server::start(&c.data);
    let backup = c.path("backup");
    let run = run([
        "export",
        "--url",
        &server.url,
        "--log-key",
        &c.log_key,
        "--format",
        "tiles",
        "--out",
        backup.to_str().unwrap(),
    ]);
    assert_refused(
        &run,
        &None,
        &["--format tiles needs --data", "json, csv or hledger"],
    );
    assert!(!backup.exists());
}

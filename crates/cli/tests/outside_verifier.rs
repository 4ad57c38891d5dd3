//! What an outside verifier written from docs/ alone reads, checked by
//! `feeledger verify` too: every cosignature line (role members' and
//! witnesses'), the hash tiles and entry bundles a server serves, a tiles
//! backup in a directory or on a static file server with only the public
//! log key; and the messages around them (the entry a restore refuses, no
//! root after a wrong log key, a rebuild of a healthy store). The real
//! binary, the real server on loopback, real sled directories.

mod support;

use feeledger_core::hash::leaf_hash;
use feeledger_core::note::{sign_checkpoint, Checkpoint, Note, NoteSigner};
use serde_json::Value;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use support::http::Server;
use support::proxy::{forward_get, loopback, Loopback};
use support::verify::{verify_fails_with, verify_run};
use support::{export_tiles, keygen, names, restore, run, Community, Output, COMMITTEE};

/// A community with `n` incomes after the genesis.
fn community(n: usize) -> Community {
    let c = Community::new();
    for i in 0..n {
        c.income(
            "2026-02-01",
            &format!("{}.00", 100 + i),
            &format!("{}-101", i + 1),
            &format!("fee {i}"),
        );
    }
    c
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// `cosign-checkpoint --data DATA --key KEY` with a fresh state file.
fn cosign(c: &Community, key: &Path, state_name: &str) {
    let state = c.path(state_name);
    c.cmd(
        "cosign-checkpoint",
        &["--key", s(key), "--state", s(&state)],
    )
    .assert_ok();
}

/// Registers a new witness `witness-a` and has it cosign the latest
/// checkpoint over HTTP (a witness is not a role member, so it cannot
/// cosign locally); returns its key.
fn witness_cosigns(c: &Community) -> support::Key {
    let witness = keygen(c.dir.path(), "witness-a");
    c.cmd("add-witness", &[&witness.cosigner_key]).assert_ok();
    let server = Server::start(&c.data);
    let state = c.path("witness-a.state");
    run([
        "cosign-checkpoint",
        "--url",
        &server.url,
        "--key",
        s(&witness.path),
        "--state",
        s(&state),
    ])
    .assert_ok();
    server.stop();
    witness
}

/// Flips one base64 digit of the signature (not the key id or timestamp)
/// in `signer`'s cosignature line of the note in `path`.
fn flip_cosignature(path: &Path, signer: &str) {
    let note = std::fs::read_to_string(path).unwrap();
    let prefix = format!("\u{2014} {signer} ");
    let mut found = false;
    let altered: String = note
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix(&prefix) {
            Some(sig) => {
                found = true;
                // Characters 16.. are past the key id and the timestamp.
                let mut sig = sig.as_bytes().to_vec();
                sig[30] = if sig[30] == b'A' { b'B' } else { b'A' };
                format!("{prefix}{}", String::from_utf8(sig).unwrap())
            }
            None => line.to_string(),
        })
        .collect();
    assert!(found, "{signer} has a line in {note}");
    std::fs::write(path, altered).unwrap();
}

/// `verify ARGS --json`: (passed, report, output).
fn verify(args: &[&str]) -> (bool, Value, Output) {
    verify_run(args)
}

/// Runs `verify ARGS`, which must fail with a failure message holding
/// every needle and none of `not`, and no root; returns the message.
#[track_caller]
fn verify_fails(args: &[&str], needles: &[&str], not: &[&str]) -> String {
    verify_fails_with(args, needles, not)
}

/// Runs `verify ARGS`, which must pass; returns the report.
#[track_caller]
fn verify_passes(args: &[&str]) -> Value {
    let (ok, report, out) = verify(args);
    assert!(ok, "verify should pass: {out:#?}");
    report
}

/// Proves that a witness cosignature with one flipped byte, carried by a
/// backup's checkpoint, is named wherever the checkpoint goes: `verify
/// --tiles` of the backup, `restore` (which keeps the backup's checkpoint
/// as it is and warns), `verify --data` of the restored copy, and `verify
/// --url` of a server serving it. Each names the witness's key and the
/// size, as a bad cosignature, not as a checkpoint the log key did not
/// sign. Before, `verify --data` never checked witness lines and passed.
/// A re-export drops the bad line, naming it. The unaltered witness line
/// verifies and is reported by name.
#[test]
fn a_flipped_witness_cosignature_is_named_under_data_tiles_and_url() {
    let c = community(2);
    witness_cosigns(&c);
    let report = c.verify_json();
    assert_eq!(
        report["checkpoint"]["cosigned_by"],
        serde_json::json!(["witness-a"])
    );
    let backup = c.path("backup");
    export_tiles(&c.data, &backup).assert_ok();
    let witnesses = std::fs::read_to_string(backup.join("witnesses")).unwrap();
    assert!(witnesses.starts_with("witness-a+"), "{witnesses}");
    flip_cosignature(&backup.join("checkpoint"), "witness-a");

    let needles = [
        "witness-a",
        "a registered witness's key",
        "does not verify",
        "checkpoint of size 3",
    ];
    let not = ["does not verify with the log key"];
    verify_fails(
        &["--tiles", s(&backup), "--log-key", &c.log_key],
        &needles,
        &not,
    );

    let restored = c.path("restored");
    let out = restore(&backup, &restored, &c.data.join("log.key"));
    out.assert_ok();
    assert!(
        out.stdout.contains("WARNING") && out.stdout.contains("the cosignature by witness-a"),
        "restore names the bad line: {out:#?}"
    );
    assert!(
        out.stdout.contains("cosigned by: nobody yet"),
        "the bad line is not reported as a cosignature: {out:#?}"
    );
    verify_fails(&["--data", s(&restored)], &needles, &not);

    // A re-export of the restored copy does not carry the bad line on
    // (before, it did): it names and drops it, and the new backup verifies.
    let again = c.path("backup-again");
    let out = run([
        "export",
        "--data",
        s(&restored),
        "--format",
        "tiles",
        "--out",
        s(&again),
    ]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("dropped:    the cosignature by witness-a"),
        "{out:#?}"
    );
    let note = std::fs::read_to_string(again.join("checkpoint")).unwrap();
    assert!(!note.contains("\u{2014} witness-a "), "{note}");
    verify_passes(&["--tiles", s(&again), "--log-key", &c.log_key]);

    // `serve` audits the store in the background and, finding the line,
    // stops serving it (503 `damaged`, naming the line); served anyway
    // (`--no-check`), the line is found by `verify --url`.
    let audited = Server::start_with(&restored, |_| {});
    let http = audited.http();
    let status = http.get("/api/v1/status").ok_json();
    assert_eq!(status["audit"]["state"], "failed", "{status}");
    assert!(status.to_string().contains("witness-a"), "{status}");
    let refused = http.get("/api/v1/balances");
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(
        refused.json()["error"]["code"],
        "damaged",
        "{}",
        refused.text()
    );
    drop(audited);
    let server = Server::start_with(&restored, |cmd| {
        cmd.arg("--no-check");
    });
    verify_fails(
        &["--url", &server.url, "--log-key", &c.log_key],
        &needles,
        &not,
    );
}

/// Proves that a committee member's cosignature with one flipped byte is
/// named as a bad cosignature by a role key in force at the checkpoint's
/// size (before, the message blamed the log key), under `--tiles` and,
/// after a restore, `--data`; and that a line by a key the verifier cannot
/// know is reported as unverified, not as bad, and does not fail.
#[test]
fn a_flipped_role_member_cosignature_is_named_and_an_unknown_key_is_unverified() {
    let c = community(1);
    cosign(&c, c.key_path(COMMITTEE[0]), "wang.state");
    cosign(&c, c.key_path(COMMITTEE[1]), "zhao.state");
    let backup = c.path("backup");
    export_tiles(&c.data, &backup).assert_ok();

    // A line by a stranger's key: unverified, reported, not a failure.
    let stranger = c.path("stranger-backup");
    export_tiles(&c.data, &stranger).assert_ok();
    let mut note = std::fs::read_to_string(stranger.join("checkpoint")).unwrap();
    note.push_str(&format!("\u{2014} stranger {}\n", "QUJD".repeat(19)));
    std::fs::write(stranger.join("checkpoint"), note).unwrap();
    let report = verify_passes(&["--tiles", s(&stranger), "--log-key", &c.log_key]);
    assert_eq!(
        report["checkpoint"]["cosigned_by"],
        serde_json::json!([COMMITTEE[0], COMMITTEE[1]])
    );
    assert_eq!(
        report["checkpoint"]["unverified_cosignatures"][0]["name"], "stranger",
        "{report}"
    );
    let out = run(["verify", "--tiles", s(&stranger), "--log-key", &c.log_key]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("unverified:  a cosignature line by stranger"),
        "{out:#?}"
    );

    flip_cosignature(&backup.join("checkpoint"), COMMITTEE[0]);
    let needles = [
        COMMITTEE[0],
        "a role key in force at size 2",
        "does not verify",
        "checkpoint of size 2",
    ];
    // The other member's good line is not blamed.
    let not = ["does not verify with the log key", COMMITTEE[1]];
    verify_fails(
        &["--tiles", s(&backup), "--log-key", &c.log_key],
        &needles,
        &not,
    );
    let restored = c.path("restored");
    restore(&backup, &restored, &c.data.join("log.key")).assert_ok();
    verify_fails(&["--data", s(&restored)], &needles, &not);
}

/// Proves that `verify --tiles DIR` audits a backup with only the public
/// log key: it passes on an untouched backup with the same root and
/// balances as `verify --data`, needs `--log-key`, and fails, naming the
/// file, on a flipped byte in an entry bundle, extra bytes after the last
/// entry of a bundle, and a flipped byte in a level-0 hash tile.
#[test]
fn verify_tiles_audits_a_backup_with_only_the_public_key() {
    let c = community(4);
    let backup = c.path("backup");
    export_tiles(&c.data, &backup).assert_ok();
    let data_report = c.verify_json();
    let report = verify_passes(&["--tiles", s(&backup), "--log-key", &c.log_key]);
    assert_eq!(report["entries"], 5);
    assert_eq!(report["root"], data_report["root"]);
    assert_eq!(report["balances_fen"], data_report["balances_fen"]);

    run(["verify", "--tiles", s(&backup)]).assert_one_line_error(&["--tiles needs --log-key"]);

    let damaged = |name: &str, damage: &dyn Fn(&Path), needles: &[&str]| {
        let copy = c.path(name);
        export_tiles(&c.data, &copy).assert_ok();
        damage(&copy);
        verify_fails(
            &["--tiles", s(&copy), "--log-key", &c.log_key],
            needles,
            &[],
        );
    };
    let edit = |path: PathBuf, f: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = std::fs::read(&path).unwrap();
        f(&mut bytes);
        std::fs::write(&path, bytes).unwrap();
    };
    damaged(
        "flipped-bundle",
        &|b| edit(b.join("tile/entries/000.p/5"), &|v| v[40] ^= 1),
        &["entry 0", "tile/entries/000.p/5", "tile/0/000.p/5"],
    );
    damaged(
        "bytes-after-bundle",
        &|b| {
            edit(b.join("tile/entries/000.p/5"), &|v| {
                v.extend_from_slice(b"\0\x01x")
            })
        },
        &["tile/entries/000.p/5 has 3 bytes after its 5 entries"],
    );
    damaged(
        "flipped-hash-tile",
        &|b| edit(b.join("tile/0/000.p/5"), &|v| v[32 * 3 + 7] ^= 1),
        &["entry 3", "tile/0/000.p/5"],
    );
}

/// A `python3 -m http.server` on a free loopback port, killed on drop.
struct StaticServer {
    child: Child,
    url: String,
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `dir` as plain static files. Fails loudly without python3.
fn static_server(dir: &Path) -> StaticServer {
    let mut child = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for the static mirror test (apt-get install python3)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let port = line
        .split(" port ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected http.server line {line:?}"));
    StaticServer {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Proves that `verify --tiles URL` audits a static mirror of a backup
/// served by a plain file server (python3's http.server): it passes, with
/// the cosignature checked, and fails naming the tile when a byte of the
/// mirrored level-0 hash tile is flipped.
#[test]
fn verify_tiles_reads_a_static_mirror() {
    let c = community(2);
    cosign(&c, c.key_path(COMMITTEE[0]), "wang.state");
    let site = c.path("site");
    export_tiles(&c.data, &site.join("backup")).assert_ok();
    let mirror = static_server(&site);
    let url = format!("{}/backup/", mirror.url);
    let report = verify_passes(&["--tiles", &url, "--log-key", &c.log_key]);
    assert_eq!(report["entries"], 3);
    assert_eq!(report["root"], c.verify_json()["root"]);
    assert_eq!(
        report["checkpoint"]["cosigned_by"],
        serde_json::json!([COMMITTEE[0]])
    );

    let tile = site.join("backup/tile/0/000.p/3");
    let mut bytes = std::fs::read(&tile).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&tile, bytes).unwrap();
    verify_fails(
        &["--tiles", &url, "--log-key", &c.log_key],
        &["entry 1", "tile/0/000.p/3", &url[..url.len() - 1]],
        &[],
    );
}

/// A loopback HTTP proxy in front of `upstream` that passes every GET
/// through, changing the body of the paths `tamper` changes (given the
/// request target).
type Tamper = dyn Fn(&str, &mut Vec<u8>) + Send + Sync;

fn tamper_proxy(upstream: &str, tamper: Arc<Tamper>) -> Loopback {
    let upstream = upstream.to_string();
    let client = reqwest::blocking::Client::new();
    loopback(move |target| {
        let mut answer = forward_get(&client, &upstream, target)?;
        tamper(target, &mut answer.body);
        Ok(answer)
    })
}

/// Proves that `verify --url` reads the hash tiles and entry bundles the
/// server serves, as C2SP tlog-tiles clients do, on every level (the demo's
/// 3,669 entries give full and partial tiles on levels 0 and 1): through a
/// proxy that changes nothing it passes; a flipped byte in a level-0 tile,
/// in the partial level-1 tile, and extra bytes after the last entry of a
/// bundle each fail, naming the tile. Before, only `/checkpoint`,
/// `/api/v1/ledger` and `/api/v1/entries` were read.
#[test]
fn verify_url_checks_the_served_tiles_and_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = run(["demo", "--no-serve", "--data", s(&data)]);
    out.assert_ok();
    let log_key = support::field(&out.stdout, "log key:").expect("demo prints its log key");
    let server = Server::start(&data);

    let cases: Vec<(&str, Arc<Tamper>, Vec<&str>)> = vec![
        ("untouched", Arc::new(|_: &str, _: &mut Vec<u8>| {}), vec![]),
        (
            "flipped-level-0-tile",
            Arc::new(|path: &str, body: &mut Vec<u8>| {
                if path == "/tile/0/007" {
                    body[32 * 9 + 3] ^= 1;
                }
            }),
            vec!["tile/0/007", "entry 1801", "damaged"],
        ),
        (
            "flipped-level-1-partial-tile",
            Arc::new(|path: &str, body: &mut Vec<u8>| {
                if path == "/tile/1/000.p/14" {
                    body[32 * 2] ^= 1;
                }
            }),
            vec!["tile/1/000.p/14", "tree level 8 node 2"],
        ),
        (
            "bytes-after-the-last-bundle",
            Arc::new(|path: &str, body: &mut Vec<u8>| {
                if path == "/tile/entries/014.p/85" {
                    body.extend_from_slice(b"\x00\x02{}");
                }
            }),
            vec![
                "tile/entries/014.p/85 has 4 bytes after its 85 entries",
                "entry 3668",
            ],
        ),
    ];
    for (name, tamper, needles) in cases {
        let proxy = tamper_proxy(&server.url, tamper);
        let args = ["--url", &proxy.url, "--log-key", &log_key];
        if needles.is_empty() {
            let report = verify_passes(&args);
            assert_eq!(report["entries"], 3669, "{name}");
        } else {
            let message = verify_fails(&args, &needles, &[]);
            eprintln!("{name}: {message}");
        }
    }
}

/// Proves that `restore` names the entry a backup holds that does not
/// decode, and its bundle: a backup whose fourth entry (seq 3) is not a
/// feeledger leaf, with hash tiles and a checkpoint signed by the log key
/// that match it, is refused at "entry 3 (in tile/entries/000.p/4)".
/// Before, the message said "entry 0".
#[test]
fn restore_names_the_entry_that_does_not_decode() {
    let c = community(2);
    let backup = c.path("backup");
    export_tiles(&c.data, &backup).assert_ok();
    let bundle = std::fs::read(backup.join("tile/entries/000.p/3")).unwrap();
    let mut leaves = Vec::new();
    let mut at = 0;
    while at < bundle.len() {
        let len = usize::from(u16::from_be_bytes([bundle[at], bundle[at + 1]]));
        leaves.push(bundle[at + 2..at + 2 + len].to_vec());
        at += 2 + len;
    }
    assert_eq!(leaves.len(), 3);
    leaves.push(b"not a feeledger leaf".to_vec());
    let mut new_bundle = Vec::new();
    let mut tile = Vec::new();
    for leaf in &leaves {
        new_bundle.extend_from_slice(&(leaf.len() as u16).to_be_bytes());
        new_bundle.extend_from_slice(leaf);
        tile.extend_from_slice(&leaf_hash(leaf).0);
    }
    let root = feeledger_core::merkle::root_from_leaf_hashes(
        &leaves.iter().map(|l| leaf_hash(l)).collect::<Vec<_>>(),
    );
    std::fs::remove_file(backup.join("tile/entries/000.p/3")).unwrap();
    std::fs::remove_file(backup.join("tile/0/000.p/3")).unwrap();
    std::fs::write(backup.join("tile/entries/000.p/4"), new_bundle).unwrap();
    std::fs::write(backup.join("tile/0/000.p/4"), tile).unwrap();
    let signer = NoteSigner::parse(
        std::fs::read_to_string(c.data.join("log.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let old = Note::parse(&std::fs::read(backup.join("checkpoint")).unwrap()).unwrap();
    let mut checkpoint = Checkpoint::parse(&old.text).unwrap();
    checkpoint.size = 4;
    checkpoint.root = root;
    let note = sign_checkpoint(&checkpoint, &signer).unwrap();
    std::fs::write(backup.join("checkpoint"), note.to_bytes()).unwrap();

    let target = c.path("restored");
    let out = restore(&backup, &target, &c.data.join("log.key"));
    out.assert_one_line_error(&["entry 3 (in tile/entries/000.p/4)", "does not decode"]);
    assert!(!out.stderr.contains("entry 0"), "{out:#?}");
    assert!(!target.exists(), "a failed restore leaves nothing");
}

/// Proves that `verify` with a wrong log key prints no root (before, it
/// printed the hash of nothing, e3b0c442..., as if it were a root), no
/// balances and no checkpoint: only the failure, under `--data`, `--url`
/// and `--tiles`.
#[test]
fn verify_with_a_wrong_log_key_prints_no_root() {
    let c = community(1);
    let wrong = c.key(COMMITTEE[0]).verifier_key.clone();
    let backup = c.path("backup");
    export_tiles(&c.data, &backup).assert_ok();
    // The server holds its data directory: it serves a restored copy.
    let served = c.path("served");
    restore(&backup, &served, &c.data.join("log.key")).assert_ok();
    let server = Server::start(&served);
    for args in [
        vec!["--data", s(&c.data), "--log-key", &wrong],
        vec!["--url", &server.url, "--log-key", &wrong],
        vec!["--tiles", s(&backup), "--log-key", &wrong],
    ] {
        let mut all = vec!["verify"];
        all.extend_from_slice(&args);
        let out = run(all);
        assert_ne!(out.code, Some(0), "{out:#?}");
        assert!(out.stdout.starts_with("FAILED"), "{out:#?}");
        assert!(out.stdout.contains("log key"), "{out:#?}");
        for absent in ["root:", "e3b0c442", "balance:", "checkpoint:  size"] {
            assert!(!out.stdout.contains(absent), "{absent:?}: {out:#?}");
        }
        verify_fails(&args, &["log key"], &[]);
    }
}

/// The latest checkpoint of a data directory, read through `verify
/// --save-checkpoint`.
fn checkpoint_of(c: &Community, name: &str) -> Vec<u8> {
    let path = c.path(name);
    c.cmd("verify", &["--save-checkpoint", s(&path)])
        .assert_ok();
    std::fs::read(path).unwrap()
}

/// Proves that `rebuild` on a healthy store (the full audit passes) says
/// so and changes nothing: the data directory's listing is the same, no
/// `ledger.damaged-<time>` copy is kept, and the ledger has the same
/// entries, root, balances and signed checkpoint (its bytes). Before, it
/// rebuilt anyway and kept a copy of the healthy store as "damaged".
#[test]
fn rebuild_on_a_healthy_store_changes_nothing() {
    let c = community(2);
    cosign(&c, c.key_path(COMMITTEE[0]), "wang.state");
    let before = c.snapshot();
    let checkpoint = checkpoint_of(&c, "before.checkpoint");
    let files = names(&c.data);
    let out = c.cmd("rebuild", &[]);
    out.assert_ok();
    assert!(
        out.stdout
            .contains("the store is healthy; nothing to rebuild"),
        "{out:#?}"
    );
    assert!(!out.stdout.contains("damage"), "{out:#?}");
    assert_eq!(names(&c.data), files, "no copy is kept, nothing is added");
    assert_eq!(c.snapshot(), before);
    assert_eq!(checkpoint_of(&c, "after.checkpoint"), checkpoint);
}

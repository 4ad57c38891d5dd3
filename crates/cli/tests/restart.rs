//! Back in a second after a crash, and a full disk survived (issue 16,
//! parts 3 and 4), against the real `feeledger serve`:
//!
//! - after a restart (and after a SIGKILL under writes) the server answers
//!   reads while its full audit still runs in the background, shown on
//!   `GET /api/v1/status`; writes wait for the audit and then commit;
//! - on a small tmpfs filled until the disk is full, writes are refused
//!   with 507 `insufficient_storage`, reads go on, writes resume by
//!   themselves once space is freed, SIGTERM ends the server within 10 s,
//!   and every acknowledged write is there after a restart (and after a
//!   SIGKILL near the full disk).
//!
//! The tmpfs tests mount a tmpfs themselves, which needs root (CI runs as
//! root). Without it they fail, saying so: they never skip.

mod support;

use ed25519_dalek::SigningKey;
use feeledger_core::entry::Body;
use feeledger_store::{Store, Submission};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::bodies::{proposal_request, read_signer, sign_with, Bodies};
use support::disk::Tmpfs;
use support::http::{Http, Server};
use support::{Community, COMPANY, ORIGIN};

const BODIES: Bodies = Bodies {
    ledger: ORIGIN,
    month: "2026-03",
    memo: "restart test",
};

fn company_key(c: &Community) -> SigningKey {
    support::bodies::signing_key(c.key_path(COMPANY))
}

fn income(nonce: &str) -> Body {
    BODIES.income(nonce, 12_300, "3-1-402")
}

/// The `POST /api/v1/proposals` request of a company-signed income.
fn income_request(key: &SigningKey, nonce: &str) -> Value {
    let body = income(nonce);
    proposal_request(&body, &sign_with(&body, &[(COMPANY, key)]))
}

/// Appends `n` company-signed incomes to the community's store directly
/// (the store library, as `feeledger import` does), so that the ledger is
/// large enough for its audit to take a while.
fn grow(c: &Community, n: u64) {
    let key = company_key(c);
    let log = read_signer(&c.data.join("log.key"));
    let store = Store::open(&c.data.join("ledger")).expect("open the store");
    let mut i = 0;
    while i < n {
        let batch: Vec<Submission> = (i..n.min(i + 4_096))
            .map(|k| {
                let body = income(&format!("bulk-{k}"));
                let signatures = sign_with(&body, &[(COMPANY, &key)]);
                Submission { body, signatures }
            })
            .collect();
        i += batch.len() as u64;
        for result in store.append_batch(batch, 0, &log).expect("append") {
            result.expect("each entry commits");
        }
    }
    store.close().expect("close the store");
}

/// `feeledger verify --data DIR --json` passes: the audit from genesis.
fn verify_data(data: &Path) {
    let out = support::run([
        std::ffi::OsStr::new("verify"),
        std::ffi::OsStr::new("--data"),
        data.as_os_str(),
        std::ffi::OsStr::new("--json"),
    ]);
    assert!(
        out.success() && out.json()["ok"] == json!(true),
        "verify --data should pass: {out:#?}"
    );
}

fn status(http: &Http) -> Value {
    http.get("/api/v1/status").ok_json()
}

fn audit_state(status: &Value) -> &str {
    status["audit"]["state"].as_str().expect("an audit state")
}

/// Polls the status until the audit is no longer running.
fn wait_for_audit(http: &Http) -> Value {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let s = status(http);
        if audit_state(&s) != "running" {
            return s;
        }
        assert!(Instant::now() < deadline, "the audit did not end: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts one income; its seq if acknowledged (201 committed).
fn post_income(http: &Http, key: &SigningKey, nonce: &str) -> Result<u64, (u16, String)> {
    let r = http
        .try_post(
            "/api/v1/proposals",
            "application/json",
            income_request(key, nonce).to_string(),
        )
        .map_err(|e| (0, e.to_string()))?;
    if r.status != 201 {
        return Err((r.status, r.text()));
    }
    let v = r.json();
    assert_eq!(v["status"], json!("committed"), "{v}");
    Ok(v["seq"].as_u64().expect("a seq"))
}

/// Checks that every acknowledged (nonce, seq) is the entry at that seq.
fn assert_all_present(http: &Http, acked: &[(String, u64)]) {
    for (nonce, seq) in acked {
        let v = http.get(&format!("/api/v1/entries/{seq}")).ok_json();
        let text = v.to_string();
        assert!(
            text.contains(&format!("\"nonce\":\"{nonce}\"")),
            "entry {seq} should be the acknowledged write {nonce}: {text}"
        );
    }
}

/// Proves that a restarted server serves reads before its full audit has
/// finished, shows the audit's progress on `/api/v1/status`, makes writes
/// wait for the audit and then commits them, and does the same after a
/// SIGKILL under concurrent writes, losing no acknowledged write.
#[test]
fn serves_reads_while_the_audit_runs_after_a_restart_and_a_sigkill() {
    let c = Community::new();
    grow(&c, 20_000);
    let key = company_key(&c);

    let server = Server::spawn_with(&c.data, |_| {});
    let http = server.http();
    // The first answers come while the audit is still running: reads are
    // not held back by it. (Not a timing assertion: the audit of 20,000
    // entries is still on its way when the first request arrives.)
    let first = status(&http);
    assert_eq!(first["head_checked"], json!(true), "{first}");
    assert_eq!(audit_state(&first), "running", "{first}");
    assert_eq!(first["writable"], json!(false), "{first}");
    let target = first["audit"]["target_size"].as_u64().unwrap();
    assert_eq!(target, 20_001, "{first}");
    assert!(first["audit"]["verified_size"].as_u64().unwrap() < target);
    let checkpoint = http.get("/checkpoint");
    assert_eq!(checkpoint.status, 200, "{}", checkpoint.text());
    let entry = http.get("/api/v1/entries/10000");
    assert_eq!(entry.status, 200, "{}", entry.text());
    // A write sent now waits for the audit: it commits if the audit ends
    // within 10 s, else it is refused, 503 `auditing`, nothing stored.
    let during = http.post_json("/api/v1/proposals", &income_request(&key, "during-audit"));
    if during.status != 201 {
        let message = during.assert_error(503, "auditing");
        assert!(message.contains("nothing was stored"), "{message}");
        assert_eq!(audit_state(&status(&http)), "running");
    }
    let done = wait_for_audit(&http);
    assert_eq!(audit_state(&done), "passed", "{done}");
    assert_eq!(done["audit"]["size"], json!(20_001), "{done}");
    assert_eq!(done["audit"]["from_size"], json!(0), "from genesis: {done}");
    assert_eq!(done["writable"], json!(true), "{done}");
    // Once it passed, writes commit.
    let seq = post_income(&http, &key, "after-audit").expect("the write commits");
    assert!(seq == 20_001 || seq == 20_002, "{seq}");

    // Writers post until the server is SIGKILLed under them.
    let acked = Arc::new(Mutex::new(vec![("after-audit".to_string(), seq)]));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, key, acked, stop) = (http.clone(), key.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let nonce = format!("kill-{w}-{i}");
                    match post_income(&http, &key, &nonce) {
                        Ok(seq) => acked.lock().unwrap().push((nonce, seq)),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    // The restart resumes the audit from what the first one recorded
    // (20,001 entries), and replays only the entries written since.
    let server = Server::spawn_with(&c.data, |_| {});
    let http = server.http();
    let first = status(&http);
    assert_eq!(first["audit"]["from_size"], json!(20_001), "{first}");
    let checkpoint = http.get("/checkpoint");
    assert_eq!(checkpoint.status, 200, "{}", checkpoint.text());
    assert_all_present(&http, &acked);
    let done = wait_for_audit(&http);
    assert_eq!(audit_state(&done), "passed", "{done}");
    assert_eq!(done["audit"]["from_size"], json!(20_001), "{done}");
    let size = first["size"].as_u64().unwrap();
    assert!(size > 20_001 + 40, "{first}");
    assert_eq!(
        done["audit"]["size"],
        json!(size),
        "the audit covers the ledger as restarted: {done}"
    );
    // Entries written after this audit recorded its point (size `size`).
    for i in 0..10 {
        post_income(&http, &key, &format!("after-record-{i}")).expect("commits");
    }
    assert!(server.stop().success());
    verify_data(&c.data);

    // One of them damaged on disk: the audit resumed from the record finds
    // it, and the ledger is no longer served.
    let damaged = size + 5;
    {
        let db = sled::open(c.data.join("ledger")).expect("open the sled store");
        let mut key = vec![b'L'];
        key.extend_from_slice(&damaged.to_be_bytes());
        let mut leaf = db.get(&key).unwrap().expect("the leaf").to_vec();
        let at = leaf.len() / 2;
        leaf[at] ^= 0x01;
        db.insert(key, leaf).unwrap();
        db.flush().unwrap();
    }
    let server = Server::spawn_with(&c.data, |_| {});
    let http = server.http();
    let done = wait_for_audit(&http);
    assert_eq!(audit_state(&done), "failed", "{done}");
    assert_eq!(done["audit"]["seq"], json!(damaged), "{done}");
    let message = http.get("/checkpoint").assert_error(503, "damaged");
    assert!(
        message.contains(&format!("at entry {damaged}")),
        "{message}"
    );
}

// ------------------------------------------------------------- full disk

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The community's data directory moved onto a small tmpfs. The server is
/// given a symlink beside the community (so that its log, written next to
/// the path it is given, stays off the full disk).
struct FullDisk {
    c: Community,
    disk: Tmpfs,
    data: PathBuf,
    filler: PathBuf,
}

impl FullDisk {
    fn new() -> FullDisk {
        let c = Community::new();
        let disk = Tmpfs::mount(48);
        let on_disk = disk.mount.join("data");
        copy_dir(&c.data, &on_disk);
        let data = c.path("data-on-tmpfs");
        std::os::unix::fs::symlink(&on_disk, &data).unwrap();
        let filler = disk.mount.join("filler");
        FullDisk {
            c,
            disk,
            data,
            filler,
        }
    }

    /// Writes a filler file that leaves about `leave` bytes free.
    fn fill_leaving(&self, leave: u64) {
        self.disk.fill_leaving(&self.filler, leave);
    }
}

/// Proves that a full disk is a fault the server survives: writes are
/// refused with 507 `insufficient_storage` (a JSON error), nothing
/// acknowledged is lost, reads go on, the store is not called damaged,
/// writes resume by themselves once space is freed, SIGTERM ends the
/// server within 10 s, and after a restart the ledger verifies with every
/// acknowledged write.
#[test]
fn a_full_disk_refuses_writes_with_507_and_writes_resume_once_space_is_freed() {
    let disk = FullDisk::new();
    let key = company_key(&disk.c);
    // The store refuses writes below its reserve (FREE_BYTES_FLOOR); leave
    // a little more, for a few hundred writes to fill.
    disk.fill_leaving(feeledger_store::FREE_BYTES_FLOOR + 3 * 1024 * 1024);
    let server = Server::start(&disk.data);
    let http = server.http();
    let mut acked = Vec::new();
    let refused = loop {
        let nonce = format!("fill-{}", acked.len());
        match post_income(&http, &key, &nonce) {
            Ok(seq) => acked.push((nonce, seq)),
            Err((status, text)) => break (status, text),
        }
        assert!(acked.len() < 100_000, "the disk never filled");
    };
    assert_eq!(refused.0, 507, "a write on a full disk: {}", refused.1);
    assert!(!acked.is_empty(), "some writes fit before the disk filled");
    let again = http.post_json("/api/v1/proposals", &income_request(&key, "refused-again"));
    let message = again.assert_error(507, "insufficient_storage");
    assert!(message.contains("disk is full"), "{message}");
    // Reads go on, and everything acknowledged is there.
    let size_before = http.get("/api/v1/ledger").ok_json();
    assert_eq!(http.get("/checkpoint").status, 200);
    assert_all_present(&http, &acked);
    // The refusal changed nothing.
    assert_eq!(http.get("/api/v1/ledger").ok_json(), size_before);

    // Space comes back: the next write commits, without a restart.
    std::fs::remove_file(&disk.filler).unwrap();
    let seq = post_income(&http, &key, "after-space-freed").expect("writes resume");
    acked.push(("after-space-freed".to_string(), seq));
    assert_eq!(seq, acked[acked.len() - 2].1 + 1, "no seq was lost");

    // SIGTERM ends it promptly (`stop` allows 10 s) and cleanly.
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(disk.data.with_extension("serve.log")).unwrap();
    assert!(
        !log.contains("damaged"),
        "the store was never called damaged:\n{log}"
    );

    let server = Server::start(&disk.data);
    assert_all_present(&server.http(), &acked);
    assert!(server.stop().success());
    verify_data(&disk.data);
}

/// Proves that a server SIGKILLed while writers fill its disk loses no
/// acknowledged write, and that the ledger verifies after a restart.
#[test]
fn sigkill_near_a_full_disk_loses_no_acknowledged_write() {
    let disk = FullDisk::new();
    let key = company_key(&disk.c);
    disk.fill_leaving(feeledger_store::FREE_BYTES_FLOOR + 2 * 1024 * 1024);
    let server = Server::start(&disk.data);
    let http = server.http();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let full = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (http, key, acked, full) = (http.clone(), key.clone(), acked.clone(), full.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let nonce = format!("near-full-{w}-{i}");
                    match post_income(&http, &key, &nonce) {
                        Ok(seq) => acked.lock().unwrap().push((nonce, seq)),
                        Err((507, _)) => full.store(true, Ordering::SeqCst),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !full.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the disk never filled");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Killed while writers still post against the full disk.
    std::thread::sleep(Duration::from_millis(200));
    server.kill();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    std::fs::remove_file(&disk.filler).unwrap();
    let server = Server::start(&disk.data);
    assert_all_present(&server.http(), &acked);
    let done = wait_for_audit(&server.http());
    assert_eq!(audit_state(&done), "passed", "{done}");
    assert!(server.stop().success());
    verify_data(&disk.data);
}

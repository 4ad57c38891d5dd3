//! A district platform (`serve --platform`): many ledgers in one server,
//! one shared sled database. The real binary, real sled directories, the
//! real server on loopback: adding and retiring a ledger while it runs,
//! an unknown slug, a write to one ledger changing no other, a damaged
//! ledger refused alone, `verify --url …/c/SLUG`, and the scale
//! test (1,000 ledgers of 100 entries).

mod support;

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::bodies::{proposal_request, sign_with, signing_key, Bodies};
use support::http::Http;
use support::platform::{district, PlatformServer};
use support::{run, Community};

/// Polls `check` every 100 ms for up to 10 s.
#[track_caller]
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within 10 s");
}

/// An income for ledger `slug` of the district, signed by its company key,
/// as `POST /api/v1/proposals` takes it.
fn income(platform: &Path, slug: &str, origin: &str, nonce: &str, fen: u64) -> Value {
    let key = signing_key(&platform.join(format!("ledgers/{slug}/keys/wuye-li.key")));
    let body = Bodies {
        ledger: origin,
        month: "2026-02",
        memo: "平台测试",
    }
    .income(nonce, fen, "1-101");
    proposal_request(&body, &sign_with(&body, &[("wuye-li", &key)]))
}

fn checkpoint(http: &Http, slug: &str) -> String {
    let r = http.get(&format!("/c/{slug}/checkpoint"));
    assert_eq!(r.status, 200, "{slug}: {}", r.text());
    r.text()
}

fn log_key(http: &Http, slug: &str) -> String {
    http.get(&format!("/c/{slug}/api/v1/ledger")).ok_json()["log_key"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `feeledger verify --url URL/c/SLUG --log-key K`.
fn verify(url: &str, slug: &str, key: &str) -> support::Output {
    run([
        "verify",
        "--url",
        &format!("{url}/c/{slug}"),
        "--log-key",
        key,
    ])
}

/// Overwrites ledger `slug`'s state snapshot in the shared database, so
/// that its head check fails at open.
fn damage(platform: &Path, slug: &str) {
    let db = sled::open(platform.join("platform.db")).unwrap();
    let tree = db.open_tree(format!("ledger/{slug}")).unwrap();
    assert!(tree.get(b"S").unwrap().is_some(), "{slug} has a snapshot");
    tree.insert(b"S", &b"{not a snapshot"[..]).unwrap();
    db.flush().unwrap();
}

#[test]
fn a_platform_adds_retires_isolates_and_refuses_a_damaged_ledger_alone() {
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("district");
    district(&platform, 3, 40);
    damage(&platform, "lanting");
    let server = PlatformServer::start(&platform);
    let http = server.http();

    // The damaged ledger is refused alone, naming itself and the fix.
    let message = http
        .get("/c/lanting/api/v1/ledger")
        .assert_error(503, "ledger_unavailable");
    assert!(
        message.contains("lanting") && message.contains("restore"),
        "{message}"
    );
    for slug in ["xingguang", "chenxi"] {
        checkpoint(&http, slug);
    }
    // An unknown slug, and a path outside any ledger, are 404 JSON.
    http.get("/c/nowhere/checkpoint")
        .assert_error(404, "no_such_ledger");
    http.get("/c/nowhere/").assert_error(404, "no_such_ledger");
    http.get("/checkpoint").assert_error(404, "not_found");
    // The list the index page is built from.
    let listed = http.get("/api/v1/ledgers").ok_json();
    let status: Vec<(String, String)> = listed["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["slug"].as_str().unwrap().to_string(),
                l["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("chenxi".to_string(), "serving".to_string()),
            ("lanting".into(), "unavailable".into()),
            ("xingguang".into(), "serving".into()),
        ]
    );
    let chenxi = &listed["ledgers"][0];
    assert_eq!(chenxi["origin"], "demo.feeledger.local/chenxi");
    assert_eq!(chenxi["size"], 40);
    let index = http.get("/");
    assert_eq!(index.status, 200);
    let index = index.text();
    assert!(
        index.contains("/platform.js\"") && index.contains("src=\"assets/v/"),
        "the platform's index loads its module by the build tag: {index}"
    );

    // A write to one ledger changes no other.
    let before_xingguang = checkpoint(&http, "xingguang");
    let request = income(
        &platform,
        "chenxi",
        "demo.feeledger.local/chenxi",
        "p-1",
        12_345,
    );
    let answer = http
        .post_json("/c/chenxi/api/v1/proposals", &request)
        .json();
    assert_eq!(answer["status"], "committed", "{answer}");
    assert_eq!(http.get("/c/chenxi/api/v1/ledger").ok_json()["size"], 41);
    assert_eq!(checkpoint(&http, "xingguang"), before_xingguang);
    // The same body sent to another ledger is refused there (it names
    // chenxi's origin, and xingguang's keys did not sign it): nothing lands.
    let refused = http.post_json("/c/xingguang/api/v1/proposals", &request);
    assert!((400..500).contains(&refused.status), "{}", refused.text());
    assert_eq!(checkpoint(&http, "xingguang"), before_xingguang);
    // Each verifies as a log of its own under its prefix.
    for slug in ["xingguang", "chenxi"] {
        verify(&server.url, slug, &log_key(&http, slug)).assert_ok();
    }
    // chenxi's key does not verify xingguang's log.
    verify(&server.url, "xingguang", &log_key(&http, "chenxi")).assert_failed();

    // Added while it runs: `init --platform`, taken in without a restart.
    let community = Community::new();
    let out = run([
        OsStr::new("init"),
        OsStr::new("--platform"),
        platform.as_os_str(),
        OsStr::new("--slug"),
        OsStr::new("added"),
        OsStr::new("--genesis"),
        community.path("genesis.toml").as_os_str(),
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("/c/added/"), "{}", out.stdout);
    eventually("the added ledger is served", || {
        http.get("/c/added/api/v1/ledger").status == 200
    });
    let added = http.get("/c/added/api/v1/ledger").ok_json();
    assert_eq!(added["origin"], support::ORIGIN);
    assert_eq!(added["size"], 1);
    // Its store was adopted into the shared database and removed.
    assert!(!platform.join("ledgers/added/ledger").exists());
    // Its attachments are kept in the shared database (a tree of its own),
    // and `propose --url` works with the prefix as the ledger's URL.
    // First money in, so the expenditure is no overdraft.
    let company = signing_key(community.key_path(support::COMPANY));
    let fees = Bodies {
        ledger: support::ORIGIN,
        month: "2026-01",
        memo: "一月物业费",
    }
    .income("platform-fees-1", 500_000, "1-101");
    let answer = http
        .post_json(
            "/c/added/api/v1/proposals",
            &proposal_request(&fees, &sign_with(&fees, &[(support::COMPANY, &company)])),
        )
        .json();
    assert_eq!(answer["status"], "committed", "{answer}");
    let contract = "电梯维修合同 第3号楼".as_bytes().repeat(100);
    let sha256 = feeledger_core::hash::sha256(&contract).to_hex();
    let body = serde_json::json!({
        "ledger": support::ORIGIN, "date": "2026-02-10", "nonce": "platform-attach-1", "kind": "expenditure",
        "fund": "operating", "amount_fen": 128050, "category": "repairs",
        "payee": "星光电梯维修有限公司", "memo": "3号楼电梯更换钢丝绳",
        "attachments": [{"bytes": contract.len(), "name": "合同.pdf", "sha256": sha256}],
    });
    let body_path = community.path("attach-body.json");
    std::fs::write(&body_path, support::canonical_json(&body)).unwrap();
    let out = run([
        "propose".to_string(),
        "--url".into(),
        format!("{}/c/added", server.url),
        "--key".into(),
        community.key_path(support::COMPANY).display().to_string(),
        "--yes".into(),
        "body".into(),
        body_path.display().to_string(),
    ]);
    out.assert_ok();
    let id = out
        .pending_id()
        .expect("the expenditure waits for the committee");
    let put = Http::finish(
        http.client
            .put(format!(
                "{}/c/added/api/v1/proposals/{id}/attachments/{sha256}",
                server.url
            ))
            .header("content-type", "application/octet-stream")
            .body(contract.clone())
            .send()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(put.status, 201, "{}", put.text());
    let got = http.get(&format!("/c/added/api/v1/attachments/{sha256}"));
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.body, contract);
    // Another ledger of the platform does not serve it.
    assert_eq!(
        http.get(&format!("/c/xingguang/api/v1/attachments/{sha256}"))
            .status,
        404
    );

    // A bad slug, and a slug in use, are refused with the rule.
    run([
        OsStr::new("init"),
        OsStr::new("--platform"),
        platform.as_os_str(),
        OsStr::new("--slug"),
        OsStr::new("Bad_Slug"),
        OsStr::new("--genesis"),
        community.path("genesis.toml").as_os_str(),
    ])
    .assert_one_line_error(&["Bad_Slug", "lowercase letters"]);
    run([
        OsStr::new("init"),
        OsStr::new("--platform"),
        platform.as_os_str(),
        OsStr::new("--slug"),
        OsStr::new("chenxi"),
        OsStr::new("--genesis"),
        community.path("genesis.toml").as_os_str(),
    ])
    .assert_failed();

    // Retired while it runs: 410, the others serve, its records stay.
    let out = run([
        OsStr::new("retire"),
        OsStr::new("--platform"),
        platform.as_os_str(),
        OsStr::new("--slug"),
        OsStr::new("chenxi"),
    ]);
    out.assert_ok();
    eventually("the retired ledger is 410", || {
        http.get("/c/chenxi/checkpoint").status == 410
    });
    http.get("/c/chenxi/api/v1/ledger")
        .assert_error(410, "ledger_retired");
    assert_eq!(checkpoint(&http, "xingguang"), before_xingguang);
    run([
        OsStr::new("retire"),
        OsStr::new("--platform"),
        platform.as_os_str(),
        OsStr::new("--slug"),
        OsStr::new("chenxi"),
    ])
    .assert_one_line_error(&["already retired"]);
    drop(server);
    let db = sled::open(platform.join("platform.db")).unwrap();
    assert!(
        db.open_tree("ledger/chenxi").unwrap().len() > 41,
        "a retired ledger's records are kept"
    );
}

/// Proves that `serve --platform --no-check` is honoured as `serve --data
/// --no-check` is: no ledger's full audit runs (each status says
/// `not_run`) and writes are taken at once, while without it every
/// ledger's audit runs and passes.
#[test]
fn no_check_skips_every_ledgers_audit_on_a_platform() {
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("district");
    district(&platform, 2, 40);
    let slugs = ["xingguang", "chenxi"];
    let audit_state = |http: &Http, slug: &str| {
        http.get(&format!("/c/{slug}/api/v1/status")).ok_json()["audit"]["state"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let server = PlatformServer::start_with(&platform, &["--no-check"]);
    let http = server.http();
    for slug in slugs {
        assert_eq!(audit_state(&http, slug), "not_run", "{slug}");
    }
    let request = income(
        &platform,
        "chenxi",
        "demo.feeledger.local/chenxi",
        "no-check-1",
        12_345,
    );
    let answer = http
        .post_json("/c/chenxi/api/v1/proposals", &request)
        .json();
    assert_eq!(answer["status"], "committed", "{answer}");
    // Still not run: nothing audits later either.
    std::thread::sleep(Duration::from_millis(500));
    for slug in slugs {
        assert_eq!(audit_state(&http, slug), "not_run", "{slug}");
    }
    drop(server);

    let server = PlatformServer::start(&platform);
    let http = server.http();
    for slug in slugs {
        eventually(&format!("{slug}'s audit passes"), || {
            audit_state(&http, slug) == "passed"
        });
    }
}

/// The platform directory for the scale test: on /dev/shm when there is
/// one (building 1,000 ledgers flushes 2,000 times), else a temp dir.
fn scratch() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

/// The scale test: one server with 1,000 ledgers of 100 entries
/// each, one of them damaged. The damaged one is refused alone (503
/// `ledger_unavailable`); every other ledger verifies with `verify --url
/// …/c/SLUG`, the server's peak RSS stays at or under 512 MiB, and writes
/// to 50 ledgers at once lose nothing and land in no other ledger.
#[test]
fn a_thousand_ledgers_of_a_hundred_entries_verify_in_512_mib() {
    const LEDGERS: u32 = 1_000;
    const ENTRIES: u64 = 100;
    const RSS_KIB_MAX: u64 = 512 * 1024;
    let dir = scratch();
    let platform = dir.path().join("district");
    let started = Instant::now();
    district(&platform, LEDGERS, ENTRIES as u32);
    eprintln!("built {LEDGERS} ledgers in {:.0?}", started.elapsed());
    // One ledger of the thousand is damaged: it is refused alone.
    let mut slugs: Vec<String> = std::fs::read_dir(platform.join("ledgers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    slugs.sort();
    let damaged = slugs[slugs.len() / 2].clone();
    damage(&platform, &damaged);
    let server = PlatformServer::start(&platform);
    let http = server.http();
    let refused = http.get(&format!("/c/{damaged}/checkpoint"));
    assert_eq!(refused.status, 503, "{damaged}: {}", refused.text());
    assert!(
        refused.text().contains("ledger_unavailable"),
        "{}",
        refused.text()
    );
    let listed = http.get("/api/v1/ledgers").ok_json();
    let ledgers: Vec<(String, String)> = listed["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| {
            let is_damaged = l["slug"] == damaged.as_str();
            if is_damaged {
                assert_ne!(l["status"], "serving", "{l}");
            }
            !is_damaged
        })
        .map(|l| {
            assert_eq!(l["status"], "serving", "{l}");
            assert_eq!(l["size"], ENTRIES, "{l}");
            (
                l["slug"].as_str().unwrap().to_string(),
                l["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ledgers.len(), LEDGERS as usize - 1, "the other 999 serve");
    eprintln!(
        "RSS after opening: {:?} KiB (peak, now)",
        server.memory_kib()
    );

    // Writes to 50 ledgers at once: every one acknowledged and kept.
    let writers: Vec<_> = ledgers
        .iter()
        .step_by(LEDGERS as usize / 50)
        .take(50)
        .map(|(slug, origin)| {
            let (http, platform) = (http.clone(), platform.clone());
            let (slug, origin) = (slug.clone(), origin.clone());
            std::thread::spawn(move || {
                for n in 0..4 {
                    let request = income(&platform, &slug, &origin, &format!("scale-{n}"), 100 + n);
                    let answer = http
                        .post_json(&format!("/c/{slug}/api/v1/proposals"), &request)
                        .json();
                    assert_eq!(answer["status"], "committed", "{slug}: {answer}");
                }
                slug
            })
        })
        .collect();
    let written: std::collections::BTreeSet<String> =
        writers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!(written.len(), 50);

    // Every other ledger verifies, four at a time; the written ones hold their
    // four entries more, every entry naming its own ledger.
    let queue = std::sync::Mutex::new(ledgers.clone());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some((slug, origin)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let key = log_key(&http, &slug);
                let out = verify(&server.url, &slug, &key);
                out.assert_ok();
                let size = http.get(&format!("/c/{slug}/api/v1/ledger")).ok_json()["size"]
                    .as_u64()
                    .unwrap();
                let wanted = ENTRIES + if written.contains(&slug) { 4 } else { 0 };
                assert_eq!(size, wanted, "{slug}");
                if written.contains(&slug) {
                    let page = http
                        .get(&format!("/c/{slug}/api/v1/entries?from={ENTRIES}&limit=10"))
                        .ok_json();
                    let entries = page["entries"].as_array().unwrap();
                    assert_eq!(entries.len(), 4, "{slug}: {page}");
                    for e in entries {
                        let text = e.to_string();
                        assert!(text.contains(&origin), "{slug}: {text}");
                    }
                }
            });
        }
    });
    let (peak_kib, now_kib) = server.memory_kib();
    eprintln!(
        "{LEDGERS} ledgers verified; server RSS peak {} MiB, now {} MiB; {:.0?} in all",
        peak_kib / 1024,
        now_kib / 1024,
        started.elapsed()
    );
    assert!(
        peak_kib <= RSS_KIB_MAX,
        "peak RSS {peak_kib} KiB is over {RSS_KIB_MAX} KiB"
    );
}

/// Waits until the page's check of the ledger has ended; its state and size.
fn page_check(p: &mut support::cdp::Phone) -> Value {
    p.wait_for(
        "(() => { const el = document.getElementById('ledger-check'); \
           const s = el && el.dataset.state; \
           return (s === 'verified' || s === 'failed') ? {state: s, size: el.dataset.size || null, text: el.innerText} : null; })()",
        "the ledger check to end",
    )
}

/// The page under `/c/SLUG/` verifies its own ledger, and two ledgers of
/// one platform in one browser profile keep their pins apart: pinning
/// one's log key leaves the other unpinned, not "mismatched".
#[test]
fn the_page_under_a_prefix_verifies_and_keeps_each_ledgers_pin() {
    support::chromium::assert_chromium();
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("district");
    district(&platform, 2, 40);
    let server = PlatformServer::start(&platform);
    let mut p = support::page::phone(dir.path(), "resident");

    p.open(&format!("{}/c/xingguang/", server.url));
    let check = page_check(&mut p);
    assert_eq!(check["state"], "verified", "{check}");
    assert_eq!(check["size"], "40", "{check}");
    p.wait_for(
        "document.querySelector('#fingerprint button')",
        "the pin button",
    );
    p.click("#fingerprint button");
    p.wait_for(
        "document.querySelector('#fingerprint .ok-text')",
        "xingguang's key pinned",
    );
    let pins = p.eval(
        "JSON.stringify(Object.keys(localStorage).filter((k) => k.startsWith('feeledger.logkey')))",
    );
    assert_eq!(pins, "[\"feeledger.logkey.v1 /c/xingguang\"]");

    p.open(&format!("{}/c/chenxi/", server.url));
    let check = page_check(&mut p);
    assert_eq!(check["state"], "verified", "{check}");
    let fingerprint = p.wait_for(
        "(() => { const el = document.getElementById('fingerprint'); return el && el.querySelector('button') ? el.innerText : null; })()",
        "chenxi's fingerprint, unpinned",
    );
    assert!(
        !p.eval("!!document.querySelector('#fingerprint .alert')")
            .as_bool()
            .unwrap(),
        "no mismatch on the other ledger: {fingerprint}"
    );
    // Its receipt page, under the prefix, loads its assets and the entry.
    p.open(&format!("{}/c/chenxi/receipt/3", server.url));
    p.wait_for(
        "document.querySelector('#receipt-download')",
        "the receipt under the prefix",
    );
    let href = p.eval("document.querySelector('#receipt-download').getAttribute('href')");
    assert_eq!(href, "/c/chenxi/api/v1/entries/3/receipt");
    // The index lists both, in Chinese first.
    p.open(&format!("{}/", server.url));
    p.wait_for("document.body.dataset.ready", "the index page");
    let text = p
        .eval("document.body.innerText")
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("星光小区") && text.contains("晨曦小区") && text.contains("共 2 个小区"),
        "{text}"
    );
    // The platform's balances are not checked on the index: each card
    // says so, and where they are checked.
    assert_eq!(
        text.matches("以上余额是平台报的数，还没有核对").count(),
        2,
        "{text}"
    );
    let links = p.eval("JSON.stringify([...document.querySelectorAll('a.platform-open')].map((a) => a.getAttribute('href')))");
    assert_eq!(links, "[\"/c/chenxi/\",\"/c/xingguang/\"]");
}

/// The kill test of a platform: a district of four ledgers is
/// written to, one writer per ledger, and the server is SIGKILLed twenty
/// times mid-write. After every restart each acknowledged write is in its
/// own ledger at the seq its answer named, with the nonce it was sent
/// with; at the end every ledger verifies with `verify --url`. Prints the
/// restart-to-serving times (process start to the serving line, which is
/// printed once every ledger's head was checked).
#[test]
fn a_platform_killed_twenty_times_under_writes_loses_no_acknowledged_write() {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    const LEDGERS: u32 = 4;
    const KILLS: u32 = 20;
    // On a disk, not /dev/shm: the kill test is about what reaches the
    // files before the answer.
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("district");
    district(&platform, LEDGERS, 20);
    let mut acknowledged: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let mut ledgers: Vec<(String, String)> = Vec::new();
    let mut restarts = Vec::new();
    let check_kept = |http: &Http, acknowledged: &BTreeMap<String, Vec<(u64, String)>>| {
        for (slug, writes) in acknowledged {
            for (seq, nonce) in writes {
                let entry = http.get(&format!("/c/{slug}/api/v1/entries/{seq}"));
                assert_eq!(
                    entry.status,
                    200,
                    "{slug} lost entry {seq}: {}",
                    entry.text()
                );
                let text = entry.text();
                assert!(
                    text.contains(nonce.as_str()),
                    "{slug} entry {seq} is not the acknowledged write {nonce}: {text}"
                );
            }
        }
    };
    for kill in 0..KILLS {
        let started = Instant::now();
        let mut server = PlatformServer::start(&platform);
        restarts.push(started.elapsed());
        let http = server.http();
        if ledgers.is_empty() {
            let listed = http.get("/api/v1/ledgers").ok_json();
            ledgers = listed["ledgers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["slug"].as_str().unwrap().to_string(),
                        l["origin"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(ledgers.len(), LEDGERS as usize);
        }
        check_kept(&http, &acknowledged);
        let stop = AtomicBool::new(false);
        let written: Vec<(String, Vec<(u64, String)>)> = std::thread::scope(|scope| {
            let writers: Vec<_> = ledgers
                .iter()
                .map(|(slug, origin)| {
                    let (http, platform, stop) = (http.clone(), platform.clone(), &stop);
                    scope.spawn(move || {
                        let mut kept = Vec::new();
                        for n in 0.. {
                            if stop.load(Ordering::SeqCst) {
                                break;
                            }
                            let nonce = format!("kill-{kill}-{slug}-{n}");
                            let request = income(&platform, slug, origin, &nonce, 100 + n);
                            let Ok(answer) = http.try_post(
                                &format!("/c/{slug}/api/v1/proposals"),
                                "application/json",
                                request.to_string(),
                            ) else {
                                break; // the server is gone
                            };
                            let body = answer.json();
                            if body["status"] == "committed" {
                                kept.push((body["seq"].as_u64().unwrap(), nonce));
                            }
                        }
                        (slug.clone(), kept)
                    })
                })
                .collect();
            // Kill at a different point of the writes each round.
            std::thread::sleep(Duration::from_millis(150 + u64::from(kill * 53 % 400)));
            server.child.kill().unwrap();
            server.child.wait().unwrap();
            stop.store(true, Ordering::SeqCst);
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (slug, kept) in written {
            acknowledged.entry(slug).or_default().extend(kept);
        }
    }
    let server = PlatformServer::start(&platform);
    let http = server.http();
    check_kept(&http, &acknowledged);
    let total: usize = acknowledged.values().map(Vec::len).sum();
    assert!(
        acknowledged.len() == LEDGERS as usize && acknowledged.values().all(|w| !w.is_empty()),
        "every ledger had acknowledged writes across the kills: {:?}",
        acknowledged
            .iter()
            .map(|(s, w)| (s, w.len()))
            .collect::<Vec<_>>()
    );
    for (slug, _) in &ledgers {
        verify(&server.url, slug, &log_key(&http, slug)).assert_ok();
    }
    restarts.sort();
    eprintln!(
        "{KILLS} kills, {total} acknowledged writes in {LEDGERS} ledgers, none lost; restart to serving: median {:?}, max {:?}",
        restarts[restarts.len() / 2],
        restarts[restarts.len() - 1]
    );
}

/// The ledgers of a running platform, as (slug, origin).
fn ledgers_of(http: &Http) -> Vec<(String, String)> {
    http.get("/api/v1/ledgers").ok_json()["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["slug"].as_str().unwrap().to_string(),
                l["origin"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// One writer per ledger, each posting incomes until its ledger answers
/// 507 (or, with `until_killed`, until the server is gone); returns each
/// ledger's acknowledged writes as (seq, nonce). Any other refusal fails.
fn write_until_full(
    http: &Http,
    platform: &Path,
    ledgers: &[(String, String)],
    round: &str,
    until_killed: Option<&dyn Fn()>,
) -> Vec<(String, Vec<(u64, String)>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let full = AtomicUsize::new(0);
    let stop_at_full = until_killed.is_none();
    std::thread::scope(|scope| {
        let writers: Vec<_> = ledgers
            .iter()
            .map(|(slug, origin)| {
                let (http, full) = (http.clone(), &full);
                scope.spawn(move || {
                    let mut kept = Vec::new();
                    let mut counted = false;
                    for n in 0..100_000u64 {
                        let nonce = format!("{round}-{slug}-{n}");
                        let request = income(platform, slug, origin, &nonce, 100 + n);
                        let Ok(answer) = http.try_post(
                            &format!("/c/{slug}/api/v1/proposals"),
                            "application/json",
                            request.to_string(),
                        ) else {
                            break; // the server is gone
                        };
                        if answer.status == 507 {
                            let text = answer.text();
                            assert!(text.contains("insufficient_storage"), "{slug}: {text}");
                            if !counted {
                                counted = true;
                                full.fetch_add(1, Ordering::SeqCst);
                            }
                            if stop_at_full {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        }
                        let body = answer.json();
                        assert_eq!(body["status"], "committed", "{slug}: {body}");
                        kept.push((body["seq"].as_u64().unwrap(), nonce));
                    }
                    (slug.clone(), kept)
                })
            })
            .collect();
        if let Some(kill) = until_killed {
            let deadline = Instant::now() + Duration::from_secs(120);
            while full.load(Ordering::SeqCst) == 0 {
                assert!(Instant::now() < deadline, "the disk never filled");
                std::thread::sleep(Duration::from_millis(10));
            }
            // Killed while writers still post against the full disk.
            std::thread::sleep(Duration::from_millis(200));
            kill();
        }
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// Every acknowledged write is in its own ledger, at its seq, with its nonce.
fn assert_kept(http: &Http, written: &[(String, Vec<(u64, String)>)]) {
    for (slug, kept) in written {
        for (seq, nonce) in kept {
            let entry = http.get(&format!("/c/{slug}/api/v1/entries/{seq}"));
            assert_eq!(entry.status, 200, "{slug} lost entry {seq}");
            assert!(
                entry.text().contains(nonce.as_str()),
                "{slug} {seq}: not {nonce}"
            );
        }
    }
}

/// Proves a full disk under a platform is survived by every ledger: its
/// ledgers share one database on one disk, so each one's writes are
/// refused with 507 `insufficient_storage` (none is called damaged, none
/// is refused for another reason), every ledger's reads go on, nothing
/// acknowledged is lost, and writes to every ledger resume once space is
/// freed, without a restart. Then a SIGKILL while writers to every ledger
/// fill the disk again loses no acknowledged write in any ledger, and after
/// a restart every ledger verifies with `verify --url`.
#[test]
fn a_platform_on_a_full_disk_refuses_writes_keeps_reading_resumes_and_survives_a_kill() {
    use support::disk::Tmpfs;
    let disk = Tmpfs::mount(64);
    let platform = disk.mount.join("district");
    district(&platform, 3, 20);
    let filler = disk.mount.join("filler");
    disk.fill_leaving(&filler, feeledger_store::FREE_BYTES_FLOOR + 3 * 1024 * 1024);
    let mut server = PlatformServer::start(&platform);
    let http = server.http();
    let ledgers = ledgers_of(&http);
    assert_eq!(ledgers.len(), 3);

    let mut acknowledged = write_until_full(&http, &platform, &ledgers, "fill", None);
    for (slug, kept) in &acknowledged {
        assert!(
            !kept.is_empty(),
            "{slug}: some writes fit before the disk filled"
        );
        assert_eq!(
            http.get(&format!("/c/{slug}/checkpoint")).status,
            200,
            "{slug} reads"
        );
    }
    assert_kept(&http, &acknowledged);
    // Space comes back: every ledger's next write commits.
    std::fs::remove_file(&filler).unwrap();
    for (slug, origin) in &ledgers {
        let nonce = format!("after-{slug}");
        let answer = http.post_json(
            &format!("/c/{slug}/api/v1/proposals"),
            &income(&platform, slug, origin, &nonce, 7),
        );
        assert_eq!(answer.status, 201, "{slug} resumes: {}", answer.text());
        let seq = answer.json()["seq"].as_u64().unwrap();
        let kept = &mut acknowledged.iter_mut().find(|(s, _)| s == slug).unwrap().1;
        assert_eq!(seq, kept.last().unwrap().0 + 1, "{slug}: no seq lost");
        kept.push((seq, nonce));
    }

    // Full again, and killed while every ledger's writer still posts.
    disk.fill_leaving(&filler, feeledger_store::FREE_BYTES_FLOOR + 2 * 1024 * 1024);
    let killed = {
        let child = std::sync::Mutex::new(&mut server.child);
        let kill = || {
            let mut child = child.lock().unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
        };
        write_until_full(&http, &platform, &ledgers, "kill", Some(&kill))
    };
    drop(server);
    assert!(
        killed.iter().any(|(_, kept)| !kept.is_empty()),
        "writes were acknowledged before the kill"
    );
    std::fs::remove_file(&filler).unwrap();
    let server = PlatformServer::start(&platform);
    let http = server.http();
    assert_kept(&http, &acknowledged);
    assert_kept(&http, &killed);
    for (slug, _) in &ledgers {
        verify(&server.url, slug, &log_key(&http, slug)).assert_ok();
    }
    let log = std::fs::read_to_string(platform.with_extension("serve.log")).unwrap();
    assert!(
        !log.contains("damaged"),
        "no ledger was called damaged:\n{log}"
    );
}

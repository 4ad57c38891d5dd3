//! The mirror to S3-compatible object storage (`serve --mirror
//! s3://BUCKET/PREFIX`, crates/mirror) against a real S3 server: `s3s-fs`
//! (crates.io, `cargo install s3s-fs --version 0.14.1 --locked --features
//! binary`), started by the test on a free loopback port over a temporary
//! directory, no mock. Readers reach the bucket by plain anonymous HTTP
//! GETs, path-style (`http://127.0.0.1:PORT/BUCKET/PREFIX/checkpoint`),
//! with no feeledger server in the path: `verify --url`, the tile reader
//! an outside C2SP client uses, and `restore --from s3://`.
//!
//! s3s-fs runs without authentication (it then takes anonymous requests,
//! and refuses signed ones), so the server writes with
//! `AWS_SKIP_SIGNATURE=true`; against a real bucket the same client signs
//! with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`.

mod support;

use feeledger_audit::tiles::{TileReader, TileSource};
use feeledger_audit::Server as Reader;
use feeledger_core::note::{open_checkpoint, VerifierKey};
use feeledger_core::tiles::TileEdge;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::demo::{Demo, DEMO_ENTRIES};
use support::s3::{
    bucket_size, find_s3s_fs, serve_mirrored, wait_for_bucket, write_incomes, BUCKET, PREFIX, S3,
};
use support::verify::{assert_verified, verify_command};

/// `verify --url` against the server, which must pass; its report.
#[track_caller]
fn verify_passes(url: &str, log_key: &str, entries: u64) -> Value {
    assert_verified(verify_command(url, log_key, None), entries)
}

/// A plain GET of an object in the bucket: (status, Cache-Control, Content-Type).
fn headers_of(url: &str) -> (u16, String, String) {
    let r = reqwest::blocking::get(url).unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    (
        r.status().as_u16(),
        header("cache-control"),
        header("content-type"),
    )
}

/// Proves that a mirrored demo ledger is readable from the bucket alone:
/// the server's catch-up from an empty bucket and its mirroring of later
/// writes give a bucket that `verify --url` (plain anonymous HTTP, no
/// feeledger server) passes with the same root as the server; its tiles
/// read through the C2SP tile reader with that root; immutable and
/// checkpoint objects carry their headers; and `restore --from s3://`
/// rebuilds a data directory that verifies with the same root.
#[test]
fn a_mirrored_ledger_verifies_and_restores_from_the_bucket_alone() {
    let demo = Demo::new();
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let server = serve_mirrored(&demo.data, &s3);
    let http = server.http();
    // The demo's 3,669 entries, from an empty bucket.
    let caught_up = wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(60));
    println!("catch-up of {DEMO_ENTRIES} entries from an empty bucket: {caught_up:?}");
    // 300 more, across a tile boundary (3,669 + 300 passes 3,840).
    write_incomes(&http, &demo, 0, 300);
    let size = DEMO_ENTRIES + 300;
    wait_for_bucket(&s3, &log_key, size, Duration::from_secs(30));

    let from_server = verify_passes(&server.url, &demo.log_key, size);
    let out = verify_command(&s3.public_url(), &demo.log_key, None);
    assert!(
        out.stderr.contains("a static mirror"),
        "verify says it audits the bucket as a static mirror: {out:#?}"
    );
    let from_bucket = assert_verified(out, size);
    assert_eq!(from_bucket["root"], from_server["root"], "the same root");
    assert_eq!(
        from_bucket["checkpoint"], from_server["checkpoint"],
        "the same checkpoint"
    );

    // An outside C2SP client's reading: every bundle and hash tile from the
    // bucket's plain HTTP, hashed up to the checkpoint's root.
    let reader = Reader::new(&s3.public_url()).unwrap();
    let checkpoint_bytes = reader.get_bytes("/checkpoint").unwrap();
    let (checkpoint, _, _) = open_checkpoint(&checkpoint_bytes, &log_key, &[]).unwrap();
    let mut tiles = TileReader::new(TileSource::Http(&reader), checkpoint.size);
    for index in 0..TileReader::bundles(checkpoint.size) {
        tiles.bundle(index).unwrap();
    }
    assert_eq!(tiles.root(), checkpoint.root);
    assert_eq!(
        from_server["root"].as_str().unwrap(),
        checkpoint.root.to_string()
    );

    // Headers: immutable tiles (full and partial), a no-cache checkpoint.
    let base = s3.public_url();
    for (path, cache, content_type) in [
        (
            "tile/0/000",
            "public, max-age=31536000, immutable",
            "application/octet-stream",
        ),
        (
            "tile/entries/015.p/129",
            "public, max-age=31536000, immutable",
            "application/octet-stream",
        ),
        (
            "tile/1/000.p/15",
            "public, max-age=31536000, immutable",
            "application/octet-stream",
        ),
        ("checkpoint", "no-cache", "text/plain; charset=utf-8"),
    ] {
        let (status, got_cache, got_type) = headers_of(&format!("{base}/{path}"));
        assert_eq!(status, 200, "{path}");
        assert_eq!(got_cache, cache, "{path}");
        assert_eq!(got_type, content_type, "{path}");
    }

    // restore --from s3://: a new data directory from the bucket alone.
    let restored = demo.path("restored");
    let mut command = support::command();
    s3.env(&mut command);
    let out = command
        .arg("restore")
        .arg("--from")
        .arg(S3::mirror_url())
        .arg("--data")
        .arg(&restored)
        .arg("--log-key")
        .arg(demo.data.join("log.key"))
        .output()
        .unwrap();
    let out = support::Output::from_std(vec!["restore".into()], out);
    out.assert_ok();
    assert!(
        out.stdout.contains(&format!(
            "restored {size} entries from s3://{BUCKET}/{PREFIX}"
        )),
        "{out:#?}"
    );
    let report = support::run([
        "verify",
        "--data",
        restored.to_str().unwrap(),
        "--log-key",
        &demo.log_key,
        "--json",
    ]);
    let report = assert_verified(report, size);
    assert_eq!(report["root"], from_server["root"], "the restored root");
    drop(server);
}

/// Proves that with the S3 server stopped during writes, every write is
/// still acknowledged, the mirror catches up once the S3 server is back,
/// and a poller reading the bucket throughout never saw a checkpoint object
/// ahead of its tiles: at every poll that found a checkpoint, every entry
/// bundle and hash tile its size needs was there, and hashed to its root.
#[test]
fn the_mirror_catches_up_after_an_outage_and_never_runs_ahead_of_its_tiles() {
    let demo = Demo::new();
    let mut s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let server = serve_mirrored(&demo.data, &s3);
    let http = server.http();
    wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(60));

    // The poller: checkpoint, then every tile it needs, as often as it can.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let poller = {
        let (stop, seen, url, log_key) =
            (stop.clone(), seen.clone(), s3.public_url(), log_key.clone());
        std::thread::spawn(move || {
            let reader = Reader::new(&url).unwrap();
            let mut unreachable = 0u64;
            let mut found = 0;
            while !stop.load(Ordering::Relaxed) {
                match poll_once(&reader, &log_key, &mut found) {
                    Ok(Some(size)) => seen.lock().unwrap().push(size),
                    Ok(None) => unreachable += 1,
                    Err(violation) => panic!("{violation}"),
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            unreachable
        })
    };

    write_incomes(&http, &demo, 0, 40);
    let size = DEMO_ENTRIES + 40;
    wait_for_bucket(&s3, &log_key, size, Duration::from_secs(30));

    // The outage: every write is acknowledged all the same.
    s3.kill();
    write_incomes(&http, &demo, 40, 300);
    let size = size + 300;
    let server_size = http.get("/api/v1/ledger").ok_json()["size"].as_u64();
    assert_eq!(server_size, Some(size), "the server recorded every write");
    // Long enough for passes to fail and back off.
    std::thread::sleep(Duration::from_secs(2));
    s3.resume();
    let lag = wait_for_bucket(&s3, &log_key, size, Duration::from_secs(30));
    println!("caught up {lag:?} after the S3 server came back");
    // More writes, polled as they are mirrored, until the poller has
    // checked at least five checkpoints (a poll reads every tile the
    // checkpoint needs, which on a loaded machine takes a while).
    let mut next = 340;
    let polling_until = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        write_incomes(&http, &demo, next, 10);
        next += 10;
        let enough = seen.lock().unwrap().len() >= 5;
        if enough || std::time::Instant::now() > polling_until {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let size = size + (next - 340) as u64;
    wait_for_bucket(&s3, &log_key, size, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let unreachable = poller
        .join()
        .expect("no poll found a checkpoint ahead of its tiles");

    let seen = seen.lock().unwrap();
    println!(
        "{} polls found a checkpoint, {unreachable} found the bucket down",
        seen.len()
    );
    assert!(seen.len() >= 5, "the poller polled: {}", seen.len());
    assert!(unreachable > 0, "some polls found the bucket down");
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the checkpoint never went back"
    );
    assert_eq!(seen.last(), Some(&size));
    assert!(
        seen.contains(&(DEMO_ENTRIES + 40)),
        "a poll saw the size before the outage"
    );

    let log = std::fs::read_to_string(demo.data.with_extension("serve.log")).unwrap();
    assert!(
        log.contains("the mirror is behind"),
        "the outage is logged: {log}"
    );
    assert!(
        log.contains("the mirror caught up"),
        "the catch-up is logged: {log}"
    );
    let from_bucket = assert_verified(verify_command(&s3.public_url(), &demo.log_key, None), size);
    let from_server = verify_passes(&server.url, &demo.log_key, size);
    assert_eq!(from_bucket["root"], from_server["root"]);
}

/// One poll: the bucket's checkpoint, then every bundle and hash tile its
/// size needs that an earlier poll did not already find (`found`: the
/// size whose tiles were all found; tiles are immutable and never
/// deleted, so those stay). `Ok(None)` if the bucket did not answer (down);
/// `Err` if a checkpoint was there without its tiles. The root of all the
/// tiles is checked at the end of the test, with `verify --url`.
fn poll_once(
    reader: &Reader,
    log_key: &VerifierKey,
    found: &mut u64,
) -> Result<Option<u64>, String> {
    let bytes = match reader.get_optional_bytes("/checkpoint") {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err("the checkpoint object is gone".into()),
        Err(_) => return Ok(None),
    };
    let (checkpoint, _, _) = open_checkpoint(&bytes, log_key, &[])
        .map_err(|e| format!("the bucket's checkpoint does not verify: {e}"))?;
    if checkpoint.size < *found {
        return Err(format!(
            "the checkpoint went back from size {found} to {}",
            checkpoint.size
        ));
    }
    for path in TileEdge::paths_between(*found, checkpoint.size).unwrap() {
        match reader.get_optional_bytes(&format!("/{}", path.rel_path())) {
            Ok(Some(_)) => {}
            // The S3 server went down during the poll: nothing seen.
            Err(_) => return Ok(None),
            Ok(None) => {
                return Err(format!(
                    "the checkpoint of size {} is ahead of its tiles: {} is missing",
                    checkpoint.size,
                    path.rel_path()
                ))
            }
        }
    }
    *found = checkpoint.size;
    Ok(Some(checkpoint.size))
}

/// Proves that tiles and bundles are created, never overwritten, against
/// s3s-fs (which answers a PUT with `If-None-Match: *` over an existing
/// object with 412): a different object planted at a tile's path stops
/// the mirror, the server logs the path and goes on serving, and the
/// planted object and the absent checkpoint stay as they were; with it
/// gone the mirror completes; and a re-run over the complete bucket whose
/// checkpoint is missing (a pass cut short before its checkpoint) finds
/// every tile already there with the same bytes, writes the checkpoint and
/// gives a bucket that verifies.
#[test]
fn the_mirror_never_overwrites_a_tile_and_finishes_over_its_own() {
    let demo = Demo::new();
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let client = reqwest::blocking::Client::new();
    let planted_url = format!("{}/tile/0/000", s3.public_url());
    let planted = b"not this log's tile".to_vec();
    let r = client
        .put(&planted_url)
        .body(planted.clone())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "planting: {}", r.status());

    let server = serve_mirrored(&demo.data, &s3);
    let log_path = demo.data.with_extension("serve.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("the mirror stopped") {
            break log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the mirror did not stop within 60 s: {log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        log.contains(&format!(
            "s3://{BUCKET}/{PREFIX}/tile/0/000: the bucket already holds a different hash tile"
        )) && log.contains("another log writes to this prefix?"),
        "the log names the path: {log}"
    );
    let held = client.get(&planted_url).send().unwrap();
    assert_eq!(held.bytes().unwrap().as_ref(), planted, "not overwritten");
    let checkpoint = client
        .get(format!("{}/checkpoint", s3.public_url()))
        .send()
        .unwrap();
    assert_eq!(
        checkpoint.status(),
        404,
        "no checkpoint over a refused tile"
    );
    let ledger = server.http().get("/api/v1/ledger").ok_json();
    assert_eq!(ledger["size"], DEMO_ENTRIES, "the server goes on serving");
    server.stop();

    // Without the planted object the mirror completes.
    let r = client.delete(&planted_url).send().unwrap();
    assert!(r.status().is_success(), "deleting: {}", r.status());
    let server = serve_mirrored(&demo.data, &s3);
    wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(60));
    server.stop();

    // A pass that wrote every tile but not its checkpoint, done again.
    let r = client
        .delete(format!("{}/checkpoint", s3.public_url()))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "deleting: {}", r.status());
    let server = serve_mirrored(&demo.data, &s3);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while bucket_size(&s3, &log_key) != Some(DEMO_ENTRIES) {
        assert!(
            std::time::Instant::now() < deadline,
            "the mirror did not finish over its own tiles within 60 s: {}",
            std::fs::read_to_string(&log_path).unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(
        log.matches("the mirror stopped").count(),
        1,
        "only the planted tile stopped the mirror: {log}"
    );
    // (A pass may still fail once and be retried, "the mirror is behind":
    // s3s-fs answers 412 before reading the PUT's body and may close the
    // connection while the body is being sent, an EPIPE.)
    let from_bucket = assert_verified(
        verify_command(&s3.public_url(), &demo.log_key, None),
        DEMO_ENTRIES,
    );
    let from_server = verify_passes(&server.url, &demo.log_key, DEMO_ENTRIES);
    assert_eq!(from_bucket["root"], from_server["root"]);
}

/// A TCP proxy on a free loopback port in front of `upstream`
/// (`127.0.0.1:PORT`) that passes every byte both ways and keeps a copy of
/// what clients sent, one buffer per connection: what the server asked
/// the real S3 server, as it went on the wire.
struct Recorder {
    addr: String,
    sent: Connections,
}

/// What clients sent, a buffer per connection, filled as they send.
type Connections = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

impl Recorder {
    fn start(upstream: String) -> Recorder {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sent: Connections = Arc::default();
        let connections = sent.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let Ok(mut server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                let copy = Arc::new(Mutex::new(Vec::new()));
                connections.lock().unwrap().push(copy.clone());
                let (mut client_read, mut server_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n) = client_read.read(&mut buffer) {
                        if n == 0 || server_write.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                        copy.lock().unwrap().extend_from_slice(&buffer[..n]);
                    }
                    let _ = server_write.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server, &mut client);
                    let _ = client.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Recorder { addr, sent }
    }

    /// Every request's head sent so far (request line and headers, header
    /// names lower-cased), bodies skipped by their `Content-Length`.
    fn heads(&self) -> Vec<(String, Vec<(String, String)>)> {
        let mut heads = Vec::new();
        for connection in self.sent.lock().unwrap().iter() {
            let bytes = connection.lock().unwrap().clone();
            let mut at = 0;
            while let Some(end) = bytes[at..].windows(4).position(|w| w == b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&bytes[at..at + end]).to_string();
                let mut lines = text.split("\r\n");
                let request_line = lines.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let body: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                at += end + 4 + body;
                heads.push((request_line, headers));
            }
        }
        heads
    }
}

/// Proves that `--mirror s3://BUCKET/PREFIX?forbid_overwrite=oss` sends
/// Aliyun OSS's own header, `x-oss-forbid-overwrite: true`, with every
/// tile and bundle PUT (beside `If-None-Match: *`), and not with the
/// checkpoint's, which is overwritten at every commit: the requests are
/// read on the wire, through a recording proxy in front of the real S3
/// server (which ignores the header). An option it does not know is
/// refused, naming the ones it knows.
#[test]
fn forbid_overwrite_oss_sends_alibabas_header_with_every_tile() {
    let demo = Demo::new();
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let recorder = Recorder::start(s3.endpoint().trim_start_matches("http://").to_string());
    let server = support::http::Server::start_with(&demo.data, |command| {
        command
            .arg("--mirror")
            .arg(format!("{}?forbid_overwrite=oss", S3::mirror_url()));
        s3.env(command);
        command.env("AWS_ENDPOINT_URL", format!("http://{}", recorder.addr));
    });
    wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(60));
    write_incomes(&server.http(), &demo, 0, 3);
    wait_for_bucket(&s3, &log_key, DEMO_ENTRIES + 3, Duration::from_secs(30));
    server.stop();

    let heads = recorder.heads();
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let puts = |what: &str| {
        heads
            .iter()
            .filter(|(line, _)| line.starts_with(&format!("PUT /{BUCKET}/{PREFIX}/{what}")))
            .collect::<Vec<_>>()
    };
    let tiles = puts("tile/");
    // The demo's 3,669 entries: 15 bundles and 15 level-0 tiles, level 1,
    // and the partial ones of the second size.
    assert!(tiles.len() >= 33, "{} tile PUTs: {heads:#?}", tiles.len());
    for (line, headers) in &tiles {
        assert_eq!(
            header(headers, "x-oss-forbid-overwrite").as_deref(),
            Some("true"),
            "{line}"
        );
        assert_eq!(
            header(headers, "if-none-match").as_deref(),
            Some("*"),
            "{line}"
        );
    }
    let checkpoints = puts("checkpoint");
    // The demo's, and one or more as the three incomes commit.
    assert!(checkpoints.len() >= 2, "{heads:#?}");
    for (line, headers) in checkpoints.iter().chain(puts("log.vkey").iter()) {
        assert_eq!(header(headers, "x-oss-forbid-overwrite"), None, "{line}");
        assert_eq!(header(headers, "if-none-match"), None, "{line}");
    }

    let out = support::run([
        "serve",
        "--data",
        demo.data.to_str().unwrap(),
        "--mirror",
        &format!("{}?forbid_overwrite=s3", S3::mirror_url()),
    ]);
    out.assert_one_line_error(&[
        "is not a bucket URL",
        "the only option after ? is forbid_overwrite=oss or forbid_overwrite=cos",
    ]);
}

/// How to get Go and the x/mod packages the outside client is built
/// against, when they are missing.
const GO_INSTALL: &str = "apt-get install golang-go golang-golang-x-mod-dev (.ci/run does it)";
/// Where Debian's golang-golang-x-mod-dev puts the packages (a GOPATH).
const GO_PATH: &str = "/usr/share/gocode";

/// `go` on `path` (a `PATH` value), with the x/mod packages under
/// `gopath`; a test that needs them and does not find them fails, saying
/// how to install them; it never skips.
fn find_go(path: Option<&std::ffi::OsStr>, gopath: &Path) -> PathBuf {
    let go = path
        .into_iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("go"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("go, which builds the outside C2SP client, is not installed: {GO_INSTALL}")
        });
    let sumdb = gopath.join("src/golang.org/x/mod/sumdb");
    assert!(
        sumdb.join("tlog").is_dir() && sumdb.join("note").is_dir(),
        "golang.org/x/mod/sumdb is not under {}: {GO_INSTALL}",
        gopath.display()
    );
    go
}

/// Builds crates/cli/tests/go/tlogclient.go offline into `dir`.
fn build_tlogclient(dir: &Path) -> PathBuf {
    let go = find_go(std::env::var_os("PATH").as_deref(), Path::new(GO_PATH));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/tlogclient.go");
    let binary = dir.join("tlogclient");
    let out = std::process::Command::new(go)
        .args(["build", "-o"])
        .arg(&binary)
        .arg(&source)
        .env("GOPATH", GO_PATH)
        .env("GO111MODULE", "off")
        // A GOFLAGS of the caller's (-mod=vendor) has no meaning here.
        .env_remove("GOFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build {}: {}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    binary
}

/// Runs the Go client against `base` with the log key; (ok, stdout, stderr).
fn tlogclient(binary: &Path, log_key: &str, base: &str) -> (bool, String, String) {
    let out = std::process::Command::new(binary)
        .args([log_key, base])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Proves that an outside C2SP client, written in Go against
/// `golang.org/x/mod/sumdb/note` and `tlog` rather than feeledger's code,
/// reads the mirrored ledger from the bucket's plain HTTP and from the
/// server alike: the checkpoint verifies with the log key, every hash
/// tile checks against it through `tlog.TileHashReader`, and every leaf of
/// every entry bundle is proven in the tree; it prints the size and root
/// of the server's checkpoint. A bundle changed in the bucket by hand is
/// caught, naming the leaf.
#[test]
fn an_outside_go_client_verifies_the_bucket_and_the_server() {
    let demo = Demo::new();
    let client = build_tlogclient(demo.dir.path());
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let server = serve_mirrored(&demo.data, &s3);
    write_incomes(&server.http(), &demo, 0, 5);
    let size = DEMO_ENTRIES + 5;
    wait_for_bucket(&s3, &log_key, size, Duration::from_secs(60));
    let checkpoint = String::from_utf8(server.http().checkpoint()).unwrap();
    let lines: Vec<&str> = checkpoint.lines().collect();
    assert_eq!(lines[1], size.to_string());
    let expected = format!(
        "size {}\nroot {}\nleaves {size} checked\n",
        lines[1], lines[2]
    );
    for base in [s3.public_url(), server.url.clone()] {
        let (ok, stdout, stderr) = tlogclient(&client, &demo.log_key, &base);
        assert!(ok, "{base}: {stderr}");
        assert_eq!(stdout, expected, "{base}");
    }

    // One byte of the first leaf changed in the bucket, by hand.
    let bundle_url = format!("{}/tile/entries/000", s3.public_url());
    let http = reqwest::blocking::Client::new();
    let mut bundle = http
        .get(&bundle_url)
        .send()
        .unwrap()
        .bytes()
        .unwrap()
        .to_vec();
    bundle[10] ^= 1;
    let r = http.put(&bundle_url).body(bundle).send().unwrap();
    assert!(r.status().is_success(), "tampering: {}", r.status());
    let (ok, stdout, stderr) = tlogclient(&client, &demo.log_key, &s3.public_url());
    assert!(!ok, "a changed leaf is caught: {stdout}");
    assert!(
        stderr.contains("leaf 0 of tile/entries/000 is not in the tree"),
        "{stderr}"
    );
}

/// Proves that a missing Go, or missing x/mod packages, fail the test with
/// how to install them, never a skip.
#[test]
fn a_missing_go_fails_with_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let path = std::env::join_paths([empty.path()]).unwrap();
    let real_path = std::env::var_os("PATH");
    for (path, gopath) in [
        (Some(path.as_os_str()), Path::new(GO_PATH)),
        (real_path.as_deref(), empty.path()),
    ] {
        let panic = std::panic::catch_unwind(|| find_go(path, gopath))
            .expect_err("no go or no x/mod in an empty directory");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("apt-get install golang-go golang-golang-x-mod-dev"),
            "{message}"
        );
    }
}

/// Proves that a missing s3s-fs fails the test with how to install it,
/// never a skip.
#[test]
fn a_missing_s3_server_fails_with_how_to_install_it() {
    let empty = tempfile::tempdir().unwrap();
    let path = std::env::join_paths([empty.path()]).unwrap();
    let panic = std::panic::catch_unwind(|| find_s3s_fs(Some(&path), Some(empty.path().into())))
        .expect_err("no s3s-fs is found in an empty directory");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("s3s-fs"), "{message}");
    assert!(
        message.contains("cargo install s3s-fs --version 0.14.1 --locked --features binary"),
        "{message}"
    );
    // And where it is installed, it is found.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s3s-fs"), b"").unwrap();
    assert_eq!(
        find_s3s_fs(None, Some(dir.path().into())),
        dir.path().join("s3s-fs")
    );
}

/// Proves a district platform mirrors every ledger under its own prefix
/// (`PREFIX/c/SLUG`): each ledger's bucket catches up to the server's
/// checkpoint, `verify --url` on each one's plain HTTP passes with that
/// ledger's log key, and `restore --from s3://…/c/SLUG` gives a ledger that
/// verifies with the same root.
#[test]
fn a_mirrored_platform_verifies_every_ledger_from_the_bucket_and_restores_one() {
    use support::platform::{district, PlatformServer};
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("district");
    district(&platform, 3, 30);
    let s3 = S3::start(&dir.path().join("s3"));
    let prefix = "district";
    let server = PlatformServer::start_configured(&platform, |command| {
        command
            .arg("--mirror")
            .arg(format!("s3://{BUCKET}/{prefix}"));
        s3.env(command);
    });
    let http = server.http();
    let listed = http.get("/api/v1/ledgers").ok_json();
    let slugs: Vec<String> = listed["ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(slugs.len(), 3);
    let head = |note: &str| note.lines().take(3).collect::<Vec<_>>().join("\n");
    let mut roots = Vec::new();
    for slug in &slugs {
        let served = String::from_utf8(http.get(&format!("/c/{slug}/checkpoint")).body).unwrap();
        let public = format!("{}/{BUCKET}/{prefix}/c/{slug}", s3.endpoint());
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let mirrored = reqwest::blocking::get(format!("{public}/checkpoint"))
                .ok()
                .filter(|r| r.status().is_success())
                .and_then(|r| r.text().ok());
            if mirrored.as_deref().map(head) == Some(head(&served)) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{slug}'s bucket did not catch up: {mirrored:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let size: u64 = served.lines().nth(1).unwrap().parse().unwrap();
        let log_key = http.get(&format!("/c/{slug}/api/v1/ledger")).ok_json()["log_key"]
            .as_str()
            .unwrap()
            .to_string();
        let report = assert_verified(verify_command(&public, &log_key, None), size);
        roots.push((slug.clone(), log_key, report["root"].clone(), size));
    }
    let distinct: std::collections::BTreeSet<_> = roots.iter().map(|r| r.2.to_string()).collect();
    assert_eq!(distinct.len(), 3, "three ledgers, three roots: {roots:?}");

    let (slug, log_key, root, size) = &roots[1];
    let restored = dir.path().join("restored");
    let mut command = support::command();
    s3.env(&mut command);
    let out = command
        .arg("restore")
        .arg("--from")
        .arg(format!("s3://{BUCKET}/{prefix}/c/{slug}"))
        .arg("--data")
        .arg(&restored)
        .arg("--log-key")
        .arg(platform.join(format!("ledgers/{slug}/log.key")))
        .output()
        .unwrap();
    support::Output::from_std(vec!["restore".into()], out).assert_ok();
    let report = support::run([
        "verify",
        "--data",
        restored.to_str().unwrap(),
        "--log-key",
        log_key,
        "--json",
    ]);
    let report = assert_verified(report, *size);
    assert_eq!(&report["root"], root, "{slug}'s restored root");
}

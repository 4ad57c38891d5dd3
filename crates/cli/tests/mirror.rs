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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::demo::{Demo, DEMO_ENTRIES};
use support::s3::{
    find_s3s_fs, serve_mirrored, wait_for_bucket, write_incomes, BUCKET, PREFIX, S3,
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

//! `feeledger serve`: one ledger over HTTP.

use anyhow::{Context, Result};
use feeledger_ledgerdir::{DataDir, PlatformDir};
use feeledger_server::Ledger;
use std::path::{Path, PathBuf};

/// Loopback by default: exposing a ledger is a decision, not an accident.
pub const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Serves `data` on `listen` until SIGINT or SIGTERM. Opening checks the
/// store's head, and serving starts then; with `check`, the whole store is
/// audited (as `verify --data` does) in the background meanwhile, writes
/// wait for it, and a damaged store stops being served (the server's
/// `status` module; docs/reliability.md).
pub fn run(data: &DataDir, listen: &str, check: bool, mirror: Option<&str>) -> Result<()> {
    // A bad --mirror URL is refused before the store is opened.
    let mirror = mirror.map(feeledger_mirror::Bucket::from_url).transpose()?;
    // The store is opened before the log key is read: a directory with no
    // ledger is told so (as every command tells it), not that its log key
    // is missing.
    let store = data.open()?;
    serve_store_with(store, data.log_key()?, listen, check, mirror)
}

/// Refuses a store the audit finds damaged, naming what and where.
pub fn check_store(store: &feeledger_store::Store) -> Result<()> {
    let mut audit = feeledger_audit::Audit::new(None, Vec::new());
    let mut bar = crate::audit::Bar::styled();
    let result = feeledger_audit::audit_store(store, &mut audit, None, &mut |p| bar.update(p));
    bar.finish();
    if let Err(f) = result {
        let at = f
            .seq
            .map(|seq| format!(" at entry {seq}"))
            .unwrap_or_default();
        anyhow::bail!(
            "the store is damaged{at}: {}; not serving it (see `feeledger rebuild`, or `feeledger restore` from a backup)",
            f.cause
        );
    }
    Ok(())
}

pub fn serve_store(
    store: feeledger_store::Store,
    log_key: feeledger_ledgerdir::KeyFile,
    listen: &str,
) -> Result<()> {
    serve_store_with(store, log_key, listen, false, None)
}

/// As [`serve_store`]; with `audit`, the full audit runs in the background
/// while the ledger is served, and with `mirror` the log is mirrored to
/// that bucket prefix (`feeledger-mirror`) after every commit, catching up
/// first from what the bucket holds.
pub fn serve_store_with(
    store: feeledger_store::Store,
    log_key: feeledger_ledgerdir::KeyFile,
    listen: &str,
    audit: bool,
    mirror: Option<feeledger_mirror::Bucket>,
) -> Result<()> {
    init_logging();
    let origin = store.state().origin().to_string();
    let ledger = Ledger::new(store, log_key.signer).context("starting the writer thread")?;
    let runtime = feeledger_server::runtime().context("starting the async runtime")?;
    if audit {
        feeledger_server::status::start_audit(&ledger).context("starting the background audit")?;
    }
    let served = runtime.block_on(async move {
        if let Some(bucket) = mirror {
            tracing::info!(mirror = %bucket.url(), "mirroring the log's tiles and checkpoint");
            let committed = ledger.committed();
            tokio::spawn(
                feeledger_mirror::Mirror::new(ledger.clone(), bucket)
                    .with_page(page_files())
                    .run(committed),
            );
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        // Tests and scripts read this line to find the port.
        println!("serving {origin} on http://{address}/");
        tracing::info!(%address, %origin, "serving");
        feeledger_server::serve(listener, ledger, feeledger_server::shutdown_signal())
            .await
            .context("stopping the server")?;
        anyhow::Ok(())
    });
    // A final flush that stalled (a full disk) left a blocking task behind;
    // the process exits anyway. Every acknowledged write was flushed before
    // it was acknowledged.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// Where `init --platform DIR --slug SLUG` makes the new ledger: its
/// directory in the platform, once the slug is checked and `ledgers/`
/// exists.
pub fn platform_ledger_dir(platform: &Path, slug: &str) -> Result<PathBuf> {
    feeledger_ledgerdir::check_slug(slug)?;
    let dir = PlatformDir::new(platform);
    dir.create()?;
    Ok(dir.ledger_dir(slug).root)
}

/// Serves every ledger of the platform directory `platform` on `listen`
/// until SIGINT or SIGTERM, each under `/c/SLUG/`; ledgers added with
/// `init --platform` or retired with `retire` while it runs are taken in
/// within a second. Each ledger's head is checked as it opens; one that
/// fails is refused alone (503) and the others serve. With `check`, each
/// ledger's full audit then runs in the background, one ledger at a time,
/// as `serve --data` runs its one.
pub fn run_platform(
    platform: &Path,
    listen: &str,
    check: bool,
    mirror: Option<&str>,
) -> Result<()> {
    let mirror = mirror.map(feeledger_mirror::Bucket::from_url).transpose()?;
    init_logging();
    let runtime = feeledger_server::runtime().context("starting the async runtime")?;
    let opened = feeledger_server::platform::Platform::open_with(platform, check)?;
    let serving = opened.serving().len();
    runtime.block_on(async move {
        if let Some(bucket) = mirror {
            tracing::info!(mirror = %bucket.url(), "mirroring every ledger's tiles and checkpoint, each under c/SLUG");
            tokio::spawn(mirror_platform(opened.clone(), bucket));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        // Tests and scripts read this line to find the port.
        println!(
            "serving the platform {} ({serving} ledgers) on http://{address}/",
            platform.display()
        );
        tracing::info!(%address, serving, "serving the platform");
        feeledger_server::platform::serve(listener, opened, feeledger_server::shutdown_signal())
            .await?;
        anyhow::Ok(())
    })?;
    Ok(())
}

/// Mirrors each ledger of `platform` under `bucket`'s `c/SLUG` prefix
/// (`feeledger_mirror::Bucket::ledger`), looking for ledgers added while
/// it runs as often as the platform does.
async fn mirror_platform(
    platform: std::sync::Arc<feeledger_server::platform::Platform>,
    bucket: feeledger_mirror::Bucket,
) {
    let mut mirrored = std::collections::BTreeSet::new();
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        every.tick().await;
        for slug in platform.serving() {
            if mirrored.contains(&slug) {
                continue;
            }
            if let Some(ledger) = platform.ledger(&slug) {
                let committed = ledger.committed();
                let mirror = feeledger_mirror::Mirror::new(ledger, bucket.ledger(&slug))
                    .with_page(page_files());
                tokio::spawn(mirror.run(committed));
                mirrored.insert(slug);
            }
        }
    }
}

/// The residents' page as the server serves it, for the mirror to upload
/// beside the log (one list of files, `feeledger_server::page_files`).
fn page_files() -> Vec<feeledger_mirror::PageFile> {
    feeledger_server::page_files()
        .map(|(path, content_type, body)| feeledger_mirror::PageFile {
            path,
            content_type,
            body,
        })
        .collect()
}

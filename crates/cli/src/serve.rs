//! `feeledger serve`: one ledger over HTTP.

use anyhow::{Context, Result};
use feeledger_ledgerdir::DataDir;
use feeledger_server::Ledger;

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

/// Serves `data` on `listen` until SIGINT or SIGTERM. With `check`, the
/// whole store is audited first (as `verify --data` does), and a damaged
/// one is not served: opening checks only the head.
pub fn run(data: &DataDir, listen: &str, check: bool, mirror: Option<&str>) -> Result<()> {
    // A bad --mirror URL is refused before the audit, which can take minutes.
    let mirror = mirror.map(feeledger_mirror::Bucket::from_url).transpose()?;
    // The store is opened before the log key is read: a directory with no
    // ledger is told so (as every command tells it), not that its log key
    // is missing. The key is read before the audit, which can take minutes.
    if check {
        // The audit reads the store once through, with a scan's small cache
        // and no in-memory tree; the server then opens it afresh.
        let scanned = data.open_for_scan()?;
        data.log_key()?;
        check_store(&scanned)?;
        scanned.close()?;
    }
    let store = data.open()?;
    serve_store_mirrored(store, data.log_key()?, listen, mirror)
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
    serve_store_mirrored(store, log_key, listen, None)
}

/// Serves `store`, and with `mirror` mirrors it to that bucket prefix
/// (`feeledger-mirror`) after every commit, catching up first from what
/// the bucket holds.
pub fn serve_store_mirrored(
    store: feeledger_store::Store,
    log_key: feeledger_ledgerdir::KeyFile,
    listen: &str,
    mirror: Option<feeledger_mirror::Bucket>,
) -> Result<()> {
    init_logging();
    let origin = store.state().origin().to_string();
    let ledger = Ledger::new(store, log_key.signer);
    let runtime = feeledger_server::runtime().context("starting the async runtime")?;
    runtime.block_on(async move {
        if let Some(bucket) = mirror {
            tracing::info!(mirror = %bucket.url(), "mirroring the log's tiles and checkpoint");
            let committed = ledger.committed();
            tokio::spawn(feeledger_mirror::Mirror::new(ledger.clone(), bucket).run(committed));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        // Tests and scripts read this line to find the port.
        println!("serving {origin} on http://{address}/");
        tracing::info!(%address, %origin, "serving");
        feeledger_server::serve(listener, ledger, feeledger_server::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(())
}

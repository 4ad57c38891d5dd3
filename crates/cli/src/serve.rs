//! `feeledger serve`: one ledger over HTTP.

use crate::datadir::DataDir;
use anyhow::{Context, Result};
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

/// Serves `data` on `listen` until SIGINT or SIGTERM.
pub fn run(data: &DataDir, listen: &str) -> Result<()> {
    let store = data.open()?;
    let log_key = data.log_key()?;
    serve_store(store, log_key, listen)
}

pub fn serve_store(
    store: feeledger_store::Store,
    log_key: crate::keyfile::KeyFile,
    listen: &str,
) -> Result<()> {
    init_logging();
    let origin = store.state().origin().to_string();
    let ledger = Ledger::new(store, log_key.signer);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
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

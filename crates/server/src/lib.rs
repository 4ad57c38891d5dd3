//! The HTTP API of one feeledger ledger (axum).
//!
//! [`ledger_router`] holds every route of one ledger, so that a city
//! platform can later nest many ledgers under one server, each under its own
//! prefix; the server keeps no global state. Reads are public; every write
//! carries Ed25519 signatures by keys the ledger's roles hold: there are no
//! passwords, sessions or admin accounts.
//!
//! | route | what |
//! |---|---|
//! | `GET /checkpoint` | latest cosigned checkpoint (C2SP signed note) |
//! | `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` | C2SP tlog-tiles |
//! | `POST /add-checkpoint` | C2SP tlog-witness: collect a cosignature |
//! | `GET /api/v1/...` | entries, proofs, receipts, balances, summaries, proposals |
//! | `POST /api/v1/proposals[/{id}/signatures]` | propose and co-sign |
//! | `GET /api/openapi.json` | the OpenAPI description |
//! | `GET /`, `GET /assets/...` | the residents' web page |
//!
//! **Invariant:** a write's response is sent only after the store flushed it.

mod error;
mod read;
mod web;
mod witness;
mod write;

pub use error::{ApiError, ApiResult};

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use feeledger_core::note::NoteSigner;
use feeledger_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Largest request body. A proposal with 64 signatures and a full leaf fits.
pub const BODY_BYTES_MAX: usize = 128 * 1024;

/// A request that takes longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// One ledger: its store and the log key that signs its checkpoints.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<LedgerInner>,
}

pub struct LedgerInner {
    pub store: Store,
    pub log_signer: NoteSigner,
}

impl Ledger {
    pub fn new(store: Store, log_signer: NoteSigner) -> Ledger {
        Ledger {
            inner: Arc::new(LedgerInner { store, log_signer }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Runs blocking store work off the async threads.
    pub(crate) async fn blocking<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&LedgerInner) -> ApiResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?
    }
}

/// Every route of one ledger.
pub fn ledger_router(ledger: Ledger) -> Router {
    let api = Router::new()
        .route("/entries", get(read::entries))
        .route("/entries/{seq}", get(read::entry))
        .route("/entries/{seq}/proof", get(read::inclusion_proof))
        .route("/entries/{seq}/receipt", get(read::receipt))
        .route("/consistency", get(read::consistency))
        .route("/ledger", get(read::ledger_info))
        .route("/balances", get(read::balances))
        .route("/summary", get(read::summary))
        .route("/payers/{unit}/entries", get(read::payer_entries))
        .route("/proposals", get(read::proposals).post(write::propose))
        .route("/proposals/{id}", get(read::proposal))
        .route("/proposals/{id}/signatures", post(write::add_signatures));
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::HEAD]);
    Router::new()
        .route("/", get(web::index))
        .route("/assets/{name}", get(web::asset))
        .route("/checkpoint", get(read::checkpoint))
        .route("/tile/{*path}", get(read::tile))
        .route("/add-checkpoint", post(witness::add_checkpoint))
        .route("/api/openapi.json", get(read::openapi))
        .nest("/api/v1", api)
        .fallback(read::not_found)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(cors)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // Outermost, so that it also sees the timeout layer's 408.
        .layer(axum::middleware::map_response(error::json_errors))
        .with_state(ledger)
}

/// Serves until `shutdown` resolves, then flushes the store.
///
/// # Errors
/// If serving fails or the final flush fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = ledger_router(ledger.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    ledger
        .blocking(|inner| Ok(inner.store.db_flush()?))
        .await
        .map_err(|e| std::io::Error::other(e.message))?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests, then flushing");
}

//! A district platform: many communities' ledgers in one server.
//!
//! Every ledger keeps its own origin, log key, roles and keys; they share
//! one sled `Db` (one tree, plus one of attachments, per ledger; see
//! `feeledger_ledgerdir::platform` for the directory), one page cache, and
//! one small pool of writer threads ([`WriterPool`], fair round-robin over
//! the ledgers with writes waiting). No thread and no router per ledger:
//! one set of ledger routes ([`crate::ledger_routes`]) is given the ledger
//! a request names.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the index page: each community, its balances and last cosigned checkpoint |
//! | `GET /api/v1/ledgers` | the list the index page is built from (JSON) |
//! | `/c/{slug}/…` | every route of that ledger ([`crate::routes`]), its page, receipts and C2SP paths |
//!
//! An unknown slug is 404 `no_such_ledger`; a retired ledger is 410
//! `ledger_retired` (its records are kept); a ledger that did not open
//! (its head check failed, its log key is missing) is 503
//! `ledger_unavailable` naming it and the fix, while the others serve.
//!
//! **Isolation:** a request under `/c/{slug}/` reaches that ledger's store
//! and nothing else; each store reads and writes only its own trees.
//!
//! **Adding and retiring while serving:** [`serve`] calls
//! [`Platform::refresh`] every `POLL_INTERVAL` (1 s), which opens ledgers
//! that appeared in the platform directory and stops serving retired ones.

use crate::{ApiError, Ledger, WriterPool, PLATFORM_WRITER_THREADS};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use feeledger_core::note::Note;
use feeledger_ledgerdir::platform::{PlatformDir, PlatformError, POLL_INTERVAL};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// sled's page cache for all the ledgers of a platform together: the same
/// budget one single-ledger server has, shared.
pub const PLATFORM_CACHE_BYTES: u64 = feeledger_store::CACHE_BYTES;

/// What the platform does with a slug.
#[derive(Clone)]
enum Slot {
    Serving(Ledger),
    Retired {
        since: String,
    },
    /// Did not open; `reason` says why and what to do.
    Unavailable {
        reason: String,
    },
}

/// Many ledgers, their shared database and writers.
pub struct Platform {
    dir: PlatformDir,
    db: sled::Db,
    pool: WriterPool,
    ledgers: RwLock<BTreeMap<String, Slot>>,
    routes: Router<Ledger>,
    /// Each ledger's full audit, in the background, one at a time; `None`
    /// with `serve --no-check` (each head is still checked as it opens).
    audits: Option<crate::status::AuditQueue>,
}

/// What a [`Platform::refresh`] changed, by slug.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub opened: Vec<String>,
    pub retired: Vec<String>,
    pub unavailable: Vec<String>,
    pub removed: Vec<String>,
}

impl Platform {
    /// Opens the platform directory `root`: its shared database and every
    /// ledger in it (see [`Platform::refresh`]).
    ///
    /// # Errors
    /// If `root` is no platform directory, its database does not open (in
    /// use by another process, say), or a writer thread cannot start. A
    /// ledger that does not open is no error: it is refused alone.
    pub fn open(root: &Path) -> Result<Arc<Platform>, PlatformError> {
        Platform::open_with(root, true)
    }

    /// As [`Platform::open`]; without `audit` no ledger's full audit runs
    /// (`serve --platform --no-check`): each head is checked as it opens,
    /// and each ledger's status says `not_run`, as a single ledger's does.
    ///
    /// # Errors
    /// As [`Platform::open`].
    pub fn open_with(root: &Path, audit: bool) -> Result<Arc<Platform>, PlatformError> {
        let dir = PlatformDir::new(root);
        dir.list()?;
        let db = dir
            .open_db(PLATFORM_CACHE_BYTES)
            .map_err(|source| PlatformError::Store {
                slug: "(the shared database)".into(),
                source,
            })?;
        let pool =
            WriterPool::new(PLATFORM_WRITER_THREADS).map_err(|source| PlatformError::Io {
                path: root.to_path_buf(),
                source,
            })?;
        let audits = audit
            .then(crate::status::AuditQueue::start)
            .transpose()
            .map_err(|source| PlatformError::Io {
                path: root.to_path_buf(),
                source,
            })?;
        let platform = Arc::new(Platform {
            dir,
            db,
            pool,
            ledgers: RwLock::new(BTreeMap::new()),
            routes: crate::ledger_routes(),
            audits,
        });
        platform.refresh()?;
        Ok(platform)
    }

    /// Brings the served ledgers in line with the directory: opens each new
    /// one (adopting the store `init --platform` left), stops serving each
    /// retired one, forgets one whose directory is gone. A ledger that
    /// does not open is kept as unavailable (503) until the server
    /// restarts; one whose `init` still holds its store is tried again at
    /// the next refresh.
    ///
    /// # Errors
    /// If the platform directory cannot be listed.
    pub fn refresh(&self) -> Result<Changes, PlatformError> {
        let listed = self.dir.list()?;
        let mut changes = Changes::default();
        let known: BTreeMap<String, Slot> = self.read_slots().clone();
        for entry in &listed {
            let slug = &entry.slug;
            let current = known.get(slug);
            if let Some(since) = &entry.retired {
                if !matches!(current, Some(Slot::Retired { .. })) {
                    tracing::info!(%slug, "ledger retired: no longer served");
                    self.set(
                        slug,
                        Slot::Retired {
                            since: since.clone(),
                        },
                    );
                    changes.retired.push(slug.clone());
                }
                continue;
            }
            if matches!(current, Some(Slot::Serving(_) | Slot::Unavailable { .. })) {
                continue;
            }
            match self.dir.open_ledger(&self.db, slug) {
                Ok((store, log_key)) => {
                    tracing::info!(%slug, origin = %store.state().origin(), size = store.size(), "serving ledger");
                    let ledger = Ledger::with_pool(store, log_key.signer, &self.pool);
                    if let Some(audits) = &self.audits {
                        audits.push(ledger.clone());
                    }
                    self.set(slug, Slot::Serving(ledger));
                    changes.opened.push(slug.clone());
                }
                Err(PlatformError::Store {
                    source: feeledger_store::StoreError::Locked { .. },
                    ..
                }) => {
                    // `init --platform` has not let go of it yet.
                }
                Err(e) => {
                    let reason = format!(
                        "{e}; the other ledgers are served. Check it with `feeledger verify --data` on a copy, repair it (`feeledger rebuild`, or `feeledger restore` from a backup), then restart the server"
                    );
                    tracing::error!(%slug, error = %e, "ledger refused");
                    self.set(slug, Slot::Unavailable { reason });
                    changes.unavailable.push(slug.clone());
                }
            }
        }
        let present: std::collections::BTreeSet<&str> =
            listed.iter().map(|l| l.slug.as_str()).collect();
        let mut slots = self.ledgers.write().unwrap_or_else(|p| p.into_inner());
        slots.retain(|slug, _| {
            let keep = present.contains(slug.as_str());
            if !keep {
                changes.removed.push(slug.clone());
            }
            keep
        });
        Ok(changes)
    }

    fn read_slots(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Slot>> {
        self.ledgers.read().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, slug: &str, slot: Slot) {
        self.ledgers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slug.to_string(), slot);
    }

    /// The ledger served under `slug`, if it is served.
    pub fn ledger(&self, slug: &str) -> Option<Ledger> {
        match self.read_slots().get(slug) {
            Some(Slot::Serving(ledger)) => Some(ledger.clone()),
            _ => None,
        }
    }

    /// The slugs of the ledgers served now.
    pub fn serving(&self) -> Vec<String> {
        self.read_slots()
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Serving(_)))
            .map(|(slug, _)| slug.clone())
            .collect()
    }

    /// Flushes the shared database (every ledger's writes are flushed
    /// before they are acknowledged; this is for a clean stop).
    ///
    /// # Errors
    /// If sled cannot flush.
    pub fn flush(&self) -> std::io::Result<()> {
        self.db.flush().map(|_| ()).map_err(std::io::Error::other)
    }

    /// The platform's routes: its index, its list, and every ledger's
    /// routes under `/c/{slug}/`.
    pub fn router(self: &Arc<Platform>) -> Router {
        let cors = tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods([Method::GET, Method::HEAD]);
        Router::new()
            .route("/", get(index))
            .route("/assets/{name}", get(crate::web::asset))
            .route("/assets/v/{tag}/{name}", get(crate::web::tagged_asset))
            .route("/api/v1/ledgers", get(list))
            .fallback(dispatch)
            .layer(cors)
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                crate::REQUEST_TIMEOUT,
            ))
            .layer(axum::middleware::map_response(crate::error::json_errors))
            .with_state(self.clone())
    }

    /// One ledger's line in the list: what the index page shows.
    fn describe(slug: &str, slot: &Slot) -> Value {
        let base = format!("/c/{slug}/");
        match slot {
            Slot::Retired { since } => {
                json!({"slug": slug, "url": base, "status": "retired", "retired_since": since})
            }
            Slot::Unavailable { reason } => {
                json!({"slug": slug, "url": base, "status": "unavailable", "reason": reason})
            }
            Slot::Serving(ledger) => {
                let store = ledger.store();
                let state = store.state();
                let cosigned = match store.latest_cosigned_checkpoint() {
                    Ok(Some((size, bytes))) => cosigned_summary(size, &bytes),
                    Ok(None) => Value::Null,
                    Err(e) => json!({"error": e.to_string()}),
                };
                json!({
                    "slug": slug,
                    "url": base,
                    "status": "serving",
                    "origin": state.origin(),
                    "name": state.genesis().name,
                    "size": state.size(),
                    "funds": state.genesis().funds.iter().map(|f| json!({
                        "id": f.id,
                        "name": f.name,
                        "balance_fen": state.balances().get(&f.id).copied().unwrap_or(0),
                    })).collect::<Vec<_>>(),
                    "cosigned": cosigned,
                })
            }
        }
    }
}

/// The size, cosigners and their times (POSIX seconds) of a stored
/// cosigned checkpoint. Its cosignatures were verified when they were
/// added; here they are only read.
fn cosigned_summary(size: u64, bytes: &[u8]) -> Value {
    let Ok(note) = Note::parse(bytes) else {
        return json!({"size": size});
    };
    let cosigners: Vec<Value> = note
        .signatures
        .iter()
        .filter_map(|s| {
            s.cosignature_timestamp()
                .map(|time_s| json!({"name": s.name, "time_s": time_s}))
        })
        .collect();
    json!({"size": size, "cosigners": cosigners})
}

/// `GET /api/v1/ledgers`: every ledger of the platform, in slug order.
async fn list(State(platform): State<Arc<Platform>>) -> Result<Json<Value>, ApiError> {
    let listed = tokio::task::spawn_blocking(move || {
        let slots = platform.read_slots().clone();
        slots
            .iter()
            .map(|(slug, slot)| Platform::describe(slug, slot))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(Json(json!({"ledgers": listed})))
}

/// `GET /`: the index page.
async fn index(headers: axum::http::HeaderMap) -> Response {
    crate::web::platform_index(&headers)
}

/// Everything else: `/c/{slug}` and below go to that ledger's routes with
/// the prefix taken off; other paths are 404.
async fn dispatch(State(platform): State<Arc<Platform>>, mut request: Request) -> Response {
    let path = request.uri().path().to_string();
    let Some(under) = path.strip_prefix("/c/") else {
        return ApiError::not_found(format!(
            "no such route: {path} (a ledger's address is /c/ and its slug, e.g. /c/xingguang/; GET /api/v1/ledgers lists them)"
        ))
        .into_response();
    };
    let (slug, rest) = match under.find('/') {
        Some(i) => (&under[..i], &under[i..]),
        None => (under, ""),
    };
    let slot = platform.read_slots().get(slug).cloned();
    let ledger = match slot {
        None => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_ledger",
                format!("this platform has no ledger {slug:?}; GET /api/v1/ledgers lists them"),
            )
            .into_response()
        }
        Some(Slot::Retired { since }) => {
            return ApiError::new(
                StatusCode::GONE,
                "ledger_retired",
                format!("the ledger {slug:?} was retired ({since}) and is no longer served here; its records are kept by the platform's operator"),
            )
            .into_response()
        }
        Some(Slot::Unavailable { reason }) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ledger_unavailable",
                format!("the ledger {slug:?} is not served: {reason}"),
            )
            .into_response()
        }
        Some(Slot::Serving(ledger)) => ledger,
    };
    if rest.is_empty() {
        // The page's relative addresses need the trailing slash.
        return Redirect::permanent(&format!("/c/{slug}/")).into_response();
    }
    let uri = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    match uri.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(e) => return ApiError::bad_request(format!("{path}: {e}")).into_response(),
    }
    if let Some(refused) = crate::status::refusal_of(&ledger, rest) {
        return refused.into_response();
    }
    let router = platform.routes.clone().with_state::<()>(ledger);
    let response: Response = match tower::ServiceExt::oneshot(router, request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    response
}

/// Serves `platform` until `shutdown` resolves, looking for added and
/// retired ledgers every `POLL_INTERVAL`; then flushes the shared
/// database.
///
/// # Errors
/// If the final flush fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    platform: Arc<Platform>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = platform.clone();
    let watching = tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let platform = watcher.clone();
            match tokio::task::spawn_blocking(move || platform.refresh()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot look for added ledgers"),
                Err(e) => tracing::error!(error = %e, "looking for added ledgers panicked"),
            }
        }
    });
    crate::serve_router(listener, platform.router(), shutdown).await;
    watching.abort();
    // Bounded, as in [`crate::serve`]: a full disk must not keep the
    // process from exiting when told to.
    let flushing = platform.clone();
    match tokio::time::timeout(
        crate::FINAL_FLUSH_TIMEOUT,
        tokio::task::spawn_blocking(move || flushing.flush()),
    )
    .await
    {
        Ok(joined) => joined.map_err(std::io::Error::other)?,
        Err(_) => Err(std::io::Error::other(format!(
            "the final flush did not end within {} s",
            crate::FINAL_FLUSH_TIMEOUT.as_secs()
        ))),
    }
}

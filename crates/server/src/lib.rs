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
//! | `GET /checkpoint` | latest checkpoint (C2SP signed note), with the cosignatures collected for it so far |
//! | `GET /api/v1/checkpoints/cosigned`, `GET /api/v1/checkpoints/{size}` | the latest cosigned checkpoint, and a kept checkpoint by size |
//! | `GET /tile/<L>/<N>[.p/<W>]`, `GET /tile/entries/<N>[.p/<W>]` | C2SP tlog-tiles |
//! | `POST /add-checkpoint` | C2SP tlog-witness: collect a cosignature |
//! | `GET /api/v1/...` | entries, proofs, receipts, balances, summaries, proposals |
//! | `POST /api/v1/proposals[/{id}/signatures]` | propose and co-sign |
//! | `POST /api/v1/proposals/{id}/withdrawal` | withdraw a pending proposal |
//! | `PUT /api/v1/proposals/{id}/attachments/{sha256}`, `GET /api/v1/attachments/{sha256}` | keep and serve a file a proposal lists by hash |
//! | `POST /api/v1/import/preview` | a CSV file read into unsigned income bodies (stores nothing) |
//! | `GET /api/openapi.json` | the OpenAPI description |
//! | `GET /`, `GET /assets/...` | the residents' web page (files named by the build tag are kept immutable) |
//! | `GET /receipt/{seq}` | the readable receipt of one entry (a page) |
//! | `GET /api/v1/status` | the head check and the background audit's progress (`status`) |
//!
//! **Invariant:** a write's response is sent only after the store flushed it.

mod attachments;
mod checkpoints;
mod error;
mod import;
pub mod platform;
mod read;
pub mod status;
mod web;
mod witness;
mod write;

pub use error::{ApiError, ApiResult};
pub use web::page_files;
pub use write::{BATCH_BODY_BYTES_MAX, BATCH_PROPOSALS_MAX};

use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use feeledger_core::note::NoteSigner;
use feeledger_store::{ProposalOutcome, ProposalRequest, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Largest request body. A proposal with 64 signatures and a full leaf fits.
pub const BODY_BYTES_MAX: usize = 128 * 1024;

/// A request that takes longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Most write requests waiting for the writer; more wait in their handlers
/// (backpressure) rather than in memory.
pub const WRITE_QUEUE_MAX: usize = 1_024;

/// Most write requests committed together in one batch and one flush.
pub const GROUP_COMMIT_MAX: usize = 256;

/// One ledger: its store, the log key that signs its checkpoints, and the
/// queue to the writers ([`WriterPool`]) that commit its writes.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<LedgerInner>,
    writes: tokio::sync::mpsc::Sender<WriteJob>,
    /// The background audit's progress, and whether writes are taken
    /// (the `status` module).
    health: Arc<status::Health>,
    queue: Arc<WriteQueue>,
    pool: WriterPool,
}

pub struct LedgerInner {
    pub store: Store,
    pub log_signer: NoteSigner,
    /// The committed size, sent after every write that grew the log or
    /// changed its latest checkpoint (a cosignature): what the mirror to
    /// object storage waits on ([`Ledger::committed`]).
    committed: tokio::sync::watch::Sender<u64>,
}

impl LedgerInner {
    /// Tells [`Ledger::committed`]'s receivers that a write is durable: the
    /// log's new size, sent even when the size is the same (a cosignature
    /// changed the checkpoint).
    pub(crate) fn notify_committed(&self) {
        self.committed.send_replace(self.store.size());
    }
}

impl AsRef<Store> for Ledger {
    fn as_ref(&self) -> &Store {
        &self.inner.store
    }
}

/// A write and where its answer goes.
struct WriteJob {
    request: ProposalRequest,
    reply: tokio::sync::oneshot::Sender<Result<ProposalOutcome, StoreError>>,
    /// Held until the write is committed or refused, even if its request
    /// was dropped meanwhile: a starting audit waits for it.
    admitted: status::Admitted,
}

/// One ledger's writes waiting for a writer.
struct WriteQueue {
    inner: Arc<LedgerInner>,
    /// Taken only by the writer whose turn it is: at most one writer works
    /// on a ledger at a time, so its batches stay in order.
    receiver: std::sync::Mutex<tokio::sync::mpsc::Receiver<WriteJob>>,
    /// Whether the ledger is in the pool's ready list or being committed
    /// by a writer; it is never in the list twice.
    scheduled: std::sync::atomic::AtomicBool,
}

/// A few writer threads shared by every ledger of a server.
///
/// **Fairness:** ledgers with waiting writes take turns, round-robin: a
/// writer takes the first ready ledger, commits one batch of it (up to
/// [`GROUP_COMMIT_MAX`] writes, one flush), and puts it at the back of the
/// list if more are waiting. So a ledger with a deep queue gets one group
/// commit per turn, and every other ledger with a write waiting is served
/// before its next one. A single-ledger server is a pool of one thread.
///
/// The threads end once every clone of the pool (each [`Ledger`] holds one)
/// is dropped.
#[derive(Clone)]
pub struct WriterPool {
    handle: Arc<PoolHandle>,
}

struct PoolShared {
    ready: std::sync::Mutex<std::collections::VecDeque<Arc<WriteQueue>>>,
    wake: std::sync::Condvar,
    stopping: std::sync::atomic::AtomicBool,
}

/// Stops the threads when the last clone of the pool goes.
struct PoolHandle {
    shared: Arc<PoolShared>,
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.wake.notify_all();
    }
}

/// Writer threads of a platform's pool: two keep one ledger's flush from
/// holding up another's batch, and more than the cores (two on the
/// machines measured) would only queue on the same disk.
pub const PLATFORM_WRITER_THREADS: usize = 2;

impl WriterPool {
    /// Starts `threads` writer threads (at least one).
    ///
    /// # Errors
    /// If the operating system cannot start a thread.
    pub fn new(threads: usize) -> std::io::Result<WriterPool> {
        let shared = Arc::new(PoolShared {
            ready: std::sync::Mutex::new(std::collections::VecDeque::new()),
            wake: std::sync::Condvar::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        for n in 0..threads.max(1) {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("feeledger-writer-{n}"))
                .spawn(move || writer_thread(&shared))?;
        }
        Ok(WriterPool {
            handle: Arc::new(PoolHandle { shared }),
        })
    }

    /// Puts `queue` at the back of the ready list, unless it is there or
    /// being committed already.
    fn schedule(&self, queue: &Arc<WriteQueue>) {
        schedule(&self.handle.shared, queue);
    }
}

fn schedule(shared: &PoolShared, queue: &Arc<WriteQueue>) {
    use std::sync::atomic::Ordering;
    if queue.scheduled.swap(true, Ordering::SeqCst) {
        return;
    }
    shared
        .ready
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push_back(queue.clone());
    shared.wake.notify_one();
}

/// One writer of the pool: takes turns over the ready ledgers until the
/// pool is dropped.
fn writer_thread(shared: &PoolShared) {
    use std::sync::atomic::Ordering;
    loop {
        let queue = {
            let mut ready = shared.ready.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(queue) = ready.pop_front() {
                    break queue;
                }
                if shared.stopping.load(Ordering::SeqCst) {
                    return;
                }
                ready = shared.wake.wait(ready).unwrap_or_else(|p| p.into_inner());
            }
        };
        let jobs = {
            let mut receiver = queue.receiver.lock().unwrap_or_else(|p| p.into_inner());
            let mut jobs = Vec::new();
            while jobs.len() < GROUP_COMMIT_MAX {
                match receiver.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        if !jobs.is_empty() {
            commit_batch(&queue.inner, jobs);
        }
        // The turn is over. A write queued before the flag is cleared is
        // seen by the check below; one queued after it schedules itself.
        queue.scheduled.store(false, Ordering::SeqCst);
        let more = !queue
            .receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if more {
            schedule(shared, &queue);
        }
    }
}

impl Ledger {
    /// A ledger with a writer pool of its own, of one thread (a
    /// single-ledger server). The pool runs until every clone of the
    /// returned `Ledger` is dropped.
    ///
    /// # Errors
    /// If the operating system cannot start the writer thread.
    pub fn new(store: Store, log_signer: NoteSigner) -> std::io::Result<Ledger> {
        Ok(Ledger::with_pool(store, log_signer, &WriterPool::new(1)?))
    }

    /// A ledger whose writes are committed by `pool`, shared with other
    /// ledgers (a platform).
    pub fn with_pool(store: Store, log_signer: NoteSigner, pool: &WriterPool) -> Ledger {
        let (committed, _) = tokio::sync::watch::channel(store.size());
        let inner = Arc::new(LedgerInner {
            store,
            log_signer,
            committed,
        });
        let (writes, receiver) = tokio::sync::mpsc::channel(WRITE_QUEUE_MAX);
        let queue = Arc::new(WriteQueue {
            inner: inner.clone(),
            receiver: std::sync::Mutex::new(receiver),
            scheduled: std::sync::atomic::AtomicBool::new(false),
        });
        Ledger {
            inner,
            writes,
            queue,
            pool: pool.clone(),
            health: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The ledger's health: where its background audit stands.
    pub fn health(&self) -> &status::Health {
        &self.health
    }

    fn health_arc(&self) -> Arc<status::Health> {
        self.health.clone()
    }

    /// The committed size of the log, changed after every durable write
    /// that grew it or added a cosignature to a checkpoint: a task that
    /// publishes the log elsewhere (the mirror) waits on it.
    pub fn committed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.committed.subscribe()
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

    /// Queues a write for the writers and waits until it is durable (or refused).
    pub(crate) async fn write(&self, request: ProposalRequest) -> ApiResult<ProposalOutcome> {
        // Not before the background audit has passed (the `status` module).
        let admitted = self.health.admit().await?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the writer has stopped",
            )
        };
        self.writes
            .send(WriteJob {
                request,
                reply,
                admitted,
            })
            .await
            .map_err(|_| stopped())?;
        self.pool.schedule(&self.queue);
        Ok(answer.await.map_err(|_| stopped())??)
    }
}

/// One group commit: the writes a writer took from one ledger's queue
/// (up to [`GROUP_COMMIT_MAX`]), committed in one batch with one flush, so
/// concurrent writers share the cost of durability; then every reply.
fn commit_batch(inner: &LedgerInner, jobs: Vec<WriteJob>) {
    // The jobs' admissions are let go at the end of this function, once
    // every write of the batch is committed or refused.
    let mut admitted = Vec::with_capacity(jobs.len());
    let (requests, replies): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .map(|j| {
            admitted.push(j.admitted);
            (j.request, j.reply)
        })
        .unzip();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    // A panic in a batch must not end the writer (every later write
    // would get 503 until a restart). The store stages each batch on a
    // copy and moves its state only after the flush, so a batch that
    // panicked left the ledger as it was.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        inner
            .store
            .proposals_batch(requests, now_ms, &inner.log_signer)
    }));
    let outcome = match outcome {
        Ok(outcome) => {
            outcome.map_err(|e| feeledger_store::BatchFailure::Store(std::sync::Arc::new(e)))
        }
        Err(_) => Err(feeledger_store::BatchFailure::WriterPanicked),
    };
    match outcome {
        Ok(results) => {
            // After a successful commit: the batch is durable. Whatever
            // must hear of a new committed size is told here.
            inner.notify_committed();
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(reason) => {
            if let feeledger_store::BatchFailure::Store(e) = &reason {
                if e.is_no_space() {
                    // Refused, not failed: the writer goes on, and the
                    // next batch succeeds once space is freed.
                    tracing::warn!(error = %reason, "a write batch was refused for lack of disk space; nothing of it was stored");
                } else {
                    tracing::error!(error = %reason, "a write batch failed; nothing of it was stored");
                }
            } else {
                tracing::error!(error = %reason, "a write batch failed; nothing of it was stored");
            }
            for reply in replies {
                let _ = reply.send(Err(StoreError::BatchFailed {
                    cause: reason.clone(),
                }));
            }
        }
    }
}

/// Every route of one ledger: its path (axum syntax) and its handlers.
///
/// The router is built from this list and nothing else, so that a test can
/// hold it against `openapi.json` (crates/cli/tests/openapi.rs): a route
/// added here but not described there, or the other way round, fails it.
pub fn routes() -> Vec<(&'static str, MethodRouter<Ledger>)> {
    vec![
        ("/", get(web::index)),
        ("/assets/{name}", get(web::asset)),
        ("/assets/v/{tag}/{name}", get(web::tagged_asset)),
        ("/receipt/{seq}", get(web::receipt)),
        ("/checkpoint", get(read::checkpoint)),
        ("/tile/{*path}", get(read::tile)),
        ("/add-checkpoint", post(witness::add_checkpoint)),
        ("/api/openapi.json", get(read::openapi)),
        ("/api/v1/entries", get(read::entries)),
        ("/api/v1/entries/{seq}", get(read::entry)),
        ("/api/v1/entries/{seq}/proof", get(read::inclusion_proof)),
        ("/api/v1/entries/{seq}/receipt", get(read::receipt)),
        ("/api/v1/consistency", get(read::consistency)),
        ("/api/v1/checkpoints/cosigned", get(checkpoints::cosigned)),
        ("/api/v1/checkpoints/{size}", get(checkpoints::by_size)),
        ("/api/v1/ledger", get(read::ledger_info)),
        ("/api/v1/balances", get(read::balances)),
        ("/api/v1/summary", get(read::summary)),
        ("/api/v1/payers/{unit}/entries", get(read::payer_entries)),
        (
            "/api/v1/proposals",
            get(read::proposals).post(write::propose),
        ),
        (
            "/api/v1/proposals/batch",
            post(write::propose_batch).layer(DefaultBodyLimit::max(write::BATCH_BODY_BYTES_MAX)),
        ),
        ("/api/v1/proposals/{id}", get(read::proposal)),
        (
            "/api/v1/proposals/{id}/signatures",
            post(write::add_signatures),
        ),
        ("/api/v1/proposals/{id}/withdrawal", post(write::withdraw)),
        (
            "/api/v1/proposals/{id}/attachments/{sha256}",
            put(attachments::put).layer(DefaultBodyLimit::max(attachments::UPLOAD_BODY_BYTES_MAX)),
        ),
        ("/api/v1/attachments/{sha256}", get(attachments::get)),
        (
            "/api/v1/import/preview",
            post(import::preview).layer(DefaultBodyLimit::max(write::BATCH_BODY_BYTES_MAX)),
        ),
        ("/api/v1/status", get(status::status)),
    ]
}

/// The paths of [`routes`], in axum's syntax (`{*path}` for a wildcard).
pub fn route_paths() -> Vec<&'static str> {
    routes().into_iter().map(|(path, _)| path).collect()
}

/// Every route of one ledger.
pub fn ledger_router(ledger: Ledger) -> Router {
    ledger_routes()
        .layer(axum::middleware::from_fn_with_state(
            ledger.clone(),
            status::refuse_damaged,
        ))
        .with_state(ledger)
}

/// Every route of one ledger, with its layers, before it is given its
/// ledger: a platform keeps one and gives it the ledger a request names
/// (`platform`), rather than one router per hosted ledger.
pub fn ledger_routes() -> Router<Ledger> {
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET, Method::HEAD]);
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handlers)| {
            router.route(path, handlers)
        })
        .fallback(read::not_found)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn(error::refuse_huge_bodies))
        .layer(cors)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // Outside the timeout, so that it also sees the timeout layer's 408.
        .layer(axum::middleware::map_response(error::json_errors))
        // gzip when the client asks (Accept-Encoding), identity otherwise;
        // outside json_errors, which reads plain-text error bodies.
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

/// A connection that has not sent a complete request head within this time
/// is closed, including an idle keep-alive connection waiting for its next
/// request: slow or silent clients cannot hold sockets forever.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Most connections served at once. Further clients wait in the listen
/// backlog until a slot frees up, which [`HEADER_READ_TIMEOUT`] bounds.
pub const CONNECTIONS_MAX: usize = 512;

/// The runtime [`serve`] is meant to run on: tokio's async workers (one per
/// core), and [`BLOCKING_THREADS_PER_CORE`] blocking threads per core.
///
/// # Errors
/// If the runtime cannot start its threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(cores * BLOCKING_THREADS_PER_CORE)
        .enable_all()
        .build()
}

/// Blocking threads per core. Store reads and signature checks run on
/// them and are CPU-bound, so many more threads than cores add only
/// context switches: with tokio's default pool, busy clients kept about as
/// many threads runnable as there were clients, and HTTP ingest was slower
/// than with two per core (docs/performance.md, "Figures cited from code").
/// No blocking task waits for another, so a small
/// pool cannot deadlock; a slow read delays the others, as a busy core
/// would.
pub const BLOCKING_THREADS_PER_CORE: usize = 2;

/// Serves until `shutdown` resolves, lets requests in flight finish, then
/// flushes the store.
///
/// A failed accept (out of descriptors, say) is logged and retried after
/// 100 ms.
///
/// # Errors
/// If the final flush fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, ledger_router(ledger.clone()), shutdown).await;
    // Every acknowledged write was flushed before its answer; this flush
    // is for what sled holds besides. It is bounded: a sled that failed to
    // write (a full disk) may fail or stall here, and the process must
    // still exit when told to.
    let flushed = tokio::time::timeout(
        FINAL_FLUSH_TIMEOUT,
        ledger.blocking(|inner| Ok(inner.store.db_flush()?)),
    )
    .await;
    match flushed {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(std::io::Error::other(e.message)),
        Err(_) => Err(std::io::Error::other(format!(
            "the final flush did not end within {} s",
            FINAL_FLUSH_TIMEOUT.as_secs()
        ))),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish: the connection handling of [`serve`] and of
/// a platform (`platform::serve`).
///
/// # Panics
/// Never: the connection slots' semaphore is never closed.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_MAX));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1.1 only. Detecting HTTP/2 first reads up to 24 bytes with no
    // timer, and an HTTP/2 connection has no idle limit: either let a
    // client that sent a byte or a preface hold a slot for ever.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Running out of descriptors is passing: wait, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers go out as they are written. With Nagle's algorithm, an
        // answer written in two parts (head, then body) waited for the
        // client's delayed ACK, about 40 ms a request on loopback, which
        // was most of a returning page visit (docs/performance.md).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper's header timer starts at the first byte; a client that
            // connects and sends nothing is timed out here. (`peek` waits
            // for real data; `readable` may wake falsely.)
            let mut first = [0u8; 1];
            match tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => {
                    drop(slot);
                    return;
                }
            }
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let _ = watcher.watch(connection).await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// How long [`serve`] waits for its final flush after a shutdown signal.
pub const FINAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

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

#[cfg(test)]
mod tests {
    use super::*;
    use feeledger_core::fixtures;

    fn ledger(dir: &std::path::Path, origin: &str, pool: &WriterPool) -> Ledger {
        let genesis = fixtures::chain(vec![fixtures::two_role_genesis(origin, "小区")]).remove(0);
        let signer = fixtures::log_signer(origin);
        let store = Store::create(dir, &genesis, &signer).unwrap();
        Ledger::with_pool(store, signer, pool)
    }

    /// A property fee for `origin`, as the writer takes it.
    fn fee(origin: &str, n: usize) -> ProposalRequest {
        let (body, signatures) = fixtures::property_fee(origin, &format!("fee-{n}"));
        ProposalRequest::Propose {
            body_bytes: body.to_canonical_bytes(),
            signatures,
            check: None,
        }
    }

    /// Fairness: with one writer thread, a ledger with a deep queue (1,000
    /// writes, four group commits) does not hold up another ledger's one
    /// write queued after all of them: that one is committed after the
    /// deep ledger's first turn, long before its last write.
    #[test]
    fn a_deep_queue_does_not_starve_another_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let pool = WriterPool::new(1).unwrap();
        let deep = ledger(&dir.path().join("deep"), "deep.example/l", &pool);
        let light = ledger(&dir.path().join("light"), "light.example/l", &pool);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let done_at = |reply: tokio::sync::oneshot::Receiver<_>| {
            runtime.spawn(async move {
                let outcome: Result<ProposalOutcome, StoreError> = reply.await.unwrap();
                assert!(matches!(outcome, Ok(ProposalOutcome::Committed { .. })));
                std::time::Instant::now()
            })
        };
        let mut deep_done = Vec::new();
        for n in 0..1_000 {
            let (reply, answer) = tokio::sync::oneshot::channel();
            deep.writes
                .try_send(WriteJob {
                    request: fee("deep.example/l", n),
                    reply,
                    admitted: runtime.block_on(deep.health.admit()).unwrap(),
                })
                .unwrap_or_else(|_| panic!("the queue takes write {n}"));
            deep_done.push(done_at(answer));
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        light
            .writes
            .try_send(WriteJob {
                request: fee("light.example/l", 0),
                reply,
                admitted: runtime.block_on(light.health.admit()).unwrap(),
            })
            .unwrap_or_else(|_| panic!("the queue takes the light write"));
        // How far the deep ledger was when the light write was answered:
        // its store's size, read as the answer arrives (not the time its
        // own answers were seen, which a busy runtime delays).
        let deep_seen = deep.clone();
        let light_done = runtime.spawn(async move {
            let outcome: Result<ProposalOutcome, StoreError> = answer.await.unwrap();
            assert!(matches!(outcome, Ok(ProposalOutcome::Committed { .. })));
            deep_seen.store().size()
        });
        deep.pool.schedule(&deep.queue);
        light.pool.schedule(&light.queue);
        let deep_size_at_light = runtime.block_on(light_done).unwrap();
        for d in deep_done {
            runtime.block_on(d).unwrap();
        }
        let before = deep_size_at_light - 1; // less the genesis
        assert!(
            before < 1_000,
            "the light write waited for all {before} deep writes"
        );
        assert!(
            before >= GROUP_COMMIT_MAX as u64,
            "the deep ledger had its turn first ({before} deep writes before the light one)"
        );
        assert_eq!(deep.store().size(), 1_001);
        assert_eq!(light.store().size(), 2);
    }
}

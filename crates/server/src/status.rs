//! A ledger's health after a (re)start, and the full audit run behind it.
//!
//! Opening a store checks only its head (`Store::open`): the last leaf,
//! its chain link, the Merkle peaks and the signed checkpoint. That takes
//! milliseconds at any size, so the server serves reads at once. The full
//! audit (every leaf, signature, rule and derived key, as
//! `feeledger verify --data` does) then runs on a thread of its own
//! ([`start_audit`]), and `GET /api/v1/status` tells how far it came.
//!
//! - While it runs, writes wait for it ([`Ledger::write`](crate::Ledger)
//!   holds each request until the audit ends, at most
//!   [`WRITE_WAIT_FOR_AUDIT`], then answers 503 `auditing`, nothing
//!   stored): a write signs a checkpoint
//!   over the whole log, and must not put the log key's signature on
//!   damage the audit is about to find. It also keeps the store still
//!   while the audit reads it. Reads are served meanwhile.
//! - If it passes, writes go on.
//! - If it fails, the ledger is no longer served: every route but
//!   `/api/v1/status` answers 503 `damaged`, naming the entry and the cause,
//!   because reads of a damaged ledger would mislead residents, and writes
//!   would extend it. The operator stops the server and runs
//!   `feeledger rebuild` or `feeledger restore` (docs/reliability.md).
//!
//! The runner is per ledger and takes the ledger's own store, so a server
//! hosting many ledgers runs one per ledger; one ledger's damage refuses
//! that ledger alone.

use crate::{ApiError, Ledger};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

/// Where the full audit of a served ledger stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AuditState {
    /// No background audit was started (`serve --no-check`, a test, the
    /// demo's fresh ledger): only the head was checked.
    NotRun,
    /// Running: `verified_size` of `target_size` entries checked so far;
    /// it resumed after the `from_size` entries an earlier audit verified
    /// (0: from genesis).
    Running {
        verified_size: u64,
        target_size: u64,
        from_size: u64,
    },
    /// Every entry up to `size` checked out (those after `from_size` in
    /// this run); `root` is the Merkle root at `size` (hex).
    Passed {
        size: u64,
        root: String,
        from_size: u64,
    },
    /// The audit found damage: at entry `seq` if it names one.
    Failed { seq: Option<u64>, cause: String },
}

/// The health of one served ledger, shared by its routes, its writer and
/// its audit thread.
#[derive(Debug)]
pub struct Health {
    audit: tokio::sync::watch::Sender<AuditState>,
    /// Whether an audit runs, and how many writes were let in before it
    /// and are not yet committed or refused: an audit reads the store only
    /// once those are done ([`Health::wait_for_admitted_writes`]), so that
    /// the store does not move under it. Without this, a write let in just
    /// before a platform's queued audit began was committed while the
    /// audit read the tiles, and the audit called the grown tile damage.
    gate: std::sync::Mutex<Gate>,
    drained: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Gate {
    auditing: bool,
    admitted: usize,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            audit: tokio::sync::watch::Sender::new(AuditState::NotRun),
            gate: std::sync::Mutex::default(),
            drained: std::sync::Condvar::new(),
        }
    }
}

/// A write let in by [`Health::admit`]: the audit waits for it to be
/// dropped, which the writer does once the write is committed or refused.
#[derive(Debug)]
pub(crate) struct Admitted {
    health: Arc<Health>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut gate = self.health.gate();
        gate.admitted -= 1;
        if gate.admitted == 0 {
            self.health.drained.notify_all();
        }
    }
}

impl Health {
    /// Where the audit stands now.
    pub fn audit(&self) -> AuditState {
        self.audit.borrow().clone()
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, state: AuditState) {
        let mut gate = self.gate();
        gate.auditing = matches!(state, AuditState::Running { .. });
        self.audit.send_replace(state);
    }

    /// Lets a write in once no audit runs (waiting as [`Health::writable`]
    /// does); the write holds the returned guard until it is committed or
    /// refused.
    pub(crate) async fn admit(self: &Arc<Health>) -> Result<Admitted, ApiError> {
        loop {
            {
                let mut gate = self.gate();
                if !gate.auditing {
                    if let Some(refused) = refusal(&self.audit()) {
                        return Err(refused);
                    }
                    gate.admitted += 1;
                    return Ok(Admitted {
                        health: self.clone(),
                    });
                }
            }
            self.writable().await?;
        }
    }

    /// Blocks the audit's thread (already marked running, so no write is
    /// let in any more) until every write let in before is done.
    fn wait_for_admitted_writes(&self) {
        let mut gate = self.gate();
        debug_assert!(gate.auditing, "marked running first");
        while gate.admitted > 0 {
            gate = self.drained.wait(gate).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Waits while the audit runs, at most [`WRITE_WAIT_FOR_AUDIT`]; then
    /// `Ok` if writes may go on, the 503 `damaged` answer if it failed, or
    /// 503 `auditing` if it is still running.
    pub(crate) async fn writable(&self) -> Result<(), ApiError> {
        let mut watch = self.audit.subscribe();
        let waited = tokio::time::timeout(
            WRITE_WAIT_FOR_AUDIT,
            watch.wait_for(|s| !matches!(s, AuditState::Running { .. })),
        )
        .await;
        let state = match waited {
            Ok(Ok(state)) => (*state).clone(),
            Ok(Err(_)) => AuditState::NotRun,
            Err(_) => {
                let (verified, target) = match self.audit() {
                    AuditState::Running {
                        verified_size,
                        target_size,
                        ..
                    } => (verified_size, target_size),
                    _ => (0, 0),
                };
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "auditing",
                    format!(
                        "the ledger is being checked after a restart ({verified} of {target} entries); nothing was stored: send the write again when the check ends (GET /api/v1/status)"
                    ),
                ));
            }
        };
        match refusal(&state) {
            Some(refused) => Err(refused),
            None => Ok(()),
        }
    }
}

/// How long a write waits for a running audit before it is answered 503
/// `auditing`: below the request timeout, so that the writer is told why.
pub const WRITE_WAIT_FOR_AUDIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The 503 a damaged ledger answers, or `None` if it is served.
fn refusal(state: &AuditState) -> Option<ApiError> {
    let AuditState::Failed { seq, cause } = state else {
        return None;
    };
    let at = seq.map(|s| format!(" at entry {s}")).unwrap_or_default();
    Some(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "damaged",
        format!(
            "this ledger is not served: its audit found damage{at}: {cause}. The operator must repair it (feeledger rebuild, or restore from a backup)"
        ),
    ))
}

/// What `GET /api/v1/status` answers.
#[derive(Debug, Serialize)]
struct StatusBody {
    /// The head check passed (a store whose head fails is never served).
    head_checked: bool,
    /// The entries the ledger holds now.
    size: u64,
    audit: AuditState,
    /// Whether writes are taken now (not while the audit runs, and never
    /// after it failed).
    writable: bool,
}

/// `GET /api/v1/status`: the head check, the background audit's progress
/// and whether writes are taken.
pub(crate) async fn status(State(ledger): State<Ledger>) -> Response {
    let audit = ledger.health().audit();
    let writable = matches!(audit, AuditState::NotRun | AuditState::Passed { .. });
    Json(StatusBody {
        head_checked: true,
        size: ledger.store().size(),
        audit,
        writable,
    })
    .into_response()
}

/// Refuses every route but the status once the audit found damage.
pub(crate) async fn refuse_damaged(
    State(ledger): State<Ledger>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(refused) = refusal_of(&ledger, request.uri().path()) {
        return refused.into_response();
    }
    next.run(request).await
}

/// The refusal of a request for `path` (relative to the ledger) once the
/// ledger's audit found damage: every route but the status. A platform
/// asks this before it hands a request to the ledger's routes.
pub(crate) fn refusal_of(ledger: &Ledger, path: &str) -> Option<ApiError> {
    if path == "/api/v1/status" {
        return None;
    }
    refusal(&ledger.health().audit())
}

/// Starts the full audit of `ledger`'s store on a thread of its own and
/// reports it in the ledger's [`Health`]. The store does not move while it
/// runs: writes wait for it (see the module docs).
///
/// # Errors
/// If the operating system cannot start the thread; the ledger is then
/// marked as not audited and writes go on as with `--no-check`.
pub fn start_audit(ledger: &Ledger) -> std::io::Result<()> {
    let health = ledger.health_arc();
    let target_size = ledger.store().size();
    health.set(AuditState::Running {
        verified_size: 0,
        target_size,
        from_size: 0,
    });
    let ledger = ledger.clone();
    let spawned = std::thread::Builder::new()
        .name("feeledger-audit".into())
        .spawn(move || finish_audit(&ledger));
    if let Err(e) = spawned {
        health.set(AuditState::NotRun);
        return Err(e);
    }
    Ok(())
}

/// Runs the audit of `ledger` (already marked running) and reports its end.
fn finish_audit(ledger: &Ledger) {
    let state = run_audit(ledger);
    match &state {
        AuditState::Passed {
            size,
            root,
            from_size,
        } => {
            tracing::info!(size, %root, from_size, "the full audit passed");
        }
        AuditState::Failed { seq, cause } => {
            tracing::error!(?seq, %cause, "the full audit found damage; the ledger is no longer served");
        }
        _ => {}
    }
    ledger.health().set(state);
}

/// A platform's auditor: one thread that audits its ledgers one after
/// another, as they are opened, so that a thousand ledgers bring one audit
/// thread, not a thousand. A ledger's writes wait only while its own audit
/// runs (docs/reliability.md): a ledger still waiting for its turn takes
/// writes, and its audit then covers them too.
pub struct AuditQueue {
    waiting: std::sync::Mutex<std::sync::mpsc::Sender<Ledger>>,
}

impl AuditQueue {
    /// Starts the auditor's thread; it ends when the queue is dropped.
    ///
    /// # Errors
    /// If the operating system cannot start the thread.
    pub fn start() -> std::io::Result<AuditQueue> {
        let (waiting, queue) = std::sync::mpsc::channel::<Ledger>();
        std::thread::Builder::new()
            .name("feeledger-audits".into())
            .spawn(move || {
                for ledger in queue {
                    let health = ledger.health_arc();
                    health.set(AuditState::Running {
                        verified_size: 0,
                        target_size: ledger.store().size(),
                        from_size: 0,
                    });
                    finish_audit(&ledger);
                }
            })?;
        Ok(AuditQueue {
            waiting: std::sync::Mutex::new(waiting),
        })
    }

    /// Queues `ledger` for its full audit.
    pub fn push(&self, ledger: Ledger) {
        let sent = self
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(ledger);
        if sent.is_err() {
            tracing::error!("the platform's auditor has stopped; a ledger goes unaudited");
        }
    }
}

/// The audit itself: from where a recorded earlier audit stopped, if its
/// record fits the store (`feeledger_audit::resume_point`), else from
/// genesis as `feeledger verify --data` runs it. What it verified is then
/// recorded for the next start (`feeledger_store::AuditedRecord`, whose
/// trust statement says what that record is worth).
fn run_audit(ledger: &Ledger) -> AuditState {
    let store = ledger.store();
    let health: Arc<Health> = ledger.health_arc();
    // The size to audit is read once the writes let in before the audit
    // was marked running are committed: from here the store is still.
    health.wait_for_admitted_writes();
    let target_size = store.size();
    let resumed = match store.audited() {
        Ok(Some(record)) => match feeledger_audit::resume_point(store, &record) {
            Ok(point) => Some(point),
            Err(why) => {
                tracing::warn!(%why, "the record of the last audit does not fit the store; auditing from genesis");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the record of the last audit cannot be read; auditing from genesis");
            None
        }
    };
    let from_size = resumed
        .as_ref()
        .map_or(0, feeledger_audit::ResumePoint::size);
    health.set(AuditState::Running {
        verified_size: from_size,
        target_size,
        from_size,
    });
    let mut report = |p: feeledger_audit::Progress| {
        health.set(AuditState::Running {
            verified_size: p.entries_checked,
            target_size: p.entries_total,
            from_size,
        });
    };
    let started = std::time::Instant::now();
    let result = match resumed {
        Some(point) => feeledger_audit::audit_store_resumed(store, point, &mut report),
        None => {
            let mut audit = feeledger_audit::Audit::new(None, Vec::new());
            feeledger_audit::audit_store(store, &mut audit, None, &mut report).map(|_| audit)
        }
    };
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        from_size,
        "the audit ended"
    );
    match result {
        Ok(audit) => {
            let root = audit.root().to_string();
            if let Some(replayer) = audit.replayer() {
                let record = feeledger_store::AuditedRecord {
                    size: audit.size(),
                    root: root.clone(),
                    snapshot: replayer.state.snapshot().clone(),
                };
                // A cache: failing to keep it costs the next start time.
                if let Err(e) = store.record_audited(&record) {
                    tracing::warn!(error = %e, "the audit passed, but its record could not be kept");
                }
            }
            AuditState::Passed {
                size: audit.size(),
                root,
                from_size,
            }
        }
        Err(failure) => AuditState::Failed {
            seq: failure.seq(),
            cause: failure.cause().to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Proves an audit starts reading only once the writes let in before it
    // are done, and that writes are not let in while it runs.
    #[test]
    fn an_audit_waits_for_the_writes_let_in_before_it() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let health = Arc::new(Health::default());
        let admitted = runtime.block_on(health.admit()).expect("no audit yet");
        health.set(AuditState::Running {
            verified_size: 0,
            target_size: 0,
            from_size: 0,
        });
        let (started, reading) = std::sync::mpsc::channel();
        let auditor = std::thread::spawn({
            let health = health.clone();
            move || {
                health.wait_for_admitted_writes();
                started.send(()).unwrap();
            }
        });
        assert!(
            reading
                .recv_timeout(std::time::Duration::from_millis(200))
                .is_err(),
            "the audit waits while a write it did not see is pending"
        );
        drop(admitted);
        reading
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the audit goes on once the write is done");
        auditor.join().unwrap();
        // While it runs, a new write is not let in: it waits.
        let waited = runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_millis(200), health.admit()).await
        });
        assert!(waited.is_err(), "no write is let in while the audit runs");
        health.set(AuditState::NotRun);
        let let_in = runtime.block_on(health.admit());
        assert!(let_in.is_ok(), "writes are let in once it ended");
    }
}

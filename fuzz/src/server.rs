//! The HTTP targets' harness: one store per process holding the fixed
//! ledger (one batch per entry, so there is a signed checkpoint of every
//! size), the fixed witness registered, served by the real
//! `feeledger_server::ledger_router`, and each input POSTed in-process (no
//! socket).
//!
//! * `add_checkpoint`: `POST /add-checkpoint`: the body parser (the core's
//!   `AddCheckpointRequest::parse`, fuzzed alone by `witness_request`) and
//!   what the handler does next.
//! * `proposal`: `POST /api/v1/proposals`.
//!
//! Both must never answer 5xx, whatever the body.

use crate::invariants::{entries, log_signer, witness_signer};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use feeledger_core::entry::Leaf;
use feeledger_core::note::{NoteSignature, Receipt};
use feeledger_server::{ledger_router, Ledger};
use feeledger_store::{Store, Submission};
use std::path::PathBuf;
use std::sync::OnceLock;
use tower::ServiceExt as _;

const DIR_PREFIX: &str = "feeledger-fuzz-server-";

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

/// Removes store directories left by earlier processes that have exited.
fn remove_stale_dirs() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(DIR_PREFIX) {
            if !PathBuf::from(format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// This process's store directory, removed when the process exits.
static STORE_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_store_dir() {
    if let Some(dir) = STORE_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
}

fn build() -> Harness {
    remove_stale_dirs();
    let dir = STORE_DIR
        .get_or_init(|| std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id())));
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("temp dir");
    // libFuzzer ends a run with exit(), which runs atexit handlers (a crash
    // does not; the next run removes what a dead process left).
    // SAFETY: registering a plain `extern "C"` function has no preconditions.
    unsafe {
        atexit(remove_store_dir);
    }
    let log = log_signer();
    let mut entries = entries().into_iter();
    let (genesis, sigs, time_ms) = entries.next().expect("a genesis");
    let genesis_leaf = Leaf {
        seq: 0,
        prev: feeledger_core::hash::Hash::ZERO,
        time_ms,
        body: genesis,
        signatures: sigs,
    }
    .to_canonical_bytes();
    let store = Store::create(dir, &genesis_leaf, &log).expect("store");
    for (body, signatures, time_ms) in entries {
        let results = store
            .append_batch(vec![Submission { body, signatures }], time_ms, &log)
            .expect("append");
        for r in results {
            r.expect("fixture entry accepted by the store");
        }
    }
    store
        .add_witness(&witness_signer().verifier_key())
        .expect("witness");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Harness {
        runtime,
        router: ledger_router(Ledger::new(store, log).expect("the writer thread starts")),
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(build)
}

/// POSTs `body` to `path`; returns the status, content type and body.
fn post(path: &str, body: &[u8]) -> (StatusCode, Option<String>, Vec<u8>) {
    let h = harness();
    let request = Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .expect("request");
    h.runtime.block_on(async {
        let response = h.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_string());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, content_type, bytes.to_vec())
    })
}

/// `POST /add-checkpoint`: never 5xx; a 409 carries the recorded size as
/// `text/x.tlog.size`; a 200 carries signature lines that parse.
pub fn check_add_checkpoint(body: &[u8]) {
    let (status, content_type, bytes) = post("/add-checkpoint", body);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        [
            StatusCode::OK,
            StatusCode::BAD_REQUEST,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::CONFLICT,
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNPROCESSABLE_ENTITY,
        ]
        .contains(&status),
        "unexpected status {status}: {text}"
    );
    match status {
        StatusCode::CONFLICT => {
            assert_eq!(content_type.as_deref(), Some("text/x.tlog.size"));
            let size = text.strip_suffix('\n').expect("newline");
            assert!(size.parse::<u64>().is_ok(), "409 body {text:?}");
        }
        StatusCode::OK => {
            assert!(!text.is_empty());
            for line in text.strip_suffix('\n').expect("newline").split('\n') {
                NoteSignature::parse_line(line).expect("a signature line");
            }
        }
        _ => {}
    }
}

/// `POST /api/v1/proposals`: never 5xx; errors are JSON with a code; a
/// pending proposal's id is the SHA-256 of the body sent; a committed one
/// comes with a receipt that verifies against the log key and whose leaf
/// carries exactly the body sent.
pub fn check_proposal(body: &[u8]) {
    let (status, _, bytes) = post("/api/v1/proposals", body);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        [
            StatusCode::CREATED,
            StatusCode::ACCEPTED,
            StatusCode::BAD_REQUEST,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::CONFLICT,
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::TOO_MANY_REQUESTS,
        ]
        .contains(&status),
        "unexpected status {status}: {text}"
    );
    let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("a JSON answer");
    if !status.is_success() {
        assert!(answer["error"]["code"].is_string(), "error body {text}");
        return;
    }
    let sent: serde_json::Value = serde_json::from_slice(body).expect("accepted JSON");
    let sent_body = sent["body"].as_str().expect("a body string");
    let id = feeledger_core::hash::sha256(sent_body.as_bytes()).to_hex();
    assert_eq!(answer["id"].as_str(), Some(id.as_str()), "{text}");
    if status == StatusCode::CREATED {
        let receipt = answer["receipt"].as_str().expect("a receipt");
        let receipt = Receipt::parse(receipt.as_bytes()).expect("the receipt parses");
        receipt
            .verify(&log_signer().verifier_key(), &[])
            .expect("the receipt verifies");
        let leaf = Leaf::decode(&receipt.leaf).expect("the leaf decodes");
        assert_eq!(leaf.body.to_canonical_bytes(), sent_body.as_bytes());
    }
}

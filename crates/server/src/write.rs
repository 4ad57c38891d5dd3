//! Writes: proposals, co-signatures and withdrawals. Signatures are the
//! only credentials.

use crate::read::{proposal_id, receipt_text};
use crate::{ApiError, ApiResult, Ledger};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use feeledger_core::entry::EntrySignature;
use feeledger_store::{ProposalOutcome, ProposalRequest, WithdrawalOutcome};
use serde::Deserialize;
use serde_json::{json, Value};

/// `POST /api/v1/proposals`: the body's canonical JSON as a string (so the
/// exact signed bytes travel unchanged), and one or more signatures.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    pub body: String,
    pub signatures: Vec<EntrySignature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignaturesRequest {
    pub signatures: Vec<EntrySignature>,
}

/// Reads a JSON request body, mapping every failure (including an
/// oversized body, 413) to a JSON error.
pub fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let bytes = crate::error::body_bytes(body)?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

fn outcome_view(
    store: &feeledger_store::Store,
    outcome: &ProposalOutcome,
) -> ApiResult<(StatusCode, Value)> {
    let progress = |approval: &feeledger_core::state::Approval| -> Vec<Value> {
        approval
            .progress
            .iter()
            .map(|(role, (have, need))| json!({"role": role, "have": have, "need": need}))
            .collect()
    };
    Ok(match outcome {
        ProposalOutcome::Pending { id, approval } => (
            StatusCode::ACCEPTED,
            json!({"status": "pending", "id": id.to_hex(), "progress": progress(approval)}),
        ),
        ProposalOutcome::Committed {
            id,
            approval,
            committed,
        } => (
            StatusCode::CREATED,
            json!({
                "status": "committed",
                "id": id.to_hex(),
                "progress": progress(approval),
                "seq": committed.seq,
                "leaf_hash": committed.leaf_hash.to_hex(),
                "size": committed.size,
                "receipt": receipt_text(store, committed.seq)?,
            }),
        ),
    })
}

pub async fn propose(
    State(ledger): State<Ledger>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: ProposeRequest = json_body(body)?;
    // The Ed25519 work happens here, on the blocking pool's threads, rather
    // than on the ledger's single writer; the writer trusts the check only
    // if the keys have not changed since.
    let (body_bytes, signatures, check) = ledger
        .blocking(move |inner| {
            let body_bytes = request.body.into_bytes();
            let mut signatures = request.signatures;
            let check = inner.store.check_ahead(&body_bytes, &mut signatures);
            Ok((body_bytes, signatures, check))
        })
        .await?;
    let outcome = ledger
        .write(ProposalRequest::Propose {
            body_bytes,
            signatures,
            check,
        })
        .await?;
    let (status, view) = ledger
        .blocking(move |inner| outcome_view(&inner.store, &outcome))
        .await?;
    Ok((status, Json(view)))
}

pub async fn add_signatures(
    State(ledger): State<Ledger>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = proposal_id(&id)?;
    let request: SignaturesRequest = json_body(body)?;
    let outcome = ledger
        .write(ProposalRequest::Sign {
            id,
            signatures: request.signatures,
        })
        .await?;
    let (status, view) = ledger
        .blocking(move |inner| outcome_view(&inner.store, &outcome))
        .await?;
    Ok((status, Json(view)))
}

/// Most proposals in one `POST /api/v1/proposals/batch`: a month of a
/// large community's fee payments (`feeledger import` sends at most
/// [`feeledger_import::FILE_ROWS_MAX`]), within the store's group-commit
/// bound.
pub const BATCH_PROPOSALS_MAX: usize = 2_000;

/// Largest body of a batch request: the most the server reads of any
/// request (a larger declared body is refused unread).
pub const BATCH_BODY_BYTES_MAX: usize =
    crate::BODY_BYTES_MAX * crate::error::DECLARED_BODY_REFUSE_FACTOR;

const _: () = assert!(BATCH_PROPOSALS_MAX <= feeledger_store::BATCH_ENTRIES_MAX);
const _: () = assert!(feeledger_import::FILE_ROWS_MAX <= BATCH_PROPOSALS_MAX);

/// `POST /api/v1/proposals/batch`: many signed incomes, recorded together
/// in one group commit or not at all. With `dry_run`, nothing is written,
/// and the answer says of each proposal whether it is new or already
/// recorded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub proposals: Vec<ProposeRequest>,
    #[serde(default)]
    pub dry_run: bool,
}

/// A proposal of a batch, decoded and looked up.
struct BatchEntry {
    body: feeledger_core::entry::Body,
    body_bytes: Vec<u8>,
    signatures: Vec<EntrySignature>,
    lookups: feeledger_core::state::Lookups,
    check: Option<feeledger_core::state::SignatureCheck>,
}

fn batch_error(e: &feeledger_import::batch::BatchError) -> ApiError {
    use feeledger_import::batch::BatchError;
    match e {
        BatchError::NotIncome { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_income",
            e.to_string(),
        ),
        BatchError::Repeated { .. } => ApiError::bad_request(e.to_string()),
        BatchError::Refused { source, .. } => ApiError::new(
            crate::error::apply_status(source),
            source.code(),
            e.to_string(),
        ),
    }
}

/// Decodes, checks and commits a batch on a blocking thread. The batch is
/// checked whole against the published ledger first ([`check_batch`]: the
/// batch's own rules, and the dry run's answer); then it is committed in
/// one call of [`feeledger_store::Store::proposals_batch_atomic`], which
/// takes the store's writer lock itself and judges every proposal again
/// there: if a write landed in between and any proposal is now refused,
/// nothing is recorded. Otherwise it is one atomic write and one flush.
///
/// [`check_batch`]: feeledger_import::batch::check_batch
fn run_batch(inner: &crate::LedgerInner, request: BatchRequest) -> ApiResult<(StatusCode, Value)> {
    use feeledger_import::batch::{check_batch, BatchItem, Verdict};
    let store = &inner.store;
    let mut entries = Vec::with_capacity(request.proposals.len());
    for (index, proposal) in request.proposals.into_iter().enumerate() {
        let body_bytes = proposal.body.into_bytes();
        let body = feeledger_core::entry::Body::decode(&body_bytes).map_err(|e| {
            let e = feeledger_core::state::ApplyError::from(e);
            ApiError::new(
                crate::error::apply_status(&e),
                e.code(),
                format!("proposals[{index}]: {e}"),
            )
        })?;
        let mut signatures = proposal.signatures;
        let check = store.check_ahead(&body_bytes, &mut signatures);
        let lookups = store.lookups(&body)?;
        entries.push(BatchEntry {
            body,
            body_bytes,
            signatures,
            lookups,
            check,
        });
    }
    let items: Vec<BatchItem<'_>> = entries
        .iter()
        .map(|e| BatchItem {
            body: &e.body,
            body_bytes: &e.body_bytes,
            signatures: &e.signatures,
            lookups: &e.lookups,
            check: e.check.as_ref(),
        })
        .collect();
    let verdicts = check_batch(&store.state(), &items).map_err(|e| batch_error(&e))?;
    let id = |e: &BatchEntry| feeledger_core::hash::sha256(&e.body_bytes).to_hex();
    if request.dry_run {
        let results: Vec<Value> = entries
            .iter()
            .zip(&verdicts)
            .enumerate()
            .map(|(index, (entry, verdict))| match verdict {
                Verdict::New => json!({"index": index, "id": id(entry), "status": "new"}),
                Verdict::Recorded { seq } => {
                    json!({"index": index, "id": id(entry), "status": "recorded", "seq": seq})
                }
            })
            .collect();
        return Ok((StatusCode::OK, json!({"dry_run": true, "results": results})));
    }
    // A proposal the check found recorded is sent on all the same: the
    // store refuses it as a replay at commit, naming it, as it does one
    // recorded between the check and the commit. One rule judges the batch
    // at commit, under the writer's lock: the store's.
    let count = entries.len();
    let ids: Vec<String> = entries.iter().map(id).collect();
    let requests = entries
        .into_iter()
        .map(|e| ProposalRequest::Propose {
            body_bytes: e.body_bytes,
            signatures: e.signatures,
            check: e.check,
        })
        .collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let committed = store
        .proposals_batch_atomic(requests, now_ms, &inner.log_signer)
        .map_err(refused_at_commit)?;
    inner.notify_committed();
    let size = committed.last().map_or(0, |c| c.size);
    let mut results = Vec::with_capacity(count);
    for (index, committed) in committed.iter().enumerate() {
        results.push(json!({
            "index": index,
            "id": ids[index],
            "status": "committed",
            "seq": committed.seq,
            "leaf_hash": committed.leaf_hash.to_hex(),
        }));
    }
    Ok((
        StatusCode::CREATED,
        json!({"status": "committed", "size": size, "results": results}),
    ))
}

/// A batch the store refused whole: the refused proposal's usual status
/// and code, with a message starting `proposals[i]:`; nothing of the batch
/// is recorded.
fn refused_at_commit(e: feeledger_store::AtomicBatchError) -> ApiError {
    use feeledger_store::AtomicBatchError;
    match e {
        AtomicBatchError::Refused { index, reason } => {
            let hint = match &reason {
                feeledger_store::StoreError::Rejected(
                    feeledger_core::state::ApplyError::Replay { .. },
                ) => " (send only the new ones, which dry_run names)",
                _ => "",
            };
            let refused = ApiError::from(reason);
            ApiError::new(
                refused.status,
                refused.code,
                format!(
                    "proposals[{index}]: {}; nothing of the batch was recorded{hint}",
                    refused.message
                ),
            )
            .with_details(refused.details)
        }
        AtomicBatchError::Store(e) => ApiError::from(e),
    }
}

pub async fn propose_batch(
    State(ledger): State<Ledger>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: BatchRequest = json_body(body)?;
    let count = request.proposals.len();
    if count == 0 || count > BATCH_PROPOSALS_MAX {
        return Err(ApiError::bad_request(format!(
            "a batch holds 1 to {BATCH_PROPOSALS_MAX} proposals, this one {count}"
        )));
    }
    let (status, view) = ledger
        .blocking(move |inner| run_batch(inner, request))
        .await?;
    Ok((status, Json(view)))
}

/// `POST /api/v1/proposals/{id}/withdrawal`: withdrawal signatures
/// (docs/format.md §8.5) by the proposer, or by members of a role the
/// proposal's rule names. 200 when withdrawn, 202 when kept as a partial
/// withdrawal, below every threshold.
///
/// Withdrawals are rare, so they skip the group-commit queue and take the
/// store's writer lock directly, on the blocking pool; the answer is sent
/// after the flush all the same.
pub async fn withdraw(
    State(ledger): State<Ledger>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = proposal_id(&id)?;
    let request: SignaturesRequest = json_body(body)?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let outcome = ledger
        .blocking(move |inner| Ok(inner.store.withdraw(&id, request.signatures, now_ms)?))
        .await?;
    Ok(match outcome {
        WithdrawalOutcome::Withdrawn(w) => (
            StatusCode::OK,
            Json(json!({
                "status": "withdrawn",
                "id": w.record.proposal.id.to_hex(),
                "withdrawn_by": w.withdrawn_by,
                "withdrawn_ms": w.withdrawn_ms,
            })),
        ),
        WithdrawalOutcome::Pending {
            id,
            withdrawals,
            progress,
        } => (
            StatusCode::ACCEPTED,
            Json(json!({
                "status": "pending",
                "id": id.to_hex(),
                "withdrawals": withdrawals.iter().map(|s| &s.key).collect::<Vec<_>>(),
                "progress": progress
                    .iter()
                    .map(|(role, (have, need))| json!({"role": role, "have": have, "need": need}))
                    .collect::<Vec<_>>(),
            })),
        ),
    })
}

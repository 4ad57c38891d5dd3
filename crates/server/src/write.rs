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

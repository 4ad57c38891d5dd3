//! Every error is `{"error": {"code": ..., "message": ...}}` with a 4xx or
//! 5xx status, and for some codes a `details` object with the error's
//! numbers and names as data (amounts in integer fen), so that a client can
//! say it in its own language without parsing the English message. The
//! mapping from store and core errors lives here only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use feeledger_core::state::ApplyError;
use feeledger_store::{StoreError, WitnessError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The error's facts as data (docs/api.md "Errors"); `None` for codes
    /// whose message carries nothing a client needs to show.
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
    /// The JSON body: `{"error": {"code", "message"}}`, with `details`
    /// when there are some.
    pub fn body(&self) -> serde_json::Value {
        let mut error = serde_json::json!({"code": self.code, "message": self.message});
        if let Some(details) = &self.details {
            error["details"] = details.clone();
        }
        serde_json::json!({ "error": error })
    }
    /// The same error with `details` (see [`apply_details`]).
    pub fn with_details(mut self, details: Option<serde_json::Value>) -> ApiError {
        self.details = details;
        self
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let body = self.body();
        (self.status, axum::Json(body)).into_response()
    }
}

/// The status for a refused entry.
pub fn apply_status(e: &ApplyError) -> StatusCode {
    match e {
        ApplyError::Format(_) | ApplyError::WrongLedger { .. } => StatusCode::BAD_REQUEST,
        ApplyError::BadSignature { .. } => StatusCode::UNAUTHORIZED,
        ApplyError::UnknownKey { .. } | ApplyError::NoRuleSigner { .. } => StatusCode::FORBIDDEN,
        ApplyError::Replay { .. }
        | ApplyError::AlreadyReversed { .. }
        | ApplyError::Sequence { .. }
        | ApplyError::BrokenChain { .. }
        | ApplyError::TimeWentBackwards { .. }
        | ApplyError::SecondGenesis { .. } => StatusCode::CONFLICT,
        ApplyError::LookupMismatch { .. } | ApplyError::BadLogKey { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        ApplyError::NotGenesis { .. }
        | ApplyError::UnknownFund { .. }
        | ApplyError::RuleNotMet { .. }
        | ApplyError::TargetMissing { .. }
        | ApplyError::NotReversible { .. }
        | ApplyError::Overdraft { .. }
        | ApplyError::Overflow { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        ApplyError::LeafTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

/// The facts of a refused entry as data, for the codes whose words need
/// them: amounts in integer fen, funds, roles and kinds by their ids, entry
/// numbers. The page says them in the reader's language, with amounts in
/// yuan; the English `message` stays for logs and scripts.
pub fn apply_details(e: &ApplyError) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match e {
        ApplyError::Overdraft {
            fund,
            balance_fen,
            amount_fen,
        } => json!({"fund": fund, "balance_fen": balance_fen, "amount_fen": amount_fen}),
        ApplyError::Overflow { fund } | ApplyError::UnknownFund { fund } => {
            json!({ "fund": fund })
        }
        ApplyError::RuleNotMet {
            kind,
            role,
            have,
            need,
        } => json!({"kind": kind.as_str(), "role": role.as_str(), "have": have, "need": need}),
        ApplyError::UnknownKey { key } | ApplyError::BadSignature { key } => json!({ "key": key }),
        ApplyError::Replay { seq } => json!({ "seq": seq }),
        ApplyError::TargetMissing { target_seq } => json!({ "target_seq": target_seq }),
        ApplyError::NotReversible { target_seq, kind } => {
            json!({"target_seq": target_seq, "kind": kind.as_str()})
        }
        ApplyError::AlreadyReversed { target_seq, by_seq } => {
            json!({"target_seq": target_seq, "by_seq": by_seq})
        }
        ApplyError::LeafTooLarge { bytes, max } => json!({"bytes": bytes, "max_bytes": max}),
        _ => return None,
    })
}

/// The facts of a store error as data, where it has any (see
/// [`apply_details`]).
pub fn store_details(e: &StoreError) -> Option<serde_json::Value> {
    match e {
        StoreError::Rejected(apply) => apply_details(apply),
        StoreError::LeafRefused { seq, reason } => {
            let mut details = apply_details(reason).unwrap_or_else(|| serde_json::json!({}));
            details["refused_seq"] = serde_json::json!(seq);
            details["reason_code"] = serde_json::json!(reason.code());
            Some(details)
        }
        StoreError::TooManyProposals { count, limit } => {
            Some(serde_json::json!({"count": count, "limit": limit}))
        }
        _ => None,
    }
}

/// The status for a refused withdrawal.
pub fn withdrawal_status(e: &feeledger_core::withdrawal::WithdrawalError) -> StatusCode {
    use feeledger_core::withdrawal::WithdrawalError as W;
    match e {
        W::Format(_) => StatusCode::BAD_REQUEST,
        W::BadSignature { .. } => StatusCode::UNAUTHORIZED,
        W::UnknownKey { .. } | W::NotAllowed { .. } => StatusCode::FORBIDDEN,
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::Rejected(apply) => apply_status(apply),
            StoreError::LeafRefused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::NoCheckpoint { .. } | StoreError::NoProposal { .. } => {
                StatusCode::NOT_FOUND
            }
            StoreError::TooManyProposals { .. } => StatusCode::TOO_MANY_REQUESTS,
            StoreError::ProposalWithdrawn { .. } | StoreError::ProposalCommitted { .. } => {
                StatusCode::CONFLICT
            }
            StoreError::Withdrawal(w) => withdrawal_status(w),
            StoreError::TooManyCosignatures { .. } => StatusCode::CONFLICT,
            StoreError::ProofRequest(_) | StoreError::SizeBeyondLog { .. } => {
                StatusCode::BAD_REQUEST
            }
            StoreError::NotInitialized { .. }
            | StoreError::AlreadyInitialized { .. }
            | StoreError::Locked { .. }
            | StoreError::Damaged { .. }
            | StoreError::IncompatibleFormat { .. }
            | StoreError::WrongLogKey
            | StoreError::Signing(_)
            | StoreError::Io(_)
            | StoreError::BatchFailed { .. }
            | StoreError::InsufficientStorage { .. }
            | StoreError::Poisoned => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if e.is_no_space() {
            // 507, with a message for the writer rather than the operator:
            // the server's paths and byte counts are the operator's log's.
            return ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                "the server's disk is full, so nothing was stored; reads go on. Retry once the operator has freed disk space",
            );
        }
        ApiError::new(status, e.code(), e.to_string()).with_details(store_details(&e))
    }
}

impl From<WitnessError> for ApiError {
    /// A key of the wrong type is the caller's mistake (400
    /// `not_a_witness_key`); a failure to store it is the store's.
    fn from(e: WitnessError) -> ApiError {
        match e {
            WitnessError::NotACosignatureKey { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
            }
            WitnessError::Store(e) => ApiError::from(e),
        }
    }
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> ApiError {
        ApiError::new(apply_status(&e), e.code(), e.to_string()).with_details(apply_details(&e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A request body, or the JSON error for why there is none (413
/// `too_large` over the limit).
pub fn body_bytes(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<axum::body::Bytes> {
    body.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "malformed"
        };
        ApiError::new(status, code, e.body_text())
    })
}

/// Gives the responses that axum, tower and hyper make themselves (405,
/// 408, 413, and the 400s of path parameters that are not UTF-8) the same
/// JSON error body as every other error, keeping their text as the message.
pub async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Our own errors are JSON; tlog-witness's 409 is text/x.tlog.size.
    if content_type.starts_with("application/json") || content_type.starts_with("text/x.tlog.size")
    {
        return response;
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "malformed",
    };
    let text = axum::body::to_bytes(response.into_body(), 4 * 1024)
        .await
        .unwrap_or_default();
    let message = match String::from_utf8_lossy(&text).trim() {
        "" => status.canonical_reason().unwrap_or("error").to_string(),
        text => text.to_string(),
    };
    ApiError::new(status, code, message).into_response()
}

/// A declared body this many times over the limit is refused before any of
/// it is read. A body just over the limit is read up to the limit and
/// refused then, so that the client, still sending, gets its 413 instead
/// of a connection reset.
pub const DECLARED_BODY_REFUSE_FACTOR: usize = 8;

/// Answers 413 at once to a request that declares a huge body, instead of
/// waiting for bytes a slow or lying client may never send.
pub async fn refuse_huge_bodies(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An attachment upload has a limit of its own (one file, read to its
    // limit and refused there, as any body just over its limit).
    let (stated, limit) = if crate::attachments::is_upload(&request) {
        let stated = crate::attachments::UPLOAD_BODY_BYTES_MAX;
        (stated, (stated * 2) as u64)
    } else {
        let stated = crate::BODY_BYTES_MAX;
        (stated, (stated * DECLARED_BODY_REFUSE_FACTOR) as u64)
    };
    match declared {
        Some(length) if length > limit => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body would be {length} bytes; the limit is {stated}"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feeledger_core::note::KeyAlg;

    /// An overdraft's JSON body keeps its code and English message and adds
    /// its amounts as integer fen under `details`, the fund by its id; a
    /// code with nothing to add (a full log of cosignatures) has no
    /// `details` at all.
    #[test]
    fn an_overdraft_body_carries_its_amounts_as_details() {
        let overdraft = ApiError::from(StoreError::Rejected(ApplyError::Overdraft {
            fund: "operating".into(),
            balance_fen: 5_603_950,
            amount_fen: 10_000_000,
        }));
        assert_eq!(overdraft.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            overdraft.body(),
            serde_json::json!({"error": {
                "code": "overdraft",
                "message": "overdraft: fund \"operating\" holds ¥56,039.50, this entry takes ¥100,000.00",
                "details": {"fund": "operating", "balance_fen": 5_603_950_u64, "amount_fen": 10_000_000_u64},
            }})
        );
        let full = ApiError::from(StoreError::TooManyCosignatures { limit: 100 });
        assert_eq!(
            full.body()["error"].as_object().unwrap().get("details"),
            None
        );
    }

    /// A witness key of the wrong type is the caller's 400
    /// `not_a_witness_key`, not a proof error; a failed write of a witness
    /// key stays the store's 500; a proof asked beyond the log stays 400
    /// `bad_proof_request`.
    #[test]
    fn witness_and_proof_errors_map_to_their_own_codes() {
        let wrong = ApiError::from(WitnessError::NotACosignatureKey {
            name: "witness-a".into(),
            alg: KeyAlg::Ed25519,
        });
        assert_eq!(
            (wrong.status, wrong.code),
            (StatusCode::BAD_REQUEST, "not_a_witness_key")
        );
        let failed = ApiError::from(WitnessError::Store(StoreError::Poisoned));
        assert_eq!(
            (failed.status, failed.code),
            (StatusCode::INTERNAL_SERVER_ERROR, "io")
        );
        let beyond = ApiError::from(StoreError::SizeBeyondLog {
            size: 9,
            current: 3,
        });
        assert_eq!(
            (beyond.status, beyond.code),
            (StatusCode::BAD_REQUEST, "bad_proof_request")
        );
        assert_eq!(
            beyond.message,
            "proof request: tree size 9 is beyond the log's 3"
        );
    }
}

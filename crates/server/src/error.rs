//! Every error is `{"error": {"code": ..., "message": ...}}` with a 4xx or
//! 5xx status. The mapping from store and core errors lives here only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use feeledger_core::state::ApplyError;
use feeledger_store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
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
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
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
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match &e {
            StoreError::Rejected(apply) => apply_status(apply),
            StoreError::LeafTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            StoreError::LeafRefused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::NoCheckpoint { .. } | StoreError::NoProposal { .. } => {
                StatusCode::NOT_FOUND
            }
            StoreError::TooManyProposals { .. } => StatusCode::TOO_MANY_REQUESTS,
            StoreError::Proof(_) => StatusCode::BAD_REQUEST,
            StoreError::NotInitialized { .. }
            | StoreError::AlreadyInitialized { .. }
            | StoreError::Locked { .. }
            | StoreError::Damaged { .. }
            | StoreError::IncompatibleFormat { .. }
            | StoreError::WrongLogKey
            | StoreError::Signing(_)
            | StoreError::Io(_)
            | StoreError::BatchFailed { .. }
            | StoreError::Poisoned => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> ApiError {
        ApiError::new(apply_status(&e), e.code(), e.to_string())
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

/// Gives the few responses that axum and tower make themselves (405, 408)
/// the same JSON error body as every other error.
pub async fn json_errors(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    let has_body_type = response
        .headers()
        .contains_key(axum::http::header::CONTENT_TYPE);
    match status {
        StatusCode::METHOD_NOT_ALLOWED if !has_body_type => ApiError::new(
            status,
            "method_not_allowed",
            "this route does not take that method",
        )
        .into_response(),
        StatusCode::REQUEST_TIMEOUT if !has_body_type => {
            ApiError::new(status, "timeout", "the request took too long").into_response()
        }
        _ => response,
    }
}

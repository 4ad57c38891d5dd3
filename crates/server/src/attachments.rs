//! Attachments: `PUT /api/v1/proposals/{id}/attachments/{sha256}` keeps a
//! document a signed proposal lists, `GET /api/v1/attachments/{sha256}`
//! serves it. The rule of what is kept is the store's
//! (`Store::put_attachment`): only the bytes of an attachment a pending or
//! committed proposal lists, by hash and size. Blobs are not in the log;
//! the log binds their hash, so a server can withhold a file but cannot
//! change one unnoticed.

use crate::read::proposal_id;
use crate::{ApiError, ApiResult, Ledger};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use feeledger_core::hash::Hash;
use feeledger_store::{AttachmentError, AttachmentPut, ATTACHMENT_BYTES_MAX};
use serde::Deserialize;
use serde_json::{json, Value};

/// The most an upload's body may be: one attachment at the store's limit.
pub const UPLOAD_BODY_BYTES_MAX: usize = ATTACHMENT_BYTES_MAX as usize;

/// Longest file name put in a `Content-Disposition`, in characters.
const FILE_NAME_CHARS_MAX: usize = 200;

/// Whether a request is an attachment upload, whose body limit is
/// [`UPLOAD_BODY_BYTES_MAX`] rather than the API's.
pub fn is_upload(request: &axum::extract::Request) -> bool {
    request.method() == axum::http::Method::PUT && request.uri().path().contains("/attachments/")
}

impl From<AttachmentError> for ApiError {
    fn from(e: AttachmentError) -> ApiError {
        let e = match e {
            AttachmentError::Store(inner) => return ApiError::from(inner),
            other => other,
        };
        let status = match &e {
            AttachmentError::NoProposal { .. } => StatusCode::NOT_FOUND,
            AttachmentError::NotListed { .. }
            | AttachmentError::WrongSize { .. }
            | AttachmentError::HashMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AttachmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AttachmentError::NoAttachmentTree | AttachmentError::Store(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// A SHA-256 in a path: 64 lower-case hex digits.
fn attachment_hash(text: &str) -> ApiResult<Hash> {
    Hash::from_hex(text).map_err(|e| ApiError::bad_request(format!("attachment sha256: {e}")))
}

/// `PUT /api/v1/proposals/{id}/attachments/{sha256}`: the raw bytes of one
/// listed attachment. 201 when stored now, 200 when already stored.
pub async fn put(
    State(ledger): State<Ledger>,
    Path((id, sha)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = proposal_id(&id)?;
    let listed = attachment_hash(&sha)?;
    let bytes = crate::error::body_bytes(body)?;
    let size = bytes.len() as u64;
    let put = ledger
        .blocking(move |inner| Ok(inner.store.put_attachment(&id, &listed, &bytes)?))
        .await?;
    let status = match put {
        AttachmentPut::Stored => StatusCode::CREATED,
        AttachmentPut::AlreadyStored => StatusCode::OK,
    };
    Ok((
        status,
        Json(json!({"sha256": listed.to_hex(), "bytes": size})),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetQuery {
    /// The file name to offer when saving it.
    pub name: Option<String>,
}

/// `GET /api/v1/attachments/{sha256}`: the bytes, immutable (their name is
/// their hash). Always served as a download (`attachment`,
/// `application/octet-stream`, `nosniff`), never rendered on the ledger's
/// origin: a listed file could be HTML.
pub async fn get(
    State(ledger): State<Ledger>,
    Path(sha): Path<String>,
    Query(query): Query<GetQuery>,
) -> ApiResult<Response> {
    let sha256 = attachment_hash(&sha)?;
    let bytes = ledger
        .blocking(move |inner| Ok(inner.store.attachment(&sha256)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no attachment {sha256} is stored")))?;
    let disposition = content_disposition(query.name.as_deref().unwrap_or(""), &sha256);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`
/// of a name with only letters, digits and `. _ - ( )` and spaces kept
/// (no path, quote or control character survives), or the hash when
/// nothing is left.
fn content_disposition(name: &str, sha256: &Hash) -> HeaderValue {
    let kept: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || " ._-()".contains(*c))
        .take(FILE_NAME_CHARS_MAX)
        .collect();
    let kept = kept.trim().trim_start_matches('.').to_string();
    let kept = if kept.is_empty() {
        sha256.to_hex()
    } else {
        kept
    };
    let ascii: String = kept
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let encoded: String = kept
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name's path, quotes and control characters are dropped, Chinese is
    /// kept (percent-encoded), and an empty result falls back to the hash.
    #[test]
    fn file_names_are_sanitized() {
        let h = Hash([7; 32]);
        let v = content_disposition("../发票\"\r\n.pdf", &h);
        let text = v.to_str().unwrap();
        assert_eq!(
            text,
            "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8.pdf"
        );
        let v = content_disposition("\"/", &h);
        assert!(v.to_str().unwrap().contains(&h.to_hex()));
    }
}

//! `POST /add-checkpoint` (C2SP tlog-witness), turned around: cosigners —
//! committee members and registered witnesses — bring their cosignature on
//! a checkpoint of this log, and the server collects it.
//!
//! Request body: `old <N>\n`, the consistency proof from size N to the
//! checkpoint's size (one base64 hash per line), a blank line, then the
//! checkpoint note carrying the log's signature and the cosignature(s): a
//! cosigner sends its own line, not other cosigners' (each line is checked
//! against what its cosigner signed before).
//! N is the size of the last checkpoint this cosigner cosigned here (0 at
//! first).
//!
//! | status | when |
//! |---|---|
//! | 400 | the body does not parse |
//! | 403 | the log key did not sign it, or no known cosigner's signature verifies |
//! | 404 | the checkpoint is for another origin |
//! | 409 | N is not the size this cosigner last cosigned (body: that size, `text/x.tlog.size`) |
//! | 422 | the consistency proof fails, or the checkpoint is not one this log's tree has (a fork) |
//! | 200 | stored; the body is the cosignature line(s) |

use crate::{ApiError, ApiResult, Ledger};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use feeledger_core::merkle::verify_consistency;
use feeledger_core::note::{AddCheckpointRequest, Checkpoint, Note, NoteError};

fn size_conflict(size: u64) -> Response {
    (
        StatusCode::CONFLICT,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/x.tlog.size"),
        )],
        format!("{size}\n"),
    )
        .into_response()
}

pub async fn add_checkpoint(
    State(ledger): State<Ledger>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let bytes = crate::error::body_bytes(body)?;
    // Parsed by the core, which also builds the body the CLI sends.
    let request =
        AddCheckpointRequest::parse(&bytes).map_err(|e| ApiError::bad_request(e.to_string()))?;
    ledger
        .blocking(move |inner| {
            let store = &inner.store;
            let state = store.state();
            let note = Note::parse(&request.checkpoint)
                .map_err(|e| ApiError::bad_request(format!("checkpoint: {e}")))?;
            let checkpoint = Checkpoint::parse(&note.text)
                .map_err(|e| ApiError::bad_request(format!("checkpoint: {e}")))?;
            if checkpoint.origin != state.origin() {
                return Err(ApiError::not_found(format!(
                    "this server has no log {:?}",
                    checkpoint.origin
                )));
            }
            let mut cosigners = state.cosigner_keys();
            cosigners.extend(store.witnesses()?);
            let (_, verified) =
                feeledger_core::note::verify_checkpoint_note(&note, state.log_key(), &cosigners)
                    .map_err(|e| match e {
                        NoteError::Checkpoint(_) => ApiError::bad_request(e.to_string()),
                        _ => ApiError::new(StatusCode::FORBIDDEN, "bad_signature", e.to_string()),
                    })?;
            if verified.is_empty() {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "unknown_cosigner",
                    "no cosignature from a committee member or registered witness verifies",
                ));
            }
            for cosig in &verified {
                let recorded = store.cosigned_size(&cosig.name)?.unwrap_or(0);
                if recorded != request.old_size {
                    return Ok(size_conflict(recorded));
                }
            }
            if checkpoint.size < request.old_size {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    "old size is beyond the checkpoint",
                ));
            }
            if request.old_size > 0 {
                let old_root = store.root_at(request.old_size)?;
                verify_consistency(
                    request.old_size,
                    checkpoint.size,
                    &request.proof,
                    &old_root,
                    &checkpoint.root,
                )
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "inconsistent",
                        format!("consistency proof: {e}"),
                    )
                })?;
            } else if !request.proof.is_empty() {
                return Err(ApiError::bad_request("from size 0 the proof must be empty"));
            }
            let ours = (checkpoint.size <= store.size())
                .then(|| store.root_at(checkpoint.size))
                .transpose()?;
            if ours != Some(checkpoint.root) || store.checkpoint(checkpoint.size)?.is_none() {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "inconsistent",
                    format!(
                        "size {} root {} is not a checkpoint of this log (fork)",
                        checkpoint.size, checkpoint.root
                    ),
                ));
            }
            let mut lines = String::new();
            for cosig in &verified {
                let signature = note
                    .signatures
                    .iter()
                    .find(|s| s.name == cosig.name && s.key_id == cosig.key_id)
                    .expect("verified signatures come from the note")
                    .clone();
                lines.push_str(&signature.to_line());
                store.add_cosignature(checkpoint.size, signature)?;
            }
            // The cosigned note is what readers want: the mirror writes
            // the checkpoint again.
            inner.notify_committed();
            Ok((
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                )],
                lines,
            )
                .into_response())
        })
        .await
}

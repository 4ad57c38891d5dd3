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
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::{verify_consistency, PROOF_HASHES_MAX};
use feeledger_core::note::{Checkpoint, Note, NoteError};

/// A parsed add-checkpoint request.
#[derive(Debug)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: Vec<u8>,
}

/// Parses the tlog-witness request body.
///
/// # Errors
/// A message saying what is malformed.
pub fn parse_add_checkpoint(body: &[u8]) -> Result<AddCheckpoint, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let (head, checkpoint) = text
        .split_once("\n\n")
        .ok_or("no blank line before the checkpoint")?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .ok_or("the first line must be \"old <size>\"")?;
    let canonical = !old.is_empty()
        && old.bytes().all(|b| b.is_ascii_digit())
        && (old == "0" || !old.starts_with('0'));
    let old_size: u64 = if canonical {
        old.parse().map_err(|_| "old size too large")?
    } else {
        return Err("bad old size".into());
    };
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() as u64 >= PROOF_HASHES_MAX {
            return Err("too many proof lines".into());
        }
        let bytes = BASE64
            .decode(line)
            .map_err(|_| format!("proof line {line:?} is not base64"))?;
        proof.push(Hash::from_slice(&bytes).ok_or("a proof hash is not 32 bytes")?);
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        checkpoint: checkpoint.as_bytes().to_vec(),
    })
}

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
    let request = parse_add_checkpoint(&bytes).map_err(ApiError::bad_request)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The request body parses as tlog-witness lays it out, and malformed ones are refused.
    #[test]
    fn parses_request_bodies() {
        let h = BASE64.encode([7u8; 32]);
        let body = format!("old 3\n{h}\n{h}\n\norigin\n5\nroot\n\n— x y\n");
        let r = parse_add_checkpoint(body.as_bytes()).unwrap();
        assert_eq!((r.old_size, r.proof.len()), (3, 2));
        assert!(r.checkpoint.starts_with(b"origin\n5\n"));
        for bad in [
            "old 03\n\nx",
            "old -1\n\nx",
            "new 3\n\nx",
            "old 3\nnotbase64!\n\nx",
            "old 3",
        ] {
            assert!(parse_add_checkpoint(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

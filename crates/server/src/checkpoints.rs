//! Checkpoints beside the latest: the latest one the committee or a
//! witness cosigned, and any kept checkpoint by its size.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/checkpoints/cosigned` | the largest checkpoint carrying a cosignature, as a signed note with every line collected for it; 404 `no_cosigned_checkpoint` before the first |
//! | `GET /api/v1/checkpoints/{size}` | the checkpoint of that tree size, as stored (with its cosignatures); 404 `not_found` if the store keeps none of that size |
//!
//! Both are text/plain signed notes, byte for byte what the store holds,
//! so a reader checks them exactly as `/checkpoint`: the log's signature,
//! then each cosignature against keys it knows (docs/format.md §14.3). A
//! checkpoint's bytes can still change when a cosignature is added, so
//! neither is cached for long.

use crate::{ApiError, ApiResult, Ledger};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

fn note(bytes: Vec<u8>) -> ApiResult<Response> {
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "damaged",
            "a stored checkpoint is not UTF-8",
        )
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        text,
    )
        .into_response())
}

pub async fn cosigned(State(ledger): State<Ledger>) -> ApiResult<Response> {
    let found = ledger
        .blocking(|inner| Ok(inner.store.latest_cosigned_checkpoint()?))
        .await?;
    match found {
        Some((_, bytes)) => note(bytes),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_cosigned_checkpoint",
            "no checkpoint of this log is cosigned yet: no committee member or witness has confirmed it",
        )),
    }
}

pub async fn by_size(
    State(ledger): State<Ledger>,
    Path(size): Path<String>,
) -> ApiResult<Response> {
    let Ok(size) = size.parse::<u64>() else {
        return Err(ApiError::bad_request(format!(
            "{size:?} is not a tree size (a decimal number of entries, or \"cosigned\")"
        )));
    };
    let found = ledger
        .blocking(move |inner| Ok((inner.store.checkpoint(size)?, inner.store.size())))
        .await?;
    match found {
        (Some(bytes), _) => note(bytes),
        (None, current) => Err(ApiError::not_found(format!(
            "no checkpoint of size {size} is kept (the log has {current} entries; a checkpoint is kept for the size after each committed batch)"
        ))),
    }
}

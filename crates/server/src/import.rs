//! `POST /api/v1/import/preview`: a CSV file's bytes in, and out either the
//! unsigned canonical bodies `feeledger import` would sign, one per row, or
//! every bad row by its line number and reason. The file is read by
//! `feeledger-import`, the same library and rules as the CLI, so the page
//! never re-implements them. Each body is also looked up in the ledger:
//! a row already recorded (the same file imported before) is marked so,
//! with its entry's sequence number.
//!
//! **Invariant:** this route stores nothing and signs nothing. Whoever
//! proposes signs the bodies with their own key and sends them to
//! `POST /api/v1/proposals/batch`, which checks everything again.

use crate::{ApiError, ApiResult, Ledger};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use feeledger_import::{read_csv, ImportError, LedgerInfo, RowWarning, Sheet};
use serde_json::{json, Value};

/// The status of a file that cannot be imported: 413 for one over
/// [`feeledger_import::FILE_BYTES_MAX`], 422 for every other reason.
fn status_of(e: &ImportError) -> StatusCode {
    match e {
        ImportError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The error body of a file that cannot be imported: the usual
/// `{"error": {"code", "message"}}`, with the details a page needs to say
/// it in its own words (`rows` for `bad_rows`, `line`, `column`).
fn refusal(e: &ImportError) -> Response {
    let mut error = json!({"code": e.code(), "message": e.to_string()});
    match e {
        ImportError::Rows { errors, bad_rows } => {
            error["bad_rows"] = json!(bad_rows);
            error["rows"] = errors
                .iter()
                .map(|r| {
                    json!({
                        "line": r.line,
                        "code": r.problem.code(),
                        "column": r.problem.column().map(|c| c.en()),
                        "message": r.problem.to_string(),
                    })
                })
                .collect();
        }
        ImportError::Csv { line, .. } => error["line"] = json!(line),
        ImportError::UnknownColumn {
            column_number,
            text,
        } => {
            error["column_number"] = json!(column_number);
            error["text"] = json!(text);
        }
        ImportError::DuplicateColumn { text } => error["text"] = json!(text),
        ImportError::MissingColumn { column } => error["column"] = json!(column.en()),
        _ => {}
    }
    (status_of(e), Json(json!({ "error": error }))).into_response()
}

fn warning_view(w: &RowWarning) -> Value {
    match w {
        RowWarning::UnusualFund {
            line,
            category,
            fund,
            usual,
        } => json!({
            "line": line,
            "code": "unusual_fund",
            "category": category.as_str(),
            "fund": fund,
            "usual": usual,
            "message": w.to_string(),
        }),
        RowWarning::Identical { line, first_line } => json!({
            "line": line,
            "code": "identical",
            "first_line": first_line,
            "message": w.to_string(),
        }),
    }
}

/// The preview of a sheet read whole: each row's canonical body, its id,
/// and whether the ledger already holds it.
fn preview_view(store: &feeledger_store::Store, sheet: &Sheet) -> ApiResult<Value> {
    let mut rows = Vec::with_capacity(sheet.rows.len());
    let (mut new, mut recorded) = (0u64, 0u64);
    for row in &sheet.rows {
        let body_bytes = row.body.to_canonical_bytes();
        let body_jcs = String::from_utf8(body_bytes).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        let id = feeledger_core::hash::sha256(body_jcs.as_bytes()).to_hex();
        let mut view = json!({"line": row.line, "id": id, "body_jcs": body_jcs});
        match store.lookups(&row.body)?.body_seen_at {
            Some(seq) => {
                recorded += 1;
                view["status"] = json!("recorded");
                view["seq"] = json!(seq);
            }
            None => {
                new += 1;
                view["status"] = json!("new");
            }
        }
        rows.push(view);
    }
    Ok(json!({
        "encoding": sheet.encoding.label(),
        "count": rows.len(),
        "new": new,
        "recorded": recorded,
        "rows": rows,
        "warnings": sheet.warnings.iter().map(warning_view).collect::<Vec<_>>(),
    }))
}

/// Today's date in UTC, against which business dates are checked (as the
/// CLI's `feeledger import` does).
fn today() -> feeledger_core::entry::Date {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    feeledger_core::genesis::date_from_days(i64::try_from(now_ms / 86_400_000).unwrap_or(0))
}

pub async fn preview(
    State(ledger): State<Ledger>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let bytes = crate::error::body_bytes(body)?;
    ledger
        .blocking(move |inner| {
            let state = inner.store.state();
            let info = LedgerInfo {
                origin: state.origin(),
                funds: &state.genesis().funds,
            };
            match read_csv(&bytes, &info, today()) {
                Ok(sheet) => {
                    Ok((StatusCode::OK, Json(preview_view(&inner.store, &sheet)?)).into_response())
                }
                Err(e) => Ok(refusal(&e)),
            }
        })
        .await
}

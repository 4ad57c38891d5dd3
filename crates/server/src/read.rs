//! Public reads. Everything a verifier needs comes with the bytes it must hash.

use crate::{ApiError, ApiResult, Ledger};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use feeledger_core::entry::{Kind, Leaf, Month};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::note::{Checkpoint, Note, Receipt};
use feeledger_core::proposal_policy::IdPrefix;
use feeledger_core::tiles::parse_tile_path;
use feeledger_store::PROPOSALS_PAGE_MAX;
use feeledger_store::WITHDRAWN_LIST_MAX;
use feeledger_store::{EntryFilter, Order, ProposalRecord, Store, Withdrawn, LIST_LIMIT_MAX};
use serde::Deserialize;
use serde_json::{json, Value};

/// Default page size of listings.
pub const PAGE_DEFAULT: usize = 50;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn text(body: impl Into<String>, cache: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body.into(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

pub async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        include_str!("openapi.json"),
    )
        .into_response()
}

pub async fn checkpoint(State(ledger): State<Ledger>) -> ApiResult<Response> {
    let bytes = ledger
        .blocking(|inner| Ok(inner.store.latest_checkpoint()?))
        .await?;
    let text_body =
        String::from_utf8(bytes).map_err(|_| ApiError::bad_request("checkpoint is not UTF-8"))?;
    Ok(text(text_body, "no-cache"))
}

/// C2SP tlog-tiles. A malformed path or a tile beyond the tree is a 404;
/// the path never reaches the filesystem.
pub async fn tile(
    State(ledger): State<Ledger>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> ApiResult<Response> {
    let Ok(Path(path)) = path else {
        return Err(ApiError::not_found("not a tile path"));
    };
    let Some(tile) = parse_tile_path(&path) else {
        return Err(ApiError::not_found(format!("not a tile path: {path:?}")));
    };
    // The bytes are assembled by the core, through the store: the one
    // definition of a tile that the backup and the mirror share.
    let bytes = ledger
        .blocking(move |inner| {
            inner
                .store
                .tile_bytes(&tile)?
                .ok_or_else(|| ApiError::not_found("tile is beyond the tree"))
        })
        .await?;
    let cache = if tile.partial_width.is_none() {
        IMMUTABLE
    } else {
        "public, max-age=3600"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response())
}

/// An entry as the API shows it: decoded, with the exact leaf bytes and hash.
pub fn entry_view(store: &Store, seq: u64, bytes: &[u8]) -> ApiResult<Value> {
    let leaf = Leaf::decode(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "damaged",
            format!("entry {seq}: {e}"),
        )
    })?;
    let state = store.state();
    let signers: Vec<Value> = leaf
        .signatures
        .iter()
        .map(|s| json!({"key": s.key, "role": state.role_of(&s.key).map(|r| r.as_str())}))
        .collect();
    Ok(json!({
        "seq": seq,
        "kind": leaf.body.kind().as_str(),
        "leaf": leaf.to_value(),
        "leaf_base64": BASE64.encode(bytes),
        "leaf_hash": leaf_hash(bytes).to_hex(),
        "body_id": leaf.body.id().to_hex(),
        "signers": signers,
        "reversed_by": store.reversed_by(seq)?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    from: Option<u64>,
    limit: Option<usize>,
    order: Option<String>,
    fund: Option<String>,
    category: Option<String>,
    payer: Option<String>,
    month: Option<String>,
    kind: Option<String>,
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> ApiResult<T> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn list_page(store: &Store, q: ListQuery, party: Option<String>) -> ApiResult<Value> {
    let limit = q.limit.unwrap_or(PAGE_DEFAULT);
    if limit == 0 || limit > LIST_LIMIT_MAX {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {LIST_LIMIT_MAX}"
        )));
    }
    let order = match q.order.as_deref() {
        None | Some("asc") => Order::Ascending,
        Some("desc") => Order::Descending,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "order must be asc or desc, not {other:?}"
            )))
        }
    };
    let filter = EntryFilter {
        fund: q.fund,
        category: q.category,
        party: party.or(q.payer),
        month: q
            .month
            .map(|m| {
                Month::parse(&m)
                    .ok_or_else(|| ApiError::bad_request(format!("month {m:?} is not YYYY-MM")))
            })
            .transpose()?,
        kind: q
            .kind
            .map(|k| {
                Kind::parse(&k).ok_or_else(|| ApiError::bad_request(format!("unknown kind {k:?}")))
            })
            .transpose()?,
    };
    let page = store.list(&filter, order, q.from, limit)?;
    let entries = page
        .entries
        .iter()
        .map(|(seq, bytes)| entry_view(store, *seq, bytes))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(json!({"entries": entries, "next": page.next, "size": store.size()}))
}

pub async fn entries(
    State(ledger): State<Ledger>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    Ok(Json(
        ledger
            .blocking(move |inner| list_page(&inner.store, q, None))
            .await?,
    ))
}

pub async fn payer_entries(
    State(ledger): State<Ledger>,
    Path(unit): Path<String>,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    Ok(Json(
        ledger
            .blocking(move |inner| list_page(&inner.store, q, Some(unit)))
            .await?,
    ))
}

fn seq_param(seq: &str) -> ApiResult<u64> {
    seq.parse()
        .map_err(|_| ApiError::bad_request(format!("{seq:?} is not an entry number")))
}

fn leaf_or_404(store: &Store, seq: u64) -> ApiResult<Vec<u8>> {
    store.leaf_bytes(seq)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no entry {seq} (the ledger has {})",
            store.size()
        ))
    })
}

pub async fn entry(
    State(ledger): State<Ledger>,
    Path(seq): Path<String>,
) -> ApiResult<Json<Value>> {
    let seq = seq_param(&seq)?;
    Ok(Json(
        ledger
            .blocking(move |inner| {
                let bytes = leaf_or_404(&inner.store, seq)?;
                entry_view(&inner.store, seq, &bytes)
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeQuery {
    size: Option<u64>,
}

fn hashes_base64(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(|h| BASE64.encode(h.0)).collect()
}

pub async fn inclusion_proof(
    State(ledger): State<Ledger>,
    Path(seq): Path<String>,
    q: Result<Query<SizeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let seq = seq_param(&seq)?;
    let q = query(q)?;
    Ok(Json(
        ledger
            .blocking(move |inner| {
                let store = &inner.store;
                let size = q.size.unwrap_or_else(|| store.size());
                if size > store.size() {
                    return Err(ApiError::not_found(format!(
                        "the log has no tree of size {size} yet"
                    )));
                }
                if seq >= size {
                    return Err(ApiError::bad_request(format!(
                        "entry {seq} is not in a tree of size {size}"
                    )));
                }
                let bytes = leaf_or_404(store, seq)?;
                let proof = store.inclusion_proof(seq, size)?;
                Ok(json!({
                    "index": seq,
                    "size": size,
                    "leaf_hash": leaf_hash(&bytes).to_hex(),
                    "root": store.root_at(size)?.to_hex(),
                    "proof": hashes_base64(&proof),
                }))
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

pub async fn consistency(
    State(ledger): State<Ledger>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    Ok(Json(
        ledger
            .blocking(move |inner| {
                let store = &inner.store;
                let to = q.to.unwrap_or_else(|| store.size());
                if to > store.size() {
                    return Err(ApiError::not_found(format!(
                        "the log has no tree of size {to} yet"
                    )));
                }
                if q.from == 0 || q.from > to {
                    return Err(ApiError::bad_request(format!(
                        "need 0 < from <= to, got from={} to={to}",
                        q.from
                    )));
                }
                let proof = store.consistency_proof(q.from, to)?;
                // The two roots the proof links, so that a client holding
                // neither checkpoint can still see what was proven; a
                // careful client compares them with roots it trusts.
                Ok(json!({
                    "from": q.from,
                    "to": to,
                    "from_root": store.root_at(q.from)?.to_hex(),
                    "to_root": store.root_at(to)?.to_hex(),
                    "proof": hashes_base64(&proof),
                }))
            })
            .await?,
    ))
}

/// The receipt of `seq` against the latest checkpoint.
pub fn receipt_text(store: &Store, seq: u64) -> ApiResult<String> {
    let bytes = leaf_or_404(store, seq)?;
    let note = Note::parse(&store.latest_checkpoint()?)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "damaged", e.to_string()))?;
    let size = Checkpoint::parse(&note.text)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "damaged", e.to_string()))?
        .size;
    let proof = store.inclusion_proof(seq, size)?;
    Ok(Receipt {
        leaf: bytes,
        index: seq,
        proof,
        checkpoint: note,
    }
    .to_text())
}

pub async fn receipt(State(ledger): State<Ledger>, Path(seq): Path<String>) -> ApiResult<Response> {
    let seq = seq_param(&seq)?;
    let body = ledger
        .blocking(move |inner| receipt_text(&inner.store, seq))
        .await?;
    Ok(text(body, "no-cache"))
}

pub async fn ledger_info(State(ledger): State<Ledger>) -> ApiResult<Json<Value>> {
    Ok(Json(
        ledger
            .blocking(|inner| {
                let store = &inner.store;
                let state = store.state();
                let genesis = leaf_or_404(store, 0)?;
                let witnesses: Vec<String> =
                    store.witnesses()?.iter().map(|w| w.to_string()).collect();
                let cosigners: Vec<String> = state
                    .cosigner_keys()
                    .iter()
                    .map(|k| k.to_string())
                    .collect();
                Ok(json!({
                    "origin": state.origin(),
                    "name": state.genesis().name,
                    "currency": state.genesis().currency,
                    "minor_unit": state.genesis().minor_unit,
                    "funds": state.genesis().funds,
                    "roles": state.roles(),
                    "rules": state.rules(),
                    "log_key": state.log_key().to_string(),
                    "cosigner_keys": cosigners,
                    "witness_keys": witnesses,
                    "size": state.size(),
                    "genesis_leaf_base64": BASE64.encode(&genesis),
                }))
            })
            .await?,
    ))
}

pub async fn balances(State(ledger): State<Ledger>) -> ApiResult<Json<Value>> {
    Ok(Json(
        ledger
            .blocking(|inner| {
                let state = inner.store.state();
                Ok(json!({"size": state.size(), "balances_fen": state.balances()}))
            })
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    month: Option<String>,
    /// Without `month`: the months before this one (the cursor `next`).
    before: Option<String>,
}

/// Most months one summary returns; older ones follow the `next` cursor.
/// Two years: what the page's chart shows, and a bound on the request's
/// cost however many years the ledger spans.
pub const SUMMARY_MONTHS_MAX: usize = 24;

fn month_param(name: &str, m: Option<String>) -> ApiResult<Option<Month>> {
    m.map(|m| {
        Month::parse(&m)
            .ok_or_else(|| ApiError::bad_request(format!("{name} {m:?} is not YYYY-MM")))
    })
    .transpose()
}

fn totals_rows(totals: feeledger_core::state::CategoryTotals) -> Vec<Value> {
    totals
        .into_iter()
        .map(|((fund, category), (income, spending))| {
            json!({"fund": fund, "category": category, "income_fen": income, "spending_fen": spending})
        })
        .collect()
}

/// `GET /api/v1/summary`: one month's totals (`month`), or the all-time
/// totals, the first month and the latest [`SUMMARY_MONTHS_MAX`] months
/// (before `before`, if given), each read from totals kept as entries are
/// appended: no request walks every month.
pub async fn summary(
    State(ledger): State<Ledger>,
    q: Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = query(q)?;
    let month = month_param("month", q.month)?;
    let before = month_param("before", q.before)?;
    if month.is_some() && before.is_some() {
        return Err(ApiError::bad_request(
            "give month (one month) or before (the months before it), not both",
        ));
    }
    Ok(Json(
        ledger
            .blocking(move |inner| {
                let store = &inner.store;
                let month_view = |m: Month| -> ApiResult<Value> {
                    Ok(json!({"month": m.to_string(), "totals": totals_rows(store.month_totals(m)?)}))
                };
                if let Some(m) = month {
                    return Ok(json!({"months": [month_view(m)?]}));
                }
                // One more than a page, to know whether older months follow.
                let mut months = store.months_before(before, SUMMARY_MONTHS_MAX + 1)?;
                let next = (months.len() > SUMMARY_MONTHS_MAX).then(|| {
                    months.truncate(SUMMARY_MONTHS_MAX);
                    months.last().map(|m| m.to_string())
                });
                let mut out = months
                    .into_iter()
                    .map(month_view)
                    .collect::<ApiResult<Vec<_>>>()?;
                out.reverse();
                Ok(json!({
                    "all_time": totals_rows(store.all_time_totals()?),
                    "first_month": store.first_month()?.map(|m| m.to_string()),
                    "months": out,
                    "next": next.flatten(),
                }))
            })
            .await?,
    ))
}

/// A pending proposal with how far its signatures go, evaluated now, who
/// proposed it, and any withdrawal signatures so far.
fn proposal_view(store: &Store, record: &ProposalRecord) -> ApiResult<Value> {
    let p = &record.proposal;
    let body = p.decoded_body()?;
    // Signatures verified once per proposal (and again if they or the keys
    // in force change), not on every listing: see `Store::proposal_status`.
    let status = match store.proposal_status(record)? {
        Ok(approval) => {
            json!({"progress": approval.progress.iter().map(|(role, (have, need))| json!({"role": role, "have": have, "need": need})).collect::<Vec<_>>()})
        }
        Err(e) => {
            let mut blocked = json!({"code": e.code(), "message": e.to_string()});
            if let Some(details) = crate::error::apply_details(&e) {
                blocked["details"] = details;
            }
            json!({ "blocked": blocked })
        }
    };
    Ok(json!({
        "id": p.id.to_hex(),
        "state": "pending",
        "body": body.to_value(),
        "body_jcs": p.body,
        "signatures": p.signatures,
        "created_ms": p.created_ms,
        "proposed_by": record.proposers(),
        "withdrawals": record.withdrawals,
        "status": status,
    }))
}

/// A withdrawn proposal: what it was, and who withdrew it and when.
fn withdrawn_view(w: &Withdrawn) -> ApiResult<Value> {
    let p = &w.record.proposal;
    Ok(json!({
        "id": p.id.to_hex(),
        "state": "withdrawn",
        "body": p.decoded_body()?.to_value(),
        "body_jcs": p.body,
        "signatures": p.signatures,
        "created_ms": p.created_ms,
        "proposed_by": w.record.proposers(),
        "withdrawals": w.record.withdrawals,
        "withdrawn_by": w.withdrawn_by,
        "withdrawn_ms": w.withdrawn_ms,
    }))
}

/// `GET /api/v1/proposals` query: which proposals.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalsQuery {
    /// `pending` (the default) or `withdrawn` (the most recent first).
    state: Option<String>,
    /// At least 8 hex digits: only the proposals whose id starts with them.
    prefix: Option<String>,
    /// Pending proposals after this id (64 hex digits): the `next` of the
    /// page before.
    after: Option<String>,
    /// Pending proposals per page: 1 to [`PROPOSALS_PAGE_MAX`], by default
    /// [`PROPOSALS_PAGE_DEFAULT`].
    limit: Option<usize>,
}

/// Pending proposals on one page by default.
pub const PROPOSALS_PAGE_DEFAULT: usize = 100;

/// Most proposals a prefix search returns: enough to name an ambiguity.
const PREFIX_MATCHES_MAX: usize = 16;

pub async fn proposals(
    State(ledger): State<Ledger>,
    q: Result<Query<ProposalsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let query = self::query(q)?;
    let limit = query.limit.unwrap_or(PROPOSALS_PAGE_DEFAULT);
    if limit == 0 || limit > PROPOSALS_PAGE_MAX {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {PROPOSALS_PAGE_MAX}"
        )));
    }
    let after = query.after.as_deref().map(proposal_id).transpose()?;
    if after.is_some() && (query.prefix.is_some() || query.state.as_deref() == Some("withdrawn")) {
        return Err(ApiError::bad_request(
            "after pages the pending proposals: give it without prefix or state=withdrawn",
        ));
    }
    let (pending, withdrawn) = match query.state.as_deref() {
        None => (true, query.prefix.is_some()),
        Some("pending") => (true, false),
        Some("withdrawn") => (false, true),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state={other:?}: give pending or withdrawn"
            )))
        }
    };
    let prefix = query
        .prefix
        .as_deref()
        .map(IdPrefix::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(
        ledger
            .blocking(move |inner| {
                let store = &inner.store;
                let mut views = Vec::new();
                if let Some(prefix) = prefix {
                    for id in store.proposal_ids_with_prefix(&prefix, PREFIX_MATCHES_MAX)? {
                        match (store.proposal_record(&id)?, store.withdrawn(&id)?) {
                            (Some(record), _) if pending => {
                                views.push(proposal_view(store, &record)?)
                            }
                            (None, Some(w)) if withdrawn => views.push(withdrawn_view(&w)?),
                            _ => {}
                        }
                    }
                    return Ok(json!({ "proposals": views }));
                }
                let mut next = None;
                if pending {
                    let (records, more) = store.proposal_records_after(after.as_ref(), limit)?;
                    for record in records {
                        views.push(proposal_view(store, &record)?);
                    }
                    next = more.map(|id| id.to_hex());
                }
                if withdrawn {
                    for w in store.withdrawn_recent(WITHDRAWN_LIST_MAX)? {
                        views.push(withdrawn_view(&w)?);
                    }
                }
                Ok(json!({ "proposals": views, "next": next }))
            })
            .await?,
    ))
}

pub fn proposal_id(id: &str) -> ApiResult<Hash> {
    Hash::from_hex(id).map_err(|e| ApiError::bad_request(format!("proposal id: {e}")))
}

pub async fn proposal(
    State(ledger): State<Ledger>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = proposal_id(&id)?;
    Ok(Json(
        ledger
            .blocking(move |inner| {
                if let Some(record) = inner.store.proposal_record(&id)? {
                    return proposal_view(&inner.store, &record);
                }
                match inner.store.withdrawn(&id)? {
                    Some(w) => withdrawn_view(&w),
                    None => Err(ApiError::not_found(format!("no pending proposal {id}"))),
                }
            })
            .await?,
    ))
}

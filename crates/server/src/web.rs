//! The residents' web page: plain HTML, CSS and JS modules embedded in the
//! binary, so it needs no build step and no CDN. The files are served as
//! they are; nothing here checks or trusts them (the page's own checks are
//! in `web/verify.js`).

use crate::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// JavaScript's content type: browsers run an ES module only when it is
/// served with a JavaScript MIME type.
const JS: &str = "text/javascript; charset=utf-8";

/// The page's files: (name, content type, bytes). `index.html` loads
/// `app.js` as a module, which imports the others by relative path, so
/// each is served at `/assets/<name>`; `receipt.html` (at `/receipt/{seq}`)
/// loads `receipt.js` the same way. Vendored code (`web/vendor/`, see
/// its README) is served by its file name too.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("../web/app.js")),
    ("strings.js", JS, include_str!("../web/strings.js")),
    ("dom.js", JS, include_str!("../web/dom.js")),
    ("format.js", JS, include_str!("../web/format.js")),
    ("chart.js", JS, include_str!("../web/chart.js")),
    ("verify.js", JS, include_str!("../web/verify.js")),
    ("replay.js", JS, include_str!("../web/replay.js")),
    ("tlog.js", JS, include_str!("../web/tlog.js")),
    ("worker.js", JS, include_str!("../web/worker.js")),
    (
        "ledger-state.js",
        JS,
        include_str!("../web/ledger-state.js"),
    ),
    ("keys.js", JS, include_str!("../web/keys.js")),
    ("sign.js", JS, include_str!("../web/sign.js")),
    ("receipt.js", JS, include_str!("../web/receipt.js")),
    ("enrol.js", JS, include_str!("../web/enrol.js")),
    ("genesis.js", JS, include_str!("../web/genesis.js")),
    ("propose.js", JS, include_str!("../web/propose.js")),
    ("import.js", JS, include_str!("../web/import.js")),
    ("errors.js", JS, include_str!("../web/errors.js")),
    ("confirm.js", JS, include_str!("../web/confirm.js")),
    ("statement.js", JS, include_str!("../web/statement.js")),
    ("qrcode.mjs", JS, include_str!("../web/vendor/qrcode.mjs")),
    ("platform.js", JS, include_str!("../web/platform.js")),
    ("base.js", JS, include_str!("../web/base.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../web/style.css"),
    ),
];

/// The residents' page as files, for a static copy of it (the bucket
/// mirror, `feeledger-mirror`): (path relative to the ledger's base, content
/// type, bytes). `index.html` and every asset under `assets/`, as this
/// server serves them, so a copy loads the same modules by the same
/// relative paths. The receipt and platform pages are left out: each needs
/// a server (a receipt's address is `/receipt/{seq}`, a route; the platform
/// index lists what the platform serves).
pub fn page_files() -> impl Iterator<Item = (String, &'static str, &'static str)> {
    std::iter::once((
        "index.html".to_string(),
        "text/html; charset=utf-8",
        include_str!("../web/index.html"),
    ))
    .chain(
        ASSETS
            .iter()
            .map(|(name, content_type, body)| (format!("assets/{name}"), *content_type, *body)),
    )
}

/// The validator of a page file: the first 128 bits of its SHA-256, so a
/// returning browser revalidates with `If-None-Match` and gets a 304 with
/// no body instead of the file again. Files change only with the binary;
/// each one's tag is computed once. The tag is weak (`W/`): the same file
/// goes out gzipped or as it is (the compression layer in `ledger_router`
/// follows `Accept-Encoding`), and a strong tag would have to differ
/// between those two byte strings (RFC 9110 §8.8.1); a weak one names the
/// file's content, which is what revalidation needs.
fn etag(body: &'static str) -> HeaderValue {
    static TAGS: OnceLock<Mutex<HashMap<usize, HeaderValue>>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut tags = tags
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tags.entry(body.as_ptr() as usize)
        .or_insert_with(|| {
            let hex = feeledger_core::hash::sha256(body.as_bytes()).to_hex();
            HeaderValue::from_str(&format!("W/\"{}\"", &hex[..32]))
                .expect("hex digits in quotes are a valid header value")
        })
        .clone()
}

/// Whether `If-None-Match` names `tag` (or is `*`); tags compare by their
/// opaque part, weak or not (the weak comparison RFC 9110 §13.1.2 asks
/// for this header).
fn not_modified(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let Some(tag) = tag.to_str().ok() else {
        return false;
    };
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

fn file(content_type: &'static str, body: &'static str, headers: &HeaderMap) -> Response {
    let tag = etag(body);
    if not_modified(headers, &tag) {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, tag),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, tag),
        ],
        body,
    )
        .into_response()
}

pub async fn index(headers: HeaderMap) -> Response {
    file(
        "text/html; charset=utf-8",
        include_str!("../web/index.html"),
        &headers,
    )
}

/// The readable receipt of entry `seq`, a page (`web/receipt.js` fetches
/// and verifies the entry, and says so if there is none). A path that is
/// not an entry number is refused as the API refuses it: 400 `malformed`.
/// A platform's index page (`platform.html`): its communities.
pub fn platform_index(headers: &HeaderMap) -> Response {
    file(
        "text/html; charset=utf-8",
        include_str!("../web/platform.html"),
        headers,
    )
}

pub async fn receipt(Path(seq): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !seq.bytes().all(|b| b.is_ascii_digit()) || seq.parse::<u64>().is_err() {
        return Err(ApiError::bad_request(format!(
            "{seq:?} is not an entry number: a receipt's address is /receipt/ and the entry number, e.g. /receipt/12"
        )));
    }
    Ok(file(
        "text/html; charset=utf-8",
        include_str!("../web/receipt.html"),
        &headers,
    ))
}

pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, body)| file(content_type, body, &headers))
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))
}

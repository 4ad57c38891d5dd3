//! The residents' web page: plain HTML, CSS and JS modules embedded in the
//! binary, so it needs no build step and no CDN. The files are served as
//! they are; nothing here checks or trusts them (the page's own checks are
//! in `web/verify.js`).

use crate::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

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
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../web/style.css"),
    ),
];

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    file(
        "text/html; charset=utf-8",
        include_str!("../web/index.html"),
    )
}

/// The readable receipt of entry `seq`, a page (`web/receipt.js` fetches
/// and verifies the entry, and says so if there is none). A path that is
/// not an entry number is refused as the API refuses it: 400 `malformed`.
pub async fn receipt(Path(seq): Path<String>) -> Result<Response, ApiError> {
    if !seq.bytes().all(|b| b.is_ascii_digit()) || seq.parse::<u64>().is_err() {
        return Err(ApiError::bad_request(format!(
            "{seq:?} is not an entry number: a receipt's address is /receipt/ and the entry number, e.g. /receipt/12"
        )));
    }
    Ok(file(
        "text/html; charset=utf-8",
        include_str!("../web/receipt.html"),
    ))
}

pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, body)| file(content_type, body))
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))
}

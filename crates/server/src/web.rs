//! The residents' web page: plain HTML, CSS and JS modules embedded in the
//! binary, so it needs no build step and no CDN.

use crate::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The page's files: (name, content type, bytes).
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/app.js"),
    ),
    (
        "verify.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/verify.js"),
    ),
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

pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, content_type, body)| file(content_type, body))
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))
}

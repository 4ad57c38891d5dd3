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
/// each is served at `/assets/<name>` and, as the served HTML names it, at
/// `/assets/v/{build tag}/<name>` (`tagged_html`); `receipt.html` (at `/receipt/{seq}`)
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
    ("idb.js", JS, include_str!("../web/idb.js")),
    ("kept.js", JS, include_str!("../web/kept.js")),
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

/// How long a browser keeps a file named by its build tag without asking
/// again: a year, and `immutable`, because the name changes whenever the
/// content does (RFC 8246).
const TAGGED_ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// The build tag: the first 128 bits of SHA-256 over every asset's name and
/// bytes. The page's HTML names its files under `assets/v/{tag}/`, so a
/// returning browser reuses its copies without a single request, and a new
/// build (any file changed) is new addresses, fetched once. Relative
/// imports resolve under the same folder, in the page and in the check's
/// worker alike, so no module needs rewriting.
pub fn build_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let mut all = Vec::new();
        for (name, content_type, body) in ASSETS {
            for part in [name.as_bytes(), content_type.as_bytes(), body.as_bytes()] {
                all.extend_from_slice(&(part.len() as u64).to_be_bytes());
                all.extend_from_slice(part);
            }
        }
        feeledger_core::hash::sha256(&all).to_hex()[..32].to_string()
    })
}

/// The module names that `source` imports statically (`import ... from
/// './x.js'`, `import './x.js'`, `export ... from './x.js'`), in order.
/// Dynamic `import('./x.js')` is left out: it loads only when asked.
fn static_imports(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for line in source.lines() {
        let line = line.trim_start();
        if !(line.starts_with("import ") || line.starts_with("export ") || line.starts_with('}')) {
            continue;
        }
        for quote in ['\'', '"'] {
            for marker in [format!("from {quote}./"), format!("import {quote}./")] {
                if let Some(at) = line.find(&marker) {
                    let rest = &line[at + marker.len()..];
                    if let Some(end) = rest.find(quote) {
                        names.push(&rest[..end]);
                    }
                }
            }
        }
    }
    names
}

/// Every asset `entry` loads before it runs (its static imports, and
/// theirs), entry first: what the HTML preloads, so the browser asks for
/// them all at once instead of one level of imports at a time.
fn module_closure(entry: &str) -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    let mut next = vec![entry];
    while let Some(name) = next.pop() {
        let Some((name, _, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
            continue;
        };
        if seen.contains(name) {
            continue;
        }
        seen.push(name);
        next.extend(static_imports(body).into_iter().rev());
    }
    seen
}

/// A page's HTML as served: its `assets/` addresses moved under the build
/// tag's folder, and a `modulepreload` link for each module its entry
/// module needs. Computed once per page file. A copy in a bucket
/// (`page_files`) keeps the plain addresses: a bucket has no tagged folder.
fn tagged_html(raw: &'static str) -> &'static str {
    static PAGES: OnceLock<Mutex<HashMap<usize, &'static str>>> = OnceLock::new();
    let pages = PAGES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pages = pages
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pages.entry(raw.as_ptr() as usize).or_insert_with(|| {
        let tag = build_tag();
        let mut html = String::with_capacity(raw.len() + 2048);
        let mut preload = String::new();
        let mut rest = raw;
        // Each `"assets/` or `"../assets/` attribute value.
        while let Some(at) = rest.find("assets/") {
            let (before, after) = rest.split_at(at);
            let quoted = before.ends_with('"') || before.ends_with("\"../");
            html.push_str(before);
            html.push_str("assets/");
            rest = &after["assets/".len()..];
            if !quoted {
                continue;
            }
            html.push_str(&format!("v/{tag}/"));
            let name_end = rest.find('"').unwrap_or(0);
            let name = &rest[..name_end];
            if before.ends_with("<script type=\"module\" src=\"")
                || before.ends_with("<script type=\"module\" src=\"../")
            {
                let up = if before.ends_with("../") { "../" } else { "" };
                for module in module_closure(name).into_iter().skip(1) {
                    preload.push_str(&format!(
                        "<link rel=\"modulepreload\" href=\"{up}assets/v/{tag}/{module}\">\n"
                    ));
                }
            }
        }
        html.push_str(rest);
        if let Some(head_end) = html.find("</head>") {
            html.insert_str(head_end, &preload);
        }
        Box::leak(html.into_boxed_str())
    })
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
        tagged_html(include_str!("../web/index.html")),
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
        tagged_html(include_str!("../web/platform.html")),
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
        tagged_html(include_str!("../web/receipt.html")),
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

/// An asset under the build tag's folder (`/assets/v/{tag}/{name}`), which
/// the served HTML names: kept for a year and never revalidated when the
/// tag is this build's. A page of an older build asking for its tag gets
/// today's file, but revalidated as a plain asset is (`no-cache`), so no
/// browser keeps it under a name it does not match.
pub async fn tagged_asset(
    Path((tag, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))?;
    let mut response = file(content_type, body, &headers);
    if tag == build_tag() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(TAGGED_ASSET_CACHE),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_modules_closure_is_every_static_import() {
        let closure = module_closure("app.js");
        assert_eq!(closure[0], "app.js");
        for name in ["strings.js", "verify.js", "ledger-state.js", "format.js"] {
            assert!(closure.contains(&name), "{name} in {closure:?}");
        }
        // Loaded only when asked (a dynamic import), and the worker's own.
        assert!(!closure.contains(&"statement.js"), "{closure:?}");
        let mut sorted = closure.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), closure.len(), "each once: {closure:?}");
    }

    #[test]
    fn served_html_names_every_file_under_the_build_tag() {
        let tag = build_tag();
        assert_eq!(tag.len(), 32);
        for raw in [
            include_str!("../web/index.html"),
            include_str!("../web/receipt.html"),
            include_str!("../web/platform.html"),
        ] {
            let html = tagged_html(raw);
            let plain = html.matches("assets/").count();
            let tagged = html.matches(&format!("assets/v/{tag}/")).count();
            assert!(plain > 1 && plain == tagged, "{plain} vs {tagged}: {html}");
            assert!(html.contains("rel=\"modulepreload\""), "{html}");
        }
    }
}

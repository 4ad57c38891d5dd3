//! The residents' page in the bucket, beside the log's objects, so that a
//! resident opens `<prefix>/index.html` from the bucket (or a CDN in front
//! of it) with no feeledger server in the path.
//!
//! The files are the server's own (`feeledger_server::page_files`, passed
//! in by whoever starts the mirror, so this crate does not depend on the
//! server): `index.html` and `assets/<name>`, at the same paths relative to
//! the ledger's base as the server serves them. One change is made:
//! `index.html` gets [`SOURCE_MARKER`] at the top of its `<head>`, which
//! tells the page it has no API and must take everything from the log
//! (web/base.js `FROM_MIRROR`). A marker in the file is what the page can
//! trust to know where it is; guessing from a failed API request would
//! take a server that is down for a mirror.
//!
//! Nothing else is uploaded for the page: what `/api/v1/ledger` tells the
//! server's page (the community's name, funds, roles, the log's origin) the
//! page derives from the log itself (the genesis and governance entries it
//! replays, the checkpoint's origin line), and the log key from
//! `log.vkey`, checked as on the server against the fingerprint on the
//! notice board or the key pinned in the browser.

use crate::{Bucket, MirrorError};

/// Cache-Control of the page's files: they change with each release of
/// the binary, so caches revalidate them on every load.
pub const CACHE_PAGE: &str = "no-cache";

/// The line written into the uploaded `index.html` that puts the page in
/// mirror mode (web/base.js reads it).
pub const SOURCE_MARKER: &str = r#"<meta name="feeledger-source" content="mirror">"#;

/// The page's `index.html` path under the prefix.
pub const INDEX_OBJECT: &str = "index.html";

/// One file of the page: its path under the ledger's prefix (`index.html`,
/// `assets/app.js`), its Content-Type and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFile {
    pub path: String,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// `index.html` with [`SOURCE_MARKER`] as the first element of its
/// `<head>`; `None` if the file has no `<head>` (then it is not the page
/// this mirror knows how to mark, and uploading it unmarked would give a
/// page that asks for an API the bucket does not have).
pub fn marked_index(index: &str) -> Option<String> {
    let at = index.find("<head>")? + "<head>".len();
    Some(format!("{}\n{SOURCE_MARKER}{}", &index[..at], &index[at..]))
}

/// Writes every file of the page under `bucket`'s prefix, `index.html`
/// marked (see the module docs).
///
/// # Errors
/// [`MirrorError::Object`] if the bucket does not take a file;
/// [`MirrorError::PageIndex`] if `index.html` cannot be marked.
pub async fn upload(bucket: &Bucket, files: &[PageFile]) -> Result<(), MirrorError> {
    for file in files {
        let bytes = if file.path == INDEX_OBJECT {
            marked_index(file.body)
                .ok_or(MirrorError::PageIndex)?
                .into_bytes()
        } else {
            file.body.as_bytes().to_vec()
        };
        bucket
            .put(&file.path, bytes, file.content_type, CACHE_PAGE)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_the_first_line_of_the_head() {
        let marked = marked_index(
            "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head></html>",
        )
        .unwrap();
        assert_eq!(
            marked,
            format!("<!doctype html>\n<html>\n<head>\n{SOURCE_MARKER}\n<meta charset=\"utf-8\">\n</head></html>")
        );
        assert_eq!(marked_index("<html><body></body></html>"), None);
    }
}

//! A mirror of one ledger's C2SP objects in S3-compatible object storage,
//! so that residents, auditors and outside C2SP clients read the ledger
//! from a bucket (and a CDN in front of it) with no feeledger server in
//! the path; and reading such a bucket back ([`BucketFiles`], for
//! `feeledger restore --from s3://...`).
//!
//! # Objects
//!
//! Under a prefix per ledger (`<prefix>`; on a platform
//! `<prefix>/c/<slug>`, [`Bucket::ledger`]), in the layout of a tiles
//! backup (`feeledger-backup`), which is C2SP tlog-tiles:
//!
//! | object | Content-Type | Cache-Control |
//! |---|---|---|
//! | `<prefix>/tile/<L>/<N>[.p/<W>]` | `application/octet-stream` | [`CACHE_IMMUTABLE`] |
//! | `<prefix>/tile/entries/<N>[.p/<W>]` | `application/octet-stream` | [`CACHE_IMMUTABLE`] |
//! | `<prefix>/checkpoint` | `text/plain; charset=utf-8` | [`CACHE_CHECKPOINT`] |
//! | `<prefix>/log.vkey`, `<prefix>/witnesses` | `text/plain; charset=utf-8` | [`CACHE_INFO`] |
//! | `<prefix>/index.html`, `<prefix>/assets/<name>` (the residents' page, [`Mirror::with_page`]) | the server's (`text/javascript` for modules) | [`CACHE_PAGE`] |
//!
//! Partial tiles are immutable too (tlog-tiles): a partial tile of width W
//! holds the same bytes at every later size, and a wider one has another
//! path. Superseded partial tiles are left in place (the spec lets a log
//! delete them or keep them).
//!
//! # Order, and where the mirror stands
//!
//! **Invariant:** a checkpoint object is written only after every tile and
//! bundle its tree needs is in the bucket, so a reader never sees a
//! checkpoint it cannot prove. Each pass ([`Mirror::catch_up`]) reads the
//! store's latest signed checkpoint first, writes the tiles between the
//! bucket's checkpoint and it ([`TileEdge::paths_between`]), each read
//! from the store ([`Store::tile_bytes`]: the tiles of a size stay the
//! same bytes at every later size), and only when all of them are written
//! writes the checkpoint.
//!
//! The sled store is the record; the bucket is a mirror. The mirror's
//! position is what the bucket's own `checkpoint` object says: on start it
//! is read, verified with the log key and checked against the store's root
//! at its size, so nothing is kept locally and a mirror that was down, or
//! a server that restarted, carries on from the bucket. Until a pass
//! succeeds the position stays where it was, so a failed pass is simply
//! done again (writing a tile twice writes the same bytes): writes to the
//! ledger go on while the bucket is down, and the mirror catches up without
//! a gap when it is back. A bucket whose checkpoint is of another log, or
//! ahead of the store, or of another root, is refused ([`MirrorError::is_fatal`]):
//! the mirror never overwrites it.
//!
//! # Immutable objects are created, never overwritten
//!
//! Tiles and bundles are written with [`PutMode::Create`] (S3's
//! `If-None-Match: *`; with `?forbid_overwrite=oss` or `=cos` on the bucket
//! URL also Aliyun's or Tencent's own header, [`ForbidOverwrite`]). When
//! the bucket already holds the object, it is read back: the same bytes
//! are an earlier write that finished (a pass cut short, a restart from an
//! older checkpoint object), and the pass goes on; other bytes are
//! [`MirrorError::Overwrite`], fatal: something else writes to this
//! prefix, and its object is left as it is. The checkpoint, `log.vkey`
//! and `witnesses` change, and are plain PUTs.

mod files;
mod page;

pub use files::BucketFiles;
pub use page::{PageFile, CACHE_PAGE, INDEX_OBJECT, SOURCE_MARKER};

use feeledger_core::note::{open_checkpoint, Checkpoint, VerifierKey};
use feeledger_core::tiles::{TileEdge, TilePath, TileWriteError};
use feeledger_store::{Store, StoreError};
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService,
    ReqwestConnector,
};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, Attributes, HeaderValue, ObjectStore, PutMode, PutOptions, PutPayload,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Cache-Control of tiles and bundles, full and partial: their bytes never
/// change.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of the checkpoint: it changes with every commit and
/// cosignature, so caches revalidate it on every request (tlog-tiles: no
/// caching beyond a few seconds).
pub const CACHE_CHECKPOINT: &str = "no-cache";
/// Cache-Control of `log.vkey` and `witnesses`: they rarely change.
pub const CACHE_INFO: &str = "public, max-age=300";
/// Content-Type of tiles and bundles (tlog-tiles).
pub const CONTENT_TYPE_TILE: &str = "application/octet-stream";
/// Content-Type of the checkpoint (tlog-tiles) and the text files.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; charset=utf-8";

/// The checkpoint object's name under the prefix.
pub const CHECKPOINT_OBJECT: &str = feeledger_audit::tiles::CHECKPOINT_FILE;
/// The log's verifier key, as in a tiles backup.
pub const VKEY_OBJECT: &str = feeledger_audit::tiles::VKEY_FILE;
/// The registered witnesses' keys, as in a tiles backup.
pub const WITNESSES_OBJECT: &str = feeledger_audit::tiles::WITNESSES_FILE;

/// Objects written at once during a pass: enough to hide a round trip to
/// the bucket, few enough that a catch-up of a large log holds only this
/// many tiles in memory.
pub const PUTS_IN_FLIGHT_MAX: usize = 8;

/// The first wait after a failed pass; it doubles up to [`RETRY_WAIT_MAX`].
pub const RETRY_WAIT_FIRST: Duration = Duration::from_millis(200);
/// The longest wait between two passes while the bucket fails: a bucket
/// that is back is caught up within this long.
pub const RETRY_WAIT_MAX: Duration = Duration::from_secs(5);

/// How often the object store client itself retries one request before
/// the pass fails and the mirror's own backoff (which logs) takes over.
const CLIENT_RETRIES_MAX: usize = 2;

/// Why a mirror pass, or reading a bucket, failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The `--mirror` or `--from` URL is not `s3://BUCKET[/PREFIX]`.
    #[error("{url:?} is not a bucket URL: {why} (write s3://BUCKET/PREFIX)")]
    BadUrl { url: String, why: &'static str },
    /// The object store client could not be configured (from the `AWS_*`
    /// environment variables).
    #[error("cannot configure the S3 client for {url}: {source}")]
    Config {
        url: String,
        source: Box<object_store::Error>,
    },
    /// An object could not be written or read.
    #[error("{what} {url}/{rel}: {source}")]
    Object {
        what: &'static str,
        url: String,
        rel: String,
        source: Box<object_store::Error>,
    },
    /// The store could not be read.
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    /// The store's own checkpoint does not verify (the store is damaged).
    #[error("the store's latest checkpoint does not verify with its log key: {0}")]
    StoreCheckpoint(Box<feeledger_core::note::NoteError>),
    #[error(transparent)]
    Tiles(#[from] TileWriteError),
    /// A tile the store should hold at the checkpoint's size is not there.
    #[error("the store does not hold {0}")]
    TileMissing(String),
    /// The bucket's checkpoint is signed by another key: the prefix holds
    /// another log.
    #[error("{url}/checkpoint is not a checkpoint of this ledger's log key {log_key} ({error}); not overwriting it: give --mirror another prefix, or empty this one")]
    AnotherLog {
        url: String,
        log_key: Box<VerifierKey>,
        error: Box<feeledger_core::note::NoteError>,
    },
    /// The bucket's checkpoint is of a larger tree than the store's.
    #[error("{url}/checkpoint is of size {bucket_size}, but the store holds {store_size} entries: the bucket is ahead of the record (was the data directory restored from an older backup?); not overwriting it")]
    BucketAhead {
        url: String,
        bucket_size: u64,
        store_size: u64,
    },
    /// The bucket's checkpoint has another root at its size than the store.
    #[error("{url}/checkpoint (size {size}) has root {bucket_root}, the store has {store_root} at that size: the bucket holds a fork of this log; not overwriting it")]
    BucketForked {
        url: String,
        size: u64,
        bucket_root: feeledger_core::hash::Hash,
        store_root: feeledger_core::hash::Hash,
    },
    /// The bucket already holds other bytes where this log's immutable
    /// object (a hash tile or an entry bundle) goes.
    #[error("{url}/{rel}: the bucket already holds a different {what} at this path ({bucket_bytes} bytes, the store's has {store_bytes}) — another log writes to this prefix?; not overwriting it: give --mirror another prefix, or empty this one")]
    Overwrite {
        url: String,
        rel: String,
        /// `hash tile` or `entry bundle`.
        what: &'static str,
        bucket_bytes: usize,
        store_bytes: usize,
    },
    /// A blocking task panicked or was cancelled.
    #[error("a store read did not finish: {0}")]
    Join(String),
    /// The page's `index.html` has no `<head>` to mark as the mirror's.
    #[error("the page's index.html has no <head>: it cannot be marked as the mirror's copy")]
    PageIndex,
}

impl MirrorError {
    /// Whether trying again cannot help: the bucket holds another log, a
    /// fork of this one, is ahead of the store, or holds other bytes where
    /// an immutable object of this log goes. The mirror stops and
    /// says so; anything else (the bucket down, a timeout) is retried.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            MirrorError::BadUrl { .. }
                | MirrorError::Config { .. }
                | MirrorError::AnotherLog { .. }
                | MirrorError::BucketAhead { .. }
                | MirrorError::BucketForked { .. }
                | MirrorError::PageIndex
                | MirrorError::Overwrite { .. }
        )
    }
}

/// Whether `--mirror`/`--from` names a bucket (`s3://...`) rather than a
/// directory.
pub fn is_bucket_url(text: &str) -> bool {
    text.starts_with("s3://")
}

/// A prefix of a bucket: where one ledger's objects go.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket` (no trailing slash), for messages.
    bucket_url: String,
    /// Path segments under the bucket; empty for the bucket's root.
    prefix: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({})", self.url())
    }
}

impl Bucket {
    /// `s3://BUCKET[/PREFIX]`, with the endpoint, region and credentials
    /// from the usual environment variables (`AWS_ENDPOINT_URL`,
    /// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`; `AWS_ALLOW_HTTP=true` for a plain-HTTP
    /// endpoint, `AWS_SKIP_SIGNATURE=true` for a bucket that takes
    /// unsigned requests). Requests are path-style
    /// (`ENDPOINT/BUCKET/KEY`), which S3-compatible servers all take;
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true` for virtual-hosted style.
    ///
    /// `?forbid_overwrite=oss` or `?forbid_overwrite=cos` after the prefix
    /// also sends Aliyun OSS's or Tencent COS's own "do not overwrite"
    /// header with every tile and bundle ([`ForbidOverwrite`]).
    ///
    /// # Errors
    /// [`MirrorError::BadUrl`] or [`MirrorError::Config`].
    pub fn from_url(url: &str) -> Result<Bucket, MirrorError> {
        let bad = |why| MirrorError::BadUrl {
            url: url.to_string(),
            why,
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let forbid_overwrite = match query {
            "" => None,
            "forbid_overwrite=oss" => Some(ForbidOverwrite::Oss),
            "forbid_overwrite=cos" => Some(ForbidOverwrite::Cos),
            _ => {
                return Err(bad(
                    "the only option after ? is forbid_overwrite=oss or forbid_overwrite=cos",
                ))
            }
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("it names no bucket"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|s| s == "." || s == ".." || (s.is_empty() && !prefix.is_empty()))
        {
            return Err(bad("its prefix has an empty, . or .. segment"));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env();
        if let Some(vendor) = forbid_overwrite {
            builder = builder.with_http_connector(vendor);
        }
        let store = builder
            .with_bucket_name(bucket)
            .with_retry(object_store::RetryConfig {
                max_retries: CLIENT_RETRIES_MAX,
                retry_timeout: Duration::from_secs(10),
                ..object_store::RetryConfig::default()
            })
            .build()
            .map_err(|source| MirrorError::Config {
                url: url.to_string(),
                source: Box::new(source),
            })?;
        Ok(Bucket::with_store(
            Arc::new(store),
            &format!("s3://{bucket}"),
            prefix,
        ))
    }

    /// A prefix of any object store (`bucket_url` names it in messages).
    pub fn with_store(store: Arc<dyn ObjectStore>, bucket_url: &str, prefix: &str) -> Bucket {
        Bucket {
            store,
            bucket_url: bucket_url.trim_end_matches('/').to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    /// The prefix of one ledger of a platform: `<prefix>/c/<slug>`, as the
    /// platform's routes are `/c/{slug}/...`.
    pub fn ledger(&self, slug: &str) -> Bucket {
        let prefix = if self.prefix.is_empty() {
            format!("c/{slug}")
        } else {
            format!("{}/c/{slug}", self.prefix)
        };
        Bucket {
            prefix,
            ..self.clone()
        }
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            self.bucket_url.clone()
        } else {
            format!("{}/{}", self.bucket_url, self.prefix)
        }
    }

    fn path(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// The object at `rel` under the prefix, or `None` if there is none.
    ///
    /// # Errors
    /// [`MirrorError::Object`] if the bucket does not answer.
    pub async fn get(&self, rel: &str) -> Result<Option<Vec<u8>>, MirrorError> {
        let failed = |source| MirrorError::Object {
            what: "reading",
            url: self.url(),
            rel: rel.to_string(),
            source: Box::new(source),
        };
        match self.store.get(&self.path(rel)).await {
            Ok(got) => Ok(Some(got.bytes().await.map_err(failed)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    /// Writes `bytes` at `rel` with the given headers, over whatever is
    /// there.
    ///
    /// # Errors
    /// [`MirrorError::Object`] if the bucket does not take it.
    pub async fn put(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
        cache_control: &'static str,
    ) -> Result<(), MirrorError> {
        self.put_with(rel, bytes, content_type, cache_control, PutMode::Overwrite)
            .await
            .map_err(|source| self.write_failed(rel, source))
    }

    /// Writes an object whose bytes never change (a hash tile or an entry
    /// bundle: `rel` under `tile/`) with [`CACHE_IMMUTABLE`], only if the
    /// bucket does not hold it yet ([`PutMode::Create`]). If it does, the
    /// object is read back: the same bytes are an earlier write that
    /// finished, and this one is done; other bytes are left in place.
    ///
    /// # Errors
    /// [`MirrorError::Overwrite`] (fatal) if the bucket holds other bytes
    /// at `rel`; [`MirrorError::Object`] if the bucket does not answer.
    pub async fn put_immutable(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), MirrorError> {
        // Kept for the comparison: the payload takes the bytes.
        let store_bytes = bytes.clone();
        match self
            .put_with(rel, bytes, content_type, CACHE_IMMUTABLE, PutMode::Create)
            .await
        {
            Ok(()) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) => match self.get(rel).await? {
                Some(held) if held == store_bytes => Ok(()),
                Some(held) => Err(MirrorError::Overwrite {
                    url: self.url(),
                    rel: rel.to_string(),
                    what: if rel.starts_with("tile/entries/") {
                        "entry bundle"
                    } else {
                        "hash tile"
                    },
                    bucket_bytes: held.len(),
                    store_bytes: store_bytes.len(),
                }),
                // Deleted between the two requests: the next pass writes
                // it again.
                None => Err(MirrorError::Object {
                    what: "reading back",
                    url: self.url(),
                    rel: rel.to_string(),
                    source: Box::new(object_store::Error::NotFound {
                        path: rel.to_string(),
                        source: "the bucket said it held the object, then that it did not".into(),
                    }),
                }),
            },
            Err(source) => Err(self.write_failed(rel, source)),
        }
    }

    async fn put_with(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
        cache_control: &'static str,
        mode: PutMode,
    ) -> Result<(), object_store::Error> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.into());
        attributes.insert(Attribute::CacheControl, cache_control.into());
        let options = PutOptions {
            mode,
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(rel), PutPayload::from(bytes), options)
            .await?;
        Ok(())
    }

    fn write_failed(&self, rel: &str, source: object_store::Error) -> MirrorError {
        MirrorError::Object {
            what: "writing",
            url: self.url(),
            rel: rel.to_string(),
            source: Box::new(source),
        }
    }
}

/// A cloud's own "do not overwrite" request header, sent with every
/// create-only PUT (one that carries `If-None-Match: *`, which is how
/// object_store asks for [`PutMode::Create`] on S3): `?forbid_overwrite=oss`
/// sends `x-oss-forbid-overwrite: true` (Aliyun OSS), `=cos` sends
/// `x-cos-forbid-overwrite: true` (Tencent COS, where a CAM policy can
/// require it). Either answers 409 for an existing object, which
/// object_store reports as `AlreadyExists`, as it does S3's 412.
///
/// object_store has no per-request custom header, so this is an HTTP
/// connector wrapping its own (reqwest): it adds the header after the
/// request is signed, so the header goes unsigned (SigV4 lets a request
/// carry unsigned headers outside `x-amz-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForbidOverwrite {
    Oss,
    Cos,
}

impl ForbidOverwrite {
    /// The header this cloud reads.
    pub fn header(self) -> &'static str {
        match self {
            ForbidOverwrite::Oss => "x-oss-forbid-overwrite",
            ForbidOverwrite::Cos => "x-cos-forbid-overwrite",
        }
    }
}

impl HttpConnector for ForbidOverwrite {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(ForbidOverwriteService {
            header: self.header(),
            inner: ReqwestConnector::default().connect(options)?,
        }))
    }
}

#[derive(Debug)]
struct ForbidOverwriteService {
    header: &'static str,
    inner: HttpClient,
}

impl HttpService for ForbidOverwriteService {
    // `HttpService` is an `async_trait`; this is its desugared form, to
    // need no macro crate for one method.
    fn call<'a, 'b>(
        &'a self,
        mut request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        let create_only = request.method() == "PUT"
            && request
                .headers()
                .get("if-none-match")
                .is_some_and(|v| v == "*");
        if create_only {
            request
                .headers_mut()
                .insert(self.header, HeaderValue::from_static("true"));
        }
        Box::pin(self.inner.execute(request))
    }
}

/// What the bucket holds, as far as the mirror knows: its checkpoint
/// object's bytes and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub size: u64,
    pub checkpoint: Vec<u8>,
}

/// What one pass wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Tiles and bundles written.
    pub tiles: u64,
    /// Whether the checkpoint object was written (it changed).
    pub checkpoint_written: bool,
    /// The checkpoint's size after the pass.
    pub size: u64,
}

/// The mirror of one ledger: its store (anything that gives a [`Store`]:
/// the server's `Ledger`, an `Arc<Store>`) and its bucket prefix.
pub struct Mirror<L> {
    ledger: L,
    bucket: Bucket,
    /// `None` until the bucket's checkpoint has been read.
    published: Option<Published>,
    /// The residents' page, uploaded at start ([`Mirror::with_page`]).
    page: Vec<PageFile>,
}

impl<L> Mirror<L>
where
    L: AsRef<Store> + Clone + Send + Sync + 'static,
{
    pub fn new(ledger: L, bucket: Bucket) -> Mirror<L> {
        Mirror {
            ledger,
            bucket,
            published: None,
            page: Vec::new(),
        }
    }

    /// Uploads `files` (the residents' page, `feeledger_server::page_files`)
    /// once when the mirror starts, before its first checkpoint: a page
    /// that works from the bucket alone (see `page.rs`).
    pub fn with_page(mut self, files: Vec<PageFile>) -> Mirror<L> {
        self.page = files;
        self
    }

    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// What the bucket holds, as of the last pass (`None` before the first).
    pub fn published(&self) -> Option<&Published> {
        self.published.as_ref()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, MirrorError> + Send + 'static,
    ) -> Result<T, MirrorError> {
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || work(ledger.as_ref()))
            .await
            .map_err(|e| MirrorError::Join(e.to_string()))?
    }

    /// Reads the bucket's checkpoint (the mirror's position) and writes
    /// `log.vkey`, `witnesses` and the page.
    async fn start(&self) -> Result<Published, MirrorError> {
        let log_key = self.ledger.as_ref().state().log_key().clone();
        let url = self.bucket.url();
        let published = match self.bucket.get(CHECKPOINT_OBJECT).await? {
            None => Published {
                size: 0,
                checkpoint: Vec::new(),
            },
            Some(bytes) => {
                let (checkpoint, _, _) =
                    open_checkpoint(&bytes, &log_key, &[]).map_err(|error| {
                        MirrorError::AnotherLog {
                            url: url.clone(),
                            log_key: Box::new(log_key.clone()),
                            error: Box::new(error),
                        }
                    })?;
                let size = checkpoint.size;
                let store_root = self
                    .blocking(move |store| {
                        if size > store.size() {
                            return Err(MirrorError::BucketAhead {
                                url,
                                bucket_size: size,
                                store_size: store.size(),
                            });
                        }
                        Ok(store.root_at(size)?)
                    })
                    .await?;
                if store_root != checkpoint.root {
                    return Err(MirrorError::BucketForked {
                        url: self.bucket.url(),
                        size,
                        bucket_root: checkpoint.root,
                        store_root,
                    });
                }
                Published {
                    size,
                    checkpoint: bytes,
                }
            }
        };
        let witnesses = self.blocking(|store| Ok(store.witnesses()?)).await?;
        self.bucket
            .put(
                VKEY_OBJECT,
                format!("{log_key}\n").into_bytes(),
                CONTENT_TYPE_TEXT,
                CACHE_INFO,
            )
            .await?;
        if !witnesses.is_empty() {
            let text: String = witnesses.iter().map(|w| format!("{w}\n")).collect();
            self.bucket
                .put(
                    WITNESSES_OBJECT,
                    text.into_bytes(),
                    CONTENT_TYPE_TEXT,
                    CACHE_INFO,
                )
                .await?;
        }
        page::upload(&self.bucket, &self.page).await?;
        Ok(published)
    }

    /// One pass: brings the bucket up to the store's latest checkpoint
    /// (tiles first, then the checkpoint), or fails having moved nothing
    /// the bucket's checkpoint says. See the crate docs.
    ///
    /// # Errors
    /// [`MirrorError`]: the bucket failed (try again), or holds another
    /// log, a fork, or more than the store ([`MirrorError::is_fatal`]).
    pub async fn catch_up(&mut self) -> Result<Pass, MirrorError> {
        let published = match &self.published {
            Some(p) => p.clone(),
            None => {
                let p = self.start().await?;
                tracing::info!(mirror = %self.bucket.url(), size = p.size, "the mirror starts from the bucket's checkpoint");
                self.published = Some(p.clone());
                p
            }
        };
        // The checkpoint first: the tiles written are those of its size,
        // whatever the writer commits meanwhile.
        let (note, checkpoint) = self
            .blocking(|store| {
                let note = store.latest_checkpoint()?;
                let (checkpoint, _, _) = open_checkpoint(&note, store.state().log_key(), &[])
                    .map_err(|e| MirrorError::StoreCheckpoint(Box::new(e)))?;
                Ok((note, checkpoint))
            })
            .await?;
        let Checkpoint { size, .. } = checkpoint;
        let mut pass = Pass {
            size: published.size,
            ..Pass::default()
        };
        if size < published.size {
            // The store is behind the bucket (checked at start; a store
            // never shrinks while served).
            return Err(MirrorError::BucketAhead {
                url: self.bucket.url(),
                bucket_size: published.size,
                store_size: size,
            });
        }
        if size > published.size {
            let paths = TileEdge::paths_between(published.size, size)?;
            pass.tiles = paths.len() as u64;
            futures::stream::iter(paths)
                .map(|path| self.put_tile(path))
                .buffer_unordered(PUTS_IN_FLIGHT_MAX)
                .try_collect::<()>()
                .await?;
        }
        if note != published.checkpoint {
            // Every tile of its tree is in the bucket now.
            self.bucket
                .put(
                    CHECKPOINT_OBJECT,
                    note.clone(),
                    CONTENT_TYPE_TEXT,
                    CACHE_CHECKPOINT,
                )
                .await?;
            pass.checkpoint_written = true;
        }
        pass.size = size;
        self.published = Some(Published {
            size,
            checkpoint: note,
        });
        Ok(pass)
    }

    async fn put_tile(&self, path: TilePath) -> Result<(), MirrorError> {
        let bytes = self
            .blocking(move |store| {
                store
                    .tile_bytes(&path)?
                    .ok_or_else(|| MirrorError::TileMissing(path.rel_path()))
            })
            .await?;
        self.bucket
            .put_immutable(&path.rel_path(), bytes, CONTENT_TYPE_TILE)
            .await
    }

    /// Runs passes for as long as `committed` (the server's committed-size
    /// notification) has a sender: one at once, then one after each
    /// notification (several notifications during a pass make one more
    /// pass). A failed pass is logged and tried again after a wait that
    /// doubles from [`RETRY_WAIT_FIRST`] to [`RETRY_WAIT_MAX`]; a fatal one
    /// ([`MirrorError::is_fatal`]) is logged and ends the mirror, not the
    /// server.
    pub async fn run(mut self, mut committed: tokio::sync::watch::Receiver<u64>) {
        let mut wait = RETRY_WAIT_FIRST;
        let mut failing = false;
        loop {
            committed.borrow_and_update();
            match self.catch_up().await {
                Ok(pass) => {
                    if failing {
                        tracing::info!(mirror = %self.bucket.url(), size = pass.size, "the mirror caught up");
                    } else if pass.tiles > 0 || pass.checkpoint_written {
                        tracing::debug!(mirror = %self.bucket.url(), size = pass.size, tiles = pass.tiles, "mirrored");
                    }
                    failing = false;
                    wait = RETRY_WAIT_FIRST;
                    if committed.changed().await.is_err() {
                        return;
                    }
                }
                Err(e) if e.is_fatal() => {
                    tracing::error!(mirror = %self.bucket.url(), error = %e, "the mirror stopped; the ledger is still served and recorded");
                    return;
                }
                Err(e) => {
                    failing = true;
                    tracing::warn!(
                        mirror = %self.bucket.url(),
                        error = %e,
                        retry_in_ms = wait.as_millis() as u64,
                        "the mirror is behind: the bucket failed; writes go on, and it catches up when the bucket answers"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_WAIT_MAX);
                }
            }
        }
    }
}

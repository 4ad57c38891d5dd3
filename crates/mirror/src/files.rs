//! [`BucketFiles`]: a bucket prefix read as the files of a tiles backup,
//! for `feeledger restore --from s3://...` and any other reader of the
//! auditor's `TileSource`.

use crate::{Bucket, MirrorError};
use feeledger_audit::tiles::{TileError, TileFiles};

/// A bucket prefix the mirror writes, read blocking as a tiles backup's
/// files (`checkpoint`, `tile/...`, `witnesses`) through
/// `feeledger_audit::tiles::TileSource::Files`. It runs its own small
/// async runtime, so it is for callers that are not async themselves (the
/// CLI's restore).
pub struct BucketFiles {
    bucket: Bucket,
    runtime: tokio::runtime::Runtime,
}

impl BucketFiles {
    /// The bucket at `s3://BUCKET[/PREFIX]`, configured as
    /// [`Bucket::from_url`] is.
    ///
    /// # Errors
    /// [`MirrorError::BadUrl`], [`MirrorError::Config`], or an async
    /// runtime that does not start (as [`MirrorError::Join`]).
    pub fn open(url: &str) -> Result<BucketFiles, MirrorError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MirrorError::Join(format!("starting an async runtime: {e}")))?;
        // The client is built inside the runtime, as reqwest wants.
        let bucket = runtime.block_on(async { Bucket::from_url(url) })?;
        Ok(BucketFiles { bucket, runtime })
    }

    /// Any bucket prefix, read with its own runtime.
    ///
    /// # Errors
    /// An async runtime that does not start (as [`MirrorError::Join`]).
    pub fn with_bucket(bucket: Bucket) -> Result<BucketFiles, MirrorError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| MirrorError::Join(format!("starting an async runtime: {e}")))?;
        Ok(BucketFiles { bucket, runtime })
    }

    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }
}

impl TileFiles for BucketFiles {
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, TileError> {
        self.runtime
            .block_on(self.bucket.get(rel))
            .map_err(|e| TileError::Fetch {
                rel: rel.to_string(),
                source_name: self.bucket.url(),
                error: e.to_string(),
            })
    }

    fn name(&self) -> String {
        self.bucket.url()
    }
}

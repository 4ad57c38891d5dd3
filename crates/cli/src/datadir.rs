//! A ledger's data directory: `ledger/` (the sled store) and `log.key`
//! (the checkpoint signing key, mode 0600).

use crate::keyfile::KeyFile;
use anyhow::{Context, Result};
use feeledger_store::Store;
use std::path::{Path, PathBuf};

pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: &Path) -> DataDir {
        DataDir {
            root: root.to_path_buf(),
        }
    }

    pub fn store_path(&self) -> PathBuf {
        self.root.join("ledger")
    }

    pub fn log_key_path(&self) -> PathBuf {
        self.root.join("log.key")
    }

    /// Opens the store, checking its head.
    pub fn open(&self) -> Result<Store> {
        Store::open(&self.store_path()).with_context(|| self.root.display().to_string())
    }

    /// As [`DataDir::open`], for one pass over the ledger (an audit); see
    /// [`Store::open_for_scan`].
    pub fn open_for_scan(&self) -> Result<Store> {
        Store::open_for_scan(&self.store_path()).with_context(|| self.root.display().to_string())
    }

    /// The log key, needed to sign a new checkpoint after an append.
    pub fn log_key(&self) -> Result<KeyFile> {
        KeyFile::read(&self.log_key_path())
            .with_context(|| format!("the log key of {} is needed to append", self.root.display()))
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

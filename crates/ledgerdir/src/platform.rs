//! A platform directory: many communities' ledgers served by one process
//! (a district platform), each under its slug.
//!
//! ```text
//! DIR/
//!   platform.db/              the shared sled database: ledger SLUG's records in
//!                             the tree `ledger/SLUG`, its attachments in
//!                             `attachments/SLUG` (feeledger_store::Backing::Shared)
//!   ledgers/SLUG/log.key      the key that signs SLUG's checkpoints (mode 0600)
//!   ledgers/SLUG/ledger/      only until the server adopts it: the store
//!                             `feeledger init --platform` made, which the
//!                             server copies into the shared database and removes
//!   ledgers/SLUG/retired      present once SLUG is retired: its records are
//!                             kept, and the server answers 410 for it
//! ```
//!
//! The running server holds `platform.db`'s lock, so nothing else writes
//! there. A ledger is added while it runs by `feeledger init --platform DIR
//! --slug SLUG`, which makes `ledgers/SLUG/` as `init --data` makes a data
//! directory (all or nothing, staged under a dot name and moved into
//! place), and retired by `feeledger retire`, which writes the marker. The
//! server looks at `ledgers/` every [`POLL_INTERVAL`] and takes in what
//! changed, with no restart and no other channel to it.

use crate::{DataDir, KeyFile, KeyFileIo as _};
use feeledger_store::{Backing, Store, StoreError, StoreOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The shared database's directory name in a platform directory.
pub const DB_DIR_NAME: &str = "platform.db";
/// The directory of the ledgers' own files.
pub const LEDGERS_DIR_NAME: &str = "ledgers";
/// The file that marks a ledger retired.
pub const RETIRED_FILE_NAME: &str = "retired";
/// Longest slug: it is a URL segment and a directory name, kept short
/// enough to type and to read on a notice board.
pub const SLUG_BYTES_MAX: usize = 40;
/// How often a running platform server looks for added and retired ledgers.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Why a slug is refused, and what a good one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("the slug is empty; use lowercase letters a-z, digits and hyphens, e.g. xingguang")]
    Empty,
    #[error("the slug {slug:?} is {bytes} bytes long; use at most {SLUG_BYTES_MAX}")]
    TooLong { slug: String, bytes: usize },
    #[error("the slug {slug:?} holds {found:?}; use only lowercase letters a-z, digits and hyphens, e.g. xingguang")]
    BadCharacter { slug: String, found: char },
    #[error(
        "the slug {slug:?} starts or ends with a hyphen; start and end with a letter or a digit"
    )]
    EdgeHyphen { slug: String },
}

/// Checks that `slug` names a ledger well: 1 to [`SLUG_BYTES_MAX`]
/// lowercase ASCII letters, digits and hyphens, not starting or ending
/// with a hyphen. It appears in URLs (`/c/SLUG/`) and as a directory and
/// tree name, so nothing there needs escaping.
///
/// # Errors
/// [`SlugError`], saying what is wrong and what a slug looks like.
pub fn check_slug(slug: &str) -> Result<(), SlugError> {
    if slug.is_empty() {
        return Err(SlugError::Empty);
    }
    if slug.len() > SLUG_BYTES_MAX {
        return Err(SlugError::TooLong {
            slug: slug.into(),
            bytes: slug.len(),
        });
    }
    if let Some(found) = slug
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(SlugError::BadCharacter {
            slug: slug.into(),
            found,
        });
    }
    if slug.starts_with('-') || slug.ends_with('-') {
        return Err(SlugError::EdgeHyphen { slug: slug.into() });
    }
    Ok(())
}

/// What goes wrong with a platform directory or one of its ledgers.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Slug(#[from] SlugError),
    #[error("{} is no platform directory (it has no {LEDGERS_DIR_NAME}/); add a first ledger with `feeledger init --platform {} --slug SLUG --genesis FILE`", root.display(), root.display())]
    NotAPlatform { root: PathBuf },
    #[error("the platform {} has no ledger {slug:?}; `ls {}` lists the ledgers it has", root.display(), ledgers.display())]
    NoLedger {
        root: PathBuf,
        slug: String,
        ledgers: PathBuf,
    },
    #[error("the ledger {slug:?} is already retired (since {since}); nothing was changed")]
    AlreadyRetired { slug: String, since: String },
    #[error("the ledger {slug:?} is not yet in the platform database: the server copies it in when it next looks (every second); start `feeledger serve --platform` first")]
    NotAdopted { slug: String },
    #[error("cannot read or write {}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the log key of ledger {slug:?} cannot be read: {source}")]
    LogKey {
        slug: String,
        source: crate::KeyFileIoError,
    },
    #[error("ledger {slug:?}: {source}")]
    Store { slug: String, source: StoreError },
}

/// A ledger of the platform as its directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub slug: String,
    /// The retired marker's text (when it was retired), if it is retired.
    pub retired: Option<String>,
}

/// A platform directory, by path. Nothing is opened until asked.
#[derive(Debug, Clone)]
pub struct PlatformDir {
    pub root: PathBuf,
}

impl PlatformDir {
    pub fn new(root: &Path) -> PlatformDir {
        PlatformDir {
            root: root.to_path_buf(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_DIR_NAME)
    }

    pub fn ledgers_path(&self) -> PathBuf {
        self.root.join(LEDGERS_DIR_NAME)
    }

    /// Ledger `slug`'s own files, laid out as a data directory (its
    /// `log.key`, and its `ledger/` until the server adopts it).
    pub fn ledger_dir(&self, slug: &str) -> DataDir {
        DataDir::new(&self.ledgers_path().join(slug))
    }

    fn retired_path(&self, slug: &str) -> PathBuf {
        self.ledgers_path().join(slug).join(RETIRED_FILE_NAME)
    }

    /// Creates `ledgers/` if there is none (the first `init --platform`).
    ///
    /// # Errors
    /// [`PlatformError::Io`].
    pub fn create(&self) -> Result<(), PlatformError> {
        let path = self.ledgers_path();
        std::fs::create_dir_all(&path).map_err(|source| PlatformError::Io { path, source })
    }

    /// The ledgers in `ledgers/`, by slug, in slug order. Names that are
    /// no slug (a staging directory of an `init` under way, say) are not
    /// ledgers and are skipped.
    ///
    /// # Errors
    /// [`PlatformError::NotAPlatform`] if there is no `ledgers/`, or
    /// [`PlatformError::Io`].
    pub fn list(&self) -> Result<Vec<Listed>, PlatformError> {
        let path = self.ledgers_path();
        let listing = match std::fs::read_dir(&path) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(PlatformError::NotAPlatform {
                    root: self.root.clone(),
                })
            }
            Err(source) => return Err(PlatformError::Io { path, source }),
        };
        let mut listed = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|source| PlatformError::Io {
                path: path.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if check_slug(&name).is_err() || !entry.path().is_dir() {
                continue;
            }
            let retired = self.retired_since(&name);
            listed.push(Listed {
                slug: name,
                retired,
            });
        }
        listed.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(listed)
    }

    fn retired_since(&self, slug: &str) -> Option<String> {
        std::fs::read_to_string(self.retired_path(slug))
            .ok()
            .map(|text| text.trim().to_string())
    }

    /// Retires ledger `slug`: writes its marker, with `since` (a date and
    /// time) in it. Its records stay; a running server stops serving it
    /// within [`POLL_INTERVAL`] and answers 410 for it.
    ///
    /// # Errors
    /// [`PlatformError::NoLedger`], [`PlatformError::AlreadyRetired`],
    /// [`PlatformError::Io`].
    pub fn retire(&self, slug: &str, since: &str) -> Result<(), PlatformError> {
        check_slug(slug)?;
        self.list()?;
        if !self.ledgers_path().join(slug).is_dir() {
            return Err(PlatformError::NoLedger {
                root: self.root.clone(),
                slug: slug.into(),
                ledgers: self.ledgers_path(),
            });
        }
        if let Some(since) = self.retired_since(slug) {
            return Err(PlatformError::AlreadyRetired {
                slug: slug.into(),
                since,
            });
        }
        let path = self.retired_path(slug);
        // Written aside and renamed, so the server never reads half a marker.
        let staged = path.with_extension("staged");
        std::fs::write(&staged, format!("{since}\n"))
            .and_then(|()| std::fs::rename(&staged, &path))
            .map_err(|source| PlatformError::Io { path, source })
    }

    /// Opens ledger `slug` in the shared `db`, first adopting the store
    /// `init --platform` left in its directory (copied into `db`, then
    /// removed), and reads its log key. The store's head is checked as
    /// [`Store::open`] checks it.
    ///
    /// # Errors
    /// [`PlatformError::Store`] (a damaged or locked store among them),
    /// [`PlatformError::LogKey`], [`PlatformError::Io`].
    pub fn open_ledger(
        &self,
        db: &sled::Db,
        slug: &str,
    ) -> Result<(Store, KeyFile), PlatformError> {
        check_slug(slug)?;
        let dir = self.ledger_dir(slug);
        let store_error = |source| PlatformError::Store {
            slug: slug.into(),
            source,
        };
        let own_store = dir.store_path();
        if own_store.is_dir() {
            feeledger_store::copy_into_shared(&own_store, db, slug).map_err(store_error)?;
            std::fs::remove_dir_all(&own_store).map_err(|source| PlatformError::Io {
                path: own_store.clone(),
                source,
            })?;
        }
        let store = Store::open_with(
            Backing::Shared {
                db: db.clone(),
                ledger: slug.into(),
            },
            &StoreOptions::default(),
        )
        .map_err(store_error)?;
        // A full disk refuses this ledger's writes before sled fails them
        // (a failed sled write stops the whole shared database).
        store.watch_free_space(&self.db_path());
        let log_key =
            KeyFile::read(&dir.log_key_path()).map_err(|source| PlatformError::LogKey {
                slug: slug.into(),
                source,
            })?;
        Ok((store, log_key))
    }

    /// Opens the shared database, with a page cache of `cache_bytes` for
    /// every ledger.
    ///
    /// # Errors
    /// As [`feeledger_store::open_shared_db`].
    pub fn open_db(&self, cache_bytes: u64) -> Result<sled::Db, StoreError> {
        feeledger_store::open_shared_db(&self.db_path(), cache_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["xingguang", "a", "block-7", "2nd-street", &"a".repeat(40)] {
            assert_eq!(check_slug(good), Ok(()), "{good}");
        }
        assert_eq!(check_slug(""), Err(SlugError::Empty));
        assert!(matches!(
            check_slug(&"a".repeat(41)),
            Err(SlugError::TooLong { bytes: 41, .. })
        ));
        for (bad, found) in [
            ("Xing", 'X'),
            ("星光", '星'),
            ("a_b", '_'),
            ("a/b", '/'),
            ("..", '.'),
        ] {
            assert!(
                matches!(check_slug(bad), Err(SlugError::BadCharacter { found: f, .. }) if f == found),
                "{bad}"
            );
        }
        assert!(matches!(
            check_slug("-a"),
            Err(SlugError::EdgeHyphen { .. })
        ));
        assert!(matches!(
            check_slug("a-"),
            Err(SlugError::EdgeHyphen { .. })
        ));
    }
}

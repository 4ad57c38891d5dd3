//! A ledger's data directory: `ledger/` (the sled store) and `log.key`
//! (the checkpoint signing key, mode 0600), opened with one clear word on
//! what is wrong when it does not open.

use crate::keyfile::{KeyFileIo as _, KeyFileIoError};
use feeledger_core::keyfile::KeyFile;
use feeledger_store::{Store, StoreError};
use std::path::{Path, PathBuf};

/// The name of the store directory inside a data directory.
pub const STORE_DIR_NAME: &str = "ledger";
/// The name of the log key file inside a data directory.
pub const LOG_KEY_FILE_NAME: &str = "log.key";

/// The prefix of the temporary directory `init` builds a ledger in, when
/// the data directory exists (empty) already; see [`mod@crate::init`].
pub const INIT_STAGING_PREFIX: &str = ".feeledger-init.";

/// What a data directory holds, told from its file names alone (opening
/// the store would take its lock and check its head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// The directory does not exist.
    Missing,
    /// It exists and holds nothing.
    Empty,
    /// It holds a `ledger/` store directory (a ledger, or, left by an
    /// older `init` that failed, a store that never got its genesis), and
    /// these names in all.
    Store(Vec<String>),
    /// It holds these names but no `ledger/`.
    Other(Vec<String>),
}

/// Why a data directory's ledger could not be opened or used. Each message
/// names the directory and what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// It holds no ledger: missing, empty, half-made by an unfinished
    /// `init`, or something else. `explanation` says which, from what is
    /// there ([`DataDir::no_ledger`]).
    #[error("{explanation}")]
    NoLedger { root: PathBuf, explanation: String },
    /// Another process holds the store, most likely a server.
    #[error("{}", in_use_message(root))]
    InUse { root: PathBuf },
    /// The store is damaged: a [`StoreError::Damaged`] whose `what` names
    /// the store directory and how to recover. It stays the store's error,
    /// so that an audit reports it as a finding.
    #[error(transparent)]
    Damaged(StoreError),
    /// The store refused to open for another reason.
    #[error("{}", root.display())]
    Store { root: PathBuf, source: StoreError },
    /// The directory exists but cannot be listed.
    #[error("cannot read {}", root.display())]
    Unlistable {
        root: PathBuf,
        source: std::io::Error,
    },
    /// The log key, needed to sign a checkpoint, cannot be read.
    #[error("the log key of {} is needed to append", root.display())]
    LogKey {
        root: PathBuf,
        source: KeyFileIoError,
    },
}

impl DataDirError {
    /// Whether this is damage to the store (an audit finding), rather than
    /// a reason the ledger could not be reached.
    pub fn is_damage(&self) -> bool {
        matches!(self, DataDirError::Damaged(StoreError::Damaged { .. }))
    }
}

/// A data directory, by path. Nothing is opened until asked.
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
        self.root.join(STORE_DIR_NAME)
    }

    pub fn log_key_path(&self) -> PathBuf {
        self.root.join(LOG_KEY_FILE_NAME)
    }

    /// Opens the store, checking its head.
    ///
    /// # Errors
    /// [`DataDirError::NoLedger`], [`DataDirError::InUse`],
    /// [`DataDirError::Damaged`] or [`DataDirError::Store`].
    pub fn open(&self) -> Result<Store, DataDirError> {
        self.explain(Store::open(&self.store_path()))
    }

    /// As [`DataDir::open`], for one pass over the ledger (an audit); see
    /// [`Store::open_for_scan`].
    ///
    /// # Errors
    /// As [`DataDir::open`].
    pub fn open_for_scan(&self) -> Result<Store, DataDirError> {
        self.explain(Store::open_for_scan(&self.store_path()))
    }

    /// What the directory holds; see [`Contents`].
    ///
    /// # Errors
    /// [`DataDirError::Unlistable`] if it exists but cannot be listed.
    pub fn contents(&self) -> Result<Contents, DataDirError> {
        let unlistable = |source| DataDirError::Unlistable {
            root: self.root.clone(),
            source,
        };
        let listing = match std::fs::read_dir(&self.root) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Missing),
            Err(e) => return Err(unlistable(e)),
        };
        let mut names = Vec::new();
        for entry in listing {
            let entry = entry.map_err(unlistable)?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(if names.is_empty() {
            Contents::Empty
        } else if self.store_path().is_dir() {
            Contents::Store(names)
        } else {
            Contents::Other(names)
        })
    }

    /// Says why a directory holds no ledger, and what to do, from what is
    /// there: one message for `init`, `serve` and every other command.
    pub fn no_ledger(&self) -> String {
        let root = self.root.display();
        let init = format!("'feeledger init --data {root} --genesis GENESIS.toml'");
        match self.contents() {
            Ok(Contents::Missing) => format!(
                "{root} does not exist, so it holds no ledger; check the path, or create a ledger there with {init}"
            ),
            Ok(Contents::Empty) => {
                format!("{root} is empty: it holds no ledger; create one with {init}")
            }
            Ok(Contents::Store(names)) if is_unfinished(&names) => self.unfinished(&format!(
                "a store with no genesis ({}) and {}",
                self.store_path().display(),
                if self.log_key_path().exists() {
                    "a log key"
                } else {
                    "no log key"
                }
            )),
            // Not `rm -r` the whole directory: it holds other files too.
            Ok(Contents::Store(names)) => format!(
                "{root} holds no complete ledger: {} is a store with no genesis, beside {}; if an unfinished 'feeledger init' left it, remove {} and {}, or check the path",
                self.store_path().display(),
                list_names(&names),
                self.store_path().display(),
                self.log_key_path().display()
            ),
            Ok(Contents::Other(names)) if is_unfinished(&names) => {
                self.unfinished(&format!("what it left ({})", list_names(&names)))
            }
            Ok(Contents::Other(names)) => format!(
                "{root} holds no ledger (no {}; it holds {}); check the path, or create a ledger in a new directory with 'feeledger init --data NEWDIR --genesis GENESIS.toml'",
                self.store_path().display(),
                list_names(&names)
            ),
            Err(e) => format!("{root} holds no ledger ({})", chain(&e)),
        }
    }

    /// [`DataDir::no_ledger`] as an error.
    pub fn no_ledger_error(&self) -> DataDirError {
        DataDirError::NoLedger {
            root: self.root.clone(),
            explanation: self.no_ledger(),
        }
    }

    /// A directory an unfinished `init` left half-made: an older feeledger
    /// wrote `log.key`, and sometimes an empty store, before the genesis
    /// was refused; a killed one leaves its staging directory.
    fn unfinished(&self, what: &str) -> String {
        let root = self.root.display();
        format!(
            "{root} holds no complete ledger, only {what}: an unfinished 'feeledger init' (killed, or of an older version) left it; nothing was recorded, so remove it ('rm -r {root}') and run 'feeledger init --data {root} --genesis GENESIS.toml' again"
        )
    }

    /// Says that another process holds the store, most likely a server,
    /// and how to go on.
    pub fn in_use(&self) -> String {
        in_use_message(&self.root)
    }

    /// How to recover a damaged store: rebuild its derived data, or
    /// restore a tiles backup into a new directory (docs/reliability.md).
    pub fn recovery_advice(&self) -> String {
        format!(
            "recover with 'feeledger rebuild --data {}' or {}",
            self.root.display(),
            self.restore_command()
        )
    }

    /// How to recover a store sled cannot read: `rebuild` reads the leaves
    /// through sled too, so only a backup brings the ledger back.
    pub fn restore_advice(&self) -> String {
        format!(
            "sled cannot read it, so 'feeledger rebuild' cannot either: {}; keep a copy of {} for inspection",
            self.restore_command(),
            self.store_path().display()
        )
    }

    fn restore_command(&self) -> String {
        format!(
            "restore a tiles backup with 'feeledger restore --from BACKUP --data NEWDIR --log-key {}' (docs/reliability.md)",
            self.log_key_path().display()
        )
    }

    /// Turns the store's refusal to open into an error naming this data
    /// directory and what to do. Damage stays a [`StoreError::Damaged`], so
    /// that `verify` can report it as a finding.
    fn explain(&self, opened: Result<Store, StoreError>) -> Result<Store, DataDirError> {
        match opened {
            Ok(store) => Ok(store),
            Err(StoreError::NotInitialized { .. }) => Err(self.no_ledger_error()),
            Err(StoreError::Locked { .. }) => Err(DataDirError::InUse {
                root: self.root.clone(),
            }),
            Err(StoreError::Damaged { what, unreadable }) => {
                let advice = if unreadable {
                    self.restore_advice()
                } else {
                    self.recovery_advice()
                };
                Err(DataDirError::Damaged(StoreError::Damaged {
                    what: format!("{what}, in {}; {advice}", self.store_path().display()),
                    unreadable,
                }))
            }
            Err(source) => Err(DataDirError::Store {
                root: self.root.clone(),
                source,
            }),
        }
    }

    /// The log key, needed to sign a new checkpoint after an append.
    ///
    /// # Errors
    /// [`DataDirError::LogKey`], with the key file's own error.
    pub fn log_key(&self) -> Result<KeyFile, DataDirError> {
        KeyFile::read(&self.log_key_path()).map_err(|source| DataDirError::LogKey {
            root: self.root.clone(),
            source,
        })
    }
}

fn in_use_message(root: &Path) -> String {
    format!(
        "the data directory {} is in use by another feeledger process, most likely a server ('feeledger serve --data {}'); stop it first, or reach the ledger through that server with --url (e.g. --url http://127.0.0.1:8080) in place of --data",
        root.display(),
        root.display()
    )
}

/// An error and its sources, joined by ": ", as the CLI prints a chain.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether a directory's names are all what an unfinished `init` leaves:
/// the log key and the empty store an older version wrote before the
/// genesis was refused, or a staging directory of a killed `init`. Only
/// then is removing the whole directory the advice.
pub fn is_unfinished(names: &[String]) -> bool {
    names.iter().all(|n| {
        n == LOG_KEY_FILE_NAME || n == STORE_DIR_NAME || n.starts_with(INIT_STAGING_PREFIX)
    })
}

/// Names for a message: the first few, and how many more.
pub fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory's contents are told from its names alone, and only the
    /// leftovers of an unfinished `init` earn the advice to remove it all.
    #[test]
    fn contents_and_no_ledger_advice() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = DataDir::new(&tmp.path().join("none"));
        assert_eq!(missing.contents().unwrap(), Contents::Missing);
        assert!(missing.no_ledger().contains("does not exist"));

        let empty = DataDir::new(&tmp.path().join("empty"));
        std::fs::create_dir(&empty.root).unwrap();
        assert_eq!(empty.contents().unwrap(), Contents::Empty);
        assert!(empty.no_ledger().contains("is empty"));

        let half = DataDir::new(&tmp.path().join("half"));
        std::fs::create_dir_all(half.store_path()).unwrap();
        std::fs::write(half.log_key_path(), "").unwrap();
        assert_eq!(
            half.contents().unwrap(),
            Contents::Store(vec!["ledger".into(), "log.key".into()])
        );
        let advice = half.no_ledger();
        assert!(advice.contains("a store with no genesis"), "{advice}");
        assert!(advice.contains("and a log key"), "{advice}");
        assert!(advice.contains("rm -r"), "{advice}");

        let other = DataDir::new(&tmp.path().join("other"));
        std::fs::create_dir(&other.root).unwrap();
        std::fs::write(other.root.join("notes.txt"), "").unwrap();
        assert_eq!(
            other.contents().unwrap(),
            Contents::Other(vec!["notes.txt".into()])
        );
        let advice = other.no_ledger();
        assert!(advice.contains("it holds notes.txt"), "{advice}");
        assert!(!advice.contains("rm -r"), "{advice}");
    }

    /// Opening a directory with no ledger is the typed `NoLedger`, with the
    /// same words as `no_ledger`, and is not damage.
    #[test]
    fn opening_no_ledger_is_typed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path());
        let Err(err) = dir.open() else {
            panic!("no ledger there")
        };
        assert!(matches!(err, DataDirError::NoLedger { .. }));
        assert!(!err.is_damage());
        assert_eq!(err.to_string(), dir.no_ledger());
    }

    /// Staging directories count as leftovers of an unfinished init; other
    /// names do not. Long name lists are cut.
    #[test]
    fn leftovers_and_name_lists() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_unfinished(&names(&["log.key", ".feeledger-init.42"])));
        assert!(!is_unfinished(&names(&["log.key", "notes.txt"])));
        let many = names(&["a", "b", "c", "d", "e", "f", "g"]);
        assert_eq!(list_names(&many), "a, b, c, d, e and 2 more");
    }
}

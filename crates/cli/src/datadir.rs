//! A ledger's data directory: `ledger/` (the sled store) and `log.key`
//! (the checkpoint signing key, mode 0600).

use crate::keyfile::KeyFile;
use anyhow::{anyhow, Context, Result};
use feeledger_store::{Store, StoreError};
use std::path::{Path, PathBuf};

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
        self.explain(Store::open(&self.store_path()))
    }

    /// As [`DataDir::open`], for one pass over the ledger (an audit); see
    /// [`Store::open_for_scan`].
    pub fn open_for_scan(&self) -> Result<Store> {
        self.explain(Store::open_for_scan(&self.store_path()))
    }

    /// What the directory holds; see [`Contents`].
    ///
    /// # Errors
    /// If it exists but cannot be listed.
    pub fn contents(&self) -> Result<Contents> {
        let listing = match std::fs::read_dir(&self.root) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::Missing),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.root.display()))
            }
        };
        let mut names = Vec::new();
        for entry in listing {
            let entry = entry.with_context(|| format!("cannot read {}", self.root.display()))?;
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
            Err(e) => format!("{root} holds no ledger ({e:#})"),
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
        format!(
            "the data directory {} is in use by another feeledger process, most likely a server ('feeledger serve --data {}'); stop it first, or reach the ledger through that server with --url (e.g. --url http://127.0.0.1:8080) in place of --data",
            self.root.display(),
            self.root.display()
        )
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

    /// Turns the store's refusal to open into a message naming this data
    /// directory and what to do. Damage stays a [`StoreError::Damaged`] in
    /// the chain, so that `verify` can report it as a finding.
    fn explain(&self, opened: Result<Store, StoreError>) -> Result<Store> {
        match opened {
            Ok(store) => Ok(store),
            Err(StoreError::NotInitialized { .. }) => Err(anyhow!(self.no_ledger())),
            Err(StoreError::Locked { .. }) => Err(anyhow!(self.in_use())),
            Err(StoreError::Damaged { what, unreadable }) => {
                let advice = if unreadable {
                    self.restore_advice()
                } else {
                    self.recovery_advice()
                };
                Err(anyhow::Error::new(StoreError::Damaged {
                    what: format!("{what}, in {}; {advice}", self.store_path().display()),
                    unreadable,
                }))
            }
            Err(e) => Err(anyhow::Error::new(e).context(self.root.display().to_string())),
        }
    }

    /// The log key, needed to sign a new checkpoint after an append.
    pub fn log_key(&self) -> Result<KeyFile> {
        KeyFile::read(&self.log_key_path())
            .with_context(|| format!("the log key of {} is needed to append", self.root.display()))
    }
}

/// The prefix of the temporary directory `init` builds a ledger in, when
/// the data directory exists (empty) already; see `init::Staging`.
pub const INIT_STAGING_PREFIX: &str = ".feeledger-init.";

/// Whether a directory's names are all what an unfinished `init` leaves:
/// the log key and the empty store an older version wrote before the
/// genesis was refused, or a staging directory of a killed `init`. Only
/// then is removing the whole directory the advice.
pub fn is_unfinished(names: &[String]) -> bool {
    names
        .iter()
        .all(|n| n == "log.key" || n == "ledger" || n.starts_with(INIT_STAGING_PREFIX))
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

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

//! A new ledger from a genesis description, all or nothing.
//!
//! The description is TOML (or JSON) naming the origin, the display name,
//! the funds, the roles with their public keys and thresholds, optional
//! rules (the defaults otherwise), and the private key files that sign the
//! genesis (every role, up to its threshold). Paths are relative to the
//! description file.
//!
//! The ledger is built in a temporary directory and moved into place only
//! once its genesis is stored, so a refused genesis or a missing signer key
//! leaves no `log.key` and no empty store for a retry to stumble on. (A
//! killed `init` can leave its hidden staging directory:
//! `.NAME.feeledger-init.PID` beside the data directory, or
//! `.feeledger-init.PID` in it, which [`DataDir::no_ledger`] then names.)
//!
//! A genesis ceremony makes the same ledger without reading any founder's
//! key file: [`draft`] writes the body, each founder signs it apart
//! ([`GenesisSignature`], a small file), and [`init_from_draft`] checks the
//! signature files against the draft (the core's
//! [`check_draft_signatures`]) before it stages anything.
//!
//! The clock and the RNG are the caller's: [`init`] is given today's date
//! (used when the description names none), the genesis nonce, the time to
//! record, and the new log key when none is given.

use crate::datadir::{
    is_unfinished, list_names, Contents, DataDir, DataDirError, INIT_STAGING_PREFIX,
};
use crate::keyfile::{KeyFileIo as _, KeyFileIoError};
use ed25519_dalek::SigningKey;
use feeledger_core::canonical::LEAF_BYTES_MAX;
use feeledger_core::entry::{Body, EntrySignature, FormatError};
use feeledger_core::entry::{Date, KeyDef, Leaf, Role, RoleDef, Rules};
use feeledger_core::genesis::{
    check_draft_signatures, decode_draft, GenesisDraftError, GenesisSignature, GenesisTerms,
    SignatureFileError, GENESIS_SIGNATURE_BYTES_MAX,
};
use feeledger_core::hash::Hash;
use feeledger_core::keyfile::{sign_body, KeyFile, KeyFileError};
use feeledger_store::{Store, StoreError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A genesis description, as its file says it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDescription {
    pub origin: String,
    pub name: String,
    /// Business date of the genesis; today (UTC) if absent.
    pub date: Option<String>,
    /// Fund id → display name. The three required funds get default names.
    #[serde(default)]
    pub funds: BTreeMap<String, String>,
    pub roles: BTreeMap<Role, RoleDescription>,
    pub rules: Option<Rules>,
    /// Private key files that sign the genesis (`init --genesis`); none in
    /// a genesis ceremony ([`draft`]), where each founder signs apart.
    #[serde(default)]
    pub signers: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDescription {
    pub threshold: u32,
    pub keys: Vec<KeyDef>,
}

impl GenesisDescription {
    /// What the genesis says (everything but its date and signers).
    pub fn terms(&self) -> GenesisTerms {
        GenesisTerms {
            origin: self.origin.clone(),
            name: self.name.clone(),
            funds: self.funds.clone(),
            roles: self
                .roles
                .iter()
                .map(|(role, d)| {
                    (
                        *role,
                        RoleDef {
                            threshold: d.threshold,
                            keys: d.keys.clone(),
                        },
                    )
                })
                .collect(),
            rules: self.rules.clone(),
        }
    }

    /// The genesis date: the one the description names, or `today`.
    ///
    /// # Errors
    /// [`InitError::BadDate`] if the named date is not `YYYY-MM-DD`.
    pub fn date_or(&self, today: Date) -> Result<Date, InitError> {
        match &self.date {
            Some(d) => Date::parse(d).ok_or_else(|| InitError::BadDate { date: d.clone() }),
            None => Ok(today),
        }
    }
}

/// Why `init` made no ledger. Nothing is left behind but what was there.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot read {}", path.display())]
    ReadDescription {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid genesis description", path.display())]
    DescriptionToml {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{} is not a valid genesis description", path.display())]
    DescriptionJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("date {date:?} is not YYYY-MM-DD")]
    BadDate { date: String },
    /// The data directory holds something: a ledger, a half-made one, or
    /// other files. `explanation` says which and what to do.
    #[error("{explanation}")]
    Occupied { data: PathBuf, explanation: String },
    /// The data directory cannot be listed, or the new ledger not opened.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("{} does not name a directory", path.display())]
    NotADirectoryName { path: PathBuf },
    #[error("cannot create {}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A key file (the log key, a signer's key) cannot be read, or the new
    /// log key not written.
    #[error(transparent)]
    KeyFile(#[from] KeyFileIoError),
    #[error("copying the log key into the data directory")]
    CopyLogKey { source: std::io::Error },
    #[error("the origin {origin:?} must also be a valid key name")]
    OriginNotKeyName {
        origin: String,
        source: KeyFileError,
    },
    #[error("the log key is named {found:?}; it must be named after the origin {origin:?}")]
    LogKeyName { found: String, origin: String },
    /// The store refused the genesis (its rules, its signatures).
    #[error("genesis refused: {0}")]
    GenesisRefused(StoreError),
    #[error("closing the new store")]
    Close { source: StoreError },
    #[error("cannot move {} to {}", from.display(), to.display())]
    Move {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}", path.display())]
    RemoveStaging {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} lists no signers: list the key files that sign the genesis under `signers`, or hold a genesis ceremony (`feeledger genesis draft`), where no private key moves", path.display())]
    NoSigners { path: PathBuf },
    #[error("{} lists signers (private key files), which a genesis ceremony never reads: remove `signers`; each founder signs the draft on their own machine with `feeledger genesis sign`", path.display())]
    SignersInDraft { path: PathBuf },
    #[error("{} does not make a valid genesis (correct the description, then draft again)", path.display())]
    DescriptionRefused { path: PathBuf, source: FormatError },
    #[error("cannot read {}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is over {max_bytes} bytes; give the file `feeledger genesis {command}` wrote", path.display())]
    FileTooLarge {
        path: PathBuf,
        max_bytes: u64,
        command: &'static str,
    },
    #[error("{}", path.display())]
    Draft {
        path: PathBuf,
        source: GenesisDraftError,
    },
    #[error("{}", path.display())]
    SignatureFile {
        path: PathBuf,
        source: SignatureFileError,
    },
    /// The founders' signatures or the log key do not make this draft a
    /// ledger ([`check_draft_signatures`]).
    #[error(transparent)]
    Ceremony(GenesisDraftError),
    #[error("cannot create {} (does it exist already? nothing is overwritten)", path.display())]
    CreateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move the new ledger to {} (did it appear while init ran?)", data.display())]
    MoveIntoPlace {
        data: PathBuf,
        source: std::io::Error,
    },
}

/// Reads a genesis description: JSON if the file name ends in `.json`,
/// TOML otherwise.
///
/// # Errors
/// [`InitError::ReadDescription`], or the parser's error under
/// [`InitError::DescriptionToml`] / [`InitError::DescriptionJson`].
pub fn read_description(path: &Path) -> Result<GenesisDescription, InitError> {
    let text = std::fs::read_to_string(path).map_err(|source| InitError::ReadDescription {
        path: path.to_path_buf(),
        source,
    })?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|source| InitError::DescriptionJson {
            path: path.to_path_buf(),
            source,
        })
    } else {
        toml::from_str(&text).map_err(|source| InitError::DescriptionToml {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Where the log key of a new ledger comes from.
pub enum LogKeySource<'a> {
    /// A key file made beforehand (`keygen --log`); copied into the data
    /// directory.
    File(&'a Path),
    /// A new key the caller made; written to `DATA/log.key` under the
    /// origin's name.
    New(Box<SigningKey>),
}

/// What the clock and the RNG give a new ledger.
pub struct Fresh {
    /// Today's date, for a description that names none.
    pub today: Date,
    /// The genesis nonce: 16 random bytes, hex.
    pub nonce: String,
    /// The time recorded in the genesis leaf.
    pub now_ms: u64,
}

/// Creates the data directory `data` and its genesis from the description
/// at `description_path`. Returns the store, open. All or nothing: on any
/// error, `data` is as it was (see the module documentation). `data` must
/// not exist or be empty.
///
/// # Errors
/// [`InitError`], naming what is wrong and what to do.
pub fn init(
    data: &Path,
    description_path: &Path,
    log_key: LogKeySource<'_>,
    fresh: Fresh,
) -> Result<Store, InitError> {
    let description = read_description(description_path)?;
    if description.signers.is_empty() {
        return Err(InitError::NoSigners {
            path: description_path.to_path_buf(),
        });
    }
    let base = description_path.parent().unwrap_or(Path::new("."));
    create(data, |dir| build(dir, &description, base, log_key, fresh))
}

/// Makes `data` with `build_in` in a staging directory, then moves it into
/// place; all or nothing.
fn create(
    data: &Path,
    build_in: impl FnOnce(&DataDir) -> Result<Store, InitError>,
) -> Result<Store, InitError> {
    let dir = DataDir::new(data);
    let empty = match dir.contents()? {
        Contents::Missing => false,
        Contents::Empty => true,
        occupied => {
            return Err(InitError::Occupied {
                data: data.to_path_buf(),
                explanation: occupied_message(&dir, occupied),
            })
        }
    };
    let staging = Staging::new(data, empty)?;
    let store = build_in(&DataDir::new(&staging.path))?;
    // sled keeps its files open and writes them by path; it lets go of
    // them before the directory moves.
    store
        .close()
        .map_err(|source| InitError::Close { source })?;
    staging.move_into_place()?;
    Ok(dir.open()?)
}

/// A genesis draft for a ceremony: the body of the description at
/// `description_path`, dated as it says (or `fresh.today`) with
/// `fresh.nonce`, naming the log key in the key file `log_key_path`.
/// Nothing is written; [`write_draft`] writes it.
///
/// # Errors
/// [`InitError::SignersInDraft`] if the description lists signers, then
/// as [`read_description`], the log key's [`crate::KeyFileIo::read`], and
/// [`InitError::LogKeyName`] for a log key not named after the origin.
pub fn draft(
    description_path: &Path,
    log_key_path: &Path,
    fresh: &Fresh,
) -> Result<Body, InitError> {
    let description = read_description(description_path)?;
    if !description.signers.is_empty() {
        return Err(InitError::SignersInDraft {
            path: description_path.to_path_buf(),
        });
    }
    let log_key = KeyFile::read(log_key_path)?;
    if log_key.name() != description.origin {
        return Err(InitError::LogKeyName {
            found: log_key.name().to_string(),
            origin: description.origin.clone(),
        });
    }
    let date = description.date_or(fresh.today)?;
    let body = description
        .terms()
        .body(date, fresh.nonce.clone(), &log_key.verifier_key());
    // The draft must be a body the founders can sign and `init` accept:
    // refuse it here, naming the field, rather than after three signatures.
    if let Err(e) = Body::decode(&body.to_canonical_bytes()) {
        return Err(InitError::DescriptionRefused {
            path: description_path.to_path_buf(),
            source: e,
        });
    }
    Ok(body)
}

/// Writes `bytes` to a new file (never overwriting), synced.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), InitError> {
    use std::io::Write as _;
    let created = |source| InitError::CreateFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(created)?;
    file.write_all(bytes).map_err(created)?;
    file.sync_all().map_err(created)
}

/// Reads a file of at most `max_bytes`.
fn read_small(path: &Path, max_bytes: u64, command: &'static str) -> Result<Vec<u8>, InitError> {
    let unreadable = |source| InitError::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(unreadable)?.len();
    if len > max_bytes {
        return Err(InitError::FileTooLarge {
            path: path.to_path_buf(),
            max_bytes,
            command,
        });
    }
    std::fs::read(path).map_err(unreadable)
}

/// Writes a draft: exactly its canonical bytes (docs/format.md §11.7), so
/// that SHA-256 of the file is its id. Refuses to overwrite.
///
/// # Errors
/// [`InitError::CreateFile`].
pub fn write_draft(path: &Path, body: &Body) -> Result<(), InitError> {
    write_new_file(path, &body.to_canonical_bytes())
}

/// Reads a draft [`write_draft`] wrote.
///
/// # Errors
/// [`InitError::ReadFile`], [`InitError::FileTooLarge`], or
/// [`InitError::Draft`] for bytes that are not a canonical genesis body.
pub fn read_draft(path: &Path) -> Result<Body, InitError> {
    // A genesis body lives in a leaf, so no draft is larger.
    let bytes = read_small(path, LEAF_BYTES_MAX as u64, "draft")?;
    decode_draft(&bytes).map_err(|source| InitError::Draft {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a founder's signature file (docs/format.md §11.7). Refuses to
/// overwrite.
///
/// # Errors
/// [`InitError::CreateFile`].
pub fn write_signature(path: &Path, signature: &GenesisSignature) -> Result<(), InitError> {
    write_new_file(path, signature.to_text().as_bytes())
}

/// Reads a founder's signature file.
///
/// # Errors
/// [`InitError::ReadFile`], [`InitError::FileTooLarge`], or
/// [`InitError::SignatureFile`] naming what is malformed.
pub fn read_signature(path: &Path) -> Result<GenesisSignature, InitError> {
    let bytes = read_small(path, GENESIS_SIGNATURE_BYTES_MAX, "sign")?;
    let text = String::from_utf8(bytes).map_err(|_| InitError::SignatureFile {
        path: path.to_path_buf(),
        source: SignatureFileError::NotJson("not UTF-8 text".into()),
    })?;
    GenesisSignature::parse(&text).map_err(|source| InitError::SignatureFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Creates the data directory `data` from a genesis draft and the
/// founders' signature files, with the log key in `log_key_path` (the one
/// the draft names; copied to `DATA/log.key`). Everything is read and
/// checked before anything is written ([`check_draft_signatures`]); then,
/// as [`init`], all or nothing.
///
/// # Errors
/// [`InitError`]: the files, [`InitError::Ceremony`] for signatures or a
/// log key that do not make the draft a ledger, then as [`init`].
pub fn init_from_draft(
    data: &Path,
    draft_path: &Path,
    signature_paths: &[PathBuf],
    log_key_path: &Path,
    now_ms: u64,
) -> Result<Store, InitError> {
    let body = read_draft(draft_path)?;
    let signatures = signature_paths
        .iter()
        .map(|p| read_signature(p))
        .collect::<Result<Vec<_>, _>>()?;
    let log_key = KeyFile::read(log_key_path)?;
    let signatures: Vec<EntrySignature> =
        check_draft_signatures(&body, &log_key.verifier_key(), &signatures)
            .map_err(InitError::Ceremony)?;
    let leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: now_ms,
        body,
        signatures,
    };
    create(data, |dir| {
        std::fs::copy(log_key_path, dir.log_key_path())
            .map_err(|source| InitError::CopyLogKey { source })?;
        Store::create(
            &dir.store_path(),
            &leaf.to_canonical_bytes(),
            &log_key.signer,
        )
        .map_err(InitError::GenesisRefused)
    })
}

/// Why `init` refuses a directory that is neither missing nor empty, and
/// what to do.
fn occupied_message(dir: &DataDir, contents: Contents) -> String {
    let root = dir.root.display();
    let elsewhere = "init needs a new or empty directory: choose another --data";
    match contents {
        Contents::Store(_) => match Store::open(&dir.store_path()) {
            Ok(store) => format!(
                "{root} already holds the ledger {} ({} entries); {elsewhere}",
                store.state().origin(),
                store.size()
            ),
            // An unfinished init of an older version: say so, as `serve`
            // and every other command do.
            Err(StoreError::NotInitialized { .. }) => dir.no_ledger(),
            Err(StoreError::Locked { .. }) => format!(
                "{root} already holds a ledger, in use by another feeledger process; {elsewhere}"
            ),
            Err(e) => format!(
                "{root} already holds a ledger store, which does not open ({e}); {elsewhere}"
            ),
        },
        Contents::Other(names) if is_unfinished(&names) => dir.no_ledger(),
        Contents::Other(names) => format!(
            "{root} is not empty (it holds {}); {elsewhere}, or empty it",
            list_names(&names)
        ),
        Contents::Missing | Contents::Empty => unreachable!("init takes these"),
    }
}

/// The temporary directory a new ledger is built in, removed on drop
/// unless moved into place.
///
/// When `data` does not exist, it is a hidden sibling of `data` (the same
/// file system, so one rename moves it into place) and becomes `data`.
/// When `data` exists and is empty, it is inside `data`, and its two
/// entries move up: `data` may be a mount point, which cannot be renamed
/// onto, and keeps its own owner and mode.
struct Staging {
    path: PathBuf,
    data: PathBuf,
    inside: bool,
    /// Parent directories this `init` created, deepest first, removed
    /// again if it fails.
    created: Vec<PathBuf>,
    done: bool,
}

impl Staging {
    fn new(data: &Path, empty: bool) -> Result<Staging, InitError> {
        let tag = format!("{INIT_STAGING_PREFIX}{}", std::process::id());
        let (path, created) = if empty {
            (data.join(tag), Vec::new())
        } else {
            let name = data
                .file_name()
                .ok_or_else(|| InitError::NotADirectoryName {
                    path: data.to_path_buf(),
                })?;
            let parent = match data.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let created = create_parents(&parent)?;
            let mut hidden = std::ffi::OsString::from(".");
            hidden.push(name);
            hidden.push(tag);
            (parent.join(hidden), created)
        };
        let staging = Staging {
            path,
            data: data.to_path_buf(),
            inside: empty,
            created,
            done: false,
        };
        // `create_dir`, not `create_dir_all`: a leftover of a killed init
        // with the same process id is not reused.
        std::fs::create_dir(&staging.path).map_err(|source| InitError::CreateDir {
            path: staging.path.clone(),
            source,
        })?;
        Ok(staging)
    }

    fn move_into_place(mut self) -> Result<(), InitError> {
        let built = DataDir::new(&self.path);
        let target = DataDir::new(&self.data);
        if self.inside {
            // The store last: a directory with a store is a ledger.
            for (from, to) in [
                (built.log_key_path(), target.log_key_path()),
                (built.store_path(), target.store_path()),
            ] {
                std::fs::rename(&from, &to).map_err(|source| InitError::Move {
                    from,
                    to,
                    source,
                })?;
            }
            std::fs::remove_dir(&self.path).map_err(|source| InitError::RemoveStaging {
                path: self.path.clone(),
                source,
            })?;
        } else {
            std::fs::rename(&self.path, &self.data).map_err(|source| InitError::MoveIntoPlace {
                data: self.data.clone(),
                source,
            })?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if self.inside {
            // Whatever already moved up is undone too: `data` was empty.
            let target = DataDir::new(&self.data);
            let _ = std::fs::remove_dir_all(target.store_path());
            let _ = std::fs::remove_file(target.log_key_path());
        }
        let _ = std::fs::remove_dir_all(&self.path);
        for dir in &self.created {
            // Only if still empty: something else may have put files there.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Creates `dir` and its missing ancestors; returns the ones it created,
/// deepest first.
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>, InitError> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    std::fs::create_dir_all(dir).map_err(|source| InitError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(missing)
}

/// Writes the log key and the genesis into `dir`, which is empty.
fn build(
    dir: &DataDir,
    description: &GenesisDescription,
    base: &Path,
    log_key: LogKeySource<'_>,
    fresh: Fresh,
) -> Result<Store, InitError> {
    let log_key = match log_key {
        LogKeySource::File(path) => {
            let key = KeyFile::read(path)?;
            std::fs::copy(path, dir.log_key_path())
                .map_err(|source| InitError::CopyLogKey { source })?;
            key
        }
        LogKeySource::New(key) => {
            let key = KeyFile::new(&description.origin, *key).map_err(|source| {
                InitError::OriginNotKeyName {
                    origin: description.origin.clone(),
                    source,
                }
            })?;
            key.write_new(&dir.log_key_path())?;
            key
        }
    };
    if log_key.name() != description.origin {
        return Err(InitError::LogKeyName {
            found: log_key.name().to_string(),
            origin: description.origin.clone(),
        });
    }
    let signers = description
        .signers
        .iter()
        .map(|p| KeyFile::read(&base.join(p)))
        .collect::<Result<Vec<_>, _>>()?;
    let date = description.date_or(fresh.today)?;
    let body = description
        .terms()
        .body(date, fresh.nonce, &log_key.verifier_key());
    let signatures = sign_body(&body, &signers);
    let leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: fresh.now_ms,
        body,
        signatures,
    };
    Store::create(
        &dir.store_path(),
        &leaf.to_canonical_bytes(),
        &log_key.signer,
    )
    .map_err(InitError::GenesisRefused)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes two role keys and a genesis description signed by `signers`
    /// into `dir`; returns the description's path.
    fn description(dir: &Path, signers: &[&str]) -> PathBuf {
        let mut roles = String::new();
        for (role, name, seed) in [
            ("company", "wuye-li", 1u8),
            ("committee", "weiyuan-wang", 2),
        ] {
            let key = KeyFile::from_seed(name, [seed; 32]).unwrap();
            key.write_new(&dir.join(format!("{name}.key"))).unwrap();
            roles.push_str(&format!(
                "[roles.{role}]\nthreshold = 1\nkeys = [{{ name = \"{name}\", public_key = \"{}\" }}]\n",
                key.public_key_base64()
            ));
        }
        let signers: Vec<String> = signers.iter().map(|s| format!("\"{s}.key\"")).collect();
        let text = format!(
            "origin = \"example.org/test\"\nname = \"测试小区\"\nsigners = [{}]\n{roles}",
            signers.join(", ")
        );
        let path = dir.join("genesis.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn fresh() -> Fresh {
        Fresh {
            today: Date::parse("2026-03-01").unwrap(),
            nonce: "ab".repeat(16),
            now_ms: 1_772_323_200_000,
        }
    }

    /// A described ledger is created with its genesis dated today (the
    /// description names no date) and a new log key named after the origin
    /// in `DATA/log.key`; the directory then opens as that ledger.
    #[test]
    fn creates_a_ledger() {
        let tmp = tempfile::tempdir().unwrap();
        let genesis = description(tmp.path(), &["wuye-li", "weiyuan-wang"]);
        let data = tmp.path().join("a").join("data");
        let store = init(
            &data,
            &genesis,
            LogKeySource::New(Box::new(SigningKey::from_bytes(&[7; 32]))),
            fresh(),
        )
        .unwrap();
        assert_eq!(store.size(), 1);
        assert_eq!(store.state().origin(), "example.org/test");
        let leaf = Leaf::decode(&store.leaf_bytes(0).unwrap().unwrap()).unwrap();
        assert_eq!(leaf.body.date, fresh().today);
        assert_eq!(leaf.time_ms, fresh().now_ms);
        store.close().unwrap();
        let dir = DataDir::new(&data);
        assert_eq!(dir.log_key().unwrap().name(), "example.org/test");
        assert_eq!(dir.open().unwrap().size(), 1);
    }

    /// A genesis the store refuses (the committee has not signed) leaves
    /// nothing behind: not the data directory, not the parents `init`
    /// made, not a staging directory.
    #[test]
    fn a_refused_genesis_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let genesis = description(tmp.path(), &["wuye-li"]);
        let data = tmp.path().join("new").join("data");
        let Err(err) = init(
            &data,
            &genesis,
            LogKeySource::New(Box::new(SigningKey::from_bytes(&[7; 32]))),
            fresh(),
        ) else {
            panic!("refused")
        };
        assert!(matches!(err, InitError::GenesisRefused(_)), "{err}");
        assert!(err.to_string().starts_with("genesis refused: "), "{err}");
        assert!(!tmp.path().join("new").exists());
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["genesis.toml", "weiyuan-wang.key", "wuye-li.key"]);
    }

    /// A directory holding other files is refused before anything is
    /// written, naming what it holds.
    #[test]
    fn an_occupied_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let genesis = description(tmp.path(), &["wuye-li", "weiyuan-wang"]);
        let Err(err) = init(
            tmp.path(),
            &genesis,
            LogKeySource::New(Box::new(SigningKey::from_bytes(&[7; 32]))),
            fresh(),
        ) else {
            panic!("refused")
        };
        assert!(matches!(err, InitError::Occupied { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("is not empty (it holds genesis.toml"),
            "{err}"
        );
        assert!(!DataDir::new(tmp.path()).log_key_path().exists());
    }

    /// Writes a description without signers and a log key into `dir`, and
    /// drafts it; returns the draft's path.
    fn drafted(dir: &Path) -> PathBuf {
        let path = description(dir, &[]);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("signers = []\n", "")).unwrap();
        KeyFile::from_seed("example.org/test", [7; 32])
            .unwrap()
            .write_new(&dir.join("log.key"))
            .unwrap();
        let body = draft(&path, &dir.join("log.key"), &fresh()).unwrap();
        let out = dir.join("genesis.json");
        write_draft(&out, &body).unwrap();
        assert!(matches!(
            write_draft(&out, &body),
            Err(InitError::CreateFile { .. })
        ));
        out
    }

    /// A draft signed by one key of each role, with the signature files
    /// read back, makes the ledger whose genesis is the draft; too few
    /// signatures make nothing, not even the parents of the data directory.
    #[test]
    fn a_signed_draft_makes_the_ledger_and_too_few_signatures_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let genesis = drafted(tmp.path());
        let body = read_draft(&genesis).unwrap();
        let mut files = Vec::new();
        for name in ["wuye-li", "weiyuan-wang"] {
            let key = KeyFile::read(&tmp.path().join(format!("{name}.key"))).unwrap();
            let path = tmp.path().join(format!("{name}.sig"));
            write_signature(&path, &GenesisSignature::sign(&body, &key)).unwrap();
            files.push(path);
        }
        let data = tmp.path().join("new").join("data");
        let log_key = tmp.path().join("log.key");
        let Err(err) = init_from_draft(&data, &genesis, &files[..1], &log_key, 5) else {
            panic!("refused")
        };
        assert!(
            matches!(
                err,
                InitError::Ceremony(GenesisDraftError::TooFewSignatures { .. })
            ),
            "{err}"
        );
        assert!(!tmp.path().join("new").exists());

        let store = init_from_draft(&data, &genesis, &files, &log_key, 5).unwrap();
        let leaf = Leaf::decode(&store.leaf_bytes(0).unwrap().unwrap()).unwrap();
        assert_eq!(leaf.body, body);
        assert_eq!(leaf.time_ms, 5);
        assert_eq!(leaf.signatures.len(), 2);
        store.close().unwrap();
        assert_eq!(
            DataDir::new(&data).log_key().unwrap().verifier_key(),
            KeyFile::read(&log_key).unwrap().verifier_key()
        );
    }

    /// A description that still lists signers is refused for a draft, and
    /// one that lists none is refused by the old `init`: each names the
    /// other way.
    #[test]
    fn signers_belong_to_init_and_not_to_a_draft() {
        let tmp = tempfile::tempdir().unwrap();
        let with = description(tmp.path(), &["wuye-li"]);
        KeyFile::from_seed("example.org/test", [7; 32])
            .unwrap()
            .write_new(&tmp.path().join("log.key"))
            .unwrap();
        let Err(err) = draft(&with, &tmp.path().join("log.key"), &fresh()) else {
            panic!("refused")
        };
        assert!(err.to_string().contains("genesis sign"), "{err}");
        let other = tempfile::tempdir().unwrap();
        let without = description(other.path(), &[]);
        let Err(err) = init(
            &other.path().join("data"),
            &without,
            LogKeySource::New(Box::new(SigningKey::from_bytes(&[7; 32]))),
            fresh(),
        ) else {
            panic!("refused")
        };
        assert!(err.to_string().contains("genesis draft"), "{err}");
    }
}

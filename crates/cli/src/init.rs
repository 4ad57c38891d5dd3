//! `feeledger init`: a ledger from a genesis description.
//!
//! The description is TOML (or JSON) naming the origin, the display name,
//! the funds, the roles with their public keys and thresholds, optional
//! rules (the defaults otherwise), and the private key files that sign the
//! genesis (every role, up to its threshold). Paths are relative to the
//! description file.

use crate::datadir::{is_unfinished, list_names, now_ms, Contents, DataDir, INIT_STAGING_PREFIX};
use crate::keyfile::KeyFile;
use anyhow::{bail, Context, Result};
use feeledger_core::entry::{
    default_rules, Body, Content, Date, EntrySignature, FundDef, Genesis, KeyDef, Leaf, Role,
    RoleDef, Roles, Rules,
};
use feeledger_core::hash::Hash;
use feeledger_store::{Store, StoreError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// Private key files that sign the genesis.
    pub signers: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDescription {
    pub threshold: u32,
    pub keys: Vec<KeyDef>,
}

pub fn default_fund_name(id: &str) -> Option<&'static str> {
    match id {
        "operating" => Some("物业服务费 Property fees"),
        "public_revenue" => Some("公共收益 Common-area income"),
        "maintenance" => Some("专项维修资金 Maintenance fund"),
        _ => None,
    }
}

pub fn read_description(path: &Path) -> Result<GenesisDescription> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let description: GenesisDescription = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a valid genesis description", path.display()))?
    } else {
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid genesis description", path.display()))?
    };
    Ok(description)
}

/// Today's date in UTC, from the clock (civil-from-days).
pub fn today() -> Date {
    date_from_days((now_ms() / 86_400_000) as i64)
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

/// Random nonce: 16 bytes, hex.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// Builds the genesis body from a description.
pub fn genesis_body(
    description: &GenesisDescription,
    log_key: &KeyFile,
    nonce: String,
) -> Result<Body> {
    let mut funds: BTreeMap<String, String> = description.funds.clone();
    for id in feeledger_core::entry::REQUIRED_FUNDS {
        if !funds.contains_key(id) {
            funds.insert(
                id.to_string(),
                default_fund_name(id).unwrap_or(id).to_string(),
            );
        }
    }
    let roles: Roles = description
        .roles
        .iter()
        .map(|(role, d)| {
            let mut keys = d.keys.clone();
            keys.sort_by(|a, b| a.name.cmp(&b.name));
            (
                *role,
                RoleDef {
                    threshold: d.threshold,
                    keys,
                },
            )
        })
        .collect();
    let rules = description
        .rules
        .clone()
        .unwrap_or_else(|| default_rules(roles.contains_key(&Role::Supervisor)));
    let date = match &description.date {
        Some(d) => Date::parse(d).with_context(|| format!("date {d:?} is not YYYY-MM-DD"))?,
        None => today(),
    };
    Ok(Body {
        ledger: description.origin.clone(),
        date,
        nonce,
        content: Content::Genesis(Genesis {
            name: description.name.clone(),
            currency: "CNY".into(),
            minor_unit: "fen".into(),
            minor_units_per_major: 100,
            funds: funds
                .into_iter()
                .map(|(id, name)| FundDef { id, name })
                .collect(),
            roles,
            rules,
            log_key: log_key.verifier_key().to_string(),
        }),
    })
}

/// Signs a body with each key.
pub fn sign_body(body: &Body, keys: &[KeyFile]) -> Vec<EntrySignature> {
    let message = body.signing_message();
    let mut signatures: Vec<EntrySignature> = keys
        .iter()
        .map(|k| {
            let signature = ed25519_dalek::Signer::sign(k.signing_key(), &message);
            EntrySignature::new(k.name(), &signature)
        })
        .collect();
    feeledger_core::entry::normalize_signatures(&mut signatures);
    signatures
}

/// Creates the data directory and its genesis. Returns the store.
///
/// All or nothing: the ledger is built in a temporary directory and moved
/// into place only once its genesis is stored, so a refused genesis or a
/// missing signer key leaves no `log.key` and no empty store for a retry
/// to stumble on. (A killed `init` can leave its hidden staging directory:
/// `.NAME.feeledger-init.PID` beside `data`, or `.feeledger-init.PID` in
/// it, which every command then names.) `data` must not exist or be empty.
pub fn init(data: &Path, description_path: &Path, log_key_path: Option<&Path>) -> Result<Store> {
    let description = read_description(description_path)?;
    let base = description_path.parent().unwrap_or(Path::new("."));
    let dir = DataDir::new(data);
    let empty = match dir.contents()? {
        Contents::Missing => false,
        Contents::Empty => true,
        occupied => bail!("{}", occupied_message(&dir, occupied)),
    };
    let staging = Staging::new(data, empty)?;
    let store = build(
        &DataDir::new(&staging.path),
        &description,
        base,
        log_key_path,
    )?;
    // sled keeps its files open and writes them by path; it lets go of
    // them before the directory moves.
    store.close().context("closing the new store")?;
    staging.move_into_place()?;
    dir.open()
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
    fn new(data: &Path, empty: bool) -> Result<Staging> {
        let tag = format!("{INIT_STAGING_PREFIX}{}", std::process::id());
        let (path, created) = if empty {
            (data.join(tag), Vec::new())
        } else {
            let name = data
                .file_name()
                .with_context(|| format!("{} does not name a directory", data.display()))?;
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
        std::fs::create_dir(&staging.path)
            .with_context(|| format!("cannot create {}", staging.path.display()))?;
        Ok(staging)
    }

    fn move_into_place(mut self) -> Result<()> {
        let built = DataDir::new(&self.path);
        let target = DataDir::new(&self.data);
        if self.inside {
            // The store last: a directory with a store is a ledger.
            for (from, to) in [
                (built.log_key_path(), target.log_key_path()),
                (built.store_path(), target.store_path()),
            ] {
                std::fs::rename(&from, &to).with_context(|| {
                    format!("cannot move {} to {}", from.display(), to.display())
                })?;
            }
            std::fs::remove_dir(&self.path)
                .with_context(|| format!("cannot remove {}", self.path.display()))?;
        } else {
            std::fs::rename(&self.path, &self.data).with_context(|| {
                format!(
                    "cannot move the new ledger to {} (did it appear while init ran?)",
                    self.data.display()
                )
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
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        at = d.parent();
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(missing)
}

/// Writes the log key and the genesis into `dir`, which is empty.
fn build(
    dir: &DataDir,
    description: &GenesisDescription,
    base: &Path,
    log_key_path: Option<&Path>,
) -> Result<Store> {
    let log_key = match log_key_path {
        Some(path) => {
            let key = KeyFile::read(path)?;
            std::fs::copy(path, dir.log_key_path())
                .context("copying the log key into the data directory")?;
            key
        }
        None => {
            let key = KeyFile::generate(&description.origin).with_context(|| {
                format!(
                    "the origin {:?} must also be a valid key name",
                    description.origin
                )
            })?;
            key.write_new(&dir.log_key_path())?;
            key
        }
    };
    if log_key.name() != description.origin {
        bail!(
            "the log key is named {:?}; it must be named after the origin {:?}",
            log_key.name(),
            description.origin
        );
    }
    let signers = description
        .signers
        .iter()
        .map(|p| KeyFile::read(&base.join(p)))
        .collect::<Result<Vec<_>>>()?;
    let body = genesis_body(description, &log_key, new_nonce())?;
    let signatures = sign_body(&body, &signers);
    let leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: now_ms(),
        body,
        signatures,
    };
    let store = Store::create(
        &dir.store_path(),
        &leaf.to_canonical_bytes(),
        &log_key.signer,
    )
    .map_err(|e| anyhow::anyhow!("genesis refused: {e}"))?;
    Ok(store)
}

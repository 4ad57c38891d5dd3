//! `feeledger init`: a ledger from a genesis description.
//!
//! The description is TOML (or JSON) naming the origin, the display name,
//! the funds, the roles with their public keys and thresholds, optional
//! rules (the defaults otherwise), and the private key files that sign the
//! genesis (every role, up to its threshold). Paths are relative to the
//! description file.

use crate::datadir::{now_ms, DataDir};
use crate::keyfile::KeyFile;
use anyhow::{bail, Context, Result};
use feeledger_core::entry::{
    default_rules, Body, Content, Date, EntrySignature, FundDef, Genesis, KeyDef, Leaf, Role,
    RoleDef, Roles, Rules,
};
use feeledger_core::hash::Hash;
use feeledger_store::Store;
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
pub fn init(data: &Path, description_path: &Path, log_key_path: Option<&Path>) -> Result<Store> {
    let description = read_description(description_path)?;
    let base = description_path.parent().unwrap_or(Path::new("."));
    let dir = DataDir::new(data);
    if dir.store_path().exists() {
        bail!("{} already holds a ledger", data.display());
    }
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
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
    let body = genesis_body(&description, &log_key, new_nonce())?;
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

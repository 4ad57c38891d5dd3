//! The feeledger demo: a realistic sample community ledger, written into a
//! data directory.
//!
//! 星光小区 X Star District: 300 units in 10 buildings, one year (business
//! dates 2025-01-01 to 2025-12-31) of property fees, common-area income,
//! co-signed spending, an owner-approved elevator repair from the
//! maintenance fund, a transfer into that fund, a reversed duplicate entry
//! and a committee member replaced mid-year.
//!
//! **Deterministic.** Every key comes from a fixed seed, every random choice
//! from a fixed-seed generator, every nonce from its position: two demos of
//! one [`Community`] hold the same bodies and signatures, and so the same
//! entries. Only each leaf's recorded `time` differs: it is the caller's
//! clock when the demo wrote it (read once per batch; the store keeps it
//! non-decreasing). The business `date` of each entry is what says when
//! the money moved.
//!
//! **DEMO ONLY keys.** The seed of key NAME is SHA-256 of the community's
//! [`Community::key_seed_prefix`] followed by NAME (for 星光小区,
//! SHA-256("feeledger demo key NAME")), so anyone can recompute every
//! private key of the demo, including the log key (named after the
//! origin). They are written to `DATA/keys/NAME.key` (and the log key to
//! `DATA/log.key`), mode 0600, so that `feeledger propose` and `feeledger
//! sign` can be tried on the demo. Never use them for a real ledger.
//!
//! Roles: the company (物业公司) signs with 1 of its 2 keys (wuye-li, the
//! manager; wuye-zhou, the fee clerk); the owners' committee (业主委员会)
//! with 2 of its 5 members (a real committee may well choose 3; 2 keeps the
//! demo readable); the supervisor (社区党委) with its one key. Rules are the
//! defaults: income by the company; spending and transfers by company and
//! committee; governance by committee and supervisor. On 2025-07-06 a
//! governance entry replaces weiyuan-sun with weiyuan-he; later entries are
//! signed by the new committee, and weiyuan-sun's key no longer signs.
//! Every role key carries the display name of the person it stands for
//! ([`DISPLAY_NAMES`]: 王建国, 赵秀英, ..., 社区党委).
//!
//! **Cosigned.** A complete demo's checkpoint at the end of November
//! ([`CONFIRMED_BEFORE`]) is cosigned (real cosignature/v1 lines, at the
//! caller's clock) by two committee members, [`COSIGNING_MEMBERS`], and by
//! an independent witness, [`WITNESS_KEY`], registered first as `feeledger
//! add-witness` does; its key is written to `DATA/demo-witness.key`. So
//! the demo serves a latest cosigned checkpoint (`GET
//! /api/v1/checkpoints/cosigned`) with committee and witness lines, older
//! than its latest checkpoint, as a live ledger's is. Cosignatures are not
//! bodies: the plan, and its pinned digest, do not change.
//!
//! [`open_or_build`] is the entry point: it creates the ledger in a given
//! directory (or opens an existing demo, and finishes one that was
//! interrupted) and returns the open store and its log key, to print and
//! to serve. A district of several communities is several calls, each with
//! its own directory and [`Community`] (origin, name, seeds).
//!
//! ```no_run
//! use feeledger_demo::{open_or_build, Community};
//! let now_ms = || 1_767_225_600_000;
//! let demo = open_or_build(std::path::Path::new("demo-data"), &Community::xingguang(), &now_ms)?;
//! println!("{} entries", demo.store.size());
//! # Ok::<(), feeledger_demo::DemoError>(())
//! ```

mod plan;

use feeledger_core::entry::{Body, EntrySignature, FormatError, KeyDef, Leaf, Month};
use feeledger_core::hash::{sha256, Hash};
use feeledger_core::keyfile::{sign_body, KeyFile, KeyFileError};
use feeledger_core::note::{cosign, KeyError, Note, NoteError};
use feeledger_ledgerdir::{DataDir, KeyFileIo as _, KeyFileIoError};
use feeledger_store::{Store, StoreError, Submission, WitnessError, BATCH_ENTRIES_MAX};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use plan::{contract_pdf, plan, Planned};

/// The demo ledger's origin; also the log key's name.
pub const ORIGIN: &str = "demo.feeledger.local/xingguang";
/// The demo community's display name.
pub const NAME: &str = "星光小区 X Star District";
/// The year of activity.
pub const YEAR: u16 = 2025;
/// A unit to try filters on: it pays every month, March's fee late in April.
pub const SAMPLE_UNIT: &str = "3-1502";
/// The file name of the elevator repair contract, in `DATA/attachments/`.
pub const CONTRACT_NAME: &str = "电梯维修合同.pdf";

/// Company (物业公司) keys: the manager, and the fee clerk who records fees.
pub const COMPANY_KEYS: [&str; 2] = ["wuye-li", "wuye-zhou"];
/// The owners' committee (业主委员会) elected at genesis.
pub const COMMITTEE_KEYS: [&str; 5] = [
    "weiyuan-wang",
    "weiyuan-zhao",
    "weiyuan-chen",
    "weiyuan-liu",
    "weiyuan-sun",
];
/// The community party committee (社区党委), the supervisor.
pub const SUPERVISOR_KEY: &str = "shequ-dangwei";
/// The committee member who steps down in July, and the one elected instead.
pub const RETIRING_MEMBER: &str = "weiyuan-sun";
pub const NEW_MEMBER: &str = "weiyuan-he";
/// The committee members who cosign the demo (业委会王、赵两位委员): the
/// committee's threshold, 2.
pub const COSIGNING_MEMBERS: [&str; 2] = ["weiyuan-wang", "weiyuan-zhao"];
/// The people (and the party committee) the demo's role keys stand for,
/// as the roles' signed `display_name`s: what residents read instead of
/// the key names.
pub const DISPLAY_NAMES: [(&str, &str); 9] = [
    ("wuye-li", "李明（物业经理）"),
    ("wuye-zhou", "周丽（收费员）"),
    ("weiyuan-wang", "王建国"),
    ("weiyuan-zhao", "赵秀英"),
    ("weiyuan-chen", "陈志强"),
    ("weiyuan-liu", "刘桂兰"),
    ("weiyuan-sun", "孙德明"),
    ("weiyuan-he", "何静"),
    ("shequ-dangwei", "社区党委"),
];
/// The demo's cosigners confirm the ledger up to the end of the month
/// before this one: a committee that reviews the accounts monthly has
/// confirmed November, and December's entries came after. So the demo's
/// latest checkpoint is newer than its latest cosigned one, as on a live
/// ledger, and the page proves that one extends the other.
pub const CONFIRMED_BEFORE: Month = Month {
    year: YEAR,
    month: 12,
};
/// The demo's independent witness: a cosigner key outside the log,
/// registered as `feeledger add-witness` does, which cosigns too. DEMO
/// ONLY: its seed is derived like the role keys'.
pub const WITNESS_KEY: &str = "demo-witness";

/// Which community a demo is: what makes one demo ledger differ from
/// another built by the same plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Community {
    /// The ledger's origin; also the log key's name.
    pub origin: String,
    /// The display name in the genesis.
    pub name: String,
    /// The seed of key NAME is SHA-256(`key_seed_prefix` + NAME). DEMO ONLY:
    /// anyone can recompute it.
    pub key_seed_prefix: String,
    /// The seed of the generator that draws the units' areas, who pays
    /// late, and the varying amounts.
    pub events_seed: u64,
}

impl Community {
    /// 星光小区 X Star District, the demo of `feeledger demo`.
    pub fn xingguang() -> Community {
        Community {
            origin: ORIGIN.into(),
            name: NAME.into(),
            key_seed_prefix: "feeledger demo key ".into(),
            events_seed: 0x5847_2026_0000_0001,
        }
    }

    /// The seed of the demo key `name`. DEMO ONLY: anyone can recompute it.
    pub fn key_seed(&self, name: &str) -> [u8; 32] {
        sha256(format!("{}{name}", self.key_seed_prefix).as_bytes()).0
    }
}

/// Why a demo could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A demo key cannot be made under its name (a bug in the demo).
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// A demo key file cannot be read or written.
    #[error(transparent)]
    KeyFile(#[from] KeyFileIoError),
    /// The store in the directory does not open.
    #[error("{}: {error}", data.display())]
    Open { data: PathBuf, error: StoreError },
    /// The directory holds another ledger.
    #[error("{} holds the ledger {origin:?}, not this demo; choose another --data directory", data.display())]
    OtherLedger { data: PathBuf, origin: String },
    /// A key file in `DATA/keys/` holds another key than the demo's.
    #[error("{} holds a different key than the demo's {name:?}; choose another --data directory", path.display())]
    OtherKey { path: PathBuf, name: String },
    #[error("cannot create {}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the demo genesis was refused (a bug in the demo): {0}")]
    GenesisRefused(StoreError),
    /// An entry already stored does not decode.
    #[error("entry {seq} is damaged: {error}")]
    Damaged { seq: u64, error: FormatError },
    /// A planned body is not canonical (a bug in the demo).
    #[error("demo entry {seq} is malformed (a bug in the demo): {error}")]
    Malformed { seq: u64, error: FormatError },
    /// The store refused a planned entry (a bug in the demo). `body` is
    /// the entry, for a caller to describe.
    #[error("demo entry {seq} ({}) was refused (a bug in the demo): {error}", body.date)]
    Refused {
        seq: u64,
        body: Box<Body>,
        error: StoreError,
    },
    #[error("demo entry {seq} was committed as {committed} (a bug in the demo)")]
    Misnumbered { seq: u64, committed: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A demo key has no cosigner form (a bug in the demo).
    #[error("a demo cosigner key cannot be made (a bug in the demo): {0}")]
    Cosign(KeyError),
    /// A demo cosignature cannot be made (a bug in the demo).
    #[error("a demo cosignature cannot be made (a bug in the demo): {0}")]
    Note(NoteError),
    /// The demo witness's key was refused (a bug in the demo).
    #[error("the demo witness key was refused (a bug in the demo): {0}")]
    Witness(WitnessError),
}

/// Every demo key of a community: role keys by name, and the log key.
pub struct DemoKeys {
    pub roles: BTreeMap<&'static str, KeyFile>,
    pub log: KeyFile,
    /// The witness's key ([`WITNESS_KEY`]); it cosigns with its cosigner
    /// form (type 0x04).
    pub witness: KeyFile,
}

impl DemoKeys {
    /// Derives every key from its seed.
    ///
    /// # Errors
    /// [`DemoError::Key`] if the origin is no valid key name.
    pub fn new(community: &Community) -> Result<DemoKeys, DemoError> {
        let mut roles = BTreeMap::new();
        for name in all_role_key_names() {
            roles.insert(name, KeyFile::from_seed(name, community.key_seed(name))?);
        }
        let log = KeyFile::from_seed(&community.origin, community.key_seed(&community.origin))?;
        let witness = KeyFile::from_seed(WITNESS_KEY, community.key_seed(WITNESS_KEY))?;
        Ok(DemoKeys {
            roles,
            log,
            witness,
        })
    }

    fn get(&self, name: &str) -> &KeyFile {
        &self.roles[name]
    }

    fn key_def(&self, name: &str) -> KeyDef {
        KeyDef {
            display_name: display_name(name).map(str::to_string),
            name: name.to_string(),
            public_key: self.get(name).public_key_base64(),
        }
    }
}

/// The display name of a demo role key ([`DISPLAY_NAMES`]).
pub fn display_name(key_name: &str) -> Option<&'static str> {
    DISPLAY_NAMES
        .iter()
        .find(|(key, _)| *key == key_name)
        .map(|(_, name)| *name)
}

fn all_role_key_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = COMPANY_KEYS.to_vec();
    names.extend(COMMITTEE_KEYS);
    names.push(NEW_MEMBER);
    names.push(SUPERVISOR_KEY);
    names
}

/// How [`open_or_build`] found the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new demo was written.
    Created,
    /// An interrupted demo was finished.
    Finished,
    /// A complete demo was already there; nothing was written.
    Reused,
}

/// An open demo ledger.
pub struct Demo {
    pub store: Store,
    pub log_key: KeyFile,
    pub data: PathBuf,
    pub community: Community,
    pub outcome: Outcome,
    /// Entries written by this call.
    pub appended: u64,
}

/// Opens the demo of `community` in `data`, creating it (or finishing an
/// interrupted one) first if needed. Refuses a directory holding some
/// other ledger or other keys. `now_ms` is the clock, read for the
/// genesis, once per batch, and for the cosignatures' time.
///
/// # Errors
/// [`DemoError`]; every refusal of a planned entry is a bug in the demo.
pub fn open_or_build(
    data: &Path,
    community: &Community,
    now_ms: &dyn Fn() -> u64,
) -> Result<Demo, DemoError> {
    let dir = DataDir::new(data);
    let keys = DemoKeys::new(community)?;
    let plan = plan(community, &keys);
    let existing = if dir.store_path().exists() {
        match Store::open(&dir.store_path()) {
            Ok(store) => Some(store),
            Err(StoreError::NotInitialized { .. }) => None,
            Err(error) => {
                return Err(DemoError::Open {
                    data: data.to_path_buf(),
                    error,
                })
            }
        }
    } else {
        None
    };
    if let Some(store) = &existing {
        if store.state().origin() != community.origin || !holds_planned(store, &plan, 0)? {
            return Err(DemoError::OtherLedger {
                data: data.to_path_buf(),
                origin: store.state().origin().to_string(),
            });
        }
    }
    write_keys(data, &keys)?;
    write_contract(data)?;
    let (store, created) = match existing {
        Some(store) => (store, false),
        None => {
            let store = Store::create(
                &dir.store_path(),
                &genesis_leaf(&plan, &keys, now_ms).to_canonical_bytes(),
                &keys.log.signer,
            )
            .map_err(DemoError::GenesisRefused)?;
            (store, true)
        }
    };
    finish_plan(store, created, &plan, keys, true, now_ms, data, community)
}

/// Writes the demo's key files under `dir` (kept as they are if present).
fn write_keys(dir: &Path, keys: &DemoKeys) -> Result<(), DemoError> {
    std::fs::create_dir_all(dir.join("keys")).map_err(|source| DemoError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    ensure_key(&keys.log, &DataDir::new(dir).log_key_path())?;
    for (name, key) in &keys.roles {
        ensure_key(key, &key_path(dir, name))?;
    }
    ensure_key(&keys.witness, &witness_key_path(dir))
}

/// The plan's first entry, the genesis, signed as a leaf at seq 0.
fn genesis_leaf(plan: &[Planned], keys: &DemoKeys, now_ms: &dyn Fn() -> u64) -> Leaf {
    let genesis = &plan[0];
    Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: now_ms(),
        body: genesis.body.clone(),
        signatures: sign(&genesis.body, &genesis.signers, keys),
    }
}

/// Finishes a demo that stopped between batches (leaving alone one that
/// is complete, or that someone has since added their own entries to),
/// and has a complete one confirmed by its cosigners up to November (also
/// one built before the demo cosigned) when `confirm` is set.
#[allow(clippy::too_many_arguments)] // one caller each: the single and the district demo
fn finish_plan(
    store: Store,
    created: bool,
    plan: &[Planned],
    keys: DemoKeys,
    confirm: bool,
    now_ms: &dyn Fn() -> u64,
    data: &Path,
    community: &Community,
) -> Result<Demo, DemoError> {
    let size = store.size();
    let finish = size < plan.len() as u64 && holds_planned(&store, plan, size - 1)?;
    let mut appended = u64::from(created);
    if finish {
        appended += append_plan(&store, &plan[size as usize..], size, &keys, now_ms)?;
    }
    if confirm && store.size() >= plan.len() as u64 {
        cosign_at(&store, confirmed_size(plan), &keys, now_ms)?;
    }
    let outcome = match (created, finish) {
        (true, _) => Outcome::Created,
        (false, true) => Outcome::Finished,
        (false, false) => Outcome::Reused,
    };
    Ok(Demo {
        store,
        log_key: keys.log,
        data: data.to_path_buf(),
        community: community.clone(),
        outcome,
        appended,
    })
}

/// The size of the checkpoint the demo's cosigners confirm: the one signed
/// after the last planned entry dated before [`CONFIRMED_BEFORE`], a batch
/// boundary because [`append_plan`] commits one batch per business month.
fn confirmed_size(plan: &[Planned]) -> u64 {
    plan.iter()
        .take_while(|p| p.body.date.month() < CONFIRMED_BEFORE)
        .count() as u64
}

/// Has the demo's cosigners confirm the checkpoint of `size`, as real
/// cosignature/v1 lines made at `now_ms`: the [`COSIGNING_MEMBERS`] with the
/// cosigner forms of their role keys, and the witness, registered first
/// (as `feeledger add-witness` does). A cosigner whose line is already on
/// that checkpoint is skipped, so reopening a demo changes nothing.
///
/// # Errors
/// A storage failure, no checkpoint of `size`, or a signing failure (a bug
/// in the demo).
fn cosign_at(
    store: &Store,
    size: u64,
    keys: &DemoKeys,
    now_ms: &dyn Fn() -> u64,
) -> Result<(), DemoError> {
    let witness = keys.witness.cosigner().map_err(DemoError::Cosign)?;
    if !store.witnesses()?.contains(&witness.verifier_key()) {
        store
            .add_witness(&witness.verifier_key())
            .map_err(DemoError::Witness)?;
    }
    let bytes = store
        .checkpoint(size)?
        .ok_or(DemoError::Store(StoreError::NoCheckpoint { size }))?;
    let note = Note::parse(&bytes)
        .map_err(|e| DemoError::Store(StoreError::damaged(format!("checkpoint {size}: {e}"))))?;
    let mut cosigners = Vec::new();
    for name in COSIGNING_MEMBERS {
        cosigners.push(keys.get(name).cosigner().map_err(DemoError::Cosign)?);
    }
    cosigners.push(witness);
    let now_s = now_ms() / 1000;
    for cosigner in cosigners {
        if store.cosigned_size(cosigner.name())? == Some(size) {
            continue;
        }
        let line = cosign(&note.text, now_s, &cosigner).map_err(DemoError::Note)?;
        store.add_cosignature(size, line)?;
    }
    Ok(())
}

/// Whether entry `seq` of the store has the body the plan has there.
fn holds_planned(store: &Store, plan: &[Planned], seq: u64) -> Result<bool, DemoError> {
    let Some(planned) = plan.get(seq as usize) else {
        return Ok(false);
    };
    let Some(bytes) = store.leaf_bytes(seq)? else {
        return Ok(false);
    };
    let leaf = Leaf::decode(&bytes).map_err(|error| DemoError::Damaged { seq, error })?;
    Ok(leaf.body == planned.body)
}

/// Where the demo keeps the private key of NAME.
pub fn key_path(data: &Path, name: &str) -> PathBuf {
    data.join("keys").join(format!("{name}.key"))
}

/// Where the demo keeps its witness's private key: beside the log key, not
/// among the role keys, since a witness holds no role.
pub fn witness_key_path(data: &Path) -> PathBuf {
    data.join(format!("{WITNESS_KEY}.key"))
}

/// Where the demo keeps the elevator repair contract its repair entry binds.
pub fn contract_path(data: &Path) -> PathBuf {
    data.join("attachments").join(CONTRACT_NAME)
}

/// Writes a key file (mode 0600), or checks that the one there is the same key.
fn ensure_key(key: &KeyFile, path: &Path) -> Result<(), DemoError> {
    if path.exists() {
        let found = KeyFile::read(path)?;
        if found.verifier_key() != key.verifier_key() {
            return Err(DemoError::OtherKey {
                path: path.to_path_buf(),
                name: key.name().to_string(),
            });
        }
        return Ok(());
    }
    Ok(key.write_new(path)?)
}

/// Appends planned entries, one batch per business month (group commit).
/// Every entry must commit: a refusal is a bug in the demo.
fn append_plan(
    store: &Store,
    rest: &[Planned],
    first_seq: u64,
    keys: &DemoKeys,
    now_ms: &dyn Fn() -> u64,
) -> Result<u64, DemoError> {
    let mut seq = first_seq;
    let mut start = 0;
    while start < rest.len() {
        let month = rest[start].body.date.month();
        let mut end = start;
        while end < rest.len()
            && end - start < BATCH_ENTRIES_MAX
            && rest[end].body.date.month() == month
        {
            end += 1;
        }
        let batch = &rest[start..end];
        let mut submissions = Vec::with_capacity(batch.len());
        for (i, p) in batch.iter().enumerate() {
            // The store takes typed bodies as they are: check each one as a
            // reader of the ledger will, field by field and canonical.
            Body::decode(&p.body.to_canonical_bytes()).map_err(|error| DemoError::Malformed {
                seq: seq + i as u64,
                error,
            })?;
            submissions.push(Submission {
                body: p.body.clone(),
                signatures: sign(&p.body, &p.signers, keys),
            });
        }
        let results = store.append_batch(submissions, now_ms(), &keys.log.signer)?;
        for (planned, result) in batch.iter().zip(results) {
            let committed = result.map_err(|error| DemoError::Refused {
                seq,
                body: Box::new(planned.body.clone()),
                error,
            })?;
            if committed.seq != seq {
                return Err(DemoError::Misnumbered {
                    seq,
                    committed: committed.seq,
                });
            }
            seq += 1;
        }
        start = end;
    }
    Ok(seq - first_seq)
}

/// Signs a body with the named demo keys.
fn sign(body: &Body, signers: &[&'static str], keys: &DemoKeys) -> Vec<EntrySignature> {
    sign_body(body, signers.iter().map(|name| keys.get(name)))
}

fn write_contract(data: &Path) -> Result<(), DemoError> {
    let path = contract_path(data);
    let dir = data.join("attachments");
    std::fs::create_dir_all(&dir).map_err(|source| DemoError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    if !path.exists() {
        std::fs::write(&path, contract_pdf())
            .map_err(|source| DemoError::Write { path, source })?;
    }
    Ok(())
}

/// The communities of a district demo of `count` communities, each with its
/// slug: 星光小区 first (the demo's own), then seven more named ones, then
/// numbered ones. Each has its own origin, names and key seeds.
pub fn district(count: usize) -> Vec<(String, Community)> {
    const NAMED: [(&str, &str); 7] = [
        ("chenxi", "晨曦小区 Chenxi Garden"),
        ("lanting", "兰亭苑 Lanting Court"),
        ("jinxiu", "锦绣家园 Jinxiu Homes"),
        ("songhe", "松鹤小区 Songhe Estate"),
        ("qingyuan", "清源里 Qingyuan Lane"),
        ("taoli", "桃李小区 Taoli Estate"),
        ("hupan", "湖畔花园 Lakeside Garden"),
    ];
    (0..count)
        .map(|i| {
            if i == 0 {
                return ("xingguang".to_string(), Community::xingguang());
            }
            let (slug, name) = match NAMED.get(i - 1) {
                Some((slug, name)) => (slug.to_string(), name.to_string()),
                None => (
                    format!("community-{i:04}"),
                    format!("第{i}小区 Community {i}"),
                ),
            };
            let community = Community {
                origin: format!("demo.feeledger.local/{slug}"),
                name,
                key_seed_prefix: format!("feeledger demo key {slug} "),
                events_seed: Community::xingguang().events_seed ^ ((i as u64) << 32),
            };
            (slug, community)
        })
        .collect()
}

/// A demo community built as ledger `ledger` of a shared sled `db` (a
/// district platform, `feeledger_store::Backing::Shared`), with its keys in
/// `keys_dir` as [`open_or_build`] writes them into a data directory
/// (`log.key`, `keys/NAME.key`, `demo-witness.key`). With `entries`, only
/// the plan's first `entries` entries (the genesis among them) are
/// written, and nothing is cosigned; without, the whole year, cosigned as
/// [`open_or_build`] does. A ledger the tree already holds is reused if it
/// is this community's.
///
/// # Errors
/// As [`open_or_build`].
pub fn build_shared(
    db: &sled::Db,
    ledger: &str,
    keys_dir: &Path,
    community: &Community,
    entries: Option<usize>,
    now_ms: &dyn Fn() -> u64,
) -> Result<Demo, DemoError> {
    let keys = DemoKeys::new(community)?;
    let mut plan = plan(community, &keys);
    let complete = entries.is_none_or(|n| n >= plan.len());
    if let Some(n) = entries {
        plan.truncate(n.max(1));
    }
    write_keys(keys_dir, &keys)?;
    let backing = || feeledger_store::Backing::Shared {
        db: db.clone(),
        ledger: ledger.to_string(),
    };
    let options = feeledger_store::StoreOptions::default();
    let (store, created) = match Store::open_with(backing(), &options) {
        Ok(store) => {
            if store.state().origin() != community.origin || !holds_planned(&store, &plan, 0)? {
                return Err(DemoError::OtherLedger {
                    data: keys_dir.to_path_buf(),
                    origin: store.state().origin().to_string(),
                });
            }
            (store, false)
        }
        Err(StoreError::NotInitialized { .. }) => {
            let store = Store::create_with(
                backing(),
                &genesis_leaf(&plan, &keys, now_ms).to_canonical_bytes(),
                &keys.log.signer,
                &options,
            )
            .map_err(DemoError::GenesisRefused)?;
            (store, true)
        }
        Err(error) => {
            return Err(DemoError::Open {
                data: keys_dir.to_path_buf(),
                error,
            })
        }
    };
    finish_plan(
        store, created, &plan, keys, complete, now_ms, keys_dir, community,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-256 over every planned body and its signatures, in order.
    fn plan_digest(community: &Community) -> String {
        let keys = DemoKeys::new(community).unwrap();
        let mut bytes = Vec::new();
        for planned in plan(community, &keys) {
            bytes.extend(planned.body.to_canonical_bytes());
            for signature in sign(&planned.body, &planned.signers, &keys) {
                bytes.extend(signature.key.as_bytes());
                bytes.extend(signature.sig.as_bytes());
            }
        }
        sha256(&bytes).to_hex()
    }

    /// The 星光小区 plan is the one `feeledger demo` writes: its bodies
    /// and signatures hash to the value recorded when the demo moved out of
    /// the CLI (checked then against a demo made by the CLI before the
    /// move), changed once since, on purpose, when the role keys got their
    /// display names (the genesis and the committee change carry them). A
    /// change to any byte of the demo fails here.
    #[test]
    fn xingguang_plan_is_unchanged() {
        let community = Community::xingguang();
        let keys = DemoKeys::new(&community).unwrap();
        assert_eq!(plan(&community, &keys).len(), 3_669);
        assert_eq!(
            plan_digest(&community),
            "67c8a2ca0425787577ac34ffbc3552b93f76a95c18b4c6a0ea6018e137cdb84f"
        );
    }

    /// Another community (origin, name, seeds) gets its own ledger, keys
    /// and draws: what a district of several demos is built from.
    #[test]
    fn communities_differ_by_origin_and_seeds() {
        let other = Community {
            origin: "demo.feeledger.local/yueguang".into(),
            name: "月光小区 Moonlight".into(),
            key_seed_prefix: "feeledger demo key yueguang ".into(),
            events_seed: 7,
        };
        let keys = DemoKeys::new(&other).unwrap();
        let planned = plan(&other, &keys);
        assert!(planned.iter().all(|p| p.body.ledger == other.origin));
        assert_ne!(
            keys.get("wuye-li").verifier_key(),
            DemoKeys::new(&Community::xingguang())
                .unwrap()
                .get("wuye-li")
                .verifier_key()
        );
        assert_ne!(plan_digest(&other), plan_digest(&Community::xingguang()));
        assert_eq!(plan_digest(&other), plan_digest(&other.clone()));
    }

    /// A demo is built once, then reused as it is; a directory whose key
    /// file holds another key is refused, naming the file. The built demo's
    /// latest cosigned checkpoint is November's last, carrying real
    /// cosignatures made at the clock's time by the two cosigning members
    /// (verifying with their role keys in force) and by the registered
    /// witness; reusing the demo cosigns nothing again.
    #[test]
    fn builds_then_reuses_and_refuses_other_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("demo");
        let clock = || 1_767_225_600_000;
        let community = Community::xingguang();
        let built = open_or_build(&data, &community, &clock).unwrap();
        assert_eq!(built.outcome, Outcome::Created);
        assert_eq!(built.appended, 3_669);
        assert_eq!(built.store.size(), 3_669);
        let (size, cosigned) = built.store.latest_cosigned_checkpoint().unwrap().unwrap();
        // November's last entry, then December's first.
        let month_of = |seq| {
            Leaf::decode(&built.store.leaf_bytes(seq).unwrap().unwrap())
                .unwrap()
                .body
                .date
                .month()
        };
        assert_eq!(month_of(size - 1).to_string(), "2025-11");
        assert_eq!(month_of(size).to_string(), "2025-12");
        let mut known = built.store.state().cosigner_keys();
        let witnesses = built.store.witnesses().unwrap();
        assert_eq!(witnesses.len(), 1);
        assert_eq!(witnesses[0].name(), WITNESS_KEY);
        known.extend(witnesses);
        let (_, note, lines) =
            feeledger_core::note::open_checkpoint(&cosigned, &built.log_key.verifier_key(), &known)
                .unwrap();
        let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["weiyuan-wang", "weiyuan-zhao", WITNESS_KEY]);
        assert!(lines.iter().all(|l| l.timestamp_s == Some(1_767_225_600)));
        assert_eq!(note.signatures.len(), 4, "the log's line and three");
        built.store.close().unwrap();
        let again = open_or_build(&data, &community, &clock).unwrap();
        assert_eq!(again.outcome, Outcome::Reused);
        assert_eq!(again.appended, 0);
        assert_eq!(
            again.store.latest_cosigned_checkpoint().unwrap(),
            Some((size, cosigned)),
            "nothing cosigned again"
        );
        again.store.close().unwrap();

        let other = tmp.path().join("other");
        std::fs::create_dir_all(other.join("keys")).unwrap();
        KeyFile::from_seed("wuye-li", [1; 32])
            .unwrap()
            .write_new(&key_path(&other, "wuye-li"))
            .unwrap();
        let err = open_or_build(&other, &community, &clock).err().unwrap();
        assert!(
            matches!(&err, DemoError::OtherKey { name, .. } if name == "wuye-li"),
            "{err}"
        );
    }
}

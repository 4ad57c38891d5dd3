//! The ledger state machine: `apply` validates one leaf against everything
//! before it, and yields the new state.
//!
//! [`LedgerState`] is small (roles, rules, balances, head): it is what an
//! auditor carries while streaming a million entries, and what the store
//! snapshots beside the head. Facts about *earlier* entries that `apply`
//! needs — has this body been seen, what is the reversal target and was it
//! reversed — are looked up by the caller and passed in as [`Lookups`]: the
//! core plans ([`Leaf::needs`]) and the I/O shell reads. [`MemoryHistory`]
//! does those look-ups in memory for audits and tests.
//!
//! `apply` is pure and all-or-nothing: on error the state is unchanged.
//!
//! # Files
//!
//! - this file: [`LedgerState`], its snapshot, [`ApplyError`], and what
//!   `apply` must be told ([`Needs`], [`Lookups`]) and returns ([`Applied`]);
//! - `apply`: judging an entry (chain, signatures, rules, money);
//! - `effects`: how an entry moves money, built once per body;
//! - `totals`: monthly income and spending by fund and category;
//! - `replay`: applying a whole log in memory (audits, tests).
//!
//! # Entry points, one job each
//!
//! Every leaf is judged by [`LedgerState::apply_leaf_prechecked`]; the
//! others are the shapes callers hold their input in:
//!
//! | function | input | used by |
//! |---|---|---|
//! | [`LedgerState::from_genesis`] | the genesis leaf's bytes | starting a ledger or a replay |
//! | [`LedgerState::apply`] | leaf bytes only | fuzzing, tests |
//! | [`LedgerState::apply_leaf`] | a decoded leaf, signatures not yet checked | tests |
//! | [`LedgerState::apply_leaf_prechecked`] | a decoded leaf and, optionally, a [`SignatureCheck`] made ahead on another thread | the store's commit, [`Replayer`] |
//! | [`Replayer::apply`] / [`Replayer::apply_decoded`] | a log, leaf by leaf, with look-ups from memory | the auditor |
//!
//! Proposals are checked, not applied: [`LedgerState::check_proposal`]
//! (body only) and [`LedgerState::check_proposal_prechecked`] (the store:
//! body bytes in hand, signature check reused at commit).
//!
//! The [`Needs`] of an entry (its body id, and a reversal's target) come
//! from one function, [`body_needs_from_bytes`]; the others only say where
//! the body's bytes come from: [`leaf_needs`] (sliced from the leaf's bytes,
//! the fast path), [`body_needs`] and [`Leaf::needs`] (re-encoded).

mod apply;
mod effects;
mod replay;
mod totals;

pub use apply::*;
pub use effects::*;
pub use replay::*;
pub use totals::*;

use crate::entry::{
    check_roles, check_rules, check_signature_list, Body, Content, EntrySignature, FormatError,
    Genesis, Kind, Leaf, Month, Role, Roles, RuleKind, Rules,
};
use crate::hash::{leaf_hash, Hash};
use crate::note::{KeyAlg, VerifierKey};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A rejection. Every variant says what is wrong and where; [`ApplyError::code`]
/// gives a stable machine-readable name for APIs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("malformed entry: {0}")]
    Format(#[from] FormatError),
    #[error("entry is for ledger {found:?}, this ledger is {expected:?}")]
    WrongLedger { expected: String, found: String },
    #[error("entry has seq {found}, the next seq is {expected}")]
    Sequence { expected: u64, found: u64 },
    #[error("entry {seq}: prev is {found}, the leaf hash of entry {} is {expected}", seq.saturating_sub(1))]
    BrokenChain {
        seq: u64,
        expected: Hash,
        found: Hash,
    },
    #[error("entry {seq}: time {found_ms} ms is before the previous entry's {previous_ms} ms")]
    TimeWentBackwards {
        seq: u64,
        previous_ms: u64,
        found_ms: u64,
    },
    #[error("the first entry must be a genesis, found {found}")]
    NotGenesis { found: Kind },
    #[error("a ledger has one genesis; entry {seq} is another")]
    SecondGenesis { seq: u64 },
    #[error("the log key {log_key:?} is not an Ed25519 note key named after the origin {origin:?}: {reason}")]
    BadLogKey {
        origin: String,
        log_key: String,
        reason: String,
    },
    #[error("fund {fund:?} does not exist in this ledger")]
    UnknownFund { fund: String },
    #[error("key {key:?} belongs to no role of this ledger")]
    UnknownKey { key: String },
    #[error("signature by key {key:?} does not verify")]
    BadSignature { key: String },
    #[error("{kind} needs {need} signature(s) from role {role}, has {have}")]
    RuleNotMet {
        kind: Kind,
        role: Role,
        have: u32,
        need: u32,
    },
    #[error("no signature is from a role that the {kind} rule names ({roles})")]
    NoRuleSigner { kind: Kind, roles: String },
    #[error("this body was already recorded as entry {seq} (replay)")]
    Replay { seq: u64 },
    #[error("reversal target {target_seq} does not exist")]
    TargetMissing { target_seq: u64 },
    #[error("entry {target_seq} is a {kind} and cannot be reversed")]
    NotReversible { target_seq: u64, kind: Kind },
    #[error("entry {target_seq} was already reversed by entry {by_seq}")]
    AlreadyReversed { target_seq: u64, by_seq: u64 },
    #[error("overdraft: fund {fund:?} holds {}, this entry takes {}", crate::money::format_yuan(*.balance_fen), crate::money::format_yuan(*.amount_fen))]
    Overdraft {
        fund: String,
        balance_fen: u64,
        amount_fen: u64,
    },
    #[error("fund {fund:?} would overflow")]
    Overflow { fund: String },
    #[error("the caller's look-ups do not match the entry ({what})")]
    LookupMismatch { what: &'static str },
    /// The leaf's canonical bytes exceed the log's limit
    /// ([`crate::canonical::LEAF_BYTES_MAX`]): too many signatures, or
    /// fields too long together.
    #[error("the leaf would be {bytes} bytes; the limit is {max}")]
    LeafTooLarge { bytes: usize, max: usize },
}

impl ApplyError {
    /// A stable name for the error, for API bodies and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ApplyError::Format(_) => "malformed",
            ApplyError::WrongLedger { .. } => "wrong_ledger",
            ApplyError::Sequence { .. } => "wrong_seq",
            ApplyError::BrokenChain { .. } => "broken_chain",
            ApplyError::TimeWentBackwards { .. } => "time_went_backwards",
            ApplyError::NotGenesis { .. } => "not_genesis",
            ApplyError::SecondGenesis { .. } => "second_genesis",
            ApplyError::BadLogKey { .. } => "bad_log_key",
            ApplyError::UnknownFund { .. } => "unknown_fund",
            ApplyError::UnknownKey { .. } => "unknown_key",
            ApplyError::BadSignature { .. } => "bad_signature",
            ApplyError::RuleNotMet { .. } => "rule_not_met",
            ApplyError::NoRuleSigner { .. } => "unauthorized_signer",
            ApplyError::Replay { .. } => "replay",
            ApplyError::TargetMissing { .. } => "target_missing",
            ApplyError::NotReversible { .. } => "not_reversible",
            ApplyError::AlreadyReversed { .. } => "already_reversed",
            ApplyError::Overdraft { .. } => "overdraft",
            ApplyError::Overflow { .. } => "overflow",
            ApplyError::LookupMismatch { .. } => "internal",
            ApplyError::LeafTooLarge { .. } => "too_large",
        }
    }
}

/// What `apply` needs to read about earlier entries; see [`Leaf::needs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    pub body_id: Hash,
    pub target_seq: Option<u64>,
}

/// The answers to [`Needs`].
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// The seq of an earlier entry with the same body id, if any.
    pub body_seen_at: Option<u64>,
    /// For a reversal: the target's leaf, and the seq that reversed it, if any.
    pub target: Option<(Leaf, Option<u64>)>,
}

/// The result of a successful `apply`: everything the store indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub seq: u64,
    pub leaf_hash: Hash,
    pub body_id: Hash,
    pub kind: Kind,
    pub effect: Effect,
    /// For a reversal, the seq it reverses.
    pub reverses: Option<u64>,
    pub postings: Vec<Posting>,
    pub signers: Vec<Signer>,
}

impl Leaf {
    /// What must be looked up before this leaf can be applied. Re-encodes
    /// the body; a caller with the leaf's bytes uses [`leaf_needs`].
    pub fn needs(&self) -> Needs {
        body_needs(&self.body)
    }
}

/// What must be looked up before this leaf can be applied, taking the body
/// id from the leaf's bytes instead of re-encoding the body. The path of
/// the store and the auditor. `leaf_bytes` should be `leaf`'s canonical
/// bytes; if the body cannot be sliced from them, it is re-encoded.
pub fn leaf_needs(leaf: &Leaf, leaf_bytes: &[u8]) -> Needs {
    match crate::entry::body_bytes_of_leaf(leaf_bytes) {
        Some(body_bytes) => body_needs_from_bytes(&leaf.body, body_bytes),
        None => leaf.needs(),
    }
}

/// What must be looked up before this body can be checked (a proposal, a
/// body not yet in a leaf). Re-encodes the body.
pub fn body_needs(body: &Body) -> Needs {
    body_needs_from_bytes(body, &body.to_canonical_bytes())
}

/// As [`body_needs`], for a body whose canonical bytes the caller has: the
/// one function that builds [`Needs`], which the others call.
pub fn body_needs_from_bytes(body: &Body, body_bytes: &[u8]) -> Needs {
    Needs {
        body_id: crate::hash::sha256(body_bytes),
        target_seq: match &body.content {
            Content::Reversal(r) => Some(r.target_seq),
            _ => None,
        },
    }
}

/// The part of the state an auditor carries, and the store snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSnapshot {
    pub origin: String,
    pub genesis: Genesis,
    pub roles: Roles,
    pub rules: Rules,
    pub size: u64,
    pub head: Hash,
    pub last_time_ms: u64,
    pub balances: BTreeMap<String, u64>,
}

/// The running state of one ledger after `size` entries.
#[derive(Debug, Clone)]
pub struct LedgerState {
    snapshot: StateSnapshot,
    log_key: VerifierKey,
    keys: HashMap<String, (Role, VerifyingKey)>,
    /// Changes whenever the role keys change: callers that check signatures
    /// ahead (the audit's decoder, the store's cache of pending proposals)
    /// refresh their copy of the keys by it. A [`SignatureCheck`] itself
    /// records the key each verdict was made with.
    roles_version: u64,
}

fn index_keys(roles: &Roles) -> HashMap<String, (Role, VerifyingKey)> {
    let mut keys = HashMap::new();
    for (role, def) in roles {
        for key in &def.keys {
            let verifying = key
                .verifying_key()
                .expect("role keys are checked before indexing");
            keys.insert(key.name.clone(), (*role, verifying));
        }
    }
    keys
}

fn rule_for(kind: Kind) -> Option<RuleKind> {
    match kind {
        Kind::Income => Some(RuleKind::Income),
        Kind::Expenditure => Some(RuleKind::Expenditure),
        Kind::Transfer => Some(RuleKind::Transfer),
        Kind::Governance => Some(RuleKind::Governance),
        Kind::Genesis | Kind::Reversal => None,
    }
}

fn parse_log_key(origin: &str, genesis: &Genesis) -> Result<VerifierKey, ApplyError> {
    let bad = |reason: String| ApplyError::BadLogKey {
        origin: origin.to_string(),
        log_key: genesis.log_key.clone(),
        reason,
    };
    let key = VerifierKey::parse(&genesis.log_key).map_err(|e| bad(e.to_string()))?;
    if key.alg() != KeyAlg::Ed25519 {
        return Err(bad("the log key must be an Ed25519 (type 0x01) key".into()));
    }
    if key.name() != origin {
        return Err(bad("its name must equal the origin".into()));
    }
    Ok(key)
}

impl LedgerState {
    /// Starts a ledger from its genesis leaf (seq 0, prev zero).
    ///
    /// # Errors
    /// Any [`ApplyError`]: the genesis must be well-formed and signed by
    /// every role it defines, each up to its threshold.
    pub fn from_genesis(leaf_bytes: &[u8]) -> Result<(LedgerState, Applied), ApplyError> {
        let leaf = Leaf::decode(leaf_bytes)?;
        let Content::Genesis(genesis) = &leaf.body.content else {
            return Err(ApplyError::NotGenesis {
                found: leaf.body.kind(),
            });
        };
        if leaf.seq != 0 {
            return Err(ApplyError::Sequence {
                expected: 0,
                found: leaf.seq,
            });
        }
        if leaf.prev != Hash::ZERO {
            return Err(ApplyError::BrokenChain {
                seq: 0,
                expected: Hash::ZERO,
                found: leaf.prev,
            });
        }
        let origin = leaf.body.ledger.clone();
        let log_key = parse_log_key(&origin, genesis)?;
        let state = LedgerState {
            snapshot: StateSnapshot {
                origin,
                genesis: genesis.clone(),
                roles: genesis.roles.clone(),
                rules: genesis.rules.clone(),
                size: 0,
                head: Hash::ZERO,
                last_time_ms: 0,
                balances: genesis.funds.iter().map(|f| (f.id.clone(), 0)).collect(),
            },
            log_key,
            keys: index_keys(&genesis.roles),
            roles_version: 0,
        };
        let mut state = state;
        let applied = state.apply_leaf(&leaf, leaf_bytes, &Lookups::default())?;
        Ok((state, applied))
    }

    /// Restores a state the store saved.
    ///
    /// # Errors
    /// If the snapshot's roles, rules or log key do not check.
    pub fn from_snapshot(snapshot: StateSnapshot) -> Result<LedgerState, ApplyError> {
        check_roles(&snapshot.roles, "$.roles")?;
        check_rules(&snapshot.rules, &snapshot.roles, "$.rules")?;
        let log_key = parse_log_key(&snapshot.origin, &snapshot.genesis)?;
        let keys = index_keys(&snapshot.roles);
        Ok(LedgerState {
            snapshot,
            log_key,
            keys,
            roles_version: 0,
        })
    }

    pub fn snapshot(&self) -> &StateSnapshot {
        &self.snapshot
    }
    pub fn origin(&self) -> &str {
        &self.snapshot.origin
    }
    pub fn genesis(&self) -> &Genesis {
        &self.snapshot.genesis
    }
    pub fn roles(&self) -> &Roles {
        &self.snapshot.roles
    }
    pub fn rules(&self) -> &Rules {
        &self.snapshot.rules
    }
    /// Number of entries applied: the seq of the next one.
    pub fn size(&self) -> u64 {
        self.snapshot.size
    }
    /// Leaf hash of the last entry.
    pub fn head(&self) -> Hash {
        self.snapshot.head
    }
    pub fn last_time_ms(&self) -> u64 {
        self.snapshot.last_time_ms
    }
    pub fn balances(&self) -> &BTreeMap<String, u64> {
        &self.snapshot.balances
    }
    /// The checkpoint key fixed by genesis.
    pub fn log_key(&self) -> &VerifierKey {
        &self.log_key
    }
    /// Every role key in force, as a C2SP cosignature/v1 verifier key of the
    /// same name: members of any role may cosign checkpoints with their key.
    pub fn cosigner_keys(&self) -> Vec<VerifierKey> {
        let mut out: Vec<VerifierKey> = self
            .keys
            .iter()
            .filter_map(|(name, (_, key))| VerifierKey::new(name, KeyAlg::CosignatureV1, *key).ok())
            .collect();
        out.sort_by(|a, b| a.name().cmp(b.name()));
        out
    }

    /// Counts the changes to the roles and keys since genesis. A
    /// [`SignatureCheck`]'s verdict is trusted only where its key is the
    /// one in force now (see [`LedgerState::apply_leaf_prechecked`]).
    pub fn roles_version(&self) -> u64 {
        self.roles_version
    }

    /// The role of a key in force, if any.
    pub fn role_of(&self, key_name: &str) -> Option<Role> {
        self.keys.get(key_name).map(|(role, _)| *role)
    }

    /// Builds the next leaf for a body and its signatures. The recorded time
    /// never decreases: a clock that stepped back is clamped to the last time.
    pub fn next_leaf(&self, body: Body, mut signatures: Vec<EntrySignature>, now_ms: u64) -> Leaf {
        crate::entry::normalize_signatures(&mut signatures);
        Leaf {
            seq: self.snapshot.size,
            prev: self.snapshot.head,
            time_ms: now_ms.max(self.snapshot.last_time_ms),
            body,
            signatures,
        }
    }
}

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
        }
    }
}

/// How an entry moves money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Genesis and governance move no money.
    None,
    Credit {
        fund: String,
        amount_fen: u64,
    },
    Debit {
        fund: String,
        amount_fen: u64,
    },
    Move {
        from_fund: String,
        to_fund: String,
        amount_fen: u64,
    },
}

impl Effect {
    /// The effect that undoes this one.
    pub fn inverse(&self) -> Effect {
        match self {
            Effect::None => Effect::None,
            Effect::Credit { fund, amount_fen } => Effect::Debit {
                fund: fund.clone(),
                amount_fen: *amount_fen,
            },
            Effect::Debit { fund, amount_fen } => Effect::Credit {
                fund: fund.clone(),
                amount_fen: *amount_fen,
            },
            Effect::Move {
                from_fund,
                to_fund,
                amount_fen,
            } => Effect::Move {
                from_fund: to_fund.clone(),
                to_fund: from_fund.clone(),
                amount_fen: *amount_fen,
            },
        }
    }
}

/// The category totals use for transfers.
pub const TRANSFER_CATEGORY: &str = "transfer";

/// A change to the monthly totals. Reversals post negative amounts into the
/// month and category of the entry they reverse, so totals stay net.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub month: Month,
    pub fund: String,
    pub category: String,
    pub income_fen: i64,
    pub spending_fen: i64,
}

/// A signature that verified, and the role of its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub key: String,
    pub role: Role,
}

/// How far a set of signatures goes toward a kind's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub kind: Kind,
    /// The roles the rule needs.
    pub required_roles: Vec<Role>,
    /// Valid signers, in key-name order.
    pub signers: Vec<Signer>,
    /// For each required role: (distinct valid keys, threshold).
    pub progress: BTreeMap<Role, (u32, u32)>,
}

impl Approval {
    pub fn is_satisfied(&self) -> bool {
        self.progress.values().all(|(have, need)| have >= need)
    }

    /// The first unmet part of the rule, as an error.
    pub fn unmet(&self) -> Option<ApplyError> {
        self.progress
            .iter()
            .find(|(_, (have, need))| have < need)
            .map(|(role, (have, need))| ApplyError::RuleNotMet {
                kind: self.kind,
                role: *role,
                have: *have,
                need: *need,
            })
    }
}

/// Signatures verified ahead of `apply`, possibly on another thread; see
/// [`LedgerState::check_signatures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    roles_version: u64,
    body_id: Hash,
    /// Which signatures these are (see [`signatures_digest`]): a check
    /// speaks only for the very list it was made on, in its order.
    signatures_digest: Hash,
    /// Per signature, in order: the key is in force and `verify_strict` passed.
    valid: Vec<bool>,
}

impl SignatureCheck {
    /// The per-signature verdicts, if this check was made for this body
    /// and these signatures against the keys in force in `state`.
    fn verdicts_for(
        &self,
        state: &LedgerState,
        body_id: &Hash,
        signatures: &[EntrySignature],
    ) -> Option<&[bool]> {
        (self.roles_version == state.roles_version
            && self.body_id == *body_id
            && self.valid.len() == signatures.len()
            && self.signatures_digest == signatures_digest(signatures))
        .then_some(self.valid.as_slice())
    }
}

/// SHA-256 over each signature's key name and signature text, each
/// preceded by its length (u32 big-endian), in order.
fn signatures_digest(signatures: &[EntrySignature]) -> Hash {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for s in signatures {
        for part in [s.key.as_bytes(), s.sig.as_bytes()] {
            hasher.update((part.len() as u32).to_be_bytes());
            hasher.update(part);
        }
    }
    Hash(hasher.finalize().into())
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
    /// What must be looked up before this leaf can be applied.
    pub fn needs(&self) -> Needs {
        body_needs(&self.body)
    }
}

/// What must be looked up before this leaf can be applied, taking the body
/// id from the leaf's bytes instead of re-encoding the body.
pub fn leaf_needs(leaf: &Leaf, leaf_bytes: &[u8]) -> Needs {
    match crate::entry::body_bytes_of_leaf(leaf_bytes) {
        Some(body_bytes) => body_needs_from_bytes(&leaf.body, body_bytes),
        None => leaf.needs(),
    }
}

/// What must be looked up before this body can be checked.
pub fn body_needs(body: &Body) -> Needs {
    body_needs_from_bytes(body, &body.to_canonical_bytes())
}

/// As [`body_needs`], for a body whose canonical bytes the caller has.
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
    /// Changes whenever the role keys change, so that a [`SignatureCheck`]
    /// made against other keys is never used.
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
    /// [`SignatureCheck`] is trusted only at the version it was made at.
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

    /// Checks a proposal (a body and the signatures gathered so far) against
    /// the current state, without committing it. At least one signature must
    /// be valid and come from a role the kind's rule names; every signature
    /// given must verify. Money is checked against today's balances (it is
    /// checked again when the entry commits).
    ///
    /// # Errors
    /// Any [`ApplyError`] except the sequence and chain ones.
    pub fn check_proposal(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        lookups: &Lookups,
    ) -> Result<Approval, ApplyError> {
        self.check_proposal_checked(body, &body.to_canonical_bytes(), signatures, lookups, None)
            .map(|(approval, _)| approval)
    }

    /// As [`LedgerState::check_proposal`], for a body whose canonical bytes
    /// the caller has; also returns the [`SignatureCheck`] it established
    /// (every signature verified against the keys in force), so that
    /// committing the proposal does not verify the signatures again.
    /// `earlier` is a check made ahead by [`LedgerState::check_signatures`]
    /// (on another thread, say); it is used only if it was made for this
    /// body and these signatures against the keys in force now.
    ///
    /// # Errors
    /// As [`LedgerState::check_proposal`].
    pub fn check_proposal_checked(
        &self,
        body: &Body,
        body_bytes: &[u8],
        signatures: &[EntrySignature],
        lookups: &Lookups,
        earlier: Option<&SignatureCheck>,
    ) -> Result<(Approval, SignatureCheck), ApplyError> {
        debug_assert_eq!(body.to_canonical_bytes(), body_bytes);
        check_signature_list(signatures, "$.signatures")?;
        let body_id = crate::hash::sha256(body_bytes);
        let message = crate::entry::signing_message(body_bytes);
        let verified = earlier.and_then(|c| c.verdicts_for(self, &body_id, signatures));
        let (approval, _) = self.check_body(body, signatures, lookups, &message, verified)?;
        let relevant = approval
            .signers
            .iter()
            .any(|s| approval.required_roles.contains(&s.role));
        if !relevant {
            return Err(ApplyError::NoRuleSigner {
                kind: body.kind(),
                roles: approval
                    .required_roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
            });
        }
        // check_body refused any unknown key or bad signature, so every
        // signature here verified against the keys in force.
        let check = SignatureCheck {
            roles_version: self.roles_version,
            body_id,
            signatures_digest: signatures_digest(signatures),
            valid: vec![true; signatures.len()],
        };
        Ok((approval, check))
    }

    /// Validates one leaf and, only if it is valid, advances the state.
    ///
    /// # Errors
    /// Any [`ApplyError`]; the state is then unchanged.
    pub fn apply(&mut self, leaf_bytes: &[u8], lookups: &Lookups) -> Result<Applied, ApplyError> {
        let leaf = Leaf::decode(leaf_bytes)?;
        self.apply_leaf(&leaf, leaf_bytes, lookups)
    }

    /// As [`LedgerState::apply`], for a leaf already decoded from `leaf_bytes`.
    pub fn apply_leaf(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        lookups: &Lookups,
    ) -> Result<Applied, ApplyError> {
        self.apply_leaf_checked(leaf, leaf_bytes, lookups, None)
    }

    /// Checks an entry's signatures against the keys in force, without
    /// changing anything: callers run this on many threads ahead of the
    /// sequential [`LedgerState::apply_leaf_checked`], which then skips the
    /// Ed25519 work. `body_bytes` must be JCS of the body whose signatures
    /// these are (see [`crate::entry::body_bytes_of_leaf`]).
    pub fn check_signatures(
        &self,
        body_bytes: &[u8],
        signatures: &[EntrySignature],
    ) -> SignatureCheck {
        let message = crate::entry::signing_message(body_bytes);
        let valid = signatures
            .iter()
            .map(|entry_sig| {
                self.keys.get(&entry_sig.key).is_some_and(|(_, verifying)| {
                    entry_sig
                        .signature()
                        .is_some_and(|sig| verifying.verify_strict(&message, &sig).is_ok())
                })
            })
            .collect();
        SignatureCheck {
            roles_version: self.roles_version,
            body_id: crate::hash::sha256(body_bytes),
            signatures_digest: signatures_digest(signatures),
            valid,
        }
    }

    /// As [`LedgerState::apply_leaf`], using a [`SignatureCheck`] made
    /// earlier by [`LedgerState::check_signatures`]. The check is used only
    /// if it was made against the keys in force now, for this very body
    /// (same body id) and this very signature list (same digest); otherwise
    /// signatures are verified here.
    ///
    /// # Errors
    /// Any [`ApplyError`]; the state is then unchanged.
    pub fn apply_leaf_checked(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        lookups: &Lookups,
        check: Option<&SignatureCheck>,
    ) -> Result<Applied, ApplyError> {
        debug_assert_eq!(leaf.to_canonical_bytes(), leaf_bytes);
        let s = &self.snapshot;
        if leaf.seq != s.size {
            return Err(ApplyError::Sequence {
                expected: s.size,
                found: leaf.seq,
            });
        }
        if leaf.prev != s.head {
            return Err(ApplyError::BrokenChain {
                seq: leaf.seq,
                expected: s.head,
                found: leaf.prev,
            });
        }
        if leaf.time_ms < s.last_time_ms {
            return Err(ApplyError::TimeWentBackwards {
                seq: leaf.seq,
                previous_ms: s.last_time_ms,
                found_ms: leaf.time_ms,
            });
        }
        if leaf.seq > 0 && leaf.body.kind() == Kind::Genesis {
            return Err(ApplyError::SecondGenesis { seq: leaf.seq });
        }
        let body_bytes_owned;
        let body_bytes = match crate::entry::body_bytes_of_leaf(leaf_bytes) {
            Some(bytes) => bytes,
            None => {
                body_bytes_owned = leaf.body.to_canonical_bytes();
                &body_bytes_owned
            }
        };
        debug_assert_eq!(body_bytes, leaf.body.to_canonical_bytes().as_slice());
        let body_id = crate::hash::sha256(body_bytes);
        let message = crate::entry::signing_message(body_bytes);
        let verified = check.and_then(|c| c.verdicts_for(self, &body_id, &leaf.signatures));
        let (approval, outcome) =
            self.check_body(&leaf.body, &leaf.signatures, lookups, &message, verified)?;
        if let Some(unmet) = approval.unmet() {
            return Err(unmet);
        }
        // Every check passed: only now does the state change.
        let applied = Applied {
            seq: leaf.seq,
            leaf_hash: leaf_hash(leaf_bytes),
            body_id,
            kind: leaf.body.kind(),
            effect: outcome.effect,
            reverses: outcome.reverses,
            postings: outcome.postings,
            signers: approval.signers,
        };
        let s = &mut self.snapshot;
        s.balances = outcome.balances;
        if let Content::Governance(g) = &leaf.body.content {
            if let Some(roles) = &g.roles {
                s.roles = roles.clone();
                self.keys = index_keys(roles);
                self.roles_version += 1;
            }
            if let Some(rules) = &g.rules {
                s.rules = rules.clone();
            }
        }
        s.size += 1;
        s.head = applied.leaf_hash;
        s.last_time_ms = leaf.time_ms;
        Ok(applied)
    }

    /// Everything about a body that does not depend on its position in the
    /// log: ledger, fund references, signatures, money, replay and reversal
    /// references. Returns the approval and the outcome it would have.
    fn check_body(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        lookups: &Lookups,
        message: &[u8],
        verified: Option<&[bool]>,
    ) -> Result<(Approval, Outcome), ApplyError> {
        let s = &self.snapshot;
        if body.ledger != s.origin {
            return Err(ApplyError::WrongLedger {
                expected: s.origin.clone(),
                found: body.ledger.clone(),
            });
        }
        if let Some(seq) = lookups.body_seen_at {
            return Err(ApplyError::Replay { seq });
        }
        let fund_exists = |fund: &str| -> Result<(), ApplyError> {
            if s.balances.contains_key(fund) {
                Ok(())
            } else {
                Err(ApplyError::UnknownFund {
                    fund: fund.to_string(),
                })
            }
        };
        let month = body.date.month();
        let (rule_kind, effect, reverses, postings) = match &body.content {
            Content::Genesis(_) => {
                if s.size != 0 {
                    return Err(ApplyError::SecondGenesis { seq: s.size });
                }
                (None, Effect::None, None, vec![])
            }
            Content::Income(i) => {
                fund_exists(&i.fund)?;
                let posting = posting(month, &i.fund, i.category.as_str(), i.amount_fen as i64, 0);
                (
                    Some(RuleKind::Income),
                    Effect::Credit {
                        fund: i.fund.clone(),
                        amount_fen: i.amount_fen,
                    },
                    None,
                    vec![posting],
                )
            }
            Content::Expenditure(e) => {
                fund_exists(&e.fund)?;
                let posting = posting(month, &e.fund, e.category.as_str(), 0, e.amount_fen as i64);
                (
                    Some(RuleKind::Expenditure),
                    Effect::Debit {
                        fund: e.fund.clone(),
                        amount_fen: e.amount_fen,
                    },
                    None,
                    vec![posting],
                )
            }
            Content::Transfer(t) => {
                fund_exists(&t.from_fund)?;
                fund_exists(&t.to_fund)?;
                let amount = t.amount_fen as i64;
                (
                    Some(RuleKind::Transfer),
                    Effect::Move {
                        from_fund: t.from_fund.clone(),
                        to_fund: t.to_fund.clone(),
                        amount_fen: t.amount_fen,
                    },
                    None,
                    vec![
                        posting(month, &t.from_fund, TRANSFER_CATEGORY, 0, amount),
                        posting(month, &t.to_fund, TRANSFER_CATEGORY, amount, 0),
                    ],
                )
            }
            Content::Reversal(r) => {
                let Some((target, reversed_by)) = &lookups.target else {
                    return Err(ApplyError::TargetMissing {
                        target_seq: r.target_seq,
                    });
                };
                if target.seq != r.target_seq {
                    return Err(ApplyError::LookupMismatch { what: "target seq" });
                }
                if target.seq >= s.size {
                    return Err(ApplyError::TargetMissing {
                        target_seq: r.target_seq,
                    });
                }
                let target_kind = target.body.kind();
                let Some(target_rule) = rule_for(target_kind).filter(|_| {
                    matches!(
                        target_kind,
                        Kind::Income | Kind::Expenditure | Kind::Transfer
                    )
                }) else {
                    return Err(ApplyError::NotReversible {
                        target_seq: target.seq,
                        kind: target_kind,
                    });
                };
                if let Some(by_seq) = reversed_by {
                    return Err(ApplyError::AlreadyReversed {
                        target_seq: target.seq,
                        by_seq: *by_seq,
                    });
                }
                let target_outcome = target_effect(&target.body);
                let postings = target_outcome
                    .1
                    .into_iter()
                    .map(|p| Posting {
                        income_fen: -p.income_fen,
                        spending_fen: -p.spending_fen,
                        ..p
                    })
                    .collect();
                (
                    Some(target_rule),
                    target_outcome.0.inverse(),
                    Some(target.seq),
                    postings,
                )
            }
            Content::Governance(g) => {
                let roles = g.roles.as_ref().unwrap_or(&s.roles);
                let rules = g.rules.as_ref().unwrap_or(&s.rules);
                check_rules(rules, roles, "$.body.rules")?;
                (Some(RuleKind::Governance), Effect::None, None, vec![])
            }
        };
        let balances = apply_effect(&s.balances, &effect)?;
        let approval = self.evaluate_signatures(body, signatures, rule_kind, message, verified)?;
        Ok((
            approval,
            Outcome {
                effect,
                reverses,
                postings,
                balances,
            },
        ))
    }

    /// Verifies every signature (any bad or unknown one is an error) and
    /// counts distinct keys per role. Genesis is checked against the roles
    /// it defines, and needs every one of them.
    fn evaluate_signatures(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        rule_kind: Option<RuleKind>,
        message: &[u8],
        verified: Option<&[bool]>,
    ) -> Result<Approval, ApplyError> {
        // A check made against this state's keys says nothing about a
        // genesis, which is checked against the keys it defines.
        let verified = verified.filter(|_| !matches!(body.content, Content::Genesis(_)));
        let genesis_keys;
        let (keys, required_roles): (&HashMap<String, (Role, VerifyingKey)>, Vec<Role>) =
            match &body.content {
                Content::Genesis(g) => {
                    genesis_keys = index_keys(&g.roles);
                    (&genesis_keys, g.roles.keys().copied().collect())
                }
                _ => {
                    let rule_kind = rule_kind.expect("every kind but genesis has a rule");
                    (&self.keys, self.snapshot.rules[&rule_kind].clone())
                }
            };
        let roles = match &body.content {
            Content::Genesis(g) => &g.roles,
            _ => &self.snapshot.roles,
        };
        let mut signers = Vec::with_capacity(signatures.len());
        for (i, entry_sig) in signatures.iter().enumerate() {
            let Some((role, verifying)) = keys.get(&entry_sig.key) else {
                return Err(ApplyError::UnknownKey {
                    key: entry_sig.key.clone(),
                });
            };
            let valid = match verified {
                Some(valid) => valid[i],
                None => entry_sig
                    .signature()
                    .is_some_and(|sig| verifying.verify_strict(message, &sig).is_ok()),
            };
            if !valid {
                return Err(ApplyError::BadSignature {
                    key: entry_sig.key.clone(),
                });
            }
            signers.push(Signer {
                key: entry_sig.key.clone(),
                role: *role,
            });
        }
        // Signature lists are unique by key name, and key names are unique
        // across roles, so counting signers per role counts distinct keys.
        let progress = required_roles
            .iter()
            .map(|role| {
                let have = signers.iter().filter(|s| s.role == *role).count() as u32;
                (*role, (have, roles[role].threshold))
            })
            .collect();
        Ok(Approval {
            kind: body.kind(),
            required_roles,
            signers,
            progress,
        })
    }
}

struct Outcome {
    effect: Effect,
    reverses: Option<u64>,
    postings: Vec<Posting>,
    balances: BTreeMap<String, u64>,
}

fn posting(
    month: Month,
    fund: &str,
    category: &str,
    income_fen: i64,
    spending_fen: i64,
) -> Posting {
    Posting {
        month,
        fund: fund.to_string(),
        category: category.to_string(),
        income_fen,
        spending_fen,
    }
}

/// The effect and postings of a money-moving body.
fn target_effect(body: &Body) -> (Effect, Vec<Posting>) {
    let month = body.date.month();
    match &body.content {
        Content::Income(i) => (
            Effect::Credit {
                fund: i.fund.clone(),
                amount_fen: i.amount_fen,
            },
            vec![posting(
                month,
                &i.fund,
                i.category.as_str(),
                i.amount_fen as i64,
                0,
            )],
        ),
        Content::Expenditure(e) => (
            Effect::Debit {
                fund: e.fund.clone(),
                amount_fen: e.amount_fen,
            },
            vec![posting(
                month,
                &e.fund,
                e.category.as_str(),
                0,
                e.amount_fen as i64,
            )],
        ),
        Content::Transfer(t) => (
            Effect::Move {
                from_fund: t.from_fund.clone(),
                to_fund: t.to_fund.clone(),
                amount_fen: t.amount_fen,
            },
            vec![
                posting(
                    month,
                    &t.from_fund,
                    TRANSFER_CATEGORY,
                    0,
                    t.amount_fen as i64,
                ),
                posting(month, &t.to_fund, TRANSFER_CATEGORY, t.amount_fen as i64, 0),
            ],
        ),
        _ => (Effect::None, vec![]),
    }
}

/// New balances after an effect, with checked arithmetic. No fund may go
/// below zero.
pub fn apply_effect(
    balances: &BTreeMap<String, u64>,
    effect: &Effect,
) -> Result<BTreeMap<String, u64>, ApplyError> {
    let mut next = balances.clone();
    let mut credit = |fund: &str, amount_fen: u64| -> Result<(), ApplyError> {
        let balance = next
            .get_mut(fund)
            .ok_or_else(|| ApplyError::UnknownFund { fund: fund.into() })?;
        *balance = balance
            .checked_add(amount_fen)
            .ok_or_else(|| ApplyError::Overflow { fund: fund.into() })?;
        Ok(())
    };
    match effect {
        Effect::None => {}
        Effect::Credit { fund, amount_fen } => credit(fund, *amount_fen)?,
        Effect::Debit { fund, amount_fen } => debit(&mut next, fund, *amount_fen)?,
        Effect::Move {
            from_fund,
            to_fund,
            amount_fen,
        } => {
            debit(&mut next, from_fund, *amount_fen)?;
            let balance =
                next.get_mut(to_fund.as_str())
                    .ok_or_else(|| ApplyError::UnknownFund {
                        fund: to_fund.clone(),
                    })?;
            *balance = balance
                .checked_add(*amount_fen)
                .ok_or_else(|| ApplyError::Overflow {
                    fund: to_fund.clone(),
                })?;
        }
    }
    Ok(next)
}

fn debit(
    balances: &mut BTreeMap<String, u64>,
    fund: &str,
    amount_fen: u64,
) -> Result<(), ApplyError> {
    let balance = balances
        .get_mut(fund)
        .ok_or_else(|| ApplyError::UnknownFund { fund: fund.into() })?;
    *balance = balance
        .checked_sub(amount_fen)
        .ok_or(ApplyError::Overdraft {
            fund: fund.to_string(),
            balance_fen: *balance,
            amount_fen,
        })?;
    Ok(())
}

/// (fund, category) → (income fen, spending fen), net of reversals. Sums
/// are i128: 2^64 entries of at most 10^13 fen cannot overflow them.
pub type CategoryTotals = BTreeMap<(String, String), (i128, i128)>;

/// Income and spending by month, fund and category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// (month, fund, category) → (income fen, spending fen), net of reversals.
    pub by_month: BTreeMap<(Month, String, String), (i128, i128)>,
}

impl Totals {
    pub fn add(&mut self, postings: &[Posting]) {
        for p in postings {
            let entry = self
                .by_month
                .entry((p.month, p.fund.clone(), p.category.clone()))
                .or_default();
            entry.0 += i128::from(p.income_fen);
            entry.1 += i128::from(p.spending_fen);
        }
    }

    /// Totals of one month, by (fund, category).
    pub fn month(&self, month: Month) -> CategoryTotals {
        self.by_month
            .range((month, String::new(), String::new())..)
            .take_while(|((m, _, _), _)| *m == month)
            .map(|((_, f, c), v)| ((f.clone(), c.clone()), *v))
            .collect()
    }

    /// Totals over all months, by (fund, category).
    pub fn by_category(&self) -> CategoryTotals {
        let mut out = CategoryTotals::new();
        for ((_, f, c), (i, s)) in &self.by_month {
            let e = out.entry((f.clone(), c.clone())).or_default();
            e.0 += i;
            e.1 += s;
        }
        out
    }
}

/// Answers [`Needs`] from memory: for audits that stream a whole log, and
/// for tests. Holds the reversals, and, as made, every leaf and one body id
/// per entry ([`MemoryHistory::new`]), the body ids only
/// ([`MemoryHistory::without_leaves`]: the caller fetches a reversal's
/// target from where the leaves are; reversals are rare, and a million
/// leaves do not fit a small memory budget), or neither
/// ([`MemoryHistory::without_leaves_or_body_ids`]). There is no `Default`:
/// which of these a history is must be chosen, since one without body ids
/// finds replays only through the caller's index.
#[derive(Debug)]
pub struct MemoryHistory {
    /// `None` when the caller answers "was this body seen" from its own
    /// index (see [`MemoryHistory::without_leaves_or_body_ids`]).
    body_ids: Option<HashMap<Hash, u64>>,
    leaves: Option<HashMap<u64, Leaf>>,
    reversed_by: HashMap<u64, u64>,
}

impl MemoryHistory {
    /// Holds every leaf and body id. Deliberately not `Default` (see the
    /// type's doc).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        MemoryHistory {
            body_ids: Some(HashMap::new()),
            leaves: Some(HashMap::new()),
            reversed_by: HashMap::new(),
        }
    }

    pub fn without_leaves() -> Self {
        MemoryHistory {
            body_ids: Some(HashMap::new()),
            leaves: None,
            reversed_by: HashMap::new(),
        }
    }

    /// Holds only the reversals: 40 bytes an entry less than
    /// [`MemoryHistory::without_leaves`]. The caller answers replay
    /// look-ups from an index of its own, and must check that index
    /// against the leaves (each body id maps to its own entry's seq), for
    /// an index that hides a replay would otherwise hide it here too.
    pub fn without_leaves_or_body_ids() -> Self {
        MemoryHistory {
            body_ids: None,
            leaves: None,
            reversed_by: HashMap::new(),
        }
    }

    /// Look-ups from memory; a target leaf not held is fetched with `fetch`,
    /// and, when the history holds no body ids, an earlier entry with the
    /// same body is asked of `body_seen_at`.
    pub fn lookups_with(
        &self,
        needs: &Needs,
        fetch: &mut dyn FnMut(u64) -> Option<Leaf>,
        body_seen_at: &mut dyn FnMut(&Hash) -> Option<u64>,
    ) -> Lookups {
        Lookups {
            body_seen_at: match &self.body_ids {
                Some(ids) => ids.get(&needs.body_id).copied(),
                None => body_seen_at(&needs.body_id),
            },
            target: needs.target_seq.and_then(|seq| {
                let leaf = match &self.leaves {
                    Some(leaves) => leaves.get(&seq).cloned(),
                    None => fetch(seq),
                };
                leaf.map(|leaf| (leaf, self.reversed_by.get(&seq).copied()))
            }),
        }
    }

    pub fn lookups(&self, needs: &Needs) -> Lookups {
        self.lookups_with(needs, &mut |_| None, &mut |_| None)
    }

    /// Records an applied leaf.
    pub fn record(&mut self, leaf: &Leaf, applied: &Applied) {
        if let Some(ids) = &mut self.body_ids {
            ids.insert(applied.body_id, applied.seq);
        }
        if let Some(leaves) = &mut self.leaves {
            leaves.insert(applied.seq, leaf.clone());
        }
        if let Some(target) = applied.reverses {
            self.reversed_by.insert(target, applied.seq);
        }
    }
}

/// Replays leaves in memory: decode, look up, apply, record. The auditor's
/// loop and the tests' model ledger.
#[derive(Debug)]
pub struct Replayer {
    pub state: LedgerState,
    pub history: MemoryHistory,
    pub totals: Totals,
}

impl Replayer {
    /// # Errors
    /// As [`LedgerState::from_genesis`].
    pub fn start(genesis_leaf_bytes: &[u8]) -> Result<Replayer, ApplyError> {
        Self::start_with(genesis_leaf_bytes, MemoryHistory::new())
    }

    /// As [`Replayer::start`], with a history of the caller's choice.
    ///
    /// # Errors
    /// As [`LedgerState::from_genesis`].
    pub fn start_with(
        genesis_leaf_bytes: &[u8],
        mut history: MemoryHistory,
    ) -> Result<Replayer, ApplyError> {
        let leaf = Leaf::decode(genesis_leaf_bytes)?;
        let (state, applied) = LedgerState::from_genesis(genesis_leaf_bytes)?;
        history.record(&leaf, &applied);
        Ok(Replayer {
            state,
            history,
            totals: Totals::default(),
        })
    }

    /// # Errors
    /// As [`LedgerState::apply`].
    pub fn apply(&mut self, leaf_bytes: &[u8]) -> Result<Applied, ApplyError> {
        let leaf = Leaf::decode(leaf_bytes)?;
        self.apply_decoded(&leaf, leaf_bytes, None, &mut |_| None, &mut |_| None)
    }

    /// Applies a leaf decoded from `leaf_bytes` (perhaps on another thread,
    /// with its signatures checked there), fetching a reversal's target with
    /// `fetch_target` when the history does not hold leaves, and asking
    /// `body_seen_at` for the seq of an entry with the same body when it
    /// holds no body ids (an answer at or after this leaf's seq is not an
    /// earlier entry, and is ignored).
    ///
    /// # Errors
    /// As [`LedgerState::apply`].
    pub fn apply_decoded(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        check: Option<&SignatureCheck>,
        fetch_target: &mut dyn FnMut(u64) -> Option<Leaf>,
        body_seen_at: &mut dyn FnMut(&Hash) -> Option<u64>,
    ) -> Result<Applied, ApplyError> {
        let mut earlier_with_body = |id: &Hash| body_seen_at(id).filter(|&seen| seen < leaf.seq);
        let lookups = self.history.lookups_with(
            &leaf_needs(leaf, leaf_bytes),
            fetch_target,
            &mut earlier_with_body,
        );
        let applied = self
            .state
            .apply_leaf_checked(leaf, leaf_bytes, &lookups, check)?;
        self.history.record(leaf, &applied);
        self.totals.add(&applied.postings);
        Ok(applied)
    }
}

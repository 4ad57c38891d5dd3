//! Pending proposals: bodies waiting for co-signatures.
//!
//! A proposal is keyed by its id, SHA-256(JCS(body)). It commits by itself,
//! in the same atomic batch that deletes it, as soon as its signatures meet
//! the kind's rule.
//!
//! What happens to a proposal (merging signatures, committing, expiry,
//! staleness, bounds) is decided by the core's pure
//! [`feeledger_core::proposal_policy`]; this module keeps the proposals in
//! sled and stages the writes those decisions make.
//!
//! A batch of proposals is staged on one working copy and written with one
//! flush. [`Store::proposals_batch`] gives each request its own answer;
//! [`Store::proposals_batch_atomic`] (an import) records all of them, each
//! committing at once, or none.
//!
//! A pending proposal can be withdrawn ([`Store::withdraw`]) by its
//! proposer, or by a threshold of a role its rule names. A partial
//! withdrawal (role members below the threshold) is kept with the
//! proposal, as its signatures are. A withdrawn proposal leaves the
//! pending set (`P`), freeing its slot, and is kept for good under `D`,
//! with who withdrew it and when, so that it can be shown and can never be
//! signed or proposed again; `O` orders the withdrawn ones by time, for
//! the list of recent withdrawals.

use crate::append::{Prepared, WorkingCopy};
use crate::{keys, Committed, Store, StoreError};
use feeledger_core::entry::{normalize_signatures, Body, EntrySignature};
use feeledger_core::entry::{Kind, Role};
use feeledger_core::hash::Hash;
use feeledger_core::note::NoteSigner;
use feeledger_core::proposal_policy::{
    self as policy, IdPrefix, NextStep, RoomError, WithdrawalStep,
};
pub use feeledger_core::proposal_policy::{
    PROPOSALS_PENDING_MAX, PROPOSALS_PER_KEY_MAX, PROPOSAL_TTL_MS,
};
use feeledger_core::state::{body_needs_from_bytes, ApplyError, Approval, SignatureCheck};
use feeledger_core::withdrawal::verify_withdrawal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most withdrawn proposals one listing returns, newest first.
pub const WITHDRAWN_LIST_MAX: usize = 100;

/// Most pending proposals one page of [`Store::proposal_records_after`]
/// returns; [`PROPOSALS_PENDING_MAX`] may be pending, so a reader of them
/// all follows the cursor.
pub const PROPOSALS_PAGE_MAX: usize = 500;

/// Most signature checks kept; past it the cache starts again empty. Twice
/// the pending bound, so that proposals that left the pending set (and
/// whose checks are no longer asked for) cannot crowd it for long.
const SIGNATURE_CHECKS_MAX: usize = 2 * PROPOSALS_PENDING_MAX;

/// The last signature check of each pending proposal, by proposal id, so
/// that a listing of proposals verifies a proposal's signatures once, not
/// on every request.
///
/// It cannot make a bad signature pass: a [`SignatureCheck`] is made only
/// by the core, by `verify_strict` of each signature (its fields are
/// private), and the core uses one only for the very body, signature list
/// and keys in force it was made for (`SignatureCheck::verdicts_for`),
/// verifying again otherwise. A check is kept here with the roles version
/// and signatures it was made on, and handed back only for those; one that
/// found a bad signature says so every time it is used.
#[derive(Default)]
pub(crate) struct SignatureChecks(std::sync::Mutex<HashMap<Hash, CachedCheck>>);

struct CachedCheck {
    roles_version: u64,
    signatures: Vec<EntrySignature>,
    check: SignatureCheck,
}

impl SignatureChecks {
    fn get(
        &self,
        id: &Hash,
        roles_version: u64,
        signatures: &[EntrySignature],
    ) -> Option<SignatureCheck> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id)
            .filter(|c| c.roles_version == roles_version && c.signatures == signatures)
            .map(|c| c.check.clone())
    }

    fn put(
        &self,
        id: Hash,
        roles_version: u64,
        signatures: &[EntrySignature],
        check: SignatureCheck,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SIGNATURE_CHECKS_MAX && !map.contains_key(&id) {
            map.clear();
        }
        map.insert(
            id,
            CachedCheck {
                roles_version,
                signatures: signatures.to_vec(),
                check,
            },
        );
    }
}

/// A body and the signatures gathered so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: Hash,
    /// JCS of the body, as text.
    pub body: String,
    pub signatures: Vec<EntrySignature>,
    pub created_ms: u64,
}

impl Proposal {
    ///
    /// # Errors
    /// [`StoreError::Damaged`] if the stored body does not decode.
    pub fn decoded_body(&self) -> Result<Body, StoreError> {
        Body::decode(self.body.as_bytes())
            .map_err(|e| StoreError::damaged(format!("pending proposal {}: {e}", self.id)))
    }
}

/// A pending proposal as stored: the [`Proposal`] (whose JSON fields it
/// carries unchanged, so readers of `Proposal` read it as before), who
/// proposed it, and any withdrawal signatures gathered so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRecord {
    #[serde(flatten)]
    pub proposal: Proposal,
    /// The keys that signed the proposal when it was made. Empty for a
    /// proposal stored before this was recorded (see
    /// [`policy::proposers`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposed_by: Vec<String>,
    /// Withdrawal signatures by role members, below the threshold so far
    /// (docs/format.md §8.5), sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<EntrySignature>,
}

impl ProposalRecord {
    /// Who may withdraw the proposal alone.
    pub fn proposers(&self) -> Vec<String> {
        policy::proposers(&self.proposed_by, &self.proposal.signatures)
    }
}

/// A withdrawn proposal: what it was, and who withdrew it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub record: ProposalRecord,
    /// Every key whose withdrawal signature counted, sorted.
    pub withdrawn_by: Vec<String>,
    /// When the withdrawal was recorded (the writer's clock).
    pub withdrawn_ms: u64,
}

/// What a withdrawal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithdrawalOutcome {
    /// The proposal is withdrawn, durably.
    Withdrawn(Box<Withdrawn>),
    /// Role members signed, fewer than a threshold: their signatures are
    /// kept. `progress` is, per role the rule names, (signed, threshold).
    Pending {
        id: Hash,
        withdrawals: Vec<EntrySignature>,
        progress: BTreeMap<Role, (u32, u32)>,
    },
}

/// What happened to a proposal.
#[derive(Debug, Clone)]
pub enum ProposalOutcome {
    /// Stored; more signatures are needed.
    Pending { id: Hash, approval: Approval },
    /// The rule was met and the entry is in the log, durably.
    Committed {
        id: Hash,
        approval: Approval,
        committed: Committed,
    },
}

/// One write to the proposals: a new (or repeated) body with signatures,
/// or more signatures on a pending proposal.
#[derive(Debug, Clone)]
pub enum ProposalRequest {
    Propose {
        body_bytes: Vec<u8>,
        signatures: Vec<EntrySignature>,
        /// The signatures checked ahead, off the writer (see
        /// [`Store::check_ahead`]). Trusted only if it was made for this
        /// body and exactly these signatures, against the keys in force.
        check: Option<SignatureCheck>,
    },
    Sign {
        id: Hash,
        signatures: Vec<EntrySignature>,
    },
}

impl Store {
    /// Records a proposal, or adds signatures to the pending proposal with
    /// the same body. Commits it if the rule is now met.
    ///
    /// # Errors
    /// A malformed body, any invalid or unknown signature, no signature from
    /// a role the rule names, a replay, an overdraft, or too many pending
    /// proposals. Nothing is stored on error.
    ///
    /// # Panics
    /// Never: one request gives one result.
    pub fn propose(
        &self,
        body_bytes: &[u8],
        signatures: Vec<EntrySignature>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<ProposalOutcome, StoreError> {
        let request = ProposalRequest::Propose {
            body_bytes: body_bytes.to_vec(),
            signatures,
            check: None,
        };
        self.proposals_batch(vec![request], now_ms, log_signer)?
            .pop()
            .expect("one request, one result")
    }

    /// Adds co-signatures to a pending proposal.
    ///
    /// # Errors
    /// [`StoreError::NoProposal`] if there is none with this id; otherwise
    /// as [`Store::propose`].
    ///
    /// # Panics
    /// Never: one request gives one result.
    pub fn add_signatures(
        &self,
        id: &Hash,
        signatures: Vec<EntrySignature>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<ProposalOutcome, StoreError> {
        let request = ProposalRequest::Sign {
            id: *id,
            signatures,
        };
        self.proposals_batch(vec![request], now_ms, log_signer)?
            .pop()
            .expect("one request, one result")
    }

    /// Handles many proposal writes in order, in one atomic batch with one
    /// flush (group commit): each later request sees the earlier ones. Each
    /// request gets its own answer.
    ///
    /// # Errors
    /// A storage failure fails the whole batch, and nothing is written.
    ///
    /// # Panics
    /// If given more than [`crate::BATCH_ENTRIES_MAX`] requests.
    pub fn proposals_batch(
        &self,
        requests: Vec<ProposalRequest>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<Vec<Result<ProposalOutcome, StoreError>>, StoreError> {
        assert!(
            requests.len() <= crate::BATCH_ENTRIES_MAX,
            "batch of {} requests",
            requests.len()
        );
        let mut w = self.lock();
        crate::check_log_signer(&w.state, log_signer)?;
        let mut work = BatchWork {
            copy: WorkingCopy::of(&w),
            pending: HashMap::new(),
            must_commit: false,
        };
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            let result = self.one_request(&mut work, request, now_ms);
            if let Err(e @ (StoreError::Io(_) | StoreError::Damaged { .. })) = result {
                return Err(e);
            }
            results.push(result);
        }
        let size = work.copy.frontier.size();
        // Pending proposals alone change nothing readers see: the commit
        // publishes only a grown tree.
        self.commit_work(&mut w, work.copy, Some(log_signer))?;
        for outcome in results.iter_mut().flatten() {
            if let ProposalOutcome::Committed { committed, .. } = outcome {
                committed.size = size;
            }
        }
        Ok(results)
    }

    /// Records a batch of proposal writes all or nothing, under the
    /// writer's lock: each request is staged in order on one working copy
    /// (each later one sees the earlier ones, a governance change among
    /// them included) and must commit at once as an entry. If any is
    /// refused, or would only wait for more signatures, nothing is staged
    /// further and nothing is written; otherwise all are written as one
    /// atomic batch with one flush, through the one commit path. This is
    /// the commit of an import (`POST /api/v1/proposals/batch`,
    /// `feeledger import`): a month of fees is recorded whole or not at all.
    ///
    /// Returns each request's entry, in order.
    ///
    /// # Errors
    /// [`AtomicBatchError::Refused`] naming the first request refused (by
    /// index, from 0) and why: the core's reason (a replay, a signature, an
    /// unmet rule, an overflow...) or the store's (a withdrawn body, no such
    /// proposal); [`AtomicBatchError::Store`] for a storage failure. Nothing
    /// is written either way.
    ///
    /// # Panics
    /// If given more than [`crate::BATCH_ENTRIES_MAX`] requests.
    pub fn proposals_batch_atomic(
        &self,
        requests: Vec<ProposalRequest>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<Vec<Committed>, AtomicBatchError> {
        assert!(
            requests.len() <= crate::BATCH_ENTRIES_MAX,
            "batch of {} requests",
            requests.len()
        );
        let mut w = self.lock();
        crate::check_log_signer(&w.state, log_signer)?;
        let mut work = BatchWork {
            copy: WorkingCopy::of(&w),
            pending: HashMap::new(),
            must_commit: true,
        };
        let mut entries = Vec::with_capacity(requests.len());
        for (index, request) in requests.into_iter().enumerate() {
            // On any refusal the working copy is dropped unwritten: what the
            // earlier requests staged never reaches sled or readers.
            match self.one_request(&mut work, request, now_ms) {
                Ok(ProposalOutcome::Committed { committed, .. }) => entries.push(committed),
                // `one_request` refuses these already (`must_commit`).
                Ok(ProposalOutcome::Pending { approval, .. }) => {
                    return Err(AtomicBatchError::Refused {
                        index,
                        reason: unmet_rule(&approval),
                    });
                }
                Err(e @ (StoreError::Io(_) | StoreError::Damaged { .. })) => {
                    return Err(AtomicBatchError::Store(e));
                }
                Err(reason) => return Err(AtomicBatchError::Refused { index, reason }),
            }
        }
        let size = work.copy.frontier.size();
        self.commit_work(&mut w, work.copy, Some(log_signer))?;
        for committed in &mut entries {
            committed.size = size;
        }
        Ok(entries)
    }

    fn one_request(
        &self,
        work: &mut BatchWork,
        request: ProposalRequest,
        now_ms: u64,
    ) -> Result<ProposalOutcome, StoreError> {
        let (body_bytes, signatures, earlier_check, signed) = match request {
            ProposalRequest::Propose {
                body_bytes,
                signatures,
                check,
            } => (body_bytes, signatures, check, None),
            ProposalRequest::Sign { id, signatures } => {
                let Some(pending) = self.pending_in(work, &id, now_ms)? else {
                    return Err(self.not_pending(&id)?);
                };
                (
                    pending.proposal.body.clone().into_bytes(),
                    signatures,
                    None,
                    Some(pending),
                )
            }
        };
        // Decoding is strict, so `body_bytes` are the body's canonical bytes:
        // the id, the look-ups and the signature check all start from them.
        let body = Body::decode(&body_bytes).map_err(ApplyError::from)?;
        let id = feeledger_core::hash::sha256(&body_bytes);
        let existing = match signed {
            Some(pending) => Some(pending),
            None => self.pending_in(work, &id, now_ms)?,
        };
        // A withdrawal is final: the same body, proposed again with the
        // signatures anyone could read, must not bring it back.
        if existing.is_none() {
            if let Some(withdrawn) = self.withdrawn(&id)? {
                return Err(withdrawn_error(&withdrawn));
            }
        }
        let proposed_by: Vec<String> = match &existing {
            Some(p) => p.proposed_by.clone(),
            None => {
                let mut keys: Vec<String> = signatures.iter().map(|s| s.key.clone()).collect();
                keys.sort();
                keys.dedup();
                keys
            }
        };
        let merged = policy::merge_signatures(
            existing
                .as_ref()
                .map_or(&[][..], |p| &p.proposal.signatures),
            signatures,
        );
        let lookups = self.lookups_with(
            &body_needs_from_bytes(&body, &body_bytes),
            &work.copy.writes,
        )?;
        let (approval, check) = work.copy.state.check_proposal_prechecked(
            &body,
            &body_bytes,
            &merged,
            &lookups,
            earlier_check.as_ref(),
        )?;
        if policy::next_step(&approval) == NextStep::Commit {
            // The signatures were just verified against these keys; staging
            // uses `check` instead of verifying them again.
            let prepared = Prepared {
                body,
                body_bytes: body_bytes.clone(),
                signatures: merged,
                check,
                drop_proposal: existing.is_some().then_some(id),
            };
            let committed = self.stage(&mut work.copy, prepared, now_ms)?;
            work.pending.insert(id, None);
            return Ok(ProposalOutcome::Committed {
                id,
                approval,
                committed,
            });
        }
        if work.must_commit {
            // Checked before the pending bounds, so that the answer is the
            // rule the signatures do not meet.
            return Err(unmet_rule(&approval));
        }
        if existing.is_none() {
            self.check_pending_bounds(&merged, work, now_ms)?;
        }
        // Listing the proposal will not verify these signatures again.
        self.signature_checks
            .put(id, work.copy.state.roles_version(), &merged, check);
        let withdrawals = existing
            .as_ref()
            .map(|p| p.withdrawals.clone())
            .unwrap_or_default();
        let record = ProposalRecord {
            proposal: Proposal {
                id,
                body: String::from_utf8(body_bytes).expect("decoded bodies are UTF-8"),
                signatures: merged,
                created_ms: policy::created_ms(existing.map(|p| p.proposal.created_ms), now_ms),
            },
            proposed_by,
            withdrawals,
        };
        work.copy.writes.insert(
            keys::proposal(&id),
            serde_json::to_vec(&record).expect("proposal serializes"),
        );
        work.pending.insert(id, Some(record));
        Ok(ProposalOutcome::Pending { id, approval })
    }

    /// Checks a proposal's signatures against the published keys, without
    /// the writer, so that request handlers on many threads can do the
    /// Ed25519 work and the single writer need not. The signatures are
    /// normalized (sorted by key, one per key) as the writer will see them.
    /// `None` if the body is not canonical or the signature list is
    /// malformed: the writer then refuses the request.
    pub fn check_ahead(
        &self,
        body_bytes: &[u8],
        signatures: &mut Vec<EntrySignature>,
    ) -> Option<SignatureCheck> {
        Body::decode(body_bytes).ok()?;
        normalize_signatures(signatures);
        // Too many signatures, or malformed ones: the writer refuses the
        // request before any Ed25519 work, so none is done here either.
        feeledger_core::entry::check_signature_list(signatures, "$.signatures").ok()?;
        Some(self.state().check_signatures(body_bytes, signatures))
    }

    /// A pending proposal as this batch sees it, unless it has expired: an
    /// expired proposal can neither be signed nor gather more signatures
    /// (proposing the same body again starts a new one).
    fn pending_in(
        &self,
        work: &BatchWork,
        id: &Hash,
        now_ms: u64,
    ) -> Result<Option<ProposalRecord>, StoreError> {
        let pending = match work.pending.get(id) {
            Some(p) => p.clone(),
            None => self.proposal_record(id)?,
        };
        Ok(pending.filter(|p| !policy::is_expired(p.proposal.created_ms, now_ms)))
    }

    /// Why there is no pending proposal `id`: it was withdrawn, it is
    /// committed, or there never was one (or it expired).
    fn not_pending(&self, id: &Hash) -> Result<StoreError, StoreError> {
        if let Some(withdrawn) = self.withdrawn(id)? {
            return Ok(withdrawn_error(&withdrawn));
        }
        if let Some(seq) = self.seq_of_body(id)? {
            return Ok(StoreError::ProposalCommitted {
                id: id.to_hex(),
                seq,
            });
        }
        Ok(StoreError::NoProposal { id: id.to_hex() })
    }

    /// Refuses a new pending proposal over the bounds. First drops the
    /// proposals that can no longer commit or have waited too long: expired
    /// ones, and ones signed by a key that no longer holds a role (after a
    /// governance change), so that stale proposals cannot block new ones.
    fn check_pending_bounds(
        &self,
        signatures: &[EntrySignature],
        work: &mut BatchWork,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let mut pending: HashMap<Hash, Proposal> = self
            .proposals(PROPOSALS_PENDING_MAX + 1)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        for (id, update) in &work.pending {
            match update {
                Some(p) => pending.insert(*id, p.proposal.clone()),
                None => pending.remove(id),
            };
        }
        let stale: Vec<Hash> = pending
            .values()
            .filter(|p| policy::is_stale(p.created_ms, &p.signatures, &work.copy.state, now_ms))
            .map(|p| p.id)
            .collect();
        for id in stale {
            pending.remove(&id);
            work.copy.writes.remove(keys::proposal(&id));
            work.pending.insert(id, None);
        }
        let kept: Vec<&[EntrySignature]> =
            pending.values().map(|p| p.signatures.as_slice()).collect();
        policy::check_room(&kept, signatures).map_err(|e| match e {
            RoomError::TooManyPending { count, limit }
            | RoomError::TooManyForKey { count, limit, .. } => {
                StoreError::TooManyProposals { count, limit }
            }
        })
    }

    /// A pending proposal by id.
    ///
    /// # Errors
    /// A storage failure, or a stored proposal that does not parse.
    pub fn proposal(&self, id: &Hash) -> Result<Option<Proposal>, StoreError> {
        self.json_record(&keys::proposal(id), "pending proposal", id)
    }

    /// The JSON record under `key`, if any; one that does not parse is
    /// damage, named as `what` and `id`.
    fn json_record<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        what: &str,
        id: &Hash,
    ) -> Result<Option<T>, StoreError> {
        self.tree()
            .get(key)?
            .map(|bytes| {
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::damaged(format!("{what} {id}: {e}")))
            })
            .transpose()
    }

    /// The pending proposals' JSON records, at most `limit`, in id order,
    /// as whichever type reads them ([`Proposal`] or [`ProposalRecord`]).
    fn pending_records<T: serde::de::DeserializeOwned>(
        &self,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        self.tree()
            .scan_prefix(keys::PROPOSAL_PREFIX)
            .take(limit)
            .map(|item| {
                let (_, bytes) = item?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::damaged(format!("pending proposal: {e}")))
            })
            .collect()
    }

    /// A pending proposal by id, with who proposed it and any withdrawal
    /// signatures so far.
    ///
    /// # Errors
    /// As [`Store::proposal`].
    pub fn proposal_record(&self, id: &Hash) -> Result<Option<ProposalRecord>, StoreError> {
        self.json_record(&keys::proposal(id), "pending proposal", id)
    }

    /// Pending proposals with their proposers and partial withdrawals, at
    /// most `limit`, in id order.
    ///
    /// # Errors
    /// As [`Store::proposal`].
    pub fn proposal_records(&self, limit: usize) -> Result<Vec<ProposalRecord>, StoreError> {
        self.pending_records(limit)
    }

    /// Pending proposals in id order after `after` (from the first if
    /// `None`), at most `limit` (capped at [`PROPOSALS_PAGE_MAX`]), and
    /// the cursor for the next page: the last id returned, if more follow.
    /// A reader that follows the cursor sees every proposal pending
    /// throughout its walk exactly once, whatever is proposed, committed or
    /// withdrawn meanwhile (a proposal added behind the cursor is seen on
    /// the next walk).
    ///
    /// # Errors
    /// As [`Store::proposal`].
    pub fn proposal_records_after(
        &self,
        after: Option<&Hash>,
        limit: usize,
    ) -> Result<(Vec<ProposalRecord>, Option<Hash>), StoreError> {
        use std::ops::Bound;
        let limit = limit.clamp(1, PROPOSALS_PAGE_MAX);
        let start = match after {
            Some(id) => Bound::Excluded(keys::proposal(id)),
            None => Bound::Included(keys::PROPOSAL_PREFIX.to_vec()),
        };
        let end = Bound::Excluded(vec![keys::PROPOSAL_PREFIX[0] + 1]);
        let mut records: Vec<ProposalRecord> = Vec::with_capacity(limit);
        for item in self.tree().range::<Vec<u8>, _>((start, end)) {
            let (_, bytes) = item?;
            if records.len() == limit {
                let next = records.last().map(|r| r.proposal.id);
                return Ok((records, next));
            }
            records.push(
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::damaged(format!("pending proposal: {e}")))?,
            );
        }
        Ok((records, None))
    }

    /// How far a pending proposal's signatures go now, or why it cannot
    /// commit now (evaluated against the published state). Its signatures
    /// are verified with `verify_strict` the first time it is asked for
    /// (or when it was accepted), and again only if they or the keys in
    /// force change (see `SignatureChecks`).
    ///
    /// # Errors
    /// A storage failure, or a stored body that does not decode (damage).
    pub fn proposal_status(
        &self,
        record: &ProposalRecord,
    ) -> Result<Result<Approval, ApplyError>, StoreError> {
        let p = &record.proposal;
        let body = p.decoded_body()?;
        let state = self.state();
        let lookups = self.lookups(&body)?;
        let roles_version = state.roles_version();
        let check = match self
            .signature_checks
            .get(&p.id, roles_version, &p.signatures)
        {
            Some(check) => check,
            None => {
                let check = state.check_signatures(p.body.as_bytes(), &p.signatures);
                self.signature_checks
                    .put(p.id, roles_version, &p.signatures, check.clone());
                check
            }
        };
        Ok(state
            .check_proposal_prechecked(
                &body,
                p.body.as_bytes(),
                &p.signatures,
                &lookups,
                Some(&check),
            )
            .map(|(approval, _)| approval))
    }

    /// A withdrawn proposal by id.
    ///
    /// # Errors
    /// A storage failure, or a stored record that does not parse.
    pub fn withdrawn(&self, id: &Hash) -> Result<Option<Withdrawn>, StoreError> {
        self.json_record(&keys::withdrawn(id), "withdrawn proposal", id)
    }

    /// The most recently withdrawn proposals, newest first, at most
    /// `limit` (capped at [`WITHDRAWN_LIST_MAX`]).
    ///
    /// # Errors
    /// As [`Store::withdrawn`]; an order record without its proposal is
    /// damage.
    pub fn withdrawn_recent(&self, limit: usize) -> Result<Vec<Withdrawn>, StoreError> {
        self.tree()
            .scan_prefix(keys::WITHDRAWN_ORDER_PREFIX)
            .rev()
            .take(limit.min(WITHDRAWN_LIST_MAX))
            .map(|item| {
                let (key, _) = item?;
                let id = keys::withdrawn_order_id(&key)?;
                self.withdrawn(&id)?.ok_or_else(|| {
                    StoreError::damaged(format!("withdrawn proposal {id} is listed but missing"))
                })
            })
            .collect()
    }

    /// The ids of pending and withdrawn proposals that start with
    /// `prefix`, pending ones first, at most `limit` in all.
    ///
    /// # Errors
    /// A storage failure.
    pub fn proposal_ids_with_prefix(
        &self,
        prefix: &IdPrefix,
        limit: usize,
    ) -> Result<Vec<Hash>, StoreError> {
        let mut ids = Vec::new();
        for key_prefix in [keys::PROPOSAL_PREFIX, keys::WITHDRAWN_PREFIX] {
            let mut scan = key_prefix.to_vec();
            scan.extend_from_slice(&prefix.leading_bytes());
            for item in self.tree().scan_prefix(scan) {
                if ids.len() >= limit {
                    return Ok(ids);
                }
                let (key, _) = item?;
                let id = Hash::from_slice(&key[1..])
                    .ok_or_else(|| StoreError::damaged("a proposal key is not 33 bytes"))?;
                if prefix.matches(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// Records withdrawal signatures on pending proposal `id` (docs/format.md
    /// §8.5), and withdraws it if they now suffice: the proposer's, or a
    /// threshold of a role its rule names ([`policy::withdrawal_step`]). The
    /// withdrawal is flushed before this returns. Earlier partial
    /// withdrawal signatures count if they still verify against the keys in
    /// force; one whose key has left its role is dropped.
    ///
    /// # Errors
    /// [`StoreError::ProposalWithdrawn`] or [`StoreError::ProposalCommitted`]
    /// if it is no longer pending, [`StoreError::NoProposal`] if there never
    /// was one (or it expired), [`StoreError::Withdrawal`] for a bad,
    /// unknown or unentitled signature, or a storage failure. Nothing is
    /// stored on error.
    ///
    /// # Panics
    /// Never in practice: the records it writes are plain structs whose JSON
    /// encoding cannot fail.
    pub fn withdraw(
        &self,
        id: &Hash,
        signatures: Vec<EntrySignature>,
        now_ms: u64,
    ) -> Result<WithdrawalOutcome, StoreError> {
        let mut w = self.lock();
        let mut copy = WorkingCopy::of(&w);
        let Some(record) = self
            .proposal_record(id)?
            .filter(|p| !policy::is_expired(p.proposal.created_ms, now_ms))
        else {
            return Err(self.not_pending(id)?);
        };
        let state = &copy.state;
        // The new signatures must all verify; earlier ones are kept only if
        // they still do (a key may have left its role since).
        let mut added = signatures;
        normalize_signatures(&mut added);
        verify_withdrawal(state, id, &added)?;
        let kept: Vec<EntrySignature> = record
            .withdrawals
            .iter()
            .filter(|s| verify_withdrawal(state, id, std::slice::from_ref(s)).is_ok())
            .cloned()
            .collect();
        let merged = policy::merge_signatures(&kept, added);
        let signers = verify_withdrawal(state, id, &merged)?;
        let body = record.proposal.decoded_body()?;
        let target_kind = match &body.content {
            feeledger_core::entry::Content::Reversal(r) => self
                .leaf_bytes(r.target_seq)?
                .and_then(|bytes| feeledger_core::entry::Leaf::decode(&bytes).ok())
                .map(|leaf| leaf.body.kind()),
            _ => None::<Kind>,
        };
        let rule = policy::rule_roles(state.rules(), body.kind(), target_kind);
        let step = policy::withdrawal_step(&signers, &record.proposers(), &rule, state.roles())?;
        let outcome = match step {
            WithdrawalStep::Withdraw { by } => {
                let withdrawn = Withdrawn {
                    record: ProposalRecord {
                        withdrawals: merged,
                        ..record
                    },
                    withdrawn_by: by,
                    withdrawn_ms: now_ms,
                };
                copy.writes.remove(keys::proposal(id));
                copy.writes.insert(
                    keys::withdrawn(id),
                    serde_json::to_vec(&withdrawn).expect("a withdrawal serializes"),
                );
                copy.writes
                    .insert(keys::withdrawn_order(now_ms, id), Vec::new());
                WithdrawalOutcome::Withdrawn(Box::new(withdrawn))
            }
            WithdrawalStep::Wait { progress } => {
                let kept = ProposalRecord {
                    withdrawals: merged.clone(),
                    ..record
                };
                copy.writes.insert(
                    keys::proposal(id),
                    serde_json::to_vec(&kept).expect("proposal serializes"),
                );
                WithdrawalOutcome::Pending {
                    id: *id,
                    withdrawals: merged,
                    progress,
                }
            }
        };
        // A withdrawal grows no tree: no checkpoint is signed.
        self.commit_work(&mut w, copy, None)?;
        Ok(outcome)
    }

    /// Pending proposals, at most `limit`, in id order.
    ///
    /// # Errors
    /// As [`Store::proposal`].
    pub fn proposals(&self, limit: usize) -> Result<Vec<Proposal>, StoreError> {
        self.pending_records(limit)
    }
}

/// The error for a withdrawn proposal that someone tries to sign or
/// propose again.
fn withdrawn_error(withdrawn: &Withdrawn) -> StoreError {
    StoreError::ProposalWithdrawn {
        id: withdrawn.record.proposal.id.to_hex(),
        by: withdrawn.withdrawn_by.join(", "),
        withdrawn_ms: withdrawn.withdrawn_ms,
    }
}

/// Why a proposal that must commit at once does not: the core's
/// `RuleNotMet` for the first role short of its threshold.
fn unmet_rule(approval: &Approval) -> StoreError {
    approval.unmet().map_or_else(
        || StoreError::damaged("a proposal waits with every role of its rule met"),
        StoreError::Rejected,
    )
}

/// The working copy a proposals batch builds on.
struct BatchWork {
    copy: WorkingCopy,
    /// Proposals written (Some) or removed (None) by this batch.
    pending: HashMap<Hash, Option<ProposalRecord>>,
    /// Every request must commit at once (an all-or-nothing batch): one
    /// that would wait for more signatures is refused with its unmet rule.
    must_commit: bool,
}

/// Why [`Store::proposals_batch_atomic`] recorded nothing.
#[derive(Debug, thiserror::Error)]
pub enum AtomicBatchError {
    /// Request `index` (from 0) was refused, or would not commit at once
    /// (the core's `RuleNotMet`); nothing of the batch was written.
    #[error("proposals[{index}]: {reason}")]
    Refused { index: usize, reason: StoreError },
    /// The store failed; nothing of the batch was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AtomicBatchError {
    /// A stable machine-readable name: the refused request's, or the
    /// store's.
    pub fn code(&self) -> &'static str {
        match self {
            AtomicBatchError::Refused { reason, .. } | AtomicBatchError::Store(reason) => {
                reason.code()
            }
        }
    }
}

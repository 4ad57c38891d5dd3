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

use crate::append::{Prepared, WorkingCopy};
use crate::{keys, Committed, Store, StoreError};
use feeledger_core::entry::{normalize_signatures, Body, EntrySignature};
use feeledger_core::hash::Hash;
use feeledger_core::note::NoteSigner;
use feeledger_core::proposal_policy::{self as policy, NextStep, RoomError};
pub use feeledger_core::proposal_policy::{
    PROPOSALS_PENDING_MAX, PROPOSALS_PER_KEY_MAX, PROPOSAL_TTL_MS,
};
use feeledger_core::state::{body_needs_from_bytes, ApplyError, Approval, SignatureCheck};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
                let pending = self
                    .pending_in(work, &id, now_ms)?
                    .ok_or_else(|| StoreError::NoProposal { id: id.to_hex() })?;
                (
                    pending.body.clone().into_bytes(),
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
        let merged = policy::merge_signatures(
            existing.as_ref().map_or(&[][..], |p| &p.signatures),
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
        if existing.is_none() {
            self.check_pending_bounds(&merged, work, now_ms)?;
        }
        let proposal = Proposal {
            id,
            body: String::from_utf8(body_bytes).expect("decoded bodies are UTF-8"),
            signatures: merged,
            created_ms: policy::created_ms(existing.map(|p| p.created_ms), now_ms),
        };
        work.copy.writes.insert(
            keys::proposal(&id),
            serde_json::to_vec(&proposal).expect("proposal serializes"),
        );
        work.pending.insert(id, Some(proposal));
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
    ) -> Result<Option<Proposal>, StoreError> {
        let pending = match work.pending.get(id) {
            Some(p) => p.clone(),
            None => self.proposal(id)?,
        };
        Ok(pending.filter(|p| !policy::is_expired(p.created_ms, now_ms)))
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
                Some(p) => pending.insert(*id, p.clone()),
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
        self.tree()
            .get(keys::proposal(id))?
            .map(|bytes| {
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::damaged(format!("pending proposal {id}: {e}")))
            })
            .transpose()
    }

    /// Pending proposals, at most `limit`, in id order.
    ///
    /// # Errors
    /// As [`Store::proposal`].
    pub fn proposals(&self, limit: usize) -> Result<Vec<Proposal>, StoreError> {
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
}

/// The working copy a proposals batch builds on.
struct BatchWork {
    copy: WorkingCopy,
    /// Proposals written (Some) or removed (None) by this batch.
    pending: HashMap<Hash, Option<Proposal>>,
}

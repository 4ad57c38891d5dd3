//! Pending proposals: bodies waiting for co-signatures.
//!
//! A proposal is keyed by its id, SHA-256(JCS(body)). It commits by itself,
//! in the same atomic batch that deletes it, as soon as its signatures meet
//! the kind's rule.

use crate::{keys, Committed, Store, StoreError, Submission};
use feeledger_core::entry::{normalize_signatures, Body, EntrySignature};
use feeledger_core::hash::Hash;
use feeledger_core::note::NoteSigner;
use feeledger_core::state::Approval;
use serde::{Deserialize, Serialize};

/// Most pending proposals a ledger holds at once. A flood of junk proposals
/// cannot grow the store past this.
pub const PROPOSALS_PENDING_MAX: usize = 1_000;

/// Most pending proposals that carry the signature of any one key.
pub const PROPOSALS_PER_KEY_MAX: usize = 100;

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

impl Store {
    /// Records a proposal, or adds signatures to the pending proposal with
    /// the same body. Commits it if the rule is now met.
    ///
    /// # Errors
    /// A malformed body, any invalid or unknown signature, no signature from
    /// a role the rule names, a replay, an overdraft, or too many pending
    /// proposals. Nothing is stored on error.
    pub fn propose(
        &self,
        body_bytes: &[u8],
        signatures: Vec<EntrySignature>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<ProposalOutcome, StoreError> {
        let body = Body::decode(body_bytes).map_err(feeledger_core::state::ApplyError::from)?;
        let id = body.id();
        let mut w = self.lock();
        let mut merged = match self.proposal(&id)? {
            Some(pending) => pending.signatures,
            None => Vec::new(),
        };
        let was_pending = !merged.is_empty();
        merged.extend(signatures.iter().cloned());
        normalize_signatures(&mut merged);
        let lookups = self.lookups(&body)?;
        let approval = w.state.check_proposal(&body, &merged, &lookups)?;
        if approval.is_satisfied() {
            let submission = Submission {
                body,
                signatures: merged,
            };
            let drop = was_pending.then_some(id);
            let committed =
                self.commit_locked(&mut w, vec![(submission, drop)], now_ms, log_signer)?;
            let committed = committed
                .into_iter()
                .next()
                .expect("one submission, one result")?;
            return Ok(ProposalOutcome::Committed {
                id,
                approval,
                committed,
            });
        }
        if !was_pending {
            self.check_pending_bounds(&merged)?;
        }
        let proposal = Proposal {
            id,
            body: String::from_utf8(body_bytes.to_vec()).expect("decoded bodies are UTF-8"),
            signatures: merged,
            created_ms: now_ms,
        };
        self.db().insert(
            keys::proposal(&id),
            serde_json::to_vec(&proposal).expect("proposal serializes"),
        )?;
        self.db().flush()?;
        Ok(ProposalOutcome::Pending { id, approval })
    }

    /// Adds co-signatures to a pending proposal.
    ///
    /// # Errors
    /// [`StoreError::NoProposal`] if there is none with this id; otherwise
    /// as [`Store::propose`].
    pub fn add_signatures(
        &self,
        id: &Hash,
        signatures: Vec<EntrySignature>,
        now_ms: u64,
        log_signer: &NoteSigner,
    ) -> Result<ProposalOutcome, StoreError> {
        let pending = self
            .proposal(id)?
            .ok_or_else(|| StoreError::NoProposal { id: id.to_hex() })?;
        self.propose(pending.body.as_bytes(), signatures, now_ms, log_signer)
    }

    fn check_pending_bounds(&self, signatures: &[EntrySignature]) -> Result<(), StoreError> {
        let pending = self.proposals(PROPOSALS_PENDING_MAX + 1)?;
        if pending.len() >= PROPOSALS_PENDING_MAX {
            return Err(StoreError::TooManyProposals {
                count: pending.len(),
                limit: PROPOSALS_PENDING_MAX,
            });
        }
        for signature in signatures {
            let count = pending
                .iter()
                .filter(|p| p.signatures.iter().any(|s| s.key == signature.key))
                .count();
            if count >= PROPOSALS_PER_KEY_MAX {
                return Err(StoreError::TooManyProposals {
                    count,
                    limit: PROPOSALS_PER_KEY_MAX,
                });
            }
        }
        Ok(())
    }

    /// A pending proposal by id.
    pub fn proposal(&self, id: &Hash) -> Result<Option<Proposal>, StoreError> {
        self.db()
            .get(keys::proposal(id))?
            .map(|bytes| {
                serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::damaged(format!("pending proposal {id}: {e}")))
            })
            .transpose()
    }

    /// Pending proposals, at most `limit`, in id order.
    pub fn proposals(&self, limit: usize) -> Result<Vec<Proposal>, StoreError> {
        self.db()
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

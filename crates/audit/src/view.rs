//! A ledger to read from: a local data directory, or a server that only an
//! auditor's copy of the log key vouches for.
//!
//! Both are a [`LedgerView`], so whatever reads a ledger (the CLI's read
//! commands, the exports of `feeledger-report`) does the same from either.
//! A server's ledger is verified whole before anything is read
//! ([`RemoteLedger::fetch`]): its signed checkpoint against the trusted log
//! key, then every leaf replayed with the core through the same [`Audit`]
//! that [`crate::audit_server`] runs (the chain, every signature with the
//! roles in force, every rule, every balance), and the recomputed root
//! against the checkpoint's. Nothing the server says is used unchecked.

use crate::http::{HttpError, Server};
use crate::remote::{replay_server, served_witness_keys, ReplayError};
use crate::replay::{Audit, Failure};
use crate::Progress;
use feeledger_core::entry::{
    check_signature_list, signing_message, Body, Content, EntrySignature, FormatError, KeyDef, Leaf,
};
use feeledger_core::hash::{leaf_hash, sha256, Hash, HashParseError};
use feeledger_core::merkle::{
    self, InclusionVerifyError, MemoryTree, MissingNode, ProofBuildError,
};
use feeledger_core::money::format_fen;
use feeledger_core::note::{open_checkpoint, NoteError, VerifierKey};
use feeledger_core::state::LedgerState;
use feeledger_store::{EntryFilter, Order, Proposal, Store, StoreError, LIST_LIMIT_MAX};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why a ledger could not be read, or a server's ledger is refused.
///
/// The messages name what is wrong and what to do, in the words the
/// `feeledger` command line prints (its flags among them).
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The data directory's store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A request to the server got no usable answer.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The server's checkpoint is not signed by the trusted log key.
    #[error("the server's checkpoint does not verify with the log key {trusted}: {error}; check --log-key against the notice board")]
    CheckpointRefused {
        trusted: Box<VerifierKey>,
        error: Box<NoteError>,
    },
    /// The server's entries, or its checkpoint's cosignatures, do not
    /// verify: the audit's first finding.
    #[error(
        "the server's ledger does not verify{}; nothing from it is shown (run `feeledger verify --url` for the full report)",
        failure_clause(failure)
    )]
    Refused { failure: Box<Failure> },
    /// The server's checkpoint is of the empty tree: there is no genesis to
    /// read.
    #[error("the server's ledger does not verify: the log is empty; nothing from it is shown (run `feeledger verify --url` for the full report)")]
    EmptyLog,
    /// An entry's leaf does not decode.
    #[error("entry {seq}: {error}")]
    Entry { seq: u64, error: FormatError },
    /// The balances the server shows are of another size than its
    /// checkpoint.
    #[error(
        "the server's /api/v1/balances is at size {}, its checkpoint at {checkpoint_size}: the ledger changed while it was read (run the command again), or the server is inconsistent",
        served_size.map_or("(none)".to_string(), |s| s.to_string())
    )]
    BalancesSize {
        served_size: Option<u64>,
        checkpoint_size: u64,
    },
    /// The server's balances are not a map of fund to fen.
    #[error("the server's /api/v1/balances has no balances_fen")]
    BalancesMissing(#[source] serde_json::Error),
    /// The server shows a fund holding other money than its own entries
    /// give.
    #[error(
        "the server shows fund {fund} holding {}, but its own entries give {}: the server is lying; nothing from it is shown",
        yuan_or_none(*served_fen),
        yuan_or_none(*replayed_fen)
    )]
    BalancesLie {
        fund: String,
        served_fen: Option<u64>,
        replayed_fen: Option<u64>,
    },
    /// The server's list of pending proposals has no list.
    #[error("the server's /api/v1/proposals has no proposals list")]
    ProposalsMissing,
    /// A pending proposal the server lists does not check out.
    #[error(
        "the server's pending proposal {id} {fault}: the server is lying; nothing from it is shown"
    )]
    ProposalLie { id: String, fault: ProposalFault },
    /// A proof was asked for at another size than the verified
    /// checkpoint's, the only root a server's ledger is held at.
    #[error("a proof is made at the checkpoint's size {checkpoint_size}, not {size}")]
    ProofSize { size: u64, checkpoint_size: u64 },
    /// An inclusion proof cannot be built for this entry and size.
    #[error("no inclusion proof of entry {seq}: {error}")]
    NoProof {
        seq: u64,
        error: ProofBuildError<MissingNode>,
    },
    /// The entry is not in the verified tree.
    #[error("no such entry")]
    NoSuchEntry,
    /// The proof built does not lead to the checkpoint's root (the held
    /// tree was damaged in memory: never expected).
    #[error("the inclusion proof of entry {seq} does not verify against the checkpoint: {error}")]
    ProofRefused {
        seq: u64,
        error: InclusionVerifyError,
    },
}

/// What is wrong with a pending proposal a server lists, as the end of
/// "the server's pending proposal ID ...".
#[derive(Debug, thiserror::Error)]
pub enum ProposalFault {
    #[error("has no body_jcs")]
    NoBody,
    #[error("has no valid id ({0})")]
    BadId(HashParseError),
    /// Its id is not the hash of its body.
    #[error("has a body whose hash is {body_id}")]
    IdMismatch { body_id: Hash },
    #[error("has a malformed body ({0})")]
    MalformedBody(FormatError),
    #[error("is for another ledger, {ledger}")]
    OtherLedger { ledger: String },
    #[error("has malformed signatures ({0})")]
    SignaturesNotJson(serde_json::Error),
    #[error("has malformed signatures ({0})")]
    MalformedSignatures(FormatError),
    /// A signature verifies with no key any role holds or held.
    #[error("carries a signature by {key} that does not verify with any key a role holds or held")]
    UnknownSignature { key: String },
    #[error("has no created_ms")]
    NoCreatedTime,
}

/// The part of [`ViewError::Refused`]'s message after "does not verify":
/// " at entry N: what" for an entry's failure, ": what" for the rest.
fn failure_clause(failure: &Failure) -> String {
    match failure.seq {
        // The failure's own text starts "at entry N: ".
        Some(_) => format!(" {failure}"),
        None => format!(": {failure}"),
    }
}

fn refused(failure: Failure) -> ViewError {
    ViewError::Refused {
        failure: Box::new(failure),
    }
}

/// `1,280.50 元` text of a fund's fen, or `none` for a fund not listed.
fn yuan_or_none(fen: Option<u64>) -> String {
    fen.map_or("none".to_string(), |fen| format!("{} 元", format_fen(fen)))
}

/// Every leaf of a [`LedgerView`] from entry 0, in order, as (seq, bytes).
pub type Leaves<'a> = Box<dyn Iterator<Item = Result<(u64, Vec<u8>), ViewError>> + 'a>;

/// A ledger to read from. Every answer is either a local store's, or
/// checked against the trusted log key.
pub trait LedgerView {
    /// The state after the last entry: genesis, roles in force, balances.
    fn state(&self) -> Arc<LedgerState>;

    /// Number of entries.
    fn size(&self) -> u64;

    /// The leaf bytes of entry `seq`, if there is one.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read.
    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, ViewError>;

    /// Every stored leaf from entry 0, in order, as (seq, bytes).
    fn leaves(&self) -> Leaves<'_>;

    /// Entries matching `filter`, newest first, at most `limit` (capped at
    /// [`LIST_LIMIT_MAX`]).
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read;
    /// [`ViewError::Entry`] if a held leaf does not decode.
    fn list_newest_first(
        &self,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, ViewError>;

    /// The seq of the reversal of entry `seq`, if it was reversed.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read.
    fn reversed_by(&self, seq: u64) -> Result<Option<u64>, ViewError>;

    /// Pending proposals, at most [`LIST_LIMIT_MAX`], in id order.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read; from a server,
    /// [`ViewError::Http`], [`ViewError::ProposalsMissing`], or
    /// [`ViewError::ProposalLie`] if any proposal listed does not check
    /// out (then none is returned).
    fn proposals(&self) -> Result<Vec<Proposal>, ViewError>;

    /// The latest signed checkpoint, as a signed note.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read.
    fn latest_checkpoint(&self) -> Result<Vec<u8>, ViewError>;

    /// The latest checkpoint that carries a cosignature (the committee's
    /// or a witness's last confirmation), as a signed note, or `None` if
    /// none is. Not checked here: a caller opens it with the log key and
    /// compares its root with the leaves it holds.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] if the store cannot be read; from a server,
    /// [`ViewError::Http`].
    fn latest_cosigned_checkpoint(&self) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(None)
    }

    /// Inclusion proof of entry `seq` in the tree of the first `size`
    /// entries.
    ///
    /// # Errors
    ///
    /// [`ViewError::Store`] from a store (an impossible request among
    /// them); from a server's ledger, [`ViewError::ProofSize`] for another
    /// size than the checkpoint's, [`ViewError::NoProof`] or
    /// [`ViewError::NoSuchEntry`] for an entry beyond it.
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, ViewError>;

    /// The data directory's store, for what only a store can do (a tiles
    /// backup).
    fn store(&self) -> Option<&Store> {
        None
    }
}

impl LedgerView for Store {
    fn state(&self) -> Arc<LedgerState> {
        Store::state(self)
    }

    fn size(&self) -> u64 {
        Store::size(self)
    }

    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(Store::leaf_bytes(self, seq)?)
    }

    fn leaves(&self) -> Leaves<'_> {
        Box::new(self.iter_leaves(0).map(|item| Ok(item?)))
    }

    fn list_newest_first(
        &self,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, ViewError> {
        Ok(self.list(filter, Order::Descending, None, limit)?.entries)
    }

    fn reversed_by(&self, seq: u64) -> Result<Option<u64>, ViewError> {
        Ok(Store::reversed_by(self, seq)?)
    }

    fn proposals(&self) -> Result<Vec<Proposal>, ViewError> {
        Ok(Store::proposals(self, LIST_LIMIT_MAX)?)
    }

    fn latest_checkpoint(&self) -> Result<Vec<u8>, ViewError> {
        Ok(Store::latest_checkpoint(self)?)
    }

    fn latest_cosigned_checkpoint(&self) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(Store::latest_cosigned_checkpoint(self)?.map(|(_, note)| note))
    }

    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, ViewError> {
        Ok(Store::inclusion_proof(self, seq, size)?)
    }

    fn store(&self) -> Option<&Store> {
        Some(self)
    }
}

/// A server's ledger, fetched whole and verified against the trusted log
/// key, held in memory.
///
/// Memory: every leaf's bytes (about 1 KiB an entry) and the Merkle tree
/// of their hashes (about 64 bytes an entry). A community makes about 10^4
/// entries a year, some 11 MiB a year; a ledger of 10^6 entries (a century
/// of a large community) would need about 1 GiB, and is better read from a
/// data directory or a tiles backup.
pub struct RemoteLedger {
    server: Server,
    state: Arc<LedgerState>,
    /// Leaf bytes by seq, all replayed.
    leaves: Vec<Vec<u8>>,
    /// Their hashes' tree, for inclusion proofs.
    tree: MemoryTree,
    /// The verified checkpoint note, verbatim, and the root it signs.
    checkpoint: Vec<u8>,
    root: Hash,
    /// Reversed entry → its reversal.
    reversals: HashMap<u64, u64>,
    /// Every key any role ever held (genesis and each governance entry), by
    /// name: a pending proposal may carry the signature of a key a later
    /// governance entry removed.
    keys_ever: BTreeMap<String, Vec<KeyDef>>,
}

impl RemoteLedger {
    /// Fetches the latest checkpoint and every entry up to its size,
    /// replays them, and checks the result against the trusted log key and
    /// the balances the server shows. `progress` is told after each page
    /// of entries.
    ///
    /// # Errors
    ///
    /// Unless everything verifies, naming what is wrong:
    /// [`ViewError::Http`] if the server cannot be read;
    /// [`ViewError::CheckpointRefused`] if its checkpoint is not the log
    /// key's; [`ViewError::Refused`] with the audit's finding if an entry
    /// or a cosignature does not verify; [`ViewError::EmptyLog`];
    /// [`ViewError::BalancesSize`], [`ViewError::BalancesMissing`] or
    /// [`ViewError::BalancesLie`] if the balances it shows are not the
    /// replayed ones.
    pub fn fetch(
        server: Server,
        trusted: &VerifierKey,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RemoteLedger, ViewError> {
        let checkpoint_bytes = server.get_bytes("/checkpoint")?;
        let (checkpoint, _, _) =
            open_checkpoint(&checkpoint_bytes, trusted, &[]).map_err(|error| {
                ViewError::CheckpointRefused {
                    trusted: Box::new(trusted.clone()),
                    error: Box::new(error),
                }
            })?;
        let mut audit = Audit::new(Some(trusted.clone()), Vec::new());
        // Held, so that later reads (and an earlier entry read again during
        // the replay, a reversal's target) come from the bytes replayed.
        let mut leaves: Vec<Vec<u8>> = Vec::new();
        match replay_server(
            &server,
            checkpoint.size,
            &mut audit,
            Some(&mut leaves),
            progress,
        ) {
            Ok(()) => {}
            Err(ReplayError::Fetch(e)) => return Err(e.into()),
            Err(ReplayError::Failed(failure)) => return Err(refused(failure)),
        }
        let mut cosigners = audit
            .replayer()
            .map(|r| r.state.cosigner_keys())
            .unwrap_or_default();
        cosigners.extend(served_witness_keys(&server));
        audit
            .check_checkpoint(&checkpoint_bytes, &cosigners)
            .map_err(refused)?;
        let state = Arc::new(audit.state().ok_or(ViewError::EmptyLog)?.clone());
        let mut ledger = RemoteLedger {
            server,
            state,
            tree: MemoryTree::new(),
            checkpoint: checkpoint_bytes,
            root: checkpoint.root,
            reversals: HashMap::new(),
            keys_ever: BTreeMap::new(),
            leaves: Vec::new(),
        };
        for (seq, bytes) in (0u64..).zip(&leaves) {
            // Replayed above, so each decodes.
            let leaf = Leaf::decode(bytes).map_err(|error| ViewError::Entry { seq, error })?;
            ledger.learn(seq, &leaf);
            ledger.tree.push(leaf_hash(bytes));
        }
        ledger.leaves = leaves;
        ledger.check_served_balances()?;
        Ok(ledger)
    }

    /// Records what later reads need from one replayed entry.
    fn learn(&mut self, seq: u64, leaf: &Leaf) {
        let roles = match &leaf.body.content {
            Content::Genesis(g) => Some(&g.roles),
            Content::Governance(g) => g.roles.as_ref(),
            Content::Reversal(r) => {
                self.reversals.insert(r.target_seq, seq);
                None
            }
            _ => None,
        };
        for key in roles
            .into_iter()
            .flat_map(|r| r.values())
            .flat_map(|r| &r.keys)
        {
            let held = self.keys_ever.entry(key.name.clone()).or_default();
            if !held.contains(key) {
                held.push(key.clone());
            }
        }
    }

    /// The balances the server shows residents (`/api/v1/balances`) must be
    /// the replayed ones: a server that shows other figures than its own
    /// entries give is lying, even if the entries verify.
    fn check_served_balances(&self) -> Result<(), ViewError> {
        let served = self.server.get_json("/api/v1/balances")?;
        let served_size = served["size"].as_u64();
        if served_size != Some(self.state.size()) {
            return Err(ViewError::BalancesSize {
                served_size,
                checkpoint_size: self.state.size(),
            });
        }
        let balances: BTreeMap<String, u64> =
            serde_json::from_value(served["balances_fen"].clone())
                .map_err(ViewError::BalancesMissing)?;
        let replayed = self.state.balances();
        if let Some(fund) = replayed
            .keys()
            .chain(balances.keys())
            .find(|f| balances.get(*f) != replayed.get(*f))
        {
            return Err(ViewError::BalancesLie {
                fund: fund.clone(),
                served_fen: balances.get(fund).copied(),
                replayed_fen: replayed.get(fund).copied(),
            });
        }
        Ok(())
    }

    /// Checks one pending proposal the server lists and returns it: its id
    /// is the hash of its body, the body is canonical and for this ledger,
    /// and every signature verifies with a key a role holds (or held).
    fn verified_proposal(&self, value: &serde_json::Value) -> Result<Proposal, ViewError> {
        let id_text = value["id"].as_str().unwrap_or("(no id)");
        self.check_proposal(value, id_text)
            .map_err(|fault| ViewError::ProposalLie {
                id: id_text.to_string(),
                fault,
            })
    }

    fn check_proposal(
        &self,
        value: &serde_json::Value,
        id_text: &str,
    ) -> Result<Proposal, ProposalFault> {
        let body_text = value["body_jcs"].as_str().ok_or(ProposalFault::NoBody)?;
        let id = Hash::from_hex(id_text).map_err(ProposalFault::BadId)?;
        let body_id = sha256(body_text.as_bytes());
        if body_id != id {
            return Err(ProposalFault::IdMismatch { body_id });
        }
        let body = Body::decode(body_text.as_bytes()).map_err(ProposalFault::MalformedBody)?;
        if body.ledger != self.state.origin() {
            return Err(ProposalFault::OtherLedger {
                ledger: body.ledger,
            });
        }
        let signatures: Vec<EntrySignature> = serde_json::from_value(value["signatures"].clone())
            .map_err(ProposalFault::SignaturesNotJson)?;
        check_signature_list(&signatures, "signatures")
            .map_err(ProposalFault::MalformedSignatures)?;
        let message = signing_message(body_text.as_bytes());
        for s in &signatures {
            let verifies = self.keys_ever.get(&s.key).is_some_and(|keys| {
                keys.iter().any(|k| {
                    let (Some(key), Some(sig)) = (k.verifying_key(), s.signature()) else {
                        return false;
                    };
                    key.verify_strict(&message, &sig).is_ok()
                })
            });
            if !verifies {
                return Err(ProposalFault::UnknownSignature { key: s.key.clone() });
            }
        }
        let created_ms = value["created_ms"]
            .as_u64()
            .ok_or(ProposalFault::NoCreatedTime)?;
        Ok(Proposal {
            id,
            body: body_text.to_string(),
            signatures,
            created_ms,
        })
    }
}

impl LedgerView for RemoteLedger {
    fn state(&self) -> Arc<LedgerState> {
        self.state.clone()
    }

    fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(usize::try_from(seq)
            .ok()
            .and_then(|i| self.leaves.get(i))
            .cloned())
    }

    fn leaves(&self) -> Leaves<'_> {
        Box::new(
            (0u64..)
                .zip(&self.leaves)
                .map(|(seq, bytes)| Ok((seq, bytes.clone()))),
        )
    }

    /// As the store lists, without its bound on entries scanned
    /// ([`feeledger_store::LIST_SCAN_MAX`]): on a ledger of more entries
    /// than that, a rare filter can list more here than from a data
    /// directory.
    fn list_newest_first(
        &self,
        filter: &EntryFilter,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>, ViewError> {
        let limit = limit.clamp(1, LIST_LIMIT_MAX);
        let mut rows = Vec::new();
        for (seq, bytes) in self.leaves.iter().enumerate().rev() {
            if rows.len() == limit {
                break;
            }
            let seq = seq as u64;
            let leaf = Leaf::decode(bytes).map_err(|error| ViewError::Entry { seq, error })?;
            if filter.matches(&leaf) {
                rows.push((seq, bytes.clone()));
            }
        }
        Ok(rows)
    }

    fn reversed_by(&self, seq: u64) -> Result<Option<u64>, ViewError> {
        Ok(self.reversals.get(&seq).copied())
    }

    /// Fetched when asked, and each checked before any is returned.
    fn proposals(&self) -> Result<Vec<Proposal>, ViewError> {
        let listed = self.server.get_json("/api/v1/proposals")?;
        let items = listed["proposals"]
            .as_array()
            .ok_or(ViewError::ProposalsMissing)?;
        let mut proposals = items
            .iter()
            .map(|p| self.verified_proposal(p))
            .collect::<Result<Vec<_>, _>>()?;
        proposals.sort_by_key(|p| p.id);
        Ok(proposals)
    }

    fn latest_checkpoint(&self) -> Result<Vec<u8>, ViewError> {
        Ok(self.checkpoint.clone())
    }

    fn latest_cosigned_checkpoint(&self) -> Result<Option<Vec<u8>>, ViewError> {
        Ok(self
            .server
            .get_optional_bytes("/api/v1/checkpoints/cosigned")?)
    }

    /// Built from the replayed leaves and verified against the checkpoint's
    /// root before it is returned.
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, ViewError> {
        if size != self.size() {
            return Err(ViewError::ProofSize {
                size,
                checkpoint_size: self.size(),
            });
        }
        let proof = merkle::inclusion_proof(seq, size, &self.tree)
            .map_err(|error| ViewError::NoProof { seq, error })?;
        let hash = self
            .tree
            .node(merkle::NodeId {
                level: 0,
                index: seq,
            })
            .ok_or(ViewError::NoSuchEntry)?;
        merkle::verify_inclusion(&hash, seq, size, &proof, &self.root)
            .map_err(|error| ViewError::ProofRefused { seq, error })?;
        Ok(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use feeledger_core::fixtures;
    use feeledger_store::Submission;

    const ORIGIN: &str = "view.example/ledger";

    /// Proves that a data directory's store, read as a `LedgerView`, gives
    /// every leaf in order, lists newest first, and offers itself for what
    /// only a store can do.
    #[test]
    fn a_store_is_read_in_order_and_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let log_signer = fixtures::log_signer(ORIGIN);
        let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "视图小区")]);
        let store = Store::create(dir.path(), &genesis[0], &log_signer).unwrap();
        let batch = (0..3)
            .map(|i| {
                let (body, signatures) = fixtures::property_fee(ORIGIN, &format!("fee-{i}"));
                Submission { body, signatures }
            })
            .collect();
        for committed in store.append_batch(batch, 10, &log_signer).unwrap() {
            committed.unwrap();
        }
        let view: &dyn LedgerView = &store;
        assert_eq!(view.size(), 4);
        let seqs: Vec<u64> = view.leaves().map(|item| item.unwrap().0).collect();
        assert_eq!(seqs, [0, 1, 2, 3]);
        assert_eq!(
            view.leaf_bytes(0).unwrap().as_deref(),
            Some(&genesis[0][..])
        );
        assert_eq!(view.leaf_bytes(4).unwrap(), None);
        let listed: Vec<u64> = view
            .list_newest_first(&EntryFilter::default(), 2)
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(listed, [3, 2]);
        assert_eq!(view.reversed_by(1).unwrap(), None);
        assert!(view.store().is_some());
        let proof = view.inclusion_proof(1, 4).unwrap();
        assert!(!proof.is_empty());
    }

    /// Proves that a refused server ledger's message names the entry at
    /// fault when there is one, and reads as one sentence either way.
    #[test]
    fn a_refusal_names_the_entry_at_fault() {
        let at_entry = refused(Failure::at(2, "its signature does not verify"));
        assert_eq!(
            at_entry.to_string(),
            "the server's ledger does not verify at entry 2: its signature does not verify; nothing from it is shown (run `feeledger verify --url` for the full report)"
        );
        let general = refused(Failure::general("the root differs"));
        assert_eq!(
            general.to_string(),
            "the server's ledger does not verify: the root differs; nothing from it is shown (run `feeledger verify --url` for the full report)"
        );
    }

    /// Proves that a lying balance is shown in yuan, and a fund the server
    /// leaves out as "none".
    #[test]
    fn a_lying_balance_is_shown_in_yuan() {
        let lie = ViewError::BalancesLie {
            fund: "operating".into(),
            served_fen: None,
            replayed_fen: Some(128_050),
        };
        assert_eq!(
            lie.to_string(),
            "the server shows fund operating holding none, but its own entries give 1280.50 元: the server is lying; nothing from it is shown"
        );
    }
}

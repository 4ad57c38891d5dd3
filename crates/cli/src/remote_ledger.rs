//! Where the read-only commands (`list`, `show`, `balances`, `proposals`,
//! `receipt`, `export`) read a ledger: a local data directory, or a server
//! that only an auditor's copy of the log key vouches for.
//!
//! Both are a [`LedgerView`], so the commands print the same thing from
//! either. A server's ledger is verified whole before anything is printed
//! ([`RemoteLedger::fetch`]): its signed checkpoint against the trusted log
//! key, then every leaf replayed with the core through the same [`Audit`]
//! that `feeledger verify --url` runs (the chain, every signature with the
//! roles in force, every rule, every balance), and the recomputed root
//! against the checkpoint's. Nothing the server says is used unchecked.

use crate::datadir::DataDir;
use crate::remote::Remote;
use crate::{Place, Target};
use anyhow::{anyhow, bail, Context, Result};
use feeledger_audit::{replay_server, served_witness_keys, Audit, Failure, ReplayError};
use feeledger_core::entry::{
    check_signature_list, signing_message, Body, Content, EntrySignature, KeyDef, Leaf,
};
use feeledger_core::hash::{leaf_hash, sha256, Hash};
use feeledger_core::merkle::{self, MemoryTree};
use feeledger_core::note::{open_checkpoint, VerifierKey};
use feeledger_core::state::LedgerState;
use feeledger_store::{EntryFilter, Order, Proposal, Store, LIST_LIMIT_MAX};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Where a read-only command reads the ledger: `--data DIR`, or `--url URL`
/// with the `--log-key` that everything the server sends is checked
/// against.
#[derive(Debug, clap::Args)]
pub struct ReadFrom {
    #[command(flatten)]
    target: Target,
    /// The log's verifier key, as posted on the notice board
    /// (name+hex8+base64). Required with --url: the server itself is not
    /// trusted. With --data, the ledger must have this log key.
    #[arg(long)]
    log_key: Option<String>,
}

impl ReadFrom {
    /// Whether the ledger is read from a server.
    pub fn is_url(&self) -> bool {
        self.target.url.is_some()
    }

    /// Opens the data directory, or fetches and verifies the server's
    /// ledger.
    pub fn open(self) -> Result<Box<dyn LedgerView>> {
        let trusted = self
            .log_key
            .as_deref()
            .map(|k| VerifierKey::parse(k).map_err(|e| anyhow!("--log-key: {e}")))
            .transpose()?;
        match self.target.resolve()? {
            Place::Local(data) => {
                let store = data.open()?;
                if let Some(trusted) = trusted {
                    check_local_log_key(&data, &store, &trusted)?;
                }
                Ok(Box::new(store))
            }
            Place::Remote(remote) => {
                let trusted = trusted.context(
                    "--url needs --log-key KEY, the log key posted on the notice board: the server itself is not trusted, and everything it sends is checked against that key",
                )?;
                Ok(Box::new(RemoteLedger::fetch(remote, &trusted)?))
            }
        }
    }
}

/// `--log-key` with `--data`: the data directory must hold that ledger.
fn check_local_log_key(data: &DataDir, store: &Store, trusted: &VerifierKey) -> Result<()> {
    let state = store.state();
    if state.log_key() != trusted {
        bail!(
            "the ledger in {} has log key {}, not the --log-key given ({trusted}); compare it with the notice board",
            data.root.display(),
            state.log_key()
        );
    }
    Ok(())
}

/// A ledger as the read-only commands see it. Every answer is either the
/// local store's, or checked against the trusted log key.
pub trait LedgerView {
    /// The state after the last entry: genesis, roles in force, balances.
    fn state(&self) -> Arc<LedgerState>;

    /// Number of entries.
    fn size(&self) -> u64;

    /// The leaf bytes of entry `seq`, if there is one.
    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>>;

    /// Every stored leaf from entry 0, in order, as (seq, bytes).
    fn leaves(&self) -> Box<dyn Iterator<Item = Result<(u64, Vec<u8>)>> + '_>;

    /// Entries matching `filter`, newest first, at most `limit` (capped at
    /// [`LIST_LIMIT_MAX`]).
    fn list_newest_first(&self, filter: &EntryFilter, limit: usize) -> Result<Vec<(u64, Vec<u8>)>>;

    /// The seq of the reversal of entry `seq`, if it was reversed.
    fn reversed_by(&self, seq: u64) -> Result<Option<u64>>;

    /// Pending proposals, at most [`LIST_LIMIT_MAX`], in id order.
    fn proposals(&self) -> Result<Vec<Proposal>>;

    /// The latest signed checkpoint, as a signed note.
    fn latest_checkpoint(&self) -> Result<Vec<u8>>;

    /// Inclusion proof of entry `seq` in the tree of the first `size`
    /// entries.
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>>;

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

    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(Store::leaf_bytes(self, seq)?)
    }

    fn leaves(&self) -> Box<dyn Iterator<Item = Result<(u64, Vec<u8>)>> + '_> {
        Box::new(self.iter_leaves(0).map(|item| Ok(item?)))
    }

    fn list_newest_first(&self, filter: &EntryFilter, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        Ok(self.list(filter, Order::Descending, None, limit)?.entries)
    }

    fn reversed_by(&self, seq: u64) -> Result<Option<u64>> {
        Ok(Store::reversed_by(self, seq)?)
    }

    fn proposals(&self) -> Result<Vec<Proposal>> {
        Ok(Store::proposals(self, LIST_LIMIT_MAX)?)
    }

    fn latest_checkpoint(&self) -> Result<Vec<u8>> {
        Ok(Store::latest_checkpoint(self)?)
    }

    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
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
    remote: Remote,
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

/// A failed verification of the server's ledger, as one line.
fn refused(failure: Failure) -> anyhow::Error {
    let at = failure
        .seq
        .map(|seq| format!(" at entry {seq}"))
        .unwrap_or_default();
    anyhow!(
        "the server's ledger does not verify{at}: {}; nothing from it is shown (run `feeledger verify --url` for the full report)",
        failure.cause
    )
}

impl RemoteLedger {
    /// Fetches the latest checkpoint and every entry up to its size,
    /// replays them, and checks the result against the trusted log key and
    /// the balances the server shows. Fails, naming what is wrong, unless
    /// everything verifies.
    pub fn fetch(remote: Remote, trusted: &VerifierKey) -> Result<RemoteLedger> {
        let checkpoint_bytes = remote.get_bytes("/checkpoint")?;
        let (checkpoint, _, _) = open_checkpoint(&checkpoint_bytes, trusted, &[]).map_err(|e| {
            anyhow!(
                "the server's checkpoint does not verify with the log key {trusted}: {e}; check --log-key against the notice board"
            )
        })?;
        let mut audit = Audit::new(Some(trusted.clone()), Vec::new());
        // Held, so that later reads (and an earlier entry read again during
        // the replay, a reversal's target) come from the bytes replayed.
        let mut leaves: Vec<Vec<u8>> = Vec::new();
        let mut bar = crate::audit::Bar::plain();
        let replayed = replay_server(
            remote.server(),
            checkpoint.size,
            &mut audit,
            Some(&mut leaves),
            &mut |p| bar.update(p),
        );
        bar.finish();
        match replayed {
            Ok(()) => {}
            Err(ReplayError::Fetch(e)) => return Err(e.into()),
            Err(ReplayError::Failed(f)) => return Err(refused(f)),
        }
        let mut cosigners = audit
            .replayer()
            .map(|r| r.state.cosigner_keys())
            .unwrap_or_default();
        cosigners.extend(served_witness_keys(remote.server()));
        audit
            .check_checkpoint(&checkpoint_bytes, &cosigners)
            .map_err(refused)?;
        let state = Arc::new(
            audit
                .state()
                .ok_or_else(|| refused(Failure::general("the log is empty")))?
                .clone(),
        );
        let mut ledger = RemoteLedger {
            remote,
            state,
            tree: MemoryTree::new(),
            checkpoint: checkpoint_bytes,
            root: checkpoint.root,
            reversals: HashMap::new(),
            keys_ever: BTreeMap::new(),
            leaves: Vec::new(),
        };
        for (seq, bytes) in leaves.iter().enumerate() {
            // Replayed above, so each decodes.
            let leaf = Leaf::decode(bytes).map_err(|e| anyhow!("entry {seq}: {e}"))?;
            ledger.learn(seq as u64, &leaf);
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
    fn check_served_balances(&self) -> Result<()> {
        let served = self.remote.get_json("/api/v1/balances")?;
        let size = served["size"].as_u64();
        if size != Some(self.state.size()) {
            bail!(
                "the server's /api/v1/balances is at size {}, its checkpoint at {}: the ledger changed while it was read (run the command again), or the server is inconsistent",
                size.map_or("(none)".to_string(), |s| s.to_string()),
                self.state.size()
            );
        }
        let balances: BTreeMap<String, u64> =
            serde_json::from_value(served["balances_fen"].clone())
                .context("the server's /api/v1/balances has no balances_fen")?;
        if &balances != self.state.balances() {
            let fund = self
                .state
                .balances()
                .keys()
                .chain(balances.keys())
                .find(|f| balances.get(*f) != self.state.balances().get(*f))
                .cloned()
                .unwrap_or_default();
            let yuan = |m: &BTreeMap<String, u64>| {
                m.get(&fund).map_or("none".to_string(), |fen| {
                    format!("{} 元", feeledger_core::money::format_fen(*fen))
                })
            };
            bail!(
                "the server shows fund {fund} holding {}, but its own entries give {}: the server is lying; nothing from it is shown",
                yuan(&balances),
                yuan(self.state.balances())
            );
        }
        Ok(())
    }

    /// Checks one pending proposal the server lists and returns it: its id
    /// is the hash of its body, the body is canonical and for this ledger,
    /// and every signature verifies with a key a role holds (or held).
    fn verified_proposal(&self, value: &serde_json::Value) -> Result<Proposal> {
        let id_text = value["id"].as_str().unwrap_or("(no id)");
        let wrong = |why: String| {
            anyhow!("the server's pending proposal {id_text} {why}: the server is lying; nothing from it is shown")
        };
        let body_text = value["body_jcs"]
            .as_str()
            .ok_or_else(|| wrong("has no body_jcs".into()))?;
        let id = Hash::from_hex(id_text).map_err(|e| wrong(format!("has no valid id ({e})")))?;
        let body_id = sha256(body_text.as_bytes());
        if body_id != id {
            return Err(wrong(format!("has a body whose hash is {body_id}")));
        }
        let body = Body::decode(body_text.as_bytes())
            .map_err(|e| wrong(format!("has a malformed body ({e})")))?;
        if body.ledger != self.state.origin() {
            return Err(wrong(format!("is for another ledger, {}", body.ledger)));
        }
        let signatures: Vec<EntrySignature> =
            serde_json::from_value(value["signatures"].clone())
                .map_err(|e| wrong(format!("has malformed signatures ({e})")))?;
        check_signature_list(&signatures, "signatures")
            .map_err(|e| wrong(format!("has malformed signatures ({e})")))?;
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
                return Err(wrong(format!(
                    "carries a signature by {} that does not verify with any key a role holds or held",
                    s.key
                )));
            }
        }
        let created_ms = value["created_ms"]
            .as_u64()
            .ok_or_else(|| wrong("has no created_ms".into()))?;
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

    fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>> {
        Ok(usize::try_from(seq)
            .ok()
            .and_then(|i| self.leaves.get(i))
            .cloned())
    }

    fn leaves(&self) -> Box<dyn Iterator<Item = Result<(u64, Vec<u8>)>> + '_> {
        Box::new(
            self.leaves
                .iter()
                .enumerate()
                .map(|(seq, bytes)| Ok((seq as u64, bytes.clone()))),
        )
    }

    /// As the store lists, without its bound on entries scanned
    /// ([`feeledger_store::LIST_SCAN_MAX`]): on a ledger of more entries
    /// than that, a rare filter can list more here than from a data
    /// directory.
    fn list_newest_first(&self, filter: &EntryFilter, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let limit = limit.clamp(1, LIST_LIMIT_MAX);
        let mut rows = Vec::new();
        for (seq, bytes) in self.leaves.iter().enumerate().rev() {
            if rows.len() == limit {
                break;
            }
            let leaf = Leaf::decode(bytes).map_err(|e| anyhow!("entry {seq}: {e}"))?;
            if filter.matches(&leaf) {
                rows.push((seq as u64, bytes.clone()));
            }
        }
        Ok(rows)
    }

    fn reversed_by(&self, seq: u64) -> Result<Option<u64>> {
        Ok(self.reversals.get(&seq).copied())
    }

    /// Fetched when asked, and each checked before any is returned.
    fn proposals(&self) -> Result<Vec<Proposal>> {
        let listed = self.remote.get_json("/api/v1/proposals")?;
        let items = listed["proposals"]
            .as_array()
            .context("the server's /api/v1/proposals has no proposals list")?;
        let mut proposals = items
            .iter()
            .map(|p| self.verified_proposal(p))
            .collect::<Result<Vec<_>>>()?;
        proposals.sort_by_key(|p| p.id);
        Ok(proposals)
    }

    fn latest_checkpoint(&self) -> Result<Vec<u8>> {
        Ok(self.checkpoint.clone())
    }

    /// Built from the replayed leaves and verified against the checkpoint's
    /// root before it is returned.
    fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        if size != self.size() {
            bail!(
                "a proof is made at the checkpoint's size {}, not {size}",
                self.size()
            );
        }
        let proof = merkle::inclusion_proof(seq, size, &self.tree)
            .map_err(|e| anyhow!("no inclusion proof of entry {seq}: {e}"))?;
        let hash = self
            .tree
            .node(merkle::NodeId {
                level: 0,
                index: seq,
            })
            .context("no such entry")?;
        merkle::verify_inclusion(&hash, seq, size, &proof, &self.root).map_err(|e| {
            anyhow!(
                "the inclusion proof of entry {seq} does not verify against the checkpoint: {e}"
            )
        })?;
        Ok(proof)
    }
}

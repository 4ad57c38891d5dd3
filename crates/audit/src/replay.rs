//! The auditor's replay: every leaf decoded, chained, signature-checked and
//! applied; every balance recomputed; the root compared with the signed
//! checkpoint, and with a checkpoint saved earlier.
//!
//! [`Audit`] is fed leaves in order by a driver (a local data directory, a
//! server or a tiles backup), so the same checks run whichever way the
//! bytes arrive. It holds O(log n) tree state and the reversals. An
//! earlier entry read again (a reversal's target, or the first copy of a
//! replayed body) is checked
//! against what was verified before: a server's audit holds every verified
//! leaf hash (32 bytes an entry) and every body id for this; a data
//! directory's audit holds neither (only the hashes of the chunk being
//! applied). It checks an entry read again with an
//! inclusion proof from the store against its own recomputed root (at the
//! start of the chunk being applied; an entry of that chunk against the
//! chunk's hashes), and
//! asks the store's body index for replays, checking that index entry by
//! entry. So its memory does not grow with the ledger.

use feeledger_core::entry::FormatError;
use feeledger_core::entry::{body_bytes_of_leaf, Leaf};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::{self, Frontier, NodeId};
use feeledger_core::note::NoteError;
use feeledger_core::note::{open_checkpoint, Checkpoint, Note, VerifierKey};
use feeledger_core::state::ApplyError;
use feeledger_core::state::{LedgerState, MemoryHistory, Replayer, SignatureCheck};
use feeledger_store::{NodeTileFault, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The first thing found wrong: an audit finding, not a reason the audit
/// could not run. Its text (`Display`) is "at entry N: " and the cause's
/// text when the failure is about one entry, the cause's text alone
/// otherwise; as JSON (`verify --json`) it is `{"seq": N or null,
/// "message": that cause's text}`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{cause}", seq.map(|s| format!("at entry {s}: ")).unwrap_or_default())]
pub struct Failure {
    /// The entry at fault, if the failure is about one entry.
    pub seq: Option<u64>,
    /// What is wrong, and where when that is not one entry. Boxed: some
    /// causes carry the core's errors or keys whole, and a `Result` with a
    /// large error is slow on the path where nothing is wrong.
    pub cause: Box<Cause>,
}

/// What an audit found wrong. Each variant's text is the message an
/// auditor reads (and the tests compare), so new wording is a change of
/// behaviour.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Cause {
    /// A leaf does not decode.
    #[error("{0}")]
    Format(#[from] FormatError),
    /// The core refused an entry: its chain link, signatures, rules or
    /// money.
    #[error("{0}")]
    Apply(#[from] ApplyError),
    /// The genesis names another log key than the one the auditor trusts.
    #[error("the genesis log key {genesis} is not the trusted log key {trusted}")]
    UntrustedLogKey {
        genesis: Box<VerifierKey>,
        trusted: Box<VerifierKey>,
    },
    /// The entries skip one.
    #[error("entry {expected} is missing (found {found} next)")]
    MissingEntry { expected: u64, found: u64 },
    /// The entries end before the store's recorded head.
    #[error("entry {expected} is missing; the head says {head_size} entries")]
    MissingBeforeHead { expected: u64, head_size: u64 },
    /// The store holds an entry past its recorded head.
    #[error("an entry beyond the recorded head")]
    BeyondHead,
    /// A server left out an entry it was asked for.
    #[error("the server did not return this entry")]
    NotServed,
    /// A leaf's bytes disagree with the store's record of its hash. Either
    /// may be the damaged one; the driver, which can read the next entry's
    /// link, tells which ([`Cause::LeafDamaged`] or
    /// [`Cause::LeafHashRecordDamaged`]).
    #[error("leaf bytes hash to {computed}, the tree records {recorded}: the leaf was altered")]
    LeafHashMismatch { computed: Hash, recorded: Hash },
    /// A leaf's bytes are damaged: the third record (the next entry's link,
    /// or the recorded head) does not vouch for them.
    #[error(
        "entry {seq} is damaged or was altered: its bytes hash to {computed}, the Merkle tree records {recorded}{}; an entry cannot be rebuilt from itself: restore from a backup (`feeledger restore`)",
        if *next_links_to_recorded { " and the next entry links to that" } else { "" }
    )]
    LeafDamaged {
        seq: u64,
        computed: Hash,
        recorded: Hash,
        next_links_to_recorded: bool,
    },
    /// The tree's record of a leaf's hash is damaged; the leaf is intact
    /// (`vouched_by` says which record shows it).
    #[error("{tile} differs at node {seq}: entry {seq} is intact ({vouched_by}); the tree's record of its hash is damaged")]
    LeafHashRecordDamaged {
        tile: String,
        seq: u64,
        vouched_by: String,
    },
    /// There are no entries at all.
    #[error("the ledger is empty")]
    EmptyLedger,
    /// There are no entries to check a checkpoint against.
    #[error("the log is empty")]
    EmptyLog,
    /// A backup's checkpoint is of size 0.
    #[error("the backup's checkpoint is of an empty log")]
    EmptyCheckpoint,
    /// A checkpoint (named by `checkpoint`: the store's, the server's, the
    /// backup's file) is not signed by the log key.
    #[error("{checkpoint} does not verify with the log key: {error}")]
    CheckpointSignature {
        checkpoint: String,
        error: NoteError,
    },
    /// The checkpoint saved earlier is not signed by this ledger's log key.
    #[error("the saved checkpoint does not verify with this ledger's log key: {0}")]
    SavedCheckpointSignature(NoteError),
    /// The signed checkpoint and the recomputed tree differ.
    #[error("the signed checkpoint says size {checkpoint_size} root {checkpoint_root}, the entries give size {size} root {root}")]
    CheckpointMismatch {
        checkpoint_size: u64,
        checkpoint_root: Hash,
        size: u64,
        root: Hash,
    },
    /// Cosignature lines by known keys that do not verify, or a key that
    /// signed twice, each named.
    #[error("bad cosignature line(s) on the checkpoint of size {size}: {}; the line was altered or was not made by that key", lines.join("; "))]
    BadCosignatures { size: u64, lines: Vec<String> },
    /// The log is shorter than a checkpoint saved earlier.
    #[error(
        "the saved checkpoint has size {saved_size}, the log only {size}: the log was truncated"
    )]
    Truncated { saved_size: u64, size: u64 },
    /// The log at a saved checkpoint's size has another root: a fork.
    #[error("the log at size {size} has root {root}, the saved checkpoint signed {saved_root}: the log was rewritten (fork)")]
    Fork {
        size: u64,
        root: Hash,
        saved_root: Hash,
    },
    /// The store could not be read (I/O or damage sled itself found).
    #[error("reading the store: {0}")]
    StoreRead(Arc<StoreError>),
    /// A node tile is damaged (the store names the tile and the node).
    #[error("{0}")]
    NodeTile(Arc<NodeTileFault>),
    /// A key the store derives from the leaves (the body id and reversal
    /// indexes, the index buckets, the totals, the state snapshot)
    /// disagrees with them; the text names the key and how.
    #[error("{0}")]
    DerivedData(String),
    /// What a server serves (its tiles, its witness list) does not hold
    /// up, or could not be fetched; the text names what.
    #[error("{0}")]
    Server(String),
    /// A tiles backup or mirror could not be read or does not hold up; the
    /// text names the tile.
    #[error("{0}")]
    Tiles(String),
    /// The audit's own temporary files failed (`action`: write or read).
    #[error("cannot {action} the audit's temporary files: {error}")]
    TempFiles {
        action: &'static str,
        error: Arc<std::io::Error>,
    },
    /// A bug in the audit itself.
    #[error("internal: {0}")]
    Internal(&'static str),
    /// A failure a caller of the audit found, in its own words.
    #[error("{0}")]
    Other(String),
}

impl From<StoreError> for Cause {
    fn from(e: StoreError) -> Cause {
        Cause::StoreRead(Arc::new(e))
    }
}

impl From<NodeTileFault> for Cause {
    fn from(fault: NodeTileFault) -> Cause {
        match fault {
            NodeTileFault::Store(e) => Cause::from(e),
            other => Cause::NodeTile(Arc::new(other)),
        }
    }
}

impl From<Cause> for Failure {
    fn from(cause: Cause) -> Failure {
        Failure::of(cause)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::of(e)
    }
}

impl From<NodeTileFault> for Failure {
    fn from(fault: NodeTileFault) -> Failure {
        Failure::of(fault)
    }
}

impl Failure {
    /// A failure about the log as a whole.
    pub fn of(cause: impl Into<Cause>) -> Failure {
        Failure {
            seq: None,
            cause: Box::new(cause.into()),
        }
    }

    /// A failure about entry `seq`.
    pub fn at_entry(seq: u64, cause: impl Into<Cause>) -> Failure {
        Failure {
            seq: Some(seq),
            cause: Box::new(cause.into()),
        }
    }

    /// A failure about entry `seq`, in the caller's words
    /// ([`Cause::Other`]).
    pub fn at(seq: u64, message: impl Into<String>) -> Failure {
        Failure::at_entry(seq, Cause::Other(message.into()))
    }

    /// A failure in the caller's words ([`Cause::Other`]).
    pub fn general(message: impl Into<String>) -> Failure {
        Failure::of(Cause::Other(message.into()))
    }

    /// The entry at fault, if the failure is about one entry.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }

    /// What is wrong.
    pub fn cause(&self) -> &Cause {
        &self.cause
    }
}

/// The JSON shape reports have always had: `seq` and `message`.
impl Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Failure", 2)?;
        out.serialize_field("seq", &self.seq)?;
        out.serialize_field("message", &self.cause.to_string())?;
        out.end()
    }
}

/// An entry as applied, for the store's links: (seq, body id, the seq it
/// reverses).
pub type AppliedLinks = (u64, Hash, Option<u64>);

/// Index postings by (bucket, index, value) → seqs, ascending.
pub type Postings = BTreeMap<(u64, &'static str, String), Vec<u64>>;

/// What the leaves say the store's derived keys must hold, gathered during
/// the replay when [`Audit::collect_derived`] is on, for the deep audit of
/// a data directory. The driver takes it after each chunk, so it stays
/// small: a chunk's nodes and entries, and the index buckets not yet
/// complete.
#[derive(Debug, Default)]
pub struct Derived {
    /// Merkle nodes completed.
    pub nodes: Vec<(NodeId, Hash)>,
    /// Entries applied.
    pub applied: Vec<AppliedLinks>,
    /// Index postings of complete buckets (when taken) or of all buckets
    /// seen (while gathering).
    pub postings: Postings,
    /// Number of reversals applied so far (kept across takes).
    pub reversals: u64,
}

impl Derived {
    fn record(&mut self, leaf: &Leaf, body_id: Hash, reverses: Option<u64>) {
        let bucket = feeledger_store::posting_bucket(leaf.seq);
        for (index, value) in feeledger_store::Store::index_values_of(leaf) {
            let seqs = self.postings.entry((bucket, index, value)).or_default();
            // A transfer names two funds; never list one entry twice.
            if seqs.last() != Some(&leaf.seq) {
                seqs.push(leaf.seq);
            }
        }
        self.applied.push((leaf.seq, body_id, reverses));
        self.reversals += u64::from(reverses.is_some());
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointReport {
    pub size: u64,
    pub root: String,
    /// Names of the cosigners whose cosignatures verified.
    pub cosigned_by: Vec<String>,
    /// Cosignature lines by keys this verifier does not know (neither a
    /// role key in force at the checkpoint's size nor a witness key it was
    /// given): not checked and not counted, as C2SP signed-note verifiers
    /// ignore them. A line by a known key that does not verify is a failure.
    pub unverified_cosignatures: Vec<UnverifiedCosignature>,
}

/// A cosignature line whose key the verifier does not know.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnverifiedCosignature {
    pub name: String,
    /// The line's key id, 8 hex digits.
    pub key_id: String,
}

/// The keys a checkpoint's cosignature lines are checked with.
#[derive(Debug, Clone, Default)]
pub struct Cosigners {
    /// The role keys in force at the checkpoint's size (from the replayed
    /// governance), as cosignature/v1 keys.
    pub roles: Vec<VerifierKey>,
    /// Witness keys, from where the ledger's operator records them (the
    /// store, `/api/v1/ledger`, a backup's `witnesses` file): not in the log.
    pub witnesses: Vec<VerifierKey>,
}

/// A checkpoint's cosignature lines, sorted by [`check_cosignatures`].
#[derive(Debug, Default)]
pub struct CosignatureLines {
    /// Names of the keys whose lines verified, in line order.
    pub verified: Vec<String>,
    /// Lines by keys the verifier does not know.
    pub unverified: Vec<UnverifiedCosignature>,
    /// Each bad line, named: its key, whose key it is, what is wrong.
    pub bad: Vec<String>,
}

impl CosignatureLines {
    /// The failure naming every bad line, if there is one.
    pub fn cause(&self, size: u64) -> Option<Cause> {
        (!self.bad.is_empty()).then(|| Cause::BadCosignatures {
            size,
            lines: self.bad.clone(),
        })
    }

    /// The failure message naming every bad line, if there is one.
    pub fn failure(&self, size: u64) -> Option<String> {
        self.cause(size).map(|cause| cause.to_string())
    }
}

/// Checks every cosignature line of a checkpoint note whose log signature
/// was verified before: a line by a known key (a role key in force at
/// `size` or a witness key) must verify, and a key may sign once. Bad
/// lines are named (their key, and the size), not counted.
pub fn check_cosignatures(
    note: &Note,
    size: u64,
    log_key: &VerifierKey,
    cosigners: &Cosigners,
) -> CosignatureLines {
    let mut verified: Vec<(String, [u8; 4])> = Vec::new();
    let mut unverified = Vec::new();
    let mut bad = Vec::new();
    for line in &note.signatures {
        if line.name == log_key.name() && line.key_id == log_key.key_id() {
            continue;
        }
        let key_id = hex::encode(line.key_id);
        let known = |keys: &[VerifierKey]| -> Vec<VerifierKey> {
            keys.iter()
                .filter(|k| k.name() == line.name && k.key_id() == line.key_id)
                .cloned()
                .collect()
        };
        let (roles, witnesses) = (known(&cosigners.roles), known(&cosigners.witnesses));
        if roles.is_empty() && witnesses.is_empty() {
            unverified.push(UnverifiedCosignature {
                name: line.name.clone(),
                key_id,
            });
            continue;
        }
        let whose = if roles.is_empty() {
            "a registered witness's key".to_string()
        } else {
            format!("a role key in force at size {size}")
        };
        if verified
            .iter()
            .any(|(n, id)| *n == line.name && *id == line.key_id)
        {
            bad.push(format!(
                "{} (key id {key_id}, {whose}) cosigned twice",
                line.name
            ));
            continue;
        }
        let alone = Note {
            text: note.text.clone(),
            signatures: vec![line.clone()],
        };
        let ok = roles
            .iter()
            .chain(&witnesses)
            .any(|key| alone.verify(std::slice::from_ref(key)).is_ok());
        if ok {
            verified.push((line.name.clone(), line.key_id));
        } else {
            bad.push(format!(
                "the cosignature by {} (key id {key_id}, {whose}) does not verify",
                line.name
            ));
        }
    }
    CosignatureLines {
        verified: verified.into_iter().map(|(n, _)| n).collect(),
        unverified,
        bad,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub origin: Option<String>,
    pub entries: u64,
    /// The recomputed root, reported only when the audit passed: a root of
    /// entries that did not all verify (or of none, after a wrong log key)
    /// is not a root anyone signed.
    pub root: Option<String>,
    /// The balances, only when the audit passed.
    pub balances_fen: BTreeMap<String, u64>,
    pub checkpoint: Option<CheckpointReport>,
    /// Size of the earlier checkpoint this log was shown consistent with.
    pub consistent_with_saved_size: Option<u64>,
    pub failure: Option<Failure>,
}

pub struct Audit {
    replayer: Option<Replayer>,
    frontier: Frontier,
    /// Roots to remember at given sizes (a saved checkpoint's size).
    remember_sizes: Vec<u64>,
    remembered_roots: BTreeMap<u64, Hash>,
    trusted_log_key: Option<VerifierKey>,
    /// How an earlier entry, fetched again from an untrusted source (a
    /// reversal's target, a replay's first copy), is pinned to the bytes
    /// verified before.
    earlier_check: EarlierCheck,
    /// The derived keys' expected contents, for a data directory's audit.
    derived: Option<Derived>,
    /// Replays are looked up with [`Earlier::seq_of_body`], not in memory.
    body_index: bool,
}

/// Where an audit reads earlier entries again: a reversal's target, and,
/// for an audit that holds no body ids ([`Audit::use_body_index`]), the
/// entry an index says has the same body. Every answer is checked against
/// what the audit verified before; none is trusted.
pub trait Earlier {
    /// The leaf bytes of entry `seq`.
    fn leaf(&mut self, seq: u64) -> Option<Vec<u8>>;

    /// The seq of the entry with this body id, by the source's index.
    fn seq_of_body(&mut self, _body_id: &Hash) -> Option<u64> {
        None
    }

    /// Told of each entry after it is applied, in order (all but the
    /// genesis, whose body no later entry may carry: a second genesis is
    /// refused): a source that answers [`Earlier::seq_of_body`] only for
    /// bodies it may have seen learns them here.
    fn applied(&mut self, _seq: u64, _body_id: &Hash) {}

    /// An inclusion proof of entry `seq` in the tree of the first `size`
    /// entries, from the source's own tree. Asked only by an audit that
    /// holds no leaf hashes ([`Audit::prove_earlier_leaves`]).
    fn inclusion_proof(&mut self, _seq: u64, _size: u64) -> Option<Vec<Hash>> {
        None
    }
}

impl<F: FnMut(u64) -> Option<Vec<u8>>> Earlier for F {
    fn leaf(&mut self, seq: u64) -> Option<Vec<u8>> {
        self(seq)
    }
}

/// Entries decoded and signature-checked together, on every core.
pub const AUDIT_CHUNK: usize = 4_096;

/// Leaves decoded and signature-checked by [`Audit::decode_chunk`].
pub struct DecodedChunk(Vec<Decoded>);

impl DecodedChunk {
    /// Records the store's own hash of each leaf, as `push_chunk`'s
    /// `stored_leaf_hash` does.
    pub fn set_stored_hashes(&mut self, mut stored: impl FnMut(u64) -> Option<Hash>) {
        for d in &mut self.0 {
            d.stored_hash = stored(d.seq);
        }
    }
}

/// See [`Audit::prove_earlier_leaves`].
enum EarlierCheck {
    /// Every verified leaf hash, 32 bytes an entry.
    Held(Vec<Hash>),
    /// Entries before the chunk being applied are proved against the root
    /// at its start; entries of the chunk are compared with their hashes,
    /// held for the chunk only.
    Proved {
        chunk_start_size: u64,
        chunk_start_root: Hash,
        chunk_hashes: Vec<Hash>,
    },
}

/// A leaf as the parallel phase leaves it.
struct Decoded {
    seq: u64,
    bytes: Vec<u8>,
    hash: Hash,
    stored_hash: Option<Hash>,
    leaf: Result<Leaf, FormatError>,
    check: Option<SignatureCheck>,
}

impl Audit {
    pub fn new(trusted_log_key: Option<VerifierKey>, remember_sizes: Vec<u64>) -> Audit {
        Audit {
            replayer: None,
            frontier: Frontier::new(),
            remember_sizes,
            remembered_roots: BTreeMap::new(),
            trusted_log_key,
            earlier_check: EarlierCheck::Held(Vec::new()),
            derived: None,
            body_index: false,
        }
    }

    /// An audit that goes on from a point verified before: `state` is the
    /// replayed state after the first `frontier.size()` entries, and
    /// `frontier` the tree of those entries. Entries before that point are
    /// not checked again; an earlier entry read again (a reversal's target)
    /// is proved against the frontier's root, and replays are looked up
    /// in the source's body index ([`Earlier::seq_of_body`]). Derived keys
    /// are gathered as by [`Audit::collect_derived`].
    ///
    /// The resumed audit trusts the point it starts from: whoever recorded
    /// it (see `feeledger_store::AuditedRecord`).
    pub fn resume(state: LedgerState, frontier: Frontier) -> Audit {
        let mut audit = Audit::new(None, Vec::new());
        audit.body_index = true;
        audit.earlier_check = EarlierCheck::Proved {
            chunk_start_size: frontier.size(),
            chunk_start_root: frontier.root(),
            chunk_hashes: Vec::new(),
        };
        audit.frontier = frontier;
        audit.replayer = Some(Replayer {
            state,
            history: MemoryHistory::without_leaves_or_body_ids(),
            totals: feeledger_core::state::Totals::default(),
        });
        audit.derived = Some(Derived::default());
        audit
    }

    /// Looks replays up with [`Earlier::seq_of_body`] instead of holding
    /// every body id in memory, whose cost grows with the ledger (figures
    /// in docs/performance.md, "Figures cited from code"). Only for a driver that also checks the whole index
    /// against the leaves' body ids (the [`Derived::applied`] links; a data
    /// directory's audit merges them with the index after the replay): an
    /// index that hid a replay would then be named there. Must be called
    /// before the first entry.
    ///
    /// # Panics
    /// If an entry was pushed already.
    pub fn use_body_index(&mut self) {
        assert!(self.replayer.is_none(), "before the first entry");
        self.body_index = true;
    }

    /// Checks an earlier entry read again with an inclusion proof from the
    /// source ([`Earlier::inclusion_proof`]) instead of holding every
    /// verified leaf hash. The proof is made at the size where the chunk
    /// being applied started, against the root recomputed there: a driver
    /// checks the stored nodes a chunk completes only after the chunk, so
    /// a proof must rest on nodes checked before, or a damaged node would
    /// be reported as a missing earlier entry instead of by name. An entry
    /// of the chunk itself is compared with its hash, held for the chunk
    /// (32 bytes an entry of one chunk). Must be called before the first
    /// entry.
    ///
    /// # Panics
    /// If an entry was pushed already.
    pub fn prove_earlier_leaves(&mut self) {
        assert!(self.replayer.is_none(), "before the first entry");
        self.earlier_check = EarlierCheck::Proved {
            chunk_start_size: 0,
            chunk_start_root: self.frontier.root(),
            chunk_hashes: Vec::new(),
        };
    }

    /// Marks where a chunk starts, for [`Audit::prove_earlier_leaves`].
    fn start_chunk(&mut self) {
        if let EarlierCheck::Proved {
            chunk_start_size,
            chunk_start_root,
            chunk_hashes,
        } = &mut self.earlier_check
        {
            *chunk_start_size = self.frontier.size();
            *chunk_start_root = self.frontier.root();
            chunk_hashes.clear();
        }
    }

    /// Gathers what the store's derived keys must hold (Merkle nodes,
    /// indexes, body ids, reversals) as leaves are applied.
    pub fn collect_derived(&mut self) {
        self.derived = Some(Derived::default());
    }

    /// What was gathered since the last call: the nodes, the entries, and
    /// the index buckets that are complete (all of them if `all`: at the
    /// end of the log). The reversal count is the running total.
    pub fn take_derived(&mut self, all: bool) -> Derived {
        let complete = feeledger_store::posting_bucket(self.frontier.size());
        match &mut self.derived {
            Some(d) => {
                let open = if all {
                    Postings::new()
                } else {
                    d.postings.split_off(&(complete, "", String::new()))
                };
                Derived {
                    nodes: std::mem::take(&mut d.nodes),
                    applied: std::mem::take(&mut d.applied),
                    postings: std::mem::replace(&mut d.postings, open),
                    reversals: d.reversals,
                }
            }
            None => Derived::default(),
        }
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    pub fn replayer(&self) -> Option<&Replayer> {
        self.replayer.as_ref()
    }

    /// Checks leaves in order. Decoding and signature checks run on every
    /// core; applying runs in order. `stored_leaf_hash` is the store's own
    /// record of a leaf, when the driver has one: a mismatch names that
    /// entry even when the damage would otherwise show only at the next
    /// entry's chain link. `fetch` returns an earlier leaf's bytes again
    /// (for reversals); they are checked against the hash verified before.
    ///
    /// # Errors
    /// The first [`Failure`] among the chunk's entries.
    ///
    /// # Panics
    /// Never: the genesis entry is started before the rest of a chunk.
    pub fn push_chunk(
        &mut self,
        chunk: Vec<(u64, Vec<u8>, Option<Hash>)>,
        earlier: &mut dyn Earlier,
    ) -> Result<(), Failure> {
        self.start_chunk();
        let mut chunk = chunk.into_iter();
        if self.replayer.is_none() {
            let Some((seq, bytes, stored)) = chunk.next() else {
                return Ok(());
            };
            self.start(seq, &bytes, stored)?;
        }
        let state = &self.replayer.as_ref().expect("started above").state;
        let decoded = decode_parallel(state, chunk.collect());
        for d in decoded {
            self.apply_one(d, earlier)?;
        }
        Ok(())
    }

    /// The state leaves are checked against: the keys in force after the
    /// last applied entry. `None` before the genesis entry.
    pub fn state(&self) -> Option<&LedgerState> {
        self.replayer.as_ref().map(|r| &r.state)
    }

    /// The parallel half of [`Audit::push_chunk`], for a driver that decodes
    /// the next chunk on other threads while this one is applied. `state`
    /// may be behind the audit (an earlier [`Audit::state`]): a signature
    /// check made against keys that have since changed is not trusted, and
    /// [`Audit::push_decoded`] verifies those signatures again.
    pub fn decode_chunk(state: &LedgerState, chunk: Vec<(u64, Vec<u8>)>) -> DecodedChunk {
        let items = chunk
            .into_iter()
            .map(|(seq, bytes)| (seq, bytes, None))
            .collect();
        DecodedChunk(decode_parallel(state, items))
    }

    /// The sequential half of [`Audit::push_chunk`]: applies a chunk that
    /// [`Audit::decode_chunk`] made. The genesis entry must have been pushed
    /// before, with [`Audit::push_chunk`].
    ///
    /// # Errors
    /// The first [`Failure`] among the chunk's entries.
    ///
    /// # Panics
    /// If no chunk holding the genesis entry was pushed before.
    pub fn push_decoded(
        &mut self,
        chunk: DecodedChunk,
        earlier: &mut dyn Earlier,
    ) -> Result<(), Failure> {
        assert!(self.replayer.is_some(), "genesis is pushed first");
        self.start_chunk();
        for d in chunk.0 {
            self.apply_one(d, earlier)?;
        }
        Ok(())
    }

    fn check_position(&self, seq: u64, hash: Hash, stored: Option<Hash>) -> Result<(), Failure> {
        if seq != self.frontier.size() {
            return Err(Failure::at_entry(
                self.frontier.size(),
                Cause::MissingEntry {
                    expected: self.frontier.size(),
                    found: seq,
                },
            ));
        }
        if let Some(stored) = stored {
            if stored != hash {
                return Err(Failure::at_entry(
                    seq,
                    Cause::LeafHashMismatch {
                        computed: hash,
                        recorded: stored,
                    },
                ));
            }
        }
        Ok(())
    }

    fn start(&mut self, seq: u64, bytes: &[u8], stored: Option<Hash>) -> Result<(), Failure> {
        let hash = leaf_hash(bytes);
        self.check_position(seq, hash, stored)?;
        let history = if self.body_index {
            MemoryHistory::without_leaves_or_body_ids()
        } else {
            MemoryHistory::without_leaves()
        };
        let replayer =
            Replayer::start_with(bytes, history).map_err(|e| Failure::at_entry(seq, e))?;
        if let Some(derived) = &mut self.derived {
            let leaf = Leaf::decode(bytes).map_err(|e| Failure::at_entry(seq, e))?;
            let body_id = feeledger_core::state::leaf_needs(&leaf, bytes).body_id;
            derived.record(&leaf, body_id, None);
        }
        if let Some(trusted) = &self.trusted_log_key {
            if replayer.state.log_key() != trusted {
                return Err(Failure::at_entry(
                    0,
                    Cause::UntrustedLogKey {
                        genesis: Box::new(replayer.state.log_key().clone()),
                        trusted: Box::new(trusted.clone()),
                    },
                ));
            }
        }
        self.replayer = Some(replayer);
        self.append(hash);
        Ok(())
    }

    fn apply_one(&mut self, d: Decoded, earlier: &mut dyn Earlier) -> Result<(), Failure> {
        self.check_position(d.seq, d.hash, d.stored_hash)?;
        let leaf = d.leaf.map_err(|e| Failure::at_entry(d.seq, e))?;
        let earlier_check = &self.earlier_check;
        let earlier = std::cell::RefCell::new(earlier);
        // Only the very bytes verified before may stand for an earlier entry.
        let verified_leaf = |seq: u64| -> Option<Vec<u8>> {
            let bytes = earlier.borrow_mut().leaf(seq)?;
            let hash = leaf_hash(&bytes);
            let verified = match earlier_check {
                EarlierCheck::Held(hashes) => hashes.get(seq as usize) == Some(&hash),
                EarlierCheck::Proved {
                    chunk_start_size,
                    chunk_hashes,
                    ..
                } if seq >= *chunk_start_size => {
                    chunk_hashes.get((seq - chunk_start_size) as usize) == Some(&hash)
                }
                // Every entry before the chunk is verified, and this is
                // their tree's root: a proof to it pins the bytes.
                EarlierCheck::Proved {
                    chunk_start_size: size,
                    chunk_start_root: root,
                    ..
                } => {
                    let proof = earlier.borrow_mut().inclusion_proof(seq, *size)?;
                    merkle::verify_inclusion(&hash, seq, *size, &proof, root).is_ok()
                }
            };
            verified.then_some(bytes)
        };
        let mut fetch_target =
            |seq: u64| -> Option<Leaf> { Leaf::decode(&verified_leaf(seq)?).ok() };
        // An index answer counts only if that earlier entry really has the
        // body: a damaged index must not invent a replay (the link check
        // names it instead).
        let mut body_seen_at = |body_id: &Hash| -> Option<u64> {
            let seen = earlier.borrow_mut().seq_of_body(body_id)?;
            if seen >= d.seq {
                return None;
            }
            let bytes = verified_leaf(seen)?;
            let body = body_bytes_of_leaf(&bytes)?;
            (feeledger_core::hash::sha256(body) == *body_id).then_some(seen)
        };
        let replayer = self
            .replayer
            .as_mut()
            .expect("started before any other entry");
        let applied = replayer
            .apply_decoded(
                &leaf,
                &d.bytes,
                d.check.as_ref(),
                &mut fetch_target,
                &mut body_seen_at,
            )
            .map_err(|e| Failure::at_entry(d.seq, e))?;
        earlier.borrow_mut().applied(d.seq, &applied.body_id);
        if let Some(derived) = &mut self.derived {
            derived.record(&leaf, applied.body_id, applied.reverses);
        }
        self.append(d.hash);
        Ok(())
    }

    fn append(&mut self, hash: Hash) {
        let completed = self.frontier.append(hash);
        if let Some(derived) = &mut self.derived {
            derived.nodes.extend(completed);
        }
        match &mut self.earlier_check {
            EarlierCheck::Held(hashes) => hashes.push(hash),
            EarlierCheck::Proved { chunk_hashes, .. } => chunk_hashes.push(hash),
        }
        if self.remember_sizes.contains(&self.frontier.size()) {
            self.remembered_roots
                .insert(self.frontier.size(), self.frontier.root());
        }
    }

    /// Checks the latest signed checkpoint against the recomputed tree:
    /// the log key's signature (with the ledger's log key), the size and
    /// root, then every cosignature line, with the role keys in force at
    /// the checkpoint's size (the replayed state, since the size must be
    /// the audit's) and the given witness keys.
    ///
    /// # Errors
    /// [`Cause::EmptyLog`], [`Cause::CheckpointSignature`],
    /// [`Cause::CheckpointMismatch`] or [`Cause::BadCosignatures`].
    pub fn check_checkpoint(
        &self,
        checkpoint_bytes: &[u8],
        witnesses: &[VerifierKey],
    ) -> Result<CheckpointReport, Failure> {
        let replayer = self
            .replayer
            .as_ref()
            .ok_or_else(|| Failure::of(Cause::EmptyLog))?;
        let log_key = replayer.state.log_key();
        // The log's own line alone: a bad cosignature line is reported as
        // one below, not as a checkpoint the log key did not sign.
        let (checkpoint, note, _) =
            open_checkpoint(checkpoint_bytes, log_key, &[]).map_err(|error| {
                Failure::of(Cause::CheckpointSignature {
                    checkpoint: "the checkpoint".into(),
                    error,
                })
            })?;
        if checkpoint.size != self.size() || checkpoint.root != self.root() {
            return Err(Failure::of(Cause::CheckpointMismatch {
                checkpoint_size: checkpoint.size,
                checkpoint_root: checkpoint.root,
                size: self.size(),
                root: self.root(),
            }));
        }
        let cosigners = Cosigners {
            roles: replayer.state.cosigner_keys(),
            witnesses: witnesses.to_vec(),
        };
        let lines = check_cosignatures(&note, checkpoint.size, log_key, &cosigners);
        if let Some(cause) = lines.cause(checkpoint.size) {
            return Err(Failure::of(cause));
        }
        Ok(CheckpointReport {
            size: checkpoint.size,
            root: checkpoint.root.to_hex(),
            cosigned_by: lines.verified,
            unverified_cosignatures: lines.unverified,
        })
    }

    /// The leaf hash of entry `seq` the audit verified, when it holds
    /// every leaf hash (an audit that does not prove earlier leaves).
    pub fn verified_leaf_hash(&self, seq: u64) -> Option<Hash> {
        match &self.earlier_check {
            EarlierCheck::Held(hashes) => hashes.get(usize::try_from(seq).ok()?).copied(),
            EarlierCheck::Proved { .. } => None,
        }
    }

    /// Checks that the log extends an earlier signed checkpoint: its root at
    /// that size must be the one the log key signed then.
    ///
    /// # Errors
    /// [`Cause::Truncated`] or [`Cause::Fork`].
    pub fn check_saved(&self, saved: &Checkpoint) -> Result<(), Failure> {
        if saved.size > self.size() {
            return Err(Failure::of(Cause::Truncated {
                saved_size: saved.size,
                size: self.size(),
            }));
        }
        let root = if saved.size == 0 {
            merkle::empty_root()
        } else {
            *self
                .remembered_roots
                .get(&saved.size)
                .ok_or_else(|| Failure::of(Cause::Internal("saved size not remembered")))?
        };
        if root != saved.root {
            return Err(Failure::of(Cause::Fork {
                size: saved.size,
                root,
                saved_root: saved.root,
            }));
        }
        Ok(())
    }

    /// The report, failed or not.
    pub fn report(
        &self,
        checkpoint: Option<CheckpointReport>,
        saved: Option<u64>,
        failure: Option<Failure>,
    ) -> Report {
        let ok = failure.is_none();
        Report {
            ok,
            origin: self.replayer.as_ref().map(|r| r.state.origin().to_string()),
            entries: self.size(),
            root: ok.then(|| self.root().to_hex()),
            balances_fen: self
                .replayer
                .as_ref()
                .filter(|_| ok)
                .map(|r| r.state.balances().clone())
                .unwrap_or_default(),
            checkpoint,
            consistent_with_saved_size: saved,
            failure,
        }
    }
}

/// Decodes leaves and checks their signatures against `state`'s keys, on
/// every core, keeping their order.
fn decode_parallel(state: &LedgerState, items: Vec<(u64, Vec<u8>, Option<Hash>)>) -> Vec<Decoded> {
    let decode = |(seq, bytes, stored_hash): (u64, Vec<u8>, Option<Hash>)| {
        let hash = leaf_hash(&bytes);
        let leaf = Leaf::decode(&bytes);
        let check = match (&leaf, body_bytes_of_leaf(&bytes)) {
            (Ok(leaf), Some(body)) => Some(state.check_signatures(body, &leaf.signatures)),
            _ => None,
        };
        Decoded {
            seq,
            bytes,
            hash,
            stored_hash,
            leaf,
            check,
        }
    };
    feeledger_store::parallel_map(items, 2, decode)
}

#[cfg(test)]
mod tests {
    //! Replay detection when the audit asks an index instead of holding
    //! every body id ([`Audit::use_body_index`]).

    use super::*;
    use feeledger_core::fixtures::{chain, property_fee, two_role_genesis};
    use std::collections::HashMap;

    const ORIGIN: &str = "audit.example/ledger";

    fn genesis() -> (
        feeledger_core::entry::Body,
        Vec<feeledger_core::entry::EntrySignature>,
    ) {
        two_role_genesis(ORIGIN, "审计小区")
    }

    fn income(
        nonce: &str,
    ) -> (
        feeledger_core::entry::Body,
        Vec<feeledger_core::entry::EntrySignature>,
    ) {
        property_fee(ORIGIN, nonce)
    }

    struct Indexed {
        leaves: Vec<Vec<u8>>,
        index: HashMap<Hash, u64>,
        /// What the source answers for a leaf instead of its bytes.
        swapped: HashMap<u64, Vec<u8>>,
    }

    impl Earlier for Indexed {
        fn leaf(&mut self, seq: u64) -> Option<Vec<u8>> {
            self.swapped
                .get(&seq)
                .or(self.leaves.get(seq as usize))
                .cloned()
        }

        fn seq_of_body(&mut self, body_id: &Hash) -> Option<u64> {
            self.index.get(body_id).copied()
        }

        fn inclusion_proof(&mut self, seq: u64, size: u64) -> Option<Vec<Hash>> {
            let mut tree = merkle::MemoryTree::new();
            for leaf in &self.leaves[..size as usize] {
                tree.push(leaf_hash(leaf));
            }
            merkle::inclusion_proof(seq, size, &tree).ok()
        }
    }

    /// An index read only for the bodies the audit said it applied, as a
    /// data directory's audit reads its index through a filter of them.
    struct Filtered {
        inner: Indexed,
        told: std::collections::HashSet<Hash>,
    }

    impl Earlier for Filtered {
        fn leaf(&mut self, seq: u64) -> Option<Vec<u8>> {
            self.inner.leaf(seq)
        }

        fn seq_of_body(&mut self, body_id: &Hash) -> Option<u64> {
            if !self.told.contains(body_id) {
                return None;
            }
            self.inner.seq_of_body(body_id)
        }

        fn applied(&mut self, _seq: u64, body_id: &Hash) {
            self.told.insert(*body_id);
        }

        fn inclusion_proof(&mut self, seq: u64, size: u64) -> Option<Vec<Hash>> {
            self.inner.inclusion_proof(seq, size)
        }
    }

    // Proves that the audit tells its source of each body as soon as it is
    // applied, before the next entry is checked, in the same chunk or a
    // later one: a source that looks up only bodies it was told of still
    // finds a replay.
    #[test]
    fn each_applied_body_is_told_before_the_next_entry_is_checked() {
        let leaves = chain(vec![genesis(), income("a"), income("b"), income("a")]);
        let index = HashMap::from([(body_id(&leaves[1]), 1), (body_id(&leaves[2]), 2)]);
        for chunk_len in [1, usize::MAX] {
            let mut earlier = Filtered {
                inner: Indexed {
                    leaves: leaves.clone(),
                    index: index.clone(),
                    swapped: HashMap::new(),
                },
                told: Default::default(),
            };
            let failure = audit_from(&leaves, &mut earlier, (true, true, chunk_len)).unwrap_err();
            assert_eq!(failure.seq, Some(3), "{chunk_len}: {failure:?}");
            assert!(
                matches!(*failure.cause, Cause::Apply(ApplyError::Replay { seq: 1 })),
                "{failure:?}"
            );
            assert!(earlier.told.contains(&body_id(&leaves[2])));
        }
    }

    /// How an audit checks an entry read again: (asks the body index,
    /// proves earlier leaves instead of holding their hashes, entries per
    /// chunk). Proving with one entry per chunk proves every earlier entry;
    /// with one chunk, it compares the chunk's held hashes instead.
    const MODES: [(bool, bool, usize); 4] = [
        (false, false, usize::MAX),
        (true, false, usize::MAX),
        (true, true, 1),
        (true, true, usize::MAX),
    ];

    fn body_id(leaf: &[u8]) -> Hash {
        feeledger_core::hash::sha256(body_bytes_of_leaf(leaf).unwrap())
    }

    fn audit(
        leaves: &[Vec<u8>],
        index: HashMap<Hash, u64>,
        swapped: HashMap<u64, Vec<u8>>,
        mode: (bool, bool, usize),
    ) -> Result<(), Failure> {
        let mut earlier = Indexed {
            leaves: leaves.to_vec(),
            index,
            swapped,
        };
        audit_from(leaves, &mut earlier, mode)
    }

    /// Audits `leaves` in chunks, reading earlier entries from `earlier`.
    fn audit_from(
        leaves: &[Vec<u8>],
        earlier: &mut dyn Earlier,
        (body_index, prove, chunk_len): (bool, bool, usize),
    ) -> Result<(), Failure> {
        let mut audit = Audit::new(None, vec![]);
        if body_index {
            audit.use_body_index();
        }
        if prove {
            audit.prove_earlier_leaves();
        }
        let items: Vec<_> = leaves
            .iter()
            .enumerate()
            .map(|(seq, bytes)| (seq as u64, bytes.clone(), None))
            .collect();
        for chunk in items.chunks(chunk_len) {
            audit.push_chunk(chunk.to_vec(), earlier)?;
        }
        Ok(())
    }

    // Proves that a replay is found through the index as it is in memory:
    // the second copy of a body is refused, naming the first.
    #[test]
    fn a_replay_is_found_through_the_index() {
        let leaves = chain(vec![genesis(), income("a"), income("a")]);
        let index = HashMap::from([(body_id(&leaves[1]), 1)]);
        for mode in MODES {
            let failure = audit(&leaves, index.clone(), HashMap::new(), mode).unwrap_err();
            assert_eq!(failure.seq, Some(2), "{mode:?}: {failure:?}");
            assert!(failure.cause.to_string().contains("replay"), "{failure:?}");
        }
        // The honest log passes every way.
        let leaves = chain(vec![genesis(), income("a"), income("b")]);
        let index = HashMap::from([(body_id(&leaves[1]), 1), (body_id(&leaves[2]), 2)]);
        for mode in MODES {
            audit(&leaves, index.clone(), HashMap::new(), mode).unwrap();
        }
    }

    // Proves that an entry of an earlier chunk, read again from the middle
    // of a later chunk, is proved at the size where that chunk started,
    // against the root there: a replay at entry 4 of body "a" (entry 1),
    // in chunks of three (0-2, 3-4), is found. A proof at the current size
    // against the chunk's starting root, or the reverse, would not verify,
    // and the replay would go unseen.
    #[test]
    fn an_earlier_chunk_is_proved_from_the_middle_of_a_later_one() {
        let leaves = chain(vec![
            genesis(),
            income("a"),
            income("b"),
            income("c"),
            income("a"),
        ]);
        let index = HashMap::from([(body_id(&leaves[1]), 1)]);
        for body_index in [false, true] {
            let failure = audit(
                &leaves,
                index.clone(),
                HashMap::new(),
                (body_index, true, 3),
            )
            .unwrap_err();
            assert_eq!(failure.seq, Some(4), "{failure:?}");
            assert!(failure.cause.to_string().contains("replay"), "{failure:?}");
        }
    }

    // Proves that a source cannot pass another leaf off as an earlier one:
    // asked for entry 1, it answers with entry 2's bytes (body "b"), and
    // its index says body "b" is entry 1's. Believed, that would make the
    // honest entry 2 a replay of entry 1. The held hash, or the inclusion
    // proof against the recomputed root, refuses the bytes.
    #[test]
    fn a_source_cannot_pass_another_leaf_off_as_an_earlier_one() {
        let leaves = chain(vec![genesis(), income("a"), income("b")]);
        let index = HashMap::from([(body_id(&leaves[2]), 1)]);
        let swapped = HashMap::from([(1, leaves[2].clone())]);
        for mode in MODES.into_iter().filter(|&(body_index, _, _)| body_index) {
            audit(&leaves, index.clone(), swapped.clone(), mode).unwrap();
        }
        // The same answer for the real entry 1 is a replay: the check above
        // is what refused the swap.
        let replayed = chain(vec![genesis(), income("b"), income("b")]);
        let index = HashMap::from([(body_id(&replayed[2]), 1)]);
        for mode in MODES.into_iter().filter(|&(body_index, _, _)| body_index) {
            let failure = audit(&replayed, index.clone(), HashMap::new(), mode).unwrap_err();
            assert!(failure.cause.to_string().contains("replay"), "{failure:?}");
        }
    }

    // Proves that an index cannot invent a replay: an answer pointing at an
    // earlier entry with another body is not taken for one (the driver's
    // link check names such an index instead). An answer pointing at the
    // entry itself or a later one is not tried here: it is refused three
    // times (`seen >= d.seq`, no such leaf proves as an earlier one, and
    // core ignores such an answer), so a case for it could not fail if one
    // of those checks broke.
    #[test]
    fn a_lying_index_does_not_invent_a_replay() {
        let leaves = chain(vec![genesis(), income("a"), income("b")]);
        let index = HashMap::from([(body_id(&leaves[2]), 1)]);
        for mode in MODES.into_iter().filter(|&(body_index, _, _)| body_index) {
            audit(&leaves, index.clone(), HashMap::new(), mode).unwrap();
        }
    }

    /// Proves a failure reads as it always has: "at entry N: " and its
    /// cause's text, or the cause's text alone; and that its JSON (`verify
    /// --json`) keeps the shape `{"seq", "message"}` whatever the cause's
    /// type, so scripts reading reports are unchanged.
    #[test]
    fn a_failure_keeps_its_text_and_json_shape() {
        let at = Failure::at_entry(
            7,
            Cause::MissingEntry {
                expected: 7,
                found: 9,
            },
        );
        assert_eq!(
            at.to_string(),
            "at entry 7: entry 7 is missing (found 9 next)"
        );
        assert_eq!(at.seq(), Some(7));
        assert_eq!(
            serde_json::to_value(&at).unwrap(),
            serde_json::json!({"seq": 7, "message": "entry 7 is missing (found 9 next)"})
        );
        let general = Failure::of(Cause::Truncated {
            saved_size: 10,
            size: 4,
        });
        assert_eq!(
            general.to_string(),
            "the saved checkpoint has size 10, the log only 4: the log was truncated"
        );
        assert_eq!(
            serde_json::to_value(&general).unwrap(),
            serde_json::json!({
                "seq": null,
                "message": "the saved checkpoint has size 10, the log only 4: the log was truncated"
            })
        );
        let store = Failure::of(StoreError::damaged("leaf 3 is missing"));
        assert!(matches!(*store.cause, Cause::StoreRead(_)), "{store:?}");
        assert_eq!(
            store.to_string(),
            "reading the store: the store is damaged: leaf 3 is missing"
        );
    }
}

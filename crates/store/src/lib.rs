//! The durable store of one feeledger ledger, on sled.
//!
//! A ledger lives in a data directory of its own, or in a tree of a sled
//! `Db` that many ledgers share, one tree each, named by the caller
//! ([`Backing`]). Everything lives in that one sled tree, under one-byte
//! key prefixes, so that an append — the leaf, the Merkle
//! nodes it completes, the state snapshot, the indexes, the totals and the
//! new signed checkpoint — is one atomic sled batch, flushed to disk before
//! [`Store::append_batch`] returns. Nothing is acknowledged before that flush.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `L` | seq (u64 BE) | leaf bytes (JCS) |
//! | `N` | level (u8), tile (u64 BE) | node tile: hashes of that level's perfect subtrees 256·tile .. 256·tile+255, 32 bytes each, from the first on |
//! | `M` | level (u8), tile (u64 BE), start (u16 BE) | a run of an `N` tile still filling: the hashes one batch appended, from position `start` on; the batch that fills the tile writes it whole under its `N` key and removes its runs. Apart from the `N` keys so that sled does not rewrite full tiles with the runs beside them (`keys::node_tile_run`) |
//! | `S` | — | [`StateSnapshot`] JSON (roles, rules, balances, head) |
//! | `B` | body id (32) | seq (u64 BE): replay protection |
//! | `R` | target seq (u64 BE) | seq of its reversal |
//! | `X` | index tag, value, 0x00, bucket (u64 BE: seq >> 7) | the bucket's seqs, packed u64 BE, ascending: fund/category/party/month/kind indexes |
//! | `T` | month, 0x00, fund, 0x00, category | totals JSON `[income_fen, spending_fen]` |
//! | `A` | fund, 0x00, category | all-time totals JSON `[income_fen, spending_fen]`: the sum of that fund's and category's `T` records, kept in the same batch; never rewritten at open, so a missing one is damage the audit names |
//! | `P` | proposal id (32) | pending [`ProposalRecord`] JSON (a [`Proposal`]'s fields, the proposer, partial withdrawal signatures) |
//! | `D` | proposal id (32) | withdrawn proposal, [`Withdrawn`] JSON |
//! | `O` | withdrawn time (u64 BE ms), proposal id (32) | empty: withdrawals in time order |
//! | `C` | size (u64 BE) | signed checkpoint note (with cosignatures) |
//! | `K` | — | size of the latest checkpoint (u64 BE) |
//! | `W` | cosigner name | size of the last checkpoint it cosigned (u64 BE) |
//! | `Q` | — | size of the largest checkpoint carrying a cosignature (u64 BE), written with that cosignature |
//! | `V` | witness name | the witness's cosigner verifier key (text) |
//! | `F` | — | the layout's name and version, [`STORE_FORMAT`] |
//! | `U` | — | what the last full audit verified, [`AuditedRecord`] JSON (size, root, replayed state): a cache that lets a restart resume the audit, not part of the ledger (the `audited` module) |
//!
//! Node hashes and index entries are gathered per batch and appended to
//! their tiles and buckets once per batch, so a large batch writes about two
//! keys per entry (the leaf and its body id) plus a few per batch. A small
//! batch writes little more per entry than a large one: it appends runs to
//! the node tiles rather than rewriting them, and rewrites index buckets of
//! at most 1 KiB.
//!
//! Proofs read nodes through [`NodeReader`]: tree levels from 4 up come
//! from a copy held in memory (the `upper` module), and levels 0 to 3 are
//! computed from the level-0 tile under them, so an inclusion proof reads
//! one or two node tiles from sled (its leaf's, and the last leaves' when
//! the size is not a multiple of 16) whatever the tree's size. The tiles
//! remain the record; a store opened for a scan holds no copy.
//!
//! Writes are serialized by one mutex: a single writer. Readers never take
//! it: after each commit the writer publishes the new state and root, and
//! reads see nothing beyond the published tree (no leaf, body id, reversal
//! or checkpoint of a batch still being written; month totals and
//! [`Store::iter_leaves`], for audits, read sled as it is). Callers that have many
//! entries at once share one flush (group commit): an import passes them to
//! [`Store::append_batch`] (or [`Store::prepare_batch`] and
//! [`Store::append_prepared`], to prepare the next batch meanwhile), the
//! server's write queue to [`Store::proposals_batch`].
//!
//! Every write — an append, a restore's leaves, a proposal, a cosignature,
//! a witness key, the genesis — goes through one commit path, in the
//! `append` module: a working copy of the writer's state is staged,
//! written as one sled batch, flushed (undone or poisoned on failure, in
//! the `writes` module) and only then published. The policy it follows
//! comes from the core: the next leaf's seq, prev and time from
//! `LedgerState::next_leaf`, proposal decisions from
//! `feeledger_core::proposal_policy`.
//!
//! **Invariant:** after every committed batch, the snapshot's `size` and
//! `head`, the `N` nodes, and the latest checkpoint all describe the same
//! tree. [`Store::open`] checks this and refuses a store where they differ.
//!
//! The `floor` module measures sled alone writing the two keys every entry
//! writes (its leaf and body id), for `feeledger-bench`: a bound on any
//! store on sled that keeps those two records.
//!
//! Before sled opens a directory, the `recovery` module removes a sled
//! snapshot left unfinished by a crash, which sled 0.34 would otherwise
//! take for its latest one and refuse to open.

// Every public function says how it fails and when a caller can make it
// panic (docs/ARCHITECTURE.md, the core's invariant, holds here too).
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

mod append;
mod attachments;
mod audited;
mod derived;
mod error;
pub mod floor;
mod keys;
mod nodes;
mod parallel;
mod proposals;
mod read;
mod recovery;
mod upper;
mod writes;

pub use append::PreparedBatch;
pub use attachments::{
    listed_attachments, AttachmentError, AttachmentPut, ATTACHMENTS_TREE, ATTACHMENT_BYTES_MAX,
};
pub use audited::AuditedRecord;
pub use derived::{
    node_tile_name, posting_bucket, IndexBucket, NodeTileFault, NodeTiles, NotASeq, NotWholeSeqs,
    StoredSeq, StoredTotals, TotalsUnparsable,
};
pub use error::{BatchFailure, StoreError, WitnessError};
pub use parallel::parallel_map;
pub use proposals::AtomicBatchError;
pub use proposals::{Proposal, ProposalOutcome, ProposalRecord, ProposalRequest};
pub use proposals::{WithdrawalOutcome, Withdrawn, PROPOSALS_PAGE_MAX, WITHDRAWN_LIST_MAX};
pub use proposals::{PROPOSALS_PENDING_MAX, PROPOSALS_PER_KEY_MAX, PROPOSAL_TTL_MS};
pub use read::{EntryFilter, Order, Page, LIST_LIMIT_MAX, LIST_SCAN_MAX};
pub use read::{RecordedLeafHashes, UncheckedStore};
#[cfg(feature = "faults")]
pub use writes::FaultPoint;
pub use writes::FREE_BYTES_FLOOR;

pub(crate) use append::index_values;
use append::WorkingCopy;
use feeledger_core::entry::{Body, EntrySignature, Leaf};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::{self, Frontier, NodeId, NodeReader};
use feeledger_core::note::{Note, NoteSigner};
use feeledger_core::state::{LedgerState, Lookups, StateSnapshot};
use nodes::StoredNodes;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use upper::UpperNodes;
use writes::{FaultPoint as Fault, Faults, WriteSet};

/// The on-disk layout this code reads and writes (the table above). A
/// store of another format is refused at open with a clear error rather
/// than misread.
pub const STORE_FORMAT: &str = "feeledger-store/4";

/// Most entries one [`Store::append_batch`] call takes.
pub const BATCH_ENTRIES_MAX: usize = 4_096;

/// sled's page cache, as [`Store::open`] configures it. Bounded so that
/// serving a large ledger stays within a small, predictable memory budget;
/// sled holds more than this at its peak (docs/performance.md, "What
/// bounds each figure", server memory).
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// sled's page cache for [`Store::open_for_scan`]. An audit reads leaves,
/// node tiles, index buckets and body ids in order (a body id at random
/// only for a possible replay), each about once, so a large cache only adds
/// memory and no speed (measured in docs/performance.md, "What bounds each
/// figure", the audit's memory).
pub const SCAN_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How the caller wants a store opened. The default is what
/// [`Store::open`] and [`Store::create`] use; [`StoreOptions::for_scan`] is
/// [`Store::open_for_scan`]'s. Where the store lives is the [`Backing`]
/// given beside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// sled's page cache, in bytes ([`CACHE_BYTES`] by default), for a
    /// store that opens its own directory ([`Backing::Directory`]). A store
    /// in a shared `Db`'s tree uses that `Db`'s cache, which its opener
    /// sized (see [`open_shared_db`]).
    pub cache_bytes: u64,
    /// Whether the tree's levels from 4 up are held in memory (see the
    /// `upper` module): on for a store that serves proofs, off for one pass
    /// over the ledger, which reads each node about once.
    pub hold_upper_levels: bool,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            cache_bytes: CACHE_BYTES,
            hold_upper_levels: true,
        }
    }
}

impl StoreOptions {
    /// For one pass over the whole ledger (an audit): a [`SCAN_CACHE_BYTES`]
    /// cache and no tree levels in memory.
    pub fn for_scan() -> StoreOptions {
        StoreOptions {
            cache_bytes: SCAN_CACHE_BYTES,
            hold_upper_levels: false,
        }
    }
}

/// Where a store keeps its records: a data directory of its own, or a tree
/// of a sled `Db` that many ledgers share (one process serving many
/// ledgers, with one cache and one log). The store's keys are the same in
/// both (the table above); each `sled::Tree` is its own keyspace, so
/// ledgers sharing a `Db` need no key prefix.
///
/// A `&Path` or `PathBuf` converts into [`Backing::Directory`] and a
/// `sled::Tree` into [`Backing::Tree`], so [`Store::open_with`],
/// [`Store::create_with`] and [`Store::open_unchecked`] take either.
#[derive(Clone)]
pub enum Backing {
    /// The store opens sled in this directory and owns the `Db`. What only
    /// a directory needs is done here: opening waits a moment for sled's
    /// lock ([`StoreError::Locked`] after that), mends a sled snapshot a
    /// crash left unfinished, and names the directory in
    /// [`StoreError::NotInitialized`].
    Directory(PathBuf),
    /// A tree of a `Db` the caller opened (with [`open_shared_db`], which
    /// does the directory's work once for all its ledgers) and keeps open.
    /// The caller chooses each ledger's tree name. The `Db`'s cache is the
    /// caller's, and `Tree::flush` flushes the whole `Db`: ledgers sharing
    /// one pay for each other's writes at every commit. A store on a bare
    /// tree keeps no attachments (`no_attachment_store`); [`Backing::Shared`]
    /// does.
    Tree(sled::Tree),
    /// Ledger `ledger` of a shared `Db` (a district platform): its records
    /// in the tree [`shared_ledger_tree`]`(ledger)` and its attachments in
    /// the tree [`shared_attachments_tree`]`(ledger)`, both in that `Db`.
    /// As with [`Backing::Tree`], the `Db` and its cache are the caller's.
    Shared { db: sled::Db, ledger: String },
}

/// The name of the tree that holds ledger `ledger`'s records in a shared
/// `Db` ([`Backing::Shared`]).
pub fn shared_ledger_tree(ledger: &str) -> String {
    format!("ledger/{ledger}")
}

/// The name of the tree that holds ledger `ledger`'s attachments in a
/// shared `Db` ([`Backing::Shared`]), beside its records as
/// [`ATTACHMENTS_TREE`] is beside a directory's.
pub fn shared_attachments_tree(ledger: &str) -> String {
    format!("attachments/{ledger}")
}

impl Backing {
    /// How errors name it: the directory, or the tree by its name.
    fn name(&self) -> String {
        match self {
            Backing::Directory(dir) => dir.display().to_string(),
            Backing::Tree(tree) => {
                format!("sled tree {:?}", String::from_utf8_lossy(&tree.name()))
            }
            Backing::Shared { ledger, .. } => format!("ledger {ledger:?} of the shared database"),
        }
    }

    /// Opens it: the directory's own `Db` (kept, and returned to hold its
    /// lock), or the caller's tree as it is.
    fn open(&self, cache_bytes: u64) -> Result<(sled::Tree, Option<sled::Db>), StoreError> {
        match self {
            Backing::Directory(dir) => {
                let db = open_db_with_cache(dir, cache_bytes)?;
                Ok(((*db).clone(), Some(db)))
            }
            Backing::Tree(tree) => Ok((tree.clone(), None)),
            Backing::Shared { db, ledger } => Ok((db.open_tree(shared_ledger_tree(ledger))?, None)),
        }
    }

    /// The tree of attachments of a ledger in a shared `Db`; `None` for the
    /// other backings (a directory's is found through its own `Db`).
    fn shared_attachments(&self) -> Result<Option<sled::Tree>, StoreError> {
        match self {
            Backing::Shared { db, ledger } => {
                Ok(Some(db.open_tree(shared_attachments_tree(ledger))?))
            }
            _ => Ok(None),
        }
    }

    /// Whether it holds nothing at all, so that opening it can say
    /// [`StoreError::NotInitialized`] without creating a database there.
    fn is_bare(&self) -> bool {
        match self {
            Backing::Directory(dir) => !dir.join("conf").exists() && !dir.join("db").exists(),
            Backing::Tree(tree) => tree.is_empty(),
            Backing::Shared { db, ledger } => !db
                .tree_names()
                .iter()
                .any(|name| name.as_ref() == shared_ledger_tree(ledger).as_bytes()),
        }
    }
}

// `sled::Tree`'s own `Debug` prints every node of the tree.
impl std::fmt::Debug for Backing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backing::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
            Backing::Tree(tree) => f
                .debug_tuple("Tree")
                .field(&String::from_utf8_lossy(&tree.name()))
                .finish(),
            Backing::Shared { ledger, .. } => f.debug_tuple("Shared").field(ledger).finish(),
        }
    }
}

impl From<&Path> for Backing {
    fn from(dir: &Path) -> Backing {
        Backing::Directory(dir.to_path_buf())
    }
}

impl From<&PathBuf> for Backing {
    fn from(dir: &PathBuf) -> Backing {
        Backing::Directory(dir.clone())
    }
}

impl From<PathBuf> for Backing {
    fn from(dir: PathBuf) -> Backing {
        Backing::Directory(dir)
    }
}

impl From<sled::Tree> for Backing {
    fn from(tree: sled::Tree) -> Backing {
        Backing::Tree(tree)
    }
}

/// Opens a sled `Db` in `dir` for many ledgers to share, each in a tree of
/// its own ([`Backing::Tree`]), with a page cache of `cache_bytes` for all
/// of them. It does the directory's work a store of its own does: waits a
/// moment for sled's lock, and first mends a sled snapshot a crash left
/// unfinished (see the `recovery` module).
///
/// # Errors
/// [`StoreError::Locked`] if another process holds the directory,
/// [`StoreError::Damaged`] if sled cannot read it, or an I/O failure.
pub fn open_shared_db(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    open_db_with_cache(dir, cache_bytes)
}

/// An entry to append: a body and the signatures on it.
#[derive(Debug, Clone)]
pub struct Submission {
    pub body: Body,
    pub signatures: Vec<EntrySignature>,
}

/// A durably committed entry.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub leaf_hash: Hash,
    /// The tree size after the batch it was committed in.
    pub size: u64,
}

struct Writer {
    state: LedgerState,
    frontier: Frontier,
}

/// One ledger's store, in its own data directory or a shared `Db`'s tree.
pub struct Store {
    /// Every record of the ledger (the table above).
    tree: sled::Tree,
    /// The `Db` the store opened in its own directory, held so that the
    /// directory stays locked and its flusher runs while the store lives;
    /// `None` in a caller's shared `Db`.
    _own_db: Option<sled::Db>,
    /// A shared `Db`'s tree of this ledger's attachments
    /// ([`Backing::Shared`]); `None` otherwise.
    shared_attachments: Option<sled::Tree>,
    writer: Mutex<Writer>,
    /// What readers see: the state and root after the last committed
    /// batch. The writer replaces it after each commit, so reads never wait
    /// for a batch in progress.
    published: RwLock<Published>,
    /// A copy of the tree's upper levels (see [`upper`]), brought up to the
    /// published size at each publish.
    upper: RwLock<UpperNodes>,
    faults: Faults,
    /// Each pending proposal's last signature check, so that listing
    /// proposals does not verify every signature again (see
    /// `proposals::SignatureChecks`).
    signature_checks: proposals::SignatureChecks,
}

/// The committed state as readers see it. Its size is also the size of the
/// latest checkpoint: every commit signs one of its new size.
#[derive(Clone)]
struct Published {
    state: Arc<LedgerState>,
    root: Hash,
}

impl Published {
    fn of(writer: &Writer) -> Published {
        Published {
            state: Arc::new(writer.state.clone()),
            root: writer.frontier.root(),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// How long opening waits for a data directory's lock. sled releases it
/// when its background I/O threads finish, a moment after the `Db` is
/// dropped, so a store closed and reopened in one process (a restore, a
/// rebuild, a test) can find it still held. Another process that holds it
/// is reported after this wait.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_db_with_cache(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        recovery::remove_unfinished_snapshots(dir).map_err(sled::Error::Io)?;
        let opened = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| StoreError::from_sled_open(dir, e));
        match opened {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

impl Store {
    /// Creates a new ledger in an empty directory from its signed genesis
    /// leaf, and signs the first checkpoint.
    ///
    /// # Errors
    /// If the directory already holds a ledger, or the genesis is invalid.
    pub fn create(
        dir: &Path,
        genesis_leaf: &[u8],
        log_signer: &NoteSigner,
    ) -> Result<Store, StoreError> {
        Self::create_with(dir, genesis_leaf, log_signer, &StoreOptions::default())
    }

    /// As [`Store::create`], in the caller's [`Backing`] (a directory, or
    /// a tree of a shared `Db`) with the caller's options.
    ///
    /// # Errors
    /// As [`Store::create`]: [`StoreError::AlreadyInitialized`] if the
    /// directory or tree already holds a ledger.
    ///
    /// # Panics
    /// Never for a caller's input: the genesis is decoded and applied by
    /// the core first, and refused with an error if it does not.
    pub fn create_with(
        backing: impl Into<Backing>,
        genesis_leaf: &[u8],
        log_signer: &NoteSigner,
        options: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let backing = backing.into();
        let (tree, own_db) = backing.open(options.cache_bytes)?;
        let shared_attachments = backing.shared_attachments()?;
        if tree.get(keys::STATE)?.is_some() {
            return Err(StoreError::AlreadyInitialized {
                dir: backing.name(),
            });
        }
        let (state, applied) = LedgerState::from_genesis(genesis_leaf)?;
        check_log_signer(&state, log_signer)?;
        let leaf = Leaf::decode(genesis_leaf).expect("from_genesis decoded it");
        // The copy holds the state after the genesis and an empty tree, which
        // staging the genesis leaf grows to one entry.
        let mut work = WorkingCopy::new(state, Frontier::new());
        work.stage_leaf(&tree, &leaf, genesis_leaf, &applied)?;
        work.writes.insert(keys::FORMAT, STORE_FORMAT.as_bytes());
        let faults = Faults::default();
        if let Backing::Directory(dir) = &backing {
            faults.watch_space(dir.clone());
        }
        let (state, frontier) = append::commit_to_db(&tree, &faults, work, Some(log_signer))?
            .expect("the genesis grows the tree");
        let writer = Writer { state, frontier };
        let store = Store {
            published: RwLock::new(Published::of(&writer)),
            upper: RwLock::new(UpperNodes::new(options.hold_upper_levels)),
            tree,
            _own_db: own_db,
            shared_attachments,
            writer: Mutex::new(writer),
            faults,
            signature_checks: Default::default(),
        };
        store.publish(&store.lock());
        Ok(store)
    }

    /// Opens an existing ledger and checks its head: the last leaf's hash,
    /// its chain link, the root, and the latest checkpoint's signature.
    ///
    /// # Errors
    /// [`StoreError::NotInitialized`], or [`StoreError::Damaged`] naming
    /// what does not agree.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, &StoreOptions::default())
    }

    /// As [`Store::open`], for one pass over the whole ledger (an audit):
    /// sled's page cache is [`SCAN_CACHE_BYTES`], and the tree's upper
    /// levels are not held in memory (see the `upper` module). Such a reader reads
    /// each key about once and gains nothing from either; proofs still
    /// work, from sled.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_for_scan(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, &StoreOptions::for_scan())
    }

    /// As [`Store::open`], in the caller's [`Backing`] (a directory, or a
    /// tree of a shared `Db`) with the caller's options. A tree is checked
    /// as a directory is: one that is empty, or holds records but no
    /// ledger, is [`StoreError::NotInitialized`], one of another layout
    /// [`StoreError::IncompatibleFormat`], a damaged one
    /// [`StoreError::Damaged`].
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(
        backing: impl Into<Backing>,
        options: &StoreOptions,
    ) -> Result<Store, StoreError> {
        let backing = backing.into();
        let (cache_bytes, hold_upper) = (options.cache_bytes, options.hold_upper_levels);
        if backing.is_bare() {
            return Err(StoreError::NotInitialized {
                dir: backing.name(),
            });
        }
        let (tree, own_db) = backing.open(cache_bytes)?;
        let shared_attachments = backing.shared_attachments()?;
        check_format(&tree)?;
        let Some(snapshot) = tree.get(keys::STATE)? else {
            return Err(StoreError::NotInitialized {
                dir: backing.name(),
            });
        };
        let snapshot: StateSnapshot = serde_json::from_slice(&snapshot)
            .map_err(|e| StoreError::damaged(format!("state snapshot does not parse: {e}")))?;
        let state = LedgerState::from_snapshot(snapshot)
            .map_err(|e| StoreError::damaged(format!("state snapshot is invalid: {e}")))?;
        let writer = Writer {
            state,
            frontier: Frontier::new(),
        };
        let store = Store {
            published: RwLock::new(Published::of(&writer)),
            upper: RwLock::new(UpperNodes::new(hold_upper)),
            tree,
            _own_db: own_db,
            shared_attachments,
            writer: Mutex::new(writer),
            faults: Faults::default(),
            signature_checks: Default::default(),
        };
        if let Backing::Directory(dir) = &backing {
            store.faults.watch_space(dir.clone());
        }
        let frontier = store.check_head()?;
        let mut w = store.lock();
        w.frontier = frontier;
        store.publish(&w);
        drop(w);
        Ok(store)
    }

    /// Makes the writer's committed state what readers see.
    fn publish(&self, writer: &Writer) {
        // First the nodes, so that no reader of the new size misses them
        // (it would read them from sled, which is slower, not wrong). They
        // are read from sled before the lock is taken: only the writer
        // changes this copy, and it is the writer that is here.
        let held = self
            .upper
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .held_counts();
        let new_nodes = upper::read_new_nodes(&self.tree, &held, writer.state.size());
        self.upper
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .append(new_nodes);
        let published = Published::of(writer);
        *self.published.write().unwrap_or_else(|p| p.into_inner()) = published;
    }

    fn published(&self) -> Published {
        self.published
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock leaves the in-memory state as it was
        // before the batch (batches work on a copy), so the guard is usable.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks that the head, the nodes and the latest checkpoint agree, and
    /// returns the frontier.
    fn check_head(&self) -> Result<Frontier, StoreError> {
        let w = self.lock();
        let size = w.state.size();
        if size == 0 {
            return Err(StoreError::damaged("the ledger has no genesis entry"));
        }
        let last = self.leaf_bytes(size - 1)?.ok_or_else(|| {
            StoreError::damaged(format!("leaf {} (the head) is missing", size - 1))
        })?;
        let last_hash = leaf_hash(&last);
        if last_hash != w.state.head() {
            return Err(StoreError::damaged(format!(
                "leaf {} hashes to {last_hash}, the recorded head is {}",
                size - 1,
                w.state.head()
            )));
        }
        let last_leaf = Leaf::decode(&last)
            .map_err(|e| StoreError::damaged(format!("leaf {} does not decode: {e}", size - 1)))?;
        if last_leaf.seq != size - 1 {
            return Err(StoreError::damaged(format!(
                "leaf {} claims seq {}",
                size - 1,
                last_leaf.seq
            )));
        }
        if size >= 2 {
            let before = self
                .leaf_bytes(size - 2)?
                .ok_or_else(|| StoreError::damaged(format!("leaf {} is missing", size - 2)))?;
            if leaf_hash(&before) != last_leaf.prev {
                return Err(StoreError::damaged(format!(
                    "leaf {} does not link to leaf {} (hash chain broken)",
                    size - 1,
                    size - 2
                )));
            }
        }
        let stored = StoredNodes(&self.tree);
        let node = stored.read_nodes(&[NodeId {
            level: 0,
            index: size - 1,
        }])?;
        if node[0] != last_hash {
            return Err(StoreError::damaged(format!(
                "Merkle leaf node {} does not match leaf {}",
                size - 1,
                size - 1
            )));
        }
        let peak_ids = merkle::peak_ids(size);
        let peaks = stored.read_nodes(&peak_ids)?;
        let frontier = Frontier::from_peaks(size, peaks)
            .map_err(|e| StoreError::damaged(format!("Merkle peaks: {e}")))?;
        let recorded = self
            .tree
            .get(keys::LATEST_CHECKPOINT)?
            .ok_or_else(|| StoreError::damaged("no latest checkpoint recorded"))?;
        let recorded = keys::decode_u64(&recorded)?;
        if recorded != size {
            return Err(StoreError::damaged(format!(
                "the latest checkpoint is recorded at size {recorded}, the tree has {size} entries"
            )));
        }
        let (checkpoint, _) = self.latest_checkpoint_parsed(&w.state)?;
        if checkpoint.size != size || checkpoint.root != frontier.root() {
            return Err(StoreError::damaged(format!(
                "the latest checkpoint (size {}, root {}) does not match the tree (size {size}, root {})",
                checkpoint.size,
                checkpoint.root,
                frontier.root()
            )));
        }
        Ok(frontier)
    }

    /// Lookups for a body against the published ledger: like the other
    /// reads, they see no entry beyond [`Store::size`], so that they agree
    /// with [`Store::state`] while a batch is being written.
    ///
    /// # Errors
    /// A storage failure, or a stored target leaf that does not decode.
    pub fn lookups(&self, body: &Body) -> Result<Lookups, StoreError> {
        let size = self.size();
        let needs = feeledger_core::state::body_needs(body);
        let mut lookups = self.lookups_with(&needs, &WriteSet::default())?;
        lookups.body_seen_at = lookups.body_seen_at.filter(|&seq| seq < size);
        if needs.target_seq.is_some_and(|seq| seq >= size) {
            lookups.target = None;
        }
        if let Some((_, reversed_by)) = &mut lookups.target {
            *reversed_by = reversed_by.filter(|&seq| seq < size);
        }
        Ok(lookups)
    }

    /// The state after the last committed batch (roles, rules, balances,
    /// head), shared: never waits for a batch in progress.
    pub fn state(&self) -> Arc<LedgerState> {
        self.published().state
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.published().state.size()
    }

    /// Root of the current tree.
    pub fn root(&self) -> Hash {
        self.published().root
    }

    /// Adds or replaces a cosignature on the checkpoint of `size`, and
    /// records `size` as the last one this cosigner signed. The caller has
    /// verified the cosignature and its consistency. Durable on return.
    ///
    /// # Errors
    /// If there is no checkpoint of that size.
    pub fn add_cosignature(
        &self,
        size: u64,
        signature: feeledger_core::note::NoteSignature,
    ) -> Result<Vec<u8>, StoreError> {
        let mut w = self.lock();
        let bytes = self
            .tree
            .get(keys::checkpoint(size))?
            .ok_or(StoreError::NoCheckpoint { size })?;
        let mut note = Note::parse(&bytes)
            .map_err(|e| StoreError::damaged(format!("checkpoint {size}: {e}")))?;
        note.signatures
            .retain(|s| !(s.name == signature.name && s.key_id == signature.key_id));
        let cosigner = signature.name.clone();
        // A note must stay readable: `Note::parse` refuses more lines.
        if note.signatures.len() >= feeledger_core::note::NOTE_SIGNATURES_MAX {
            return Err(StoreError::TooManyCosignatures {
                limit: feeledger_core::note::NOTE_SIGNATURES_MAX,
            });
        }
        note.signatures.push(signature);
        let out = note.to_bytes();
        let mut work = WorkingCopy::of(&w);
        work.writes.insert(keys::checkpoint(size), out.clone());
        work.writes
            .insert(keys::cosigned(&cosigner), size.to_be_bytes().to_vec());
        // The index moves in the same batch as the line it points at, so
        // a reader never finds it naming a checkpoint without cosignatures.
        if self
            .latest_cosigned_size()?
            .is_none_or(|latest| latest < size)
        {
            work.writes
                .insert(keys::LATEST_COSIGNED, size.to_be_bytes().to_vec());
        }
        self.commit_work(&mut w, work, None)?;
        Ok(out)
    }

    /// The size of the largest checkpoint that carries at least one
    /// cosignature line, or `None` if none does yet. Read from an index
    /// (`Q`) that [`Store::add_cosignature`] and a restore's kept
    /// checkpoint move in the same write as the line itself, so this is one
    /// read, not a scan of the checkpoints. A store written before the index
    /// existed has no `Q` until its next cosignature; for it, the answer is
    /// the largest size any cosigner last cosigned (`W`, one record per
    /// cosigner).
    ///
    /// # Errors
    /// A storage failure, or a stored size that is not 8 bytes.
    pub fn latest_cosigned_size(&self) -> Result<Option<u64>, StoreError> {
        if let Some(size) = self.tree.get(keys::LATEST_COSIGNED)? {
            return Ok(Some(keys::decode_u64(&size)?));
        }
        let mut largest = None;
        for item in self.tree.scan_prefix(keys::COSIGNED_PREFIX) {
            let size = keys::decode_u64(&item?.1)?;
            largest = largest.max(Some(size));
        }
        Ok(largest)
    }

    /// The latest cosigned checkpoint: the note of
    /// [`Store::latest_cosigned_size`], with its log signature and every
    /// cosignature line collected for it, or `None` if no checkpoint is
    /// cosigned yet.
    ///
    /// # Errors
    /// A storage failure; [`StoreError::Damaged`] if the index names a
    /// checkpoint the store does not hold.
    pub fn latest_cosigned_checkpoint(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let Some(size) = self.latest_cosigned_size()? else {
            return Ok(None);
        };
        let note = self.checkpoint(size)?.ok_or_else(|| {
            StoreError::damaged(format!(
                "the latest cosigned checkpoint is recorded at size {size}, which has no checkpoint"
            ))
        })?;
        Ok(Some((size, note)))
    }

    /// The size of the last checkpoint this cosigner cosigned here.
    ///
    /// # Errors
    /// A storage failure, or a stored size that is not 8 bytes.
    pub fn cosigned_size(&self, cosigner: &str) -> Result<Option<u64>, StoreError> {
        self.tree
            .get(keys::cosigned(cosigner))?
            .map(|v| keys::decode_u64(&v))
            .transpose()
    }

    /// Registers an independent witness's cosigner key (type 0x04), whose
    /// cosignatures the ledger then collects. Durable on return.
    ///
    /// # Errors
    /// [`WitnessError::NotACosignatureKey`] for a key of another type
    /// (nothing is written), or the store's failure to write it.
    pub fn add_witness(&self, key: &feeledger_core::note::VerifierKey) -> Result<(), WitnessError> {
        if key.alg() != feeledger_core::note::KeyAlg::CosignatureV1 {
            return Err(WitnessError::NotACosignatureKey {
                name: key.name().to_string(),
                alg: key.alg(),
            });
        }
        let mut w = self.lock();
        let mut work = WorkingCopy::of(&w);
        work.writes
            .insert(keys::witness(key.name()), key.to_string().as_bytes());
        Ok(self.commit_work(&mut w, work, None)?)
    }

    /// The registered witnesses' keys.
    ///
    /// # Errors
    /// A storage failure, or a stored key that does not parse (damage).
    pub fn witnesses(&self) -> Result<Vec<feeledger_core::note::VerifierKey>, StoreError> {
        self.tree
            .scan_prefix(keys::WITNESS_PREFIX)
            .map(|item| {
                let (_, value) = item?;
                let text = String::from_utf8_lossy(&value).into_owned();
                feeledger_core::note::VerifierKey::parse(&text)
                    .map_err(|e| StoreError::damaged(format!("witness key {text:?}: {e}")))
            })
            .collect()
    }

    /// Flushes everything to disk (in a shared `Db`, every ledger's writes:
    /// sled flushes a `Db` whole).
    ///
    /// # Errors
    /// If the flush fails.
    pub fn db_flush(&self) -> Result<(), StoreError> {
        self.tree.flush()?;
        Ok(())
    }

    /// Removes the data directory's lock by dropping the store, after a
    /// flush. In a shared `Db`'s tree, the flush is the whole `Db`'s and the
    /// `Db` stays open (it is the caller's).
    ///
    /// # Errors
    /// If the flush fails.
    pub fn close(self) -> Result<(), StoreError> {
        self.tree.flush()?;
        Ok(())
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The `Db` of the store's own directory (`None` in a shared `Db`'s
    /// tree), for the trees kept beside the ledger's (attachments).
    pub(crate) fn own_db(&self) -> Option<&sled::Db> {
        self._own_db.as_ref()
    }

    /// A shared `Db`'s tree of this ledger's attachments, if it lives in
    /// one as [`Backing::Shared`].
    pub(crate) fn shared_attachments(&self) -> Option<&sled::Tree> {
        self.shared_attachments.as_ref()
    }

    pub(crate) fn fault(&self, point: Fault) -> Result<(), StoreError> {
        self.faults.check(point)
    }

    /// Refuses writes while the filesystem holding `dir` has less than
    /// [`FREE_BYTES_FLOOR`] free ([`StoreError::InsufficientStorage`]). A
    /// store in its own directory checks that directory from the start; a
    /// store in a shared `Db`'s tree is told the `Db`'s directory here.
    pub fn watch_free_space(&self, dir: &Path) {
        self.faults.watch_space(dir.to_path_buf());
    }

    /// Arms a one-shot fault at `point`: the next write that reaches it
    /// fails as if the disk had failed there.
    #[cfg(feature = "faults")]
    pub fn inject_fault(&self, point: FaultPoint) {
        self.faults.arm(point);
    }
}

/// Refuses records of another layout than [`STORE_FORMAT`], so that they
/// are not misread.
fn check_format(tree: &sled::Tree) -> Result<(), StoreError> {
    match tree.get(keys::FORMAT)? {
        Some(found) if found == STORE_FORMAT.as_bytes() => Ok(()),
        Some(found) => Err(StoreError::IncompatibleFormat {
            found: String::from_utf8_lossy(&found).into_owned(),
        }),
        None if tree.get(keys::STATE)?.is_some() => Err(StoreError::IncompatibleFormat {
            found: "an earlier unversioned layout".into(),
        }),
        None => Ok(()),
    }
}

fn check_log_signer(state: &LedgerState, log_signer: &NoteSigner) -> Result<(), StoreError> {
    if log_signer.verifier_key() != *state.log_key() {
        return Err(StoreError::WrongLogKey);
    }
    Ok(())
}

/// Copies the ledger of the data directory `dir` (a store of its own, as
/// `feeledger init` makes it: its records and its attachments) into ledger
/// `ledger` of the shared `db` ([`Backing::Shared`]), record for record, and
/// flushes `db`. Whatever those trees held before is cleared first, so a
/// copy interrupted by a crash is simply made again. The copy is checked
/// as [`Store::open`] checks a store, by opening it; `dir` is left as it
/// was (its caller removes it once the copy opened). Returns the copy's
/// size in entries.
///
/// # Errors
/// [`StoreError::Locked`] if another process holds `dir`, then as
/// [`Store::open`] for the directory and for the copy.
///
/// # Panics
/// Never: a store opened in a directory always owns its `Db`.
pub fn copy_into_shared(dir: &Path, db: &sled::Db, ledger: &str) -> Result<u64, StoreError> {
    // The source is checked before anything is copied: a damaged one is
    // refused where it is.
    let source = Store::open_with(dir, &StoreOptions::for_scan())?;
    let source_db = source
        .own_db()
        .expect("a store opened in a directory owns its Db")
        .clone();
    let records = db.open_tree(shared_ledger_tree(ledger))?;
    let attachments = db.open_tree(shared_attachments_tree(ledger))?;
    records.clear()?;
    attachments.clear()?;
    copy_tree(source.tree(), &records)?;
    copy_tree(&source_db.open_tree(ATTACHMENTS_TREE)?, &attachments)?;
    db.flush()?;
    drop(source);
    drop(source_db);
    let copy = Store::open_with(
        Backing::Shared {
            db: db.clone(),
            ledger: ledger.to_string(),
        },
        &StoreOptions::for_scan(),
    )?;
    Ok(copy.size())
}

/// Every record of `from` into `to`, in batches of a bounded size.
fn copy_tree(from: &sled::Tree, to: &sled::Tree) -> Result<(), StoreError> {
    const BATCH_RECORDS: usize = 4_096;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
    for record in from.iter() {
        let (key, value) = record?;
        batch.insert(key, value);
        in_batch += 1;
        if in_batch == BATCH_RECORDS {
            to.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
    }
    to.apply_batch(batch)?;
    Ok(())
}

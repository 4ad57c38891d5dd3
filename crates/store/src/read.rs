//! Reads: leaves, filtered listings, proofs, checkpoints, totals.

use crate::{keys, Store, StoreError};
use feeledger_core::entry::{Content, Kind, Leaf, Month};
use feeledger_core::hash::Hash;
use feeledger_core::merkle;
use feeledger_core::note::{open_checkpoint, Checkpoint, Note};
use feeledger_core::state::{CategoryTotals, LedgerState};
use std::collections::BTreeMap;

/// Most entries one listing returns.
pub const LIST_LIMIT_MAX: usize = 500;

/// Most keys one listing examines before it returns what it has, so that a
/// filter that matches little cannot turn one request into a full scan.
pub const LIST_SCAN_MAX: usize = 20_000;

/// Filters for [`Store::list`]; all given ones must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    pub fund: Option<String>,
    pub category: Option<String>,
    /// Payer of an income or payee of an expenditure.
    pub party: Option<String>,
    pub month: Option<Month>,
    pub kind: Option<Kind>,
}

impl EntryFilter {
    pub fn matches(&self, leaf: &Leaf) -> bool {
        let (funds, category, party): (Vec<&str>, Option<&str>, Option<&str>) = match &leaf
            .body
            .content
        {
            Content::Income(i) => (vec![&i.fund], Some(i.category.as_str()), Some(&i.payer)),
            Content::Expenditure(e) => (vec![&e.fund], Some(e.category.as_str()), Some(&e.payee)),
            Content::Transfer(t) => (
                vec![&t.from_fund, &t.to_fund],
                Some(feeledger_core::state::TRANSFER_CATEGORY),
                None,
            ),
            _ => (vec![], None, None),
        };
        self.fund.as_deref().is_none_or(|f| funds.contains(&f))
            && self.category.as_deref().is_none_or(|c| category == Some(c))
            && self.party.as_deref().is_none_or(|p| party == Some(p))
            && self.month.is_none_or(|m| leaf.body.date.month() == m)
            && self.kind.is_none_or(|k| leaf.body.kind() == k)
    }

    /// The index to walk: the most selective filter given.
    fn index(&self) -> Option<(u8, String)> {
        if let Some(p) = &self.party {
            return Some((keys::IDX_PARTY, p.clone()));
        }
        if let Some(c) = &self.category {
            return Some((keys::IDX_CATEGORY, c.clone()));
        }
        if let Some(m) = &self.month {
            return Some((keys::IDX_MONTH, m.to_string()));
        }
        if let Some(f) = &self.fund {
            return Some((keys::IDX_FUND, f.clone()));
        }
        self.kind.map(|k| (keys::IDX_KIND, k.as_str().to_string()))
    }
}

/// Listing order by seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
}

/// A page of a listing. `next` is the seq to continue from, if there may be more.
#[derive(Debug, Clone)]
pub struct Page {
    pub entries: Vec<(u64, Vec<u8>)>,
    pub next: Option<u64>,
}

impl Store {
    /// The leaf bytes of entry `seq`, if it is in the published tree. A
    /// batch's leaves are in sled a moment before the batch is published,
    /// and are undone if its flush fails: readers must not see them before
    /// [`Store::size`] does.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn leaf_bytes(&self, seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if seq >= self.size() {
            return Ok(None);
        }
        Ok(self.tree().get(keys::leaf(seq))?.map(|v| v.to_vec()))
    }

    /// The bytes of the C2SP tile at `path` (a hash tile or an entry
    /// bundle), or `None` if the published tree does not hold it at that
    /// width. Assembled by the core's tile functions
    /// (`feeledger_core::tiles`), the one definition of a tile: the
    /// server's `/tile/` route and the mirror to object storage both read
    /// tiles here. A tile that exists at a size stays the same bytes at
    /// every later size, so a caller may read the tiles of a checkpoint
    /// older than the head.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`],
    /// including a leaf of the published tree that is missing.
    pub fn tile_bytes(
        &self,
        path: &feeledger_core::tiles::TilePath,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        use feeledger_core::tiles::{self, TileKind, TILE_WIDTH_MAX};
        if !path.exists_in(self.size()) {
            return Ok(None);
        }
        let width = path.width();
        match path.kind {
            TileKind::Hashes { level } => {
                let ids = merkle::tile_node_ids(level, path.index, width);
                let hashes = merkle::NodeReader::read_nodes(self, &ids)?;
                Ok(Some(tiles::hash_tile_bytes(&hashes)))
            }
            TileKind::Entries => {
                // exists_in held, so these cannot overflow.
                let first = path.index * TILE_WIDTH_MAX;
                let mut leaves = Vec::with_capacity(width as usize);
                for seq in first..first + width {
                    let leaf = self.leaf_bytes(seq)?.ok_or_else(|| {
                        StoreError::damaged(format!("entry {seq} of the published tree is missing"))
                    })?;
                    leaves.push(leaf);
                }
                let bundle =
                    tiles::entry_bundle_bytes(leaves.iter().map(Vec::as_slice)).map_err(|e| {
                        StoreError::damaged(format!("entry bundle {}: {e}", path.rel_path()))
                    })?;
                Ok(Some(bundle))
            }
        }
    }

    /// Leaves `from..` in order, for streaming audits. Stops at the first I/O
    /// error. Unlike the other reads it is not bounded by [`Store::size`]:
    /// an audit must see a leaf stored beyond the head to name it.
    pub fn iter_leaves(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.tree()
            .range(keys::leaf(from)..keys::leaf(u64::MAX))
            .map(|item| {
                let (key, value) = item?;
                Ok((keys::seq_suffix(&key)?, value.to_vec()))
            })
    }

    /// Entries matching `filter`, starting at seq `from` (inclusive; in
    /// descending order, at or below it), at most `limit` (capped at
    /// [`LIST_LIMIT_MAX`]).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`],
    /// or stored records that do not hold what their keys say (damage).
    pub fn list(
        &self,
        filter: &EntryFilter,
        order: Order,
        from: Option<u64>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let limit = limit.clamp(1, LIST_LIMIT_MAX);
        let size = self.size();
        let (lo, hi) = match order {
            Order::Ascending => (from.unwrap_or(0), size),
            Order::Descending => (0, from.map_or(size, |f| f.saturating_add(1).min(size))),
        };
        let seqs: Box<dyn Iterator<Item = Result<u64, StoreError>> + '_> = match filter.index() {
            Some((tag, value)) => {
                let bits = keys::POSTING_BUCKET_BITS;
                let (first, last) = (lo >> bits, hi >> bits);
                let range = keys::posting(tag, &value, first)..=keys::posting(tag, &value, last);
                let buckets = self.tree().range(range);
                let in_range = move |seq: &u64| *seq >= lo && *seq < hi;
                match order {
                    Order::Ascending => Box::new(buckets.flat_map(move |item| {
                        bucket_seqs(item)
                            .into_iter()
                            .filter(move |r| r.as_ref().map_or(true, in_range))
                    })),
                    Order::Descending => Box::new(buckets.rev().flat_map(move |item| {
                        bucket_seqs(item)
                            .into_iter()
                            .rev()
                            .filter(move |r| r.as_ref().map_or(true, in_range))
                    })),
                }
            }
            None => match order {
                Order::Ascending => Box::new((lo..hi).map(Ok)),
                Order::Descending => Box::new((lo..hi).rev().map(Ok)),
            },
        };
        let mut entries = Vec::new();
        let mut next = None;
        for (scanned, seq) in seqs.enumerate() {
            let seq = seq?;
            if entries.len() == limit || scanned == LIST_SCAN_MAX {
                next = Some(seq);
                break;
            }
            let bytes = self
                .leaf_bytes(seq)?
                .ok_or_else(|| StoreError::damaged(format!("leaf {seq} is missing")))?;
            let leaf = Leaf::decode(&bytes)
                .map_err(|e| StoreError::damaged(format!("leaf {seq}: {e}")))?;
            if filter.matches(&leaf) {
                entries.push((seq, bytes));
            }
        }
        Ok(Page { entries, next })
    }

    /// The seq of the reversal of `seq`, if it was reversed.
    /// (Only reversals in the published tree, as [`Store::leaf_bytes`].)
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn reversed_by(&self, seq: u64) -> Result<Option<u64>, StoreError> {
        self.published_seq(&keys::reversal(seq))
    }

    /// The seq of the entry with this body id, if any (in the published
    /// tree, as [`Store::leaf_bytes`]).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn seq_of_body(&self, body_id: &Hash) -> Result<Option<u64>, StoreError> {
        self.published_seq(&keys::body(body_id))
    }

    /// A seq stored under `key`, if it names an entry of the published tree.
    fn published_seq(&self, key: &[u8]) -> Result<Option<u64>, StoreError> {
        let seq = self
            .tree()
            .get(key)?
            .map(|v| keys::decode_u64(&v))
            .transpose()?;
        Ok(seq.filter(|&seq| seq < self.size()))
    }

    /// Inclusion proof of leaf `index` in the tree of `size` (≤ current size).
    ///
    /// # Errors
    /// [`StoreError::ProofRequest`] or [`StoreError::SizeBeyondLog`] for a
    /// proof the tree cannot have; a node that cannot be read is the store's
    /// own error (damage or I/O).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(size)?;
        merkle::inclusion_proof(index, size, self).map_err(proof_error)
    }

    /// Consistency proof between two sizes (≤ current size).
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, StoreError> {
        self.check_size(new_size)?;
        merkle::consistency_proof(old_size, new_size, self).map_err(proof_error)
    }

    /// Root of the tree of `size` (≤ current size).
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        self.check_size(size)?;
        merkle::tree_root(size, self).map_err(proof_error)
    }

    fn check_size(&self, size: u64) -> Result<(), StoreError> {
        let current = self.size();
        if size > current {
            return Err(StoreError::SizeBeyondLog { size, current });
        }
        Ok(())
    }

    /// The signed checkpoint note of `size`, with its cosignatures, if that
    /// size is within the published tree (as [`Store::leaf_bytes`]).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if size > self.size() {
            return Ok(None);
        }
        Ok(self.tree().get(keys::checkpoint(size))?.map(|v| v.to_vec()))
    }

    /// The latest signed checkpoint note as of the last published commit,
    /// with the cosignatures gathered for it so far. Its size never exceeds
    /// [`Store::size`], so every proof it calls for can be served.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    /// A missing latest checkpoint is [`StoreError::Damaged`].
    pub fn latest_checkpoint(&self) -> Result<Vec<u8>, StoreError> {
        // Every commit signs a checkpoint of its new size, and `open` refuses
        // a store whose latest checkpoint is of another size.
        let size = self.size();
        self.checkpoint(size)?.ok_or_else(|| {
            StoreError::damaged(format!("the latest checkpoint (size {size}) is missing"))
        })
    }

    /// The latest checkpoint, verified with the log key.
    pub(crate) fn latest_checkpoint_parsed(
        &self,
        state: &LedgerState,
    ) -> Result<(Checkpoint, Note), StoreError> {
        let bytes = self.latest_checkpoint()?;
        let (checkpoint, note, _) = open_checkpoint(&bytes, state.log_key(), &[]).map_err(|e| {
            StoreError::damaged(format!("the latest checkpoint does not verify: {e}"))
        })?;
        Ok((checkpoint, note))
    }

    /// Sizes that have a checkpoint, ascending from `from`, at most `limit`.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn checkpoint_sizes(&self, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        // Up to the published size, as `checkpoint` serves them.
        self.tree()
            .range(keys::checkpoint(from)..=keys::checkpoint(self.size()))
            .take(limit.min(LIST_LIMIT_MAX))
            .map(|item| keys::seq_suffix(&item?.0))
            .collect()
    }

    /// Income and spending of one month by (fund, category), net of reversals.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    /// Totals that do not parse are [`StoreError::Damaged`].
    pub fn month_totals(&self, month: Month) -> Result<CategoryTotals, StoreError> {
        let prefix = keys::totals_month_prefix(month);
        let mut out = BTreeMap::new();
        for item in self.tree().scan_prefix(&prefix) {
            let (key, value) = item?;
            let rest = &key[prefix.len()..];
            let mut parts = rest.split(|b| *b == 0);
            let (Some(fund), Some(category)) = (parts.next(), parts.next()) else {
                return Err(StoreError::damaged("a totals key is malformed"));
            };
            let totals: (i128, i128) = serde_json::from_slice(&value)
                .map_err(|e| StoreError::damaged(format!("totals: {e}")))?;
            out.insert(
                (
                    String::from_utf8_lossy(fund).into_owned(),
                    String::from_utf8_lossy(category).into_owned(),
                ),
                totals,
            );
        }
        Ok(out)
    }

    /// Income and spending of the whole ledger by (fund, category), net of
    /// reversals: the all-time records (`A`), kept beside the month totals
    /// in every batch, so this reads one key per fund and category however
    /// many months the ledger spans.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    /// Totals that do not parse are [`StoreError::Damaged`].
    pub fn all_time_totals(&self) -> Result<CategoryTotals, StoreError> {
        let mut out = BTreeMap::new();
        for item in self.tree().scan_prefix(keys::ALL_TIME_TOTALS_PREFIX) {
            let (key, value) = item?;
            let (fund, category) = split_fund_category(&key[1..])?;
            let totals: (i128, i128) = serde_json::from_slice(&value)
                .map_err(|e| StoreError::damaged(format!("all-time totals: {e}")))?;
            out.insert((fund, category), totals);
        }
        Ok(out)
    }

    /// The first month that has totals, if any: one key read.
    ///
    /// # Errors
    /// A storage failure, or a totals key whose month does not parse.
    pub fn first_month(&self) -> Result<Option<Month>, StoreError> {
        match self.tree().scan_prefix(keys::TOTALS_PREFIX).next() {
            Some(item) => Ok(Some(month_of_totals_key(&item?.0)?)),
            None => Ok(None),
        }
    }

    /// The months that have totals, before `before` (all if `None`), the
    /// latest `limit` of them, descending. It reads only those months'
    /// keys (one per fund and category), not the months before them, so a
    /// summary of the latest months costs the same at any ledger age.
    ///
    /// # Errors
    /// A storage failure, or a totals key whose month does not parse.
    pub fn months_before(
        &self,
        before: Option<Month>,
        limit: usize,
    ) -> Result<Vec<Month>, StoreError> {
        let end = match before {
            Some(m) => keys::totals_month_prefix(m),
            None => vec![keys::TOTALS_PREFIX[0] + 1],
        };
        let mut months: Vec<Month> = Vec::new();
        for item in self.tree().range(keys::TOTALS_PREFIX.to_vec()..end).rev() {
            let month = month_of_totals_key(&item?.0)?;
            if months.last() != Some(&month) {
                if months.len() == limit {
                    break;
                }
                months.push(month);
            }
        }
        Ok(months)
    }

    /// Every month that has totals, ascending.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn months(&self) -> Result<Vec<Month>, StoreError> {
        let mut months: Vec<Month> = Vec::new();
        for item in self.tree().scan_prefix(keys::TOTALS_PREFIX) {
            let (key, _) = item?;
            let month = month_of_totals_key(&key)?;
            if months.last() != Some(&month) {
                months.push(month);
            }
        }
        Ok(months)
    }
}

/// The month of a `T` key.
fn month_of_totals_key(key: &[u8]) -> Result<Month, StoreError> {
    let text = std::str::from_utf8(key.get(1..8).unwrap_or_default()).unwrap_or_default();
    Month::parse(text).ok_or_else(|| StoreError::damaged("a totals key has a bad month"))
}

/// The fund and category of a totals key, after its prefix (and month).
pub(crate) fn split_fund_category(rest: &[u8]) -> Result<(String, String), StoreError> {
    let mut parts = rest.split(|b| *b == 0);
    let (Some(fund), Some(category), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(StoreError::damaged("a totals key is malformed"));
    };
    Ok((
        String::from_utf8_lossy(fund).into_owned(),
        String::from_utf8_lossy(category).into_owned(),
    ))
}

/// A proof that could not be built: an impossible request is the caller's
/// ([`StoreError::ProofRequest`]); a node that could not be read is the
/// store's own error (damage or I/O), not the request's.
fn proof_error(e: merkle::ProofBuildError<StoreError>) -> StoreError {
    match e {
        merkle::ProofBuildError::Request(request) => StoreError::ProofRequest(request),
        merkle::ProofBuildError::Read(store) => store,
        wrong @ merkle::ProofBuildError::WrongNodeCount { .. } => {
            StoreError::damaged(wrong.to_string())
        }
    }
}

/// The seqs of one posting bucket, or the error reading it.
fn bucket_seqs(item: sled::Result<(sled::IVec, sled::IVec)>) -> Vec<Result<u64, StoreError>> {
    match item
        .map_err(StoreError::from)
        .and_then(|(_, v)| keys::posting_seqs(&v))
    {
        Ok(seqs) => seqs.into_iter().map(Ok).collect(),
        Err(e) => vec![Err(e)],
    }
}

// ------------------------------------------------------------ unchecked reads
//
// The stored records as they are, without the checks of `Store::open`: for
// rebuilding a store that `open` refuses.

impl Store {
    /// The (index, value) pairs entry `leaf` is listed under, e.g.
    /// `("fund", "operating")`: what the index buckets hold for it.
    pub fn index_values_of(leaf: &Leaf) -> Vec<(&'static str, String)> {
        crate::index_values(leaf)
            .into_iter()
            .map(|(tag, value)| (crate::derived::index_name(tag), value))
            .collect()
    }

    /// Opens the store in `backing` (a directory, or a tree of a shared
    /// `Db`) for reading its records as they are, without the checks of
    /// [`Store::open`]: to rebuild a store that `open` refuses. A data
    /// directory is locked while the reader lives.
    ///
    /// # Errors
    /// [`StoreError::NotInitialized`] if `backing` holds nothing,
    /// [`StoreError::Locked`] if the directory is in use.
    pub fn open_unchecked(
        backing: impl Into<crate::Backing>,
    ) -> Result<UncheckedStore, StoreError> {
        let backing = backing.into();
        if backing.is_bare() {
            return Err(StoreError::NotInitialized {
                dir: backing.name(),
            });
        }
        let (tree, own_db) = backing.open(crate::CACHE_BYTES)?;
        Ok(UncheckedStore {
            tree,
            _own_db: own_db,
        })
    }
}

/// A store's records read as they are (see [`Store::open_unchecked`]). It
/// only reads.
pub struct UncheckedStore {
    tree: sled::Tree,
    /// Holds a data directory's lock while the reader lives.
    _own_db: Option<sled::Db>,
}

impl UncheckedStore {
    /// Every stored leaf, in seq order: (seq, leaf bytes).
    pub fn leaves(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.tree.scan_prefix(b"L").map(|item| {
            let (key, value) = item?;
            if key.len() != 9 {
                return Err(StoreError::damaged("a leaf key is malformed"));
            }
            Ok((keys::seq_suffix(&key)?, value.to_vec()))
        })
    }

    /// The tree's record of each leaf's hash, read in seq order (see
    /// [`RecordedLeafHashes`]).
    pub fn recorded_leaf_hashes(&self) -> RecordedLeafHashes<'_> {
        RecordedLeafHashes {
            tree: &self.tree,
            tile: None,
        }
    }

    /// Every stored checkpoint note, ascending by size: (size, note bytes).
    pub fn checkpoints(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.tree.scan_prefix(b"C").map(|item| {
            let (key, value) = item?;
            Ok((keys::seq_suffix(&key)?, value.to_vec()))
        })
    }

    /// The recorded size of the latest checkpoint, if any.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    /// A stored size that is not 8 bytes is [`StoreError::Damaged`].
    pub fn latest_checkpoint_size(&self) -> Result<Option<u64>, StoreError> {
        self.tree
            .get(keys::LATEST_CHECKPOINT)?
            .map(|v| keys::decode_u64(&v))
            .transpose()
    }

    /// The registered witnesses' verifier keys, as stored (text).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn witnesses(&self) -> Result<Vec<String>, StoreError> {
        self.tree
            .scan_prefix(keys::WITNESS_PREFIX)
            .map(|item| Ok(String::from_utf8_lossy(&item?.1).into_owned()))
            .collect()
    }

    /// The pending proposals, as stored (JSON of [`crate::Proposal`]).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn proposals(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.tree
            .scan_prefix(keys::PROPOSAL_PREFIX)
            .map(|item| Ok(item?.1.to_vec()))
            .collect()
    }

    /// The state snapshot, as stored (JSON).
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn state_snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(keys::STATE)?.map(|v| v.to_vec()))
    }
}

/// The Merkle tree's record of leaf hashes (its level-0 nodes), one of the
/// three records a rebuild compares (the leaf's bytes, this, and the next
/// entry's link). Read in seq order, it reads each node tile once.
pub struct RecordedLeafHashes<'a> {
    tree: &'a sled::Tree,
    /// The node tile last read: (tile index, its bytes if stored).
    tile: Option<(u64, Option<Vec<u8>>)>,
}

impl RecordedLeafHashes<'_> {
    /// The recorded hash of leaf `seq`; `None` if its tile is missing or
    /// too short to hold it.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn get(&mut self, seq: u64) -> Result<Option<Hash>, StoreError> {
        let (level, tile, position) = keys::node_place(merkle::NodeId {
            level: 0,
            index: seq,
        });
        if !matches!(&self.tile, Some((t, _)) if *t == tile) {
            let blob = crate::nodes::read_tile(self.tree, level, tile)?.map(|v| v.to_vec());
            self.tile = Some((tile, blob));
        }
        Ok(self
            .tile
            .as_ref()
            .and_then(|(_, blob)| blob.as_ref())
            .and_then(|b| b.get(32 * position..32 * position + 32))
            .and_then(Hash::from_slice))
    }
}

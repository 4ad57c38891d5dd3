//! Typed readers of the keys the store derives from the leaves (node
//! tiles, index buckets, body ids, reversal links, totals), for the deep
//! audit, which compares each with what the leaves give. They read sled as
//! it is, without the checks of [`Store::open`], and hand back what each
//! key means, never its shape: the layout (tile width, bucket size, key
//! prefixes) is known only in `keys.rs`.

use crate::{keys, Store, StoreError};
use feeledger_core::hash::Hash;
use feeledger_core::merkle::NodeId;
use std::collections::HashMap;

/// The index bucket an entry's postings go in: the audit groups the
/// postings the leaves give the same way, so it can compare a bucket as
/// soon as entries have moved past it.
pub fn posting_bucket(seq: u64) -> u64 {
    seq >> keys::POSTING_BUCKET_BITS
}

/// How the audit names the node tile that holds node `id`, e.g. `Merkle
/// node tile level 0 index 3`.
pub fn node_tile_name(id: NodeId) -> String {
    let (level, tile, _) = keys::node_place(id);
    tile_name(level, tile)
}

fn tile_name(level: u8, tile: u64) -> String {
    format!("Merkle node tile level {level} index {tile}")
}

/// A stored value that should be one seq (u64 BE) and is not: it holds
/// `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotASeq {
    pub bytes: usize,
}

/// A stored seq: the seq, or what is wrong with the record.
pub type StoredSeq = Result<u64, NotASeq>;

fn stored_seq(raw: &[u8]) -> StoredSeq {
    <[u8; 8]>::try_from(raw)
        .map(u64::from_be_bytes)
        .map_err(|_| NotASeq { bytes: raw.len() })
}

/// What is wrong with a node tile, or why it could not be read. The
/// messages are the audit's.
#[derive(Debug, thiserror::Error)]
pub enum NodeTileFault {
    #[error("{} is missing (it should hold node {node})", tile_name(*.level, *.tile))]
    Missing { level: u8, tile: u64, node: u64 },
    #[error("{} is truncated: {bytes} bytes, not a whole number of 32-byte hashes", tile_name(*.level, *.tile))]
    NotWholeHashes { level: u8, tile: u64, bytes: usize },
    #[error("{} is truncated: it holds {hashes} hashes, node {node} is missing", tile_name(*.level, *.tile))]
    Short {
        level: u8,
        tile: u64,
        hashes: usize,
        node: u64,
    },
    #[error("{} holds {bytes} bytes; a tree of {size} entries has {expected} hashes there", tile_name(*.level, *.tile))]
    WrongSize {
        level: u8,
        tile: u64,
        bytes: usize,
        size: u64,
        expected: u64,
    },
    #[error("{} differs at node {} (the hash of entries {first}..={last})", node_tile_name(*.id), .id.index)]
    Differs { id: NodeId, first: u64, last: u64 },
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store's node tiles as of a tree of `size` entries, one kept per
/// level while a replay moves through them: on each level, nodes complete
/// in index order, so each tile is read once. A tile longer than the tree
/// has there is named when it is read. See [`Store::node_tiles`].
pub struct NodeTiles<'a> {
    store: &'a Store,
    size: u64,
    /// level → (tile index, its bytes if stored).
    current: HashMap<u8, (u64, Option<Vec<u8>>)>,
}

impl NodeTiles<'_> {
    fn tile(&mut self, level: u8, tile: u64) -> Result<Option<&[u8]>, NodeTileFault> {
        if !matches!(self.current.get(&level), Some((t, _)) if *t == tile) {
            let blob = crate::nodes::read_tile(self.store.tree(), level, tile)?.map(|v| v.to_vec());
            if let Some(blob) = &blob {
                // Too short, or not whole hashes, is named by `stored`
                // at the first node missing.
                check_tile_size(level, tile, blob, self.size, |expected, held| {
                    held > 32 * expected
                })?;
            }
            self.current.insert(level, (tile, blob));
        }
        Ok(self.current[&level].1.as_deref())
    }

    /// The stored hash of node `id`, or what is wrong with its tile.
    ///
    /// # Errors
    /// The [`NodeTileFault`]: the tile is missing, too short, or cannot be read.
    pub fn stored(&mut self, id: NodeId) -> Result<Hash, NodeTileFault> {
        let (level, tile, position) = keys::node_place(id);
        let Some(blob) = self.tile(level, tile)? else {
            return Err(NodeTileFault::Missing {
                level,
                tile,
                node: id.index,
            });
        };
        if blob.len() % 32 != 0 {
            return Err(NodeTileFault::NotWholeHashes {
                level,
                tile,
                bytes: blob.len(),
            });
        }
        blob.get(32 * position..32 * position + 32)
            .and_then(Hash::from_slice)
            .ok_or(NodeTileFault::Short {
                level,
                tile,
                hashes: blob.len() / 32,
                node: id.index,
            })
    }

    /// Compares node `id`, as recomputed from the leaves, with the store's.
    ///
    /// # Errors
    /// The [`NodeTileFault`] naming the tile: the stored hash differs, or the
    /// tile is missing, too short, or cannot be read.
    pub fn check(&mut self, id: NodeId, hash: Hash) -> Result<(), NodeTileFault> {
        if self.stored(id)? != hash {
            return Err(NodeTileFault::Differs {
                id,
                first: id.first_leaf().unwrap_or(u64::MAX),
                last: id.end_leaf().map_or(u64::MAX, |e| e - 1),
            });
        }
        Ok(())
    }
}

/// Names tile `tile` of `level` if `wrong(the hashes a tree of `size`
/// entries has there, the bytes the tile holds)`.
fn check_tile_size(
    level: u8,
    tile: u64,
    blob: &[u8],
    size: u64,
    wrong: impl Fn(u64, u64) -> bool,
) -> Result<(), NodeTileFault> {
    let at_level = size.checked_shr(u32::from(level)).unwrap_or(0);
    let expected = at_level
        .saturating_sub(tile.saturating_mul(keys::NODE_TILE_WIDTH))
        .min(keys::NODE_TILE_WIDTH);
    if wrong(expected, blob.len() as u64) {
        return Err(NodeTileFault::WrongSize {
            level,
            tile,
            bytes: blob.len(),
            size,
            expected,
        });
    }
    Ok(())
}

/// One stored index bucket: the entries listed under `index`=`value`
/// whose seqs fall in bucket `bucket` (see [`posting_bucket`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexBucket {
    /// The index, as [`Store::index_values_of`] names it.
    pub index: &'static str,
    pub value: String,
    pub bucket: u64,
    /// The seqs as stored, or the length of a value that is not a whole
    /// number of seqs.
    pub seqs: Result<Vec<u64>, NotWholeSeqs>,
}

/// An index bucket's value that is not a whole number of seqs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotWholeSeqs {
    pub bytes: usize,
}

fn bucket_seqs(raw: &[u8]) -> Result<Vec<u64>, NotWholeSeqs> {
    keys::posting_seqs(raw).map_err(|_| NotWholeSeqs { bytes: raw.len() })
}

/// The name of an index tag, as [`Store::index_values_of`] gives it.
pub(crate) fn index_name(tag: u8) -> &'static str {
    match tag {
        keys::IDX_FUND => "fund",
        keys::IDX_CATEGORY => "category",
        keys::IDX_PARTY => "party",
        keys::IDX_MONTH => "month",
        keys::IDX_KIND => "kind",
        _ => "unknown",
    }
}

/// A stored totals value that is not the JSON `[income_fen, spending_fen]`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TotalsUnparsable(#[from] serde_json::Error);

/// One stored totals record: a month's income and spending of one fund and
/// category, in fen.
#[derive(Debug)]
pub struct StoredTotals {
    /// The month as the key names it (not parsed: a damaged key is shown
    /// as it is).
    pub month: String,
    pub fund: String,
    pub category: String,
    /// (income fen, spending fen), or why the value does not parse.
    pub fen: Result<(i128, i128), TotalsUnparsable>,
}

impl Store {
    /// The node tiles of a tree of `size` entries, read as a replay reaches
    /// them (see [`NodeTiles`]).
    pub fn node_tiles(&self, size: u64) -> NodeTiles<'_> {
        NodeTiles {
            store: self,
            size,
            current: HashMap::new(),
        }
    }

    /// Checks that no node tile lies beyond the tree of `size` entries.
    /// A replay through [`Store::node_tiles`] read every tile the tree has
    /// (and named one too long or too short there), so only the keys after
    /// each level's last tile are read, not every tile again, which raised
    /// the audit's peak memory (docs/performance.md, "What bounds each
    /// figure", **Audit**).
    ///
    /// # Errors
    /// [`NodeTileFault::WrongSize`] naming the first such tile.
    pub fn check_no_node_tiles_beyond(&self, size: u64) -> Result<(), NodeTileFault> {
        for level in 0..=u8::MAX {
            let nodes = size.checked_shr(u32::from(level)).unwrap_or(0);
            let tiles_in_tree = nodes.div_ceil(keys::NODE_TILE_WIDTH);
            let start = keys::node_tile(level, tiles_in_tree);
            let end = match level.checked_add(1) {
                Some(next) => keys::node_tile(next, 0),
                None => vec![b'N' + 1],
            };
            // The runs of tiles still filling: the same range under their
            // own prefix.
            let mut run_start = start.clone();
            run_start[0] = keys::NODE_TILE_RUN_PREFIX;
            let run_end = match level.checked_add(1) {
                Some(next) => keys::node_tile_run(next, 0, 0),
                None => vec![keys::NODE_TILE_RUN_PREFIX + 1],
            };
            let tiles = self.tree().range(start..end);
            let runs = self.tree().range(run_start..run_end);
            for item in tiles.chain(runs) {
                let (key, value) = item.map_err(StoreError::from)?;
                if key.len() != keys::NODE_TILE_KEY_BYTES
                    && key.len() != keys::NODE_TILE_RUN_KEY_BYTES
                {
                    return Err(StoreError::damaged(format!(
                        "a node tile key is malformed ({} bytes)",
                        key.len()
                    ))
                    .into());
                }
                let tile = keys::decode_u64(&key[2..keys::NODE_TILE_KEY_BYTES])?;
                check_tile_size(key[1], tile, &value, size, |expected, held| {
                    held != 32 * expected
                })?;
            }
        }
        Ok(())
    }

    /// One stored index bucket, by index name (as
    /// [`Store::index_values_of`] gives it), value and bucket; `None` if it
    /// is not stored or the index does not exist.
    ///
    /// # Errors
    /// A storage failure (sled I/O, or damage sled found) as [`StoreError`].
    pub fn index_bucket(
        &self,
        index: &str,
        value: &str,
        bucket: u64,
    ) -> Result<Option<IndexBucket>, StoreError> {
        let tag = [
            keys::IDX_FUND,
            keys::IDX_CATEGORY,
            keys::IDX_PARTY,
            keys::IDX_MONTH,
            keys::IDX_KIND,
        ]
        .into_iter()
        .find(|t| index_name(*t) == index);
        let Some(tag) = tag else {
            return Ok(None);
        };
        Ok(self
            .tree()
            .get(keys::posting(tag, value, bucket))?
            .map(|raw| IndexBucket {
                index: index_name(tag),
                value: value.to_string(),
                bucket,
                seqs: bucket_seqs(&raw),
            }))
    }

    /// Every stored index bucket, in key order (streamed).
    pub fn index_buckets(&self) -> impl Iterator<Item = Result<IndexBucket, StoreError>> + '_ {
        self.tree().scan_prefix(b"X").map(|item| {
            let (key, raw) = item?;
            let malformed = || StoreError::damaged("an index key is malformed");
            if key.len() < 2 + 1 + 8 || key[key.len() - 9] != 0 {
                return Err(malformed());
            }
            let text = std::str::from_utf8(&key[2..key.len() - 9]).map_err(|_| malformed())?;
            Ok(IndexBucket {
                index: index_name(key[1]),
                value: text.to_string(),
                bucket: keys::seq_suffix(&key)?,
                seqs: bucket_seqs(&raw),
            })
        })
    }

    /// Every stored totals record, in key order (streamed).
    pub fn stored_totals(&self) -> impl Iterator<Item = Result<StoredTotals, StoreError>> + '_ {
        self.tree().scan_prefix(keys::TOTALS_PREFIX).map(|item| {
            let (key, value) = item?;
            let mut parts = key[1..].split(|b| *b == 0);
            let (Some(month), Some(fund), Some(category), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(StoreError::damaged("a totals key is malformed"));
            };
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            Ok(StoredTotals {
                month: text(month),
                fund: text(fund),
                category: text(category),
                fen: serde_json::from_slice(&value).map_err(TotalsUnparsable),
            })
        })
    }

    /// The body id index, in id order (streamed): (body id, the seq it
    /// records).
    pub fn body_index(&self) -> impl Iterator<Item = Result<(Hash, StoredSeq), StoreError>> + '_ {
        self.tree().scan_prefix(b"B").map(|item| {
            let (key, value) = item?;
            let id = Hash::from_slice(&key[1..])
                .ok_or_else(|| StoreError::damaged("a body id key is malformed"))?;
            Ok((id, stored_seq(&value)))
        })
    }

    /// Every reversal link, by target seq (streamed): (target seq, the seq
    /// of the reversal it records).
    pub fn reversal_links(
        &self,
    ) -> impl Iterator<Item = Result<(u64, StoredSeq), StoreError>> + '_ {
        self.tree().scan_prefix(b"R").map(|item| {
            let (key, value) = item?;
            Ok((keys::seq_suffix(&key)?, stored_seq(&value)))
        })
    }
}

impl Store {
    /// Every stored all-time totals record (`A`), in key order (streamed),
    /// for the deep audit: each must equal the sum of its fund's and
    /// category's month totals. Shown with `month` `"all"`.
    pub fn stored_all_time_totals(
        &self,
    ) -> impl Iterator<Item = Result<StoredTotals, StoreError>> + '_ {
        self.tree()
            .scan_prefix(keys::ALL_TIME_TOTALS_PREFIX)
            .map(|item| {
                let (key, value) = item?;
                let (fund, category) = crate::read::split_fund_category(&key[1..])?;
                Ok(StoredTotals {
                    month: "all".into(),
                    fund,
                    category,
                    fen: serde_json::from_slice(&value).map_err(TotalsUnparsable),
                })
            })
    }
}

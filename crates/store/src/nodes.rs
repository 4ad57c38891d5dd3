//! Reading Merkle nodes from the store's node tiles, for proofs, roots
//! and the head check at open.
//!
//! [`Store`]'s [`NodeReader`] takes the upper levels from memory (the
//! `upper` module) and computes the lower ones from one level-0 tile;
//! [`StoredNodes`] reads every node from its own level's tile, so that
//! `Store::open` names damage to a tile as such.

use crate::{keys, upper, Store, StoreError};
use feeledger_core::hash::Hash;
use feeledger_core::merkle::{NodeId, NodeReader};
use std::collections::HashMap;

impl NodeReader for Store {
    type Error = StoreError;

    /// Takes the upper levels from memory (see the `upper` module). A node
    /// of a lower level is computed from the leaf hashes under it, which one
    /// level-0 tile holds: at most 2^3 leaves and 7 hashes for level 3, so
    /// that an inclusion proof reads the tile of its leaf, and that of the
    /// tree's last leaves when the size is not a multiple of 16, not one
    /// tile per level. Any other node is read from its own tile. Each tile
    /// is read once, and none while the in-memory levels are locked.
    fn read_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        let sources: Vec<NodeSource> = {
            let upper = self.upper.read().unwrap_or_else(|p| p.into_inner());
            ids.iter()
                .map(|&id| match upper.get(id) {
                    Some(hash) => NodeSource::Held(hash),
                    None if id.level < upper::MEMORY_LEVEL_MIN => NodeSource::LeafTile,
                    None => NodeSource::OwnTile,
                })
                .collect()
        };
        read_tiled_nodes(&self.tree, ids, |i| sources[i])
    }
}

/// The nodes as their own tiles record them, each read from the tile of
/// its level: what [`Store::open`] checks the head and the checkpoint
/// against, so that damage to a tile is named as such.
pub(crate) struct StoredNodes<'a>(pub(crate) &'a sled::Tree);

impl NodeReader for StoredNodes<'_> {
    type Error = StoreError;

    fn read_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, StoreError> {
        read_tiled_nodes(self.0, ids, |_| NodeSource::OwnTile)
    }
}

/// Where [`read_tiled_nodes`] takes a node from.
#[derive(Clone, Copy)]
enum NodeSource {
    /// Already known: the in-memory upper levels.
    Held(Hash),
    /// Computed from the leaf hashes under it, in one level-0 tile.
    LeafTile,
    /// Read from the node tile of its own level.
    OwnTile,
}

/// Reads `ids` from node tiles, each tile once, taking the `i`th node from
/// where `source(i)` says.
fn read_tiled_nodes(
    tree: &sled::Tree,
    ids: &[NodeId],
    source: impl Fn(usize) -> NodeSource,
) -> Result<Vec<Hash>, StoreError> {
    let mut tiles: HashMap<(u8, u64), sled::IVec> = HashMap::new();
    let mut out = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        let (tile_level, leaves) = match source(i) {
            NodeSource::Held(hash) => {
                out.push(hash);
                continue;
            }
            // A level-0 tile holds 256 leaves; a node below level 8 is
            // aligned, so all of its leaves are in one tile.
            NodeSource::LeafTile => (0, 1u64 << id.level),
            NodeSource::OwnTile => (id.level, 1),
        };
        let first = id
            .index
            .checked_mul(leaves)
            .ok_or_else(|| missing_node(id))?;
        let (tile, position) = (
            first / keys::NODE_TILE_WIDTH,
            (first % keys::NODE_TILE_WIDTH) as usize,
        );
        let blob = match tiles.get(&(tile_level, tile)) {
            Some(blob) => blob,
            None => {
                let blob = read_tile(tree, tile_level, tile)?.unwrap_or_default();
                tiles.entry((tile_level, tile)).or_insert(blob)
            }
        };
        let hashes = blob
            .get(32 * position..32 * (position + leaves as usize))
            .ok_or_else(|| missing_node(id))?;
        out.push(subtree_root(hashes));
    }
    Ok(out)
}

/// A stored node tile and where its hashes are kept.
pub(crate) struct StoredTile {
    /// The tile's hashes, 32 bytes each, from its first on.
    pub(crate) bytes: sled::IVec,
    /// The keys of its runs (`keys::node_tile_run`), if it is still in
    /// runs; empty when the tile is one key.
    pub(crate) run_keys: Vec<sled::IVec>,
}

/// Node tile `tile` of `level` as stored: its hashes from the first on, or
/// `None` if nothing of it is stored. A full tile is one key and one read;
/// a tile still filling is its key and the runs after it (see
/// `keys::node_tile_run`), which must follow one another without a gap.
///
/// # Errors
/// A storage failure, or runs that do not follow one another (damage).
pub(crate) fn read_tile(
    tree: &sled::Tree,
    level: u8,
    tile: u64,
) -> Result<Option<sled::IVec>, StoreError> {
    Ok(read_stored_tile(tree, level, tile)?.map(|t| t.bytes))
}

/// [`read_tile`], with the keys of the tile's runs.
pub(crate) fn read_stored_tile(
    tree: &sled::Tree,
    level: u8,
    tile: u64,
) -> Result<Option<StoredTile>, StoreError> {
    let key = keys::node_tile(level, tile);
    let full_bytes = 32 * keys::NODE_TILE_WIDTH as usize;
    // The common case, a full tile, takes one point read.
    let head = tree.get(&key)?;
    if let Some(head) = &head {
        if head.len() >= full_bytes {
            return Ok(Some(StoredTile {
                bytes: head.clone(),
                run_keys: Vec::new(),
            }));
        }
    }
    let assembled = join_runs(tree, level, tile, head);
    match assembled {
        Ok(Some(t)) if t.bytes.len() >= full_bytes => Ok(Some(t)),
        // Readers do not take the writer's lock, and the head and the runs
        // are more than one read: a batch that filled the tile meanwhile
        // wrote it whole and removed the runs, perhaps after the head was
        // read and before the runs were. Such a tile is whole now.
        assembled => match tree.get(&key)? {
            Some(head) if head.len() >= full_bytes => Ok(Some(StoredTile {
                bytes: head,
                run_keys: Vec::new(),
            })),
            _ => assembled,
        },
    }
}

/// The tile's `head` key joined with the runs after it.
fn join_runs(
    tree: &sled::Tree,
    level: u8,
    tile: u64,
    head: Option<sled::IVec>,
) -> Result<Option<StoredTile>, StoreError> {
    let mut runs = tree
        .range(keys::node_tile_run(level, tile, 0)..=keys::node_tile_run(level, tile, u16::MAX))
        .peekable();
    if runs.peek().is_none() {
        return Ok(head.map(|bytes| StoredTile {
            bytes,
            run_keys: Vec::new(),
        }));
    }
    let mut bytes = head.map(|h| h.to_vec()).unwrap_or_default();
    let mut run_keys = Vec::new();
    for run in runs {
        let (run_key, value) = run?;
        let start = run_key
            .get(keys::NODE_TILE_KEY_BYTES..)
            .and_then(|s| <[u8; 2]>::try_from(s).ok())
            .map(u16::from_be_bytes)
            .ok_or_else(|| StoreError::damaged("a node tile run key is malformed"))?;
        if bytes.len() != 32 * usize::from(start) {
            return Err(StoreError::damaged(format!(
                "node tile level {level} index {tile}: a run starts at hash {start}, after {} bytes",
                bytes.len()
            )));
        }
        bytes.extend_from_slice(&value);
        run_keys.push(run_key);
    }
    Ok(Some(StoredTile {
        bytes: bytes.into(),
        run_keys,
    }))
}

/// The root of the perfect subtree over `hashes` (a power of two of them,
/// 32 bytes each: at most 2^3, for a node below the in-memory levels).
fn subtree_root(hashes: &[u8]) -> Hash {
    let mut level: Vec<Hash> = hashes
        .chunks_exact(32)
        .map(|chunk| Hash::from_slice(chunk).expect("32-byte chunks"))
        .collect();
    debug_assert!(level.len().is_power_of_two());
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| feeledger_core::hash::node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level[0]
}

fn missing_node(id: NodeId) -> StoreError {
    StoreError::damaged(format!(
        "Merkle node level {} index {} is missing",
        id.level, id.index
    ))
}

//! The upper levels of the Merkle tree, held in memory.
//!
//! A proof or root needs one node per tree level. The store takes the
//! nodes of levels [`MEMORY_LEVEL_MIN`] and up from here, and computes
//! those of the levels below from the leaf hashes under them, which one
//! level-0 tile holds (`Store::read_nodes`). So an inclusion proof reads one
//! or two node tiles from sled at any tree size (its leaf's, and the last
//! leaves' when the size is not a multiple of 16), instead of one per level
//! (20 at a million entries), and a growing tree does not push more reads per proof
//! out of sled's cache.
//!
//! The cost is four bytes of memory per entry: level `l` holds `size >> l`
//! hashes of 32 bytes, and the levels from 4 up hold `size / 8` of them in
//! all (4 MiB per million entries).
//!
//! This is a cache of the `N` tiles in sled, never the only copy: the
//! store brings it up to the published size each time it publishes, by
//! reading the nodes that became complete, and a node it does not hold
//! (a read failed, or it is not complete yet) is taken from the tiles.
//! Nodes are immutable once complete, so what it holds is never stale.

use crate::keys;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::NodeId;

/// The lowest tree level held in memory. Level `l` has one node per `2^l`
/// leaves; from 4 up, all levels together hold one hash per 8 leaves.
pub(crate) const MEMORY_LEVEL_MIN: u8 = 4;

// The levels below are computed from one level-0 tile of 256 leaves
// (`Store::read_nodes`), so they must fit in one: 2^(4 - 1) = 8 leaves.
const _: () = assert!(1u64 << (MEMORY_LEVEL_MIN - 1) <= crate::keys::NODE_TILE_WIDTH);

/// The complete nodes of levels ≥ [`MEMORY_LEVEL_MIN`], in index order.
#[derive(Debug)]
pub(crate) struct UpperNodes {
    /// Off for a store opened to be read once through (an audit).
    enabled: bool,
    /// `by_level[i]` holds the nodes of level `MEMORY_LEVEL_MIN + i`.
    by_level: Vec<Vec<Hash>>,
}

impl UpperNodes {
    /// An empty copy; a disabled one never holds anything.
    pub(crate) fn new(enabled: bool) -> UpperNodes {
        UpperNodes {
            enabled,
            by_level: Vec::new(),
        }
    }

    /// How many nodes this copy holds at each level from
    /// [`MEMORY_LEVEL_MIN`] up; `None` if it is disabled.
    pub(crate) fn held_counts(&self) -> Option<Vec<u64>> {
        self.enabled
            .then(|| self.by_level.iter().map(|h| h.len() as u64).collect())
    }

    /// Appends what [`read_new_nodes`] read, level by level from
    /// [`MEMORY_LEVEL_MIN`] up.
    pub(crate) fn append(&mut self, new_nodes: Vec<Vec<Hash>>) {
        for (offset, hashes) in new_nodes.into_iter().enumerate() {
            if self.by_level.len() <= offset {
                self.by_level.push(Vec::new());
            }
            self.by_level[offset].extend(hashes);
        }
    }

    /// Node `id`, if this copy holds it.
    pub(crate) fn get(&self, id: NodeId) -> Option<Hash> {
        let offset = id.level.checked_sub(MEMORY_LEVEL_MIN)?;
        let hashes = self.by_level.get(usize::from(offset))?;
        hashes.get(usize::try_from(id.index).ok()?).copied()
    }
}

/// The upper nodes a tree of `size` leaves has beyond `held` (per level, as
/// [`UpperNodes::held_counts`] gives them), read from the node tiles. It
/// stops at the first tile that cannot be read or is shorter than the tree
/// (damage that a read from the tiles will then name).
pub(crate) fn read_new_nodes(
    tree: &sled::Tree,
    held: &Option<Vec<u64>>,
    size: u64,
) -> Vec<Vec<Hash>> {
    let Some(held) = held else {
        return Vec::new();
    };
    let mut new_nodes = Vec::new();
    for level in MEMORY_LEVEL_MIN..64 {
        let count = size >> level;
        if count == 0 {
            break;
        }
        let offset = usize::from(level - MEMORY_LEVEL_MIN);
        let mut next = held.get(offset).copied().unwrap_or(0);
        let mut hashes = Vec::new();
        while next < count {
            let tile = next / keys::NODE_TILE_WIDTH;
            let wanted = count.min((tile + 1) * keys::NODE_TILE_WIDTH);
            let from = (next - tile * keys::NODE_TILE_WIDTH) as usize;
            let to = (wanted - tile * keys::NODE_TILE_WIDTH) as usize;
            let blob = crate::nodes::read_tile(tree, level, tile).ok().flatten();
            let Some(bytes) = blob.as_deref().and_then(|b| b.get(32 * from..32 * to)) else {
                new_nodes.push(hashes);
                return new_nodes;
            };
            hashes.extend(
                bytes
                    .chunks_exact(32)
                    .map(|chunk| Hash::from_slice(chunk).expect("32-byte chunks")),
            );
            next = wanted;
        }
        new_nodes.push(hashes);
    }
    new_nodes
}

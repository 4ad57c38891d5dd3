//! The upper levels of the Merkle tree, held in memory.
//!
//! A proof or root needs one node per tree level. The store takes the
//! nodes of levels [`MEMORY_LEVEL_MIN`] and up from here, and computes
//! those of the levels below from the leaf hashes under them, which one
//! level-0 tile holds (`Store::read_nodes`). So an inclusion proof reads one
//! node tile from sled at any tree size, instead of one per level (20 at a
//! million entries), and a growing tree does not push more reads per proof
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

    /// Reads the upper nodes a tree of `size` leaves has and this copy
    /// lacks. It stops at the first tile that cannot be read or is shorter
    /// than the tree (damage that the read from sled will then name).
    pub(crate) fn catch_up(&mut self, db: &sled::Db, size: u64) {
        if !self.enabled {
            return;
        }
        for level in MEMORY_LEVEL_MIN..64 {
            let count = size >> level;
            if count == 0 {
                return;
            }
            let offset = usize::from(level - MEMORY_LEVEL_MIN);
            if self.by_level.len() <= offset {
                self.by_level.push(Vec::new());
            }
            let held = &mut self.by_level[offset];
            while (held.len() as u64) < count {
                let next = held.len() as u64;
                let tile = next / keys::NODE_TILE_WIDTH;
                let wanted = count.min((tile + 1) * keys::NODE_TILE_WIDTH);
                let Ok(Some(blob)) = db.get(keys::node_tile(level, tile)) else {
                    return;
                };
                let from = (next - tile * keys::NODE_TILE_WIDTH) as usize;
                let to = (wanted - tile * keys::NODE_TILE_WIDTH) as usize;
                let Some(bytes) = blob.get(32 * from..32 * to) else {
                    return;
                };
                held.extend(
                    bytes
                        .chunks_exact(32)
                        .map(|chunk| Hash::from_slice(chunk).expect("32-byte chunks")),
                );
            }
        }
    }

    /// Node `id`, if this copy holds it.
    pub(crate) fn get(&self, id: NodeId) -> Option<Hash> {
        let offset = id.level.checked_sub(MEMORY_LEVEL_MIN)?;
        let hashes = self.by_level.get(usize::from(offset))?;
        hashes.get(usize::try_from(id.index).ok()?).copied()
    }
}

//! The tile writer (`tiles::TileEdge`) against the tree maths of
//! `merkle.rs`: every tile it writes, in any batches, is the tile the
//! C2SP definition gives, computed another way (`MemoryTree` nodes picked
//! by `tile_node_ids`, and RFC 9162 subtree hashes for the upper levels),
//! so a bug in one cannot agree with the other by accident.

use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::{
    root_from_leaf_hashes, tile_node_ids, tile_width, MemoryTree, NodeId,
};
use feeledger_core::tiles::{
    entry_bundle_bytes, hash_tile_bytes, split_entry_bundle, tile_width_at, BundleError, NewLeaf,
    Tile, TileEdge, TileKind, TilePath, TileWriteError, TILED_SIZE_MAX, TILE_LEVELS,
    TILE_WIDTH_MAX,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Leaf bytes of entry `seq`: of varying length, some empty.
fn leaf_bytes(seq: u64) -> Vec<u8> {
    let len = (seq * 7 % 23) as usize;
    (0..len)
        .map(|i| (seq as u8).wrapping_add(i as u8))
        .collect()
}

/// The log's leaves and their tree, built by `merkle.rs`.
struct Log {
    leaves: Vec<Vec<u8>>,
    tree: MemoryTree,
}

impl Log {
    fn new(size: u64) -> Log {
        let leaves: Vec<Vec<u8>> = (0..size).map(leaf_bytes).collect();
        let mut tree = MemoryTree::new();
        for leaf in &leaves {
            tree.push(leaf_hash(leaf));
        }
        Log { leaves, tree }
    }

    /// The tile at `path` in the log of `size` entries, built from the
    /// tree's nodes and the leaves, independently of the writer.
    fn tile(&self, path: TilePath, size: u64) -> Vec<u8> {
        let width = path.width();
        match path.kind {
            TileKind::Hashes { level } => {
                assert!(tile_width(level, path.index, size).is_some_and(|w| w >= width));
                let ids = tile_node_ids(level, path.index, width);
                let mut bytes = Vec::new();
                for id in ids {
                    bytes.extend_from_slice(&self.tree.node(id).expect("in the tree").0);
                }
                bytes
            }
            TileKind::Entries => {
                let first = path.index * TILE_WIDTH_MAX;
                let mut bytes = Vec::new();
                for leaf in &self.leaves[first as usize..(first + width) as usize] {
                    bytes.extend_from_slice(&(leaf.len() as u16).to_be_bytes());
                    bytes.extend_from_slice(leaf);
                }
                bytes
            }
        }
    }

    /// Every tile of the log of `size` entries (full ones and the right
    /// edge's partial ones), from the tree alone.
    fn all_tiles(&self, size: u64) -> BTreeMap<String, Vec<u8>> {
        let mut tiles = BTreeMap::new();
        let kinds = std::iter::once(TileKind::Entries)
            .chain((0..TILE_LEVELS as u8).map(|level| TileKind::Hashes { level }));
        for kind in kinds {
            for index in 0.. {
                let Some(width) = tile_width_at(kind, index, size) else {
                    break;
                };
                let path = TilePath::new(kind, index, width).unwrap();
                tiles.insert(path.rel_path(), self.tile(path, size));
            }
        }
        tiles
    }

    fn new_leaves(&self, from: u64, to: u64) -> Vec<NewLeaf<'_>> {
        self.leaves[from as usize..to as usize]
            .iter()
            .map(|b| NewLeaf::new(b))
            .collect()
    }
}

/// Appends `batches` through the writer, checking each call's output
/// against the contract, and returns the latest bytes of every path
/// written (what a publisher's bucket would hold, less superseded
/// partial tiles).
fn write_in_batches(log: &Log, batches: &[u64]) -> (TileEdge, BTreeMap<String, Vec<u8>>) {
    let mut edge = TileEdge::new();
    let mut written: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut full_seen = std::collections::BTreeSet::new();
    for &n in batches {
        let before = edge.size();
        let size = before + n;
        // The publisher's round trip: the edge rebuilt from its own
        // partial tiles is the same edge.
        let reread = TileEdge::from_tiles(before, edge.partial_tiles()).unwrap();
        assert_eq!(reread, edge, "edge of size {before} read back");
        let tiles = edge.append(&log.new_leaves(before, size)).unwrap();
        assert_eq!(edge.size(), size);
        // A publisher that reads tiles from the store names the same
        // paths, in the same order, from the two sizes alone.
        assert_eq!(
            TileEdge::paths_between(before, size).unwrap(),
            tiles.iter().map(|t| t.path).collect::<Vec<_>>(),
            "paths between {before} and {size}"
        );
        for tile in &tiles {
            // Every tile returned is the C2SP tile of the new log.
            assert!(
                tile.path.exists_in(size),
                "{} in {size}",
                tile.path.rel_path()
            );
            assert_eq!(
                tile.bytes,
                log.tile(tile.path, size),
                "{} after {before}+{n}",
                tile.path.rel_path()
            );
            if tile.path.partial_width.is_none() {
                assert!(
                    full_seen.insert(tile.path.rel_path()),
                    "full tile {} returned twice",
                    tile.path.rel_path()
                );
            } else {
                // A partial tile is the rightmost of its level.
                assert_eq!(
                    tile_width_at(tile.path.kind, tile.path.index, size),
                    Some(tile.path.width())
                );
            }
            written.insert(tile.path.rel_path(), tile.bytes.clone());
        }
        // Every tile that is new or changed was returned: each tile of the
        // new log that the old log did not have at this width.
        let old = log.all_tiles(before);
        for (path, bytes) in log.all_tiles(size) {
            if old.get(&path) != Some(&bytes) {
                assert!(
                    tiles.iter().any(|t| t.path.rel_path() == path),
                    "{path} changed in {before}+{n} but was not returned"
                );
            }
        }
        assert_eq!(edge.root(), log.tree_root(size), "root at {size}");
    }
    (edge, written)
}

impl Log {
    /// RFC 9162 MTH of the first `size` leaves, by its recursive definition.
    fn tree_root(&self, size: u64) -> Hash {
        let hashes: Vec<Hash> = self.leaves[..size as usize]
            .iter()
            .map(|l| leaf_hash(l))
            .collect();
        root_from_leaf_hashes(&hashes)
    }
}

/// The latest width of each tile: what remains once superseded partial
/// tiles are deleted.
fn latest(written: &BTreeMap<String, Vec<u8>>, size: u64) -> BTreeMap<String, Vec<u8>> {
    written
        .iter()
        .filter(|(path, _)| {
            let parsed =
                feeledger_core::tiles::parse_tile_path(path.strip_prefix("tile/").unwrap())
                    .unwrap();
            tile_width_at(parsed.kind, parsed.index, size) == Some(parsed.width())
        })
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Appending any sequence of batch sizes (single leaves, batches that
    /// cross one or more 256-entry tiles) writes byte for byte the tiles of
    /// the whole log built at once from the tree, returns every changed
    /// tile, never returns a full tile twice, and keeps the root.
    #[test]
    fn batches_write_the_same_tiles_as_the_whole_log(
        batches in prop::collection::vec(prop_oneof![1u64..=3, 1u64..=300, 250u64..=700], 1..12)
    ) {
        let size: u64 = batches.iter().sum();
        let log = Log::new(size);
        let (edge, written) = write_in_batches(&log, &batches);
        let (_, at_once) = write_in_batches(&log, &[size]);
        prop_assert_eq!(&latest(&written, size), &log.all_tiles(size));
        prop_assert_eq!(&at_once, &log.all_tiles(size));
        prop_assert_eq!(edge.root(), log.tree.root());
    }
}

/// Batches that cross the 65,536-entry boundary, where the first level-2
/// tile appears, write the same tiles as the whole log; the level-1 tile 0
/// fills, and its hashes are the RFC 9162 roots of each 256 leaves.
#[test]
fn batches_across_65536_write_the_same_tiles() {
    let size = 65_536 + 300;
    let log = Log::new(size);
    let leaf_hashes: Vec<Hash> = log.leaves.iter().map(|l| leaf_hash(l)).collect();
    for batches in [vec![65_535, 1, 1, 299], vec![65_000, 600, 236], vec![size]] {
        let mut edge = TileEdge::new();
        let mut written = BTreeMap::new();
        for n in batches {
            let from = edge.size();
            for tile in edge.append(&log.new_leaves(from, from + n)).unwrap() {
                written.insert(tile.path.rel_path(), tile.bytes);
            }
        }
        let all = log.all_tiles(size);
        assert_eq!(latest(&written, size), all);
        assert!(all.contains_key("tile/2/000.p/1"));
        // Level 1 against the tree hash of each 256 leaves (not the tree's
        // stored nodes): tile/1/000 is full at 65,536 entries.
        let tile = &all["tile/1/000"];
        for (j, hash) in tile.chunks_exact(32).enumerate() {
            let subtree = &leaf_hashes[j * 256..(j + 1) * 256];
            assert_eq!(hash, root_from_leaf_hashes(subtree).0, "node {j}");
        }
        assert_eq!(
            all["tile/2/000.p/1"],
            root_from_leaf_hashes(&leaf_hashes[..65_536]).0
        );
        assert_eq!(edge.root(), log.tree.root());
    }
}

/// The byte assembly of a hash tile and an entry bundle, by hand.
#[test]
fn tile_bytes_are_the_c2sp_bytes() {
    let a = Hash([1; 32]);
    let b = Hash([2; 32]);
    assert_eq!(hash_tile_bytes(&[a, b]), [[1u8; 32], [2u8; 32]].concat());
    let bundle = entry_bundle_bytes([b"ab".as_slice(), b"", &[7u8; 300]]).unwrap();
    let mut expected = vec![0, 2, b'a', b'b', 0, 0, 1, 44];
    expected.extend_from_slice(&[7u8; 300]);
    assert_eq!(bundle, expected);
    assert_eq!(
        split_entry_bundle(&bundle, 3).unwrap(),
        vec![b"ab".as_slice(), b"", &[7u8; 300]]
    );
    assert!(entry_bundle_bytes([vec![0u8; 65_536].as_slice()]).is_err());
    assert!(entry_bundle_bytes([vec![0u8; 65_535].as_slice()]).is_ok());
}

/// A bundle of the wrong width is refused, each way named.
#[test]
fn bundles_of_the_wrong_width_are_refused() {
    let bundle = entry_bundle_bytes([b"ab".as_slice(), b"c"]).unwrap();
    assert_eq!(
        split_entry_bundle(&bundle, 3),
        Err(BundleError::EndsEarly {
            position: 2,
            width: 3
        })
    );
    assert_eq!(
        split_entry_bundle(&bundle, 1),
        Err(BundleError::TrailingBytes {
            extra_bytes: 3,
            width: 1
        })
    );
    assert_eq!(
        split_entry_bundle(&bundle[..6], 2),
        Err(BundleError::EntryPastEnd { position: 1 })
    );
}

/// The edge is rebuilt only from exactly the right edge's partial tiles,
/// of the right lengths; anything else is refused, by name.
#[test]
fn the_edge_takes_only_its_own_partial_tiles() {
    let log = Log::new(300);
    let mut edge = TileEdge::new();
    edge.append(&log.new_leaves(0, 300)).unwrap();
    let paths: Vec<String> = TileEdge::paths(300)
        .unwrap()
        .iter()
        .map(TilePath::rel_path)
        .collect();
    assert_eq!(
        paths,
        ["tile/entries/001.p/44", "tile/0/001.p/44", "tile/1/000.p/1"]
    );
    assert_eq!(TileEdge::paths(0).unwrap(), []);
    assert_eq!(
        TileEdge::paths(512).unwrap().len(),
        1,
        "only tile/1/000.p/2"
    );
    let tiles = edge.partial_tiles();
    assert_eq!(TileEdge::from_tiles(300, tiles.clone()).unwrap(), edge);
    let mut reversed = tiles.clone();
    reversed.reverse();
    assert_eq!(TileEdge::from_tiles(300, reversed).unwrap(), edge);

    let missing = TileEdge::from_tiles(300, tiles[1..].to_vec()).unwrap_err();
    assert!(
        matches!(missing, TileWriteError::EdgeTileMissing { .. }),
        "{missing}"
    );
    let twice = TileEdge::from_tiles(300, [tiles.clone(), tiles[..1].to_vec()].concat());
    assert!(matches!(twice, Err(TileWriteError::EdgeTileTwice { .. })));
    let wrong_size = TileEdge::from_tiles(301, tiles.clone()).unwrap_err();
    assert!(
        matches!(wrong_size, TileWriteError::NotAnEdgeTile { .. }),
        "{wrong_size}"
    );
    let mut short = tiles.clone();
    short[1].bytes.pop();
    assert!(matches!(
        TileEdge::from_tiles(300, short),
        Err(TileWriteError::HashTileLength {
            bytes_len: 1407,
            expected_bytes: 1408,
            ..
        })
    ));
    let mut bad_bundle = tiles;
    bad_bundle[0].bytes.push(0);
    assert!(matches!(
        TileEdge::from_tiles(300, bad_bundle),
        Err(TileWriteError::Bundle { .. })
    ));
    let beyond = TileEdge::from_tiles(TILED_SIZE_MAX + 1, Vec::<Tile>::new());
    assert!(matches!(beyond, Err(TileWriteError::LogTooLarge { .. })));
}

/// A leaf too large for a bundle is refused with its seq, and the edge is
/// left as it was: no tile of the batch is written.
#[test]
fn a_refused_batch_changes_nothing() {
    let log = Log::new(10);
    let mut edge = TileEdge::new();
    edge.append(&log.new_leaves(0, 10)).unwrap();
    let before = edge.clone();
    let big = vec![0u8; 65_536];
    let mut leaves = log.new_leaves(0, 2);
    leaves.push(NewLeaf::new(&big));
    assert_eq!(
        edge.append(&leaves),
        Err(TileWriteError::LeafTooLarge {
            seq: 12,
            bytes_len: 65_536
        })
    );
    assert_eq!(edge, before);
    assert!(
        edge.append(&[]).unwrap().is_empty(),
        "nothing appended, nothing changed"
    );
}

/// The tile paths of the nodes `merkle.rs` names: a tile's ids are exactly
/// the node ids its path covers.
#[test]
fn tile_paths_name_the_nodes_of_tile_node_ids() {
    let path = TilePath::new(TileKind::Hashes { level: 1 }, 3, 5).unwrap();
    assert_eq!(path.rel_path(), "tile/1/003.p/5");
    assert_eq!(
        tile_node_ids(1, 3, path.width()),
        (768..773)
            .map(|index| NodeId { level: 8, index })
            .collect::<Vec<_>>()
    );
    assert_eq!(TilePath::new(TileKind::Entries, 0, 0), None);
    assert_eq!(TilePath::new(TileKind::Entries, 0, 257), None);
    assert_eq!(TilePath::new(TileKind::Hashes { level: 6 }, 0, 1), None);
    assert_eq!(
        TilePath::new(TileKind::Entries, 1_234_067, 256)
            .unwrap()
            .rel_path(),
        "tile/entries/x001/x234/067"
    );
    assert!(path.exists_in(768 * 256 + 5 * 256));
    assert!(!path.exists_in(768 * 256 + 5 * 256 - 1));
}

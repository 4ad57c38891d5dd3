//! A tile's bytes, and the tile writer.
//!
//! # A tile's bytes (C2SP tlog-tiles)
//!
//! - A hash tile at level L, index N, width W: the W node hashes at tree
//!   level 8·L, indices 256·N to 256·N+W−1, 32 raw bytes each, nothing
//!   between them ([`hash_tile_bytes`]).
//! - An entry bundle at index N, width W: for each of the leaves 256·N to
//!   256·N+W−1, its length as a big-endian `u16`, then its bytes
//!   ([`entry_bundle_bytes`], [`push_bundle_entry`]; read back with
//!   [`split_entry_bundle`]).
//!
//! # The writer
//!
//! [`TileEdge`] is the right edge of a tiled log of `size` entries: the
//! partial tile of each hash level that has one, and the partial entry
//! bundle. That is all a writer needs to extend the log, as Tessera's
//! integration does: every full tile is final and never read again.
//!
//! Contract of [`TileEdge::append`], for a log of `size` entries and `n`
//! new leaves:
//!
//! 1. It returns every tile whose bytes are new or changed between the log
//!    of `size` entries and the log of `size + n`: each hash tile (at every
//!    level) and entry bundle that became full, and the partial tile of
//!    each level (and the partial bundle) that gained hashes or entries and
//!    is still partial. A full tile is returned once, in the call that
//!    fills it, and never again.
//! 2. Each returned tile's bytes are those the C2SP definition above gives
//!    for the log of `size + n` entries, under the path
//!    ([`TilePath`]) of its width in that log.
//! 3. It is pure: the result depends only on the edge and the leaves, so
//!    appending in any batches gives the same tiles as appending at once
//!    (a partial tile returned by an earlier call is superseded by the
//!    wider one of a later call; C2SP lets the narrower one be deleted or
//!    kept).
//! 4. On error nothing changes: the edge is as it was, and no tile is
//!    returned.
//!
//! A publisher reads the partial tiles [`TileEdge::paths`] names (none for
//! a new log), builds the edge with [`TileEdge::from_tiles`], appends the
//! leaves each commit adds, writes the tiles returned (full ones first, or
//! at least before the checkpoint that covers them), and keeps the edge
//! for the next commit. A backup that writes the whole log at once writes
//! only the full tiles as they come, and [`TileEdge::partial_tiles`] at
//! the end.

use super::{
    TileKind, TilePath, BUNDLE_ENTRY_BYTES_MAX, TILED_SIZE_MAX, TILE_HEIGHT, TILE_LEVELS,
    TILE_WIDTH_MAX,
};
use crate::hash::{leaf_hash, node_hash, Hash};
use crate::merkle::root_from_leaf_hashes;

/// Bytes of one hash in a hash tile.
const HASH_BYTES: usize = 32;

/// An entry too large for an entry bundle, whose length field is a `u16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "an entry of {bytes_len} bytes is more than a bundle can hold ({BUNDLE_ENTRY_BYTES_MAX} bytes)"
)]
pub struct EntryTooLarge {
    pub bytes_len: usize,
}

/// Why bytes are not an entry bundle of the width asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The bundle ends before entry `position` (0-based) of its `width`.
    #[error("it ends before its entry {position} of {width}")]
    EndsEarly { position: u64, width: u64 },
    /// Entry `position`'s length runs past the end of the bundle.
    #[error("its entry {position} runs past the end of the bundle")]
    EntryPastEnd { position: u64 },
    /// Bytes follow the last of its `width` entries.
    #[error("it has {extra_bytes} bytes after its {width} entries")]
    TrailingBytes { extra_bytes: usize, width: u64 },
}

/// Why the writer refused its input. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileWriteError {
    /// A new leaf is too large for an entry bundle.
    #[error("entry {seq} is {bytes_len} bytes, more than a bundle can hold ({BUNDLE_ENTRY_BYTES_MAX} bytes)")]
    LeafTooLarge { seq: u64, bytes_len: usize },
    /// The log would grow beyond what the tile levels hold.
    #[error("a log of {size} entries is beyond the tile levels (at most {max} entries)")]
    LogTooLarge { size: u64, max: u64 },
    /// A tile given for the edge is not one of the right edge's partial
    /// tiles ([`TileEdge::paths`]).
    #[error("tile/{} is not a partial tile at the right edge of a log of {size} entries", .path.to_path())]
    NotAnEdgeTile { path: TilePath, size: u64 },
    /// A tile given for the edge twice.
    #[error("tile/{} is given twice", .path.to_path())]
    EdgeTileTwice { path: TilePath },
    /// A partial tile of the right edge was not given.
    #[error("tile/{} is missing: a log of {size} entries has it at its right edge", .path.to_path())]
    EdgeTileMissing { path: TilePath, size: u64 },
    /// A hash tile given for the edge has the wrong length.
    #[error("tile/{} is {bytes_len} bytes; a tile of its width has {expected_bytes}", .path.to_path())]
    HashTileLength {
        path: TilePath,
        bytes_len: usize,
        expected_bytes: usize,
    },
    /// An entry bundle given for the edge does not split into its width.
    #[error("tile/{} is not an entry bundle of its width: {error}", .path.to_path())]
    Bundle { path: TilePath, error: BundleError },
}

/// A hash tile's bytes: the hashes, 32 bytes each, in order.
pub fn hash_tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HASH_BYTES * hashes.len());
    for hash in hashes {
        bytes.extend_from_slice(&hash.0);
    }
    bytes
}

/// Appends one entry to an entry bundle's bytes: its length as a
/// big-endian `u16`, then the entry.
///
/// # Errors
/// [`EntryTooLarge`] for an entry over [`BUNDLE_ENTRY_BYTES_MAX`] bytes;
/// `bundle` is unchanged.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), EntryTooLarge> {
    let len = u16::try_from(entry.len()).map_err(|_| EntryTooLarge {
        bytes_len: entry.len(),
    })?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// An entry bundle's bytes, from its entries in order.
///
/// # Errors
/// [`EntryTooLarge`] for an entry over [`BUNDLE_ENTRY_BYTES_MAX`] bytes.
pub fn entry_bundle_bytes<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, EntryTooLarge> {
    let mut bundle = Vec::new();
    for entry in entries {
        push_bundle_entry(&mut bundle, entry)?;
    }
    Ok(bundle)
}

/// Splits an entry bundle of `width` entries into them, refusing any
/// other length.
///
/// # Errors
/// [`BundleError`] if the bytes end before `width` entries, an entry runs
/// past the end, or bytes follow the last entry.
pub fn split_entry_bundle(bytes: &[u8], width: u64) -> Result<Vec<&[u8]>, BundleError> {
    let (entries, rest) = split_entry_bundle_prefix(bytes, width)?;
    if !rest.is_empty() {
        return Err(BundleError::TrailingBytes {
            extra_bytes: rest.len(),
            width,
        });
    }
    Ok(entries)
}

/// The first `width` entries of a bundle, and the bytes after them. A
/// reader of a bundle served at a width other than the one it asked for
/// (a full bundle for a partial path) takes the entries it needs with
/// this, and decides itself whether bytes may follow.
///
/// # Errors
/// [`BundleError::EndsEarly`] or [`BundleError::EntryPastEnd`] if the
/// bytes hold fewer than `width` whole entries.
pub fn split_entry_bundle_prefix(
    bytes: &[u8],
    width: u64,
) -> Result<(Vec<&[u8]>, &[u8]), BundleError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    for position in 0..width {
        let [high, low, tail @ ..] = rest else {
            return Err(BundleError::EndsEarly { position, width });
        };
        let len = usize::from(u16::from_be_bytes([*high, *low]));
        if tail.len() < len {
            return Err(BundleError::EntryPastEnd { position });
        }
        let (entry, after) = tail.split_at(len);
        entries.push(entry);
        rest = after;
    }
    Ok((entries, rest))
}

/// A tile and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub path: TilePath,
    pub bytes: Vec<u8>,
}

/// A leaf to append: its bytes (for the entry bundle) and its leaf hash
/// (for the hash tiles), which must be [`leaf_hash`]`(bytes)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLeaf<'a> {
    pub hash: Hash,
    pub bytes: &'a [u8],
}

impl<'a> NewLeaf<'a> {
    /// A leaf whose hash is computed here.
    pub fn new(bytes: &'a [u8]) -> NewLeaf<'a> {
        NewLeaf {
            hash: leaf_hash(bytes),
            bytes,
        }
    }
}

/// The right edge of a tiled log: its size, the hashes of the partial tile
/// at each tile level, and the bytes of the partial entry bundle. See the
/// module docs for the writer's contract.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TileEdge {
    size: u64,
    /// Invariant: `hashes[L]` holds the `(size >> 8·L) % 256` node hashes
    /// of the partial tile at level L (tree level 8·L).
    hashes: [Vec<Hash>; TILE_LEVELS],
    /// Invariant: the entry bundle of the `size % 256` last entries.
    bundle: Vec<u8>,
}

/// Level-`level` hashes (tree level 8·level) in a log of `size` entries.
fn hashes_at(level: usize, size: u64) -> u64 {
    size >> (usize::from(TILE_HEIGHT) * level)
}

/// The path of the rightmost tile of `kind` when its level holds `count`
/// hashes or entries: full if `count` is a multiple of 256.
fn rightmost(kind: TileKind, count: u64) -> Option<TilePath> {
    let width = match count % TILE_WIDTH_MAX {
        0 => TILE_WIDTH_MAX,
        w => w,
    };
    let index = count.checked_sub(width)? / TILE_WIDTH_MAX;
    TilePath::new(kind, index, width)
}

fn hash_kind(level: usize) -> TileKind {
    TileKind::Hashes {
        // Below TILE_LEVELS, so it fits.
        level: level as u8,
    }
}

impl TileEdge {
    /// The edge of the empty log: nothing to read.
    pub fn new() -> TileEdge {
        TileEdge::default()
    }

    /// The number of entries in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The partial tiles at the right edge of a log of `size` entries,
    /// which [`TileEdge::from_tiles`] needs: the partial bundle and the
    /// partial hash tile of each level that has one, from level 0 up.
    ///
    /// # Errors
    /// [`TileWriteError::LogTooLarge`] above [`TILED_SIZE_MAX`].
    pub fn paths(size: u64) -> Result<Vec<TilePath>, TileWriteError> {
        if size > TILED_SIZE_MAX {
            return Err(TileWriteError::LogTooLarge {
                size,
                max: TILED_SIZE_MAX,
            });
        }
        let partial = |kind, count: u64| {
            (count % TILE_WIDTH_MAX != 0)
                .then(|| rightmost(kind, count))
                .flatten()
        };
        let mut paths: Vec<TilePath> = partial(TileKind::Entries, size).into_iter().collect();
        paths.extend(
            (0..TILE_LEVELS).filter_map(|level| partial(hash_kind(level), hashes_at(level, size))),
        );
        Ok(paths)
    }

    /// The paths of the tiles [`TileEdge::append`] returns when a log of
    /// `old_size` entries grows to `new_size`, in the same order (entry
    /// bundles, then hash tiles from level 0 up, each by index), without
    /// the leaves: what a publisher that reads tiles from elsewhere (the
    /// store) must write between two checkpoints. Empty when the sizes are
    /// equal.
    ///
    /// # Errors
    /// [`TileWriteError::LogTooLarge`] if `new_size` is above
    /// [`TILED_SIZE_MAX`]. (An `old_size` above `new_size` gives the
    /// paths of nothing: a log never shrinks.)
    pub fn paths_between(old_size: u64, new_size: u64) -> Result<Vec<TilePath>, TileWriteError> {
        if new_size > TILED_SIZE_MAX {
            return Err(TileWriteError::LogTooLarge {
                size: new_size,
                max: TILED_SIZE_MAX,
            });
        }
        // At each level, the tiles from the one that held the old edge (or
        // was empty) up to the new edge: full ones, then the partial one.
        let level_paths = |kind: TileKind, old: u64, new: u64| -> Vec<TilePath> {
            if new <= old {
                return Vec::new();
            }
            let full_end = new / TILE_WIDTH_MAX;
            let mut paths: Vec<TilePath> = (old / TILE_WIDTH_MAX..full_end)
                .filter_map(|index| TilePath::new(kind, index, TILE_WIDTH_MAX))
                .collect();
            paths.extend(TilePath::new(kind, full_end, new % TILE_WIDTH_MAX));
            paths
        };
        let mut paths = level_paths(TileKind::Entries, old_size, new_size);
        for level in 0..TILE_LEVELS {
            paths.extend(level_paths(
                hash_kind(level),
                hashes_at(level, old_size),
                hashes_at(level, new_size),
            ));
        }
        Ok(paths)
    }

    /// The edge of a log of `size` entries, from exactly the tiles
    /// [`TileEdge::paths`]`(size)` names, in any order.
    ///
    /// # Errors
    /// [`TileWriteError`]: a size over [`TILED_SIZE_MAX`], a tile that is
    /// not one of them or given twice or missing, a hash tile of the wrong
    /// length, or a bundle that is not of its width.
    pub fn from_tiles(
        size: u64,
        tiles: impl IntoIterator<Item = Tile>,
    ) -> Result<TileEdge, TileWriteError> {
        let wanted = TileEdge::paths(size)?;
        let mut found: Vec<Option<Vec<u8>>> = vec![None; wanted.len()];
        for tile in tiles {
            let Some(at) = wanted.iter().position(|p| *p == tile.path) else {
                return Err(TileWriteError::NotAnEdgeTile {
                    path: tile.path,
                    size,
                });
            };
            if found[at].replace(tile.bytes).is_some() {
                return Err(TileWriteError::EdgeTileTwice { path: tile.path });
            }
        }
        let mut edge = TileEdge {
            size,
            ..TileEdge::default()
        };
        for (path, bytes) in wanted.into_iter().zip(found) {
            let Some(bytes) = bytes else {
                return Err(TileWriteError::EdgeTileMissing { path, size });
            };
            match path.kind {
                TileKind::Entries => {
                    split_entry_bundle(&bytes, path.width())
                        .map_err(|error| TileWriteError::Bundle { path, error })?;
                    edge.bundle = bytes;
                }
                TileKind::Hashes { level } => {
                    let expected_bytes = HASH_BYTES * path.width() as usize;
                    if bytes.len() != expected_bytes {
                        return Err(TileWriteError::HashTileLength {
                            path,
                            bytes_len: bytes.len(),
                            expected_bytes,
                        });
                    }
                    edge.hashes[usize::from(level)] = bytes
                        .chunks_exact(HASH_BYTES)
                        .map(|c| Hash(c.try_into().expect("chunks of 32")))
                        .collect();
                }
            }
        }
        Ok(edge)
    }

    /// The edge's own partial tiles (the bundle first, then hash levels
    /// from 0 up): what a backup writes at the end.
    pub fn partial_tiles(&self) -> Vec<Tile> {
        let mut tiles = Vec::new();
        if self.size % TILE_WIDTH_MAX != 0 {
            tiles.extend(self.bundle_tile());
        }
        for level in 0..TILE_LEVELS {
            if !self.hashes[level].is_empty() {
                tiles.extend(self.hash_tile(level));
            }
        }
        tiles
    }

    /// The root of the log (RFC 9162 MTH), from the edge alone: each
    /// partial tile's hashes split by the set bits of its width are the
    /// peaks of the tree, largest first.
    pub fn root(&self) -> Hash {
        let mut peaks = Vec::new();
        for level in (0..TILE_LEVELS).rev() {
            let mut rest = self.hashes[level].as_slice();
            while !rest.is_empty() {
                // The largest power of two at most the hashes left.
                let take = 1usize << (usize::BITS - 1 - rest.len().leading_zeros());
                let (subtree, after) = rest.split_at(take);
                peaks.push(root_from_leaf_hashes(subtree));
                rest = after;
            }
        }
        match peaks.split_last() {
            None => crate::merkle::empty_root(),
            Some((last, left)) => left.iter().rev().fold(*last, |acc, l| node_hash(l, &acc)),
        }
    }

    /// Appends `leaves` (entries `size` onwards) and returns the tiles
    /// they create or change, ordered entry bundles first, then hash tiles
    /// from level 0 up, each by index. See the module docs for the contract.
    ///
    /// # Errors
    /// [`TileWriteError::LeafTooLarge`] for a leaf over
    /// [`BUNDLE_ENTRY_BYTES_MAX`] bytes, [`TileWriteError::LogTooLarge`] if
    /// the log would pass [`TILED_SIZE_MAX`]. The edge is then unchanged.
    pub fn append(&mut self, leaves: &[NewLeaf<'_>]) -> Result<Vec<Tile>, TileWriteError> {
        let new_size = (leaves.len() as u64)
            .checked_add(self.size)
            .filter(|s| *s <= TILED_SIZE_MAX)
            .ok_or(TileWriteError::LogTooLarge {
                size: self.size.saturating_add(leaves.len() as u64),
                max: TILED_SIZE_MAX,
            })?;
        if let Some((seq, leaf)) = (self.size..)
            .zip(leaves)
            .find(|(_, l)| l.bytes.len() > BUNDLE_ENTRY_BYTES_MAX)
        {
            return Err(TileWriteError::LeafTooLarge {
                seq,
                bytes_len: leaf.bytes.len(),
            });
        }
        debug_assert!(leaves.iter().all(|l| l.hash == leaf_hash(l.bytes)));
        let mut bundles = Vec::new();
        let mut hash_tiles: [Vec<Tile>; TILE_LEVELS] = Default::default();
        let mut touched = [false; TILE_LEVELS];
        for leaf in leaves {
            push_bundle_entry(&mut self.bundle, leaf.bytes).expect("sizes checked above");
            self.size += 1;
            if self.size % TILE_WIDTH_MAX == 0 {
                bundles.extend(self.bundle_tile());
                self.bundle.clear();
            }
            // Carry like a binary counter in base 256: a full tile's root
            // is the next level's next hash.
            let mut hash = leaf.hash;
            for level in 0..TILE_LEVELS {
                touched[level] = true;
                self.hashes[level].push(hash);
                if self.hashes[level].len() as u64 != TILE_WIDTH_MAX {
                    break;
                }
                hash_tiles[level].extend(self.hash_tile(level));
                hash = root_from_leaf_hashes(&self.hashes[level]);
                self.hashes[level].clear();
                // The size limit keeps the top level from filling.
                debug_assert!(level + 1 < TILE_LEVELS);
            }
        }
        debug_assert_eq!(self.size, new_size);
        if !leaves.is_empty() && !self.bundle.is_empty() {
            bundles.extend(self.bundle_tile());
        }
        let mut tiles = bundles;
        for (level, mut full) in hash_tiles.into_iter().enumerate() {
            tiles.append(&mut full);
            if touched[level] && !self.hashes[level].is_empty() {
                tiles.extend(self.hash_tile(level));
            }
        }
        Ok(tiles)
    }

    /// The rightmost bundle, as the edge holds it now.
    fn bundle_tile(&self) -> Option<Tile> {
        Some(Tile {
            path: rightmost(TileKind::Entries, self.size)?,
            bytes: self.bundle.clone(),
        })
    }

    /// The rightmost hash tile of `level`, as the edge holds it now (also
    /// when it has just filled).
    fn hash_tile(&self, level: usize) -> Option<Tile> {
        let count = hashes_at(level, self.size);
        let path = rightmost(hash_kind(level), count)?;
        debug_assert_eq!(path.width(), self.hashes[level].len() as u64);
        Some(Tile {
            path,
            bytes: hash_tile_bytes(&self.hashes[level]),
        })
    }
}

//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): the paths of tiles, the
//! bytes of a tile, and the writer that extends a tiled log.
//!
//! - `path.rs`: [`TilePath`], parsing and printing `tile/<L>/<N>[.p/<W>]`
//!   and `tile/entries/<N>[.p/<W>]`.
//! - `write.rs`: the one definition of a tile's bytes
//!   ([`hash_tile_bytes`], [`entry_bundle_bytes`], [`split_entry_bundle`]),
//!   and [`TileEdge`], the pure tile writer: the right edge of a log in,
//!   the new and changed tiles out.
//!
//! The server's `/tile/...` route, the tiles backup (`feeledger-backup`)
//! and a publisher to object storage all build tiles here, so a tile has
//! one definition. Nothing here does I/O.
//!
//! # Limits
//!
//! A tile spans [`TILE_HEIGHT`] tree levels and holds at most
//! [`TILE_WIDTH_MAX`] (256) hashes or entries; a partial tile holds 1 to
//! [`PARTIAL_WIDTH_MAX`] (255). (The two tile constants are defined once,
//! in `merkle.rs`, beside the rest of the tree maths, and re-exported
//! here.) Tile levels run from 0 to [`TILE_LEVEL_MAX`], so a tiled log
//! holds at most [`TILED_SIZE_MAX`] entries, and an entry in a bundle at
//! most [`BUNDLE_ENTRY_BYTES_MAX`] bytes (its length is a `u16`, which is
//! why `canonical::LEAF_BYTES_MAX` is the same number).

mod path;
mod write;

pub use crate::merkle::{TILE_HEIGHT, TILE_WIDTH_MAX};
pub use path::{parse_tile_path, TileKind, TilePath};
pub use write::{
    entry_bundle_bytes, hash_tile_bytes, push_bundle_entry, split_entry_bundle,
    split_entry_bundle_prefix, BundleError, EntryTooLarge, NewLeaf, Tile, TileEdge, TileWriteError,
};

/// Highest tile level: levels 0 to 5 hold tree levels 0, 8, ..., 40.
pub const TILE_LEVEL_MAX: u8 = 5;

/// Number of tile levels, 0 to [`TILE_LEVEL_MAX`].
pub const TILE_LEVELS: usize = TILE_LEVEL_MAX as usize + 1;

/// Widest partial tile: one short of a full one.
pub const PARTIAL_WIDTH_MAX: u16 = (TILE_WIDTH_MAX - 1) as u16;

/// Largest entry an entry bundle can hold: its length is a big-endian `u16`.
pub const BUNDLE_ENTRY_BYTES_MAX: usize = u16::MAX as usize;

/// Most entries a tiled log can hold: 2^48 − 1. At 2^48 entries the top
/// tile level would be full, and its node at tree level 48 would need a
/// level beyond [`TILE_LEVEL_MAX`].
pub const TILED_SIZE_MAX: u64 = (1u64 << (TILE_HEIGHT as u32 * (TILE_LEVEL_MAX as u32 + 1))) - 1;

/// How many hashes or entries tile `index` of `kind` holds in a log of
/// `size` entries: [`TILE_WIDTH_MAX`] if it is full, its partial width if
/// it is the rightmost tile of its level, `None` if it holds nothing yet.
/// A path asking for `width` names bytes of this log iff
/// `width <= tile_width_at(...)` (a partial tile of a smaller width is the
/// same tile at an earlier size).
pub fn tile_width_at(kind: TileKind, index: u64, size: u64) -> Option<u64> {
    match kind {
        TileKind::Hashes { level } => crate::merkle::tile_width(level, index, size),
        // Entries are counted as level-0 hashes are: one per leaf.
        TileKind::Entries => crate::merkle::tile_width(0, index, size),
    }
}

//! Key layout; see the table in the crate docs.

use crate::StoreError;
use feeledger_core::entry::Month;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::NodeId;

pub const STATE: &[u8] = b"S";
pub const LATEST_CHECKPOINT: &[u8] = b"K";
/// The size of the largest checkpoint that carries a cosignature.
pub const LATEST_COSIGNED: &[u8] = b"Q";
pub const FORMAT: &[u8] = b"F";
/// What the last full audit verified (the `audited` module).
pub const AUDITED: &[u8] = b"U";

pub const IDX_FUND: u8 = b'f';
pub const IDX_CATEGORY: u8 = b'c';
pub const IDX_PARTY: u8 = b'p';
pub const IDX_MONTH: u8 = b'm';
pub const IDX_KIND: u8 = b'k';

fn prefixed(prefix: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(prefix);
    key.extend_from_slice(rest);
    key
}

pub fn leaf(seq: u64) -> Vec<u8> {
    prefixed(b'L', &seq.to_be_bytes())
}

/// Hashes per node tile: a node tile holds the hashes of one tree level at
/// indices [256·t, 256·t + 256), appended as the tree grows.
pub const NODE_TILE_WIDTH: u64 = 256;

/// The key of node tile `tile` of `level`: it holds the tile's hashes from
/// its first on. A tile still filling may continue in runs
/// ([`node_tile_run`]).
pub fn node_tile(level: u8, tile: u64) -> Vec<u8> {
    let mut key = vec![b'N', level];
    key.extend_from_slice(&tile.to_be_bytes());
    key
}

/// Bytes of a [`node_tile`] key.
pub const NODE_TILE_KEY_BYTES: usize = 10;

/// The key of a run of a tile still filling: the hashes one batch appended,
/// from position `start` (< [`NODE_TILE_WIDTH`]) on. A batch appends a run
/// instead of rewriting the tile (up to 8 KiB, which small group commits
/// did once per level per batch: docs/performance.md, "Round 2"), and the
/// batch that fills the tile writes it whole under [`node_tile`] and
/// removes its runs, so a full tile is one key.
///
/// Runs have a prefix of their own ([`NODE_TILE_RUN_PREFIX`]), not `N`:
/// sled keeps neighbouring keys in one node (up to 16 keys) and rewrites
/// the whole node after every 10 changes to it, so runs, which every small
/// batch inserts, kept among full tiles of 8 KiB made sled rewrite up to
/// 128 KiB of unchanged tiles every 10 batches, at each tree level, and
/// the directory grew with the levels that had full tiles
/// (docs/performance.md, "At 20,000 entries: the cause of the growth").
pub fn node_tile_run(level: u8, tile: u64, start: u16) -> Vec<u8> {
    let mut key = node_tile(level, tile);
    key[0] = NODE_TILE_RUN_PREFIX;
    key.extend_from_slice(&start.to_be_bytes());
    key
}

/// The first byte of a [`node_tile_run`] key.
pub const NODE_TILE_RUN_PREFIX: u8 = b'M';

/// Bytes of a [`node_tile_run`] key.
pub const NODE_TILE_RUN_KEY_BYTES: usize = NODE_TILE_KEY_BYTES + 2;

/// Where node `id` lives: its tile key and its position in the tile.
pub fn node_place(id: NodeId) -> (u8, u64, usize) {
    (
        id.level,
        id.index / NODE_TILE_WIDTH,
        (id.index % NODE_TILE_WIDTH) as usize,
    )
}

pub fn body(id: &Hash) -> Vec<u8> {
    prefixed(b'B', &id.0)
}

pub fn reversal(target_seq: u64) -> Vec<u8> {
    prefixed(b'R', &target_seq.to_be_bytes())
}

pub fn proposal(id: &Hash) -> Vec<u8> {
    prefixed(b'P', &id.0)
}

pub const PROPOSAL_PREFIX: &[u8] = b"P";

/// A withdrawn proposal, by id.
pub fn withdrawn(id: &Hash) -> Vec<u8> {
    prefixed(b'D', &id.0)
}

pub const WITHDRAWN_PREFIX: &[u8] = b"D";

/// The order of withdrawals: time (u64 BE), then id.
pub fn withdrawn_order(withdrawn_ms: u64, id: &Hash) -> Vec<u8> {
    let mut key = prefixed(b'O', &withdrawn_ms.to_be_bytes());
    key.extend_from_slice(&id.0);
    key
}

pub const WITHDRAWN_ORDER_PREFIX: &[u8] = b"O";

/// The id at the end of a withdrawal-order key.
pub fn withdrawn_order_id(key: &[u8]) -> Result<Hash, StoreError> {
    key.get(9..)
        .and_then(Hash::from_slice)
        .ok_or_else(|| StoreError::damaged("a withdrawal-order key is not 41 bytes"))
}

pub fn cosigned(cosigner: &str) -> Vec<u8> {
    prefixed(b'W', cosigner.as_bytes())
}

pub const COSIGNED_PREFIX: &[u8] = b"W";

pub fn witness(name: &str) -> Vec<u8> {
    prefixed(b'V', name.as_bytes())
}

pub const WITNESS_PREFIX: &[u8] = b"V";

pub fn checkpoint(size: u64) -> Vec<u8> {
    prefixed(b'C', &size.to_be_bytes())
}

/// Index values never contain 0x00 (control characters are refused), so the
/// separator keeps one value's keys from running into another's.
pub fn index_prefix(tag: u8, value: &str) -> Vec<u8> {
    let mut key = vec![b'X', tag];
    key.extend_from_slice(value.as_bytes());
    key.push(0);
    key
}

/// Seqs per posting bucket: an index value's entries are kept as packed
/// big-endian u64 seqs, 128 to a key, so an append writes one key per
/// distinct value per batch rather than one key per entry. A batch rewrites
/// each bucket it touches whole, so the bucket is small (at most 1 KiB):
/// with 1,024 seqs to a bucket, small group commits (HTTP ingest, about 17
/// entries each) rewrote about 4 KiB per index value per batch, 1.2 KB per
/// entry (docs/performance.md, "Round 2").
pub const POSTING_BUCKET_BITS: u32 = 7;

pub fn posting(tag: u8, value: &str, bucket: u64) -> Vec<u8> {
    let mut key = index_prefix(tag, value);
    key.extend_from_slice(&bucket.to_be_bytes());
    key
}

/// Decodes a posting bucket's packed seqs.
pub fn posting_seqs(value: &[u8]) -> Result<Vec<u64>, StoreError> {
    if value.len() % 8 != 0 {
        return Err(StoreError::damaged(
            "an index bucket is not a whole number of seqs",
        ));
    }
    Ok(value
        .chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

pub fn totals(month: Month, fund: &str, category: &str) -> Vec<u8> {
    let mut key = totals_month_prefix(month);
    key.extend_from_slice(fund.as_bytes());
    key.push(0);
    key.extend_from_slice(category.as_bytes());
    key
}

pub fn totals_month_prefix(month: Month) -> Vec<u8> {
    let mut key = vec![b'T'];
    key.extend_from_slice(month.to_string().as_bytes());
    key.push(0);
    key
}

pub const TOTALS_PREFIX: &[u8] = b"T";

pub fn decode_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::damaged("a stored number is not 8 bytes"))
}

/// The trailing seq of an index key.
pub fn seq_suffix(key: &[u8]) -> Result<u64, StoreError> {
    key.len()
        .checked_sub(8)
        .map(|at| &key[at..])
        .ok_or_else(|| StoreError::damaged("an index key is too short"))
        .and_then(decode_u64)
}

/// All-time totals of one fund and category: the sum over every month of
/// the `T` records, kept in the same batch as them, so that a summary
/// without a month reads a few keys, not every month.
pub fn all_time_totals(fund: &str, category: &str) -> Vec<u8> {
    let mut key = ALL_TIME_TOTALS_PREFIX.to_vec();
    key.extend_from_slice(fund.as_bytes());
    key.push(0);
    key.extend_from_slice(category.as_bytes());
    key
}

pub const ALL_TIME_TOTALS_PREFIX: &[u8] = b"A";

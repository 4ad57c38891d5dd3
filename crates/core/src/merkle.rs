//! RFC 6962 / RFC 9162 section 2.1 Merkle tree maths: roots, inclusion and
//! consistency proofs, the append frontier, and C2SP tlog-tiles addressing.
//!
//! # The model
//!
//! The log is a list of leaves `D[0..n)`. Its Merkle Tree Hash (MTH) is
//! defined recursively (RFC 9162 2.1.1): the empty tree hashes to
//! `SHA-256("")`, one leaf to its [`leaf_hash`], and `n > 1` leaves split at
//! the largest power of two `k < n` into `node_hash(MTH(D[0..k]), MTH(D[k..n]))`.
//!
//! Every node of such a tree that covers a *perfect* subtree, `2^L` leaves
//! starting at a multiple of `2^L`, never changes once its last leaf is
//! appended. We name those nodes with [`NodeId`] `(level L, index K)`, covering
//! leaves `[K * 2^L, (K + 1) * 2^L)`. The store keeps the hash of every
//! perfect node and nothing else: the other nodes, on the right edge of a tree
//! whose size is not a power of two, depend on the tree size and are rebuilt
//! on demand from the perfect subtrees that compose them.
//!
//! # Core plans, store reads
//!
//! This module does no I/O. For each question (a root, an inclusion proof, a
//! consistency proof) it first *plans*: it lists the [`NodeId`]s whose hashes
//! are needed ([`peak_ids`], [`inclusion_proof_plan`],
//! [`consistency_proof_plan`]). A [`NodeReader`] (the store, or the in-memory
//! [`MemoryTree`]) returns those hashes in one batch, and the builders
//! ([`tree_root`], [`inclusion_proof`], [`consistency_proof`]) fold them into
//! the answer. This is the approach of Go's `golang.org/x/mod/sumdb/tlog` and
//! of ct-merkle's `indices_for_inclusion_proof`. Every proof reads
//! `O(log n)` nodes.
//!
//! A proof entry that is not a perfect subtree covers a range `[a, b)` at the
//! right edge of the tree. That range splits into perfect subtrees of strictly
//! decreasing size (one per set bit of `b - a`); the entry is those subtree
//! hashes folded right to left with [`node_hash`], exactly as the recursive
//! MTH definition would hash them.
//!
//! # Appending
//!
//! [`Frontier`] holds the roots of the perfect subtrees that make up the
//! whole tree (its "peaks", one per set bit of the size). Appending a leaf
//! merges equal-sized peaks like a binary counter carries, and reports every
//! perfect node it completed so the store can write them. `O(log n)` memory:
//! an auditor can recompute the root of a log of any length while streaming.
//!
//! # Verification
//!
//! [`verify_inclusion`] and [`verify_consistency`] follow RFC 9162 2.1.3.2 and
//! 2.1.4.2 step by step, after cheap up-front bound checks that give precise
//! errors (the proof length is fully determined by the sizes).
//!
//! # Limits
//!
//! A tree holds at most [`TREE_SIZE_MAX`] = `2^63 - 1` leaves, so no node sits
//! above level 62 and no proof is longer than [`PROOF_HASHES_MAX`] hashes.
//! Every function checks its inputs against these bounds and returns a typed
//! error rather than panicking.

use std::collections::HashMap;

pub use crate::hash::{leaf_hash, node_hash, Hash};

/// Number of bits a leaf count may use: a tree holds fewer than
/// `2^LEVELS_MAX` leaves. Node levels therefore run from 0 to
/// `LEVELS_MAX - 1`; a perfect subtree at level `LEVELS_MAX` would need
/// `2^63` leaves. Keeping one bit of headroom in `u64` means no size or index
/// arithmetic here can overflow.
pub const LEVELS_MAX: u8 = 63;

/// The largest number of leaves a tree may hold, `2^63 - 1`.
pub const TREE_SIZE_MAX: u64 = (1u64 << LEVELS_MAX) - 1;

/// The longest proof this module builds or accepts, in hashes. An inclusion
/// proof in a tree below `2^63` leaves has at most 63 hashes, a consistency
/// proof at most 64 (one per level plus the seed subtree).
pub const PROOF_HASHES_MAX: u64 = 64;

/// Height of a C2SP tlog-tiles tile: one tile spans 8 tree levels.
pub const TILE_HEIGHT: u8 = 8;

/// Hashes in a full tile: `2^TILE_HEIGHT`.
pub const TILE_WIDTH_MAX: u64 = 1 << TILE_HEIGHT;

/// Root of a perfect subtree: `level` L covers `2^L` leaves, `index` K covers
/// leaves `[K * 2^L, (K + 1) * 2^L)`. Level 0 nodes are leaf hashes.
///
/// Ordered by level, then index, so sorted collections group a level together.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    /// First leaf covered by this node, or `None` if it lies beyond `u64`.
    pub fn first_leaf(&self) -> Option<u64> {
        self.index
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }

    /// One past the last leaf covered by this node: the smallest tree size
    /// in which it exists. `None` if that lies beyond `u64`.
    pub fn end_leaf(&self) -> Option<u64> {
        self.index
            .checked_add(1)?
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }
}

/// MTH of the empty tree: `SHA-256("")` (RFC 9162 2.1.1).
pub fn empty_root() -> Hash {
    crate::hash::sha256(b"")
}

/// MTH over a slice of leaf hashes, by the recursive definition of RFC 9162
/// 2.1.1. It rehashes every interior node, `O(n)` work: for tests, tiles and
/// small trees. Large trees use [`Frontier`] or [`tree_root`].
pub fn root_from_leaf_hashes(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        0 => empty_root(),
        1 => leaf_hashes[0],
        n => {
            // Slices never hold more than isize::MAX items, so n - 1 fits in u64.
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaf_hashes[..k]),
                &root_from_leaf_hashes(&leaf_hashes[k..]),
            )
        }
    }
}

/// Largest power of two strictly below `n`. Requires `n >= 2` (callers
/// only split trees of two or more leaves).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Largest power of two at most `n`. Requires `n >= 1`.
fn largest_power_of_two_at_most(n: u64) -> u64 {
    debug_assert!(n >= 1);
    1u64 << (63 - n.leading_zeros())
}

/// Folds subtree hashes, left to right in the tree, into the MTH of their
/// union: `node_hash(h0, node_hash(h1, ... hN))`. `None` for no hashes.
fn fold_right_to_left(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    )
}

// ---------------------------------------------------------------------------
// Frontier
// ---------------------------------------------------------------------------

/// The right edge of a tree of `size` leaves: one root per perfect subtree
/// (the "peaks"), left to right, largest first, one per set bit of `size`.
///
/// `O(log n)` memory: this is how an auditor streams a million entries and
/// how the store appends.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// Invariant: `peaks.len() == size.count_ones()`, and `peaks[i]` is the
    /// hash of `peak_ids(size)[i]`.
    peaks: Vec<Hash>,
}

/// Why [`Frontier::from_peaks`] refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    #[error("tree size {size} is over the limit of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error(
        "a tree of {size} leaves has {expected} peaks (one per set bit of the size), got {found}"
    )]
    PeakCount {
        size: u64,
        expected: u64,
        found: u64,
    },
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends one leaf hash. Returns every perfect-subtree node this append
    /// completed, lowest level first: the leaf itself at level 0, then one
    /// node per trailing one bit of the old size (the carries). The store
    /// writes exactly these.
    ///
    /// # Panics
    ///
    /// Panics if the tree already holds [`TREE_SIZE_MAX`] leaves. That takes
    /// `2^63` appends, so it cannot happen to a real log; a checked error
    /// would burden every caller for an unreachable case.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        assert!(
            self.size < TREE_SIZE_MAX,
            "Merkle tree is full ({TREE_SIZE_MAX} leaves)"
        );
        let old_size = self.size;
        let mut completed = Vec::with_capacity(old_size.trailing_ones() as usize + 1);
        let mut hash = leaf_hash;
        completed.push((
            NodeId {
                level: 0,
                index: old_size,
            },
            hash,
        ));
        // Each trailing one bit of the old size is a peak of the same size as
        // the subtree being carried: merge them, like a binary counter.
        let mut level: u8 = 0;
        while (old_size >> level) & 1 == 1 {
            let left = self
                .peaks
                .pop()
                .expect("invariant: one peak per set bit of the size");
            hash = node_hash(&left, &hash);
            level += 1;
            // The new size is a multiple of 2^level here, so this node is the
            // last complete one at its level.
            completed.push((
                NodeId {
                    level,
                    index: old_size >> level,
                },
                hash,
            ));
        }
        self.peaks.push(hash);
        self.size = old_size + 1;
        completed
    }

    /// MTH of the whole tree so far; [`empty_root`] when the size is 0.
    pub fn root(&self) -> Hash {
        fold_right_to_left(&self.peaks).unwrap_or_else(empty_root)
    }

    /// The peak hashes, left to right (largest subtree first); their ids are
    /// [`peak_ids`]`(self.size())`.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Rebuilds a frontier from stored peaks: the store reads
    /// [`peak_ids`]`(size)` and passes the hashes here, in the same order.
    ///
    /// # Errors
    ///
    /// [`FrontierError::SizeTooLarge`] if `size > TREE_SIZE_MAX`;
    /// [`FrontierError::PeakCount`] if `peaks` does not hold exactly one hash
    /// per set bit of `size`.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Result<Frontier, FrontierError> {
        if size > TREE_SIZE_MAX {
            return Err(FrontierError::SizeTooLarge {
                size,
                max: TREE_SIZE_MAX,
            });
        }
        let expected = u64::from(size.count_ones());
        if peaks.len() as u64 != expected {
            return Err(FrontierError::PeakCount {
                size,
                expected,
                found: peaks.len() as u64,
            });
        }
        Ok(Frontier { size, peaks })
    }
}

/// Which perfect subtrees make up a tree of `size` leaves (the peaks), left
/// to right, largest first: one per set bit of `size`. Empty for size 0.
pub fn peak_ids(size: u64) -> Vec<NodeId> {
    (0..64u8)
        .rev()
        .filter(|&level| (size >> level) & 1 == 1)
        // Bit `level` of size is set, so (size >> level) is odd and the peak
        // at this level is the last whole node there.
        .map(|level| NodeId {
            level,
            index: (size >> level) - 1,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Reading stored nodes
// ---------------------------------------------------------------------------

/// Supplies stored perfect-subtree hashes. Implemented by the store and by
/// [`MemoryTree`].
pub trait NodeReader {
    type Error;
    /// Returns the hashes of `ids`, in the same order. Builders make one call
    /// per proof or root with `O(log n)` ids (under 130 even at
    /// [`TREE_SIZE_MAX`]), and never call with an empty list.
    ///
    /// # Errors
    ///
    /// Whatever the backing storage reports, e.g. a node it does not hold.
    fn read_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error>;
}

/// Why a proof or root could not be planned: the request itself is out of
/// bounds, whatever the tree holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofRequestError {
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} is over the limit of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNewSize { old_size: u64, new_size: u64 },
    #[error(
        "no consistency proof exists from the empty tree to size {new_size}: \
         RFC 9162 defines them for 0 < old size; every tree extends the empty tree"
    )]
    EmptyOldTree { new_size: u64 },
}

/// Why building a proof or root through a [`NodeReader`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofBuildError<E> {
    #[error(transparent)]
    Request(#[from] ProofRequestError),
    #[error("reading stored Merkle tree nodes failed: {0}")]
    Read(E),
    #[error("node reader returned {returned} hashes for {requested} requested nodes")]
    WrongNodeCount { requested: u64, returned: u64 },
}

fn check_size(size: u64) -> Result<(), ProofRequestError> {
    if size > TREE_SIZE_MAX {
        return Err(ProofRequestError::SizeTooLarge {
            size,
            max: TREE_SIZE_MAX,
        });
    }
    Ok(())
}

/// A leaf range `[start, end)` whose MTH is one proof entry.
#[derive(Clone, Copy, Debug)]
struct LeafRange {
    start: u64,
    end: u64,
}

/// Splits `range` into perfect subtrees of strictly decreasing size, left to
/// right. Every range a proof needs starts at a multiple of a power of two at
/// least as large as the range, so each piece is an aligned, stored node.
fn push_range_nodes(range: LeafRange, out: &mut Vec<NodeId>) {
    let mut start = range.start;
    while start < range.end {
        let width = largest_power_of_two_at_most(range.end - start);
        let level = width.trailing_zeros() as u8;
        debug_assert_eq!(start & (width - 1), 0, "proof ranges are aligned");
        out.push(NodeId {
            level,
            index: start >> level,
        });
        start += width;
    }
}

/// Proof entries for leaf `index` in a tree of `size` leaves, bottom-up, as
/// the ranges RFC 9162 2.1.3.1 `PATH(m, D[n])` hashes. Requires
/// `index < size <= TREE_SIZE_MAX`.
fn inclusion_ranges(index: u64, size: u64) -> Vec<LeafRange> {
    let (mut start, mut end) = (0u64, size);
    let mut top_down = Vec::new();
    while end - start > 1 {
        let mid = start + largest_power_of_two_below(end - start);
        if index < mid {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            top_down.push(LeafRange { start: mid, end });
            end = mid;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            top_down.push(LeafRange { start, end: mid });
            start = mid;
        }
    }
    // The recursion emits the deepest sibling first.
    top_down.reverse();
    top_down
}

/// Proof entries from `old_size` to `new_size`, as the ranges RFC 9162
/// 2.1.4.1 `PROOF(m, D[n])` hashes. Requires `0 < old_size < new_size`.
fn consistency_ranges(old_size: u64, new_size: u64) -> Vec<LeafRange> {
    let (mut start, mut end) = (0u64, new_size);
    // `b` of SUBPROOF: true while the current subtree is a prefix of the old
    // tree's root path, so its hash is the old root the verifier already has.
    let mut old_root_known = true;
    let mut top_down = Vec::new();
    loop {
        if old_size == end {
            // SUBPROOF(m, D[m], b) = {} if b, else {MTH(D[m])}
            if !old_root_known {
                top_down.push(LeafRange { start, end });
            }
            break;
        }
        let mid = start + largest_power_of_two_below(end - start);
        if old_size <= mid {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            top_down.push(LeafRange { start: mid, end });
            end = mid;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            top_down.push(LeafRange { start, end: mid });
            start = mid;
            old_root_known = false;
        }
    }
    top_down.reverse();
    top_down
}

fn checked_inclusion_ranges(index: u64, size: u64) -> Result<Vec<LeafRange>, ProofRequestError> {
    check_size(size)?;
    if index >= size {
        return Err(ProofRequestError::IndexOutOfRange { index, size });
    }
    Ok(inclusion_ranges(index, size))
}

fn checked_consistency_ranges(
    old_size: u64,
    new_size: u64,
) -> Result<Vec<LeafRange>, ProofRequestError> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(ProofRequestError::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == new_size {
        // Equal trees need no proof: the verifier just compares roots.
        return Ok(Vec::new());
    }
    if old_size == 0 {
        return Err(ProofRequestError::EmptyOldTree { new_size });
    }
    Ok(consistency_ranges(old_size, new_size))
}

fn flatten_ranges(ranges: &[LeafRange]) -> Vec<NodeId> {
    let mut ids = Vec::new();
    for range in ranges {
        push_range_nodes(*range, &mut ids);
    }
    ids
}

/// The node ids an inclusion proof for leaf `index` in a tree of `size`
/// leaves needs, in the order [`inclusion_proof`] reads them: proof entries
/// bottom-up, each entry's perfect subtrees left to right.
///
/// # Errors
///
/// [`ProofRequestError::IndexOutOfRange`] if `index >= size` (so always for
/// size 0); [`ProofRequestError::SizeTooLarge`] if `size > TREE_SIZE_MAX`.
pub fn inclusion_proof_plan(index: u64, size: u64) -> Result<Vec<NodeId>, ProofRequestError> {
    Ok(flatten_ranges(&checked_inclusion_ranges(index, size)?))
}

/// The node ids a consistency proof from `old_size` to `new_size` needs, in
/// the order [`consistency_proof`] reads them. Empty when the sizes are equal
/// (the proof is empty).
///
/// # Errors
///
/// [`ProofRequestError::SizeTooLarge`] if `new_size > TREE_SIZE_MAX`;
/// [`ProofRequestError::OldSizeExceedsNewSize`];
/// [`ProofRequestError::EmptyOldTree`] if `old_size == 0 < new_size`.
pub fn consistency_proof_plan(
    old_size: u64,
    new_size: u64,
) -> Result<Vec<NodeId>, ProofRequestError> {
    Ok(flatten_ranges(&checked_consistency_ranges(
        old_size, new_size,
    )?))
}

/// Reads every node of `ranges` in one batch and folds each range into its
/// MTH.
fn hash_ranges<R: NodeReader>(
    ranges: &[LeafRange],
    reader: &R,
) -> Result<Vec<Hash>, ProofBuildError<R::Error>> {
    let mut ids = Vec::new();
    let mut ends = Vec::with_capacity(ranges.len());
    for range in ranges {
        push_range_nodes(*range, &mut ids);
        ends.push(ids.len());
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_nodes(&ids).map_err(ProofBuildError::Read)?;
    if hashes.len() != ids.len() {
        return Err(ProofBuildError::WrongNodeCount {
            requested: ids.len() as u64,
            returned: hashes.len() as u64,
        });
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut begin = 0;
    for end in ends {
        let entry = fold_right_to_left(&hashes[begin..end])
            .expect("every proof range is non-empty, so it has at least one node");
        out.push(entry);
        begin = end;
    }
    Ok(out)
}

/// Builds the inclusion proof (RFC 9162 2.1.3.1 `PATH`) for leaf `index` in
/// the tree of `size` leaves, reading the nodes of [`inclusion_proof_plan`]
/// in one [`NodeReader::read_nodes`] call (none for a one-leaf tree).
///
/// # Errors
///
/// [`ProofBuildError::Request`] for out-of-range arguments (see
/// [`inclusion_proof_plan`]); [`ProofBuildError::Read`] if the reader fails;
/// [`ProofBuildError::WrongNodeCount`] if it returns the wrong number of
/// hashes.
pub fn inclusion_proof<R: NodeReader>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofBuildError<R::Error>> {
    hash_ranges(&checked_inclusion_ranges(index, size)?, reader)
}

/// Builds the consistency proof (RFC 9162 2.1.4.1 `PROOF`) from the tree of
/// `old_size` leaves to the tree of `new_size` leaves, in one read. Equal
/// sizes give an empty proof.
///
/// # Errors
///
/// As [`consistency_proof_plan`] (wrapped in [`ProofBuildError::Request`]),
/// plus [`ProofBuildError::Read`] and [`ProofBuildError::WrongNodeCount`].
pub fn consistency_proof<R: NodeReader>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProofBuildError<R::Error>> {
    hash_ranges(&checked_consistency_ranges(old_size, new_size)?, reader)
}

/// MTH of the tree of `size` leaves, from its stored peaks ([`peak_ids`]) in
/// one read. Size 0 gives [`empty_root`] without reading.
///
/// # Errors
///
/// [`ProofRequestError::SizeTooLarge`] (as [`ProofBuildError::Request`]),
/// [`ProofBuildError::Read`], [`ProofBuildError::WrongNodeCount`].
///
/// # Panics
/// Never: one range read gives one hash, or the reader's error.
pub fn tree_root<R: NodeReader>(size: u64, reader: &R) -> Result<Hash, ProofBuildError<R::Error>> {
    check_size(size)?;
    if size == 0 {
        return Ok(empty_root());
    }
    let whole = LeafRange {
        start: 0,
        end: size,
    };
    let mut hashes = hash_ranges(&[whole], reader)?;
    Ok(hashes.pop().expect("one range in, one hash out"))
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

/// Why an inclusion proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InclusionVerifyError {
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size} is over the limit of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error("inclusion proof has {found} hashes, over the limit of {max}")]
    ProofTooLong { found: u64, max: u64 },
    #[error("inclusion proof for this index and tree size has {expected} hashes, got {found}")]
    ProofLength { expected: u64, found: u64 },
    #[error("inclusion proof leads to root {computed}, but the tree's root is {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
}

/// Why a consistency proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsistencyVerifyError {
    #[error("tree size {size} is over the limit of {max} leaves")]
    SizeTooLarge { size: u64, max: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeExceedsNewSize { old_size: u64, new_size: u64 },
    #[error(
        "no consistency proof exists from the empty tree to size {new_size}: \
         RFC 9162 defines them for 0 < old size; check the new tree on its own"
    )]
    EmptyOldTree { new_size: u64 },
    #[error("a tree of size 0 has root {expected} (SHA-256 of nothing), got {found}")]
    NotEmptyTreeRoot { expected: Hash, found: Hash },
    #[error("both trees have {size} leaves but different roots: {old_root} and {new_root}")]
    EqualSizesDifferentRoots {
        size: u64,
        old_root: Hash,
        new_root: Hash,
    },
    #[error("consistency proof has {found} hashes, over the limit of {max}")]
    ProofTooLong { found: u64, max: u64 },
    #[error("consistency proof for these tree sizes has {expected} hashes, got {found}")]
    ProofLength { expected: u64, found: u64 },
    #[error(
        "consistency proof leads to old root {computed}, but the old tree's root is {expected}"
    )]
    OldRootMismatch { computed: Hash, expected: Hash },
    #[error(
        "consistency proof leads to new root {computed}, but the new tree's root is {expected}"
    )]
    NewRootMismatch { computed: Hash, expected: Hash },
}

/// Checks that `proof` shows the leaf with hash `leaf_hash` at `index` in the
/// tree of `size` leaves with root `root`, by RFC 9162 2.1.3.2 exactly.
///
/// Before the RFC algorithm it checks the bounds and that the proof has the
/// one length these sizes allow, so a wrong length gets its own error rather
/// than a root mismatch. The tree size is authenticated by whatever signed
/// the root, not by the proof: callers must take `size` from the same signed
/// checkpoint as `root`.
///
/// # Errors
///
/// [`InclusionVerifyError::IndexOutOfRange`] if `index >= size` (so always
/// for size 0), `SizeTooLarge`, `ProofTooLong`, `ProofLength`, and
/// `RootMismatch` when the proof does not lead to `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), InclusionVerifyError> {
    if size > TREE_SIZE_MAX {
        return Err(InclusionVerifyError::SizeTooLarge {
            size,
            max: TREE_SIZE_MAX,
        });
    }
    // RFC step 1.
    if index >= size {
        return Err(InclusionVerifyError::IndexOutOfRange { index, size });
    }
    let found = proof.len() as u64;
    if found > PROOF_HASHES_MAX {
        return Err(InclusionVerifyError::ProofTooLong {
            found,
            max: PROOF_HASHES_MAX,
        });
    }
    let expected = inclusion_proof_len(index, size);
    let length_error = InclusionVerifyError::ProofLength { expected, found };
    if found != expected {
        return Err(length_error);
    }
    // RFC steps 2-3. `fn` is a keyword, hence `f` and `s`.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    // RFC step 4.
    for p in proof {
        if s == 0 {
            return Err(length_error);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                // On the right edge the path skips levels where the node has
                // no right sibling: climb until we are a right child again.
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // RFC step 5.
    if s != 0 {
        return Err(length_error);
    }
    if r != *root {
        return Err(InclusionVerifyError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// Length of the inclusion proof for `index` in a tree of `size`
/// (`index < size`): the levels below the point where the paths to `index`
/// and `size - 1` part, plus one per left sibling above it.
fn inclusion_proof_len(index: u64, size: u64) -> u64 {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    u64::from(inner + border)
}

/// Checks that `proof` shows the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root`, by RFC 9162 2.1.4.2 exactly for `0 < old_size < new_size`.
///
/// The edge cases, chosen to match the transparency-dev/merkle test vectors:
/// * `old_size == new_size`: the proof must be empty and the roots equal;
///   for size 0 both roots must also be [`empty_root`].
/// * `0 == old_size < new_size`: rejected with
///   [`ConsistencyVerifyError::EmptyOldTree`], whatever the proof. RFC 9162
///   defines consistency proofs only for `0 < old_size`; every tree extends
///   the empty tree, so a client with no previous checkpoint has nothing to
///   check and should skip this call.
///
/// # Errors
///
/// One [`ConsistencyVerifyError`] variant per failed check: sizes out of
/// bounds or out of order, the two cases above, a proof of the wrong length,
/// or a proof that does not lead to `old_root` / `new_root`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ConsistencyVerifyError> {
    if new_size > TREE_SIZE_MAX {
        return Err(ConsistencyVerifyError::SizeTooLarge {
            size: new_size,
            max: TREE_SIZE_MAX,
        });
    }
    if old_size > new_size {
        return Err(ConsistencyVerifyError::OldSizeExceedsNewSize { old_size, new_size });
    }
    let found = proof.len() as u64;
    if found > PROOF_HASHES_MAX {
        return Err(ConsistencyVerifyError::ProofTooLong {
            found,
            max: PROOF_HASHES_MAX,
        });
    }
    if old_size == new_size {
        if found != 0 {
            return Err(ConsistencyVerifyError::ProofLength { expected: 0, found });
        }
        if old_size == 0 {
            let empty = empty_root();
            for root in [old_root, new_root] {
                if *root != empty {
                    return Err(ConsistencyVerifyError::NotEmptyTreeRoot {
                        expected: empty,
                        found: *root,
                    });
                }
            }
        }
        if old_root != new_root {
            return Err(ConsistencyVerifyError::EqualSizesDifferentRoots {
                size: old_size,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }
    if old_size == 0 {
        return Err(ConsistencyVerifyError::EmptyOldTree { new_size });
    }
    let expected = consistency_ranges(old_size, new_size).len() as u64;
    let length_error = ConsistencyVerifyError::ProofLength { expected, found };
    // RFC step 1 (an empty proof) is covered: `expected` is at least 1 here.
    if found != expected {
        return Err(length_error);
    }
    // RFC step 2: when the old tree is a perfect subtree, its root is the
    // seed and the proof omits it.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(length_error),
        }
    };
    // RFC step 3.
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    // RFC step 4: skip the levels where the old tree's last node is a right
    // child, since the seed already covers them.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // RFC step 5.
    let (mut fr, mut sr) = (seed, seed);
    // RFC step 6.
    for c in rest {
        if s == 0 {
            return Err(length_error);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // RFC step 7.
    if s != 0 {
        return Err(length_error);
    }
    if fr != *old_root {
        return Err(ConsistencyVerifyError::OldRootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if sr != *new_root {
        return Err(ConsistencyVerifyError::NewRootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// In-memory tree
// ---------------------------------------------------------------------------

/// An in-memory tree that keeps the hash of every perfect-subtree node, one
/// `Vec` per level (`levels[L][K]` is node `(L, K)`). About `2n` hashes for
/// `n` leaves. For tests, the CLI's remote verification, and benches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

/// A [`NodeReader`] was asked for a node it does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Merkle tree node at level {} index {} is not stored", .id.level, .id.index)]
pub struct MissingNode {
    pub id: NodeId,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one leaf hash and every perfect node it completes.
    ///
    /// # Panics
    ///
    /// Panics if the tree already holds [`TREE_SIZE_MAX`] leaves (memory runs
    /// out long before).
    pub fn push(&mut self, leaf_hash: Hash) {
        assert!(
            self.size() < TREE_SIZE_MAX,
            "Merkle tree is full ({TREE_SIZE_MAX} leaves)"
        );
        let mut hash = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            // An even count means the node just pushed is a right child: its
            // parent is now complete.
            if nodes.len() & 1 == 1 {
                break;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// MTH of the whole tree; [`empty_root`] when empty.
    pub fn root(&self) -> Hash {
        let peaks: Vec<Hash> = peak_ids(self.size())
            .into_iter()
            .map(|id| self.levels[usize::from(id.level)][id.index as usize])
            .collect();
        fold_right_to_left(&peaks).unwrap_or_else(empty_root)
    }

    /// The stored hash of node `id`, if the tree has it.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let level = self.levels.get(usize::from(id.level))?;
        level.get(usize::try_from(id.index).ok()?).copied()
    }

    /// Every stored perfect node, by level then index.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, Hash)> + '_ {
        self.levels.iter().enumerate().flat_map(|(level, hashes)| {
            hashes.iter().enumerate().map(move |(index, hash)| {
                (
                    NodeId {
                        level: level as u8,
                        index: index as u64,
                    },
                    *hash,
                )
            })
        })
    }
}

impl NodeReader for MemoryTree {
    type Error = MissingNode;

    fn read_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MissingNode> {
        ids.iter()
            .map(|&id| self.node(id).ok_or(MissingNode { id }))
            .collect()
    }
}

/// A plain map from node id to hash is a reader too: handy for a verifier
/// that fetched exactly the planned nodes.
impl<S: std::hash::BuildHasher> NodeReader for HashMap<NodeId, Hash, S> {
    type Error = MissingNode;

    fn read_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MissingNode> {
        ids.iter()
            .map(|&id| self.get(&id).copied().ok_or(MissingNode { id }))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// C2SP tlog-tiles
// ---------------------------------------------------------------------------

/// Tree level of the hashes in tiles of `tile_level`, or `None` when no node
/// can sit that high in a tree below `2^63` leaves.
fn tile_node_level(tile_level: u8) -> Option<u8> {
    let level = u32::from(tile_level) * u32::from(TILE_HEIGHT);
    u8::try_from(level).ok().filter(|&l| l < LEVELS_MAX)
}

/// The node ids that make up tile `(tile_level, tile_index)` of `width`
/// hashes (C2SP tlog-tiles): level `tile_level * 8` nodes with indices
/// `[tile_index * 256, tile_index * 256 + width)`.
///
/// Out-of-range input gives a shorter list rather than a panic: `width` is
/// capped at [`TILE_WIDTH_MAX`], and a tile level with no possible nodes
/// (level 8 and up, i.e. tree level 64+) or indices past `u64` give no ids.
pub fn tile_node_ids(tile_level: u8, tile_index: u64, width: u64) -> Vec<NodeId> {
    let Some(level) = tile_node_level(tile_level) else {
        return Vec::new();
    };
    let Some(first) = tile_index.checked_mul(TILE_WIDTH_MAX) else {
        return Vec::new();
    };
    let width = width.min(TILE_WIDTH_MAX);
    let end = first.saturating_add(width);
    (first..end).map(|index| NodeId { level, index }).collect()
}

/// Width of tile `(tile_level, tile_index)` in a tree of `size` leaves:
/// [`TILE_WIDTH_MAX`] if the tile is full, the partial width (1..=255) if it
/// is the rightmost partial tile, or `None` if the tile has no hashes yet.
///
/// Per C2SP tlog-tiles, level `l` holds `floor(size / 256^l)` hashes in
/// total, 256 per tile.
pub fn tile_width(tile_level: u8, tile_index: u64, size: u64) -> Option<u64> {
    let level = tile_node_level(tile_level)?;
    let hashes_at_level = size >> level;
    let first = tile_index.checked_mul(TILE_WIDTH_MAX)?;
    if hashes_at_level <= first {
        return None;
    }
    Some((hashes_at_level - first).min(TILE_WIDTH_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// The planned ids of every proof are exactly the nodes the builder
    /// reads, and all of them exist in the tree of that size.
    #[test]
    fn plans_only_name_nodes_that_exist() {
        let mut tree = MemoryTree::new();
        for leaf in leaves(40) {
            tree.push(leaf);
        }
        for size in 1..=40u64 {
            for index in 0..size {
                for id in inclusion_proof_plan(index, size).unwrap() {
                    assert!(id.end_leaf().unwrap() <= size, "{id:?} not in size {size}");
                }
            }
            for old in 1..=size {
                for id in consistency_proof_plan(old, size).unwrap() {
                    assert!(id.end_leaf().unwrap() <= size, "{id:?} not in size {size}");
                }
            }
        }
    }

    /// Proof lengths computed by formula match the ranges the builder uses.
    #[test]
    fn inclusion_length_formula_matches_ranges() {
        for size in 1..=300u64 {
            for index in 0..size {
                assert_eq!(
                    inclusion_proof_len(index, size),
                    inclusion_ranges(index, size).len() as u64
                );
            }
        }
        // The largest trees stay within the proof limit.
        assert_eq!(inclusion_proof_len(0, TREE_SIZE_MAX), 63);
        let longest = consistency_ranges(TREE_SIZE_MAX - 1, TREE_SIZE_MAX).len() as u64;
        assert!(longest <= PROOF_HASHES_MAX, "{longest}");
    }

    /// Requests at the size limit plan without overflow, and one past it is refused.
    #[test]
    fn size_limits_are_enforced_without_panics() {
        let plan = inclusion_proof_plan(TREE_SIZE_MAX - 1, TREE_SIZE_MAX).unwrap();
        assert_eq!(plan.len(), 62, "one left sibling per level below the top");
        assert!(matches!(
            inclusion_proof_plan(0, TREE_SIZE_MAX + 1),
            Err(ProofRequestError::SizeTooLarge { .. })
        ));
        assert!(consistency_proof_plan(1, TREE_SIZE_MAX).is_ok());
        assert!(matches!(
            consistency_proof_plan(1, u64::MAX),
            Err(ProofRequestError::SizeTooLarge { .. })
        ));
        assert_eq!(peak_ids(u64::MAX).len(), 64);
        assert!(tile_node_ids(8, 0, 256).is_empty());
        assert_eq!(tile_width(8, 0, u64::MAX), None);
        assert_eq!(tile_node_ids(0, u64::MAX, 256).len(), 0);
    }
}

// The log's tree in the browser (RFC 6962 / RFC 9162, C2SP tlog-tiles):
// a running Merkle frontier over the leaves replayed so far, consistency
// proof verification, and entry bundles (which paths cover which leaves,
// and how a bundle frames its leaves). Pure functions over bytes; hashing
// is verify.js's WebCrypto SHA-256. Nothing here fetches.
//
// Trust: a root computed here is only as good as the leaves fed in; it is
// compared with the root of a checkpoint signed by the log key (worker.js).

import { sha256, leafHash, nodeHash, equalBytes, toHex, fromHex } from './verify.js';

/** Leaves per entry bundle and hashes per tile (c2sp.org/tlog-tiles). */
export const TILE_WIDTH = 256;
/** The longest proof of a tree of at most 2^63 leaves. */
const PROOF_HASHES_MAX = 64;
/** A leaf's length is a big-endian u16 in a bundle (docs/format.md §14.2). */
const BUNDLE_LENGTH_BYTES = 2;

// ---------------------------------------------------------------------------
// The frontier: the roots of the perfect subtrees that make up the tree so
// far, left to right, as lower-case hex (plain strings, so a saved state is
// structured-clone-able). Its length is the number of 1 bits of the size.
// ---------------------------------------------------------------------------

function popcount(size) {
  let n = 0;
  for (let s = size; s > 0; s = Math.floor(s / 2)) n += s % 2;
  return n;
}

/**
 * Appends one leaf hash to a frontier of `size` leaves, returning the new
 * frontier (the input is not changed).
 */
export async function frontierAppend(frontier, size, hash) {
  if (frontier.length !== popcount(size)) throw new Error('frontier does not match its size');
  const out = frontier.slice();
  let h = hash;
  // Each trailing 1 bit of the size is a perfect subtree the new leaf
  // completes a pair with.
  for (let s = size; s % 2 === 1; s = Math.floor(s / 2)) {
    h = await nodeHash(fromHex(out.pop()), h);
  }
  out.push(toHex(h));
  return out;
}

/**
 * Appends the leaf hashes `hashes` (byte arrays, in order) to a frontier of
 * `size` leaves and returns the new frontier, the same as `frontierAppend`
 * leaf after leaf; but the pairs of one level of the tree do not depend on
 * each other, so each level's hashes are asked for at once, and a replay
 * waits on about log2 of the size rounds of hashing instead of one or more
 * a leaf (WebCrypto answers each call a task later).
 */
export async function frontierExtend(frontier, size, hashes) {
  if (frontier.length !== popcount(size)) throw new Error('frontier does not match its size');
  // The old frontier by level: its roots are the 1 bits of `size`, highest first.
  const oldByLevel = new Map();
  for (let level = 0, s = size, i = frontier.length - 1; s > 0; level++, s = Math.floor(s / 2)) {
    if (s % 2 === 1) oldByLevel.set(level, frontier[i--]);
  }
  const end = size + hashes.length;
  const newByLevel = new Map();
  // `nodes` are the level's new nodes, the first at index `first` of the level.
  let nodes = hashes;
  let first = size;
  for (let level = 0; ; level++) {
    const levelEnd = Math.floor(end / 2 ** level);
    if (first === levelEnd) {
      // Nothing new from this level up: the old roots there stay.
      for (const [l, hex] of oldByLevel) if (l >= level) newByLevel.set(l, hex);
      break;
    }
    let row = nodes;
    // An odd first index has its left sibling in the old frontier.
    if (first % 2 === 1) {
      row = [fromHex(oldByLevel.get(level)), ...nodes];
      first -= 1;
    }
    // An odd count leaves the last node unpaired: a root of the new frontier.
    if (row.length % 2 === 1) newByLevel.set(level, toHex(row[row.length - 1]));
    const pairs = [];
    for (let i = 0; i + 1 < row.length; i += 2) pairs.push(nodeHash(row[i], row[i + 1]));
    nodes = await Promise.all(pairs);
    first /= 2;
  }
  const out = [...newByLevel.entries()].sort((a, b) => b[0] - a[0]).map(([, hex]) => hex);
  if (out.length !== popcount(end)) throw new Error('extended frontier does not match its size');
  return out;
}

/** The RFC 6962 tree hash of a frontier: SHA-256("") for the empty tree. */
export async function frontierRoot(frontier) {
  if (frontier.length === 0) return sha256(new Uint8Array(0));
  let root = fromHex(frontier[frontier.length - 1]);
  for (let i = frontier.length - 2; i >= 0; i--) root = await nodeHash(fromHex(frontier[i]), root);
  return root;
}

/** The tree hash of `leaves` (byte arrays), through the frontier. */
export async function treeRoot(leaves) {
  let frontier = [];
  for (let i = 0; i < leaves.length; i++) frontier = await frontierAppend(frontier, i, await leafHash(leaves[i]));
  return frontierRoot(frontier);
}

// ---------------------------------------------------------------------------
// Consistency proofs (RFC 9162 §2.1.4.2), as the core's verify_consistency:
// equal sizes need an empty proof and equal roots; there is no proof from
// the empty tree to a larger one.
// ---------------------------------------------------------------------------

/** How many hashes the proof from `oldSize` to `newSize` holds (RFC 9162 §2.1.4.1). */
function consistencyProofLength(oldSize, newSize) {
  // SUBPROOF(m, D[n], true): one hash per level walked, plus the seed when
  // the old tree is not a perfect subtree met on the way.
  let length = 0;
  let m = oldSize;
  let n = newSize;
  let whole = true;
  while (m !== n) {
    let k = 1;
    while (k * 2 < n) k *= 2;
    length += 1;
    if (m <= k) {
      n = k;
    } else {
      m -= k;
      n -= k;
      whole = false;
    }
  }
  return whole ? length : length + 1;
}

/**
 * Whether `proof` (32-byte arrays) proves that the tree of `oldSize` leaves
 * with root `oldRoot` is a prefix of the tree of `newSize` leaves with root
 * `newRoot`.
 */
export async function verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot) {
  const sizeOk = (n) => Number.isSafeInteger(n) && n >= 0;
  if (!sizeOk(oldSize) || !sizeOk(newSize) || oldSize > newSize) return false;
  if (!Array.isArray(proof) || proof.length > PROOF_HASHES_MAX) return false;
  if (proof.some((p) => !(p instanceof Uint8Array) || p.length !== 32)) return false;
  if (!(oldRoot instanceof Uint8Array) || !(newRoot instanceof Uint8Array)) return false;
  if (oldRoot.length !== 32 || newRoot.length !== 32) return false;
  if (oldSize === newSize) {
    if (proof.length !== 0) return false;
    if (oldSize === 0) {
      const empty = await sha256(new Uint8Array(0));
      if (!equalBytes(oldRoot, empty) || !equalBytes(newRoot, empty)) return false;
    }
    return equalBytes(oldRoot, newRoot);
  }
  if (oldSize === 0) return false;
  if (proof.length !== consistencyProofLength(oldSize, newSize)) return false;
  // When the old tree is a perfect subtree its root is the seed, and the
  // proof leaves it out.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
}

function isPowerOfTwo(n) {
  let m = n;
  while (m > 1 && m % 2 === 0) m /= 2;
  return m === 1;
}

// ---------------------------------------------------------------------------
// Entry bundles (c2sp.org/tlog-tiles, docs/format.md §14.2)
// ---------------------------------------------------------------------------

/** The tile index as the spec writes it: `x001/234` for 1,234, `000` for 0. */
export function tileIndexPath(index) {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error('a tile index is a non-negative integer');
  const groups = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/**
 * The entry bundles that hold leaves `from .. to-1` of a tree of `to`
 * leaves: for each, its path (`tile/entries/N` or `tile/entries/N.p/W`),
 * the seq of its first leaf, its width, and how many leading leaves are
 * before `from` (already replayed, to be skipped).
 */
export function bundlesCovering(from, to) {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
    throw new Error('a range of leaves is 0 <= from <= to');
  }
  const out = [];
  if (from === to) return out;
  const last = Math.floor((to - 1) / TILE_WIDTH);
  for (let index = Math.floor(from / TILE_WIDTH); index <= last; index++) {
    const first = index * TILE_WIDTH;
    const width = Math.min(TILE_WIDTH, to - first);
    const partial = width < TILE_WIDTH ? `.p/${width}` : '';
    out.push({ path: `tile/entries/${tileIndexPath(index)}${partial}`, index, first, width, skip: Math.max(0, from - first) });
  }
  return out;
}

/**
 * Splits a bundle into its leaves: each a big-endian u16 length, then that
 * many bytes, with nothing left over. Throws Error naming the fault when
 * the framing is wrong or the count is not `width`.
 */
export function parseBundle(bytes, width) {
  const leaves = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + BUNDLE_LENGTH_BYTES > bytes.length) throw new Error(`a length prefix is cut off at byte ${at}`);
    const length = (bytes[at] << 8) | bytes[at + 1];
    at += BUNDLE_LENGTH_BYTES;
    if (at + length > bytes.length) throw new Error(`leaf ${leaves.length} is cut off at byte ${bytes.length}`);
    leaves.push(bytes.subarray(at, at + length));
    at += length;
  }
  if (leaves.length !== width) throw new Error(`the bundle holds ${leaves.length} leaves, not ${width}`);
  return leaves;
}

// What this browser keeps of a ledger's check between visits, read and
// written by the check's worker (worker.js), so the replay state never
// passes through the page's thread.
//
// Per ledger, one record in the store `ledgers`, keyed by the ledger's
// origin AND its page's base URL (one browser can follow several ledgers,
// and the same origin served from two places stays two records):
//   {key, origin, base, logKey, state, bodies, checkpoint: {size, root,
//    note}, savedMs}
// (the balances and month totals are in `state`).
// `state` is replay.js's state (size, frontier, balances, totals, roles,
// rules, reversals) without its per-entry maps, which grow with the log and
// are kept in forms that stay cheap to read at any size:
// - `bodies`: every entry's body id, as {ids: Uint8Array of 32 bytes each,
//   sorted, seqs: Uint32Array, the seq of each}, searched by bisection:
//   two typed arrays are read back as two copies, where a map of an id a
//   key was read back key by key (docs/performance.md has the times);
// - in the store `entries`, runs of at most RUN_ENTRIES entries, each
//   entry's money or, for an entry that moves none, its kind (what a
//   reversal looks up): [key, 'm', first seq] -> [money | kind, ...].
// A returning visit reads the record and then only the run a reversal among
// its new leaves names (`earlierEntries`).
//
// A record is written only after a run that verified, with its new runs
// in the same transaction; a run that failed, or found a rollback or a
// fork, leaves the kept checkpoint as it was. A record written before the
// entries were kept apart still holds them in its state; it is read as it
// is, and moved apart when it is next written.

import { openEarly, withStore, withStores } from './idb.js';
import { fromHex, toHex } from './verify.js';

const LEDGERS = { db: 'feeledger-ledger-state', version: 2, store: 'ledgers', keyPath: 'key', more: { entries: null } };
const STORES = ['ledgers', 'entries'];
const RUN_ENTRIES = 4096;
const NO_BODIES = { ids: new Uint8Array(0), seqs: new Uint32Array(0) };

/** The record key of a ledger: its origin and its page's absolute base URL. */
export function recordKey(origin, base) {
  return `${origin}\n${base}`;
}

// Every run of `key`: the keys [key, ...] (an array sorts after every
// number and string, so [key, []] bounds them).
const entriesOf = (key) => IDBKeyRange.bound([key], [key, []]);

// The order of body id `i` of `ids` against `id` (32 bytes each).
function compareAt(ids, i, id) {
  const at = i * 32;
  for (let j = 0; j < 32; j++) {
    const d = ids[at + j] - id[j];
    if (d !== 0) return d;
  }
  return 0;
}

/** The seq of the body id `id` (32 bytes) in `bodies`, or undefined. */
function seqOfBodyIn(bodies, id) {
  let lo = 0;
  let hi = bodies.seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compareAt(bodies.ids, mid, id);
    if (order === 0) return bodies.seqs[mid];
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** `bodies` with `added` ({hex id: seq}) merged in, still sorted. */
function withBodies(bodies, added) {
  const fresh = Object.entries(added).map(([hex, seq]) => [fromHex(hex), seq]);
  fresh.sort((a, b) => -compareAt(b[0], 0, a[0]));
  const n = bodies.seqs.length + fresh.length;
  const ids = new Uint8Array(n * 32);
  const seqs = new Uint32Array(n);
  for (let i = 0, j = 0, k = 0; k < n; k++) {
    if (j >= fresh.length || (i < bodies.seqs.length && compareAt(bodies.ids, i, fresh[j][0]) < 0)) {
      ids.set(bodies.ids.subarray(i * 32, i * 32 + 32), k * 32);
      seqs[k] = bodies.seqs[i++];
    } else {
      ids.set(fresh[j][0], k * 32);
      seqs[k] = fresh[j++][1];
    }
  }
  return { ids, seqs };
}

/** Opens the kept records' database before the first read asks for it. */
export function openKept() {
  openEarly(LEDGERS);
}

/**
 * The kept record under `key`, or null (also when IndexedDB is unavailable).
 * With `whole`, its state's per-entry maps are filled from what is kept
 * apart (every entry: for a copy of the record, not for a visit).
 */
export async function readRecord(key, { whole = false } = {}) {
  try {
    const record = (await withStore(LEDGERS, 'readonly', (s) => s.get(key))) || null;
    if (!record || !record.state || !whole) return record;
    const runs = await withStores(LEDGERS, ['entries'], 'readonly', (tx) => {
      const all = [];
      const cursor = tx.objectStore('entries').openCursor(entriesOf(key));
      cursor.onsuccess = () => {
        if (!cursor.result) return;
        all.push([cursor.result.key, cursor.result.value]);
        cursor.result.continue();
      };
      return all;
    });
    const state = { ...record.state, bodyIds: { ...record.state.bodyIds }, money: { ...record.state.money }, others: { ...record.state.others } };
    const bodies = record.bodies || NO_BODIES;
    bodies.seqs.forEach((seq, i) => {
      state.bodyIds[toHex(bodies.ids.subarray(i * 32, i * 32 + 32))] = seq;
    });
    for (const [[, , first], values] of runs) {
      values.forEach((value, i) => {
        (typeof value === 'string' ? state.others : state.money)[first + i] = value;
      });
    }
    return { ...record, state };
  } catch {
    return null;
  }
}

/**
 * The lookup replay.js asks for the entries of `record` (as readRecord
 * read it) kept apart: see `replay`'s `earlier`.
 */
export function earlierEntries(record) {
  const key = record.key;
  const size = record.state.size;
  const bodies = record.bodies || NO_BODIES;
  return {
    async seqOfBody(bodyIdHex) {
      const seq = seqOfBodyIn(bodies, fromHex(bodyIdHex));
      return seq !== undefined && seq < size ? seq : undefined;
    },
    async entry(seq) {
      if (!(Number.isSafeInteger(seq) && seq >= 0 && seq < size)) return undefined;
      // The run that starts at or before `seq`: the last key up to [key, 'm', seq].
      const found = await withStores(LEDGERS, ['entries'], 'readonly', (tx) => {
        const run = {};
        const cursor = tx.objectStore('entries').openCursor(IDBKeyRange.bound([key, 'm', 0], [key, 'm', seq]), 'prev');
        cursor.onsuccess = () => {
          if (cursor.result) Object.assign(run, { first: cursor.result.key[2], values: cursor.result.value });
        };
        return run;
      });
      const value = found.values ? found.values[seq - found.first] : undefined;
      // Every entry below the record's size was kept with it: one missing is
      // this browser's storage failing, not the ledger (a plain Error, which
      // the replay does not take for a verdict on the entry).
      if (value === undefined) throw new Error(`the kept entry ${seq} is missing`);
      return value;
    },
  };
}

/**
 * Keeps `record` (its `key` names it), replacing the one kept before, and
 * moves its state's per-entry maps apart, in one transaction. `fresh`: the
 * state was replayed from the genesis, so its maps hold every entry and
 * what was kept before under this key is dropped; otherwise `kept` is the
 * record it resumed from, and the maps hold only the entries since.
 */
export async function writeRecord(record, { fresh = true, kept = null } = {}) {
  const { key, state } = record;
  const apart = state ? { ...state, bodyIds: {}, money: {}, others: {} } : state;
  const bodies = state ? withBodies((!fresh && kept && kept.bodies) || NO_BODIES, state.bodyIds) : undefined;
  const values = {};
  if (state) {
    Object.assign(values, state.money, state.others);
  }
  const seqs = Object.keys(values).map(Number).sort((a, b) => a - b);
  await withStores(LEDGERS, STORES, 'readwrite', (tx) => {
    const entries = tx.objectStore('entries');
    if (fresh) entries.delete(entriesOf(key));
    // Runs of consecutive seqs, at most RUN_ENTRIES each.
    for (let i = 0; i < seqs.length; ) {
      let j = i + 1;
      while (j < seqs.length && j - i < RUN_ENTRIES && seqs[j] === seqs[j - 1] + 1) j++;
      entries.put(seqs.slice(i, j).map((seq) => values[seq]), [key, 'm', seqs[i]]);
      i = j;
    }
    return tx.objectStore('ledgers').put({ ...record, state: apart, bodies });
  });
}

// What this browser keeps of a ledger's check between visits: one
// IndexedDB record per ledger, read and written by the check's worker
// (worker.js), so the replay state never passes through the page's thread.
//
// The record is keyed by the ledger's origin AND its page's base URL (one
// browser can follow several ledgers, and the same origin served from two
// places stays two records):
//   {key, origin, base, logKey, state, checkpoint: {size, root, note},
//    summary: {size, balances_fen, months}, savedMs}
// `state` is replay.js's state (size, frontier, balances, totals, roles,
// rules, the ids and nonces replay refusal needs). A record is written only
// after a run that verified; a run that failed, or found a rollback or a
// fork, leaves the kept checkpoint as it was.

import { withStore } from './idb.js';

const LEDGERS = { db: 'feeledger-ledger-state', version: 1, store: 'ledgers', keyPath: 'key' };

/** The record key of a ledger: its origin and its page's absolute base URL. */
export function recordKey(origin, base) {
  return `${origin}\n${base}`;
}

/** The kept record under `key`, or null (also when IndexedDB is unavailable). */
export async function readRecord(key) {
  try {
    return (await withStore(LEDGERS, 'readonly', (s) => s.get(key))) || null;
  } catch {
    return null;
  }
}

/** Keeps `record` (its `key` names it), replacing the one kept before. */
export async function writeRecord(record) {
  await withStore(LEDGERS, 'readwrite', (s) => s.put(record));
}

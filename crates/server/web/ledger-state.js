// The page's check of the whole ledger, and what this browser keeps of it
// between visits.
//
// On each visit the page starts worker.js with the log key (pinned in this
// browser, else the one the server serves, whose fingerprint the resident
// compares with the notice board) and the state kept from the last visit.
// The worker checks the signed checkpoint, a consistency proof from the
// kept checkpoint to it, and replays only the new entry bundles; the page
// then shows the replay's balances and month totals as verified.
//
// What is kept, one IndexedDB record per ledger, keyed by the ledger's
// origin AND its page's base URL (one browser can follow several ledgers,
// and the same origin served from two places stays two records):
//   {key, origin, base, logKey, state, checkpoint: {size, root, note},
//    summary: {size, balances_fen, months}, savedMs}
// `state` is replay.js's state (size, frontier, balances, totals, roles,
// rules, the ids and nonces replay refusal needs). A record is written only
// after a run that verified; a run that failed, or found a rollback or a
// fork, leaves the kept checkpoint as it was.
//
// The browser as a witness: if the server now signs a smaller tree than the
// kept one (a rollback), the same size with another root, or a larger tree
// the kept one is not a prefix of (a fork), the status carries `alarm`:
//   {kind: 'rollback'|'fork', origin, base, kept: {size, note},
//    served: {size, note}, proof: [base64...], observedMs}
// and `evidenceText(alarm)` gives the evidence file (docs/format.md,
// "Evidence of two histories").
//
// Read by the rest of the page (the trust section, the balances):
//   import { ledgerCheck } from './ledger-state.js';
//   ledgerCheck.status() -> {state: 'idle'|'running'|'verified'|'failed',
//                            size, root, progress: {size, total} | null,
//                            summary, roles, ledger, recent, reversedBy,
//                            failure, alarm, fetched}
//   ledgerCheck.addEventListener('change', () => ...)  // after every change
// `size`/`root` are the last verified tree (from this run, or kept from an
// earlier visit while this one runs); `summary` and `roles` are the
// replay's, set only when `state` is 'verified', and so are `ledger` (what
// the log says of itself: {name, origin, log_key, funds, roles}, in the
// shape of GET /api/v1/ledger), `reversedBy` ({seq: reversing seq}) and,
// from a bucket (`mirror`), `recent` (the newest `keep` entries, each
// {seq, leaf} with the leaf parsed, newest last). `failure` is the
// worker's {step, rule, seq, detail}.
//
// Invariant: a number marked verified was derived by the replay from leaves
// whose root matched a checkpoint signed by the log key the run was given.

const DB_NAME = 'feeledger-ledger-state';
const DB_VERSION = 1;
const STORE = 'ledgers';
/** The evidence file's first line (docs/format.md). */
export const EVIDENCE_FORMAT = 'feeledger-evidence/v1';

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'key' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      let value;
      req.onsuccess = () => {
        value = req.result;
      };
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The record key of a ledger: its origin and its page's base URL. */
export function recordKey(origin, base) {
  return `${origin}\n${base}`;
}

/** The kept record of a ledger, or null (also when IndexedDB is unavailable). */
export async function readRecord(origin, base) {
  try {
    return (await withStore('readonly', (s) => s.get(recordKey(origin, base)))) || null;
  } catch {
    return null;
  }
}

async function writeRecord(record) {
  await withStore('readwrite', (s) => s.put(record));
}

/** The base URL a ledger's page is served under, absolute, with no trailing slash. */
export function absoluteBase(base) {
  return new URL(`${base || ''}/`, location.href).href.replace(/\/$/, '');
}

/**
 * The evidence file of an alarm (docs/format.md, "Evidence of two
 * histories"): a header, then each signed note exactly as served, framed
 * by its length in bytes, then the consistency proof served, if any.
 */
export function evidenceText(alarm) {
  const enc = new TextEncoder();
  const lines = [
    EVIDENCE_FORMAT,
    `kind ${alarm.kind}`,
    `origin ${alarm.origin}`,
    `page ${alarm.base}/`,
    `observed ${new Date(alarm.observedMs).toISOString()}`,
  ];
  const note = (label, n) => `${label} ${n.size} ${enc.encode(n.note).length}\n${n.note}`;
  return `${lines.join('\n')}\n\n${note('kept', alarm.kept)}\n${note('served', alarm.served)}\nproof ${alarm.proof.length}\n${alarm.proof.map((p) => `${p}\n`).join('')}`;
}

class LedgerCheck extends EventTarget {
  constructor() {
    super();
    this.s = { state: 'idle', size: null, root: null, progress: null, summary: null, roles: null, ledger: null, recent: null, reversedBy: null, failure: null, alarm: null, fetched: null };
    this.worker = null;
    this.run = 0;
  }

  /** A copy of the current status (see the header). */
  status() {
    return { ...this.s };
  }

  set(changes) {
    this.s = { ...this.s, ...changes };
    this.dispatchEvent(new Event('change'));
  }

  /**
   * Starts (or restarts) the check of the ledger `origin` at `base` ('' for
   * this page's own server) against `logKey`. Resolves when the run ends.
   * From a bucket (`mirror`) the whole log is replayed on every run (see
   * worker.js) and the newest `keep` entries come back in `recent`.
   */
  async start({ base = '', origin, logKey, mirror = false, keep = 0 }) {
    const run = ++this.run;
    if (this.worker) this.worker.terminate();
    this.worker = null;
    const where = absoluteBase(base);
    const key = recordKey(origin, where);
    const kept = await readRecord(origin, where);
    if (run !== this.run) return;
    // A record made with another log key is not this ledger's history as
    // this key signs it: start over, and replace it only if this run verifies.
    const saved = kept && kept.logKey === logKey ? kept : null;
    this.set({
      state: 'running',
      size: saved ? saved.checkpoint.size : null,
      root: saved ? saved.checkpoint.root : null,
      progress: null,
      summary: null,
      roles: null,
      ledger: null,
      recent: null,
      reversedBy: null,
      failure: null,
      alarm: null,
    });
    let worker;
    try {
      worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    } catch (e) {
      this.set({ state: 'failed', failure: { step: 'internal', rule: 'no-worker', seq: null, detail: { message: String(e) } } });
      return;
    }
    this.worker = worker;
    const done = await new Promise((resolve) => {
      worker.onmessage = (event) => {
        const m = event.data || {};
        if (m.type === 'progress') {
          if (run === this.run) this.set({ progress: { size: m.size, total: m.total } });
          return;
        }
        if (m.type === 'done') resolve(m);
      };
      worker.onerror = (event) => {
        resolve({ ok: false, failure: { step: 'internal', rule: 'worker-error', seq: null, detail: { message: String(event.message || '') } } });
      };
      worker.postMessage({ base, logKey, saved: saved ? saved.state : null, mirror, keep });
    });
    worker.terminate();
    if (run !== this.run) return;
    this.worker = null;
    if (done.ok) {
      const { state, result } = done;
      const summary = { size: result.size, balances_fen: result.balances_fen, months: result.months };
      try {
        await writeRecord({
          key,
          origin,
          base: where,
          logKey,
          state,
          checkpoint: { size: result.checkpoint.size, root: result.checkpoint.root, note: result.checkpoint.note },
          summary,
          savedMs: Date.now(),
        });
      } catch {
        // Private mode or a full disk: verified now, replayed again next time.
      }
      if (run !== this.run) return;
      const ledger = { name: state.name, origin: state.origin, log_key: state.logKey, funds: state.funds, roles: state.roles };
      const text = new TextDecoder();
      const recent = mirror ? (result.recent || []).map((r) => ({ seq: r.seq, leaf: JSON.parse(text.decode(r.bytes)) })) : null;
      this.set({ state: 'verified', size: result.checkpoint.size, root: result.checkpoint.root, progress: null, summary, roles: state.roles, ledger, recent, reversedBy: state.reversedBy, failure: null, fetched: result.fetched });
      return;
    }
    const failure = done.failure || { step: 'internal', rule: 'exception', seq: null, detail: {} };
    let alarm = null;
    if (saved && failure.step === 'consistency' && (failure.rule === 'rollback' || failure.rule === 'fork') && failure.detail && failure.detail.note) {
      alarm = {
        kind: failure.rule,
        origin,
        base: where,
        kept: { size: saved.checkpoint.size, note: saved.checkpoint.note },
        served: { size: failure.detail.size, note: failure.detail.note },
        proof: failure.detail.proof || [],
        observedMs: Date.now(),
      };
    }
    this.set({ state: 'failed', progress: null, failure, alarm });
  }
}

/** The page's one check; the trust section and the balances read it. */
export const ledgerCheck = new LedgerCheck();

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
// What is kept between visits is one IndexedDB record per ledger, with what
// replay refusal needs kept apart from it (kept.js), which the worker reads
// and writes itself: the replay state never passes
// through the page's thread. A record is written only after a run that
// verified; a run that failed, or found a rollback or a fork, leaves the
// kept checkpoint as it was.
//
// The worker is made by index.html's first script, before the page's
// modules load, so its own modules load beside them (`window.feeledgerWorker`,
// taken once); a page without it (or a second run) makes its own. That
// script also starts the run this page's last verified visit made, as
// remembered in localStorage (`REMEMBERED_RUN`), in the worker's name
// (worker.js `RUN_NAME`: the worker begins it as its thread starts) and in
// a message (for a worker that does not read its name); `start` adopts it only if
// it is exactly the run this visit would start (same ledger, same log key,
// same record), and otherwise starts over. So the trust decision is this
// visit's, and the run just begins earlier.
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
//                            failure, alarm, fetched, adopted}
//   ledgerCheck.addEventListener('change', () => ...)  // after every change
// `size`/`root` are the last verified tree (from this run, or kept from an
// earlier visit while this one runs); `summary` and `roles` are the
// replay's, set only when `state` is 'verified', and so are `ledger` (what
// the log says of itself: {name, origin, log_key, funds, roles}, in the
// shape of GET /api/v1/ledger), `reversedBy` ({seq: reversing seq}) and,
// from a bucket (`mirror`), `recent` (the newest `keep` entries, each
// {seq, leaf} with the leaf parsed, newest last). `failure` is the
// worker's {step, rule, seq, detail}. `adopted` says the run is the one
// index.html started from the last visit's memory.
//
// Invariant: a number marked verified was derived by the replay from leaves
// whose root matched a checkpoint signed by the log key the run was given.

import { recordKey } from './kept.js';

/** The evidence file's first line (docs/format.md). */
export const EVIDENCE_FORMAT = 'feeledger-evidence/v1';

/**
 * A mark on the page's performance timeline (`feeledger:…`), where the
 * benchmark's trace reads the check's steps; `epochMs` places a moment the
 * worker saw. Nothing depends on it.
 */
export function mark(name, epochMs) {
  try {
    if (epochMs === undefined) performance.mark(name);
    else performance.mark(name, { startTime: Math.max(0, epochMs - performance.timeOrigin) });
  } catch {
    // An old browser: no marks.
  }
}

/**
 * Where a page remembers the message of its last verified run, so that its
 * next visit can start the same run before the page's modules have loaded
 * (index.html's first script reads it): the folder the page is served
 * from, as `absoluteBase` gives it plus a slash.
 */
export const REMEMBERED_RUN = 'feeledger.check.v1 ';

/**
 * The worker for a run posting `message`: the one index.html's first
 * script made as the page began, if it loaded, and with the run it
 * already started if that run is this one (`started`, with the answers it
 * gave so far); else a new one. Taken once.
 */
function takeWorker(message) {
  const early = globalThis.feeledgerWorker;
  globalThis.feeledgerWorker = null;
  if (early && !early.failed) {
    if (!early.sent) return { worker: early, started: false, answers: [] };
    // The same ledger, key and record as this visit would check: adopt the
    // run. Anything else (a new key pinned, another key served) starts over.
    if (JSON.stringify(early.sent) === JSON.stringify(message)) return { worker: early, started: true, answers: early.answers || [] };
  }
  if (early) early.terminate();
  return { worker: new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }), started: false, answers: [] };
}

function remember(where, message) {
  try {
    localStorage.setItem(REMEMBERED_RUN + where + '/', JSON.stringify(message));
  } catch {
    // Private mode: the next visit starts its run a little later.
  }
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
    this.s = { adopted: false, state: 'idle', size: null, root: null, progress: null, summary: null, roles: null, ledger: null, recent: null, reversedBy: null, failure: null, alarm: null, fetched: null };
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
    mark('feeledger:check-start');
    this.set({
      state: 'running',
      size: null,
      root: null,
      progress: null,
      summary: null,
      roles: null,
      ledger: null,
      recent: null,
      reversedBy: null,
      failure: null,
      alarm: null,
    });
    const message = { base, logKey, mirror, keep, record: { key: recordKey(origin, where), origin, base: where } };
    let worker;
    let taken;
    try {
      taken = takeWorker(message);
      worker = taken.worker;
    } catch (e) {
      this.set({ state: 'failed', failure: { step: 'internal', rule: 'no-worker', seq: null, detail: { message: String(e) } } });
      return;
    }
    this.worker = worker;
    this.set({ adopted: taken.started });
    // The checkpoint the worker resumes from, once it has read it.
    let kept = null;
    const done = await new Promise((resolve) => {
      const answer = (m) => {
        if (run !== this.run) return;
        if (m.type === 'kept') {
          kept = m.checkpoint;
          if (kept) this.set({ size: kept.size, root: kept.root });
        } else if (m.type === 'progress') {
          this.set({ progress: { size: m.size, total: m.total } });
        } else if (m.type === 'done') {
          resolve(m);
        } else if (m.type === 'stored') {
          // The record is written: nothing more will come.
          mark('feeledger:stored');
          worker.terminate();
          if (this.worker === worker) this.worker = null;
        }
      };
      worker.onmessage = (event) => answer(event.data || {});
      worker.onerror = (event) => {
        resolve({ ok: false, failure: { step: 'internal', rule: 'worker-error', seq: null, detail: { message: String(event.message || '') } } });
      };
      if (taken.started) {
        for (const m of taken.answers) answer(m || {});
      } else {
        worker.postMessage(message);
      }
    });
    if (run !== this.run) return;
    if (done.ok) {
      const { view, result } = done;
      remember(where, message);
      for (const [step, epochMs] of result.fetched.moments || []) mark(`feeledger:worker:${step}`, epochMs);
      mark('feeledger:check-done');
      const summary = { size: result.size, balances_fen: result.balances_fen, months: result.months };
      const ledger = { name: view.name, origin: view.origin, log_key: view.logKey, funds: view.funds, roles: view.roles };
      const text = new TextDecoder();
      const recent = mirror ? (result.recent || []).map((r) => ({ seq: r.seq, leaf: JSON.parse(text.decode(r.bytes)) })) : null;
      this.set({ state: 'verified', size: result.checkpoint.size, root: result.checkpoint.root, progress: null, summary, roles: view.roles, ledger, recent, reversedBy: view.reversedBy, failure: null, fetched: result.fetched });
      return;
    }
    worker.terminate();
    if (this.worker === worker) this.worker = null;
    const failure = done.failure || { step: 'internal', rule: 'exception', seq: null, detail: {} };
    let alarm = null;
    if (kept && failure.step === 'consistency' && (failure.rule === 'rollback' || failure.rule === 'fork') && failure.detail && failure.detail.note) {
      alarm = {
        kind: failure.rule,
        origin,
        base: where,
        kept: { size: kept.size, note: kept.note },
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

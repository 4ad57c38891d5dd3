// The page's verification of a whole ledger, run in a Web Worker so the
// page stays responsive: fetch the signed checkpoint, then the entry
// bundles (c2sp.org/tlog-tiles) the saved state does not cover, replay
// every leaf (replay.js), and compare the root of all leaves with the
// checkpoint's. Only then are the balances and month totals verified.
//
// Trust: only the log key given by the page (the one on the notice board,
// or pinned in this browser). The checkpoint must carry its signature; the
// genesis must name that same key; the bundles are believed only through
// the replay and the root. A saved state (the page keeps it in IndexedDB)
// is resumed only when a consistency proof shows the signed checkpoint
// extends the tree the state ends at; then only the bundles holding new
// leaves are fetched.
//
// Messages: the page posts {base, logKey, mirror, keep, record} (base: the
// ledger's URL prefix, '' for this origin; record: {key, origin, base}, the
// kept record's key and what it is kept for, or null to keep nothing), or
// names the worker with it (RUN_NAME), and the run begins as the worker
// starts. The worker reads the kept record itself (kept.js) and answers
//   {type: 'kept', checkpoint: {size, root, note} | null}   (what it resumes from)
//   {type: 'progress', size, total}                         (after each bundle)
//   {type: 'done', ok: true, view, result} or
//   {type: 'done', ok: false, failure}
//   {type: 'stored'}                                        (after 'done', ok or not)
// where `view` is what the page shows of the replayed state ({name, origin,
// logKey, funds, roles, reversedBy}) and `result.fetched.begunFrom` says
// whether the run began from the worker's name or from a message. 'kept' always comes first, so a
// failure's evidence can name the checkpoint the run resumed from.
// The state itself never crosses to the page: it is read from and written
// to IndexedDB here, after 'done', so the page shows the result first. A
// failure names its step, its rule (the core's code for a refused entry)
// and, for an entry, its seq.
//
// From a bucket (`mirror: true`, base.js FROM_MIRROR) there is no
// consistency proof to ask for and the page needs the entries themselves
// for its list, so every visit replays the whole log from the bundles (the
// full ones come from the browser's cache: they are immutable), and a
// saved state is used only as the witness's memory: the root of the first
// `saved.size` leaves replayed must be the saved root, else it is a fork.
// The result then carries the newest `keep` leaves ({seq, bytes}),
// believed, like the balances, only because their root matched.
//
// `verifyLedger` is exported too, for a caller that runs it without a
// worker (tests, a page that already is in one).

import { VerifyError, fromBase64, fromHex, fromUtf8, parseVkey, toHex, verifyCheckpointNote, ALG_ED25519 } from './verify.js';
import { ReplayError, STATE_FORMAT, replay, stateRoot, summarize } from './replay.js';
import { bundlesCovering, parseBundle, verifyConsistency } from './tlog.js';
import { earlierEntries, openKept, readRecord, writeRecord } from './kept.js';

/**
 * How index.html names a worker that is to begin its page's remembered run
 * at once: this prefix, then the run's message as JSON.
 */
export const RUN_NAME = 'feeledger-run ';

/** A failure of the whole verification; `seq` is set for an entry. */
export class LedgerFailure extends Error {
  constructor(step, rule, detail = {}, seq = null) {
    super(`${step}: ${rule}${seq === null ? '' : ` (entry ${seq})`}`);
    this.name = 'LedgerFailure';
    this.step = step;
    this.rule = rule;
    this.detail = detail;
    this.seq = seq;
  }
}

function plainFailure(e) {
  if (e instanceof LedgerFailure) return { step: e.step, rule: e.rule, seq: e.seq, detail: e.detail };
  if (e instanceof ReplayError) return { step: 'replay', rule: e.rule, seq: e.seq, detail: e.detail };
  if (e instanceof VerifyError) return { step: e.step, rule: e.reason, seq: null, detail: e.params };
  return { step: 'internal', rule: 'exception', seq: null, detail: { message: String((e && e.message) || e) } };
}

/**
 * Verifies the ledger at `base` against `logKey` (verifier key text),
 * resuming from `saved` when it is given (a copy of it, unless `ownSaved`:
 * the caller gives it up; `earlier`: the lookup of its entries kept apart,
 * replay.js). Returns {state, result}; throws LedgerFailure, ReplayError or
 * VerifyError. `fetch` may be injected.
 */
export async function verifyLedger({ base = '', logKey, saved = null, ownSaved = false, earlier = null, mirror = false, keep = 0, fetch: doFetch = (...a) => fetch(...a), started = null, onProgress = () => {} }) {
  const startedMs = performance.now();
  // When each step ended, as milliseconds since the epoch, so that the page
  // can place them on its own timeline (a worker's clock starts apart).
  const moments = [];
  const moment = (step) => moments.push([step, Math.round(performance.timeOrigin + performance.now())]);
  let bytesFetched = 0;
  const requests = [];
  async function get(path, cache) {
    requests.push(path);
    // A request the caller started before this run (`started`, the
    // checkpoint's, while the kept record was read) is taken once.
    const early = path === 'checkpoint' && started ? started : null;
    started = null;
    let res;
    try {
      res = await (early || doFetch(`${base}/${path}`, { cache }));
    } catch {
      throw new LedgerFailure('fetch', 'network', { path });
    }
    if (!res.ok) throw new LedgerFailure('fetch', 'http', { path, status: res.status });
    const bytes = new Uint8Array(await res.arrayBuffer());
    bytesFetched += bytes.length;
    return bytes;
  }

  const key = await parseVkey(logKey, 'log-key');
  if (key.alg !== ALG_ED25519) throw new LedgerFailure('log-key', 'bad-vkey', { why: 'algorithm' });

  let noteText;
  try {
    noteText = fromUtf8(await get('checkpoint', 'no-store'));
  } catch (e) {
    if (e instanceof LedgerFailure) throw e;
    throw new LedgerFailure('checkpoint', 'note-format', { why: 'not UTF-8' });
  }
  const { checkpoint } = await verifyCheckpointNote(noteText, key, []);
  moment('checkpoint');
  const size = checkpoint.size;
  const signedRoot = toHex(checkpoint.root);
  if (size === 0) throw new LedgerFailure('checkpoint', 'empty-log');

  // The replay starts where a resumed state ends (from a bucket, at 0).
  const from = saved && !mirror && saved.size <= size ? saved.size : 0;
  const bundles = bundlesCovering(from, size);
  // One bundle is fetched while the one before it is replayed.
  const fetchBundle = (b) => get(b.path, b.width === 256 ? 'default' : 'no-store').then(
    (bytes) => ({ bytes }),
    (error) => ({ error }),
  );
  const firstBundle = () => (bundles.length > 0 ? fetchBundle(bundles[0]) : null);
  let next = null;

  let state = null;
  // From a bucket: the saved root to meet at the saved size while replaying.
  let meet = null;
  if (saved) {
    if (saved.format !== STATE_FORMAT || saved.logKey !== key.text) throw new LedgerFailure('saved', 'not-this-ledger');
    const savedRoot = await stateRoot(saved);
    // A failure here carries the signed note and the proof served, so the
    // page can offer them beside its kept checkpoint as evidence.
    if (saved.size > size) {
      throw new LedgerFailure('consistency', 'rollback', { savedSize: saved.size, size, note: noteText, proof: [] });
    }
    if (saved.size === size) {
      if (savedRoot !== signedRoot) throw new LedgerFailure('consistency', 'fork', { savedSize: saved.size, size, savedRoot, signedRoot, note: noteText, proof: [] });
    } else if (mirror) {
      meet = { size: saved.size, root: savedRoot };
    } else {
      // The first new bundle is asked for beside the proof: its bytes are
      // believed only through the replay, which waits for the proof.
      next = firstBundle();
      // A failed request is no evidence (the network, a restart): it fails
      // this run without an alarm.
      const proofBytes = await get(`api/v1/consistency?from=${saved.size}&to=${size}`, 'no-store');
      let served = [];
      let proof;
      try {
        const proofJson = JSON.parse(fromUtf8(proofBytes));
        served = Array.isArray(proofJson.proof) ? proofJson.proof.filter((p) => typeof p === 'string').slice(0, 64) : [];
        proof = (proofJson.proof || []).map(fromBase64);
      } catch {
        // No proof, or one that does not decode: the log cannot show that
        // the signed tree extends the kept one.
        throw new LedgerFailure('consistency', 'fork', { savedSize: saved.size, size, note: noteText, proof: served, why: 'bad-proof' });
      }
      if (!(await verifyConsistency(saved.size, size, proof, fromHex(savedRoot), checkpoint.root))) {
        throw new LedgerFailure('consistency', 'fork', { savedSize: saved.size, size, note: noteText, proof: served });
      }
    }
    if (!mirror) state = ownSaved ? saved : structuredClone(saved);
    moment('consistency');
  }
  const recent = [];

  if (!next) next = firstBundle();
  for (let i = 0; i < bundles.length; i++) {
    const b = bundles[i];
    const got = await next;
    if (i === 0) moment('first-bundle');
    next = i + 1 < bundles.length ? fetchBundle(bundles[i + 1]) : null;
    if (got.error) throw got.error;
    let leaves;
    try {
      leaves = parseBundle(got.bytes, b.width);
    } catch (e) {
      throw new LedgerFailure('bundle', 'bad-bundle', { path: b.path, why: e.message }, b.first + b.skip);
    }
    let todo = leaves.slice(b.skip);
    const first = b.first + b.skip;
    // The newest `keep` leaves, each a copy: a leaf is a view of its whole
    // bundle, which a message would clone with it.
    todo.forEach((bytes, i) => {
      if (first + i >= size - keep) recent.push({ seq: first + i, bytes: bytes.slice() });
    });
    if (meet && first + todo.length >= meet.size) {
      const k = meet.size - first;
      state = await replay(state, todo.slice(0, k), { inPlace: state !== null });
      if ((await stateRoot(state)) !== meet.root) {
        throw new LedgerFailure('consistency', 'fork', { savedSize: meet.size, size, savedRoot: meet.root, note: noteText, proof: [] });
      }
      todo = todo.slice(k);
      meet = null;
    }
    if (todo.length > 0) state = await replay(state, todo, { inPlace: state !== null, earlier: from > 0 ? earlier : null });
    if (state.logKey !== key.text) throw new LedgerFailure('genesis', 'log-key-mismatch', { genesis: state.logKey }, 0);
    onProgress({ size: state.size, total: size });
  }
  moment('replay');
  const root = await stateRoot(state);
  if (state.size !== size || root !== signedRoot) {
    throw new LedgerFailure('root', 'root-mismatch', { size: state.size, computed: root, signed: signedRoot });
  }
  return {
    state,
    result: {
      ...summarize(state),
      root,
      checkpoint: { size, root: signedRoot, note: noteText },
      fetched: { requests, bytes: bytesFetched, from, elapsedMs: Math.round(performance.now() - startedMs), moments },
      recent,
    },
  };
}

// As a worker: one verification per message.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  // When the worker's thread began and when its modules had loaded, for the
  // benchmark's trace of a visit (docs/performance.md).
  const startMoments = [['thread', Math.round(performance.timeOrigin)], ['modules', Math.round(performance.timeOrigin + performance.now())]];
  // The kept record's database opens while the first message is on its way.
  openKept();
  const runMessage = async (message, begunFrom) => {
    const { base, logKey, mirror, keep, record } = message || {};
    const messageMs = Math.round(performance.timeOrigin + performance.now());
    // The signed checkpoint is asked for while the kept record is read.
    const started = fetch(`${base || ''}/checkpoint`, { cache: 'no-store' });
    started.catch(() => {});
    const kept = record ? await readRecord(record.key) : null;
    const keptMs = Math.round(performance.timeOrigin + performance.now());
    // A record made with another log key is not this ledger's history as
    // this key signs it: start over, and replace it only if this run verifies.
    const saved = kept && kept.logKey === logKey && kept.state ? kept : null;
    globalThis.postMessage({ type: 'kept', checkpoint: saved ? saved.checkpoint : null });
    let verified;
    try {
      verified = await verifyLedger({
        base,
        logKey,
        saved: saved ? saved.state : null,
        ownSaved: true,
        earlier: saved ? earlierEntries(saved) : null,
        mirror: Boolean(mirror),
        keep: Number.isSafeInteger(keep) ? keep : 0,
        started,
        onProgress: (p) => globalThis.postMessage({ type: 'progress', ...p }),
      });
    } catch (e) {
      globalThis.postMessage({ type: 'done', ok: false, failure: plainFailure(e) });
      globalThis.postMessage({ type: 'stored' });
      return;
    }
    const { state, result } = verified;
    result.fetched.moments.unshift(...startMoments, ['message', messageMs], ['kept', keptMs]);
    result.fetched.begunFrom = begunFrom;
    const view = { name: state.name, origin: state.origin, logKey: state.logKey, funds: state.funds, roles: state.roles, reversedBy: state.reversedBy };
    globalThis.postMessage({ type: 'done', ok: true, view, result });
    if (record) {
      try {
        await writeRecord({
          key: record.key,
          origin: record.origin,
          base: record.base,
          logKey,
          state,
          checkpoint: { size: result.checkpoint.size, root: result.checkpoint.root, note: result.checkpoint.note },
          savedMs: Date.now(),
        }, { fresh: result.fetched.from === 0, kept: saved });
      } catch {
        // Private mode or a full disk: verified now, replayed again next time.
      }
    }
    globalThis.postMessage({ type: 'stored' });
  };
  // index.html gives the run its page remembers in the worker's name as
  // well as in a message: a message posted before the worker has started
  // is handed over only once the page's thread, busy loading the page's
  // own modules, gets to it (30 to 50 ms later on a returning visit), and
  // the name is here at once. The message of the run begun from the name
  // is then passed over, once.
  let begunFromName = null;
  globalThis.onmessage = (event) => {
    const message = event.data || {};
    if (begunFromName !== null && JSON.stringify(message) === begunFromName) {
      begunFromName = null;
      return;
    }
    runMessage(message, 'message');
  };
  if (typeof globalThis.name === 'string' && globalThis.name.startsWith(RUN_NAME)) {
    try {
      const message = JSON.parse(globalThis.name.slice(RUN_NAME.length));
      if (message && typeof message === 'object') {
        begunFromName = JSON.stringify(message);
        runMessage(message, 'name');
      }
    } catch {
      // Not a run: wait for the message.
    }
  }
}

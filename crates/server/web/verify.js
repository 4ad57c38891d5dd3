// Verification in the browser: pure functions (hashes, JCS, notes, Merkle
// proofs) and a runner that checks entries against a signed checkpoint.
//
// Trust: nothing the server says is believed except the log key, whose
// fingerprint the resident compares with the notice board (and may pin in
// this browser). From that key:
//   checkpoint note signed by the log key            -> tree size and root
//   genesis (seq 0) included under that root         -> roles, keys, rules
//   governance entries included under that root,
//   each signed by the roles in force before it      -> roles over time
//   role keys (as cosigner keys, type 0x04)          -> committee cosignatures
//   an entry's leaf bytes, hashed and included       -> the entry, its
//   under the root, signed by the roles of its time     signatures, its amount
//
// Limits, said plainly:
// * Governance history is replayed from the server's listing of governance
//   entries (`/api/v1/entries?kind=governance`). Each listed one is verified
//   (inclusion and signatures), but a server could leave one out of the
//   listing. The replayed roles are compared with the roles the server says
//   are in force at its size (unless that size is past the checkpoint's,
//   which the page then shows), so a server would have to lie
//   consistently; a full replay of every entry (`feeledger verify --url`)
//   closes the gap.
// * Witness keys are registered on the server, not in the log, so a
//   witness cosignature is not counted: cosigners are the role keys the
//   log's governance put in force, never a list the server serves.
// * Ed25519 is WebCrypto's: it may accept some non-canonical encodings that
//   the server's verify_strict refuses; that cannot turn a forgery into a
//   valid signature.

const enc = new TextEncoder();

export const ENTRY_SIGNATURE_CONTEXT = 'feeledger/entry/v1\n';
export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
const COSIGNATURE_TIMESTAMP_MAX = (1n << 63n) - 1n;
const PROOF_HASHES_MAX = 64;

/** A failed check: `step` names the stage, `reason` a code, `params` details. */
export class VerifyError extends Error {
  constructor(step, reason, params = {}) {
    super(`${step}: ${reason} ${JSON.stringify(params)}`);
    this.name = 'VerifyError';
    this.step = step;
    this.reason = reason;
    this.params = params;
  }
}

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

export function utf8(text) {
  return enc.encode(text);
}

/** Strict UTF-8 decoding: invalid bytes throw. */
export function fromUtf8(bytes) {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(text) {
  if (typeof text !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new Error('not lower-case hex');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** RFC 4648 base64 with padding, decoded strictly (canonical, no spaces). */
export function fromBase64(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new Error('not padded base64');
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64(out) !== text) throw new Error('non-canonical base64');
  return out;
}

export function toBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

// ---------------------------------------------------------------------------
// Hashes (RFC 6962 / RFC 9162)
// ---------------------------------------------------------------------------

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new VerifyError('crypto', 'no-webcrypto');
  return s;
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

/** SHA-256(0x00 || leaf). */
export function leafHash(leafBytes) {
  return sha256(concat(Uint8Array.of(0), leafBytes));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

/**
 * RFC 9162 section 2.1.3.2: the root an inclusion proof leads to, or null
 * when the proof has the wrong shape for (index, size).
 */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return null;
  }
  if (proof.length > PROOF_HASHES_MAX || proof.some((p) => p.length !== 32)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// ---------------------------------------------------------------------------
// JCS (RFC 8785) for the values our leaves hold: strings, safe integers,
// booleans, null, arrays, objects. Keys sort by UTF-16 code units, which is
// JavaScript's default sort; strings escape as JSON.stringify does.
// ---------------------------------------------------------------------------

export function jcs(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new Error('only safe integers are canonical here');
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(value[k])}`).join(',')}}`;
    }
    default:
      throw new Error(`cannot canonicalize a ${typeof value}`);
  }
}

/** Parses leaf bytes; they must be UTF-8 JSON in JCS form. Returns {text, leaf}. */
export function parseCanonical(bytes, step) {
  let text;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new VerifyError(step, 'not-utf8');
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VerifyError(step, 'not-json');
  }
  let again;
  try {
    again = jcs(value);
  } catch {
    throw new VerifyError(step, 'not-canonical');
  }
  if (again !== text) throw new VerifyError(step, 'not-canonical');
  return { text, value };
}

// ---------------------------------------------------------------------------
// Keys and signed notes (C2SP signed-note, tlog-checkpoint, tlog-cosignature)
// ---------------------------------------------------------------------------

/** key id = SHA-256(name || 0x0A || alg || key)[:4], as 8 lower-case hex digits. */
export async function keyIdHex(name, alg, key) {
  const digest = await sha256(concat(utf8(name), Uint8Array.of(0x0a, alg), key));
  return toHex(digest.subarray(0, 4));
}

function checkKeyName(name) {
  return name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f\u007f]/.test(name);
}

/**
 * Parses a verifier key `name+hex8+base64(alg || key)` and checks its key id.
 * Throws VerifyError(step, 'bad-vkey').
 */
export async function parseVkey(text, step = 'log-key') {
  const bad = (why) => new VerifyError(step, 'bad-vkey', { key: String(text), why });
  if (typeof text !== 'string') throw bad('not text');
  const plus = text.indexOf('+');
  if (plus < 0) throw bad('shape');
  const name = text.slice(0, plus);
  const rest = text.slice(plus + 1);
  const m = /^([0-9a-f]{8})\+(.+)$/.exec(rest);
  if (!m || !checkKeyName(name)) throw bad('shape');
  let raw;
  try {
    raw = fromBase64(m[2]);
  } catch {
    throw bad('base64');
  }
  if (raw.length !== 33) throw bad('length');
  const alg = raw[0];
  const key = raw.subarray(1);
  if (alg !== ALG_ED25519 && alg !== ALG_COSIGNATURE_V1) throw bad('algorithm');
  const id = await keyIdHex(name, alg, key);
  if (id !== m[1]) throw bad('key id');
  return { text, name, alg, key, keyId: id };
}

/**
 * Splits a signed note into its text (with its final newline) and signature
 * lines `— name base64(keyid[4] || sig)`. Throws Error on malformed notes.
 */
export function parseNote(noteText) {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(noteText)) throw new Error('control character');
  if (!noteText.endsWith('\n')) throw new Error('no final newline');
  const split = noteText.lastIndexOf('\n\n');
  if (split < 0) throw new Error('no blank line');
  const text = noteText.slice(0, split + 1);
  const lines = noteText.slice(split + 2, -1).split('\n');
  if (lines.length === 0 || lines[0] === '') throw new Error('no signatures');
  const signatures = lines.map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m || !checkKeyName(m[1])) throw new Error(`bad signature line ${JSON.stringify(line)}`);
    const raw = fromBase64(m[2]);
    if (raw.length < 5) throw new Error('signature too short');
    return { name: m[1], keyId: toHex(raw.subarray(0, 4)), sig: raw.subarray(4) };
  });
  return { text, signatures };
}

/** Parses a checkpoint's note text: origin, size, root, extension lines. */
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  lines.pop(); // the text ends with "\n"
  if (lines.length < 3) throw new Error('a checkpoint has at least three lines');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!origin || !/^(?:0|[1-9][0-9]*)$/.test(sizeText)) throw new Error('bad origin or size');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new Error('size too large');
  const root = fromBase64(rootText);
  if (root.length !== 32) throw new Error('root is not 32 bytes');
  if (extensions.some((l) => l === '')) throw new Error('empty extension line');
  return { origin, size, root, extensions };
}

const ed25519Keys = new Map();

async function importEd25519(key) {
  const id = toBase64(key);
  let p = ed25519Keys.get(id);
  if (!p) {
    p = subtle().importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    ed25519Keys.set(id, p);
    p.catch(() => ed25519Keys.delete(id));
  }
  return p;
}

/** WebCrypto Ed25519; false for a bad signature or an unusable key. */
export async function ed25519Verify(publicKey, message, signature) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  let key;
  try {
    key = await importEd25519(publicKey);
  } catch {
    return false;
  }
  return subtle().verify({ name: 'Ed25519' }, key, signature, message);
}

/** The message a cosignature v1 signs. */
export function cosignatureMessage(noteText, timestamp) {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${noteText}`);
}

/**
 * Verifies a checkpoint note: the log key's signature must be present and
 * valid; each line from a known cosigner (`cosigners`: [{name, keyId, key,
 * role}]) must verify; unknown lines are listed and otherwise ignored.
 */
export async function verifyCheckpointNote(noteText, logKey, cosigners = []) {
  let note;
  let checkpoint;
  try {
    note = parseNote(noteText);
    checkpoint = parseCheckpoint(note.text);
  } catch (e) {
    throw new VerifyError('checkpoint', 'note-format', { why: String(e.message || e) });
  }
  if (checkpoint.origin !== logKey.name) {
    throw new VerifyError('checkpoint', 'origin-mismatch', { origin: checkpoint.origin });
  }
  const seen = new Set();
  let logSigned = false;
  const cosignatures = [];
  const unknown = [];
  for (const s of note.signatures) {
    const id = `${s.name}+${s.keyId}`;
    const known = id === `${logKey.name}+${logKey.keyId}` || cosigners.some((c) => `${c.name}+${c.keyId}` === id);
    if (known && seen.has(id)) throw new VerifyError('checkpoint', 'note-format', { why: `two signatures by ${s.name}` });
    seen.add(id);
    if (s.name === logKey.name && s.keyId === logKey.keyId) {
      if (!(await ed25519Verify(logKey.key, utf8(note.text), s.sig))) {
        throw new VerifyError('checkpoint', 'bad-log-signature');
      }
      logSigned = true;
      continue;
    }
    const c = cosigners.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!c) {
      unknown.push(s.name);
      continue;
    }
    if (s.sig.length !== 72) throw new VerifyError('cosignature', 'bad-cosignature', { name: s.name });
    let t = 0n;
    for (const b of s.sig.subarray(0, 8)) t = (t << 8n) | BigInt(b);
    if (t > COSIGNATURE_TIMESTAMP_MAX) throw new VerifyError('cosignature', 'bad-cosignature', { name: s.name });
    if (!(await ed25519Verify(c.key, cosignatureMessage(note.text, t), s.sig.subarray(8)))) {
      throw new VerifyError('cosignature', 'bad-cosignature', { name: s.name });
    }
    cosignatures.push({ name: s.name, keyId: s.keyId, role: c.role, time: Number(t) });
  }
  if (!logSigned) throw new VerifyError('checkpoint', 'no-log-signature');
  return { checkpoint, note, cosignatures, unknown };
}

// ---------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------

/** The rule an entry's kind falls under (a reversal: its target's). */
export function ruleKind(kind) {
  return ['income', 'expenditure', 'transfer', 'governance'].includes(kind) ? kind : null;
}

/** The signed message of a body: context line, then JCS(body). */
export function entrySigningMessage(body) {
  return utf8(ENTRY_SIGNATURE_CONTEXT + jcs(body));
}

/**
 * name -> {role, key, displayName} over a roles object {role: {threshold,
 * keys: [{name, public_key, display_name?}]}}; displayName is null when the
 * key names no one (§7.1).
 */
export function indexRoleKeys(roles) {
  const out = new Map();
  for (const [role, def] of Object.entries(roles || {})) {
    for (const k of (def && def.keys) || []) {
      let key = null;
      try {
        key = fromBase64(k.public_key);
      } catch {
        key = null;
      }
      out.set(k.name, { role, key, displayName: typeof k.display_name === 'string' ? k.display_name : null });
    }
  }
  return out;
}

/**
 * Checks every signature of a leaf against the roles in force, and that each
 * required role reaches its threshold. Returns {signers: [{key, role,
 * displayName?}], progress}: the display name is the one those roles (in
 * force at the entry) sign, absent when they name no one.
 */
export async function checkEntrySignatures(leaf, roles, requiredRoles, step = 'signature') {
  const sigs = leaf.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) throw new VerifyError(step, 'no-signatures');
  const index = indexRoleKeys(roles);
  const message = entrySigningMessage(leaf.body);
  const signers = [];
  const names = new Set();
  for (const s of sigs) {
    if (!s || typeof s.key !== 'string' || names.has(s.key)) throw new VerifyError(step, 'no-signatures');
    names.add(s.key);
    const k = index.get(s.key);
    if (!k || !k.key) throw new VerifyError(step, 'unknown-key', { key: s.key });
    let sig;
    try {
      sig = fromBase64(s.sig);
    } catch {
      throw new VerifyError(step, 'bad-signature', { key: s.key });
    }
    if (!(await ed25519Verify(k.key, message, sig))) throw new VerifyError(step, 'bad-signature', { key: s.key });
    signers.push(k.displayName ? { key: s.key, role: k.role, displayName: k.displayName } : { key: s.key, role: k.role });
  }
  const progress = [];
  for (const role of requiredRoles) {
    const def = roles[role];
    const need = def ? def.threshold : Infinity;
    const have = signers.filter((s) => s.role === role).length;
    progress.push({ role, have, need });
    if (!def || have < need) throw new VerifyError(step, 'rule-unmet', { role, have, need: def ? need : '?' });
  }
  return { signers, progress };
}

/** The amount an entry moves, in integer fen (a reversal: its target's), or null. */
export function amountFen(body, target) {
  if (!body) return null;
  if (body.kind === 'reversal') return target ? amountFen(target.body, null) : null;
  return Number.isSafeInteger(body.amount_fen) ? body.amount_fen : null;
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

/**
 * A verifier bound to one server. `options.fetch` defaults to window.fetch;
 * `options.pinnedLogKey` is a log key the resident pinned in this browser.
 */
export function createVerifier(options = {}) {
  const base = options.base || '';
  const doFetch = options.fetch || ((...a) => fetch(...a));
  let pinned = options.pinnedLogKey || null;
  let contextPromise = null;

  async function get(path, as = 'json') {
    let res;
    try {
      res = await doFetch(base + path, { cache: 'no-store' });
    } catch {
      throw new VerifyError('fetch', 'network', { path });
    }
    if (!res.ok) throw new VerifyError('fetch', 'http', { path, status: res.status });
    if (as === 'bytes') return new Uint8Array(await res.arrayBuffer());
    try {
      return await res.json();
    } catch {
      throw new VerifyError('fetch', 'not-json', { path });
    }
  }

  // Leaf bytes of `seq` with their proof under `cp`: hash, canonical form, inclusion.
  async function includedLeaf(seq, cp, entry, step) {
    const wrap = async (fn) => {
      try {
        return await fn();
      } catch (e) {
        if (step && e instanceof VerifyError) {
          throw new VerifyError(step, 'inner', { innerStep: e.step, innerReason: e.reason, inner: e.params, seq });
        }
        throw e;
      }
    };
    return wrap(async () => {
      const [e, proof] = await Promise.all([
        entry ? Promise.resolve(entry) : get(`/api/v1/entries/${seq}`),
        get(`/api/v1/entries/${seq}/proof?size=${cp.size}`),
      ]);
      let bytes;
      try {
        bytes = fromBase64(e.leaf_base64);
      } catch {
        throw new VerifyError('leaf-hash', 'not-base64');
      }
      const hash = await leafHash(bytes);
      const hex = toHex(hash);
      if (hex !== e.leaf_hash) throw new VerifyError('leaf-hash', 'mismatch-claimed', { computed: hex, claimed: String(e.leaf_hash) });
      if (hex !== proof.leaf_hash) throw new VerifyError('leaf-hash', 'mismatch-proof', { computed: hex, claimed: String(proof.leaf_hash) });
      const { text, value: leaf } = parseCanonical(bytes, 'signature');
      if (leaf.seq !== seq) throw new VerifyError('signature', 'wrong-seq', { found: leaf.seq });
      if (!leaf.body || typeof leaf.body !== 'object' || leaf.body.ledger !== cp.origin) {
        throw new VerifyError('signature', 'wrong-ledger');
      }
      return { entry: e, proof, bytes, hash, text, leaf };
    });
  }

  async function checkInclusion(seq, cp, item, step = 'inclusion') {
    let proof;
    try {
      if (item.proof.index !== seq || item.proof.size !== cp.size || !Array.isArray(item.proof.proof)) throw new Error();
      proof = item.proof.proof.map(fromBase64);
    } catch {
      throw new VerifyError(step, 'bad-proof');
    }
    const root = await rootFromInclusionProof(seq, cp.size, item.hash, proof);
    if (!root) throw new VerifyError(step, 'bad-proof');
    if (!equalBytes(root, cp.root)) throw new VerifyError(step, 'root-mismatch', { computed: toHex(root), signed: toHex(cp.root) });
  }

  async function verifiedIncluded(seq, cp, step, entry) {
    const item = await includedLeaf(seq, cp, entry, step);
    try {
      await checkInclusion(seq, cp, item);
    } catch (e) {
      throw new VerifyError(step, 'inner', { innerStep: e.step, innerReason: e.reason, inner: e.params, seq });
    }
    return item;
  }

  async function buildContext() {
    const steps = [];
    if (!globalThis.crypto || !globalThis.crypto.subtle) throw new VerifyError('crypto', 'no-webcrypto');
    try {
      // RFC 8032 test 1 public key: importing it shows Ed25519 is supported.
      await subtle().importKey('raw', fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'), { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      if (e instanceof VerifyError) throw e;
      throw new VerifyError('crypto', 'no-ed25519');
    }
    steps.push({ step: 'crypto' });

    const ledger = await get('/api/v1/ledger');
    if (pinned && pinned !== ledger.log_key) {
      throw new VerifyError('log-key', 'pin-mismatch', { pinned, served: String(ledger.log_key) });
    }
    const logKey = await parseVkey(pinned || ledger.log_key, 'log-key');
    if (logKey.alg !== ALG_ED25519) throw new VerifyError('log-key', 'bad-vkey', { key: logKey.text, why: 'algorithm' });
    steps.push({ step: 'log-key', params: { keyId: logKey.keyId, name: logKey.name } });

    const noteBytes = await get('/checkpoint', 'bytes');
    let noteText;
    try {
      noteText = fromUtf8(noteBytes);
    } catch {
      throw new VerifyError('checkpoint', 'note-format', { why: 'not UTF-8' });
    }
    const first = await verifyCheckpointNote(noteText, logKey, []);
    const cp = { ...first.checkpoint };
    steps.push({ step: 'checkpoint', params: { size: cp.size, root: toHex(cp.root) } });
    if (cp.size === 0) throw new VerifyError('genesis', 'empty-log');

    // Genesis: its own roles, every role up to its threshold.
    const g = await verifiedIncluded(0, cp, 'genesis');
    const gb = g.leaf.body;
    if (gb.kind !== 'genesis') throw new VerifyError('genesis', 'wrong-kind');
    if (gb.log_key !== logKey.text) throw new VerifyError('genesis', 'log-key-mismatch');
    if (!gb.roles || typeof gb.roles !== 'object' || !gb.rules) throw new VerifyError('genesis', 'wrong-kind');
    try {
      await checkEntrySignatures(g.leaf, gb.roles, Object.keys(gb.roles), 'signature');
    } catch (e) {
      throw new VerifyError('genesis', 'inner', { innerStep: e.step, innerReason: e.reason, inner: e.params, seq: 0 });
    }
    // Roles and rules in force from `from` on.
    const epochs = [{ from: 1, seq: 0, roles: gb.roles, rules: gb.rules }];
    steps.push({ step: 'genesis', params: { name: gb.name } });

    // Governance, replayed in order.
    const governance = [];
    let from = null;
    for (let pages = 0; pages < 100; pages++) {
      const q = `/api/v1/entries?kind=governance&limit=500${from === null ? '' : `&from=${from}`}`;
      const page = await get(q);
      for (const e of page.entries || []) if (e.seq < cp.size) governance.push(e);
      if (page.next === null || page.next === undefined) break;
      from = page.next;
    }
    governance.sort((a, b) => a.seq - b.seq);
    let last = 0;
    for (const e of governance) {
      if (!Number.isSafeInteger(e.seq) || e.seq <= last) throw new VerifyError('governance', 'order');
      last = e.seq;
      const item = await verifiedIncluded(e.seq, cp, 'governance', e);
      const body = item.leaf.body;
      if (body.kind !== 'governance') throw new VerifyError('governance', 'wrong-kind', { seq: e.seq });
      const inForce = epochs[epochs.length - 1];
      const rule = inForce.rules.governance || [];
      try {
        await checkEntrySignatures(item.leaf, inForce.roles, rule, 'signature');
      } catch (err) {
        throw new VerifyError('governance', 'inner', { innerStep: err.step, innerReason: err.reason, inner: err.params, seq: e.seq });
      }
      epochs.push({ from: e.seq + 1, seq: e.seq, roles: body.roles || inForce.roles, rules: body.rules || inForce.rules });
    }
    const now = epochs[epochs.length - 1];
    const rolesAt = (seq) => {
      let found = epochs[0];
      for (const ep of epochs) if (ep.from <= seq) found = ep;
      return found;
    };
    // The server's roles are those in force at its size, which the
    // replay knows whenever that size is not past the checkpoint's (the
    // ledger is fetched first, so an honest server's is not). A checkpoint
    // older than the listing (a stale cache) leaves them uncompared, and
    // the page says so.
    if (!Number.isSafeInteger(ledger.size) || ledger.size < 1) {
      throw new VerifyError('governance', 'bad-size', { size: String(ledger.size) });
    }
    const rolesCompared = ledger.size <= cp.size;
    if (rolesCompared) {
      const then = rolesAt(ledger.size);
      if (jcs(then.roles) !== jcs(ledger.roles || null) || jcs(then.rules) !== jcs(ledger.rules || null)) {
        throw new VerifyError('governance', 'roles-mismatch', { size: ledger.size });
      }
    }
    steps.push({ step: 'governance', params: { count: governance.length, rolesCompared } });

    // Cosigners: the role keys in force (type 0x04), from the log.
    const cosigners = [];
    for (const [role, def] of Object.entries(now.roles)) {
      for (const k of def.keys || []) {
        try {
          const key = fromBase64(k.public_key);
          cosigners.push({ name: k.name, key, role, keyId: await keyIdHex(k.name, ALG_COSIGNATURE_V1, key) });
        } catch {
          // A key that does not decode cannot cosign.
        }
      }
    }
    // The server's list of witness keys (`/api/v1/ledger` witness_keys) is
    // not trusted: a server could list a key of its own as a witness. Only
    // keys the log's governance put in force count; other lines are unknown.
    const full = await verifyCheckpointNote(noteText, logKey, cosigners);
    steps.push({ step: 'cosignature', params: { cosignatures: full.cosignatures, unknown: full.unknown } });

    return { ledger, logKey, checkpoint: cp, cosignatures: full.cosignatures, unknown: full.unknown, epochs, rolesAt, steps, noteText };
  }

  function context(refresh = false) {
    if (refresh || !contextPromise) {
      contextPromise = buildContext();
      contextPromise.catch(() => {
        contextPromise = null;
      });
    }
    return contextPromise;
  }

  /** Verifies the checkpoint, genesis, governance and cosignatures. */
  async function verifyCheckpoint(refresh = false) {
    try {
      const ctx = await context(refresh);
      return { ok: true, steps: ctx.steps, context: ctx };
    } catch (e) {
      return failure(e, []);
    }
  }

  function failure(e, steps) {
    if (e instanceof VerifyError) {
      return { ok: false, failed: { step: e.step, reason: e.reason, params: e.params }, steps };
    }
    return { ok: false, failed: { step: 'internal', reason: 'exception', params: { message: String((e && e.message) || e) } }, steps };
  }

  /**
   * Verifies entry `seq`. `shown` is the leaf object the page displayed (if
   * any): its amount and details must match the verified bytes.
   */
  async function verifyEntry(seq, shown = null) {
    const steps = [];
    try {
      if (!Number.isSafeInteger(seq) || seq < 0) throw new VerifyError('fetch', 'bad-seq', { seq: String(seq) });
      let ctx = await context();
      if (seq >= ctx.checkpoint.size) ctx = await context(true);
      steps.push(...ctx.steps);
      const cp = ctx.checkpoint;
      if (seq >= cp.size) throw new VerifyError('inclusion', 'not-in-checkpoint', { size: cp.size });

      // (1) leaf hash, and (2a) canonical form.
      const item = await includedLeaf(seq, cp, null, null);
      steps.push({ step: 'leaf-hash', params: { hash: toHex(item.hash) } });
      const leaf = item.leaf;
      const body = leaf.body;

      // (2b) signatures by the roles in force when it was recorded.
      let target = null;
      let required;
      let epoch = ctx.rolesAt(seq);
      if (body.kind === 'genesis') {
        if (seq !== 0) throw new VerifyError('signature', 'wrong-kind');
        epoch = { roles: body.roles, rules: body.rules };
        required = Object.keys(body.roles || {});
      } else if (body.kind === 'reversal') {
        const t = body.target_seq;
        if (!Number.isSafeInteger(t) || t >= seq) throw new VerifyError('target', 'wrong-kind');
        target = (await verifiedIncluded(t, cp, 'target')).leaf;
        steps.push({ step: 'target', params: { seq: t } });
        const kind = ruleKind(target.body.kind);
        if (!kind || kind === 'governance') throw new VerifyError('target', 'not-reversible', { seq: t });
        required = epoch.rules[kind] || [];
      } else {
        const kind = ruleKind(body.kind);
        if (!kind) throw new VerifyError('signature', 'wrong-kind');
        required = epoch.rules[kind] || [];
      }
      const approval = await checkEntrySignatures(leaf, epoch.roles, required, 'signature');
      steps.push({ step: 'signature', params: approval });

      // (3) inclusion under the signed checkpoint root.
      await checkInclusion(seq, cp, item);
      steps.push({ step: 'inclusion', params: { size: cp.size, root: toHex(cp.root) } });

      // (4) the checkpoint: verified in the context (log key, cosignatures).

      // (5) the amount, from the verified bytes; what was shown must agree.
      const verifiedAmount = amountFen(body, target);
      for (const other of [item.entry.leaf, shown]) {
        if (!other) continue;
        const shownAmount = amountFen(other.body, target);
        if (shownAmount !== verifiedAmount) {
          throw new VerifyError('amount', 'amount-mismatch', { shown: shownAmount, verified: verifiedAmount });
        }
        let same = false;
        try {
          same = jcs(other) === item.text;
        } catch {
          same = false;
        }
        if (!same) throw new VerifyError('amount', 'display-mismatch');
      }
      steps.push({ step: 'amount', params: { amount_fen: verifiedAmount } });
      return {
        ok: true,
        seq,
        steps,
        leaf,
        target,
        amountFen: verifiedAmount,
        signers: approval.signers,
        progress: approval.progress,
        checkpoint: { size: cp.size, root: toHex(cp.root) },
        cosignatures: ctx.cosignatures,
        logKeyId: ctx.logKey.keyId,
      };
    } catch (e) {
      return { seq, ...failure(e, steps) };
    }
  }

  return {
    context,
    verifyCheckpoint,
    verifyEntry,
    setPinned(key) {
      pinned = key || null;
      contextPromise = null;
    },
  };
}

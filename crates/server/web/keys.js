// A committee member's signing key, kept in this browser: made here with
// WebCrypto, or imported once from a key file made by `feeledger keygen`
// (docs/format.md §11.6). No DOM here.
//
// The private key is a non-extractable WebCrypto CryptoKey: the page can
// sign with it, but neither the page nor anyone with its scripts can read
// its bytes out. It is kept in IndexedDB, which the browser already keeps
// apart per web origin; inside that, records are keyed by the ledger's
// origin name (`/api/v1/ledger`'s `origin`), so one server that later
// serves several ledgers keeps each ledger's key apart.
//
// Trust: a key file's text is parsed strictly and its key id checked
// against the public key the seed gives, so a damaged file is refused, not
// imported as some other key. Whether a key holds a role is for the ledger
// to say (`roles` in force), never for this file.
//
// Errors are KeyError with a stable `code`; the page maps codes to words in
// strings.js (`key.err.<code>`).

import { utf8, concat, toBase64, fromBase64, keyIdHex, ENTRY_SIGNATURE_CONTEXT, ALG_ED25519 } from './verify.js';
import { withStore as idbStore } from './idb.js';

const DB_NAME = 'feeledger-keys';
const DB_VERSION = 1;
const STORE = 'keys';

/** A key file is one short line; anything longer is not one (§11.6). */
export const KEY_FILE_BYTES_MAX = 4096;

/** A member's key name: §6.2 (1 to 64 bytes of a-z 0-9 . _ -, first a-z or 0-9). */
export const KEY_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410 §7): this prefix, then the seed. */
const PKCS8_ED25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

export class KeyError extends Error {
  constructor(code, detail = {}) {
    super(`${code}${detail.why ? `: ${detail.why}` : ''}`);
    this.name = 'KeyError';
    this.code = code;
    this.detail = detail;
  }
}

/**
 * Whether this page may sign at all: WebCrypto is offered only in a secure
 * context (HTTPS, or localhost), and keys need IndexedDB.
 */
export function signingAvailable() {
  return Boolean(globalThis.isSecureContext && globalThis.crypto && globalThis.crypto.subtle && globalThis.indexedDB);
}

function subtle() {
  if (!signingAvailable()) throw new KeyError('insecure');
  return globalThis.crypto.subtle;
}

// ---------------------------------------------------------------------------
// IndexedDB
// ---------------------------------------------------------------------------

const KEYS = { db: DB_NAME, version: DB_VERSION, store: STORE, keyPath: 'origin' };

async function withStore(mode, fn) {
  try {
    return await idbStore(KEYS, mode, fn);
  } catch (e) {
    throw new KeyError('storage', { why: String(e), error: e && e.name });
  }
}

/**
 * The key kept for ledger `origin`, or null:
 * {origin, name, public_key (base64), private_key (CryptoKey), source ('made'|'imported'), created_ms}.
 */
export async function loadKey(origin) {
  if (!signingAvailable()) return null;
  const record = await withStore('readonly', (s) => s.get(origin));
  return record || null;
}

async function saveKey(record) {
  await withStore('readwrite', (s) => s.add(record)).catch((e) => {
    // add() refuses to overwrite: a key already kept is never replaced by accident.
    if (e instanceof KeyError && e.detail.error === 'ConstraintError') throw new KeyError('exists');
    throw e;
  });
  return record;
}

/** Forgets the key kept for `origin` (the member asked to, after confirming). */
export async function forgetKey(origin) {
  await withStore('readwrite', (s) => s.delete(origin));
}

// ---------------------------------------------------------------------------
// Making and importing
// ---------------------------------------------------------------------------

/** Checks a member's key name (§6.2); throws KeyError('bad-name'). */
export function checkKeyName(name) {
  if (typeof name !== 'string' || !KEY_NAME_RE.test(name)) throw new KeyError('bad-name', { name: String(name) });
  return name;
}

/** Makes a new non-extractable Ed25519 key named `name` for ledger `origin`, and keeps it. */
export async function makeKey(origin, name) {
  checkKeyName(name);
  if (await loadKey(origin)) throw new KeyError('exists');
  const pair = await subtle().generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return saveKey({ origin, name, public_key: toBase64(publicKey), private_key: pair.privateKey, source: 'made', created_ms: Date.now() });
}

/**
 * Parses a key file's text (§11.6): `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`,
 * trailing newlines allowed. Returns {name, keyId, seed}. Throws KeyError('bad-file'|'log-key'|'cosigner-key').
 */
export function parseKeyFile(text) {
  if (typeof text !== 'string' || utf8(text).length > KEY_FILE_BYTES_MAX) throw new KeyError('bad-file', { why: 'size' });
  const line = text.replace(/\n+$/, '');
  const prefix = 'PRIVATE+KEY+';
  if (!line.startsWith(prefix) || line.includes('\n')) throw new KeyError('bad-file', { why: 'not a key file' });
  const rest = line.slice(prefix.length);
  // Split at the first two '+' only: the base64 part may hold '+'.
  const a = rest.indexOf('+');
  const b = a < 0 ? -1 : rest.indexOf('+', a + 1);
  if (a < 0 || b < 0) throw new KeyError('bad-file', { why: 'parts' });
  const name = rest.slice(0, a);
  const keyId = rest.slice(a + 1, b);
  let raw;
  try {
    raw = fromBase64(rest.slice(b + 1));
  } catch {
    throw new KeyError('bad-file', { why: 'base64' });
  }
  if (raw.length !== 33 || !/^[0-9a-f]{8}$/.test(keyId)) throw new KeyError('bad-file', { why: 'length' });
  if (raw[0] === 0x04) throw new KeyError('cosigner-key');
  if (raw[0] !== ALG_ED25519) throw new KeyError('bad-file', { why: 'alg' });
  if (!KEY_NAME_RE.test(name)) throw new KeyError(name.includes('/') || name.includes('.') ? 'log-key' : 'bad-file', { why: 'name' });
  return { name, keyId, seed: raw.subarray(1) };
}

/**
 * Imports a key file's text as the key of ledger `origin`: the seed becomes a
 * non-extractable key, and the file's key id must match the public key.
 */
export async function importKeyFile(origin, text) {
  const parsed = parseKeyFile(text);
  if (await loadKey(origin)) throw new KeyError('exists');
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, parsed.seed);
  let publicKey;
  try {
    // WebCrypto derives the public key only from a key it may export, so a
    // throwaway extractable copy gives it; the key kept is imported again,
    // non-extractable, and the copy is dropped.
    const temp = await subtle().importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    const jwk = await subtle().exportKey('jwk', temp);
    publicKey = fromBase64Url(jwk.x);
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError('bad-file', { why: 'seed' });
  }
  if ((await keyIdHex(parsed.name, ALG_ED25519, publicKey)) !== parsed.keyId) throw new KeyError('bad-file', { why: 'key id' });
  const privateKey = await subtle().importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
  pkcs8.fill(0);
  return saveKey({ origin, name: parsed.name, public_key: toBase64(publicKey), private_key: privateKey, source: 'imported', created_ms: Date.now() });
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
}

// ---------------------------------------------------------------------------
// Public forms and signing
// ---------------------------------------------------------------------------

/** The key as a genesis or governance entry lists a member (§7.1 KeyDef), as JSON. */
export function keyDefText(record) {
  return JSON.stringify({ name: record.name, public_key: record.public_key });
}

/** The verifier key text `name+hex8+base64(0x01 || key)` (§11.2), as `feeledger keygen` prints it. */
export async function verifierKeyText(record) {
  const key = fromBase64(record.public_key);
  return `${record.name}+${await keyIdHex(record.name, ALG_ED25519, key)}+${toBase64(concat(Uint8Array.of(ALG_ED25519), key))}`;
}

/**
 * Signs an entry body given as its canonical JSON text: Ed25519 over
 * "feeledger/entry/v1\n" || JCS(body) (§8.1). Returns {key, sig} for the API.
 */
export async function signBody(record, bodyJcs) {
  const message = utf8(ENTRY_SIGNATURE_CONTEXT + bodyJcs);
  const sig = new Uint8Array(await subtle().sign({ name: 'Ed25519' }, record.private_key, message));
  return { key: record.name, sig: toBase64(sig) };
}

/** Domain separation of a withdrawal signature (docs/format.md §8.5). */
export const WITHDRAWAL_SIGNATURE_CONTEXT = 'feeledger/withdrawal/v1\n';

/**
 * Signs the withdrawal of proposal `id` (64 lower-case hex digits) of
 * ledger `origin`: Ed25519 over "feeledger/withdrawal/v1\n" || origin ||
 * "\n" || id || "\n" (§8.5). Returns {key, sig} for the API.
 */
export async function signWithdrawal(record, origin, id) {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new KeyError('bad-id');
  const message = utf8(`${WITHDRAWAL_SIGNATURE_CONTEXT}${origin}\n${id}\n`);
  const sig = new Uint8Array(await subtle().sign({ name: 'Ed25519' }, record.private_key, message));
  return { key: record.name, sig: toBase64(sig) };
}

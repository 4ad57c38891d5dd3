// The page's own replay of a ledger: a second implementation of the core's
// `LedgerState::apply_leaf` (crates/core/src/state/, docs/format.md §3-§9,
// §12, §13), held to it by crates/cli/tests/replay_js.rs.
//
// `replay(state, leaves)` applies leaf bytes in order to a state (null for
// a new ledger, from its genesis) and returns the new state: every leaf is
// decoded strictly, chained (seq, prev, time), checked against the rules in
// force (roles, thresholds, signatures), and its money applied with exact
// integer arithmetic (BigInt fen, no fund below zero, none above 2^64 - 1).
// The first leaf refused stops the replay with a ReplayError naming the
// entry's seq and the rule, by the core's stable codes (`broken_chain`,
// `unknown_key`, `overdraft`, ...), so the page and `feeledger verify` name
// the same fault.
//
// A state is plain data (objects, arrays, strings, numbers, BigInt), so it
// can be structured-cloned into IndexedDB or across a worker, and a later
// `replay(saved, newLeaves)` continues where it stopped. It carries what
// judging later leaves needs: roles and rules in force, balances, monthly
// totals, the body id of every entry (replays), the money of every entry a
// reversal could name, which were reversed, and the Merkle frontier of the
// leaves so far (tlog.js), whose root is compared with a signed checkpoint.
//
// The per-entry part (`bodyIds`, `money`, `others`) grows with the log, so a
// caller may keep it apart (kept.js keeps the body ids sorted in typed
// arrays and the money in runs) and give `replay` an `earlier` lookup
// instead: the state's own maps then hold only the entries replayed since,
// and the lookup answers for the ones before (`earlier.seqOfBody(bodyIdHex)`
// and `earlier.entry(seq)`, each a promise; see `replay`). A returning visit
// then reads what its new leaves name, not the whole history.
//
// Ed25519 is WebCrypto's (verify.js). The core verifies with ed25519-dalek's
// verify_strict; WebCrypto also refuses S >= l and non-canonical R, and the
// role keys were checked here (canonical, on the curve, not of small
// order), so what is left is a small-order R, refused here by its encoding.

import {
  ENTRY_SIGNATURE_CONTEXT,
  concat,
  ed25519Verify,
  fromBase64,
  fromUtf8,
  jcs,
  leafHash,
  parseVkey,
  sha256,
  toHex,
  utf8,
  ALG_ED25519,
} from './verify.js';
import { frontierAppend, frontierExtend, frontierRoot } from './tlog.js';

/** The shape of a saved state; a state of another format is not resumed. */
export const STATE_FORMAT = 'feeledger-replay/1';

// Limits of docs/format.md §3 and §6, as the core names them.
const LEAF_BYTES_MAX = 65_535;
const JSON_DEPTH_MAX = 8;
const AMOUNT_FEN_MAX = 10_000_000_000_000;
const U32_MAX = 4_294_967_295;
const U64_MAX = (1n << 64n) - 1n;
const ORIGIN_BYTES_MAX = 128;
const NAME_BYTES_MAX = 200;
const PARTY_BYTES_MAX = 100;
const MEMO_BYTES_MAX = 1_000;
const REASON_BYTES_MAX = 1_000;
const DECISION_REF_BYTES_MAX = 200;
const ATTACHMENT_NAME_BYTES_MAX = 200;
const ATTACHMENTS_MAX = 32;
const FUNDS_MAX = 16;
const KEYS_PER_ROLE_MAX = 32;
/** A role key's display name (§7.1): 16 Chinese characters. */
export const DISPLAY_NAME_BYTES_MAX = 48;
const SIGNATURES_MAX = 64;
const PARTY_DIGITS_MAX = 8;
const PARTY_DIGIT_RUN_MAX = 6;
const BASIS_POINTS_WHOLE = 10_000;
const REQUIRED_FUNDS = ['operating', 'public_revenue', 'maintenance'];
const ZERO_HASH_HEX = '0'.repeat(64);

/** Roles in the order rules list them and thresholds are checked. */
const ROLE_ORDER = ['company', 'committee', 'supervisor'];
const RULE_KINDS = ['income', 'expenditure', 'transfer', 'governance'];
const INCOME_CATEGORIES = ['property_fee', 'parking', 'advertising', 'venue_rental', 'interest', 'other'];
const EXPENSE_CATEGORIES = ['cleaning', 'security', 'greening', 'elevator', 'repairs', 'utilities', 'salaries', 'management_fee', 'other'];
/** The category totals use for transfers. */
const TRANSFER_CATEGORY = 'transfer';
const MONEY_KINDS = ['income', 'expenditure', 'transfer'];
/** The Chinese numerals a phone number can be written in (§6.7). */
const CHINESE_DIGITS = '〇零一二三四五六七八九两壹贰叁肆伍陆柒捌玖';

/**
 * A refused leaf: `seq` is the entry (its position in the log, as replayed),
 * `rule` the core's stable code, `detail` what and where.
 */
export class ReplayError extends Error {
  constructor(seq, rule, detail = {}) {
    super(`entry ${seq}: ${rule} ${JSON.stringify(detail, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    this.name = 'ReplayError';
    this.seq = seq;
    this.rule = rule;
    this.detail = detail;
  }
}

// A fault found while decoding: `malformed`, with the JSON path.
class Malformed extends Error {
  constructor(path, reason) {
    super(`${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------------------
// Decoding (§3, §4-§9): strict, as Leaf::decode
// ---------------------------------------------------------------------------

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const byteLength = (s) => utf8(s).length;

// §3.1: only strings, integers, arrays and objects; no control character or
// lone surrogate in a string or key; at most 8 levels.
function checkValue(value, path, depth) {
  if (typeof value === 'string') {
    if (/[\u0000-\u001f\u007f-\u009f]/.test(value) || !value.isWellFormed()) throw new Malformed(path, 'a control character or lone surrogate');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw new Malformed(path, 'only integers within ±(2^53 - 1)');
    return;
  }
  if (value === null || typeof value !== 'object') throw new Malformed(path, 'null, true and false are refused');
  if (depth >= JSON_DEPTH_MAX) throw new Malformed(path, `nesting deeper than ${JSON_DEPTH_MAX}`);
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkValue(item, `${path}[${i}]`, depth + 1));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    checkValue(key, path, depth);
    checkValue(item, `${path}.${key}`, depth + 1);
  }
}

/** Parses canonical JSON bytes (§3); returns {text, value}. Throws Malformed. */
function parseStrict(bytes) {
  if (bytes.length > LEAF_BYTES_MAX) throw new Malformed('$', `${bytes.length} bytes; the limit is ${LEAF_BYTES_MAX}`);
  let text;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new Malformed('$', 'not UTF-8');
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Malformed('$', 'not JSON');
  }
  checkValue(value, '$', 0);
  if (jcs(value) !== text) throw new Malformed('$', 'not in canonical form (RFC 8785)');
  return { text, value };
}

// An object with exactly these members (the optional ones may be absent).
function members(value, path, required, optional = []) {
  if (!isObject(value)) throw new Malformed(path, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) throw new Malformed(`${path}.${key}`, 'unknown field');
  }
  for (const key of required) {
    if (!Object.hasOwn(value, key)) throw new Malformed(`${path}.${key}`, 'is missing');
  }
  return value;
}

function string(value, path) {
  if (typeof value !== 'string') throw new Malformed(path, 'must be a string');
  return value;
}

function uint(value, path, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new Malformed(path, `must be an integer 0 to ${max}`);
  return value;
}

function array(value, path) {
  if (!Array.isArray(value)) throw new Malformed(path, 'must be an array');
  return value;
}

function oneOf(value, path, allowed) {
  if (!allowed.includes(string(value, path))) throw new Malformed(path, `must be one of ${allowed.join(', ')}`);
  return value;
}

// §6.6: byte length, no control character, no White_Space at either end.
function text(value, path, bytesMin, bytesMax) {
  const s = string(value, path);
  const n = byteLength(s);
  if (n < bytesMin || n > bytesMax) throw new Malformed(path, `must be ${bytesMin} to ${bytesMax} bytes, is ${n}`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) throw new Malformed(path, 'must not contain control characters');
  if (/^\p{White_Space}|\p{White_Space}$/u.test(s)) throw new Malformed(path, 'must not start or end with white space');
  return s;
}

/**
 * Why `s` cannot be a role key's display name (§7.1, the text rule of §6.6
 * with 1 to 48 bytes), or null: 'empty', 'too-long', 'control' or 'space'.
 * The enrol form words these for people; `text` above refuses the same.
 */
export function displayNameFault(s) {
  if (typeof s !== 'string' || s === '') return 'empty';
  if (byteLength(s) > DISPLAY_NAME_BYTES_MAX) return 'too-long';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s) || !s.isWellFormed()) return 'control';
  if (/^\p{White_Space}|\p{White_Space}$/u.test(s)) return 'space';
  return null;
}

function pattern(value, path, re, rule) {
  if (!re.test(string(value, path))) throw new Malformed(path, rule);
  return value;
}

const origin = (v, p) => {
  pattern(v, p, /^[\x21-\x2a\x2c-\x7e]{1,128}$/, `an origin is 1 to ${ORIGIN_BYTES_MAX} printable ASCII characters, no '+'`);
  if (v.includes('://')) throw new Malformed(p, 'an origin has no scheme');
  return v;
};
const keyName = (v, p) => pattern(v, p, /^[a-z0-9][a-z0-9._-]{0,63}$/, 'a key name is 1 to 64 characters of a-z 0-9 . _ -');
const fundId = (v, p) => pattern(v, p, /^[a-z][a-z0-9_]{0,31}$/, 'a fund id is 1 to 32 characters of a-z 0-9 _');
const nonce = (v, p) => pattern(v, p, /^[A-Za-z0-9_-]{1,64}$/, 'a nonce is 1 to 64 characters of A-Z a-z 0-9 - _');
const hashHex = (v, p) => pattern(v, p, /^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const amount = (v, p) => {
  if (!Number.isSafeInteger(v) || v < 1 || v > AMOUNT_FEN_MAX) throw new Malformed(p, `an amount is 1 to ${AMOUNT_FEN_MAX} fen`);
  return v;
};

function daysInMonth(year, month) {
  if ([4, 6, 9, 11].includes(month)) return 30;
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return 31;
}

function date(value, path) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(string(value, path));
  const [year, month, day] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  if (!m || year < 2000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new Malformed(path, 'must be a real date YYYY-MM-DD, year 2000-9999');
  }
  return value;
}

function month(value, path) {
  const m = /^([0-9]{4})-([0-9]{2})$/.exec(string(value, path));
  if (!m || Number(m[1]) < 2000 || Number(m[2]) < 1 || Number(m[2]) > 12) throw new Malformed(path, 'must be a month YYYY-MM');
  return value;
}

// §6.7: a unit or a business, never a person's phone or ID number.
function party(value, path) {
  const s = text(value, path, 1, PARTY_BYTES_MAX);
  let digits = 0;
  let run = 0;
  let longest = 0;
  for (const c of s) {
    if (/\p{N}/u.test(c) || CHINESE_DIGITS.includes(c)) {
      digits += 1;
      run += 1;
      longest = Math.max(longest, run);
    } else {
      run = 0;
    }
  }
  if (digits > PARTY_DIGITS_MAX || longest > PARTY_DIGIT_RUN_MAX) throw new Malformed(path, 'this looks like a phone or ID number');
  return s;
}

function ownersApproval(value, path) {
  const names = ['approving_area_bp', 'approving_headcount_bp', 'decision_ref', 'participating_area_bp', 'participating_headcount_bp'];
  const a = members(value, path, names);
  text(a.decision_ref, `${path}.decision_ref`, 1, DECISION_REF_BYTES_MAX);
  for (const name of names.filter((n) => n !== 'decision_ref')) {
    uint(a[name], `${path}.${name}`, U32_MAX);
    if (a[name] > BASIS_POINTS_WHOLE) throw new Malformed(`${path}.${name}`, `basis points are 0 to ${BASIS_POINTS_WHOLE}`);
  }
  if (a.approving_area_bp > a.participating_area_bp || a.approving_headcount_bp > a.participating_headcount_bp) {
    throw new Malformed(path, 'more owners approved than took part');
  }
}

// ---------------------------------------------------------------------------
// Ed25519 points (§7.1): a role key must decode, be canonical and not be of
// small order, as ed25519-dalek's VerifyingKey::from_bytes, the core's
// re-encoding check and is_weak decide.
// ---------------------------------------------------------------------------

const P = (1n << 255n) - 19n;
const mod = (a) => ((a % P) + P) % P;
function modPow(base, exp) {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
const D = mod(-121665n * modPow(121666n, P - 2n));
const SQRT_M1 = modPow(2n, (P - 1n) / 4n);

/** The canonical encodings of the eight points of small order. */
const SMALL_ORDER_HEX = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

/** Why 32 bytes are not a usable Ed25519 public key, or null when they are. */
export function publicKeyFault(bytes) {
  if (bytes.length !== 32) return 'not 32 bytes';
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i]);
  const sign = bytes[31] >> 7;
  if (y >= P) return 'not a canonically encoded Ed25519 point';
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  const v3 = (v * v * v) % P;
  let x = (((u * v3) % P) * modPow((u * ((v3 * v3 * v) % P)) % P, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) return 'not an Ed25519 point';
    x = (x * SQRT_M1) % P;
  }
  if (x === 0n && sign === 1) return 'not a canonically encoded Ed25519 point';
  if (SMALL_ORDER_HEX.has(toHex(bytes))) return 'weak (small-order) key refused';
  return null;
}

// ---------------------------------------------------------------------------
// Roles and rules (§7)
// ---------------------------------------------------------------------------

function checkRoles(value, path) {
  if (!isObject(value)) throw new Malformed(path, 'must be an object');
  for (const role of Object.keys(value)) if (!ROLE_ORDER.includes(role)) throw new Malformed(`${path}.${role}`, 'unknown role');
  for (const role of ['company', 'committee']) if (!Object.hasOwn(value, role)) throw new Malformed(path, `the role ${role} is required`);
  const names = new Set();
  const keys = new Set();
  for (const role of ROLE_ORDER.filter((r) => Object.hasOwn(value, r))) {
    const at = `${path}.${role}`;
    const def = members(value[role], at, ['keys', 'threshold']);
    uint(def.threshold, `${at}.threshold`, U32_MAX);
    array(def.keys, `${at}.keys`);
    if (def.keys.length === 0 || def.keys.length > KEYS_PER_ROLE_MAX) throw new Malformed(at, `1 to ${KEYS_PER_ROLE_MAX} keys`);
    if (def.threshold === 0 || def.threshold > def.keys.length) throw new Malformed(`${at}.threshold`, 'must be 1 to the number of keys');
    def.keys.forEach((k, i) => {
      const keyAt = `${at}.keys[${i}]`;
      members(k, keyAt, ['name', 'public_key'], ['display_name']);
      keyName(k.name, `${keyAt}.name`);
      // §7.1: who the key stands for, as residents read it; signed with the
      // roles and kept in state.roles, so the page names verified people.
      if (Object.hasOwn(k, 'display_name')) text(k.display_name, `${keyAt}.display_name`, 1, DISPLAY_NAME_BYTES_MAX);
      let raw;
      try {
        raw = fromBase64(string(k.public_key, `${keyAt}.public_key`));
      } catch (e) {
        if (e instanceof Malformed) throw e;
        raw = null;
      }
      if (!raw || raw.length !== 32) throw new Malformed(`${keyAt}.public_key`, 'not a 32-byte Ed25519 public key in base64');
      const fault = publicKeyFault(raw);
      if (fault) throw new Malformed(`${keyAt}.public_key`, fault);
      if (names.has(k.name)) throw new Malformed(`${keyAt}.name`, `key name ${k.name} is used twice`);
      names.add(k.name);
      if (keys.has(k.public_key)) throw new Malformed(`${keyAt}.public_key`, 'a key belongs to one role only, once');
      keys.add(k.public_key);
    });
    for (let i = 1; i < def.keys.length; i++) {
      if (!(def.keys[i - 1].name < def.keys[i].name)) throw new Malformed(`${at}.keys`, 'keys must be sorted by name');
    }
  }
}

// The shape of a rule set (what the core's types accept when decoding).
function checkRulesShape(value, path) {
  if (!isObject(value)) throw new Malformed(path, 'must be an object');
  for (const [kind, roles] of Object.entries(value)) {
    if (!RULE_KINDS.includes(kind)) throw new Malformed(`${path}.${kind}`, 'unknown rule kind');
    array(roles, `${path}.${kind}`).forEach((r, i) => oneOf(r, `${path}.${kind}[${i}]`, ROLE_ORDER));
  }
}

// Every kind has a rule of 1 or more distinct roles in role order, each of
// which exists (checked against the roles it will work with).
function checkRules(rules, roles, path) {
  for (const kind of RULE_KINDS) {
    const at = `${path}.${kind}`;
    const needed = rules[kind];
    if (!needed) throw new Malformed(at, 'a rule is required for every kind');
    const order = needed.map((r) => ROLE_ORDER.indexOf(r));
    if (needed.length === 0 || order.some((o, i) => i > 0 && !(order[i - 1] < o))) {
      throw new Malformed(at, '1 or more distinct roles, in order company, committee, supervisor');
    }
    const missing = needed.find((r) => !Object.hasOwn(roles, r));
    if (missing) throw new Malformed(at, `names the role ${missing}, which has no keys`);
  }
}

// ---------------------------------------------------------------------------
// Bodies and leaves
// ---------------------------------------------------------------------------

const HEADER = ['date', 'kind', 'ledger', 'nonce'];
const KIND_MEMBERS = {
  genesis: [['currency', 'funds', 'log_key', 'minor_unit', 'minor_units_per_major', 'name', 'roles', 'rules'], []],
  income: [['amount_fen', 'category', 'fund', 'memo', 'payer', 'period'], []],
  expenditure: [['amount_fen', 'attachments', 'category', 'fund', 'memo', 'payee'], ['owners_approval']],
  transfer: [['amount_fen', 'from_fund', 'memo', 'to_fund'], ['owners_approval']],
  reversal: [['reason', 'target_seq'], []],
  governance: [['memo'], ['roles', 'rules']],
};

function checkBody(body, path) {
  if (!isObject(body)) throw new Malformed(path, 'a body must be a JSON object');
  for (const name of HEADER) {
    if (!Object.hasOwn(body, name)) throw new Malformed(`${path}.${name}`, 'is missing');
    string(body[name], `${path}.${name}`);
  }
  if (!Object.hasOwn(KIND_MEMBERS, body.kind)) throw new Malformed(`${path}.kind`, `unknown kind ${body.kind}`);
  date(body.date, `${path}.date`);
  const [required, optional] = KIND_MEMBERS[body.kind];
  members(body, path, [...HEADER, ...required], optional);
  const at = (field) => `${path}.${field}`;
  origin(body.ledger, at('ledger'));
  nonce(body.nonce, at('nonce'));
  switch (body.kind) {
    case 'genesis': {
      text(body.name, at('name'), 1, NAME_BYTES_MAX);
      string(body.currency, at('currency'));
      string(body.minor_unit, at('minor_unit'));
      uint(body.minor_units_per_major, at('minor_units_per_major'), U32_MAX);
      string(body.log_key, at('log_key'));
      checkRulesShape(body.rules, at('rules'));
      if (body.currency !== 'CNY' || body.minor_unit !== 'fen' || body.minor_units_per_major !== 100) {
        throw new Malformed(at('currency'), 'this version keeps CNY in fen');
      }
      const funds = array(body.funds, at('funds'));
      if (funds.length === 0 || funds.length > FUNDS_MAX) throw new Malformed(at('funds'), `1 to ${FUNDS_MAX} funds`);
      funds.forEach((f, i) => {
        members(f, at(`funds[${i}]`), ['id', 'name']);
        fundId(f.id, at(`funds[${i}].id`));
        text(f.name, at(`funds[${i}].name`), 1, NAME_BYTES_MAX);
      });
      for (let i = 1; i < funds.length; i++) {
        if (!(funds[i - 1].id < funds[i].id)) throw new Malformed(at('funds'), 'fund ids must be unique and sorted');
      }
      for (const required of REQUIRED_FUNDS) {
        if (!funds.some((f) => f.id === required)) throw new Malformed(at('funds'), `the fund ${required} is required`);
      }
      checkRoles(body.roles, at('roles'));
      checkRules(body.rules, body.roles, at('rules'));
      break;
    }
    case 'income':
      fundId(body.fund, at('fund'));
      amount(body.amount_fen, at('amount_fen'));
      oneOf(body.category, at('category'), INCOME_CATEGORIES);
      party(body.payer, at('payer'));
      month(body.period, at('period'));
      text(body.memo, at('memo'), 0, MEMO_BYTES_MAX);
      break;
    case 'expenditure':
      fundId(body.fund, at('fund'));
      amount(body.amount_fen, at('amount_fen'));
      oneOf(body.category, at('category'), EXPENSE_CATEGORIES);
      party(body.payee, at('payee'));
      text(body.memo, at('memo'), 0, MEMO_BYTES_MAX);
      array(body.attachments, at('attachments'));
      if (body.attachments.length > ATTACHMENTS_MAX) throw new Malformed(at('attachments'), `at most ${ATTACHMENTS_MAX}`);
      body.attachments.forEach((a, i) => {
        members(a, at(`attachments[${i}]`), ['bytes', 'name', 'sha256']);
        uint(a.bytes, at(`attachments[${i}].bytes`));
        text(a.name, at(`attachments[${i}].name`), 1, ATTACHMENT_NAME_BYTES_MAX);
        hashHex(a.sha256, at(`attachments[${i}].sha256`));
      });
      if (Object.hasOwn(body, 'owners_approval')) ownersApproval(body.owners_approval, at('owners_approval'));
      break;
    case 'transfer':
      fundId(body.from_fund, at('from_fund'));
      fundId(body.to_fund, at('to_fund'));
      if (body.from_fund === body.to_fund) throw new Malformed(at('to_fund'), 'a transfer needs two different funds');
      amount(body.amount_fen, at('amount_fen'));
      text(body.memo, at('memo'), 0, MEMO_BYTES_MAX);
      if (Object.hasOwn(body, 'owners_approval')) ownersApproval(body.owners_approval, at('owners_approval'));
      break;
    case 'reversal':
      uint(body.target_seq, at('target_seq'));
      text(body.reason, at('reason'), 1, REASON_BYTES_MAX);
      break;
    case 'governance':
      if (!Object.hasOwn(body, 'roles') && !Object.hasOwn(body, 'rules')) throw new Malformed(path, 'governance must change roles, rules or both');
      if (Object.hasOwn(body, 'rules')) checkRulesShape(body.rules, at('rules'));
      text(body.memo, at('memo'), 0, MEMO_BYTES_MAX);
      if (Object.hasOwn(body, 'roles')) checkRoles(body.roles, at('roles'));
      break;
    default:
      throw new Malformed(at('kind'), 'unknown kind');
  }
}

function checkSignatureList(value, path) {
  const sigs = array(value, path);
  if (sigs.length === 0 || sigs.length > SIGNATURES_MAX) throw new Malformed(path, `1 to ${SIGNATURES_MAX} signatures`);
  sigs.forEach((s, i) => {
    members(s, `${path}[${i}]`, ['key', 'sig']);
    keyName(s.key, `${path}[${i}].key`);
    let raw = null;
    try {
      raw = fromBase64(string(s.sig, `${path}[${i}].sig`));
    } catch (e) {
      if (e instanceof Malformed) throw e;
    }
    if (!raw || raw.length !== 64) throw new Malformed(`${path}[${i}].sig`, 'must be 64 bytes in padded base64');
  });
  for (let i = 1; i < sigs.length; i++) {
    if (!(sigs[i - 1].key < sigs[i].key)) throw new Malformed(path, 'signatures must be sorted by key name, one per key');
  }
}

/**
 * Decodes leaf bytes strictly (§3, §9): canonical JSON, exactly the leaf's
 * members, every field rule. Returns {leaf, text}; throws an Error with
 * `path` and `reason` for a malformed leaf.
 */
export function decodeLeaf(bytes) {
  const { text: leafText, value } = parseStrict(bytes);
  members(value, '$', ['body', 'prev', 'seq', 'signatures', 'time']);
  uint(value.seq, '$.seq');
  hashHex(value.prev, '$.prev');
  uint(value.time, '$.time');
  checkBody(value.body, '$.body');
  checkSignatureList(value.signatures, '$.signatures');
  return { leaf: value, text: leafText };
}

// ---------------------------------------------------------------------------
// Money (§13): effects, postings, checked arithmetic
// ---------------------------------------------------------------------------

/** What a money entry does: kept per entry a reversal may name. */
function moneyOf(body) {
  if (!MONEY_KINDS.includes(body.kind)) return null;
  const m = body.date.slice(0, 7);
  const amountFen = BigInt(body.amount_fen);
  switch (body.kind) {
    case 'income':
      return { kind: 'income', month: m, fund: body.fund, category: body.category, amountFen };
    case 'expenditure':
      return { kind: 'expenditure', month: m, fund: body.fund, category: body.category, amountFen };
    case 'transfer':
      return { kind: 'transfer', month: m, from: body.from_fund, to: body.to_fund, amountFen };
    default:
      return null;
  }
}

// [fund, signed change] in the order the core applies them; `sign` -1 undoes.
function moves(money, sign) {
  const a = money.amountFen;
  const k = BigInt(sign);
  switch (money.kind) {
    case 'income':
      return [[money.fund, k * a]];
    case 'expenditure':
      return [[money.fund, -k * a]];
    default:
      // A transfer debits one fund, then credits the other; undone, the
      // other way round.
      return sign > 0 ? [[money.from, -a], [money.to, a]] : [[money.to, -a], [money.from, a]];
  }
}

// [month, fund, category, income, spending] postings; `sign` -1 negates.
function postings(money, sign) {
  const a = BigInt(sign) * money.amountFen;
  switch (money.kind) {
    case 'income':
      return [[money.month, money.fund, money.category, a, 0n]];
    case 'expenditure':
      return [[money.month, money.fund, money.category, 0n, a]];
    default:
      return [
        [money.month, money.from, TRANSFER_CATEGORY, 0n, a],
        [money.month, money.to, TRANSFER_CATEGORY, a, 0n],
      ];
  }
}

// New balances, or the overdraft / overflow the first move hits.
function applyMoves(balances, list, seq) {
  const next = { ...balances };
  for (const [fund, change] of list) {
    if (!Object.hasOwn(next, fund)) throw new ReplayError(seq, 'unknown_fund', { fund });
    const after = next[fund] + change;
    if (after < 0n) throw new ReplayError(seq, 'overdraft', { fund, balanceFen: next[fund], amountFen: -change });
    if (after > U64_MAX) throw new ReplayError(seq, 'overflow', { fund });
    next[fund] = after;
  }
  return next;
}

// ---------------------------------------------------------------------------
// Applying one leaf (§12)
// ---------------------------------------------------------------------------

// name -> {role, key bytes} over the roles in force.
function indexKeys(roles) {
  const out = new Map();
  for (const role of ROLE_ORDER) {
    for (const k of (roles[role] && roles[role].keys) || []) out.set(k.name, { role, key: fromBase64(k.public_key) });
  }
  return out;
}

// §8.3 in list order, then §7.3 thresholds in role order.
/**
 * Each signature's verdict under `keys`: the signing key's role, 'unknown'
 * or 'bad'. Started for a whole batch of leaves at once (see `replay`).
 */
function signatureVerdicts(leaf, message, keys) {
  return Promise.all(
    leaf.signatures.map(async (s) => {
      const k = keys.get(s.key);
      if (!k) return 'unknown';
      const sig = fromBase64(s.sig);
      // verify_strict refuses a small-order R, which WebCrypto may accept.
      if (SMALL_ORDER_HEX.has(toHex(sig.subarray(0, 32)))) return 'bad';
      return (await ed25519Verify(k.key, message, sig)) ? k.role : 'bad';
    }),
  );
}

// `ahead`: verdicts already started, trusted only if they were judged
// under these very keys (a governance change before this leaf replaces the
// index, and the leaf is judged again).
async function checkSignatures(seq, leaf, message, keys, roles, requiredRoles, ahead = null) {
  const verdicts = await (ahead && ahead.keys === keys ? ahead.verdicts : signatureVerdicts(leaf, message, keys));
  const signers = [];
  leaf.signatures.forEach((s, i) => {
    if (verdicts[i] === 'unknown') throw new ReplayError(seq, 'unknown_key', { key: s.key });
    if (verdicts[i] === 'bad') throw new ReplayError(seq, 'bad_signature', { key: s.key });
    signers.push({ key: s.key, role: verdicts[i] });
  });
  for (const role of requiredRoles) {
    const have = signers.filter((s) => s.role === role).length;
    const need = roles[role].threshold;
    if (have < need) throw new ReplayError(seq, 'rule_not_met', { kind: leaf.body.kind, role, have, need });
  }
  return signers;
}

function addPostings(totals, list) {
  for (const [m, fund, category, income, spending] of list) {
    const byFund = (totals[m] ||= {});
    const byCategory = (byFund[fund] ||= {});
    const sums = (byCategory[category] ||= [0n, 0n]);
    sums[0] += income;
    sums[1] += spending;
  }
}

// The genesis (§12.1): the state starts from it.
async function applyGenesis(leaf, bytes, body, bodyId, message, seq) {
  if (body.kind !== 'genesis') throw new ReplayError(seq, 'not_genesis', { found: body.kind });
  if (leaf.seq !== 0) throw new ReplayError(seq, 'wrong_seq', { expected: 0, found: leaf.seq });
  if (leaf.prev !== ZERO_HASH_HEX) throw new ReplayError(seq, 'broken_chain', { expected: ZERO_HASH_HEX, found: leaf.prev });
  let logKey;
  try {
    logKey = await parseVkey(body.log_key, 'log-key');
  } catch {
    logKey = null;
  }
  if (!logKey || logKey.alg !== ALG_ED25519 || logKey.name !== body.ledger || publicKeyFault(logKey.key)) {
    throw new ReplayError(seq, 'bad_log_key', { logKey: body.log_key });
  }
  const required = ROLE_ORDER.filter((r) => Object.hasOwn(body.roles, r));
  await checkSignatures(seq, leaf, message, indexKeys(body.roles), body.roles, required);
  const frontier = await frontierAppend([], 0, await leafHash(bytes));
  return {
    format: STATE_FORMAT,
    origin: body.ledger,
    logKey: body.log_key,
    name: body.name,
    funds: body.funds.map((f) => ({ id: f.id, name: f.name })),
    roles: body.roles,
    rules: body.rules,
    size: 1,
    head: frontier[0],
    lastTimeMs: leaf.time,
    balances: Object.fromEntries(body.funds.map((f) => [f.id, 0n])),
    totals: {},
    bodyIds: { [bodyId]: 0 },
    money: {},
    others: { 0: 'genesis' },
    reversedBy: {},
    frontier,
  };
}

// Every later leaf (§12.2), on `s`, which it changes only when all checks
// pass. `keys` is the index of s.roles; `earlier` the lookup of the entries
// kept apart, or null (see `replay`). The leaf's hash goes on `appended`,
// not into s.frontier: `replay` extends the frontier by all of a call's
// leaves at once (frontierExtend).
async function applyNext(s, keys, leaf, bytes, body, bodyId, message, seq, ahead, earlier, appended) {
  if (leaf.seq !== s.size) throw new ReplayError(seq, 'wrong_seq', { expected: s.size, found: leaf.seq });
  if (leaf.prev !== s.head) throw new ReplayError(seq, 'broken_chain', { expected: s.head, found: leaf.prev });
  if (leaf.time < s.lastTimeMs) throw new ReplayError(seq, 'time_went_backwards', { previousMs: s.lastTimeMs, foundMs: leaf.time });
  if (body.kind === 'genesis') throw new ReplayError(seq, 'second_genesis', {});
  if (body.ledger !== s.origin) throw new ReplayError(seq, 'wrong_ledger', { expected: s.origin, found: body.ledger });
  const replayed = Object.hasOwn(s.bodyIds, bodyId) ? s.bodyIds[bodyId] : await ahead.earlierSeq;
  if (replayed !== undefined) throw new ReplayError(seq, 'replay', { seq: replayed });
  const fundExists = (fund) => {
    if (!Object.hasOwn(s.balances, fund)) throw new ReplayError(seq, 'unknown_fund', { fund });
  };
  let ruleKind = body.kind;
  let effect = [];
  let posted = [];
  let reverses = null;
  switch (body.kind) {
    case 'income':
    case 'expenditure':
      fundExists(body.fund);
      break;
    case 'transfer':
      fundExists(body.from_fund);
      fundExists(body.to_fund);
      break;
    case 'reversal': {
      const t = body.target_seq;
      if (t >= s.size) throw new ReplayError(seq, 'target_missing', { targetSeq: t });
      const kept = Object.hasOwn(s.money, t) ? s.money[t] : Object.hasOwn(s.others, t) ? s.others[t] : earlier ? await earlier.entry(t) : undefined;
      const target = typeof kept === 'object' ? kept : null;
      if (!target) throw new ReplayError(seq, 'not_reversible', { targetSeq: t, kind: kept });
      if (Object.hasOwn(s.reversedBy, t)) throw new ReplayError(seq, 'already_reversed', { targetSeq: t, bySeq: s.reversedBy[t] });
      ruleKind = target.kind;
      effect = moves(target, -1);
      posted = postings(target, -1);
      reverses = t;
      break;
    }
    case 'governance':
      try {
        checkRules(body.rules || s.rules, body.roles || s.roles, '$.body.rules');
      } catch (e) {
        if (e instanceof Malformed) throw new ReplayError(seq, 'malformed', { path: e.path, reason: e.reason });
        throw e;
      }
      break;
    default:
      break;
  }
  const money = moneyOf(body);
  if (money) {
    effect = moves(money, 1);
    posted = postings(money, 1);
  }
  const balances = applyMoves(s.balances, effect, seq);
  await checkSignatures(seq, leaf, message, keys, s.roles, s.rules[ruleKind], ahead);
  const hash = await ahead.leafHash;

  // Every check passed: only now does the state change.
  s.balances = balances;
  addPostings(s.totals, posted);
  s.bodyIds[bodyId] = seq;
  if (money) s.money[seq] = money;
  else s.others[seq] = body.kind;
  if (reverses !== null) s.reversedBy[reverses] = seq;
  if (body.kind === 'governance') {
    if (body.roles) s.roles = body.roles;
    if (body.rules) s.rules = body.rules;
  }
  s.size += 1;
  s.head = toHex(hash);
  s.lastTimeMs = leaf.time;
  appended.push(hash);
  return body.kind === 'governance' && body.roles ? indexKeys(s.roles) : keys;
}

/**
 * A leaf decoded, with its body id, leaf hash and (under `keys`, if there
 * are any yet) its signature verdicts started; or why it failed to decode. Promises that may reject
 * are marked handled: the replay may stop at an earlier leaf and never
 * wait on them.
 */
function prepare(bytes, keys, earlier) {
  let leaf;
  let bodyBytes;
  try {
    leaf = decodeLeaf(bytes).leaf;
    bodyBytes = utf8(jcs(leaf.body));
  } catch (e) {
    return { failed: e };
  }
  const message = concat(utf8(ENTRY_SIGNATURE_CONTEXT), bodyBytes);
  const prepared = { leaf, message, bodyId: sha256(bodyBytes), leafHash: leafHash(bytes), keys, verdicts: null };
  if (keys) prepared.verdicts = signatureVerdicts(leaf, message, keys);
  // Whether an entry kept apart has this body id: asked now, with the rest.
  if (earlier) prepared.earlierSeq = prepared.bodyId.then((id) => earlier.seqOfBody(toHex(id)));
  for (const p of [prepared.bodyId, prepared.leafHash, prepared.verdicts, prepared.earlierSeq]) if (p) p.catch(() => {});
  return prepared;
}

/** `prepared` with its signature checks started again under `keys`. */
function rejudge(prepared, keys) {
  if (prepared.failed) return prepared;
  const verdicts = signatureVerdicts(prepared.leaf, prepared.message, keys);
  verdicts.catch(() => {});
  return { ...prepared, keys, verdicts };
}

/**
 * Applies `leaves` (byte arrays, in log order) to `state` (null: a new
 * ledger, whose first leaf is its genesis) and returns the new state. The
 * input state is not changed, unless `inPlace` is set (a caller that
 * replays bundle after bundle into its own copy, to save copying a large
 * state each time). `onLeaf(seq)` is called after each leaf. Throws
 * ReplayError for the first leaf refused; its `state` member is the state
 * after the last leaf applied (null if none was).
 *
 * `earlier`, when the state's per-entry maps were kept apart, answers for
 * the entries before them: `seqOfBody(bodyIdHex)` resolves with the seq of
 * the earlier entry with that body id (or undefined), `entry(seq)` with that
 * entry's money (an object) or, for an entry that moves none, its kind (a
 * string), or undefined. It must answer only for entries before the maps'
 * first: the state's own maps are asked first, and an answer is believed.
 */
export async function replay(state, leaves, { onLeaf, inPlace = false, earlier = null } = {}) {
  if (state !== null && (!state || state.format !== STATE_FORMAT)) throw new Error(`not a ${STATE_FORMAT} state`);
  let s = state === null || inPlace ? state : structuredClone(state);
  let keys = s ? indexKeys(s.roles) : null;
  // Every leaf's hashes and signature checks are started at once, then the
  // leaves are applied in order: WebCrypto answers each call a task later,
  // and waiting on each in turn cost most of a returning visit's replay.
  // A leaf that does not decode keeps its error for its turn.
  const ahead = leaves.map((bytes) => prepare(bytes, keys, earlier));
  // The leaf hashes applied since s.frontier was last brought up to date
  // (at `frontierSize` leaves): it is, once, before the state is returned
  // or handed over with an error.
  let appended = [];
  let frontierSize = s ? s.size : 0;
  const catchUp = async () => {
    if (s && appended.length > 0) {
      s.frontier = await frontierExtend(s.frontier, frontierSize, appended);
      frontierSize = s.size;
      appended = [];
    }
  };
  for (let i = 0; i < leaves.length; i++) {
    const bytes = leaves[i];
    const seq = s ? s.size : 0;
    try {
      const prepared = ahead[i];
      ahead[i] = null;
      if (prepared.failed) {
        const e = prepared.failed;
        if (e instanceof Malformed) throw new ReplayError(seq, 'malformed', { path: e.path, reason: e.reason });
        throw e;
      }
      const { leaf, message } = prepared;
      const bodyId = toHex(await prepared.bodyId);
      const before = keys;
      if (s === null) {
        s = await applyGenesis(leaf, bytes, leaf.body, bodyId, message, seq);
        frontierSize = s.size;
        keys = indexKeys(s.roles);
      } else {
        keys = await applyNext(s, keys, leaf, bytes, leaf.body, bodyId, message, seq, prepared, earlier, appended);
      }
      // New keys (the genesis, or a change of roles): the later leaves'
      // checks start again under them.
      if (keys !== before) for (let j = i + 1; j < ahead.length; j++) ahead[j] = rejudge(ahead[j], keys);
    } catch (e) {
      // The state after the last leaf applied, whole, frontier and all.
      await catchUp();
      if (e instanceof ReplayError) e.state = s;
      throw e;
    }
    if (onLeaf) onLeaf(seq);
  }
  await catchUp();
  return s;
}

/** The tree hash of every leaf a state has replayed, as 64 hex digits. */
export async function stateRoot(state) {
  return toHex(await frontierRoot(state.frontier));
}

/**
 * What a state shows: size, head, balances in fen (decimal strings, exact)
 * and the monthly totals in the order of `GET /api/v1/summary`.
 */
export function summarize(state) {
  const months = Object.keys(state.totals)
    .sort()
    .map((m) => {
      const totals = [];
      for (const fund of Object.keys(state.totals[m]).sort()) {
        for (const category of Object.keys(state.totals[m][fund]).sort()) {
          const [income, spending] = state.totals[m][fund][category];
          totals.push({ fund, category, income_fen: income.toString(), spending_fen: spending.toString() });
        }
      }
      return { month: m, totals };
    });
  const balances = {};
  for (const fund of Object.keys(state.balances).sort()) balances[fund] = state.balances[fund].toString();
  return { size: state.size, head: state.head, balances_fen: balances, months };
}

// Enrolling a key (登记新委员密钥) and removing one, in the page: a member of
// a role that may propose governance builds the complete new role set from
// the roles in force, sees the change in plain words, signs the governance
// body with the key kept in this browser and proposes it
// (`POST /api/v1/proposals`). The others co-sign it in their signing view
// (sign.js, which renders the same change with `roleChanges`).
//
// Trust: nothing here decides what is valid; the ledger does (docs/format.md
// §5.6, §7.1). The page checks the same rules first (key name, unique names
// and public keys across roles, a usable Ed25519 point that is not weak,
// 1 to 32 keys, threshold 1 to the keys) so a mistake gets plain words
// before anything is signed, and the server's refusals are shown by their
// code, in the page's language. The roles start from `/api/v1/ledger`'s
// `roles`; a server that lied there could only get a signature on a change
// the member saw in words and that the others see again before co-signing.
//
// The genesis ceremony's view (genesis.js) lives in the same section, at
// `#genesis`.
//
// The module mounts itself (`mountEnrol`); it re-renders when app.js
// renders the page chrome (the `lang` attribute of <html> is set on every
// render) and re-reads the kept key when the signing view changes.

import { jcs, fromBase64 } from './verify.js';
import { publicKeyFault, displayNameFault } from './replay.js';
import { keyLabel } from './strings.js';
import { h, mount } from './dom.js';
import { signingAvailable, loadKey, signBody, KEY_NAME_RE } from './keys.js';
import { createGenesis } from './genesis.js';
import { beijingDate } from './format.js';
import { LEDGER_BASE as BASE } from './base.js';

const CARD = 'enrol-card';

/** Role order (§7.2), and the roles a role set may hold (§7.1). */
export const ROLE_ORDER = ['company', 'committee', 'supervisor'];

/** Keys per role (§6.9). */
export const KEYS_PER_ROLE_MAX = 32;

/** The memo's limit in bytes (§6.6). */
const MEMO_BYTES_MAX = 1000;

/** Server error codes with words of their own (`enrol.code.<code>`); others fall back to sign.js's. */
const CODES = new Set(['unknown_key', 'unauthorized_signer', 'bad_signature', 'malformed', 'replay', 'too_many_proposals', 'wrong_ledger', 'too_large', 'shutting_down', 'timeout']);

export class EnrolError extends Error {
  constructor(code, vars = {}) {
    super(code);
    this.name = 'EnrolError';
    this.code = code;
    this.vars = vars;
  }
}

/**
 * The public key of a KeyDef text (`{"name":…,"public_key":…}`, as keys.js
 * `keyDefText` shows it, with `display_name` as `feeledger keygen
 * --display-name` prints it) or a bare base64 public key. Returns
 * {name|null, publicKey, displayName|null}. Throws EnrolError('bad-key')
 * when it is neither.
 */
export function parseKeyText(text) {
  const trimmed = String(text || '').trim();
  if (trimmed.startsWith('{')) {
    let v;
    try {
      v = JSON.parse(trimmed);
    } catch {
      throw new EnrolError('bad-key');
    }
    if (!v || typeof v.public_key !== 'string') throw new EnrolError('bad-key');
    return { name: typeof v.name === 'string' ? v.name : null, publicKey: v.public_key, displayName: typeof v.display_name === 'string' ? v.display_name : null };
  }
  return { name: null, publicKey: trimmed, displayName: null };
}

/** Checks 32 bytes of base64 as a role key (§7.1); throws EnrolError('bad-key'|'weak-key'). */
export function checkPublicKey(publicKey) {
  let raw;
  try {
    raw = fromBase64(publicKey);
  } catch {
    throw new EnrolError('bad-key');
  }
  if (raw.length !== 32) throw new EnrolError('bad-key');
  const fault = publicKeyFault(raw);
  if (fault && fault.startsWith('weak')) throw new EnrolError('weak-key');
  if (fault) throw new EnrolError('bad-key');
}

function cloneRoles(roles) {
  const out = {};
  for (const role of ROLE_ORDER) {
    // A key's display name (§7.1) stays with it: a change to the roles
    // must not drop the names the ledger already holds.
    if (roles && roles[role]) out[role] = { keys: roles[role].keys.map((k) => ({ ...(typeof k.display_name === 'string' ? { display_name: k.display_name } : {}), name: k.name, public_key: k.public_key })), threshold: roles[role].threshold };
  }
  return out;
}

/**
 * The complete new role set from `roles` in force and one change to `role`:
 * `add` ({name, publicKey, displayName?} or null; a displayName of null or
 * '' names no one), `remove` (a key name or ''), and
 * `threshold` (a number, or null to keep it; a new role starts at 1).
 * Checks the rules the core applies (§6.2, §7.1); throws EnrolError.
 */
export function buildRoles(roles, { role, add, remove, threshold }) {
  if (!ROLE_ORDER.includes(role)) throw new EnrolError('bad-role');
  const next = cloneRoles(roles);
  const def = next[role] || { keys: [], threshold: 1 };
  const before = JSON.stringify(next[role] || null);
  if (remove) {
    if (!def.keys.some((k) => k.name === remove)) throw new EnrolError('not-in-role', { name: remove });
    def.keys = def.keys.filter((k) => k.name !== remove);
  }
  if (add) {
    if (!KEY_NAME_RE.test(add.name)) throw new EnrolError('bad-name', { name: add.name });
    if (add.displayName && displayNameFault(add.displayName)) throw new EnrolError('display-name', { fault: displayNameFault(add.displayName) });
    checkPublicKey(add.publicKey);
    for (const [other, d] of Object.entries(next)) {
      for (const k of other === role ? def.keys : d.keys) {
        if (k.name === add.name) throw new EnrolError('name-taken', { name: add.name, role: other });
        if (k.public_key === add.publicKey) throw new EnrolError('key-taken', { name: k.name, role: other });
      }
    }
    def.keys.push({ ...(add.displayName ? { display_name: add.displayName } : {}), name: add.name, public_key: add.publicKey });
    // Keys are sorted by name in byte order (§7.1); names are ASCII, so
    // JavaScript's string order is byte order.
    def.keys.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  if (threshold !== null && threshold !== undefined) {
    if (!Number.isSafeInteger(threshold)) throw new EnrolError('threshold', { m: def.keys.length });
    def.threshold = threshold;
  }
  if (def.keys.length === 0) throw new EnrolError('no-keys', { role });
  if (def.keys.length > KEYS_PER_ROLE_MAX) throw new EnrolError('too-many-keys', { max: KEYS_PER_ROLE_MAX });
  if (def.threshold < 1 || def.threshold > def.keys.length) throw new EnrolError('threshold', { m: def.keys.length });
  next[role] = def;
  if (JSON.stringify(next[role]) === before) throw new EnrolError('nothing');
  return cloneRoles(next);
}

/**
 * What a new role set changes, for people: a list of
 * {type: 'added'|'removed'|'replaced'|'renamed'|'threshold'|'role-added'|'role-removed', role, name?, key?, from?, to?}.
 * For 'threshold', `from`/`to` are {n, m}: n of m keys must sign; for
 * 'renamed' (the same key, another display name), the names or null.
 */
export function roleChanges(oldRoles, newRoles) {
  const out = [];
  const where = (roles, name) => {
    for (const role of ROLE_ORDER) {
      const k = roles && roles[role] && roles[role].keys.find((x) => x.name === name);
      if (k) return { role, key: k.public_key, displayName: k.display_name || null };
    }
    return null;
  };
  for (const role of ROLE_ORDER) {
    const a = oldRoles && oldRoles[role];
    const b = newRoles && newRoles[role];
    if (!a && !b) continue;
    if (!a) out.push({ type: 'role-added', role });
    if (!b) out.push({ type: 'role-removed', role });
    for (const k of (a && a.keys) || []) {
      const now = where(newRoles, k.name);
      if (!now || now.role !== role) out.push({ type: 'removed', role, name: k.name, key: k.public_key });
      else if (now.key !== k.public_key) out.push({ type: 'replaced', role, name: k.name, key: now.key });
      else if ((now.displayName || null) !== (k.display_name || null)) {
        // Only the name residents read changes: a signer must still see it.
        out.push({ type: 'renamed', role, name: k.name, from: k.display_name || null, to: now.displayName || null });
      }
    }
    for (const k of (b && b.keys) || []) {
      const was = where(oldRoles, k.name);
      if (!was || was.role !== role) out.push({ type: 'added', role, name: k.name, key: k.public_key, displayName: k.display_name || null });
    }
    if (a && b && (a.threshold !== b.threshold || a.keys.length !== b.keys.length)) {
      out.push({ type: 'threshold', role, from: { n: a.threshold, m: a.keys.length }, to: { n: b.threshold, m: b.keys.length } });
    } else if (!a && b) {
      out.push({ type: 'threshold', role, from: null, to: { n: b.threshold, m: b.keys.length } });
    }
  }
  return out;
}

/** What a new rule set changes: [{kind, from: [roles], to: [roles]}] for each kind that differs. */
export function ruleChanges(oldRules, newRules) {
  const out = [];
  for (const kind of ['income', 'expenditure', 'transfer', 'governance']) {
    const a = (oldRules && oldRules[kind]) || [];
    const b = (newRules && newRules[kind]) || [];
    if (a.join() !== b.join()) out.push({ kind, from: a, to: b });
  }
  return out;
}

/**
 * The change a governance `body` makes to `inForce` ({roles, rules}, as
 * `/api/v1/ledger` serves them), as list items in words (`t`, `roleName`
 * from the app). Used by this form's preview and by sign.js's governance
 * card.
 */
export function changeItems(t, roleName, inForce, body) {
  const items = [];
  if (body.roles) {
    for (const c of roleChanges(inForce.roles, body.roles)) {
      const role = roleName(c.role);
      if (c.type === 'threshold') {
        items.push(h('li', { 'data-change': 'threshold', 'data-role': c.role, 'data-n': String(c.to.n), 'data-m': String(c.to.m) }, c.from ? t('enrol.change.threshold', { role, n: c.from.n, m: c.from.m, n2: c.to.n, m2: c.to.m }) : t('enrol.change.threshold-new', { role, n2: c.to.n, m2: c.to.m })));
      } else if (c.type === 'renamed') {
        const words = c.from === null ? 'enrol.change.named' : c.to === null ? 'enrol.change.unnamed' : 'enrol.change.renamed';
        items.push(h('li', { 'data-change': 'renamed', 'data-role': c.role, 'data-name': c.name }, t(words, { role, name: c.name, from: c.from, to: c.to })));
      } else if (c.type === 'role-added' || c.type === 'role-removed') {
        items.push(h('li', { 'data-change': c.type, 'data-role': c.role }, t(`enrol.change.${c.type}`, { role })));
      } else {
        const name = c.displayName ? t('person.with-key', { name: c.displayName, key: c.name }) : c.name;
        items.push(h('li', { 'data-change': c.type, 'data-role': c.role, 'data-name': c.name }, t(`enrol.change.${c.type}`, { role, name }), c.type === 'removed' ? null : [' ', h('code', { class: 'small' }, c.key)]));
      }
    }
  }
  if (body.rules) {
    for (const c of ruleChanges(inForce.rules, body.rules)) {
      const names = (list) => list.map(roleName).join(t('enrol.and')) || '—';
      items.push(h('li', { 'data-change': 'rule', 'data-kind': c.kind }, t('enrol.change.rule', { kind: t(`kind.${c.kind}`), from: names(c.from), to: names(c.to) })));
    }
  }
  if (!items.length) items.push(h('li', { 'data-change': 'none' }, t('enrol.change.none')));
  return items;
}

/** Today's date in Beijing time, YYYY-MM-DD (the ledger's business dates). */
export function todayBeijing(now = new Date()) {
  return beijingDate(now.getTime());
}

/** A fresh nonce (§6.4): 16 random bytes as base64url without padding, 22 characters. */
export function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The governance body (§5.6) for a new role set. */
export function governanceBody(origin, roles, memo, date = todayBeijing(), nonce = newNonce()) {
  return { kind: 'governance', ledger: origin, date, nonce, roles, memo };
}

/**
 * Mounts the enrol view in #enrol-section. `ctx` = {t, lang(), ledger(),
 * roleName, getJson, reportError, onCommitted}.
 */
export function mountEnrol(ctx) {
  const { t } = ctx;
  const S = {
    record: null,
    recordFor: null, // the origin `record` was read for
    form: { role: 'committee', name: '', displayName: '', key: '', remove: '', threshold: '', memo: '' },
    error: null, // {code, vars}
    preview: null, // {body, bodyJcs}
    result: null, // {status, key, vars}
    busy: false,
  };
  const genesis = createGenesis({ t, lang: ctx.lang, roleName: ctx.roleName, reportError: ctx.reportError });

  function proposerRole() {
    const ledger = ctx.ledger();
    if (!ledger || !S.record) return null;
    for (const role of (ledger.rules && ledger.rules.governance) || []) {
      const k = ((ledger.roles[role] && ledger.roles[role].keys) || []).find((x) => x.name === S.record.name);
      if (k && k.public_key === S.record.public_key) return role;
    }
    return null;
  }

  function render() {
    const ledger = ctx.ledger();
    const head = [h('h2', { tabindex: '-1' }, t('enrol.title')), h('p', { class: 'small muted' }, t('enrol.help'))];
    const genesisLink = h('p', { class: 'small' }, h('a', { id: 'genesis-link', href: '#genesis' }, t('enrol.genesis-link')));
    genesis.render();
    if (!signingAvailable()) return mount(CARD, head, h('p', { class: 'alert', 'data-state': 'insecure' }, t('sign.insecure.title')), genesisLink);
    if (!ledger) return mount(CARD, head, h('p', { class: 'muted' }, t('app.loading')), genesisLink);
    if (!S.record) return mount(CARD, h('div', { id: 'enrol-state', 'data-state': 'no-key' }), head, h('p', { class: 'muted' }, t('enrol.need-key')), genesisLink);
    const role = proposerRole();
    if (!role) {
      const may = ((ledger.rules && ledger.rules.governance) || []).map(ctx.roleName).join(t('enrol.and'));
      return mount(CARD, h('div', { id: 'enrol-state', 'data-state': 'not-allowed' }), head, h('p', { class: 'muted' }, t('enrol.not-allowed', { roles: may })), genesisLink);
    }
    mount(CARD, h('div', { id: 'enrol-state', 'data-state': 'ready', 'data-role': role }), head, renderForm(ledger), renderPreview(ledger), genesisLink);
  }

  function field(id, label, input, help) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, help ? h('p', { class: 'small muted' }, help) : null);
  }

  function bind(name) {
    return (ev) => {
      S.form[name] = ev.target.value;
      S.preview = null;
    };
  }

  function renderForm(ledger) {
    const f = S.form;
    const roles = ledger.roles || {};
    const roleKeys = (roles[f.role] && roles[f.role].keys) || [];
    const current = roles[f.role];
    return h(
      'form',
      {
        id: 'enrol-form',
        onsubmit: (ev) => {
          ev.preventDefault();
          check();
        },
      },
      field(
        'enrol-role',
        t('enrol.role'),
        h(
          'select',
          {
            id: 'enrol-role',
            onchange: (ev) => {
              S.form.role = ev.target.value;
              S.form.remove = '';
              S.preview = null;
              S.error = null;
              render();
            },
          },
          ROLE_ORDER.map((r) => h('option', { value: r, selected: r === f.role }, ctx.roleName(r))),
        ),
        current ? t('enrol.role-now', { n: current.threshold, m: current.keys.length, names: current.keys.map((k) => keyLabel(ctx.lang(), k)).join(t('enrol.list-sep')) }) : t('enrol.role-new'),
      ),
      h('h3', {}, t('enrol.add-title')),
      field('enrol-key', t('enrol.key'), h('textarea', { id: 'enrol-key', rows: '3', spellcheck: 'false', autocapitalize: 'none', oninput: bind('key') }, f.key), t('enrol.key-help')),
      field('enrol-name', t('enrol.name'), h('input', { id: 'enrol-name', type: 'text', value: f.name, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64', oninput: bind('name') }), t('enrol.name-help')),
      field('enrol-display-name', t('enrol.display-name'), h('input', { id: 'enrol-display-name', type: 'text', value: f.displayName, autocomplete: 'off', oninput: bind('displayName') }), t('enrol.display-name-help')),
      h('h3', {}, t('enrol.remove-title')),
      field(
        'enrol-remove',
        t('enrol.remove'),
        h('select', { id: 'enrol-remove', onchange: bind('remove') }, h('option', { value: '' }, t('enrol.remove-none')), roleKeys.map((k) => h('option', { value: k.name, selected: k.name === f.remove }, keyLabel(ctx.lang(), k)))),
        t('enrol.remove-help'),
      ),
      field('enrol-threshold', t('enrol.threshold'), h('input', { id: 'enrol-threshold', type: 'number', min: '1', max: String(KEYS_PER_ROLE_MAX), inputmode: 'numeric', value: f.threshold, placeholder: current ? String(current.threshold) : '1', oninput: bind('threshold') }), t('enrol.threshold-help')),
      field('enrol-memo', t('enrol.memo'), h('input', { id: 'enrol-memo', type: 'text', value: f.memo, maxlength: '300', oninput: bind('memo') }), t('enrol.memo-help')),
      S.error ? h('p', { id: 'enrol-error', class: 'alert', role: 'alert', 'data-code': S.error.code }, t(`enrol.err.${S.error.code}`, S.error.vars)) : null,
      h('button', { id: 'enrol-check', type: 'submit', disabled: S.busy }, t('enrol.check')),
    );
  }

  function renderPreview(ledger) {
    const result = S.result ? h('p', { id: 'enrol-result', class: S.result.status === 'committed' || S.result.status === 'pending' ? 'ok-text' : 'alert', role: 'status', 'data-status': S.result.status, 'data-id': S.result.id || '' }, t(S.result.key, S.result.vars || {})) : null;
    if (!S.preview) return result;
    const body = S.preview.body;
    return h(
      'div',
      { id: 'enrol-preview', class: 'entry proposal' },
      h('h3', {}, t('enrol.preview-title')),
      h('ul', { class: 'enrol-changes' }, changeItems(t, ctx.roleName, ledger, body)),
      body.memo ? h('p', { class: 'small' }, t('enrol.memo-line', { memo: body.memo })) : null,
      h('p', { class: 'small muted' }, t('enrol.preview-rule', { roles: ((ledger.rules && ledger.rules.governance) || []).map((r) => t('sign.rule-part', { role: ctx.roleName(r), n: ledger.roles[r] ? ledger.roles[r].threshold : '?' })).join(t('sign.rule-sep')) })),
      h('button', { id: 'enrol-propose', type: 'button', class: 'primary', disabled: S.busy, onclick: propose }, t('enrol.propose')),
      result,
    );
  }

  /** Builds the new role set and the body from the form, or shows why not. */
  function check() {
    S.error = null;
    S.result = null;
    S.preview = null;
    const ledger = ctx.ledger();
    try {
      const f = S.form;
      let add = null;
      if (f.key.trim() || f.name.trim()) {
        if (!f.key.trim()) throw new EnrolError('no-key-text');
        const parsed = parseKeyText(f.key);
        const name = f.name.trim() || parsed.name || '';
        if (!name) throw new EnrolError('no-name');
        if (parsed.name && f.name.trim() && parsed.name !== f.name.trim()) throw new EnrolError('name-differs', { name: parsed.name });
        // The name typed wins over one in the pasted text; it is checked
        // as typed (a space at either end is refused, not trimmed away).
        const displayName = f.displayName !== '' ? f.displayName : parsed.displayName || '';
        if (displayName !== '' && displayNameFault(displayName)) throw new EnrolError('display-name', { fault: displayNameFault(displayName) });
        add = { name, publicKey: parsed.publicKey, displayName: displayName || null };
      }
      let threshold = null;
      if (String(f.threshold).trim() !== '') {
        if (!/^\d{1,2}$/.test(String(f.threshold).trim())) throw new EnrolError('threshold', { m: '?' });
        threshold = Number(String(f.threshold).trim());
      }
      const memo = f.memo.trim();
      if (new TextEncoder().encode(memo).length > MEMO_BYTES_MAX || /[\u0000-\u001f\u007f]/.test(memo)) throw new EnrolError('memo');
      const roles = buildRoles(ledger.roles, { role: f.role, add, remove: f.remove, threshold });
      const body = governanceBody(ledger.origin, roles, memo);
      S.preview = { body, bodyJcs: jcs(body) };
    } catch (e) {
      if (!(e instanceof EnrolError)) {
        ctx.reportError(e);
        S.error = { code: 'failed', vars: {} };
      } else {
        S.error = { code: e.code, vars: { ...e.vars, role: e.vars.role ? ctx.roleName(e.vars.role) : undefined } };
      }
    }
    render();
  }

  async function propose() {
    if (S.busy || !S.preview) return;
    S.busy = true;
    S.result = { status: 'proposing', key: 'enrol.proposing' };
    render();
    try {
      // The roles the preview was built from must still be the ones in
      // force, or the change shown is not the change proposed.
      const fresh = await ctx.getJson('/api/v1/ledger');
      const ledger = ctx.ledger();
      if (jcs(fresh.roles) !== jcs(ledger.roles) || jcs(fresh.rules) !== jcs(ledger.rules)) {
        S.result = { status: 'changed', key: 'enrol.changed' };
      } else {
        S.result = await post(S.preview);
      }
    } catch (e) {
      ctx.reportError(e);
      S.result = { status: 'error', key: 'enrol.failed' };
    }
    S.busy = false;
    render();
  }

  async function post(preview) {
    const signature = await signBody(S.record, preview.bodyJcs);
    const res = await fetch(`${BASE}/api/v1/proposals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: preview.bodyJcs, signatures: [signature] }),
    });
    let answer = null;
    try {
      answer = await res.json();
    } catch {
      answer = null;
    }
    if (res.status === 202 && answer && answer.status === 'pending') {
      const progress = (answer.progress || []).map((x) => t('sign.progress', { role: ctx.roleName(x.role), have: x.have, need: x.need })).join(t('sign.list-sep'));
      S.preview = null;
      if (ctx.onCommitted) ctx.onCommitted();
      return { status: 'pending', key: 'enrol.pending', vars: { progress }, id: answer.id };
    }
    if (res.status === 201 && answer && answer.status === 'committed') {
      S.preview = null;
      if (ctx.onCommitted) ctx.onCommitted();
      return { status: 'committed', key: 'enrol.committed', vars: { seq: answer.seq }, id: answer.id };
    }
    const code = answer && answer.error && answer.error.code;
    const why = CODES.has(code) ? t(`enrol.code.${code}`) : t('sign.code.other', { code: String(code || `HTTP ${res.status}`) });
    return { status: 'refused', key: 'enrol.refused', vars: { why } };
  }

  async function refreshKey() {
    const ledger = ctx.ledger();
    if (!ledger || !signingAvailable()) return;
    try {
      const record = await loadKey(ledger.origin);
      const same = (a, b) => (a && a.name) === (b && b.name) && (a && a.public_key) === (b && b.public_key);
      if (S.recordFor === ledger.origin && same(record, S.record)) return;
      S.record = record;
      S.recordFor = ledger.origin;
      render();
    } catch (e) {
      ctx.reportError(e);
    }
  }

  // app.js sets <html lang> on every render of the page (a language switch,
  // the ledger loaded): render then too.
  new MutationObserver(() => {
    render();
    refreshKey();
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  // A key made, imported or forgotten in the signing view.
  const signSection = document.getElementById('sign-section');
  if (signSection) new MutationObserver(() => refreshKey()).observe(signSection, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state', 'data-public-key'] });
  const onHash = () => {
    if (location.hash === '#genesis') genesis.open();
  };
  window.addEventListener('hashchange', onHash);
  render();
  onHash();
  return { render, state: S };
}

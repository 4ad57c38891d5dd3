// Signing a genesis draft in the page (docs/format.md §11.7): a founder
// opens the draft file (`genesis.json`, written by `feeledger genesis
// draft`), reads its terms in plain words with its id, and signs it with the
// key kept in this browser; the page downloads `NAME.sig` for the
// coordinator's `feeledger init --draft`.
//
// Which key: keys in the page are kept per ledger origin (keys.js), and the
// draft names its ledger (`ledger`), so the page signs with the key kept for
// the draft's origin. A founder makes that key here before the draft is
// written (origin and name in, the KeyDef text out, for whoever writes the
// description), or imports a key file made by `feeledger keygen`. The
// ledger's server may not exist yet: any feeledger page serves this view,
// and the key stays in the browser's storage for that address, so a founder
// who will later sign entries on the ledger's own address uses a key file
// (or the key made there).
//
// Trust: the page signs only the exact bytes of the file it opened, after
// checking that they are the canonical bytes of a well-formed genesis body
// (re-encoded with JCS and compared, then decoded by replay.js's strict
// decoder inside a leaf), that the log key parses with its key id and is
// named after the origin, and that the kept key is listed in a role of the
// draft with the same public key. The id it shows is SHA-256 of the file.

import { jcs, sha256, toHex, utf8, fromUtf8, parseVkey } from './verify.js';
import { decodeLeaf } from './replay.js';
import { h, mount } from './dom.js';
import { groupHex } from './format.js';
import { KeyError, signingAvailable, loadKey, makeKey, importKeyFile, keyDefText, signBody } from './keys.js';

const VIEW = 'genesis-view';

/** A draft is at most one leaf's bytes (LEAF_BYTES_MAX, §11.7). */
export const DRAFT_BYTES_MAX = 65535;

/** Role order (§7.2). */
const ROLE_ORDER = ['company', 'committee', 'supervisor'];

/** A 64-byte placeholder signature, so a draft can be decoded as the body of a leaf. */
const PLACEHOLDER_SIG = `${'A'.repeat(86)}==`;

/**
 * Checks draft file bytes (§11.7). Returns {ok: true, text, body, id, logKey}
 * or {ok: false, reason, detail?} (a key of `genesis.refuse.<reason>`).
 */
export async function checkDraft(bytes) {
  if (bytes.length > DRAFT_BYTES_MAX) return { ok: false, reason: 'too-large' };
  let text;
  try {
    text = fromUtf8(bytes);
  } catch {
    return { ok: false, reason: 'not-utf8' };
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  let again = null;
  try {
    again = jcs(body);
  } catch {
    again = null;
  }
  if (again !== text) return { ok: false, reason: 'not-canonical' };
  if (!body || typeof body !== 'object' || Array.isArray(body) || body.kind !== 'genesis') return { ok: false, reason: 'not-genesis' };
  // The body's every field rule, by the page's strict decoder: the draft's
  // bytes verbatim as the body of a leaf (members in canonical order).
  const leafText = `{"body":${text},"prev":"${'0'.repeat(64)}","seq":0,"signatures":[{"key":"x","sig":"${PLACEHOLDER_SIG}"}],"time":0}`;
  try {
    decodeLeaf(utf8(leafText));
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: `${e.path || ''} ${e.reason || e.message || ''}`.trim() };
  }
  let logKey;
  try {
    logKey = await parseVkey(body.log_key);
  } catch {
    return { ok: false, reason: 'log-key' };
  }
  if (logKey.alg !== 0x01 || logKey.name !== body.ledger) return { ok: false, reason: 'log-key' };
  const id = toHex(await sha256(bytes));
  const fingerprint = toHex((await sha256(utf8(body.log_key))).subarray(0, 8));
  return { ok: true, text, body, id, logKey, fingerprint };
}

/** Where key `record` is listed in the draft: {role} or {role, other: true} (same name, another key), or null. */
export function listing(body, record) {
  for (const role of ROLE_ORDER) {
    const k = body.roles[role] && body.roles[role].keys.find((x) => x.name === record.name);
    if (k) return k.public_key === record.public_key ? { role } : { role, other: true };
  }
  return null;
}

/** The signature file's text (§11.7): canonical JSON {id, key, sig} and one "\n". */
export function signatureFileText(id, signature) {
  return `${jcs({ id, key: signature.key, sig: signature.sig })}\n`;
}

/** The genesis view. `ctx` = {t, lang(), roleName, reportError}. */
export function createGenesis(ctx) {
  const { t } = ctx;
  const S = {
    open: false,
    draft: null, // checkDraft's answer
    fileName: null,
    record: null,
    keyError: null,
    made: null, // the record made here, to show its KeyDef
    sigText: null,
    busy: false,
  };

  function render() {
    if (!S.open) {
      mount(VIEW);
      return;
    }
    if (!signingAvailable()) {
      mount(VIEW, h('h2', {}, t('genesis.title')), h('p', { class: 'alert' }, t('sign.insecure.title')));
      return;
    }
    mount(VIEW, h('h2', { tabindex: '-1' }, t('genesis.title')), h('p', { class: 'small muted' }, t('genesis.help')), h('p', { class: 'small muted' }, t('genesis.which-key')), renderDraft(), renderPrepare());
  }

  function renderPrepare() {
    return h(
      'details',
      { id: 'genesis-prepare', open: S.made ? true : null },
      h('summary', {}, t('genesis.prepare-title')),
      h('p', { class: 'small muted' }, t('genesis.prepare-help')),
      h(
        'form',
        {
          id: 'genesis-make-form',
          onsubmit: (ev) => {
            ev.preventDefault();
            const origin = ev.target.elements.origin.value.trim();
            const name = ev.target.elements.name.value.trim();
            keyAction(async () => {
              if (!origin) throw new KeyError('no-ledger');
              S.made = await makeKey(origin, name);
              return S.made;
            });
          },
        },
        h('div', { class: 'field' }, h('label', { for: 'genesis-origin' }, t('genesis.origin')), h('input', { id: 'genesis-origin', name: 'origin', type: 'text', placeholder: 'example.org/xingguang', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '128' })),
        h('div', { class: 'field' }, h('label', { for: 'genesis-key-name' }, t('key.name-label')), h('input', { id: 'genesis-key-name', name: 'name', type: 'text', placeholder: 'weiyuan-zhang', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64' })),
        h('button', { id: 'genesis-make', type: 'submit', disabled: S.busy }, t('key.make')),
      ),
      S.made ? [h('p', { class: 'small' }, t('genesis.made', { origin: S.made.origin })), h('pre', { id: 'genesis-keydef', class: 'hash' }, keyDefText(S.made))] : null,
    );
  }

  function renderDraft() {
    const picker = h(
      'div',
      { class: 'field' },
      h('label', { for: 'genesis-file' }, t('genesis.open')),
      h('input', {
        id: 'genesis-file',
        type: 'file',
        accept: '.json,application/json',
        disabled: S.busy,
        onchange: (ev) => {
          const file = ev.target.files && ev.target.files[0];
          if (file) openDraft(file);
        },
      }),
    );
    const error = S.keyError ? h('p', { id: 'genesis-key-error', class: 'alert', role: 'alert', 'data-code': S.keyError }, t(`key.err.${S.keyError}`)) : null;
    if (!S.draft) return h('div', { id: 'genesis-draft' }, picker, error);
    if (!S.draft.ok) {
      return h(
        'div',
        { id: 'genesis-draft' },
        picker,
        h('div', { id: 'genesis-refused', class: 'alert', role: 'alert', 'data-reason': S.draft.reason }, h('p', {}, h('b', {}, t('genesis.refused', { file: S.fileName || '' }))), h('p', {}, t(`genesis.refuse.${S.draft.reason}`)), S.draft.detail ? h('p', { class: 'small' }, h('code', {}, S.draft.detail)) : null),
      );
    }
    return h('div', { id: 'genesis-draft', 'data-id': S.draft.id }, picker, renderTerms(S.draft), error, renderKeyPart(S.draft));
  }

  function row(label, ...value) {
    return [h('dt', {}, label), h('dd', {}, ...value)];
  }

  function renderTerms(d) {
    const g = d.body;
    const roleLines = ROLE_ORDER.filter((r) => g.roles[r]).map((r) =>
      h('li', { 'data-role': r }, t('genesis.role-line', { role: ctx.roleName(r), n: g.roles[r].threshold, m: g.roles[r].keys.length, names: g.roles[r].keys.map((k) => k.name).join(t('enrol.list-sep')) })),
    );
    const ruleLines = ['income', 'expenditure', 'transfer', 'governance'].map((kind) => h('li', {}, t('genesis.rule-line', { kind: t(`kind.${kind}`), roles: g.rules[kind].map(ctx.roleName).join(t('enrol.and')) })));
    return h(
      'div',
      { id: 'genesis-terms', class: 'entry' },
      h('p', {}, t('genesis.id'), h('br', {}), h('code', { id: 'genesis-id', class: 'hash', 'data-id': d.id }, groupHex(d.id))),
      h('p', { class: 'small muted' }, t('genesis.id-help')),
      h(
        'dl',
        { class: 'sign-facts' },
        row(t('genesis.name'), h('span', { id: 'genesis-name' }, g.name)),
        row(t('genesis.ledger'), g.ledger),
        row(t('genesis.date'), g.date),
        row(t('genesis.funds'), g.funds.map((f) => f.name).join(t('enrol.list-sep'))),
        row(t('genesis.roles'), h('ul', {}, roleLines)),
        row(t('genesis.rules'), h('ul', {}, ruleLines)),
        row(t('genesis.log-key'), t('genesis.fingerprint', { id: d.logKey.keyId, sha: groupHex(d.fingerprint) })),
      ),
    );
  }

  function renderKeyPart(d) {
    const origin = d.body.ledger;
    const importField = h(
      'div',
      { class: 'field' },
      h('label', { for: 'genesis-key-file' }, t('genesis.import', { origin })),
      h('input', {
        id: 'genesis-key-file',
        type: 'file',
        accept: '.key,text/plain',
        disabled: S.busy,
        onchange: (ev) => {
          const file = ev.target.files && ev.target.files[0];
          if (file) keyAction(async () => importKeyFile(origin, await file.text()));
        },
      }),
      h('p', { class: 'small muted' }, t('key.import-help')),
    );
    if (!S.record) return h('div', { id: 'genesis-key', 'data-state': 'none' }, h('p', { class: 'alert' }, t('genesis.no-key', { origin })), importField);
    const where = listing(d.body, S.record);
    if (!where) return h('div', { id: 'genesis-key', 'data-state': 'not-listed', 'data-name': S.record.name }, h('p', { class: 'alert' }, t('genesis.not-listed', { name: S.record.name })));
    if (where.other) return h('div', { id: 'genesis-key', 'data-state': 'other-key', 'data-name': S.record.name }, h('p', { class: 'alert' }, t('genesis.other-key', { name: S.record.name })));
    return h(
      'div',
      { id: 'genesis-key', 'data-state': 'listed', 'data-name': S.record.name, 'data-role': where.role },
      h('p', { class: 'ok-text' }, t('genesis.listed', { name: S.record.name, role: ctx.roleName(where.role) })),
      S.sigText
        ? [h('p', { id: 'genesis-signed', class: 'ok-text', role: 'status' }, t('genesis.signed', { file: `${S.record.name}.sig` })), h('pre', { id: 'genesis-sig', class: 'hash' }, S.sigText), h('button', { type: 'button', id: 'genesis-download', onclick: () => download(S.sigText, `${S.record.name}.sig`) }, t('genesis.download'))]
        : h('button', { id: 'genesis-sign', type: 'button', class: 'primary', disabled: S.busy, onclick: sign }, t('genesis.sign', { name: S.record.name })),
    );
  }

  async function openDraft(file) {
    S.busy = true;
    // The draft shown so far is no longer the one open: never leave its
    // terms (or its sign button) beside another file's name.
    S.draft = null;
    S.sigText = null;
    S.keyError = null;
    S.fileName = file.name;
    render();
    try {
      // Read at most one byte past the limit: a larger file is refused unread.
      const bytes = new Uint8Array(await file.slice(0, DRAFT_BYTES_MAX + 1).arrayBuffer());
      S.draft = await checkDraft(bytes);
      S.record = S.draft.ok ? await loadKey(S.draft.body.ledger) : null;
    } catch (e) {
      ctx.reportError(e);
      S.draft = { ok: false, reason: 'unreadable' };
    }
    S.busy = false;
    render();
  }

  async function keyAction(fn) {
    S.busy = true;
    S.keyError = null;
    render();
    try {
      const record = await fn();
      if (S.draft && S.draft.ok && record.origin === S.draft.body.ledger) S.record = record;
    } catch (e) {
      S.keyError = e instanceof KeyError ? e.code : 'failed';
      if (!(e instanceof KeyError)) ctx.reportError(e);
    }
    S.busy = false;
    render();
  }

  async function sign() {
    const d = S.draft;
    if (S.busy || !d || !d.ok || !S.record) return;
    const where = listing(d.body, S.record);
    if (!where || where.other) return;
    S.busy = true;
    try {
      // The exact bytes of the file opened and shown: their id is d.id.
      const signature = await signBody(S.record, d.text);
      S.sigText = signatureFileText(d.id, signature);
      download(S.sigText, `${S.record.name}.sig`);
    } catch (e) {
      ctx.reportError(e);
      S.keyError = e instanceof KeyError ? e.code : 'failed';
    }
    S.busy = false;
    render();
  }

  function download(text, name) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function open() {
    S.open = true;
    render();
    const el = document.getElementById(VIEW);
    if (el) el.scrollIntoView({ block: 'start' });
  }

  return { render, open, state: S };
}

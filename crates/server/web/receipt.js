// The receipt page of one entry (`/receipt/<seq>`, served by the ledger as
// receipt.html): what a resident keeps, on a phone or printed on A4. It
// shows the community, the unit or the other party, the amount in yuan,
// what it was for, the period and date, the entry number, when it was
// recorded and who signed it; a QR code that opens this same page; and the
// machine-readable tlog-proof file (docs/format.md §11.5) to download.
//
// Trust: "已核验 ✓" is shown only once verify.js has verified the entry in
// this browser (its leaf hash, its signatures by the roles in force, its
// inclusion under the checkpoint signed by the log key), and the receipt
// then shows the verified bytes, not the served JSON. Until then, or if
// verification fails, everything is marked as the server's word and the
// failure is said in plain words. A reversal of this entry is shown as
// verified only once the reversing entry verified and names this one; a
// server that hides a reversal is caught only by a full replay.
//
// Test hooks: `#receipt` carries data-status (running, verified, failed)
// and data-seq; `#receipt-qr` carries data-qr-text, the exact text the QR
// code holds; <html data-app="ready"> once verification has finished.

import { createVerifier, amountFen } from './verify.js';
import { translate, namesIn, personName } from './strings.js';
import { h, svg, mount } from './dom.js';
import { yuan, groupHex, dateText, monthText, dayText, clockText } from './format.js';
import qrcode from './qrcode.mjs';
import { pinKey } from './base.js';

const LANG_KEY = 'feeledger.lang';
const RECEIPT_PATH = /^(.*)\/receipt\/(\d{1,20})$/;

const S = {
  lang: 'zh',
  base: '',
  seq: null,
  ledger: null,
  entry: null,
  result: null, // verifyEntry's result; null while running
  reversal: null, // the reversing entry's verification result, if any
  error: null, // a string key and vars when the entry cannot be shown at all
};

function t(key, vars = {}) {
  return translate(S.lang, key, vars);
}

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

const fundName = (id) => namesIn(S.lang, S.ledger).fund(id);
const catName = (id) => namesIn(S.lang, S.ledger).category(id);
const roleName = (role) => namesIn(S.lang, S.ledger).role(role);

/** Epoch milliseconds -> the date and time in Beijing, in the page's language. */
function recordedText(ms) {
  if (!Number.isSafeInteger(ms)) return '';
  return t('receipt.time', { date: dayText(ms, S.lang), hm: clockText(ms) });
}

/** This receipt's address, the text of its QR code. */
function receiptUrl() {
  return `${location.origin}${S.base}/receipt/${S.seq}${S.lang === 'en' ? '?lang=en' : ''}`;
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

function qrFigure(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.isDark(y, x)) d += `M${x + 4} ${y + 4}h1v1h-1z`;
  const size = n + 8;
  return h(
    'figure',
    { class: 'receipt-qr' },
    svg(
      'svg',
      { id: 'receipt-qr', 'data-qr-text': text, viewBox: `0 0 ${size} ${size}`, width: '160', height: '160', role: 'img', 'aria-label': t('receipt.qr-label'), 'shape-rendering': 'crispEdges' },
      svg('rect', { width: size, height: size, fill: '#fff' }),
      svg('path', { d, fill: '#000' }),
    ),
    h('figcaption', { class: 'small' }, t('receipt.qr-caption')),
  );
}

function kindTitle(kind) {
  return t(kind === 'income' || kind === 'expenditure' ? `receipt.title.${kind}` : 'receipt.title.other');
}

/** The rows of facts: [label, value, id]. */
function facts(leaf, target, signers, verified) {
  const body = leaf.body;
  const rows = [];
  if (body.kind === 'income') {
    rows.push(body.category === 'property_fee' ? [t('receipt.unit'), body.payer, 'receipt-unit'] : [t('receipt.payer'), body.payer, 'receipt-payer']);
    rows.push([t('receipt.what'), t('receipt.income-what', { category: catName(body.category), fund: fundName(body.fund) }), 'receipt-what']);
    if (body.period) rows.push([t('receipt.period'), monthText(body.period, S.lang), 'receipt-period']);
  } else if (body.kind === 'expenditure') {
    rows.push([t('receipt.payee'), body.payee, 'receipt-payee']);
    rows.push([t('receipt.what'), t('receipt.expenditure-what', { category: catName(body.category), fund: fundName(body.fund) }), 'receipt-what']);
  } else if (body.kind === 'transfer') {
    rows.push([t('receipt.what'), t('receipt.transfer-what', { from: fundName(body.from_fund), to: fundName(body.to_fund) }), 'receipt-what']);
  } else if (body.kind === 'reversal') {
    rows.push([t('receipt.what'), t('receipt.reversal-what', { target: body.target_seq, reason: body.reason }), 'receipt-what']);
    if (target && target.body.payer) rows.push([target.body.category === 'property_fee' ? t('receipt.unit') : t('receipt.payer'), target.body.payer, 'receipt-unit']);
    if (target && target.body.payee) rows.push([t('receipt.payee'), target.body.payee, 'receipt-payee']);
  } else {
    rows.push([t('receipt.what'), t(`kind.${body.kind}`), 'receipt-what']);
  }
  if (body.date) rows.push([t('receipt.date'), dateText(body.date, S.lang), 'receipt-date']);
  rows.push([t('receipt.number'), t('receipt.seq', { seq: S.seq }), 'receipt-seq']);
  rows.push([t('receipt.recorded'), recordedText(leaf.time), 'receipt-recorded']);
  rows.push([t('receipt.signed'), signersText(leaf, signers, verified), 'receipt-signers']);
  if (body.memo) rows.push([t('receipt.memo'), body.memo, 'receipt-memo']);
  return rows;
}

// Names and roles: from the verified signers once verified (the display
// names the roles in force at the entry sign, §7.1), otherwise the
// server's list, named by the server's roles in force now; grouped by role
// in the order they signed. A key that names no one shows its key name.
function signersText(leaf, signers, verified) {
  const roleOf = new Map((signers || []).map((s) => [s.key, s.role]));
  const nameOf = new Map(verified ? (signers || []).map((s) => [s.key, s.displayName || s.key]) : []);
  const groups = new Map();
  for (const s of leaf.signatures || []) {
    const role = roleName(roleOf.get(s.key));
    if (!groups.has(role)) groups.set(role, []);
    groups.get(role).push(nameOf.has(s.key) ? nameOf.get(s.key) : personName(s.key, [S.ledger && S.ledger.roles]));
  }
  return [...groups.entries()].map(([role, names]) => t('receipt.signer', { role, name: names.join(t('receipt.name-sep')) })).join(t('receipt.list-sep'));
}

function statusBox() {
  const r = S.result;
  if (!r) return h('div', { class: 'receipt-check running', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('receipt.running'));
  if (r.ok) {
    return h(
      'div',
      { class: 'receipt-check verified', id: 'receipt-verified', role: 'status' },
      h('p', { class: 'receipt-tick' }, t('receipt.verified')),
      h('p', {}, t('receipt.verified-means')),
      h('p', { class: 'small muted' }, t('receipt.verified-against', { size: r.checkpoint.size, keyid: groupHex(String(r.logKeyId)) })),
    );
  }
  const f = r.failed;
  const unsupported = f.step === 'crypto';
  const p = { ...(f.params || {}) };
  if (f.reason === 'amount-mismatch') {
    p.shown = p.shown === null ? '—' : yuan(p.shown);
    p.verified = p.verified === null ? '—' : yuan(p.verified);
  }
  if (f.reason === 'rule-unmet') p.role = roleName(p.role);
  if (f.reason === 'inner') p.inner = t(`step.${p.innerStep}`);
  return h(
    'div',
    { class: 'receipt-check failed', id: 'receipt-failed', role: 'alert', 'data-step': f.step, 'data-reason': f.reason },
    h('p', { class: 'receipt-cross' }, t('receipt.failed')),
    h('p', {}, unsupported ? t('receipt.unsupported') : t('receipt.failed-means')),
    h('p', { class: 'small muted' }, t('receipt.failed-detail', { step: t(`step.${f.step}`), reason: t(`r.${f.reason}`, p) })),
  );
}

function reversalNote() {
  const by = S.entry && S.entry.reversed_by;
  if (by === null || by === undefined) return null;
  const v = S.reversal;
  const verified = Boolean(v && v.ok && v.leaf.body.kind === 'reversal' && v.leaf.body.target_seq === S.seq);
  return h('p', { class: 'alert receipt-reversed', id: 'receipt-reversed', 'data-verified': verified ? 'true' : null }, t(verified ? 'receipt.reversed' : 'receipt.reversed-unverified', { by }));
}

function render() {
  document.documentElement.lang = t('html.lang');
  const r = S.result;
  const verified = Boolean(r && r.ok);
  // The community's name: the genesis the verifier checked, once verified.
  const genesis = verified ? (r.steps || []).find((s) => s.step === 'genesis') : null;
  const name = genesis && genesis.params && genesis.params.name ? genesis.params.name : S.ledger ? S.ledger.name : '';
  document.title = t('receipt.doc-title', { seq: S.seq ?? '', name: name || 'feeledger' });

  const tools = h(
    'nav',
    { class: 'receipt-tools no-print', 'aria-label': t('nav.label') },
    h('a', { href: `${S.base}/${S.lang === 'en' ? '?lang=en' : ''}` }, t('receipt.back')),
    h('span', { class: 'receipt-tool-buttons' }, h('button', { type: 'button', onclick: () => window.print() }, t('receipt.print')), h('button', { type: 'button', lang: S.lang === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('lang.switch-label'), onclick: switchLang }, t('lang.switch'))),
  );

  if (S.error) {
    mount('receipt-app', tools, h('article', { class: 'receipt', id: 'receipt', 'data-status': 'failed' }, h('h1', {}, name || t('receipt.title.other')), h('p', { class: 'alert', role: 'alert', id: 'receipt-error' }, t(S.error.key, S.error.vars))));
    return;
  }
  if (!S.entry) {
    mount('receipt-app', tools, h('article', { class: 'receipt', id: 'receipt', 'data-status': 'running' }, h('p', { class: 'muted' }, t('app.loading'))));
    return;
  }

  // Verified: the verified leaf and amount. Otherwise the served ones,
  // marked as the server's word.
  const leaf = verified ? r.leaf : S.entry.leaf;
  const target = verified ? r.target : null;
  const amount = verified ? r.amountFen : amountFen(leaf.body, null);
  const status = !r ? 'running' : verified ? 'verified' : 'failed';
  const rows = facts(leaf, target, verified ? r.signers : S.entry.signers, verified);
  mount(
    'receipt-app',
    tools,
    h(
      'article',
      { class: `receipt ${status}`, id: 'receipt', 'data-status': status, 'data-seq': String(S.seq) },
      h('header', { class: 'receipt-head' }, h('p', { class: 'receipt-community', id: 'receipt-community' }, name), h('h1', {}, kindTitle(leaf.body.kind))),
      h('p', { class: 'receipt-amount', id: 'receipt-amount', 'data-fen': amount === null ? null : String(amount) }, yuan(amount)),
      verified ? null : h('p', { class: 'small muted' }, t('receipt.unverified-note')),
      h('dl', { class: 'receipt-facts' }, rows.map(([label, value, id]) => [h('dt', {}, label), h('dd', { id }, value)])),
      reversalNote(),
      h('div', { class: 'receipt-foot' }, statusBox(), qrFigure(receiptUrl())),
      h(
        'p',
        { class: 'receipt-download' },
        h('a', { id: 'receipt-download', href: `${S.base}/api/v1/entries/${S.seq}/receipt`, download: `feeledger-receipt-${S.seq}.txt` }, t('receipt.download')),
        h('span', { class: 'small muted' }, ' ', t('receipt.download-help')),
      ),
    ),
  );
}

function switchLang() {
  S.lang = S.lang === 'zh' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, S.lang);
  } catch {
    // private mode: this visit only
  }
  render();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

async function getJson(path) {
  const res = await fetch(`${S.base}${path}`, { cache: 'no-store' });
  if (!res.ok) {
    const err = new Error(`${path}: ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

async function start() {
  const params = new URLSearchParams(location.search);
  const lang = params.get('lang') || stored(LANG_KEY);
  S.lang = lang === 'en' ? 'en' : 'zh';
  const m = RECEIPT_PATH.exec(location.pathname);
  if (!m) {
    S.error = { key: 'receipt.bad-url', vars: {} };
  } else {
    S.base = m[1];
    S.seq = Number(m[2]);
    render();
    // The ledger (for the community's name) even when the entry is missing.
    const ledger = getJson('/api/v1/ledger').then(
      (l) => {
        S.ledger = l;
      },
      () => {},
    );
    try {
      S.entry = await getJson(`/api/v1/entries/${S.seq}`);
      await ledger;
    } catch (e) {
      await ledger;
      S.error = e.status === 404 ? { key: 'receipt.not-found', vars: { seq: S.seq } } : { key: 'receipt.load-failed', vars: { message: String(e.message || e) } };
    }
  }
  render();
  if (S.entry) {
    const verifier = createVerifier({ base: S.base, pinnedLogKey: stored(pinKey(S.base)) });
    S.result = await verifier.verifyEntry(S.seq, S.entry.leaf);
    const by = S.entry.reversed_by;
    if (S.result.ok && Number.isSafeInteger(by)) S.reversal = await verifier.verifyEntry(by);
    render();
  }
  document.documentElement.setAttribute('data-app', 'ready');
}

start().catch((e) => {
  const box = document.getElementById('js-errors');
  if (box) box.append(document.createTextNode(`${e && e.stack ? e.stack : e}\n`));
  console.error(e);
  document.documentElement.setAttribute('data-app', 'ready');
});

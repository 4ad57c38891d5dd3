// Proposing in the page (记一笔): the company's staff record an income,
// an expenditure or a transfer with the key kept in this browser, and
// upload the expenditure's attachments, which the body binds by SHA-256.
//
// Nothing here is trusted by the ledger: the server checks the signature,
// the rules and the money as it does for `feeledger propose`. What this
// file must get right is that the person signs exactly what they typed:
// the amount is parsed from the yuan text by the CLI's own grammar
// (feeledger_core::money, parse_amount) into integer fen, with BigInt and
// never a float, and anything else is refused rather than guessed at
// (`12,34` is not ¥12.34 nor ¥1,234). The body is built, shown in plain
// words, and only then signed as the canonical bytes (verify.js `jcs`).
//
// Attachments are hashed here with WebCrypto before the body is built, so
// the body lists the very bytes that are then uploaded; the server keeps a
// file only if a proposal lists its hash and size (docs/api.md,
// "Attachments").

import { jcs, sha256, toHex, utf8 } from './verify.js';
import { h, mount } from './dom.js';
import { yuan, bytesText, beijingDate } from './format.js';
import { signingAvailable, loadKey, signBody } from './keys.js';
import { enrolment } from './sign.js';
import { LEDGER_BASE as BASE } from './base.js';

const SECTION = 'propose-section';

/** The largest amount of one entry, in fen (feeledger_core::entry::AMOUNT_FEN_MAX). */
export const AMOUNT_FEN_MAX = 10_000_000_000_000n;
/** The largest file the server keeps, in bytes (feeledger_store::ATTACHMENT_BYTES_MAX, 10 MiB). */
export const ATTACHMENT_BYTES_MAX = 10 * 1024 * 1024;
/** Most attachments one expenditure lists (docs/format.md §5.3). */
export const ATTACHMENTS_MAX = 32;
/** Longest attachment name, in characters (text(1..200)). */
const ATTACHMENT_NAME_CHARS_MAX = 200;

const INCOME_CATEGORIES = ['property_fee', 'parking', 'advertising', 'venue_rental', 'interest', 'other'];
const EXPENSE_CATEGORIES = ['cleaning', 'security', 'greening', 'elevator', 'repairs', 'utilities', 'salaries', 'management_fee', 'other'];
const KINDS = ['income', 'expenditure', 'transfer'];

/**
 * Parses a yuan amount as `feeledger propose --amount` does
 * (feeledger_core::money::parse_amount): `1280`, `1280.5`, `1,280.50`;
 * commas only between groups of three, at most two decimals, 0.01 to
 * AMOUNT_FEN_MAX. Surrounding spaces (a paste) are dropped. Returns
 * {ok: true, fen} (a Number, exact: the maximum is below 2^53) or
 * {ok: false, reason: 'syntax'|'negative'|'zero'|'too-large'}.
 */
export function parseYuan(input) {
  const text = String(input).trim();
  if (text.startsWith('-')) return { ok: false, reason: 'negative' };
  const dot = text.indexOf('.');
  const whole = dot < 0 ? text : text.slice(0, dot);
  const fraction = dot < 0 ? null : text.slice(dot + 1);
  const digits = (s) => /^[0-9]+$/.test(s);
  if (fraction !== null && (!digits(fraction) || fraction.length > 2)) return { ok: false, reason: 'syntax' };
  let wholeDigits;
  if (whole.includes(',')) {
    const groups = whole.split(',');
    const first = groups.shift();
    const firstOk = digits(first) && first.length <= 3 && !first.startsWith('0');
    if (!firstOk || !groups.every((g) => g.length === 3 && digits(g))) return { ok: false, reason: 'syntax' };
    wholeDigits = first + groups.join('');
  } else if (digits(whole)) {
    wholeDigits = whole;
  } else {
    return { ok: false, reason: 'syntax' };
  }
  const fractionFen = fraction === null ? 0n : fraction.length === 1 ? BigInt(fraction) * 10n : BigInt(fraction);
  const fen = BigInt(wholeDigits) * 100n + fractionFen;
  if (fen === 0n) return { ok: false, reason: 'zero' };
  if (fen > AMOUNT_FEN_MAX) return { ok: false, reason: 'too-large' };
  return { ok: true, fen: Number(fen) };
}

/**
 * Parses a percentage with at most two decimals (`67`, `67.5`, `67.25`)
 * into basis points, 0 to 10000; null otherwise.
 */
export function parsePercentBp(input) {
  const m = /^([0-9]{1,3})(?:\.([0-9]{1,2}))?$/.exec(String(input).trim());
  if (!m) return null;
  const bp = Number(m[1]) * 100 + (m[2] ? Number(m[2].padEnd(2, '0')) : 0);
  return bp <= 10000 ? bp : null;
}

/** The fund an income of this category goes to by default (feeledger_core::conventions::default_income_fund). */
export function defaultIncomeFund(category) {
  return ['parking', 'advertising', 'venue_rental'].includes(category) ? 'public_revenue' : 'operating';
}

/** Today's date in Beijing, YYYY-MM-DD. */
const today = () => beijingDate();

/** A new nonce: 16 random bytes in hex, as the CLI makes them. */
function newNonce() {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The proposing form bound to the app. `ctx` = {t, lang(), ledger(),
 * fundName, catName, roleName, reportError, onProposed}.
 */
export function createProposing(ctx) {
  const { t } = ctx;
  const S = {
    record: null,
    loaded: false,
    busy: false,
    form: { kind: null, party: '', amount: '', category: '', fund: '', from: '', to: '', period: '', memo: '', date: today(), decision: '', pa: '', ph: '', aa: '', ah: '' },
    files: [], // [{name, bytes, sha256, file}]
    error: null, // {key, vars}
    confirm: null, // {body, bodyJcs, id}
    result: null, // {status, key, vars, id, uploads: [{name, status, key}]}
  };

  function kindsAllowed() {
    const ledger = ctx.ledger();
    const e = S.record ? enrolment(ledger, S.record) : null;
    if (!e || !e.same) return [];
    const rules = (ledger && ledger.rules) || {};
    return KINDS.filter((k) => (rules[k] || []).includes(e.role));
  }

  function funds() {
    const ledger = ctx.ledger();
    return ((ledger && ledger.funds) || []).map((f) => f.id);
  }

  function fundDefault(kind, category) {
    if (kind === 'income') return defaultIncomeFund(category);
    return 'operating';
  }

  function set(field, value) {
    S.form[field] = value;
    S.error = null;
    if (field === 'kind') {
      S.form.category = value === 'income' ? INCOME_CATEGORIES[0] : EXPENSE_CATEGORIES[0];
      S.form.fund = fundDefault(value, S.form.category);
      render();
    } else if (field === 'category') {
      // The category chooses the fund, as the CLI's default does; a fund
      // chosen by hand afterwards stays.
      S.form.fund = fundDefault(S.form.kind, value);
      render();
    } else if (field === 'fund' || field === 'from') {
      render();
    }
  }

  function input(id, field, attrs = {}) {
    return h('input', { id, name: field, type: 'text', value: S.form[field], autocomplete: 'off', oninput: (ev) => set(field, ev.target.value), ...attrs });
  }

  function select(id, field, options) {
    return h(
      'select',
      { id, name: field, onchange: (ev) => set(field, ev.target.value) },
      options.map(([value, label]) => h('option', { value, selected: value === S.form[field] }, label)),
    );
  }

  function field(id, label, control, help) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), control, help ? h('p', { class: 'small muted' }, help) : null);
  }

  function needsVote() {
    const f = S.form;
    return (f.kind === 'expenditure' && f.fund === 'maintenance') || (f.kind === 'transfer' && f.from === 'maintenance');
  }

  function render() {
    const title = h('h2', { tabindex: '-1' }, t('propose.title'));
    if (!signingAvailable() || !S.loaded || !S.record) {
      mount(SECTION);
      document.getElementById(SECTION)?.setAttribute('hidden', '');
      return;
    }
    const kinds = kindsAllowed();
    const section = document.getElementById(SECTION);
    if (!kinds.length) {
      mount(SECTION);
      section?.setAttribute('hidden', '');
      return;
    }
    section?.removeAttribute('hidden');
    if (!kinds.includes(S.form.kind)) {
      S.form.kind = kinds.includes('expenditure') ? 'expenditure' : kinds[0];
      S.form.category = S.form.kind === 'income' ? INCOME_CATEGORIES[0] : EXPENSE_CATEGORIES[0];
      S.form.fund = fundDefault(S.form.kind, S.form.category);
    }
    mount(SECTION, title, h('p', { class: 'small muted' }, t('propose.help', { name: S.record.name })), renderForm(kinds), renderConfirm(), renderResult());
  }

  function renderForm(kinds) {
    const f = S.form;
    const fundOptions = funds().map((id) => [id, ctx.fundName(id)]);
    const categories = f.kind === 'income' ? INCOME_CATEGORIES : EXPENSE_CATEGORIES;
    const error = S.error ? h('p', { id: 'propose-error', class: 'alert', role: 'alert', 'data-code': S.error.code || '' }, t(S.error.key, S.error.vars || {})) : null;
    return h(
      'form',
      {
        id: 'propose-form',
        'data-kind': f.kind,
        hidden: Boolean(S.confirm),
        onsubmit: (ev) => {
          ev.preventDefault();
          prepare().catch((e) => {
            ctx.reportError(e);
            S.error = { key: 'propose.failed' };
            render();
          });
        },
      },
      field('propose-kind', t('propose.kind'), select('propose-kind', 'kind', kinds.map((k) => [k, t(`propose.kind.${k}`)]))),
      f.kind === 'transfer'
        ? [field('propose-from', t('propose.from'), select('propose-from', 'from', [['', '—'], ...fundOptions])), field('propose-to', t('propose.to'), select('propose-to', 'to', [['', '—'], ...fundOptions]))]
        : [
            field('propose-party', t(f.kind === 'income' ? 'propose.payer' : 'propose.payee'), input('propose-party', 'party', { maxlength: '100' }), t(f.kind === 'income' ? 'propose.payer-help' : 'propose.payee-help')),
            field('propose-category', t('propose.category'), select('propose-category', 'category', categories.map((c) => [c, ctx.catName(c)]))),
            field('propose-fund', t('propose.fund'), select('propose-fund', 'fund', fundOptions), t('propose.fund-help')),
          ],
      field('propose-amount', t('propose.amount'), input('propose-amount', 'amount', { inputmode: 'decimal', placeholder: '1,280.50' }), t('propose.amount-help')),
      f.kind === 'income' ? field('propose-period', t('propose.period'), input('propose-period', 'period', { placeholder: (f.date || today()).slice(0, 7) }), t('propose.period-help')) : null,
      field('propose-date', t('propose.date'), input('propose-date', 'date', { type: 'date' })),
      field('propose-memo', t('propose.memo'), input('propose-memo', 'memo', { maxlength: '1000' })),
      needsVote() || f.kind === 'transfer'
        ? h(
            'fieldset',
            { id: 'propose-vote', class: 'field' },
            h('legend', {}, t('propose.vote')),
            h('p', { class: 'small muted' }, t('propose.vote-help')),
            field('propose-decision', t('propose.vote-ref'), input('propose-decision', 'decision', { maxlength: '200' })),
            field('propose-pa', t('propose.vote-pa'), input('propose-pa', 'pa', { inputmode: 'decimal' })),
            field('propose-ph', t('propose.vote-ph'), input('propose-ph', 'ph', { inputmode: 'decimal' })),
            field('propose-aa', t('propose.vote-aa'), input('propose-aa', 'aa', { inputmode: 'decimal' })),
            field('propose-ah', t('propose.vote-ah'), input('propose-ah', 'ah', { inputmode: 'decimal' })),
          )
        : null,
      f.kind === 'expenditure'
        ? h(
            'div',
            { class: 'field' },
            h('label', { for: 'propose-files' }, t('propose.files')),
            h('input', { id: 'propose-files', type: 'file', multiple: true, disabled: S.busy, onchange: (ev) => chooseFiles(ev.target.files) }),
            h('p', { class: 'small muted' }, t('propose.files-help', { max: bytesText(ATTACHMENT_BYTES_MAX) })),
            S.files.length
              ? h(
                  'ul',
                  { id: 'propose-file-list' },
                  S.files.map((x, i) =>
                    h('li', { 'data-sha256': x.sha256 }, `${x.name} · ${bytesText(x.bytes)} `, h('button', { type: 'button', class: 'link', onclick: () => { S.files.splice(i, 1); render(); } }, t('propose.file-remove'))),
                  ),
                )
              : null,
          )
        : null,
      error,
      h('button', { id: 'propose-submit', type: 'submit', class: 'primary', disabled: S.busy }, t('propose.review')),
    );
  }

  async function chooseFiles(list) {
    S.error = null;
    const chosen = [...(list || [])];
    for (const file of chosen) {
      if (file.size > ATTACHMENT_BYTES_MAX) {
        S.error = { key: 'propose.err.file-too-large', vars: { name: file.name, size: bytesText(file.size), max: bytesText(ATTACHMENT_BYTES_MAX) } };
        render();
        return;
      }
      if (!file.name || file.name.length > ATTACHMENT_NAME_CHARS_MAX) {
        S.error = { key: 'propose.err.file-name', vars: { name: file.name.slice(0, 40) } };
        render();
        return;
      }
    }
    if (S.files.length + chosen.length > ATTACHMENTS_MAX) {
      S.error = { key: 'propose.err.too-many-files', vars: { max: ATTACHMENTS_MAX } };
      render();
      return;
    }
    S.busy = true;
    render();
    try {
      for (const file of chosen) {
        const bytes = new Uint8Array(await file.arrayBuffer());
        S.files.push({ name: file.name, bytes: bytes.length, sha256: toHex(await sha256(bytes)), data: bytes });
      }
    } finally {
      S.busy = false;
      render();
    }
  }

  /** Checks the form and builds the body; on a mistake, says which, and builds nothing. */
  function build() {
    const f = S.form;
    const fail = (key, vars) => ({ error: { key, vars } });
    const amount = parseYuan(f.amount);
    if (!amount.ok) return fail(`propose.err.amount-${amount.reason}`, { text: f.amount });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(f.date) || f.date < '2000-01-01') return fail('propose.err.date');
    const ledger = ctx.ledger();
    const base = { ledger: ledger.origin, date: f.date, nonce: newNonce(), kind: f.kind, amount_fen: amount.fen, memo: f.memo.trim() };
    if (utf8(base.memo).length > 1000) return fail('propose.err.memo');
    let vote;
    if (f.decision.trim()) {
      const bp = ['pa', 'ph', 'aa', 'ah'].map((k) => parsePercentBp(f[k]));
      if (bp.some((x) => x === null)) return fail('propose.err.vote-percent');
      if (bp[2] > bp[0] || bp[3] > bp[1]) return fail('propose.err.vote-order');
      vote = { decision_ref: f.decision.trim(), participating_area_bp: bp[0], participating_headcount_bp: bp[1], approving_area_bp: bp[2], approving_headcount_bp: bp[3] };
    } else if (['pa', 'ph', 'aa', 'ah'].some((k) => f[k].trim())) {
      return fail('propose.err.vote-ref');
    }
    if (f.kind === 'transfer') {
      if (!f.from || !f.to) return fail('propose.err.funds');
      if (f.from === f.to) return fail('propose.err.same-fund');
      const body = { ...base, from_fund: f.from, to_fund: f.to };
      if (vote) body.owners_approval = vote;
      return { body };
    }
    const party = f.party.trim();
    if (!party) return fail(f.kind === 'income' ? 'propose.err.payer' : 'propose.err.payee');
    if (utf8(party).length > 100) return fail('propose.err.party-long');
    if (!funds().includes(f.fund)) return fail('propose.err.funds');
    if (f.kind === 'income') {
      const period = f.period.trim() || f.date.slice(0, 7);
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) return fail('propose.err.period');
      return { body: { ...base, fund: f.fund, category: f.category, payer: party, period } };
    }
    const body = { ...base, fund: f.fund, category: f.category, payee: party, attachments: S.files.map((x) => ({ bytes: x.bytes, name: x.name, sha256: x.sha256 })) };
    if (vote) body.owners_approval = vote;
    return { body };
  }

  async function prepare() {
    const built = build();
    if (built.error) {
      S.error = built.error;
      render();
      document.getElementById('propose-error')?.focus();
      return;
    }
    const bodyJcs = jcs(built.body);
    S.confirm = { body: built.body, bodyJcs, id: toHex(await sha256(utf8(bodyJcs))) };
    S.result = null;
    render();
  }

  function sentence(body) {
    const amount = yuan(body.amount_fen);
    if (body.kind === 'income') return t('propose.say.income', { payer: body.payer, amount, category: ctx.catName(body.category), fund: ctx.fundName(body.fund), period: body.period });
    if (body.kind === 'expenditure') return t('propose.say.expenditure', { payee: body.payee, amount, category: ctx.catName(body.category), fund: ctx.fundName(body.fund) });
    return t('propose.say.transfer', { amount, from: ctx.fundName(body.from_fund), to: ctx.fundName(body.to_fund) });
  }

  function renderConfirm() {
    if (!S.confirm) return null;
    const body = S.confirm.body;
    const warnings = [];
    if (body.date > today()) warnings.push(t('propose.warn.future'));
    if (body.kind === 'income' && body.fund !== defaultIncomeFund(body.category)) warnings.push(t('propose.warn.fund', { fund: ctx.fundName(defaultIncomeFund(body.category)) }));
    if (((body.kind === 'expenditure' && body.fund === 'maintenance') || (body.kind === 'transfer' && body.from_fund === 'maintenance')) && !body.owners_approval) warnings.push(t('propose.warn.no-vote'));
    return h(
      'div',
      { id: 'propose-confirm', class: 'entry proposal', 'data-amount-fen': String(body.amount_fen) },
      h('h3', {}, t('propose.confirm-title')),
      h('p', { class: 'amount' }, yuan(body.amount_fen)),
      h('p', { id: 'propose-sentence' }, sentence(body)),
      h('p', { class: 'small' }, t('propose.say.date', { date: body.date }), body.memo ? ` · ${body.memo}` : ''),
      body.owners_approval ? h('p', { class: 'small' }, t('propose.say.vote', { ref: body.owners_approval.decision_ref })) : null,
      (body.attachments || []).length ? h('p', { class: 'small' }, t('propose.say.files', { n: body.attachments.length, names: body.attachments.map((a) => a.name).join('、') })) : null,
      warnings.map((w) => h('p', { class: 'alert small propose-warning' }, w)),
      h('p', { class: 'small muted' }, t('propose.confirm-help')),
      h(
        'div',
        { class: 'actions' },
        h('button', { id: 'propose-yes', type: 'button', class: 'primary', disabled: S.busy, onclick: () => submit().catch((e) => { ctx.reportError(e); S.busy = false; S.result = { status: 'error', key: 'propose.failed', uploads: [] }; render(); }) }, t('propose.yes')),
        h('button', { id: 'propose-back', type: 'button', disabled: S.busy, onclick: () => { S.confirm = null; render(); } }, t('propose.back')),
      ),
    );
  }

  /** Words for an API error code: the signing view's, or this view's own. */
  function codeText(code) {
    for (const key of [`propose.code.${code}`, `sign.code.${code}`]) {
      const text = t(key);
      if (text !== key) return text;
    }
    return t('sign.code.other', { code });
  }

  async function submit() {
    const { body, bodyJcs, id } = S.confirm;
    S.busy = true;
    render();
    const signature = await signBody(S.record, bodyJcs);
    const post = await fetch(`${BASE}/api/v1/proposals`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ body: bodyJcs, signatures: [signature] }) });
    let answer = null;
    try {
      answer = await post.json();
    } catch {
      answer = null;
    }
    if (!(post.status === 201 || post.status === 202) || !answer || answer.id !== id) {
      const code = answer && answer.error && answer.error.code;
      S.busy = false;
      S.confirm = null;
      S.error = { key: 'propose.refused', vars: { why: codeText(code || `HTTP ${post.status}`) }, code: code || '' };
      render();
      return;
    }
    const uploads = [];
    for (const a of body.attachments || []) {
      const file = S.files.find((x) => x.sha256 === a.sha256);
      const put = await fetch(`${BASE}/api/v1/proposals/${id}/attachments/${a.sha256}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: file.data });
      let code = null;
      if (!put.ok) {
        try {
          code = (await put.json()).error.code;
        } catch {
          code = `HTTP ${put.status}`;
        }
      }
      uploads.push({ name: a.name, ok: put.ok, why: code ? codeText(code) : null });
    }
    const what = `${t(`kind.${body.kind}`)} ${yuan(body.amount_fen)}`;
    const status = answer.status === 'committed' ? 'committed' : 'pending';
    S.result = { status, id, key: status === 'committed' ? 'propose.committed' : 'propose.pending', vars: { what, seq: answer.seq }, uploads };
    S.busy = false;
    S.confirm = null;
    S.files = [];
    S.form = { ...S.form, party: '', amount: '', memo: '', period: '', decision: '', pa: '', ph: '', aa: '', ah: '' };
    render();
    if (ctx.onProposed) ctx.onProposed();
  }

  function renderResult() {
    const r = S.result;
    if (!r) return null;
    return h(
      'div',
      { id: 'propose-result', role: 'status', 'data-status': r.status, 'data-id': r.id || '' },
      h('p', { class: r.status === 'error' ? 'alert' : 'ok-text' }, t(r.key, r.vars || {})),
      (r.uploads || []).map((u) =>
        h('p', { class: u.ok ? 'ok-text small propose-upload' : 'alert small propose-upload', 'data-uploaded': u.ok ? 'yes' : 'no' }, u.ok ? t('propose.uploaded', { name: u.name }) : t('propose.upload-failed', { name: u.name, why: u.why })),
      ),
    );
  }

  // A key made or imported in the signing view is read again here, so the
  // form appears without a reload: the signing view's key card names it.
  function watchKeyCard() {
    const section = document.getElementById('sign-section');
    if (!section || typeof MutationObserver === 'undefined') return;
    new MutationObserver(() => {
      const card = document.querySelector('#key-card');
      const name = card && card.dataset.state === 'ready' ? card.dataset.name : null;
      if ((name || null) !== (S.record ? S.record.name : null) && S.loaded) load().catch(ctx.reportError);
    }).observe(section, { childList: true, subtree: true });
  }
  watchKeyCard();

  /** Called once the ledger is known: reads the key kept for it. */
  async function load() {
    if (!signingAvailable()) {
      render();
      return;
    }
    try {
      S.record = await loadKey(ctx.ledger().origin);
    } catch {
      S.record = null;
    }
    S.loaded = true;
    render();
  }

  return { render, load, state: S };
}

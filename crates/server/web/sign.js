// The signing view (签署): a committee member's key in this browser, and the
// pending proposals it may co-sign, each shown in plain words before it is
// signed.
//
// Trust: the page signs only bytes it has decoded and shown. For each
// proposal the server serves `body_jcs` (the bytes to sign), `body` (the
// same, as an object) and `id`. The page parses `body_jcs`, checks that it
// is canonical, that SHA-256 of it is `id` (docs/format.md §8.4), that the
// served `body` is the same body, and that it names this ledger; it renders
// from the parsed bytes only. On "co-sign" it fetches the proposal again and
// refuses unless the bytes are the very ones shown. A server that lies
// consistently in all three can at most get a signature over the body the
// member saw, which is no use for any other body.
//
// Withdrawing signs "feeledger/withdrawal/v1\n" || origin || "\n" || id ||
// "\n" (docs/format.md §8.5) over the id checked above, so it too names
// only the body shown. Who may withdraw (the proposer, or members of a
// role the rule names) is the server's to decide; the page offers the
// button to those it would allow and says the server's refusals in words.
//
// State and rendering live here; app.js gives the shared helpers (words,
// fund and category names, the ledger) through `ctx`. Errors from the API
// are shown by their `code` and `details`, in words from strings.js through
// errors.js (amounts in yuan), never the server's English message.

import { jcs, sha256, toHex, utf8 } from './verify.js';
import { h, svg, mount } from './dom.js';
import { yuan, percent, timeText, dateText } from './format.js';
import { errorText } from './errors.js';
import { KeyError, signingAvailable, loadKey, makeKey, importKeyFile, forgetKey, keyDefText, verifierKeyText, signBody, signWithdrawal } from './keys.js';
import qrcode from './qrcode.mjs';
import { changeItems } from './enrol.js';
import { personName } from './strings.js';
import { LEDGER_BASE as BASE } from './base.js';

const SECTION = 'sign-section';

/**
 * Checks one ProposalView as served against itself and the ledger. Returns
 * {ok: true, id, bodyJcs, body} with `body` parsed from `body_jcs`, or
 * {ok: false, reason} (a key of `sign.refuse.<reason>`).
 */
export async function checkView(view, origin) {
  if (!view || typeof view.body_jcs !== 'string' || typeof view.id !== 'string') return { ok: false, reason: 'malformed' };
  let body;
  try {
    body = JSON.parse(view.body_jcs);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  let canonical;
  try {
    canonical = jcs(body);
  } catch {
    canonical = null;
  }
  if (canonical !== view.body_jcs) return { ok: false, reason: 'not-canonical' };
  const id = toHex(await sha256(utf8(view.body_jcs)));
  if (id !== view.id) return { ok: false, reason: 'id-mismatch' };
  let shown;
  try {
    shown = jcs(view.body);
  } catch {
    shown = null;
  }
  if (shown !== view.body_jcs) return { ok: false, reason: 'body-mismatch' };
  if (body.ledger !== origin) return { ok: false, reason: 'wrong-ledger' };
  return { ok: true, id, bodyJcs: view.body_jcs, body };
}

/** The money a body moves per fund, as BigInt fen: [{fund, delta}]. */
export function fundDeltas(body) {
  const amount = Number.isSafeInteger(body.amount_fen) ? BigInt(body.amount_fen) : null;
  if (amount === null) return [];
  switch (body.kind) {
    case 'income':
      return [{ fund: body.fund, delta: amount }];
    case 'expenditure':
      return [{ fund: body.fund, delta: -amount }];
    case 'transfer':
      return [
        { fund: body.from_fund, delta: -amount },
        { fund: body.to_fund, delta: amount },
      ];
    default:
      return [];
  }
}

/** Which rule a body falls under; a reversal under its target's (any money rule). */
function ruleRoles(ledger, kind) {
  const rules = (ledger && ledger.rules) || {};
  if (kind === 'reversal') return [...new Set([...(rules.income || []), ...(rules.expenditure || []), ...(rules.transfer || [])])];
  return rules[kind] || [];
}

/** The role of key `name` in the roles in force, and whether its public key is this one. */
export function enrolment(ledger, record) {
  for (const [role, def] of Object.entries((ledger && ledger.roles) || {})) {
    for (const k of (def && def.keys) || []) {
      if (k.name === record.name) return { role, same: k.public_key === record.public_key };
    }
  }
  return null;
}

/**
 * The signing view bound to the app. `ctx` = {t, lang(), ledger(), fundName,
 * catName, roleName, getJson, reportError, onCommitted}.
 */
export function createSigning(ctx) {
  const { t } = ctx;
  const S = {
    available: signingAvailable(),
    record: null,
    verifierKey: null,
    loaded: false,
    busy: false,
    keyError: null, // a KeyError code
    keyNotice: null, // 'made' | 'imported'
    balances: null,
    views: null, // [{view, check}]
    listError: null,
    results: new Map(), // id -> {status, key, vars}
    wresults: new Map(), // id -> {status, key, vars}: the last withdraw tap's answer
    done: [], // [{id, seq, what}] committed from this page
    withdrawnHere: [], // [{id, what}] withdrawn from this page
    withdrawn: null, // [{view, check}] withdrawn proposals, newest first
    files: new Map(), // attachment sha256 -> {state: 'checking'|'ok'|'missing'|'mismatch'|'error', url}
  };

  function render() {
    const title = h('h2', { tabindex: '-1' }, t('sign.title'));
    if (!S.available) {
      mount(
        SECTION,
        title,
        h('div', { id: 'sign-insecure', class: 'alert', role: 'alert' }, h('p', {}, h('b', {}, t('sign.insecure.title'))), h('p', {}, t('sign.insecure.why')), h('p', {}, t('sign.insecure.fix'))),
      );
      return;
    }
    mount(SECTION, title, h('p', { class: 'small muted' }, t('sign.help')), renderKey(), renderPending(), renderWithdrawn());
  }

  // -------------------------------------------------------------------------
  // My signing key
  // -------------------------------------------------------------------------

  function renderKey() {
    const head = h('h3', {}, t('key.title'));
    const error = S.keyError ? h('p', { id: 'key-error', class: 'alert', role: 'alert', 'data-code': S.keyError }, t(`key.err.${S.keyError}`)) : null;
    if (!S.loaded) return h('div', { id: 'key-card' }, head, h('p', { class: 'muted' }, t('app.loading')));
    if (!S.record) {
      return h(
        'div',
        { id: 'key-card', 'data-state': 'none' },
        head,
        h('p', {}, t('key.none')),
        error,
        h(
          'form',
          {
            id: 'key-make-form',
            onsubmit: (ev) => {
              ev.preventDefault();
              keyAction(() => makeKey(origin(), ev.target.elements.name.value.trim()), 'made');
            },
          },
          h('div', { class: 'field' }, h('label', { for: 'key-name' }, t('key.name-label')), h('input', { id: 'key-name', name: 'name', type: 'text', placeholder: 'weiyuan-zhang', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64' })),
          h('p', { class: 'small muted' }, t('key.name-help')),
          h('button', { id: 'key-make', type: 'submit', class: 'primary', disabled: S.busy }, t('key.make')),
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'key-file' }, t('key.import-label')),
          h('input', {
            id: 'key-file',
            type: 'file',
            accept: '.key,text/plain',
            disabled: S.busy,
            onchange: (ev) => {
              const file = ev.target.files && ev.target.files[0];
              if (!file) return;
              keyAction(async () => importKeyFile(origin(), await file.text()), 'imported');
            },
          }),
          h('p', { class: 'small muted' }, t('key.import-help')),
        ),
      );
    }
    const r = S.record;
    const enrolled = enrolment(ctx.ledger(), r);
    let status;
    if (!enrolled) status = h('p', { id: 'key-enrolment', 'data-state': 'not-enrolled', class: 'alert small' }, t('key.not-enrolled'));
    else if (!enrolled.same) status = h('p', { id: 'key-enrolment', 'data-state': 'other-key', class: 'alert small' }, t('key.other-key', { name: r.name }));
    else status = h('p', { id: 'key-enrolment', 'data-state': 'enrolled', 'data-role': enrolled.role, class: 'ok-text' }, t('key.enrolled', { role: ctx.roleName(enrolled.role) }));
    return h(
      'div',
      { id: 'key-card', 'data-state': 'ready', 'data-name': r.name, 'data-public-key': r.public_key, 'data-source': r.source },
      head,
      S.keyNotice === 'imported' || r.source === 'imported' ? h('p', { id: 'key-delete-file', class: 'alert', role: 'alert' }, t('key.delete-file')) : null,
      S.keyNotice === 'made' ? h('p', { class: 'ok-text' }, t('key.made')) : null,
      error,
      status,
      h('p', {}, t('key.name-is', { name: r.name })),
      h('p', { class: 'small' }, t('key.public-help')),
      h('pre', { id: 'key-public', class: 'hash' }, keyDefText(r)),
      S.verifierKey ? h('p', { class: 'small muted' }, t('key.verifier'), ' ', h('code', { id: 'key-verifier' }, S.verifierKey)) : null,
      qrFigure(keyDefText(r)),
      h('p', { class: 'small muted' }, t('key.private-help')),
      h('button', { type: 'button', id: 'key-forget', onclick: forget }, t('key.forget')),
    );
  }

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
      { class: 'qr' },
      svg('svg', { id: 'key-qr', viewBox: `0 0 ${size} ${size}`, width: '240', height: '240', role: 'img', 'aria-label': t('key.qr-label'), 'shape-rendering': 'crispEdges' }, svg('rect', { width: size, height: size, fill: '#fff' }), svg('path', { d, fill: '#000' })),
      h('figcaption', { class: 'small muted' }, t('key.qr-caption')),
    );
  }

  async function keyAction(fn, notice) {
    S.busy = true;
    S.keyError = null;
    render();
    try {
      S.record = await fn();
      S.verifierKey = await verifierKeyText(S.record);
      S.keyNotice = notice;
      await loadPending();
    } catch (e) {
      S.keyError = e instanceof KeyError ? e.code : 'failed';
      if (!(e instanceof KeyError)) ctx.reportError(e);
    }
    S.busy = false;
    render();
  }

  async function forget() {
    if (!window.confirm(t('key.forget-confirm'))) return;
    await forgetKey(origin());
    S.record = null;
    S.verifierKey = null;
    S.keyNotice = null;
    render();
  }

  function origin() {
    const ledger = ctx.ledger();
    if (!ledger) throw new KeyError('no-ledger');
    return ledger.origin;
  }

  // -------------------------------------------------------------------------
  // Pending proposals for me
  // -------------------------------------------------------------------------

  function myRole() {
    const e = S.record ? enrolment(ctx.ledger(), S.record) : null;
    return e && e.same ? e.role : null;
  }

  function renderPending() {
    const head = h('h3', {}, t('sign.pending-title'));
    const done = [
      ...S.done.map((d) => h('p', { class: 'ok-text sign-done', 'data-committed': d.id, 'data-seq': d.seq }, t('sign.committed', { what: d.what, seq: d.seq }))),
      ...S.withdrawnHere.map((d) => h('p', { class: 'ok-text sign-done', 'data-withdrawn': d.id }, t('withdraw.done', { what: d.what }))),
    ];
    if (!S.record) return h('div', { id: 'sign-pending' }, head, done, h('p', { class: 'muted' }, t('sign.need-key')));
    const role = myRole();
    if (!role) return h('div', { id: 'sign-pending' }, head, done, h('p', { class: 'muted' }, t('sign.need-enrolment')));
    if (S.listError) return h('div', { id: 'sign-pending' }, head, done, h('p', { class: 'alert' }, t('sign.list-failed')));
    if (!S.views) return h('div', { id: 'sign-pending' }, head, done, h('p', { class: 'muted' }, t('app.loading')));
    const mine = S.views.filter(
      ({ view, check }) => proposers(view).includes(S.record.name) || (check.ok ? ruleRoles(ctx.ledger(), check.body.kind) : ruleRoles(ctx.ledger(), view && view.body && view.body.kind)).includes(role),
    );
    // A withdraw tap whose proposal has since left the list (withdrawn or
    // committed meanwhile) still gets its answer shown.
    const left = [...S.wresults]
      .filter(([id, r]) => r.status !== 'withdrawn' && r.status !== 'withdrawing' && !mine.some(({ view }) => view.id === id))
      .map(([id, r]) => h('p', { class: 'alert withdraw-result', role: 'status', 'data-withdraw-result': id, 'data-status': r.status }, t(r.key, r.vars || {})));
    if (!mine.length) return h('div', { id: 'sign-pending', 'data-count': '0' }, head, done, left, h('p', { id: 'sign-none' }, t('sign.none')));
    return h('div', { id: 'sign-pending', 'data-count': String(mine.length) }, head, done, left, mine.map(({ view, check }) => renderProposal(view, check)));
  }

  function partyLine(body) {
    if (body.kind === 'expenditure') return [t('sign.payee'), body.payee];
    if (body.kind === 'income') return [t('sign.payer'), body.payer];
    return null;
  }

  function row(label, ...value) {
    return [h('dt', {}, label), h('dd', {}, ...value)];
  }

  function rulesText(kind) {
    const ledger = ctx.ledger();
    return ruleRoles(ledger, kind)
      .map((role) => t('sign.rule-part', { role: ctx.roleName(role), n: ledger.roles[role] ? ledger.roles[role].threshold : '?' }))
      .join(t('sign.rule-sep'));
  }

  function roleOfKey(name) {
    for (const [role, def] of Object.entries(ctx.ledger().roles || {})) if ((def.keys || []).some((k) => k.name === name)) return role;
    return null;
  }

  // People by the display names of the roles in force now (§7.1; the
  // ledger's word, as for the roles), or their key names.
  function signerNames(signatures) {
    return (signatures || []).map((s) => {
      const role = roleOfKey(s.key);
      const name = personName(s.key, [ctx.ledger().roles]);
      return role ? t('sign.signer', { role: ctx.roleName(role), name }) : name;
    });
  }

  /** The keys that made the proposal (`proposed_by`; empty when an older server did not record them). */
  function proposers(view) {
    return Array.isArray(view.proposed_by) ? view.proposed_by.filter((k) => typeof k === 'string') : [];
  }

  function proposerText(view) {
    const keys = proposers(view);
    return keys.length ? signerNames(keys.map((key) => ({ key }))).join(t('sign.list-sep')) : t('sign.unknown');
  }

  /** A short "what": the kind and, for money, the amount in yuan. */
  function whatText(body) {
    return t(`kind.${body.kind}`) + (Number.isSafeInteger(body.amount_fen) ? ` ${yuan(body.amount_fen)}` : '');
  }

  function balanceRows(body) {
    const deltas = fundDeltas(body);
    if (!deltas.length || !S.balances) return [];
    return deltas.map(({ fund, delta }) => {
      const before = S.balances.balances_fen && S.balances.balances_fen[fund] !== undefined ? BigInt(S.balances.balances_fen[fund]) : null;
      if (before === null) return row(t('sign.balance', { fund: ctx.fundName(fund) }), '—');
      const after = before + delta;
      return row(
        t('sign.balance', { fund: ctx.fundName(fund) }),
        h('span', { class: 'balance-before' }, yuan(before)),
        ' → ',
        h('span', { class: `balance-after${after < 0n ? ' negative' : ''}`, 'data-fen': String(after) }, yuan(after)),
        after < 0n ? h('span', { class: 'alert small' }, ' ', t('sign.not-enough')) : null,
      );
    });
  }

  function blockedText(error, body) {
    const code = error && error.code;
    const d = (error && error.details) || {};
    if (code === 'overdraft' && typeof d.fund === 'string' && Number.isSafeInteger(d.balance_fen) && Number.isSafeInteger(d.amount_fen)) {
      return t('sign.blocked-overdraft', { fund: ctx.fundName(d.fund), have: yuan(d.balance_fen), need: yuan(d.amount_fen) });
    }
    if (code === 'overdraft' && S.balances) {
      const lacking = fundDeltas(body).find(({ fund, delta }) => delta < 0n && BigInt((S.balances.balances_fen || {})[fund] ?? 0) + delta < 0n);
      if (lacking) {
        return t('sign.blocked-overdraft', { fund: ctx.fundName(lacking.fund), have: yuan(BigInt(S.balances.balances_fen[lacking.fund] ?? 0)), need: yuan(-lacking.delta) });
      }
    }
    return t('sign.blocked', { why: errorWords(error) });
  }

  /** An API error in words (errors.js); an answer without one by its HTTP status. */
  function errorWords(error, status = null) {
    if (error && typeof error.code === 'string') {
      return errorText(error, ctx.lang(), { fundName: ctx.fundName, roleName: ctx.roleName, kindName: (kind) => t(`kind.${kind}`) });
    }
    return t('sign.code.other', { code: `HTTP ${status}` });
  }

  /** Whether this key may withdraw (§8.5): it proposed it, or it holds a role the rule names. */
  function mayWithdraw(view, body) {
    const role = myRole();
    return proposers(view).includes(S.record.name) || (role !== null && ruleRoles(ctx.ledger(), body.kind).includes(role));
  }

  /** How many more of `role` must sign a withdrawal, given the withdrawal signatures `keys`. */
  function withdrawalsLacking(role, keys) {
    const def = (ctx.ledger().roles || {})[role];
    if (!def) return null;
    const have = new Set(keys.filter((k) => roleOfKey(k) === role)).size;
    return Math.max(0, def.threshold - have);
  }

  function partialText(n) {
    return t('withdraw.partial', { n, role: ctx.roleName(myRole()) });
  }

  /**
   * The card's withdrawal parts: `note` (the last tap's answer, or that this
   * key's withdrawal is recorded and how many more are needed) and `button`
   * (withdraw, for a key that may and has not yet).
   */
  function withdrawPart(view, body) {
    const keys = (view.withdrawals || []).map((w) => w.key);
    const result = S.wresults.get(view.id);
    if (result) {
      const ok = result.status === 'partial' || result.status === 'withdrawn';
      return { note: h('p', { class: ok ? 'ok-text withdraw-result' : 'alert withdraw-result', role: 'status', 'data-status': result.status }, t(result.key, result.vars || {})), button: null };
    }
    if (keys.includes(S.record.name)) {
      const n = withdrawalsLacking(myRole(), keys);
      return { note: h('p', { class: 'ok-text withdraw-mine', 'data-lacking': String(n) }, partialText(n)), button: null };
    }
    if (!mayWithdraw(view, body)) return { note: null, button: null };
    return {
      note: null,
      button: h('button', { type: 'button', class: 'withdraw-button', 'data-withdraw': view.id, disabled: S.busy, onclick: () => withdraw(view.id, body) }, t('withdraw.button')),
    };
  }

  function renderProposal(view, check) {
    const result = S.results.get(view.id);
    const resultBox = result ? h('p', { class: result.status === 'committed' || result.status === 'pending' ? 'ok-text sign-result' : 'alert sign-result', role: 'status', 'data-status': result.status }, t(result.key, result.vars || {})) : null;
    if (!check.ok) {
      return h(
        'article',
        { class: 'entry proposal sign-card', 'data-sign-card': view.id, 'data-refused': check.reason },
        h('p', { class: 'alert sign-refused', role: 'alert' }, t('sign.refused'), ' ', t(`sign.refuse.${check.reason}`)),
        resultBox,
      );
    }
    const body = check.body;
    const signed = (view.signatures || []).some((s) => s.key === S.record.name);
    const status = view.status || {};
    const party = partyLine(body);
    const amount = Number.isSafeInteger(body.amount_fen) ? body.amount_fen : null;
    const approval = body.owners_approval;
    const progress = (status.progress || []).map((x) => t('sign.progress', { role: ctx.roleName(x.role), have: x.have, need: x.need })).join(t('sign.list-sep'));
    const withdrawal = withdrawPart(view, body);
    return h(
      'article',
      { class: `entry proposal sign-card kind-${body.kind}`, 'data-sign-card': view.id, 'data-amount-fen': amount === null ? '' : String(amount) },
      h('div', { class: 'entry-head' }, h('span', { class: 'badge pending' }, t(`kind.${body.kind}`)), h('span', { class: 'date' }, dateText(body.date, ctx.lang()))),
      amount !== null ? h('div', { class: 'amount sign-amount' }, yuan(amount)) : null,
      h(
        'dl',
        { class: 'sign-facts' },
        row(t('sign.proposed-by'), h('span', { class: 'sign-proposer' }, proposerText(view)), ' · ', timeText(view.created_ms, ctx.lang())),
        party ? row(party[0], party[1]) : null,
        amount !== null ? row(t('sign.amount'), yuan(amount)) : null,
        body.fund ? row(t('sign.fund'), ctx.fundName(body.fund)) : null,
        body.kind === 'transfer' ? row(t('sign.transfer'), t('entry.transfer', { from: ctx.fundName(body.from_fund), to: ctx.fundName(body.to_fund) })) : null,
        body.category ? row(t('sign.category'), ctx.catName(body.category)) : null,
        body.kind === 'reversal' ? row(t('sign.reversal'), t('entry.reversal', { target: body.target_seq }), ' · ', body.reason) : null,
        body.kind === 'governance' ? row(t('sign.governance'), h('ul', { class: 'enrol-changes sign-governance' }, changeItems(t, ctx.roleName, ctx.ledger(), body)), h('span', { class: 'small muted' }, t('enrol.sign-note'))) : null,
        row(t('sign.memo'), body.memo ? body.memo : '—'),
        row(t('sign.date'), dateText(body.date, ctx.lang())),
        balanceRows(body),
        approval
          ? row(
              t('entry.approval'),
              t('entry.decision', { ref: approval.decision_ref }),
              h('br', {}),
              t('entry.approval-line', { pa: percent(approval.participating_area_bp), ph: percent(approval.participating_headcount_bp), aa: percent(approval.approving_area_bp), ah: percent(approval.approving_headcount_bp) }),
            )
          : body.fund === 'maintenance' && body.kind === 'expenditure'
            ? row(t('entry.approval'), h('span', { class: 'alert small' }, t('sign.no-approval')))
            : null,
        Array.isArray(body.attachments) && body.attachments.length ? row(t('sign.attachments'), attachmentList(body)) : null,
        row(t('sign.rule'), rulesText(body.kind)),
        progress ? row(t('sign.progress-label'), progress) : null,
        row(t('sign.signed-so-far'), signerNames(view.signatures).join(t('sign.list-sep')) || '—'),
        (view.withdrawals || []).length ? row(t('withdraw.so-far'), signerNames(view.withdrawals).join(t('sign.list-sep'))) : null,
      ),
      status.blocked ? h('p', { class: 'alert sign-blocked', 'data-code': status.blocked.code }, blockedText(status.blocked, body)) : null,
      signed ? h('p', { class: 'ok-text sign-already', 'data-already': '' }, t('sign.already')) : null,
      resultBox,
      withdrawal.note,
      attachmentsBlock(body),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'primary sign-button', 'data-sign': view.id, disabled: S.busy || attachmentsState(body) !== 'ok', onclick: () => cosign(view.id, check) }, t('sign.cosign')),
        h('span', { class: 'withdraw-slot' }, withdrawal.button),
      ),
    );
  }

  // -------------------------------------------------------------------------
  // Attachments: each file the body lists is downloaded and its SHA-256 and
  // size checked here before the member may co-sign; the link opens the
  // very bytes checked.
  // -------------------------------------------------------------------------

  function listedFiles(body) {
    return Array.isArray(body.attachments) ? body.attachments : [];
  }

  /** 'ok' when every listed file checked out (or none is listed), else the worst state. */
  function attachmentsState(body) {
    const states = listedFiles(body).map((a) => (S.files.get(a.sha256) || { state: 'checking' }).state);
    for (const worst of ['mismatch', 'missing', 'error', 'checking']) if (states.includes(worst)) return worst;
    return 'ok';
  }

  function attachmentList(body) {
    return h(
      'ul',
      { class: 'sign-files' },
      listedFiles(body).map((a) => {
        const f = S.files.get(a.sha256) || { state: 'checking' };
        return h(
          'li',
          { class: f.state === 'ok' ? 'ok-text' : f.state === 'checking' ? 'muted' : 'alert', 'data-file': a.sha256, 'data-file-state': f.state },
          f.state === 'ok' ? h('a', { href: f.url, download: a.name }, a.name) : a.name,
          ' · ',
          t(`sign.file.${f.state}`),
        );
      }),
    );
  }

  function attachmentsBlock(body) {
    const state = attachmentsState(body);
    if (state === 'ok' || !listedFiles(body).length) return null;
    return h('p', { class: state === 'checking' ? 'muted sign-files-state' : 'alert sign-files-state', 'data-files-state': state }, t(`sign.files.${state}`));
  }

  async function checkFile(a) {
    const res = await fetch(`${BASE}/api/v1/attachments/${a.sha256}`);
    if (res.status === 404) return { state: 'missing' };
    if (!res.ok) return { state: 'error' };
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length !== a.bytes || toHex(await sha256(bytes)) !== a.sha256) return { state: 'mismatch' };
    return { state: 'ok', url: URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' })) };
  }

  /** Checks every listed file not yet checked, then renders again. */
  async function checkFiles() {
    const todo = [];
    for (const { check } of S.views || []) {
      if (!check.ok) continue;
      for (const a of listedFiles(check.body)) {
        const known = S.files.get(a.sha256);
        if (known && known.state !== 'missing' && known.state !== 'error') continue;
        if (typeof a.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(a.sha256)) {
          S.files.set(a.sha256, { state: 'mismatch' });
          continue;
        }
        S.files.set(a.sha256, { state: 'checking' });
        todo.push(a);
      }
    }
    if (!todo.length) return;
    await Promise.all(
      todo.map(async (a) => {
        try {
          S.files.set(a.sha256, await checkFile(a));
        } catch {
          S.files.set(a.sha256, { state: 'error' });
        }
      }),
    );
    render();
  }

  async function cosign(id, shown) {
    if (S.busy || attachmentsState(shown.body) !== 'ok') return;
    await act(S.results, id, { status: 'signing', key: 'sign.signing' }, 'sign.failed', () => cosignChecked(id, shown));
  }

  // One action on a card at a time: shows it running, keeps its result
  // (or, if it threw, reports the error and says it failed), then reads
  // the pending list again.
  async function act(results, id, running, failedKey, run) {
    S.busy = true;
    results.set(id, running);
    render();
    try {
      results.set(id, await run());
    } catch (e) {
      ctx.reportError(e);
      results.set(id, { status: 'error', key: failedKey });
    }
    S.busy = false;
    await loadPending();
  }

  async function cosignChecked(id, shown) {
    let fresh;
    const res = await fetch(`${BASE}/api/v1/proposals/${id}`, { cache: 'no-store' });
    if (res.status === 404) return { status: 'gone', key: 'sign.gone' };
    if (!res.ok) return { status: 'error', key: 'sign.failed' };
    try {
      fresh = await res.json();
    } catch {
      return { status: 'refused', key: 'sign.refuse-now', vars: { why: t('sign.refuse.malformed') } };
    }
    const check = await checkView(fresh, ctx.ledger().origin);
    if (!check.ok) return { status: 'refused', key: 'sign.refuse-now', vars: { why: t(`sign.refuse.${check.reason}`) } };
    if (check.bodyJcs !== shown.bodyJcs) return { status: 'refused', key: 'sign.refuse-now', vars: { why: t('sign.refuse.changed') } };
    if ((fresh.signatures || []).some((s) => s.key === S.record.name)) return { status: 'already', key: 'sign.already' };
    if (fresh.status && fresh.status.blocked) return { status: 'blocked', key: 'sign.blocked-now', vars: { why: blockedText(fresh.status.blocked, shown.body) } };
    const signature = await signBody(S.record, shown.bodyJcs);
    const post = await fetch(`${BASE}/api/v1/proposals/${id}/signatures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signatures: [signature] }),
    });
    let answer = null;
    try {
      answer = await post.json();
    } catch {
      answer = null;
    }
    if (post.status === 201 && answer && answer.status === 'committed') {
      const what = t(`kind.${shown.body.kind}`) + (Number.isSafeInteger(shown.body.amount_fen) ? ` ${yuan(shown.body.amount_fen)}` : '');
      S.done.push({ id, seq: answer.seq, what });
      if (ctx.onCommitted) ctx.onCommitted();
      return { status: 'committed', key: 'sign.committed', vars: { what, seq: answer.seq } };
    }
    if (post.status === 202 && answer && answer.status === 'pending') {
      const progress = (answer.progress || []).map((x) => t('sign.progress', { role: ctx.roleName(x.role), have: x.have, need: x.need })).join(t('sign.list-sep'));
      return { status: 'pending', key: 'sign.pending', vars: { progress } };
    }
    const error = answer && answer.error;
    if (error && error.code === 'overdraft') return { status: 'blocked', key: 'sign.blocked-now', vars: { why: blockedText(error, shown.body) } };
    return { status: 'error', key: 'sign.error', vars: { why: errorWords(error, post.status) } };
  }

  async function withdraw(id, body) {
    if (S.busy) return;
    const proposer = proposers(S.views.find((v) => v.view.id === id)?.view || {}).includes(S.record.name);
    const message = [t('withdraw.confirm', { what: whatText(body) }), proposer ? null : t('withdraw.confirm-role', { role: ctx.roleName(myRole()) })].filter(Boolean).join('\n\n');
    if (!window.confirm(message)) return;
    await act(S.wresults, id, { status: 'withdrawing', key: 'withdraw.withdrawing' }, 'withdraw.failed', () => withdrawSigned(id, body));
  }

  async function withdrawSigned(id, body) {
    // The withdrawal signs the id, which the card was checked against
    // (SHA-256 of the bytes shown); a fresh read only tells whether it is
    // still pending, and whether this key already signed its withdrawal.
    const res = await fetch(`${BASE}/api/v1/proposals/${id}`, { cache: 'no-store' });
    if (res.status === 404) return { status: 'gone', key: 'withdraw.gone' };
    if (!res.ok) return { status: 'error', key: 'withdraw.failed' };
    let fresh;
    try {
      fresh = await res.json();
    } catch {
      return { status: 'error', key: 'withdraw.failed' };
    }
    if (fresh.state === 'withdrawn') return { status: 'already-withdrawn', key: 'withdraw.already-withdrawn' };
    const keys = (fresh.withdrawals || []).map((w) => w.key);
    if (keys.includes(S.record.name)) return { status: 'partial', key: 'withdraw.partial', vars: { n: withdrawalsLacking(myRole(), keys), role: ctx.roleName(myRole()) } };
    const signature = await signWithdrawal(S.record, ctx.ledger().origin, id);
    const post = await fetch(`${BASE}/api/v1/proposals/${id}/withdrawal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ signatures: [signature] }),
    });
    let answer = null;
    try {
      answer = await post.json();
    } catch {
      answer = null;
    }
    if (post.status === 200 && answer && answer.status === 'withdrawn') {
      S.withdrawnHere.push({ id, what: whatText(body) });
      // The residents' list of pending proposals drops it too.
      if (ctx.onCommitted) ctx.onCommitted();
      return { status: 'withdrawn', key: 'withdraw.done', vars: { what: whatText(body) } };
    }
    if (post.status === 202 && answer && answer.status === 'pending') {
      const mine = (answer.progress || []).find((x) => x.role === myRole());
      const n = mine ? Math.max(0, mine.need - mine.have) : withdrawalsLacking(myRole(), answer.withdrawals || []);
      return { status: 'partial', key: 'withdraw.partial', vars: { n, role: ctx.roleName(myRole()) } };
    }
    return { status: 'error', key: 'withdraw.error', vars: { why: errorWords(answer && answer.error, post.status) } };
  }

  // -------------------------------------------------------------------------
  // Withdrawn proposals: kept in view, with who withdrew them and when
  // -------------------------------------------------------------------------

  function renderWithdrawn() {
    if (!S.withdrawn || !S.withdrawn.length) return null;
    return h(
      'div',
      { id: 'sign-withdrawn', 'data-count': String(S.withdrawn.length) },
      h('h3', {}, t('withdrawn.title')),
      h('p', { class: 'small muted' }, t('withdrawn.help')),
      S.withdrawn.map(({ view, check }) => {
        const when = timeText(view.withdrawn_ms, ctx.lang());
        const by = signerNames((view.withdrawn_by || []).map((key) => ({ key }))).join(t('sign.list-sep')) || t('sign.unknown');
        if (!check.ok) {
          return h('article', { class: 'entry withdrawn-item', 'data-withdrawn-item': view.id, 'data-refused': check.reason }, h('p', {}, t('withdrawn.unreadable'), ' ', t('withdrawn.line', { by, when })));
        }
        const body = check.body;
        const party = partyLine(body);
        return h(
          'article',
          { class: 'entry withdrawn-item', 'data-withdrawn-item': view.id },
          h('div', { class: 'entry-head' }, h('span', { class: 'badge withdrawn' }, t('withdrawn.badge')), h('span', { class: 'date' }, dateText(body.date, ctx.lang()))),
          h('p', {}, h('b', {}, whatText(body)), party ? ` · ${t('withdrawn.party', { label: party[0], name: party[1] })}` : null, body.memo ? ` · ${body.memo}` : null),
          h('p', { class: 'small' }, t('withdrawn.line', { by, when })),
          h('p', { class: 'small muted' }, t('withdrawn.proposed', { by: proposerText(view), when: timeText(view.created_ms, ctx.lang()) })),
        );
      }),
    );
  }

  async function loadWithdrawn() {
    const ledger = ctx.ledger();
    if (!ledger) return;
    try {
      const list = await ctx.getJson('/api/v1/proposals?state=withdrawn');
      S.withdrawn = await Promise.all((list.proposals || []).map(async (view) => ({ view, check: await checkView(view, ledger.origin) })));
    } catch (e) {
      // The withdrawn list is extra; an older server without it leaves it out.
      S.withdrawn = null;
    }
  }

  async function loadPending() {
    const ledger = ctx.ledger();
    await loadWithdrawn();
    if (!ledger || !S.record) {
      render();
      return;
    }
    try {
      const [list, balances] = await Promise.all([ctx.getJson('/api/v1/proposals'), ctx.getJson('/api/v1/balances')]);
      S.balances = balances;
      const views = list.proposals || [];
      S.views = await Promise.all(views.map(async (view) => ({ view, check: await checkView(view, ledger.origin) })));
      S.listError = null;
    } catch (e) {
      S.listError = String(e.message || e);
    }
    render();
    await checkFiles();
  }

  /** Called once the ledger is known: reads the key kept for it, then the proposals. */
  async function load() {
    if (!S.available) {
      render();
      return;
    }
    try {
      S.record = await loadKey(ctx.ledger().origin);
      if (S.record) S.verifierKey = await verifierKeyText(S.record);
    } catch (e) {
      S.keyError = e instanceof KeyError ? e.code : 'failed';
    }
    S.loaded = true;
    await loadPending();
  }

  return { render, load, state: S };
}

// A month of fees from a spreadsheet (导入缴费表), for the company's
// bookkeeper: a CSV file is read by the server, signed here with the key
// kept in this browser, and recorded as one group commit.
//
// The page does not read CSV itself: `POST /api/v1/import/preview` reads
// the file with the same library and rules as `feeledger import` and
// answers the unsigned canonical bodies, one per row, or every bad row by
// line number and reason code. Nothing is stored by the preview.
//
// Trust: the server's bodies are checked before anything is shown. Each
// `body_jcs` must parse, re-encode (verify.js `jcs`) to the very same
// bytes, hash (SHA-256) to its `id`, name this ledger, and be an income of
// a positive whole number of fen into one of the ledger's funds. The
// count and totals shown are computed here, from exactly the bodies that
// will be signed, never taken from the server; so a server that changes
// an amount changes what is shown too. "确认入账" signs those bodies only
// (keys.js `signBody`) and sends them in one `POST /api/v1/proposals/batch`.
//
// The section shows only for a key kept in this browser that is, in the
// ledger's roles in force, a member of a role the income rule names (the
// company). It reads the ledger and the key itself, and follows the page's
// language through <html lang>, so app.js only mounts it.

import { jcs, sha256, toHex, utf8 } from './verify.js';
import { h, mount } from './dom.js';
import { yuan } from './format.js';
import { loadKey, signBody, signingAvailable } from './keys.js';
import { LEDGER_BASE as BASE } from './base.js';

const SECTION = 'import-section';

/** The most a file may be (feeledger_import::FILE_BYTES_MAX); larger is refused before upload. */
export const FILE_BYTES_MAX = 512 * 1024;

/** Row reasons with words of their own in strings.js (`import.row.<code>`). */
const ROW_CODES = new Set([
  'too_many_cells',
  'missing',
  'amount_syntax',
  'amount_negative',
  'amount_zero',
  'amount_too_large',
  'category',
  'fund',
  'date',
  'date_after_today',
  'period',
  'totals_row',
  'field',
  'body',
]);

/** File and API error codes with words of their own (`import.err.<code>`). */
const ERROR_CODES = new Set([
  'bad_rows',
  'empty',
  'too_large',
  'encoding',
  'utf16',
  'workbook',
  'csv',
  'unknown_column',
  'duplicate_column',
  'missing_column',
  'no_rows',
  'too_many_rows',
  'total_overflow',
  'replay',
  'rule_not_met',
  'unknown_key',
  'unauthorized_signer',
  'bad_signature',
  'overflow',
  'unknown_fund',
  'not_income',
  'wrong_ledger',
  'malformed',
  'timeout',
  'shutting_down',
  'unchecked',
  'network',
]);

/**
 * Checks the server's preview against itself and the ledger. Returns
 * {ok: true, rows: [{line, id, bodyJcs, body, status, seq}]} with each
 * `body` parsed from `body_jcs`, or {ok: false, line} naming the first
 * row that fails.
 */
export async function checkPreview(preview, ledger) {
  const funds = new Set(((ledger && ledger.funds) || []).map((f) => f.id));
  if (!preview || !Array.isArray(preview.rows) || preview.rows.length === 0) return { ok: false, line: 0 };
  const rows = [];
  for (const row of preview.rows) {
    const line = row && Number.isSafeInteger(row.line) ? row.line : 0;
    const bad = { ok: false, line };
    if (!row || typeof row.body_jcs !== 'string' || typeof row.id !== 'string') return bad;
    let body;
    try {
      body = JSON.parse(row.body_jcs);
      if (jcs(body) !== row.body_jcs) return bad;
    } catch {
      return bad;
    }
    if (toHex(await sha256(utf8(row.body_jcs))) !== row.id) return bad;
    if (body.ledger !== ledger.origin || body.kind !== 'income' || !funds.has(body.fund)) return bad;
    if (!Number.isSafeInteger(body.amount_fen) || body.amount_fen <= 0) return bad;
    if (row.status !== 'new' && row.status !== 'recorded') return bad;
    rows.push({ line, id: row.id, bodyJcs: row.body_jcs, body, status: row.status, seq: row.seq });
  }
  return { ok: true, rows };
}

/**
 * Count and totals in fen (BigInt) of income bodies, overall, per fund and
 * per category: {count, totalFen, byFund: Map(id -> {count, fen}), byCategory}.
 */
export function totalsOf(bodies) {
  const add = (map, key, fen) => {
    const v = map.get(key) || { count: 0, fen: 0n };
    v.count += 1;
    v.fen += fen;
    map.set(key, v);
  };
  const out = { count: 0, totalFen: 0n, byFund: new Map(), byCategory: new Map() };
  for (const body of bodies) {
    const fen = BigInt(body.amount_fen);
    out.count += 1;
    out.totalFen += fen;
    add(out.byFund, body.fund, fen);
    add(out.byCategory, body.category, fen);
  }
  return out;
}

/**
 * Mounts the import section. `ctx` = {t(key, vars), fundName(id),
 * catName(id), onCommitted()}: the page's words and names, and what to
 * refresh after a commit.
 */
export function mountImport(ctx) {
  const { t } = ctx;
  const S = {
    ledger: null,
    record: null, // the kept key, when it may propose income
    keyState: 'loading', // loading | none | not-income | income: for the section's data-key
    phase: 'idle', // idle | reading | preview | signing | done | error
    fileName: '',
    preview: null, // {encoding, rows (checked), warnings}
    error: null, // {code, rows?, bad_rows?, line?, column?, text?}
    result: null, // {recorded, already, first, last}
  };

  const section = () => document.getElementById(SECTION);

  function errorText(code, vars = {}) {
    return t(ERROR_CODES.has(code) ? `import.err.${code}` : 'import.err.other', { code, ...vars });
  }

  function columnName(column) {
    return column ? t(`import.col.${column}`) : '';
  }

  function rowProblem(r) {
    const code = ROW_CODES.has(r.code) ? r.code : 'other';
    return t(`import.row.${code}`, { column: columnName(r.column) });
  }

  function newRows() {
    return S.preview ? S.preview.rows.filter((r) => r.status === 'new') : [];
  }

  async function refreshKey() {
    if (!S.ledger || !signingAvailable()) {
      S.record = null;
      S.keyState = 'none';
      return;
    }
    const record = await loadKey(S.ledger.origin);
    S.record = record && mayProposeIncome(S.ledger, record) ? record : null;
    S.keyState = !record ? 'none' : S.record ? 'income' : 'not-income';
  }

  function render() {
    const el = section();
    if (!el) return;
    el.dataset.key = S.keyState;
    if (!S.record) {
      el.hidden = true;
      el.replaceChildren();
      return;
    }
    el.hidden = false;
    const input = h('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv', onchange: onFile, disabled: S.phase === 'reading' || S.phase === 'signing' });
    mount(
      SECTION,
      h('h2', { tabindex: '-1' }, t('import.title')),
      h('p', { class: 'small muted' }, t('import.help', { key: S.record.name })),
      h('label', { class: 'import-pick', for: 'import-file' }, t('import.choose')),
      input,
      renderBody(),
    );
  }

  function renderBody() {
    switch (S.phase) {
      case 'reading':
        return h('p', { id: 'import-status', class: 'muted', 'aria-live': 'polite' }, t('import.reading', { file: S.fileName }));
      case 'signing':
        return h('p', { id: 'import-status', class: 'muted', 'aria-live': 'polite' }, t('import.signing', { count: newRows().length }));
      case 'error':
        return renderError();
      case 'preview':
        return renderPreview();
      case 'done':
        return renderDone();
      default:
        return null;
    }
  }

  function renderError() {
    const e = S.error;
    const rows = Array.isArray(e.rows) ? e.rows : [];
    const bad = Number.isSafeInteger(e.bad_rows) ? e.bad_rows : rows.length;
    return h(
      'div',
      { id: 'import-error', class: 'alert', role: 'alert', 'data-code': e.code, 'data-file': S.fileName },
      h('p', {}, errorText(e.code, { count: bad, line: e.line ?? '', column: columnName(e.column), text: e.text ?? '', number: e.column_number ?? '' })),
      rows.length
        ? h(
            'ul',
            { id: 'import-bad-rows' },
            rows.map((r) => h('li', { 'data-line': String(r.line), 'data-code': String(r.code) }, t('import.bad-row', { line: r.line, reason: rowProblem(r) }))),
          )
        : null,
      bad > rows.length ? h('p', { class: 'small' }, t('import.more-rows', { count: bad - rows.length })) : null,
      h('p', { class: 'small' }, t('import.nothing-recorded')),
    );
  }

  function totalsTable(totals) {
    const line = (label, v) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num' }, t('import.rows-count', { count: v.count })), h('td', { class: 'num' }, yuan(v.fen)));
    return h(
      'table',
      { id: 'import-totals', class: 'import-totals' },
      h('caption', {}, t('import.totals')),
      h('tbody', {}, [
        h('tr', { class: 'total' }, h('th', { scope: 'row' }, t('import.total')), h('td', { class: 'num' }, t('import.rows-count', { count: totals.count })), h('td', { class: 'num', id: 'import-total', 'data-fen': String(totals.totalFen) }, yuan(totals.totalFen))),
        h('tr', {}, h('th', { colspan: '3', class: 'sub' }, t('import.by-fund'))),
        [...totals.byFund].map(([fund, v]) => {
          const tr = line(ctx.fundName(fund), v);
          tr.setAttribute('data-fund', fund);
          tr.setAttribute('data-fen', String(v.fen));
          return tr;
        }),
        h('tr', {}, h('th', { colspan: '3', class: 'sub' }, t('import.by-category'))),
        [...totals.byCategory].map(([cat, v]) => {
          const tr = line(ctx.catName(cat), v);
          tr.setAttribute('data-category', cat);
          tr.setAttribute('data-fen', String(v.fen));
          return tr;
        }),
      ]),
    );
  }

  function rowsTable(rows) {
    return h(
      'div',
      { class: 'import-rows' },
      h(
        'table',
        { id: 'import-rows' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('import.th.line')), h('th', { scope: 'col' }, t('import.th.payer')), h('th', { scope: 'col' }, t('import.th.period')), h('th', { scope: 'col' }, t('import.th.category')), h('th', { scope: 'col', class: 'num' }, t('import.th.amount')))),
        h(
          'tbody',
          {},
          rows.map((r) =>
            h(
              'tr',
              { 'data-line': String(r.line), 'data-status': r.status, 'data-fen': String(r.body.amount_fen) },
              h('td', { class: 'num' }, String(r.line)),
              h('td', {}, r.body.payer),
              h('td', {}, t('import.period-date', { period: r.body.period, date: r.body.date })),
              h('td', {}, ctx.catName(r.body.category)),
              h('td', { class: 'num' }, yuan(r.body.amount_fen), r.status === 'recorded' ? h('span', { class: 'small muted' }, ' ', t('import.recorded-mark')) : null),
            ),
          ),
        ),
      ),
    );
  }

  function renderPreview() {
    const p = S.preview;
    const fresh = newRows();
    const already = p.rows.length - fresh.length;
    const totals = totalsOf(fresh.map((r) => r.body));
    const warnings = Array.isArray(p.warnings) ? p.warnings : [];
    if (fresh.length === 0) {
      return h(
        'div',
        { id: 'import-preview', 'data-new': '0', 'data-already': String(already), 'data-file': S.fileName },
        h('p', { id: 'import-nothing-new', class: 'ok', role: 'status' }, t('import.nothing-new', { count: already })),
      );
    }
    return h(
      'div',
      { id: 'import-preview', 'data-new': String(fresh.length), 'data-already': String(already), 'data-file': S.fileName },
      h('p', {}, t('import.summary', { file: S.fileName, encoding: p.encoding, count: p.rows.length })),
      already ? h('p', { class: 'small' }, t('import.already', { count: already })) : null,
      totalsTable(totals),
      warnings.length
        ? h(
            'ul',
            { id: 'import-warnings', class: 'small' },
            warnings.map((w) => h('li', { 'data-line': String(w.line) }, t(w.code === 'identical' ? 'import.warn.identical' : 'import.warn.unusual-fund', { line: w.line, first: w.first_line ?? '', category: ctx.catName(w.category), fund: ctx.fundName(w.fund), usual: ctx.fundName(w.usual) }))),
          )
        : null,
      h('button', { type: 'button', id: 'import-confirm', class: 'primary', onclick: onConfirm }, t('import.confirm', { count: fresh.length })),
      h('button', { type: 'button', id: 'import-cancel', onclick: reset }, t('import.cancel')),
      rowsTable(p.rows),
    );
  }

  function renderDone() {
    const r = S.result;
    return h(
      'div',
      { id: 'import-result', class: 'ok', role: 'status', 'data-recorded': String(r.recorded), 'data-already': String(r.already) },
      h('p', {}, t('import.done', { count: r.recorded, first: r.first, last: r.last, total: yuan(r.totalFen) })),
      r.already ? h('p', { class: 'small' }, t('import.done-already', { count: r.already })) : null,
    );
  }

  function reset() {
    S.phase = 'idle';
    S.preview = null;
    S.error = null;
    S.result = null;
    render();
  }

  function fail(code, extra = {}) {
    S.phase = 'error';
    S.error = { code, ...extra };
    render();
    focusResult();
  }

  function focusResult() {
    const el = document.getElementById('import-error') || document.getElementById('import-preview') || document.getElementById('import-result');
    if (el) el.scrollIntoView({ block: 'nearest' });
  }

  async function onFile(ev) {
    const file = ev.target.files && ev.target.files[0];
    if (!file) return;
    S.fileName = file.name;
    S.preview = null;
    S.result = null;
    if (file.size > FILE_BYTES_MAX) return fail('too_large');
    S.phase = 'reading';
    render();
    let res;
    try {
      const bytes = await file.arrayBuffer();
      res = await fetch(`${BASE}/api/v1/import/preview`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: bytes, cache: 'no-store' });
    } catch {
      return fail('network');
    }
    const answer = await res.json().catch(() => null);
    if (!res.ok) {
      const error = (answer && answer.error) || { code: 'malformed' };
      return fail(String(error.code), error);
    }
    const checked = await checkPreview(answer, S.ledger);
    if (!checked.ok) return fail('unchecked', { line: checked.line });
    S.preview = { encoding: answer.encoding, rows: checked.rows, warnings: answer.warnings };
    S.phase = 'preview';
    render();
    focusResult();
  }

  async function onConfirm() {
    const fresh = newRows();
    if (!fresh.length || !S.record) return;
    S.phase = 'signing';
    render();
    let res;
    try {
      const proposals = [];
      for (const r of fresh) {
        // The bytes signed are the bytes shown: checked in checkPreview, and again here.
        if (jcs(r.body) !== r.bodyJcs) return fail('unchecked', { line: r.line });
        proposals.push({ body: r.bodyJcs, signatures: [await signBody(S.record, r.bodyJcs)] });
      }
      res = await fetch(`${BASE}/api/v1/proposals/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proposals }), cache: 'no-store' });
    } catch {
      return fail('network');
    }
    const answer = await res.json().catch(() => null);
    if (!res.ok) {
      const error = (answer && answer.error) || { code: 'malformed' };
      // The batch names a refused proposal `proposals[i]:`; say it by the file's line.
      const m = /^proposals\[(\d+)\]/.exec(String(error.message || ''));
      const row = m ? fresh[Number(m[1])] : null;
      return fail(String(error.code), row ? { line: row.line, rows: [{ line: row.line, code: String(error.code), column: null }] } : {});
    }
    const seqs = ((answer && answer.results) || []).map((r) => r.seq).filter(Number.isSafeInteger);
    S.result = {
      recorded: seqs.length,
      already: S.preview.rows.length - fresh.length,
      first: seqs.length ? Math.min(...seqs) : '',
      last: seqs.length ? Math.max(...seqs) : '',
      totalFen: totalsOf(fresh.map((r) => r.body)).totalFen,
    };
    S.phase = 'done';
    render();
    focusResult();
    if (ctx.onCommitted) ctx.onCommitted();
  }

  async function load() {
    try {
      const res = await fetch(`${BASE}/api/v1/ledger`, { cache: 'no-store' });
      if (!res.ok) return;
      S.ledger = await res.json();
      await refreshKey();
      render();
    } catch (e) {
      if (ctx.reportError) ctx.reportError(e);
    }
  }

  // The page's language is switched by app.js, which sets <html lang>; a
  // key made or imported in the signing view changes that section's DOM.
  // Either re-renders this section, reading the kept key again.
  const again = () => {
    refreshKey()
      .then(render)
      .catch((e) => ctx.reportError && ctx.reportError(e));
  };
  new MutationObserver(again).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  const sign = document.getElementById('sign-section');
  if (sign) new MutationObserver(again).observe(sign, { childList: true });
  load();
  return { render, load };
}

/** Whether key `record` is, in the roles in force, a member of a role the income rule names. */
export function mayProposeIncome(ledger, record) {
  const income = (ledger.rules && ledger.rules.income) || [];
  for (const role of income) {
    const def = (ledger.roles || {})[role];
    if (def && (def.keys || []).some((k) => k.name === record.name && k.public_key === record.public_key)) return true;
  }
  return false;
}

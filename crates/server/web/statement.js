// The check of a notice-board statement (公示). The paper's QR code opens
// the page with ?statement=<period>&size=<N>&code=<digest>; this module
// verifies the whole log against the log key (worker.js verifyLedger:
// every leaf, signature, rule, and the root against the signed
// checkpoint), then re-derives every figure the paper prints from the
// first N leaves, and shows them with their digest.
//
// Trust: only the log key (the one pinned in this browser, else the one
// the server names, whose fingerprint the resident compares with the
// notice board). The figures and the digest follow docs/format.md
// ("Notice-board statement"), the same rules as the Rust library's
// crates/report/src/statement.rs: a resident compares one code.
//
// Test hooks: #statement-section carries data-status (running, match,
// differs, unchecked, failed), data-digest (the page's digest) and
// data-size.

import { VerifyError, fromHex, jcs, parseVkey, sha256, toHex, utf8 } from './verify.js';
import { committeeConfirmation } from './confirm.js';
import { decodeLeaf, replay, stateRoot } from './replay.js';
import { bundlesCovering, parseBundle } from './tlog.js';
import { verifyLedger } from './worker.js';
import { translate, hasString } from './strings.js';
import { h } from './dom.js';
import { dayText, yuan, percent, groupHex, countText } from './format.js';
import { pinKey } from './base.js';

export const FIGURES_FORMAT = 'feeledger-statement/1';
export const ARREARS_CATEGORY = 'property_fee_arrears';
export const DIGEST_HEX_DIGITS = 16;
const TRANSFER_CATEGORY = 'transfer';
const MAINTENANCE_FUND = 'maintenance';
const PUBLIC_REVENUE_FUND = 'public_revenue';
const PIN_KEY = pinKey();
const COMMON_SOURCES = ['parking', 'advertising', 'venue_rental', 'interest', 'other'];
const LINE_ORDER = ['property_fee', ARREARS_CATEGORY, ...COMMON_SOURCES];

/** `2025-12`, `2025-Q4` or `2025` -> {text, first, last} months ("YYYY-MM"), or null. */
export function parsePeriod(text) {
  let m = /^(\d{4})$/.exec(text);
  const okYear = (y) => y >= 2000 && y <= 9999;
  if (m && okYear(Number(m[1]))) return { text, first: `${m[1]}-01`, last: `${m[1]}-12` };
  m = /^(\d{4})-[Qq]([1-4])$/.exec(text);
  if (m && okYear(Number(m[1]))) {
    const q = Number(m[2]);
    const mm = (n) => String(n).padStart(2, '0');
    return { text: `${m[1]}-Q${q}`, first: `${m[1]}-${mm(q * 3 - 2)}`, last: `${m[1]}-${mm(q * 3)}` };
  }
  m = /^(\d{4})-(\d{2})$/.exec(text);
  if (m && okYear(Number(m[1])) && Number(m[2]) >= 1 && Number(m[2]) <= 12) return { text, first: text, last: text };
  return null;
}

// [month, fund, category, income, spending] of a money body; `sign` -1 undoes.
function postings(body, first, sign) {
  const month = body.date.slice(0, 7);
  const a = BigInt(sign) * BigInt(body.amount_fen ?? 0);
  switch (body.kind) {
    case 'income': {
      const category = body.category === 'property_fee' && body.period < first ? ARREARS_CATEGORY : body.category;
      return [[month, body.fund, category, a, 0n]];
    }
    case 'expenditure':
      return [[month, body.fund, body.category, 0n, a]];
    case 'transfer':
      return [
        [month, body.from_fund, TRANSFER_CATEGORY, 0n, a],
        [month, body.to_fund, TRANSFER_CATEGORY, a, 0n],
      ];
    default:
      return [];
  }
}

/**
 * The figures of `period` from `leaves` (leaf bytes from entry 0, already
 * verified), with the tree root `rootHex` of those leaves. Throws if a
 * reversal names no earlier money entry or the sums miss `balances`.
 */
export function statementFigures({ ledger, period, leaves, rootHex, balances }) {
  const { first, last } = period;
  const bodies = leaves.map((bytes) => decodeLeaf(bytes).leaf.body);
  const funds = {};
  for (const f of bodies[0].funds) funds[f.id] = { opening: 0n, income: 0n, spending: 0n, tin: 0n, tout: 0n, all: 0n };
  const income = new Map();
  const spending = new Map();
  const uses = [];
  const reversed = new Set();
  bodies.forEach((body, seq) => {
    let list;
    if (body.kind === 'reversal') {
      const target = body.target_seq < seq ? bodies[body.target_seq] : null;
      list = target ? postings(target, first, -1) : [];
      if (list.length === 0) throw new Error(`entry ${seq} reverses no earlier money entry`);
      reversed.add(body.target_seq);
    } else {
      list = postings(body, first, 1);
      const month = body.date.slice(0, 7);
      if (body.kind === 'expenditure' && body.fund === MAINTENANCE_FUND && month >= first && month <= last) {
        uses.push({ seq, body });
      }
    }
    for (const [month, fund, category, inc, spent] of list) {
      const s = funds[fund];
      if (!s) throw new Error(`entry ${seq} names fund ${fund}`);
      s.all += inc - spent;
      if (month < first) {
        s.opening += inc - spent;
      } else if (month <= last) {
        if (category === TRANSFER_CATEGORY) {
          s.tin += inc;
          s.tout += spent;
        } else {
          s.income += inc;
          s.spending += spent;
          const key = JSON.stringify([fund, category]);
          if (inc !== 0n) income.set(key, (income.get(key) || 0n) + inc);
          if (spent !== 0n) spending.set(key, (spending.get(key) || 0n) + spent);
        }
      }
    }
  });
  const ids = Object.keys(funds).sort();
  for (const id of ids) {
    if (funds[id].all !== BigInt(balances[id] ?? 0)) throw new Error(`the entries do not add up to fund ${id}'s balance`);
  }
  const lines = (map) =>
    [...map.entries()]
      .filter(([, fen]) => fen !== 0n)
      .map(([key, fen]) => {
        const [fund, category] = JSON.parse(key);
        return { fund, category, fen: fen.toString() };
      })
      .sort((a, b) => (a.fund < b.fund ? -1 : a.fund > b.fund ? 1 : a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  return {
    format: FIGURES_FORMAT,
    ledger,
    period: period.text,
    size: leaves.length,
    root: rootHex,
    funds: ids.map((id) => {
      const s = funds[id];
      return {
        fund: id,
        opening_fen: s.opening.toString(),
        income_fen: s.income.toString(),
        spending_fen: s.spending.toString(),
        transfers_in_fen: s.tin.toString(),
        transfers_out_fen: s.tout.toString(),
        closing_fen: (s.opening + s.income - s.spending + s.tin - s.tout).toString(),
      };
    }),
    income: lines(income),
    spending: lines(spending),
    maintenance_uses: uses.map(({ seq, body }) => ({
      seq,
      date: body.date,
      amount_fen: String(body.amount_fen),
      category: body.category,
      payee: body.payee,
      reversed: reversed.has(seq),
      vote: body.owners_approval
        ? {
            decision_ref: body.owners_approval.decision_ref,
            participating_area_bp: body.owners_approval.participating_area_bp,
            participating_headcount_bp: body.owners_approval.participating_headcount_bp,
            approving_area_bp: body.owners_approval.approving_area_bp,
            approving_headcount_bp: body.owners_approval.approving_headcount_bp,
          }
        : null,
    })),
  };
}

/** The first 16 hex digits of SHA-256 over the figures' canonical JSON. */
export async function statementDigest(figures) {
  return toHex(await sha256(utf8(jcs(figures)))).slice(0, DIGEST_HEX_DIGITS);
}

/**
 * Verifies the ledger at `base` against `logKey`, then derives the
 * statement of `periodText` at `size`. Returns {figures, digest, total,
 * state}; throws what verifyLedger throws, or an Error with `rule`
 * ('bad-period', 'beyond-log').
 */
export async function checkStatement({ base = '', logKey, periodText, size, fetch: doFetch = (...a) => fetch(...a) }) {
  const period = parsePeriod(periodText);
  if (!period || (size !== null && (!Number.isSafeInteger(size) || size < 1))) throw Object.assign(new Error('bad period'), { rule: 'bad-period' });
  // The entry bundles verifyLedger fetches are kept, to re-read the first
  // `size` leaves once the whole log has verified.
  const bundles = new Map();
  const keep = async (url, options) => {
    const res = await doFetch(url, options);
    const path = String(url).slice(base.length + 1);
    if (!path.startsWith('tile/entries/') || !res.ok) return res;
    const bytes = new Uint8Array(await res.arrayBuffer());
    bundles.set(path, bytes);
    return new Response(bytes, { status: res.status });
  };
  const { state: latest, result } = await verifyLedger({ base, logKey, fetch: keep });
  const total = result.checkpoint.size;
  // No size: a statement made in the page, from the checkpoint just verified.
  if (size === null) size = total;
  if (size > total) throw Object.assign(new Error('beyond the log'), { rule: 'beyond-log', total });
  const leaves = [];
  for (const b of bundlesCovering(0, total)) {
    if (leaves.length >= size) break;
    leaves.push(...parseBundle(bundles.get(b.path), b.width).slice(b.skip));
  }
  leaves.length = size;
  const state = await replay(null, leaves);
  const figures = statementFigures({
    ledger: state.origin ?? decodeLeaf(leaves[0]).leaf.body.ledger,
    period,
    leaves,
    rootHex: await stateRoot(state),
    balances: Object.fromEntries(Object.entries(state.balances).map(([k, v]) => [k, v.toString()])),
  });
  return { figures, digest: await statementDigest(figures), total, state, latest: { roles: latest.roles, size: total, root: fromHex(result.checkpoint.root) } };
}

/**
 * The paper's "cosigned" line for a statement of the first `size`
 * entries, as `feeledger statement` prints it: the committee's last
 * confirmation (confirm.js: the latest cosigned checkpoint, its
 * cosignatures checked with the keys the log registers and proven a
 * prefix of the log), or that there is none.
 */
async function confirmationLine({ logKey, latest, size, fetch: doFetch, t, lang }) {
  let c;
  try {
    c = await committeeConfirmation({ base: '', logKey, roles: latest.roles, latest: { size: latest.size, root: latest.root }, fetch: doFetch });
  } catch (e) {
    const none = e instanceof VerifyError && (e.reason === 'no-cosigned-checkpoint' || e.reason === 'no-committee-cosignature');
    return { status: none ? 'none' : 'failed', text: none ? t('st.confirmed-none') : t('st.confirmed-failed') };
  }
  const committee = c.cosigners.filter((x) => x.role === 'committee');
  // People by the display names the roles the page replayed sign (§7.1), as `feeledger statement` prints them.
  const names = [...committee, ...c.cosigners.filter((x) => x.role !== 'committee')].map((x) => x.displayName || x.name).join(t('trust.names-sep'));
  const vars = {
    size: countText(c.size),
    names,
    date: dayText(c.time < 1e12 ? c.time * 1000 : c.time, lang),
    more: countText(Math.max(0, size - c.size)),
  };
  const which = c.size < size ? 'before' : 'all';
  return { status: which, size: c.size, text: t(`st.confirmed-${which}${committee.length ? '' : '-other'}`, vars) };
}

// ---------------------------------------------------------------------------
// The section
// ---------------------------------------------------------------------------

function readPinned() {
  try {
    return localStorage.getItem(PIN_KEY);
  } catch {
    return null;
  }
}

function periodLabel(text, lang) {
  let m = /^(\d{4})-Q([1-4])$/.exec(text);
  if (m) return lang === 'zh' ? `${m[1]}年第${'一二三四'[Number(m[2]) - 1]}季度` : `Q${m[2]} ${m[1]}`;
  m = /^(\d{4})-(\d{2})$/.exec(text);
  if (m) return lang === 'zh' ? `${m[1]}年${Number(m[2])}月` : `${translate(lang, `st.month.${Number(m[2])}`)} ${m[1]}`;
  return lang === 'zh' ? `${text}年度` : text;
}

/**
 * Shows the statement check for ?statement=&size=[&code=] in a section
 * at the top of the page, in `lang`.
 */
export async function showStatement(params, lang) {
  const t = (key, vars) => translate(lang, key, vars);
  const catName = (id) => (id === ARREARS_CATEGORY ? t('st.arrears') : hasString(`cat.${id}`) ? t(`cat.${id}`) : id);
  const fundName = (id) => (hasString(`fund.${id}`) ? t(`fund.${id}`) : id);
  const app = document.getElementById('app');
  const section = h('section', { id: 'statement-section', class: 'card statement', 'data-status': 'running', tabindex: '-1' });
  app.prepend(section);
  const periodText = params.get('statement') || '';
  // Without `size` the page makes the statement itself, from the latest
  // checkpoint it verifies, to print (the same figures and code as
  // `feeledger statement`).
  const size = params.has('size') ? Number(params.get('size')) : null;
  const code = (params.get('code') || '').toLowerCase();
  document.body.classList.add('statement-mode');
  const show = (...kids) => {
    section.replaceChildren(h('h2', {}, t('st.title', { period: periodLabel(periodText, lang) })), ...kids);
  };
  show(h('p', { class: 'small' }, size === null ? t('st.running-latest') : t('st.running', { size: String(size) })));
  section.scrollIntoView({ block: 'start' });
  let got;
  try {
    const ledger = await (await fetch('api/v1/ledger', { cache: 'no-store' })).json();
    const logKey = readPinned() || ledger.log_key;
    const relative = (url, o) => fetch(url.replace(/^\//, ''), o);
    got = await checkStatement({ base: '', logKey, periodText, size, fetch: relative });
    got.confirmation = await confirmationLine({ logKey, latest: got.latest, size: got.figures.size, fetch: relative, t, lang });
    const key = await parseVkey(logKey);
    got.fingerprint = `${groupHex(key.keyId)} / ${groupHex(toHex((await sha256(utf8(logKey))).subarray(0, 8)))}`;
  } catch (e) {
    section.setAttribute('data-status', 'failed');
    const why =
      e.rule === 'bad-period'
        ? t('st.bad-period')
        : e.rule === 'beyond-log'
          ? t('st.beyond', { size: String(size), total: String(e.total) })
          : t('st.failed', { what: e.seq !== undefined && e.seq !== null ? t('st.failed-entry', { seq: String(e.seq) }) : '' });
    show(h('p', { class: 'alert', role: 'alert' }, '✗ ', why));
    return;
  }
  const { figures, digest } = got;
  section.setAttribute('data-digest', digest);
  section.setAttribute('data-size', String(figures.size));
  const status = code ? (code === digest ? 'match' : 'differs') : 'unchecked';
  section.setAttribute('data-status', status);
  const verdict =
    status === 'match'
      ? h('p', { class: 'ok-text big', id: 'statement-verdict' }, t('st.match'), ' ✓')
      : status === 'differs'
        ? h('p', { class: 'alert', role: 'alert', id: 'statement-verdict' }, '✗ ', t('st.differs', { paper: groupHex(code) }))
        : h('p', { id: 'statement-verdict' }, t('st.compare'));
  const row = (...cells) => h('tr', {}, ...cells);
  const num = (fen) => h('td', { class: 'num' }, yuan(fen));
  const table = (id, head, rows) => h('table', { class: 'statement-table', id }, h('tr', {}, ...head.map((x, i) => h('th', { class: i === head.length - 1 || id === 'st-balances' ? 'num' : '' }, x))), ...rows);
  const lineRows = (lines, withSources) => {
    const all = lines.map((l) => ({ ...l }));
    if (withSources && figures.funds.some((f) => f.fund === PUBLIC_REVENUE_FUND)) {
      for (const c of COMMON_SOURCES) {
        if (!all.some((l) => l.fund === PUBLIC_REVENUE_FUND && l.category === c)) all.push({ fund: PUBLIC_REVENUE_FUND, category: c, fen: '0' });
      }
    }
    const order = (c) => (LINE_ORDER.includes(c) ? LINE_ORDER.indexOf(c) : 99);
    all.sort((a, b) => (a.fund < b.fund ? -1 : a.fund > b.fund ? 1 : order(a.category) - order(b.category)));
    const total = all.reduce((s, l) => s + BigInt(l.fen), 0n);
    return [
      ...all.map((l) => row(h('td', {}, fundName(l.fund)), h('td', {}, catName(l.category)), num(l.fen))),
      h('tr', { class: 'total' }, h('td', { colspan: '2' }, t('st.total')), num(total)),
    ];
  };
  const uses = figures.maintenance_uses.length
    ? figures.maintenance_uses.map((u) =>
        row(
          h('td', {}, u.date),
          h('td', {}, catName(u.category), u.reversed ? ` (${t('st.reversed')})` : ''),
          h('td', {}, u.payee),
          num(u.amount_fen),
          h(
            'td',
            { class: 'small' },
            u.vote
              ? t('st.vote', {
                  ref: u.vote.decision_ref,
                  pa: percent(u.vote.participating_area_bp),
                  ph: percent(u.vote.participating_headcount_bp),
                  aa: percent(u.vote.approving_area_bp),
                  ah: percent(u.vote.approving_headcount_bp),
                })
              : t('st.no-vote'),
          ),
        ),
      )
    : [row(h('td', { colspan: '5' }, t('st.none')))];
  show(
    verdict,
    h(
      'dl',
      { class: 'fp' },
      h('dt', {}, t('st.code')),
      h('dd', { class: 'fp-big', id: 'statement-digest' }, groupHex(digest)),
      h('dt', {}, t('st.basis')),
      h('dd', {}, t('st.basis-text', { size: String(figures.size), total: String(got.total) })),
      h('dt', {}, t('fp.title')),
      h('dd', { class: 'mono small' }, got.fingerprint),
      h('dt', {}, t('st.root')),
      h('dd', { class: 'mono small' }, figures.root),
      h('dt', {}, t('st.confirmed-label')),
      h('dd', { id: 'statement-confirmed', 'data-status': got.confirmation.status, 'data-size': got.confirmation.size === undefined ? null : String(got.confirmation.size), class: got.confirmation.status === 'failed' ? 'alert' : null }, got.confirmation.text),
    ),
    h('h3', {}, t('st.income')),
    table('st-income', [t('st.fund'), t('st.item'), t('st.amount')], lineRows(figures.income, true)),
    h('h3', {}, t('st.spending')),
    table('st-spending', [t('st.fund'), t('st.item'), t('st.amount')], lineRows(figures.spending, false)),
    h('h3', {}, t('st.maintenance')),
    table('st-maintenance', [t('st.date'), t('st.item'), t('st.payee'), t('st.amount'), t('st.vote-head')], uses),
    h('h3', {}, t('st.balances')),
    h(
      'div',
      { class: 'scroll' },
      table(
        'st-balances',
        [t('st.fund'), t('st.opening'), t('st.in'), t('st.out'), t('st.tin'), t('st.tout'), t('st.closing')],
        figures.funds.map((f) =>
          h('tr', { 'data-fund': f.fund }, h('td', {}, fundName(f.fund)), num(f.opening_fen), num(f.income_fen), num(f.spending_fen), num(f.transfers_in_fen), num(f.transfers_out_fen), num(f.closing_fen)),
        ),
      ),
    ),
    h('p', { class: 'small' }, t('st.how')),
    h('p', { class: 'statement-actions' }, h('button', { type: 'button', id: 'statement-print', onclick: () => window.print() }, t('st.print'))),
  );
}


// The residents' page: balances, a monthly chart, entries in plain words,
// "my payments" with receipts, pending proposals, the log key fingerprint,
// and verification in the browser. No build step, no CDN.
//
// This module is the app: its state, the API requests, and rendering of each
// section. Its parts are ES modules beside it: strings.js (the zh/en words),
// dom.js (element helpers), format.js (money, dates), chart.js (the monthly
// chart), verify.js (every check, against the log key), and sign.js with
// keys.js (a committee member's key in this browser, and co-signing).
//
// Trust: what the API serves is shown as the server states it; an amount or
// entry counts as checked only once verify.js has verified it, and cards
// show the verified bytes' amount when there are some.
//
// Money is integer fen from the API and is formatted with BigInt; it is
// never put through floating-point arithmetic.
//
// Two data sources, one page. From the server (the usual case) the page
// reads the API and checks what it shows. From a bucket the mirror wrote
// (base.js FROM_MIRROR: there is no API, only the log's objects) it reads
// `checkpoint` and `log.vkey`, replays the log (ledger-state.js, the same
// check as always) and shows only what the replay derived: the balances,
// the month totals, the community's name, funds and roles, and the newest
// MIRROR_ENTRIES entries for the list (`source` below). What only a server
// has (pending proposals, signing, proposing, enrolment, import, one
// entry's proof) is hidden, with one line saying where to find it.
//
// Test hooks: `#verify=<seq>` verifies one entry on load into
// `#verify-result`; `#verify-all` verifies the page into
// `#verify-all-result` (both carry data-status and data-step). `?lang=en`
// starts in English. <html data-app="ready"> once the first data rendered.

import { createVerifier, parseNote, parseCheckpoint, parseVkey, VerifyError, sha256, toHex, utf8, amountFen } from './verify.js';
import { translate, hasString, namesIn, personName, namesText, countWord, keyLabel } from './strings.js';
import { h, mount } from './dom.js';
import { yuan, percent, bytesText, timeText, dayText, dateText, monthText, groupHex, countText } from './format.js';
import { errorText } from './errors.js';
import { monthly, chartParts } from './chart.js';
import { createSigning } from './sign.js';
import { ledgerCheck, evidenceText, mark } from './ledger-state.js';
import { mountEnrol } from './enrol.js';
import { createProposing } from './propose.js';
import { mountImport } from './import.js';
import { committeeConfirmation } from './confirm.js';
import { LEDGER_BASE as BASE, FROM_MIRROR, pinKey } from './base.js';

const FUND_ORDER = ['operating', 'public_revenue', 'maintenance'];
const INCOME_CATEGORIES = ['property_fee', 'parking', 'advertising', 'venue_rental', 'interest', 'other'];
const EXPENSE_CATEGORIES = ['cleaning', 'security', 'greening', 'elevator', 'repairs', 'utilities', 'salaries', 'management_fee'];
const PAGE = 20;
/** From a bucket, the newest entries the replay hands back for the list (and its filters). */
const MIRROR_ENTRIES = 1000;
const PIN_KEY = pinKey();
const LANG_KEY = 'feeledger.lang';

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

const S = {
  lang: 'zh',
  ledger: null,
  balances: null,
  summary: null,
  checkpointText: null,
  newest: null,
  proposals: null,
  loadError: null,
  fingerprint: null, // {keyId, sha}
  pinned: null,
  chartFund: 'operating',
  list: { filters: { fund: '', category: '', month: '', payer: '' }, entries: [], next: null, loading: false, error: null, done: false },
  mine: { unit: '', entries: null, loading: false, error: null },
  entries: new Map(), // seq -> entry JSON as served
  results: new Map(), // seq -> verification result ({status:'running'} while running)
  pageResult: null,
  checkpointResult: null,
  // The committee's latest confirmation as confirm.js checked it: its
  // result ({size, time, cosigners, extendsLatest}), {none: true} when
  // nobody on the committee has cosigned, or {failed} when the check failed.
  confirmation: null,
  banner: null, // seq of #verify=<seq>
  // From a bucket: the replay's newest entries, newest first, once the
  // check verified (null before), and the run they came from.
  replayed: null,
  replayedFrom: null,
};

const verifier = createVerifier({ pinnedLogKey: readPinned() });

const signing = createSigning({
  t: (key, vars) => t(key, vars),
  lang: () => S.lang,
  ledger: () => S.ledger,
  fundName: (id) => fundName(id),
  catName: (id) => catName(id),
  roleName: (role) => roleName(role),
  getJson: (path) => getJson(path),
  reportError: (e) => reportError(e),
  // A co-signature that commits changes the balances and the pending list.
  onCommitted: () => {
    refreshAfterCommit().catch(reportError);
  },
});

if (!FROM_MIRROR) mountEnrol({ t: (key, vars) => t(key, vars), lang: () => S.lang, ledger: () => S.ledger, roleName: (role) => roleName(role), getJson: (path) => getJson(path), reportError: (e) => reportError(e), onCommitted: () => refreshAfterCommit().catch(reportError) });
// Proposing in the page (记一笔), for a kept key whose role may propose.
const proposing = createProposing({
  t: (key, vars) => t(key, vars),
  lang: () => S.lang,
  ledger: () => S.ledger,
  fundName: (id) => fundName(id),
  catName: (id) => catName(id),
  roleName: (role) => roleName(role),
  reportError: (e) => reportError(e),
  // A new proposal joins the pending lists (and an income may commit at once).
  onProposed: () => {
    refreshAfterCommit().catch(reportError);
    signing.load().catch(reportError);
  },
});
if (!FROM_MIRROR) mountImport({ t: (key, vars) => t(key, vars), fundName: (id) => fundName(id), catName: (id) => catName(id), reportError: (e) => reportError(e), onCommitted: () => refreshAfterCommit().catch(reportError) });

async function refreshAfterCommit() {
  const [balances, proposals] = await Promise.all([getJson('/api/v1/balances'), getAllProposals()]);
  S.balances = balances;
  S.proposals = proposals;
  renderBalances();
  renderProposals();
  // The new entry is checked too: a consistency proof and the new bundle.
  startCheck();
}

// The whole ledger, replayed in a worker (ledger-state.js); the balances
// and the chart show its numbers once verified.
function startCheck() {
  if (!S.ledger) return;
  ledgerCheck.start({ base: BASE, origin: S.ledger.origin, logKey: S.pinned || S.ledger.log_key, mirror: FROM_MIRROR, keep: FROM_MIRROR ? MIRROR_ENTRIES : 0 }).catch(reportError);
}

// The check's changes come in bursts (a run adopted replays the answers it
// already gave in one go, and a start sets its state twice): the sections
// they touch are drawn once a burst, after it.
let checkDrawQueued = false;
ledgerCheck.addEventListener('change', () => {
  if (checkDrawQueued) return;
  checkDrawQueued = true;
  queueMicrotask(() => {
    checkDrawQueued = false;
    if (FROM_MIRROR) takeReplayed();
    renderBalances();
    renderChart();
    renderTrust();
  });
});

function readPinned() {
  try {
    return localStorage.getItem(PIN_KEY);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function t(key, vars = {}) {
  return translate(S.lang, key, vars);
}

const fundName = (id) => namesIn(S.lang, S.ledger).fund(id);
const catName = (id) => namesIn(S.lang, S.ledger).category(id);
const roleName = (role) => namesIn(S.lang, S.ledger).role(role);

/** A refused API request: the path, the HTTP status and the API's `error` ({code, message, details}) if it sent one. */
class ApiFailure extends Error {
  constructor(path, status, error) {
    super(`${path}: ${status} ${error && error.message ? error.message : ''}`);
    this.path = path;
    this.status = status;
    this.error = error;
  }
}

async function api(path) {
  const res = await fetch(BASE + path, { cache: 'no-store' });
  if (!res.ok) {
    let error = null;
    try {
      const j = await res.json();
      if (j && j.error && typeof j.error.code === 'string') error = j.error;
    } catch {
      // not JSON
    }
    throw new ApiFailure(path, res.status, error);
  }
  return res;
}

/** A failed load in the page's language: the API's error in words, never its English message. */
function failureText(e) {
  if (e instanceof ApiFailure) return e.error ? serverErrorText(e.error) : t('r.http', { status: e.status, path: e.path });
  if (e instanceof TypeError) return t('err.network');
  return t('err.unknown');
}

const getJson = async (path) => (await api(path)).json();

/** Every pending proposal: the list comes a page at a time, each naming the
 * next (`next`, given back as `after`); up to 1,000 may be pending. */
async function getAllProposals() {
  const all = [];
  let after = null;
  // At most 1,000 pending, 500 a page: a server that sends more pages than that is not followed.
  for (let page = 0; page < 3; page++) {
    const res = await getJson(`/api/v1/proposals?limit=500${after ? `&after=${after}` : ''}`);
    all.push(...(res.proposals || []));
    if (typeof res.next !== 'string' || !/^[0-9a-f]{64}$/.test(res.next)) break;
    after = res.next;
  }
  return all;
}
const getText = async (path) => (await api(path)).text();

// ---------------------------------------------------------------------------
// The data source: the server's API, or the replayed log (from a bucket)
// ---------------------------------------------------------------------------

/** Whether `entry` passes the list's filters, as the API's filters do. */
function passesFilters(entry, f) {
  const b = entry.leaf.body;
  if (f.fund && ![b.fund, b.from_fund, b.to_fund].includes(f.fund)) return false;
  if (f.category && b.category !== f.category) return false;
  if (f.month && !(typeof b.date === 'string' && b.date.startsWith(`${f.month}-`))) return false;
  if (f.payer && b.payer !== f.payer) return false;
  return true;
}

// Where the entry lists come from. From the server: the API's pages. From a
// bucket: the entries the replay verified (S.replayed), filtered and paged
// here; `next` is then an index into the filtered list.
const source = FROM_MIRROR
  ? {
      async entries(filters, from) {
        const all = (S.replayed || []).filter((e) => passesFilters(e, filters));
        const start = from === null || from === undefined ? 0 : from;
        const next = start + PAGE < all.length ? start + PAGE : null;
        return { entries: all.slice(start, start + PAGE), next };
      },
      async payerEntries(unit) {
        return (S.replayed || []).filter((e) => e.leaf.body.payer === unit);
      },
    }
  : {
      async entries(filters, from) {
        return getJson(listQuery(filters, from));
      },
      async payerEntries(unit) {
        const all = [];
        let from = null;
        for (let i = 0; i < 10; i++) {
          const page = await getJson(`/api/v1/payers/${encodeURIComponent(unit)}/entries?order=desc&limit=500${from === null ? '' : `&from=${from}`}`);
          all.push(...page.entries);
          if (page.next === null || page.next === undefined) break;
          from = page.next;
        }
        return all;
      },
    };

/**
 * From a bucket: once a run of the check verified, what the log says of
 * itself replaces the placeholder ledger (name, funds, roles), and its
 * newest entries fill the lists. Each entry in the shape the API serves
 * one ({seq, leaf, reversed_by, signers}); `signers` is left out, as the
 * cards name a signer's role from the roles in force.
 */
function takeReplayed() {
  const c = ledgerCheck.status();
  if (c.state !== 'verified' || !c.recent || S.replayedFrom === c.recent) return;
  S.replayedFrom = c.recent;
  S.ledger = { ...S.ledger, ...c.ledger };
  const by = c.reversedBy || {};
  S.replayed = c.recent.map((r) => ({ seq: r.seq, leaf: r.leaf, reversed_by: Object.hasOwn(by, r.seq) ? by[r.seq] : null, signers: null })).reverse();
  for (const e of S.replayed) S.entries.set(e.seq, e);
  renderChrome();
  loadList(true).catch(reportError);
  if (S.mine.unit) loadMine(S.mine.unit).catch(reportError);
}

function reportError(e) {
  const text = e && e.stack ? e.stack : String(e);
  const box = document.getElementById('js-errors');
  if (box) box.append(document.createTextNode(`${text}\n`));
  console.error(e);
}

// ---------------------------------------------------------------------------
// Rendering: header, navigation, footer
// ---------------------------------------------------------------------------

function renderChrome() {
  document.documentElement.lang = t('html.lang');
  const name = (S.ledger && S.ledger.name) || 'feeledger';
  document.title = t('doc.title', { name });
  const skip = document.getElementById('skip');
  if (skip) skip.textContent = t('skip');
  mount(
    'top',
    h(
      'div',
      { class: 'top-row' },
      h('h1', { id: 'ledger-name' }, name),
      h(
        'button',
        { type: 'button', class: 'lang', lang: S.lang === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('lang.switch-label'), onclick: switchLang },
        t('lang.switch'),
      ),
    ),
    h('p', { class: 'subtitle' }, t('app.subtitle')),
    S.loadError ? h('p', { class: 'alert', role: 'alert' }, t('app.load-failed', { message: S.loadError })) : null,
  );
  renderNav();
  mount(
    'footer',
    h('p', {}, t('footer.how')),
    // The statement and the API description are the server's.
    FROM_MIRROR ? null : statementForm(),
    h('p', {}, FROM_MIRROR ? null : [h('a', { href: `${BASE}/api/openapi.json` }, t('footer.api')), ' · '], h('a', { href: `${BASE}/checkpoint` }, t('footer.checkpoint'))),
  );
}

// The page's own notice-board statement (statement.js): a period opens
// ?statement=PERIOD, made from the latest checkpoint the page verifies.
function statementForm() {
  const input = h('input', { id: 'statement-period', name: 'statement', required: '', placeholder: '2025-12', pattern: '\\d{4}(-(0[1-9]|1[0-2])|-[Qq][1-4])?', size: '8', 'aria-label': t('st.period-label') });
  const form = h('form', { id: 'statement-form', class: 'statement-form', method: 'get', action: `${BASE}/` }, h('label', { for: 'statement-period' }, t('st.make'), ' '), input, ' ', h('button', { type: 'submit' }, t('st.open')));
  if (S.lang === 'en') form.append(h('input', { type: 'hidden', name: 'lang', value: 'en' }));
  return h('div', {}, form, h('p', { class: 'small' }, t('st.make-help')));
}

// Sections shown only to a kept key that may use them: their links too.
const NAV_WHEN_SHOWN = ['propose-section', 'import-section'];

function renderNav() {
  const nav = document.getElementById('nav');
  if (nav) nav.setAttribute('aria-label', t('nav.label'));
  mount(
    'nav',
    h(
      'ul',
      {},
      [
        ['balances-section', 'nav.balances'],
        ['trust-section', 'nav.trust'],
        ['chart-section', 'nav.chart'],
        ['mine-section', 'nav.mine'],
        ['proposals-section', 'nav.proposals'],
        ['sign-section', 'nav.sign'],
        ['propose-section', 'nav.propose'],
        ['import-section', 'nav.import'],
        ['entries-section', 'nav.entries'],
      ]
        // A bucket has no proposals and no signing: no links to them.
        .filter(([id]) => !FROM_MIRROR || (id !== 'proposals-section' && id !== 'sign-section'))
        .filter(([id]) => !NAV_WHEN_SHOWN.includes(id) || document.getElementById(id)?.hidden === false)
        .map(([id, key]) => h('li', {}, h('a', { href: `#${id}`, onclick: (ev) => jump(ev, id) }, t(key)))),
    ),
  );
}

// The proposing and import sections appear once a kept key may use them
// (propose.js, import.js): the nav follows.
if (typeof MutationObserver !== 'undefined') {
  const followed = new MutationObserver(() => renderNav());
  for (const id of NAV_WHEN_SHOWN) {
    const el = document.getElementById(id);
    if (el) followed.observe(el, { attributes: true, attributeFilter: ['hidden'] });
  }
}

// In-page links would replace the #verify=… hash; scroll instead.
function jump(ev, id) {
  ev.preventDefault();
  const el = document.getElementById(id);
  if (el) {
    el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    el.focus({ preventScroll: true });
  }
}

function switchLang() {
  S.lang = S.lang === 'zh' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, S.lang);
  } catch {
    // private mode
  }
  renderAll();
}

// ---------------------------------------------------------------------------
// Balances
// ---------------------------------------------------------------------------

function fundIds() {
  const ids = S.ledger ? (S.ledger.funds || []).map((f) => f.id) : [];
  const known = FUND_ORDER.filter((id) => ids.includes(id) || (S.balances && id in S.balances.balances_fen));
  const others = ids.filter((id) => !known.includes(id));
  return [...known, ...others];
}

/** The replay's summary once the ledger is verified, else null. */
function checkedSummary() {
  const c = ledgerCheck.status();
  return c.state === 'verified' && c.summary ? c.summary : null;
}


/** The check's failure in plain words: the entry (第 N 笔) and why. */
function checkFailureText(f) {
  const step = f && f.step;
  const why = hasString(`ledger.why.${step}`) ? t(`ledger.why.${step}`) : t('ledger.why.internal');
  return f && f.seq !== null && f.seq !== undefined ? t('ledger.failed-entry', { seq: countText(f.seq), why }) : why;
}

function renderBalances() {
  renderAlarm();
  const c = ledgerCheck.status();
  const checked = checkedSummary();
  if (!S.balances && !checked) {
    // From a bucket there are no served numbers to show meanwhile: the
    // check's state alone, and on failure which entry and why.
    const why = FROM_MIRROR && c.state === 'failed' ? c.failure || {} : null;
    mount(
      'balances-section',
      h('h2', { tabindex: '-1' }, t('balances.title')),
      FROM_MIRROR && c.state !== 'idle'
        ? h(
            'div',
            {
              id: 'ledger-check',
              role: 'status',
              'aria-live': 'polite',
              'data-state': c.state,
              'data-step': why ? why.step || null : null,
              'data-seq': why && why.seq !== null && why.seq !== undefined ? String(why.seq) : null,
            },
            why
              ? h('p', { class: 'ledger-check alert' }, t('mirror.failed'), t('ledger.gap'), checkFailureText(why))
              : h('p', { class: 'ledger-check muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), c.progress ? t('mirror.running-progress', { done: countText(c.progress.size), total: countText(c.progress.total) }) : t('mirror.running')),
          )
        : h('p', { class: 'muted' }, t('app.loading')),
    );
    return;
  }
  // Verified numbers are the replay's; until then the server's, marked.
  const shown = checked || S.balances;
  const fen = shown.balances_fen || {};
  const served = S.balances ? S.balances.balances_fen || {} : {};
  let total = 0n;
  const differs = [];
  const cards = fundIds().map((id) => {
    const v = fen[id] ?? 0;
    total += BigInt(v);
    if (checked && S.balances && S.balances.size === checked.size && BigInt(served[id] ?? 0) !== BigInt(v)) {
      differs.push(t('ledger.differs-fund', { fund: fundName(id), served: yuan(served[id] ?? 0), checked: yuan(v) }));
    }
    return h(
      'div',
      { class: `fund fund-${id}`, id: `balance-${id}`, 'data-fund': id, 'data-fen': String(v), 'data-verified': checked ? 'true' : 'false' },
      h(
        'div',
        { class: 'fund-name' },
        fundName(id),
        h('div', { class: `fund-check ${checked ? 'ok-text' : 'unchecked'}` }, checked ? t('ledger.badge-checked') : t('ledger.badge-unchecked')),
      ),
      h('div', { class: 'fund-amount' }, yuan(v)),
    );
  });
  let line;
  if (c.state === 'verified') {
    line = h('p', { class: 'ledger-check ok-text' }, t('ledger.verified', { size: countText(c.size) }));
  } else if (c.state === 'failed') {
    line = h('p', { class: 'ledger-check alert' }, t('ledger.failed'), t('ledger.gap'), checkFailureText(c.failure));
  } else if (c.progress) {
    line = h('p', { class: 'ledger-check muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('ledger.running-progress', { done: countText(c.progress.size), total: countText(c.progress.total) }));
  } else {
    line = h('p', { class: 'ledger-check muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('ledger.running'));
  }
  const failure = c.state === 'failed' ? c.failure || {} : {};
  mount(
    'balances-section',
    h('h2', { tabindex: '-1' }, t('balances.title')),
    h(
      'div',
      {
        id: 'ledger-check',
        role: 'status',
        'aria-live': 'polite',
        'data-state': c.state,
        'data-size': checked ? String(c.size) : null,
        'data-step': failure.step || null,
        'data-seq': failure.seq === null || failure.seq === undefined ? null : String(failure.seq),
      },
      line,
    ),
    h('div', { class: 'funds' }, cards),
    differs.length ? h('p', { class: 'alert', id: 'ledger-differs' }, t('ledger.differs'), t('ledger.gap'), differs.join(t('ledger.list-sep'))) : null,
    h(
      'p',
      { class: 'muted small' },
      `${t('balances.total')} ${yuan(total)} · ${t('balances.note', { size: countText(shown.size) })}`,
    ),
  );
}

// The witness alarm: a full-width red banner at the top of the page when
// the server signed a history that does not extend the one kept here.
function renderAlarm() {
  const alarm = ledgerCheck.status().alarm;
  let el = document.getElementById('ledger-alarm');
  if (!alarm) {
    if (el) el.remove();
    return;
  }
  if (!el) {
    el = h('div', { id: 'ledger-alarm', class: 'ledger-alarm', role: 'alert' });
    document.body.prepend(el);
  }
  const text = evidenceText(alarm);
  const old = el.getAttribute('data-href');
  if (old) URL.revokeObjectURL(old);
  const href = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  el.setAttribute('data-href', href);
  el.setAttribute('data-kind', alarm.kind);
  const name = `feeledger-evidence-${alarm.origin.replace(/[^A-Za-z0-9.-]+/g, '_')}-${alarm.kept.size}-${alarm.served.size}.txt`;
  el.replaceChildren(
    h(
      'div',
      { class: 'wrap' },
      h('h2', {}, t('alarm.title')),
      h('p', {}, t(`alarm.${alarm.kind}`, { kept: countText(alarm.kept.size), served: countText(alarm.served.size) })),
      h('p', {}, t('alarm.keep')),
      h('a', { class: 'button', id: 'ledger-evidence', href, download: name }, t('alarm.download')),
    ),
  );
}

// ---------------------------------------------------------------------------
// Trust: checkpoint, cosigners, fingerprint, verify page
// ---------------------------------------------------------------------------

/**
 * Whom key `keyName` stands for (its signed display name, §7.1), for
 * people. The roles come, most fitting first, from the log's governance as
 * the checkpoint check verified it: in force at entry `seq` when one is
 * given, then in force now; then this phone's replay of every entry (in
 * force now); then the server's word (in force now). The first role set
 * holding the key decides; without one, the key name.
 */
function nameOfKey(keyName, seq = null) {
  const ctx = S.checkpointResult && S.checkpointResult.ok ? S.checkpointResult.context : null;
  const rolesList = [];
  if (ctx && Number.isSafeInteger(seq)) rolesList.push(ctx.rolesAt(seq).roles);
  if (ctx) rolesList.push(ctx.epochs[ctx.epochs.length - 1].roles);
  const c = ledgerCheck.status();
  if (c.state === 'verified' && c.roles) rolesList.push(c.roles);
  // Keys of earlier role sets (a member who stepped down) keep their names.
  if (ctx) for (const ep of [...ctx.epochs].reverse()) rolesList.push(ep.roles);
  if (S.ledger) rolesList.push(S.ledger.roles);
  return personName(keyName, rolesList);
}

function roleOfKeyName(name) {
  if (!S.ledger) return null;
  for (const [role, def] of Object.entries(S.ledger.roles || {})) {
    if ((def.keys || []).some((k) => k.name === name)) return role;
  }
  for (const w of S.ledger.witness_keys || []) {
    if (w.split('+')[0] === name) return 'witness';
  }
  return null;
}

function parsedCheckpoint(text = S.checkpointText) {
  if (!text) return null;
  try {
    const note = parseNote(text);
    return { note, cp: parseCheckpoint(note.text) };
  } catch {
    return null;
  }
}

// The trust section leads with one or two plain sentences for an owner:
// how many entries since when, whether this phone has checked them all
// (ledger-state.js), and which committee members confirmed how many, when.
// Words like 检查点 or 根哈希 stay in the technical details, one tap away.
// A sentence says "checked" or "confirmed" only for what the page checked:
// the committee's confirmation is named once its cosignatures verified
// against the roles the log put in force.
function renderTrust() {
  mount(
    'trust-section',
    h('h2', { tabindex: '-1' }, t('trust.title')),
    renderTrustLead(),
    renderFingerprint(),
    // Checking one listed entry asks the server for its proof; from a
    // bucket the whole ledger is checked instead (the lead says so).
    FROM_MIRROR ? null : h('p', { class: 'muted small' }, t('trust.verify-page-help')),
    FROM_MIRROR ? null : h('button', { type: 'button', class: 'primary', id: 'verify-page', onclick: () => verifyPage() }, t('trust.verify-page')),
    FROM_MIRROR ? null : renderPageResult(),
    renderTechnical(),
  );
}

/** Cosignature times are seconds (c2sp.org/tlog-cosignature); milliseconds pass as they are. */
function cosignatureMs(time) {
  return Number.isSafeInteger(time) && time < 1e12 ? time * 1000 : time;
}

/**
 * Checks the committee's latest confirmation (confirm.js) against the
 * checkpoint and roles the page verified, and keeps the answer in
 * S.confirmation for the lead. "None yet" is an answer, not a failure.
 */
async function checkConfirmation(verified) {
  const ctx = verified.context;
  const roles = ctx.epochs[ctx.epochs.length - 1].roles;
  try {
    S.confirmation = await committeeConfirmation({ base: BASE, logKey: ctx.logKey, roles, latest: { size: ctx.checkpoint.size, root: ctx.checkpoint.root } });
  } catch (e) {
    const none = e instanceof VerifyError && (e.reason === 'no-cosigned-checkpoint' || e.reason === 'no-committee-cosignature');
    S.confirmation = none ? { none: true } : { failed: e instanceof VerifyError ? { step: e.step, reason: e.reason, params: e.params } : { step: 'internal', reason: 'exception', params: { message: String(e) } } };
  }
  renderTrust();
}

function renderTrustLead() {
  const check = ledgerCheck.status();
  const parsed = parsedCheckpoint();
  const size = check.state === 'verified' ? check.size : parsed ? parsed.cp.size : null;
  const summary = checkedSummary() || S.summary;
  // The server's summary names its first month; the replay's lists every month.
  const first = summary && (summary.first_month || (summary.months && summary.months.length ? summary.months[0].month : null));
  const sentences = [];
  if (size !== null && size !== undefined) {
    sentences.push(
      h(
        'span',
        { id: 'trust-count', 'data-size': String(size) },
        first ? t('trust.lead.count', { since: monthText(first, S.lang), size: countText(size) }) : t('trust.lead.count-plain', { size: countText(size) }),
      ),
    );
  }
  if (check.state === 'verified') sentences.push(h('span', { class: 'ok-text', id: 'trust-checked' }, t('trust.lead.checked', { size: countText(check.size) })));
  else if (check.state === 'failed') sentences.push(h('span', { class: 'alert', id: 'trust-checked' }, t('trust.lead.check-failed', { why: checkFailureText(check.failure) })));
  else if (check.state === 'running') sentences.push(h('span', { class: 'muted', id: 'trust-checked' }, t('trust.lead.checking')));
  const lead = sentences.flatMap((x, i) => (i ? [' ', x] : [x]));

  const confirmation = S.confirmation;
  const cr = S.checkpointResult;
  let confirm;
  const attrs = { id: 'trust-confirm' };
  if (confirmation && confirmation.cosigners) {
    // People by the names the roles in force at the confirmed size sign;
    // their key names are in the technical details.
    const people = confirmation.cosigners.map((c) => nameOfKey(c.name, confirmation.size));
    const names = namesText(S.lang, people);
    attrs['data-size'] = String(confirmation.size);
    attrs['data-cosigners'] = confirmation.cosigners.map((c) => c.name).join(' ');
    attrs['data-people'] = people.join('\n');
    const parts = [
      t(people.length === 1 ? 'trust.lead.confirmed-one' : 'trust.lead.confirmed', {
        names,
        count: countWord(S.lang, people.length),
        date: dayText(cosignatureMs(confirmation.time), S.lang),
        size: countText(confirmation.size),
      }),
    ];
    if (size !== null && size > confirmation.size) parts.push(' ', t('trust.lead.confirmed-since', { more: countText(size - confirmation.size) }));
    confirm = h('p', attrs, parts);
  } else if (confirmation && confirmation.none) {
    attrs['data-none'] = 'true';
    confirm = h('p', attrs, t('trust.lead.no-confirm'));
  } else if (confirmation && confirmation.failed && confirmation.failed.step === 'consistency' && confirmation.failed.reason === 'inconsistent') {
    // The log today does not extend what the committee confirmed: a fork.
    Object.assign(attrs, { class: 'alert', role: 'alert', 'data-failed': 'consistency' });
    confirm = h('p', attrs, t('trust.lead.confirm-broken', { size: countText(confirmation.failed.params.from) }));
  } else if (confirmation && confirmation.failed) {
    Object.assign(attrs, { class: 'alert', 'data-failed': confirmation.failed.step });
    confirm = h('p', attrs, t('trust.lead.confirm-failed', { why: t(`step.${confirmation.failed.step}`) }));
  } else if (cr && !cr.ok) {
    Object.assign(attrs, { class: 'alert', 'data-failed': cr.failed.step });
    confirm = h('p', attrs, t('trust.lead.confirm-failed', { why: reasonText(cr.failed) }));
  } else if (FROM_MIRROR) {
    // The committee's cosigned checkpoints are kept by the server.
    Object.assign(attrs, { class: 'muted', 'data-mirror': 'true' });
    confirm = h('p', attrs, t('mirror.no-confirm'));
  } else {
    attrs.class = 'muted';
    confirm = h('p', attrs, t('trust.lead.confirm-checking'));
  }
  return h('div', { class: 'trust-lead', id: 'trust-lead', 'data-state': check.state }, lead.length ? h('p', { class: 'lead' }, lead) : null, confirm, h('p', { class: 'small' }, t('trust.lead.fingerprint')));
}

/** The keys behind the names in the lead's confirmation: "王建国（weiyuan-wang）、…". */
function confirmKeys() {
  const c = S.confirmation;
  if (!c || !c.cosigners) return null;
  const keys = c.cosigners.map((x) => {
    const person = nameOfKey(x.name, c.size);
    return person === x.name ? x.name : t('person.with-key', { name: person, key: x.name });
  });
  return h('p', { class: 'small', id: 'trust-confirm-keys' }, t('trust.confirm-keys', { keys: keys.join(t('trust.names-sep')) }));
}

/** The checkpoint, its signatures and the root: for those who want them, folded. */
function renderTechnical() {
  const verified = S.checkpointResult && S.checkpointResult.ok ? S.checkpointResult.context : null;
  // Once verified, show the very note the verifier checked (not the one
  // fetched at load), and tick a cosigner only for a line whose name and
  // key id verified.
  const parsed = parsedCheckpoint(verified ? verified.noteText : S.checkpointText);
  const verifiedIds = new Set(verified ? verified.cosignatures.map((c) => `${c.name}+${c.keyId}`) : []);
  const logName = S.ledger ? S.ledger.origin : '';

  let cpBlock;
  if (!parsed) {
    cpBlock = h('p', { class: 'muted' }, S.checkpointText === null ? t('app.loading') : t('r.note-format', { why: '' }));
  } else {
    const groups = new Map();
    for (const s of parsed.note.signatures) {
      if (s.name === logName) continue;
      const role = roleOfKeyName(s.name) || 'unknown';
      if (!groups.has(role)) groups.set(role, []);
      groups.get(role).push(s);
    }
    const order = ['company', 'committee', 'supervisor', 'witness', 'unknown'];
    const rows = order
      .filter((r) => groups.has(r))
      .map((role) => {
        const names = groups.get(role);
        const committeeTotal = role === 'committee' && S.ledger && S.ledger.roles.committee ? S.ledger.roles.committee.keys.length : 0;
        return h(
          'li',
          { 'data-role': role },
          h('span', { class: 'role' }, role === 'unknown' ? t('trust.unknown') : roleName(role)),
          role === 'committee' ? t('trust.committee-count', { have: names.length, total: committeeTotal }) : '',
          t('colon'),
          names.map((s, i) => {
            const ok = verifiedIds.has(`${s.name}+${s.keyId}`);
            const person = nameOfKey(s.name, parsed.cp.size);
            const label = person === s.name ? s.name : t('person.with-key', { name: person, key: s.name });
            return [i ? t('trust.names-sep') : '', h('span', { class: 'key-name', 'data-key': s.name, 'data-verified': ok ? 'true' : null }, label, ok ? ' ✓' : '')];
          }),
        );
      });
    const logSigned = parsed.note.signatures.some((s) => s.name === logName);
    const logRow = logSigned
      ? h(
          'li',
          { 'data-role': 'log', 'data-verified': verified ? 'true' : null },
          h('span', { class: 'role' }, t('trust.log-key-label')),
          ' ',
          t('trust.log-signature', { keyid: S.fingerprint && S.fingerprint.keyId ? groupHex(S.fingerprint.keyId) : '—' }),
          verified ? ' ✓' : '',
        )
      : h('li', { class: 'alert' }, t('r.no-log-signature'));
    cpBlock = h(
      'div',
      { class: 'checkpoint', id: 'checkpoint', 'data-size': String(parsed.cp.size) },
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('trust.checkpoint')),
        h('dd', { class: 'big' }, t('trust.size', { size: countText(parsed.cp.size) })),
        h('dt', {}, t('trust.time')),
        h('dd', { id: 'checkpoint-time' }, S.newest ? timeText(S.newest.leaf.time, S.lang) : '…'),
        h('dt', {}, t('trust.root')),
        h('dd', { class: 'hash' }, groupHex(toHex(parsed.cp.root).slice(0, 16)), '…'),
      ),
      h('h3', {}, t('trust.signatures')),
      // "None" carries no tick: only a signature that verified does.
      h('ul', { class: 'cosigners' }, logRow, rows.length ? rows : h('li', { class: 'muted', 'data-none': 'true' }, t('trust.no-cosignatures'))),
      confirmKeys(),
    );
  }
  const key = S.ledger ? S.ledger.log_key : null;
  // The section re-renders as the check progresses: a reader who opened
  // the details keeps them open.
  const open = Boolean(document.getElementById('trust-technical')?.open);
  return h(
    'details',
    { class: 'technical', id: 'trust-technical', open: open || null },
    h('summary', {}, t('trust.tech')),
    h('p', { class: 'small muted' }, t('trust.tech-help')),
    cpBlock,
    key
      ? h(
          'dl',
          { class: 'fp small' },
          h('dt', {}, t('fp.name')),
          h('dd', { class: 'mono' }, key.split('+')[0]),
          h('dt', {}, t('fp.full')),
          h('dd', {}, h('code', { class: 'vkey' }, key)),
        )
      : null,
  );
}

function renderFingerprint() {
  if (!S.ledger) return null;
  const key = S.ledger.log_key;
  const fp = S.fingerprint;
  const badKey = Boolean(fp && fp.bad);
  const mismatch = S.pinned && S.pinned !== key;
  return h(
    'div',
    { class: `fingerprint${mismatch || badKey ? ' danger' : ''}`, id: 'fingerprint', 'data-key-id': fp ? fp.keyId : null },
    h('h3', {}, t('fp.title')),
    badKey ? h('p', { class: 'alert', role: 'alert', id: 'fp-bad' }, t('fp.bad-key')) : null,
    mismatch ? h('p', { class: 'alert', role: 'alert' }, t('fp.pin-mismatch')) : null,
    h('p', { class: 'small' }, t('fp.help')),
    h(
      'dl',
      { class: 'fp' },
      h('dt', {}, t('fp.keyid')),
      h('dd', { class: 'fp-big', id: 'fp-keyid' }, fp && fp.keyId ? groupHex(fp.keyId) : badKey ? '—' : '…'),
      h('dt', {}, t('fp.sha')),
      h('dd', { class: 'fp-big', id: 'fp-sha' }, fp ? (fp.sha ? groupHex(fp.sha) : t('fp.unavailable')) : '…'),
    ),
    S.pinned === key
      ? h('p', { class: 'small ok-text' }, '✓ ', t('fp.pinned'), ' ', h('button', { type: 'button', class: 'link', onclick: () => pin(null) }, t('fp.unpin')))
      : mismatch
        ? h('button', { type: 'button', class: 'link', onclick: () => pin(null) }, t('fp.unpin'))
        : h('button', { type: 'button', onclick: () => pin(key) }, t('fp.pin')),
  );
}

function pin(key) {
  try {
    if (key) localStorage.setItem(PIN_KEY, key);
    else localStorage.removeItem(PIN_KEY);
  } catch {
    // storage unavailable: pin for this visit only
  }
  S.pinned = key;
  verifier.setPinned(key);
  S.checkpointResult = null;
  renderTrust();
}

// The key id shown is computed from the key itself, never taken from the
// served text: a server could label its own key with the id on the notice
// board. Without WebCrypto (plain HTTP) nothing can be computed, and the
// served id is shown as the server states it.
async function computeFingerprint() {
  const key = S.ledger.log_key;
  let keyId = null;
  let bad = false;
  try {
    keyId = (await parseVkey(key)).keyId;
  } catch (e) {
    if (e instanceof VerifyError && e.reason === 'bad-vkey') {
      bad = true;
    } else {
      const parts = key.split('+');
      keyId = parts.length >= 3 ? parts[1] : null;
    }
  }
  let sha = null;
  try {
    sha = toHex((await sha256(utf8(key))).subarray(0, 8));
  } catch {
    sha = null;
  }
  S.fingerprint = { keyId, sha, bad };
}

// ---------------------------------------------------------------------------
// Verification results
// ---------------------------------------------------------------------------

function reasonText(f) {
  if (!f) return '';
  const p = { ...(f.params || {}) };
  if (f.reason === 'inner') {
    const inner = { step: p.innerStep, reason: p.innerReason, params: p.inner };
    return t('r.inner', { seq: p.seq, inner: `${t(`step.${inner.step}`)} — ${reasonText(inner)}` });
  }
  if (f.reason === 'rule-unmet') p.role = roleName(p.role);
  if (f.reason === 'amount-mismatch') {
    p.shown = p.shown === null ? '—' : yuan(p.shown);
    p.verified = p.verified === null ? '—' : yuan(p.verified);
  }
  let key = `r.${f.reason}`;
  if (f.reason === 'not-json' && f.step !== 'fetch') key = 'r.not-json-leaf';
  return t(key, p);
}

function stepWhat(s) {
  const p = s.params || {};
  switch (s.step) {
    case 'log-key':
      return t('v.what.log-key', { keyId: p.keyId });
    case 'checkpoint':
      return t('v.what.checkpoint', { size: p.size });
    case 'governance':
      return t(p.rolesCompared === false ? 'v.what.governance-uncompared' : 'v.what.governance', { count: p.count });
    case 'cosignature':
      if (!(p.cosignatures || []).length) return t('v.what.no-cosignature');
      return t('v.what.cosignature', { names: p.cosignatures.map((c) => `${roleName(c.role)} ${c.name}`).join(t('trust.names-sep')) });
    case 'leaf-hash':
      return t('v.what.leaf-hash', { hash: (p.hash || '').slice(0, 12) });
    case 'signature':
      return t('v.what.signature', { names: (p.signers || []).map((x) => `${roleName(x.role)} ${keyLabel(S.lang, { name: x.key, display_name: x.displayName })}`).join(t('trust.names-sep')) });
    default:
      return t(`v.what.${s.step}`, p);
  }
}

function statusOf(result) {
  if (!result || result.status === 'running') return 'running';
  if (result.ok) return 'verified';
  return result.failed && result.failed.step === 'crypto' ? 'unsupported' : 'failed';
}

/** The box showing one result; `id` for the test hooks. */
function resultBox(result, id = null, seq = null) {
  const status = statusOf(result);
  const attrs = {
    class: `vresult ${status}`,
    id,
    role: 'status',
    'aria-live': 'polite',
    'data-status': status === 'unsupported' ? 'failed' : status,
    'data-step': result && result.failed ? result.failed.step : null,
    'data-reason': result && result.failed ? result.failed.reason : null,
    'data-seq': seq === null ? null : String(seq),
  };
  if (status === 'running') return h('div', attrs, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('v.running'));
  // A tick only beside what was checked and found: "no cosignature" gets none.
  const ticked = (s) => !(s.step === 'cosignature' && !((s.params || {}).cosignatures || []).length);
  const steps = (result.steps || []).map((s) => h('li', {}, ticked(s) ? '✓ ' : '– ', stepWhat(s)));
  if (result.ok) {
    return h(
      'div',
      attrs,
      h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓'), t('v.verified')),
      result.amountFen !== undefined && result.amountFen !== null
        ? h('p', { class: 'vamount small', 'data-verified-amount-fen': String(result.amountFen) }, t('v.amount', { amount: yuan(result.amountFen) }))
        : null,
      h(
        'details',
        {},
        h('summary', {}, t('v.details')),
        result.checkpoint ? h('p', { class: 'small' }, t('v.checkpoint', { size: result.checkpoint.size, keyid: result.logKeyId })) : null,
        h('ol', { class: 'steps' }, steps),
      ),
    );
  }
  const f = result.failed;
  return h(
    'div',
    attrs,
    h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✗'), status === 'unsupported' ? t('v.unsupported') : t('v.failed')),
    h('p', {}, t('v.failed-at', { step: t(`step.${f.step}`), reason: reasonText(f) })),
    steps.length ? h('details', {}, h('summary', {}, t('v.details')), h('ol', { class: 'steps' }, steps)) : null,
  );
}

function renderPageResult() {
  const r = S.pageResult;
  if (!r) return null;
  const status = r.status === 'running' ? 'running' : r.ok ? 'verified' : 'failed';
  const attrs = {
    id: 'verify-all-result',
    class: `vresult ${status}`,
    role: 'status',
    'aria-live': 'polite',
    'data-status': status,
    'data-step': r.failed ? r.failed.step : null,
    'data-reason': r.failed ? r.failed.reason : null,
    'data-count': r.count === undefined ? null : String(r.count),
    'data-seq': r.failedSeq === undefined ? null : String(r.failedSeq),
  };
  if (status === 'running') return h('div', attrs, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('trust.verify-all-running'));
  if (r.ok) {
    return h('div', attrs, h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓'), t('v.verified')), h('p', {}, t('ledger.entries-checked', { size: countText(r.size), count: r.count })));
  }
  const what = `${r.failedSeq !== undefined ? `${t('entry.seq', { seq: r.failedSeq })} · ` : ''}${t(`step.${r.failed.step}`)} — ${reasonText(r.failed)}`;
  return h('div', attrs, h('p', { class: 'vhead' }, h('span', { class: 'icon', 'aria-hidden': 'true' }, '✗'), t('v.failed')), h('p', {}, t('trust.verify-all-failed', { what })));
}

async function verifyOne(seq) {
  S.results.set(seq, { status: 'running' });
  refreshSeq(seq);
  const shown = S.entries.get(seq);
  const result = await verifier.verifyEntry(seq, shown ? shown.leaf : null);
  recordResult(seq, result);
  return result;
}

async function verifyPage() {
  if (S.pageResult && S.pageResult.status === 'running') return;
  S.pageResult = { status: 'running' };
  renderTrust();
  const cp = await verifier.verifyCheckpoint(true);
  S.checkpointResult = cp;
  if (!cp.ok) {
    S.pageResult = { ok: false, failed: cp.failed };
    renderTrust();
    return;
  }
  const seqs = [...new Set([...document.querySelectorAll('[data-card-seq]')].map((el) => Number(el.getAttribute('data-card-seq'))))];
  let next = 0;
  let failed = null;
  const worker = async () => {
    while (next < seqs.length) {
      const seq = seqs[next++];
      const r = await verifyOne(seq);
      if (!r.ok && (!failed || seq > failed.seq)) failed = { seq, failed: r.failed };
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  S.pageResult = failed
    ? { ok: false, failed: failed.failed, failedSeq: failed.seq, count: seqs.length }
    : { ok: true, size: cp.context.checkpoint.size, count: seqs.length };
  renderTrust();
}

// ---------------------------------------------------------------------------
// Entries in plain words
// ---------------------------------------------------------------------------

function describe(body) {
  switch (body.kind) {
    case 'income':
      return {
        what: paidBy(body),
        detail: [t('entry.period', { period: monthText(body.period, S.lang) }), t('entry.into', { fund: fundName(body.fund) })],
        direction: 'in',
      };
    case 'expenditure':
      return {
        what: t('entry.paid-to', { payee: body.payee }),
        detail: [catName(body.category), t('entry.from-fund', { fund: fundName(body.fund) })],
        direction: 'out',
      };
    case 'transfer':
      return { what: t('entry.transfer', { from: fundName(body.from_fund), to: fundName(body.to_fund) }), detail: [], direction: 'move' };
    case 'reversal':
      return { what: t('entry.reversal', { target: body.target_seq }), detail: [t('entry.reason', { reason: body.reason })], direction: 'undo' };
    case 'genesis':
      return { what: t('entry.genesis', { name: body.name }), detail: [], direction: 'none' };
    case 'governance':
      return { what: t('entry.governance'), detail: [], direction: 'none' };
    default:
      return { what: String(body.kind), detail: [], direction: 'none' };
  }
}

/** "中国建设银行 结息", "分众传媒 支付广告费": who paid, in the words for its category. */
function paidBy(body) {
  const key = `entry.paid-by.${body.category}`;
  return hasString(key) ? t(key, { payer: body.payer }) : t('entry.paid-by', { payer: body.payer, category: catName(body.category) });
}

// Signers by whom their keys stand for: the name a verified signature's
// roles (in force at the entry) sign, or nameOfKey's; the key name is the
// element's title and data-key.
function signersLine(signatures, signersFromServer, verifiedSigners, seq) {
  const roleOf = new Map();
  const verifiedName = new Map();
  for (const s of signersFromServer || []) roleOf.set(s.key, s.role);
  for (const s of verifiedSigners || []) {
    roleOf.set(s.key, s.role);
    verifiedName.set(s.key, s.displayName || s.key);
  }
  const groups = new Map();
  for (const s of signatures || []) {
    const role = roleOf.has(s.key) ? roleOf.get(s.key) : roleOfKeyName(s.key);
    const label = roleName(role);
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(s.key);
  }
  const person = (k) => (verifiedName.has(k) ? verifiedName.get(k) : nameOfKey(k, seq));
  return [...groups.entries()].map(([label, keys]) => h('span', { class: 'signer' }, h('b', {}, label), ' ', keys.map((k, i) => [i ? t('trust.names-sep') : '', h('span', { class: 'key-name', 'data-key': k, title: k }, person(k))])));
}

function rolesList(roles) {
  return h(
    'ul',
    { class: 'plain small' },
    Object.entries(roles || {}).map(([role, def]) =>
      h('li', {}, t('entry.roles-now', { role: roleName(role), names: (def.keys || []).map((k) => keyLabel(S.lang, k)).join(t('trust.names-sep')), threshold: def.threshold })),
    ),
  );
}

/** Amount shown on a card: from the verified leaf when there is one. */
function cardAmount(entry, result) {
  if (result && result.ok) return result.amountFen;
  const body = entry.leaf.body;
  if (body.kind === 'reversal') {
    const target = S.entries.get(body.target_seq);
    return target ? amountFen(body, target.leaf) : null;
  }
  return amountFen(body, null);
}

function renderCard(entry, { compact = false } = {}) {
  const seq = entry.seq;
  const result = S.results.get(seq);
  // Once verified, the card shows the verified leaf, not the served JSON.
  const leaf = result && result.ok ? result.leaf : entry.leaf;
  const body = leaf.body;
  const d = describe(body);
  const amount = cardAmount(entry, result);
  const extra = [];
  if (body.kind === 'reversal') {
    const target = result && result.ok && result.target ? result.target : (S.entries.get(body.target_seq) || {}).leaf;
    if (target) {
      extra.push(
        h(
          'p',
          { class: 'small reversal-of' },
          t('entry.reversal-of', { what: describe(target.body).what, amount: yuan(amountFen(target.body, null)), date: dateText(target.body.date, S.lang) }),
        ),
      );
    }
  }
  if (body.memo) extra.push(h('p', { class: 'memo' }, body.memo));
  if (body.kind === 'governance' && body.roles) extra.push(rolesList(body.roles));
  if (body.kind === 'genesis') extra.push(rolesList(body.roles));
  const approval = body.owners_approval;
  if (approval) {
    extra.push(
      h(
        'div',
        { class: 'approval' },
        h('b', {}, t('entry.approval'), ' '),
        t('entry.decision', { ref: approval.decision_ref }),
        h(
          'p',
          { class: 'small' },
          t('entry.approval-line', {
            pa: percent(approval.participating_area_bp),
            ph: percent(approval.participating_headcount_bp),
            aa: percent(approval.approving_area_bp),
            ah: percent(approval.approving_headcount_bp),
          }),
        ),
      ),
    );
  }
  if (Array.isArray(body.attachments) && body.attachments.length) {
    extra.push(
      h(
        'div',
        { class: 'attachments' },
        h('b', {}, t('entry.attachments')),
        h(
          'ul',
          { class: 'plain' },
          body.attachments.map((a) => h('li', {}, `${a.name} (${bytesText(a.bytes)})`, h('div', { class: 'hash' }, 'SHA-256 ', groupHex(String(a.sha256))))),
        ),
      ),
    );
  }
  if (entry.reversed_by !== null && entry.reversed_by !== undefined) {
    const rev = S.entries.get(entry.reversed_by);
    // The server says so; it counts as verified only once the reversing
    // entry itself verified and names this one.
    const revResult = S.results.get(entry.reversed_by);
    const revVerified = Boolean(revResult && revResult.ok && revResult.leaf.body.target_seq === entry.seq);
    extra.push(
      h(
        'p',
        { class: 'reversed', 'data-reversed-by': String(entry.reversed_by), 'data-verified': revVerified ? 'true' : null },
        rev ? t('entry.reversed-reason', { by: entry.reversed_by, reason: rev.leaf.body.reason }) : t('entry.reversed', { by: entry.reversed_by }),
        revVerified ? '' : t('entry.reversal-unverified'),
      ),
    );
  }
  const dirClass = { in: 'in', out: 'out', move: 'move', undo: 'undo', none: 'none' }[d.direction];
  const amountText = amount === null || amount === undefined ? '' : d.direction === 'in' ? yuan(amount, { sign: true }) : d.direction === 'out' ? yuan(-amount) : yuan(amount);
  return h(
    'article',
    {
      class: `entry kind-${body.kind}${entry.reversed_by !== null && entry.reversed_by !== undefined ? ' is-reversed' : ''}`,
      'data-card-seq': String(seq),
      'data-compact': compact ? 'true' : null,
      'data-kind': body.kind,
      'data-amount-fen': amount === null || amount === undefined ? null : String(amount),
      'aria-labelledby': `entry-${seq}-title`,
      tabindex: '-1',
    },
    h(
      'div',
      { class: 'entry-head' },
      h('span', { class: `badge ${dirClass}` }, t(`kind.${body.kind}`)),
      h('span', { class: 'date', 'data-date': body.date }, dateText(body.date, S.lang)),
      h('span', { class: 'seq' }, `#${seq}`),
    ),
    h(
      'div',
      { class: 'entry-main' },
      h('h3', { class: 'what', id: `entry-${seq}-title` }, d.what),
      amountText ? h('div', { class: `amount ${dirClass}` }, amountText) : null,
    ),
    d.detail.length ? h('p', { class: 'detail' }, d.detail.join(' · ')) : null,
    extra,
    compact
      ? null
      : h('p', { class: 'signers small' }, h('span', { class: 'muted' }, t('entry.signers'), t('colon')), signersLine(leaf.signatures, entry.signers, result && result.ok ? result.signers : null, entry.seq)),
    compact ? null : h('p', { class: 'muted small' }, t('entry.recorded', { time: timeText(leaf.time, S.lang) })),
    // From a bucket every listed entry was checked with the whole ledger
    // (the list is filled only once the replay verified); one entry's
    // proof and its receipt page need the server.
    FROM_MIRROR
      ? h('p', { class: 'small ok-text', 'data-replayed': 'true' }, t('mirror.entry-checked'))
      : h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'verify', onclick: () => verifyOne(seq), 'aria-describedby': `entry-${seq}-title` },
        t('entry.verify'),
      ),
      // The readable receipt page (receipt.js), which verifies the entry
      // itself and offers the machine-readable proof file to download.
      h('a', { class: 'receipt', href: `${BASE}/receipt/${seq}${S.lang === 'en' ? '?lang=en' : ''}` }, t('receipt.view')),
    ),
    result ? resultBox(result, null, seq) : null,
  );
}

/** Re-renders every card of `seq` in place (list, my payments, banner). */
function recordResult(seq, result) {
  S.results.set(seq, result);
  refreshSeq(seq);
  // A verified reversal is what lets its target show "reversed" as verified.
  if (result.ok && result.leaf.body.kind === 'reversal') refreshSeq(result.leaf.body.target_seq);
}

function refreshSeq(seq) {
  const entry = S.entries.get(seq);
  for (const el of document.querySelectorAll(`[data-card-seq="${seq}"]`)) {
    if (entry) el.replaceWith(renderCard(entry, { compact: el.hasAttribute('data-compact') }));
  }
  if (S.banner === seq) renderBanner();
}

function remember(entries) {
  for (const e of entries) S.entries.set(e.seq, e);
  // From a bucket there is no entry to ask for: what the replay kept is all.
  if (FROM_MIRROR) return;
  // Reversals name their targets, reversed entries their reversals:
  // fetch those for the words ("reversed by 1270: duplicate entry").
  const wanted = new Set();
  for (const e of entries) {
    if (e.reversed_by !== null && e.reversed_by !== undefined && !S.entries.has(e.reversed_by)) wanted.add(e.reversed_by);
    if (e.leaf.body.kind === 'reversal' && !S.entries.has(e.leaf.body.target_seq)) wanted.add(e.leaf.body.target_seq);
  }
  for (const seq of wanted) {
    getJson(`/api/v1/entries/${seq}`)
      .then((e) => {
        S.entries.set(e.seq, e);
        for (const other of S.entries.values()) {
          if (other.reversed_by === seq || (other.leaf.body.kind === 'reversal' && other.leaf.body.target_seq === seq)) refreshSeq(other.seq);
        }
      })
      .catch(reportError);
  }
}

// ---------------------------------------------------------------------------
// Chart
// ---------------------------------------------------------------------------

function renderChart() {
  const funds = fundIds();
  if (!funds.includes(S.chartFund) && funds.length) S.chartFund = funds[0];
  // The replay's month totals once verified, else the server's (marked).
  const checked = checkedSummary();
  const summary = checked || S.summary;
  const rows = monthly(summary, S.chartFund).slice(-12);
  const select = h(
    'select',
    {
      id: 'chart-fund',
      onchange: (ev) => {
        S.chartFund = ev.target.value;
        renderChart();
        document.getElementById('chart-fund')?.focus();
      },
    },
    funds.map((id) => h('option', { value: id, selected: id === S.chartFund }, fundName(id))),
  );
  const header = [h('h2', { tabindex: '-1' }, t('chart.title')), h('div', { class: 'field inline' }, h('label', { for: 'chart-fund' }, t('chart.fund')), select)];
  if (!summary) {
    // From a bucket the totals are the replay's or none: say when they come.
    if (FROM_MIRROR) mount('chart-section', h('h2', { tabindex: '-1' }, t('chart.title')), h('p', { class: 'muted', id: 'chart-wait' }, t('mirror.chart-after-check')));
    else mount('chart-section', header, h('p', { class: 'muted' }, t('app.loading')));
    return;
  }
  if (!rows.length) {
    mount('chart-section', header, h('p', { class: 'muted' }, t('chart.empty')));
    return;
  }
  const note = h(
    'p',
    { class: `small ${checked ? 'ok-text' : 'muted'}`, id: 'chart-check', 'data-verified': checked ? 'true' : 'false' },
    checked ? t('ledger.chart-checked', { size: countText(checked.size) }) : t('ledger.chart-unchecked'),
  );
  mount('chart-section', header, ...chartParts(rows, { fund: S.chartFund, fundLabel: fundName(S.chartFund), lang: S.lang, t }), note);
}

// ---------------------------------------------------------------------------
// My payments
// ---------------------------------------------------------------------------

function renderMine() {
  const m = S.mine;
  const form = h(
    'form',
    { class: 'unit-form', onsubmit: (ev) => { ev.preventDefault(); loadMine(ev.target.elements.unit.value.trim()); } },
    h('label', { for: 'mine-unit' }, t('mine.unit')),
    h(
      'div',
      { class: 'row' },
      h('input', { id: 'mine-unit', name: 'unit', type: 'text', inputmode: 'text', autocomplete: 'off', placeholder: '3-1502', value: m.unit, maxlength: '100' }),
      h('button', { type: 'submit', class: 'primary' }, t('mine.show')),
    ),
  );
  let out = null;
  if (m.loading) out = h('p', { class: 'muted' }, t('app.loading'));
  else if (m.error) out = h('p', { class: 'alert' }, m.error);
  else if (m.entries) {
    if (!m.entries.length) out = h('p', {}, t('mine.none', { unit: m.unit }));
    else {
      let total = 0n;
      for (const e of m.entries) if (e.leaf.body.kind === 'income' && e.reversed_by === null) total += BigInt(e.leaf.body.amount_fen);
      out = h(
        'div',
        { id: 'mine-list' },
        h('p', { class: 'small' }, t('mine.count', { unit: m.unit, count: m.entries.length, total: yuan(total) })),
        m.entries.map((e) => renderCard(e, { compact: true })),
      );
    }
  }
  mount('mine-section', h('h2', { tabindex: '-1' }, t('mine.title')), h('p', { class: 'small muted' }, t('mine.help')), form, out);
}

async function loadMine(unit) {
  // From a bucket the entries come with the check (takeReplayed asks again).
  const waiting = FROM_MIRROR && !S.replayed;
  S.mine = { unit, entries: null, loading: !!unit && !waiting, error: null };
  renderMine();
  if (!unit || waiting) return;
  try {
    const all = await source.payerEntries(unit);
    remember(all);
    S.mine = { unit, entries: all, loading: false, error: null };
  } catch (e) {
    S.mine = { unit, entries: null, loading: false, error: failureText(e) };
  }
  renderMine();
}

// ---------------------------------------------------------------------------
// Proposals
// ---------------------------------------------------------------------------

// A server error (or a blocked proposal's reason) in the page's language,
// from the API's stable code and details, amounts in yuan (the server's
// message is English, for programs and logs).
function serverErrorText(error) {
  return errorText(error, S.lang, { fundName, roleName, kindName: (kind) => t(`kind.${kind}`) });
}

function renderProposals() {
  if (FROM_MIRROR) {
    mount('proposals-section', h('p', { id: 'mirror-note', class: 'mirror-note' }, t('mirror.note')));
    return;
  }
  const title = h('h2', { tabindex: '-1' }, t('proposals.title'));
  const help = h('p', { class: 'small muted' }, t('proposals.help'));
  if (!S.proposals) {
    mount('proposals-section', title, help, h('p', { class: 'muted' }, t('app.loading')));
    return;
  }
  if (!S.proposals.length) {
    mount('proposals-section', title, help, h('p', { id: 'proposals-none' }, t('proposals.none')));
    return;
  }
  const cards = S.proposals.map((p) => {
    const body = p.body;
    const d = describe(body);
    const amount = amountFen(body, null);
    const status = p.status || {};
    return h(
      'article',
      { class: `entry proposal kind-${body.kind}`, 'data-proposal': p.id },
      h('div', { class: 'entry-head' }, h('span', { class: 'badge pending' }, t(`kind.${body.kind}`)), h('span', { class: 'date', 'data-date': body.date }, dateText(body.date, S.lang))),
      h('div', { class: 'entry-main' }, h('h3', { class: 'what' }, d.what), amount !== null ? h('div', { class: 'amount' }, yuan(amount)) : null),
      d.detail.length ? h('p', { class: 'detail' }, d.detail.join(' · ')) : null,
      body.memo ? h('p', { class: 'memo' }, body.memo) : null,
      status.progress
        ? h(
            'ul',
            { class: 'progress' },
            status.progress.map((x) =>
              h('li', { class: x.have >= x.need ? 'done' : 'todo' }, `${roleName(x.role)} ${x.have}/${x.need}`, x.have >= x.need ? ' ✓' : ''),
            ),
          )
        : null,
      status.blocked ? h('p', { class: 'alert small proposal-blocked', 'data-code': status.blocked.code }, t('proposals.blocked', { message: serverErrorText(status.blocked) })) : null,
      h('p', { class: 'small muted' }, t('proposals.signed', { names: (p.signatures || []).map((s) => s.key).join(t('trust.names-sep')) || '—' })),
      h('p', { class: 'small muted' }, t('proposals.created', { time: timeText(p.created_ms, S.lang) }), ' · ', t('proposals.id'), ' ', h('code', {}, String(p.id).slice(0, 12))),
    );
  });
  mount('proposals-section', title, help, cards);
}

// ---------------------------------------------------------------------------
// Entry list
// ---------------------------------------------------------------------------

function listQuery(f, from) {
  const q = new URLSearchParams({ order: 'desc', limit: String(PAGE) });
  for (const k of ['fund', 'category', 'month', 'payer']) if (f[k]) q.set(k, f[k]);
  if (from !== null && from !== undefined) q.set('from', String(from));
  return `/api/v1/entries?${q}`;
}

async function loadList(reset) {
  if (S.list.loading) return;
  if (reset) S.list = { ...S.list, entries: [], next: null, done: false, error: null };
  const before = S.list.entries.length;
  S.list.loading = true;
  renderEntries();
  try {
    const page = await source.entries(S.list.filters, reset ? null : S.list.next);
    remember(page.entries);
    S.list.entries.push(...page.entries);
    S.list.next = page.next ?? null;
    S.list.done = page.next === null || page.next === undefined;
  } catch (e) {
    S.list.error = failureText(e);
  }
  S.list.loading = false;
  renderEntries();
  // After "load more", move focus to the first new entry (not to the top).
  if (!reset && document.activeElement === document.body) {
    const cards = document.querySelectorAll('#entry-list > article');
    if (cards[before]) cards[before].focus({ preventScroll: true });
  }
}

/** Every month from the summary's first month to its latest, newest first:
 * the summary lists only the latest months' totals, and the filter offers
 * them all. */
function monthsSince(summary) {
  const listed = (summary.months || []).map((m) => m.month);
  const last = listed.length ? listed[listed.length - 1] : null;
  const first = summary.first_month || listed[0] || null;
  if (!first || !last || !/^\d{4}-\d{2}$/.test(first) || !/^\d{4}-\d{2}$/.test(last)) return listed.reverse();
  const out = [];
  let [y, m] = first.split('-').map(Number);
  const [ly, lm] = last.split('-').map(Number);
  while (y < ly || (y === ly && m <= lm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out.reverse();
}

function renderEntries() {
  const f = S.list.filters;
  const summary = FROM_MIRROR ? checkedSummary() : S.summary;
  const months = summary ? monthsSince(summary) : [];
  const sel = (id, name, options) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, t(`entries.${name}`)),
      h('select', { id, name }, h('option', { value: '' }, t('entries.all')), options.map(([v, label]) => h('option', { value: v, selected: f[name === 'unit' ? 'payer' : name] === v }, label))),
    );
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': t('entries.filters'),
      onsubmit: (ev) => {
        ev.preventDefault();
        const el = ev.target.elements;
        S.list.filters = { fund: el.fund.value, category: el.category.value, month: el.month.value, payer: el.payer.value.trim() };
        loadList(true);
      },
    },
    sel('f-fund', 'fund', fundIds().map((id) => [id, fundName(id)])),
    sel('f-category', 'category', [...INCOME_CATEGORIES, ...EXPENSE_CATEGORIES].map((c) => [c, catName(c)])),
    sel('f-month', 'month', months.map((m) => [m, monthText(m, S.lang)])),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'f-payer' }, t('entries.unit')),
      h('input', { id: 'f-payer', name: 'payer', type: 'text', placeholder: '3-1502', value: f.payer, autocomplete: 'off', maxlength: '100' }),
    ),
    h(
      'div',
      { class: 'field buttons' },
      h('button', { type: 'submit', class: 'primary' }, t('entries.apply')),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            S.list.filters = { fund: '', category: '', month: '', payer: '' };
            loadList(true);
          },
        },
        t('entries.clear'),
      ),
    ),
  );
  const l = S.list;
  const status = [];
  if (l.error) status.push(h('p', { class: 'alert' }, l.error));
  if (FROM_MIRROR && !S.replayed) status.push(h('p', { class: 'muted' }, t('mirror.entries-after-check')));
  else if (!l.loading && !l.error && !l.entries.length) status.push(h('p', {}, t('entries.none')));
  if (FROM_MIRROR && S.replayed && S.replayed.length >= MIRROR_ENTRIES) status.push(h('p', { class: 'muted small' }, t('mirror.entries-newest', { count: countText(MIRROR_ENTRIES) })));
  if (l.entries.length) status.push(h('p', { class: 'muted small' }, t('entries.count', { count: l.entries.length })));
  if (l.loading) status.push(h('p', { class: 'muted' }, t('app.loading')));
  else if (!l.done && l.entries.length) status.push(h('button', { type: 'button', class: 'more', onclick: () => loadList(false) }, t('entries.more')));
  else if (l.done && l.entries.length) status.push(h('p', { class: 'muted small' }, t('entries.end')));
  mount('entries-section', h('h2', { tabindex: '-1' }, t('entries.title')), form, h('div', { id: 'entry-list' }, l.entries.map(renderCard)), status);
}

// ---------------------------------------------------------------------------
// #verify=<seq> banner
// ---------------------------------------------------------------------------

function renderBanner() {
  const el = document.getElementById('verify-banner');
  if (!el) return;
  if (S.banner === null) {
    el.hidden = true;
    el.replaceChildren();
    return;
  }
  el.hidden = false;
  const seq = S.banner;
  const result = S.results.get(seq) || { status: 'running' };
  el.setAttribute('data-status', statusOf(result));
  const entry = S.entries.get(seq) || (result.ok ? { seq, leaf: result.leaf, signers: result.signers, reversed_by: null } : null);
  mount('verify-banner', h('h2', { tabindex: '-1' }, t('v.result-title', { seq })), resultBox(result, 'verify-result', seq), entry && result.ok ? renderBannerCard(entry) : null);
}

function renderBannerCard(entry) {
  const card = renderCard(entry);
  // The banner's card must not be replaced by refreshSeq twice over.
  card.removeAttribute('data-card-seq');
  card.querySelector('.vresult')?.remove();
  return card;
}

async function verifyFromHash(seq) {
  S.banner = seq;
  S.results.set(seq, { status: 'running' });
  renderBanner(); // the banner is the first section: no need to scroll
  try {
    if (!S.entries.has(seq)) S.entries.set(seq, await getJson(`/api/v1/entries/${seq}`));
  } catch {
    // verifyEntry reports the fetch failure itself.
  }
  const shown = S.entries.get(seq);
  const result = await verifier.verifyEntry(seq, shown ? shown.leaf : null);
  recordResult(seq, result);
  renderBanner();
}

function handleHash() {
  const hash = decodeURIComponent(location.hash || '');
  const m = /^#verify=(\d+)$/.exec(hash);
  if (m) return verifyFromHash(Number(m[1]));
  if (hash === '#verify-all') {
    document.getElementById('trust-section')?.scrollIntoView({ block: 'start' });
    return verifyPage();
  }
  return Promise.resolve();
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

function renderAll() {
  renderChrome();
  renderBanner();
  renderBalances();
  renderTrust();
  renderChart();
  renderMine();
  renderProposals();
  if (!FROM_MIRROR) {
    signing.render();
    proposing.render();
  }
  renderEntries();
}

async function start() {
  const params = new URLSearchParams(location.search);
  let lang = params.get('lang');
  if (!lang) {
    try {
      lang = localStorage.getItem(LANG_KEY);
    } catch {
      lang = null;
    }
  }
  S.lang = lang === 'en' ? 'en' : 'zh';
  S.pinned = readPinned();
  // Shareable views: ?unit=3-1502 (e.g. a QR code on a household's bill),
  // ?fund=&category=&month=&payer= for the entry list.
  for (const k of ['fund', 'category', 'month', 'payer']) S.list.filters[k] = params.get(k) || '';
  const unit = (params.get('unit') || '').trim();
  if (params.has('statement') && !FROM_MIRROR) import('./statement.js').then((m) => m.showStatement(params, S.lang)).catch(reportError);
  if (FROM_MIRROR) {
    await startFromMirror(unit);
    return;
  }
  // The first requests go out before the first drawing, which needs none
  // of them; each is awaited where it was asked for before.
  const asked = {
    ledger: getJson('/api/v1/ledger'),
    balances: getJson('/api/v1/balances'),
    summary: getJson('/api/v1/summary'),
    checkpoint: getText('/checkpoint'),
    proposals: getAllProposals(),
  };
  // Their failures are met where they are awaited (load, below).
  for (const p of Object.values(asked)) p.catch(() => {});
  renderAll();

  const load = async (fn) => {
    try {
      await fn();
    } catch (e) {
      S.loadError = failureText(e);
      renderChrome();
    }
  };
  const ledger = load(async () => {
    S.ledger = await asked.ledger;
    mark('feeledger:ledger');
    // The check first: it runs in its worker while the page draws.
    startCheck();
    await computeFingerprint();
    renderAll();
  });
  const balances = load(async () => {
    S.balances = await asked.balances;
    await ledger;
    renderBalances();
  });
  const summary = load(async () => {
    S.summary = await asked.summary;
    await ledger;
    renderChart();
    renderEntries();
  });
  const checkpoint = load(async () => {
    S.checkpointText = await asked.checkpoint;
    await ledger;
    renderTrust();
    const parsed = parsedCheckpoint();
    // The committee's confirmation is named in the lead only once its
    // cosignatures verified: the checkpoint is checked at once.
    const checked = verifier.verifyCheckpoint().then(async (r) => {
      if (!S.checkpointResult) S.checkpointResult = r;
      renderTrust();
      if (r.ok) await checkConfirmation(r);
    });
    if (parsed && parsed.cp.size > 0) {
      S.newest = await getJson(`/api/v1/entries/${parsed.cp.size - 1}`);
      renderTrust();
    }
    await checked;
  });
  const proposals = load(async () => {
    S.proposals = await asked.proposals;
    await ledger;
    renderProposals();
  });
  const list = (async () => {
    await ledger;
    await loadList(true);
  })();
  const mine = unit ? loadMine(unit) : Promise.resolve();
  // The signing view reads its key from IndexedDB, which the residents'
  // view does not wait for: the page is ready without it.
  load(async () => {
    await ledger;
    if (S.ledger) await signing.load();
  });
  load(async () => {
    await ledger;
    if (S.ledger) await proposing.load();
  });
  await Promise.all([ledger, balances, summary, checkpoint, proposals, list, mine]);
  mark('feeledger:ready');
  document.documentElement.setAttribute('data-app', 'ready');
  window.addEventListener('hashchange', () => handleHash().catch(reportError));
  await handleHash();
}

/**
 * The start from a bucket: the checkpoint and the log key are the only
 * things read before the check; the rest comes from the replay
 * (takeReplayed). The log key is trusted as on the server: compared with
 * the notice board's fingerprint, or the one pinned in this browser wins.
 */
async function startFromMirror(unit) {
  for (const id of ['sign-section', 'propose-section', 'enrol-section', 'import-section']) {
    const el = document.getElementById(id);
    if (el) el.hidden = true;
  }
  S.mine = { unit, entries: null, loading: false, error: null };
  renderAll();
  try {
    const [checkpointText, vkey] = await Promise.all([getText('/checkpoint'), getText('/log.vkey')]);
    S.checkpointText = checkpointText;
    // The checkpoint's first line is the log's origin (c2sp.org/tlog-checkpoint).
    const origin = checkpointText.split('\n')[0];
    S.ledger = { name: null, origin, log_key: vkey.trim(), funds: [], roles: {}, witness_keys: [] };
    await computeFingerprint();
  } catch (e) {
    S.loadError = failureText(e);
  }
  renderAll();
  document.documentElement.setAttribute('data-app', 'ready');
  startCheck();
}

start().catch(reportError);

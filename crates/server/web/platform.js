// The index page of a district platform: every community it hosts, with
// its balances (in yuan) and its last cosigned checkpoint, each linking to
// its own page under /c/{slug}/. Built from GET /api/v1/ledgers.
// Language as on the ledger page: ?lang=en, else the choice kept in
// localStorage, else Chinese.

import { translate, namesIn } from './strings.js';
import { yuan, dayText, countText } from './format.js';
import { h, mount } from './dom.js';

const LANG_KEY = 'feeledger.lang';

const S = { lang: 'zh', ledgers: null, error: null };

function t(key, vars) {
  return translate(S.lang, key, vars);
}

function chooseLang() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'zh') return asked;
  try {
    const kept = localStorage.getItem(LANG_KEY);
    if (kept === 'en' || kept === 'zh') return kept;
  } catch {
    // private mode
  }
  return 'zh';
}

function switchLang() {
  S.lang = S.lang === 'zh' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, S.lang);
  } catch {
    // private mode
  }
  render();
}

function cosignedText(cosigned) {
  if (!cosigned) return t('platform.cosigned-none');
  const cosigners = cosigned.cosigners || [];
  const newest = cosigners.reduce((m, c) => Math.max(m, c.time_s || 0), 0);
  return t('platform.cosigned', {
    size: countText(cosigned.size),
    date: newest ? dayText(newest * 1000, S.lang) : '—',
    who: cosigners.map((c) => c.name).join(S.lang === 'zh' ? '、' : ', ') || '—',
  });
}

function card(ledger) {
  const href = ledger.url + (S.lang === 'en' ? '?lang=en' : '');
  if (ledger.status !== 'serving') {
    return h(
      'li',
      { class: 'platform-ledger card', 'data-slug': ledger.slug, 'data-status': ledger.status },
      h('h2', {}, ledger.slug),
      h('p', { class: 'alert' }, t(ledger.status === 'retired' ? 'platform.retired' : 'platform.unavailable')),
    );
  }
  const names = namesIn(S.lang, ledger);
  return h(
    'li',
    { class: 'platform-ledger card', 'data-slug': ledger.slug, 'data-status': ledger.status },
    h('h2', {}, h('a', { href }, ledger.name)),
    h(
      'dl',
      { class: 'platform-balances' },
      ledger.funds.flatMap((f) => [h('dt', {}, names.fund(f.id)), h('dd', { 'data-fund': f.id, 'data-fen': String(f.balance_fen) }, yuan(f.balance_fen))]),
    ),
    // These balances are the platform's word: only the ledger's own page
    // replays the log on the phone, so the card says so beside them.
    h('p', { class: 'small muted platform-unverified' }, t('platform.unverified')),
    h('p', { class: 'small' }, t('platform.entries', { size: countText(ledger.size) })),
    h('p', { class: 'small platform-cosigned' }, cosignedText(ledger.cosigned)),
    h('p', {}, h('a', { href, class: 'platform-open' }, t('platform.open'))),
  );
}

function render() {
  document.documentElement.lang = t('html.lang');
  document.title = t('platform.title');
  mount(
    'top',
    h(
      'div',
      { class: 'top-row' },
      h('h1', {}, t('platform.title')),
      h('button', { type: 'button', class: 'lang', lang: S.lang === 'zh' ? 'en' : 'zh-CN', 'aria-label': t('lang.switch-label'), onclick: switchLang }, t('lang.switch')),
    ),
    h('p', { class: 'subtitle' }, t('platform.subtitle')),
  );
  const status = S.error
    ? t('platform.load-failed', { message: S.error })
    : S.ledgers === null
      ? t('platform.loading')
      : t('platform.count', { count: S.ledgers.length });
  mount('platform-status', status);
  mount('platform-ledgers', ...(S.ledgers || []).map(card));
}

async function load() {
  try {
    const response = await fetch('api/v1/ledgers', { cache: 'no-cache' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    S.ledgers = (await response.json()).ledgers;
  } catch (e) {
    S.error = String(e.message || e);
  }
  render();
  // What tests (and the ledger page's own tests) wait for.
  document.body.dataset.ready = 'true';
  document.documentElement.dataset.app = 'ready';
}

S.lang = chooseLang();
render();
load();

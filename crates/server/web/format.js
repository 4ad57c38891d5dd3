// Formatting for people: money in yuan from integer fen, percentages from
// basis points, byte counts, dates, months and times (Beijing time), grouped
// hex. Pure functions of their arguments (the language is passed in): no
// DOM, no network, nothing trusted or checked here.
//
// Money is integer fen from the API and is formatted with BigInt; it is
// never put through floating-point arithmetic.

import { MONTHS_EN } from './strings.js';

/** Integer fen -> "¥1,234.56" (BigInt; no floating point). */
export function yuan(fen, { sign = false } = {}) {
  if (fen === null || fen === undefined) return '—';
  let v = BigInt(fen);
  const neg = v < 0n;
  if (neg) v = -v;
  const whole = (v / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (v % 100n).toString().padStart(2, '0');
  return `${neg ? '−' : sign ? '+' : ''}¥${whole}.${cents}`;
}

/** Compact axis labels from fen: "12.5万" / "125k" (BigInt). */
export function compactYuan(fen, lang) {
  const y = BigInt(fen) / 100n;
  const oneDecimal = (n, d) => {
    const tenths = (n * 10n) / d;
    const s = `${tenths / 10n}`;
    return tenths % 10n === 0n ? s : `${s}.${tenths % 10n}`;
  };
  if (lang === 'zh') {
    if (y >= 100000000n) return `${oneDecimal(y, 100000000n)}亿`;
    if (y >= 10000n) return `${oneDecimal(y, 10000n)}万`;
    return `${y}`;
  }
  if (y >= 1000000n) return `${oneDecimal(y, 1000000n)}M`;
  if (y >= 1000n) return `${oneDecimal(y, 1000n)}k`;
  return `${y}`;
}

/** Basis points -> "84.20%" (integer math). */
export function percent(bp) {
  if (!Number.isSafeInteger(bp)) return '—';
  return `${Math.trunc(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`;
}

/** A byte count for people: "980 B", "1.5 KB" (integer math). */
export function bytesText(n) {
  if (!Number.isSafeInteger(n)) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = BigInt(n);
  let i = -1;
  let scaled = 0n;
  do {
    scaled = (v * 10n) / 1024n;
    v /= 1024n;
    i++;
  } while (v >= 1024n && i < units.length - 1);
  return `${scaled / 10n}.${scaled % 10n} ${units[i]}`;
}

// One date format per language, everywhere on the page: zh "2026年12月6日"
// ("2026年12月" for a month), en "6 Dec 2026" ("Dec 2026"); times add
// "14:05" (zh after a space, en after a comma). Built from numbers here,
// not by Intl's locale styles, which differ between browsers and give
// "06/12/2026" in en-GB.

/** Year, month (1-12), day as numbers -> the language's date. */
function civilDate(year, month, day, lang) {
  return lang === 'zh' ? `${year}年${month}月${day}日` : `${day} ${MONTHS_EN[month - 1]} ${year}`;
}

/** A business date "2026-12-06" -> "2026年12月6日" / "6 Dec 2026"; any other text as it is. */
export function dateText(date, lang) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(date ?? ''));
  if (!m) return date === null || date === undefined ? '' : String(date);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return String(date);
  return civilDate(m[1], month, day, lang);
}

/** A month "2026-12" -> "2026年12月" / "Dec 2026"; any other text as it is. */
export function monthText(month, lang) {
  const m = /^(\d{4})-(\d{2})$/.exec(String(month ?? ''));
  if (!m) return month === null || month === undefined ? '' : String(month);
  const n = Number(m[2]);
  if (n < 1 || n > 12) return String(month);
  return lang === 'zh' ? `${m[1]}年${n}月` : `${MONTHS_EN[n - 1]} ${m[1]}`;
}

/** Epoch milliseconds -> the date in Beijing time, "2026年12月6日" / "6 Dec 2026". */
export function dayText(ms, lang) {
  const p = beijingParts(ms);
  return p ? civilDate(p.year, p.month, p.day, lang) : '';
}

/** Epoch milliseconds -> date and time in Beijing time: "2026年12月6日 14:05" / "6 Dec 2026, 14:05". */
export function timeText(ms, lang) {
  const p = beijingParts(ms);
  if (!p) return '';
  return `${civilDate(p.year, p.month, p.day, lang)}${lang === 'zh' ? ' ' : ', '}${clockText(ms)}`;
}

/** Epoch milliseconds -> the time of day in Beijing, "14:05". */
export function clockText(ms) {
  const p = beijingParts(ms);
  return p ? `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}` : '';
}

/**
 * The business date in Beijing of epoch milliseconds (now by default),
 * "2026-12-06": from the fixed offset, as beijingParts; Intl with a time
 * zone loads the zone's rules on the page's thread at its first call, a
 * cost the returning visit's profile showed (docs/performance.md).
 */
export function beijingDate(ms = Date.now()) {
  const p = beijingParts(ms);
  return p ? `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}` : '';
}

/**
 * A count with thousands separators, "3,669" (in both languages), grouped
 * by hand as `yuan` is: making an `Intl.NumberFormat` cost the page's
 * thread 16 ms on a returning visit, 59 ms at 4× (docs/performance.md).
 */
export function countText(n) {
  const v = Number(n);
  if (!Number.isSafeInteger(v)) return String(n);
  const grouped = String(Math.abs(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return v < 0 ? `-${grouped}` : grouped;
}

/** Beijing's civil date and time of epoch milliseconds, as numbers (UTC+8 all year). */
function beijingParts(ms) {
  if (!Number.isSafeInteger(ms)) return null;
  const d = new Date(ms + 8 * 3600 * 1000);
  if (Number.isNaN(d.getTime())) return null;
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
}

/** Hex in groups of four, for reading a key id or hash aloud. */
export function groupHex(hex) {
  return hex.replace(/(.{4})(?=.)/g, '$1 ');
}

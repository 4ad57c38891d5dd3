// Formatting for people: money in yuan from integer fen, percentages from
// basis points, byte counts, times in Beijing time, grouped hex. Pure
// functions of their arguments (the language is passed in): no DOM, no
// network, nothing trusted or checked here.
//
// Money is integer fen from the API and is formatted with BigInt; it is
// never put through floating-point arithmetic.

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

/** Epoch milliseconds -> date and time in Beijing time, in the language's style. */
export function timeText(ms, lang) {
  if (!Number.isSafeInteger(ms)) return '';
  const fmt = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  });
  return fmt.format(new Date(ms));
}


/** Hex in groups of four, for reading a key id or hash aloud. */
export function groupHex(hex) {
  return hex.replace(/(.{4})(?=.)/g, '$1 ');
}

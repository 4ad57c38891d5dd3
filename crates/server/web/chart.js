// The monthly chart: income and spending bars of one fund (SVG), with a
// legend of the totals and the same figures as a table for screen readers
// and copying. Pure rendering from /api/v1/summary's monthly totals: it
// shows what the server reports; checking entries is verify.js's job.
//
// Amounts are integer fen as BigInt: bar heights use integer division, and
// only the final pixel value becomes a Number.

import { h, svg } from './dom.js';
import { yuan, compactYuan, monthText } from './format.js';
import { MONTHS_EN } from './strings.js';

/** Income and spending of `fund` per month, in fen (BigInt), from /api/v1/summary. */
export function monthly(summary, fund) {
  const months = (summary && summary.months) || [];
  return months.map((m) => {
    let income = 0n;
    let spending = 0n;
    for (const row of m.totals || []) {
      if (row.fund !== fund) continue;
      income += BigInt(row.income_fen);
      spending += BigInt(row.spending_fen);
    }
    return { month: m.month, income, spending };
  });
}

export function niceTop(max) {
  // Smallest 1/2/5 x 10^k (in fen) whose four steps reach max.
  if (max <= 0n) return 100n;
  let p = 100n;
  for (;;) {
    for (const m of [1n, 2n, 5n]) {
      if (m * p * 4n >= max) return m * p * 4n;
    }
    p *= 10n;
  }
}

/** "2024-03" -> "3月" or "Mar". */
export function monthLabel(month, lang, t) {
  const m = Number(month.slice(5, 7));
  return lang === 'zh' ? t('chart.month-label', { m }) : MONTHS_EN[m - 1] || month;
}

/**
 * The chart of `rows` (from monthly(), oldest first) for fund `fund`, shown
 * as `fundLabel`: [legend, svg chart, table]. `t` looks up strings in `lang`.
 */
export function chartParts(rows, { fund, fundLabel, lang, t }) {
  const W = 360;
  const H = 220;
  const left = 44;
  const right = 6;
  const top = 10;
  const bottom = 26;
  const plotH = H - top - bottom;
  const plotW = W - left - right;
  const clamp = (v) => (v < 0n ? 0n : v);
  let max = 0n;
  for (const r of rows) {
    if (clamp(r.income) > max) max = clamp(r.income);
    if (clamp(r.spending) > max) max = clamp(r.spending);
  }
  const topValue = niceTop(max);
  const y = (v) => top + plotH - Number((clamp(v) * BigInt(plotH)) / topValue);
  const slot = plotW / rows.length;
  const barW = Math.max(2, Math.floor(slot / 2) - 2);
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const v = (topValue * BigInt(i)) / 4n;
    const yy = y(v);
    parts.push(svg('line', { x1: left, x2: W - right, y1: yy, y2: yy, class: 'grid' }));
    parts.push(svg('text', { x: left - 4, y: yy + 4, class: 'axis', 'text-anchor': 'end' }, compactYuan(v, lang)));
  }
  rows.forEach((r, i) => {
    const x0 = left + slot * i + (slot - 2 * barW - 2) / 2;
    const yi = y(r.income);
    const ys = y(r.spending);
    parts.push(
      svg('rect', { x: x0.toFixed(1), y: yi, width: barW, height: top + plotH - yi, class: 'bar income' }, svg('title', {}, `${monthText(r.month, lang)} ${t('chart.income')} ${yuan(r.income)}`)),
      svg('rect', { x: (x0 + barW + 2).toFixed(1), y: ys, width: barW, height: top + plotH - ys, class: 'bar spending' }, svg('title', {}, `${monthText(r.month, lang)} ${t('chart.spending')} ${yuan(r.spending)}`)),
      svg('text', { x: (left + slot * i + slot / 2).toFixed(1), y: H - 8, class: 'axis', 'text-anchor': 'middle' }, monthLabel(r.month, lang, t)),
    );
  });
  const from = monthText(rows[0].month, lang);
  const to = monthText(rows[rows.length - 1].month, lang);
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': t('chart.aria', { fund: fundLabel, from, to }), 'data-fund': fund },
    parts,
  );
  let inTotal = 0n;
  let outTotal = 0n;
  for (const r of rows) {
    inTotal += r.income;
    outTotal += r.spending;
  }
  const legend = h(
    'p',
    { class: 'legend' },
    h('span', { class: 'item' }, h('span', { class: 'key income' }, ''), ` ${t('chart.income')} ${yuan(inTotal)}`),
    h('span', { class: 'item' }, h('span', { class: 'key spending' }, ''), ` ${t('chart.spending')} ${yuan(outTotal)}`),
    h('span', { class: 'item muted' }, `${from} – ${to}`),
  );
  const table = h(
    'details',
    {},
    h('summary', {}, t('chart.table')),
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('chart.month')), h('th', { scope: 'col' }, t('chart.income')), h('th', { scope: 'col' }, t('chart.spending')))),
      h(
        'tbody',
        {},
        rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, monthText(r.month, lang)), h('td', {}, yuan(r.income)), h('td', {}, yuan(r.spending)))),
        h('tr', { class: 'total' }, h('th', { scope: 'row' }, t('chart.total')), h('td', {}, yuan(inTotal)), h('td', {}, yuan(outTotal))),
      ),
    ),
  );
  return [legend, chart, table];
}

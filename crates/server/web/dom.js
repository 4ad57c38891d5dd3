// DOM helpers: build elements and SVG from plain values, and replace a
// section's contents. Text is always inserted as text nodes, never parsed
// as HTML, so nothing a server sends can become markup or script here.
// Nothing is checked or trusted in this file.

export const SVG_NS = 'http://www.w3.org/2000/svg';

function build(ns, tag, attrs, kids) {
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'value' && !ns) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** An HTML element; text children are always text nodes (never HTML). */
export function h(tag, attrs, ...kids) {
  return build(null, tag, attrs, kids);
}

/** An SVG element, built as h() builds HTML. */
export function svg(tag, attrs, ...kids) {
  return build(SVG_NS, tag, attrs, kids);
}

/** Replaces the children of #id (null, undefined and false are skipped). */
export function mount(id, ...kids) {
  const el = document.getElementById(id);
  if (!el) return null;
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return el;
}

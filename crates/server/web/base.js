// Where the ledger's page is served: '' at the root of its server,
// '/c/SLUG' under a district platform, or the folder of its index.html in
// a bucket the mirror writes. Every URL of the ledger is
// `${LEDGER_BASE}/…` (its API, checkpoint, tiles, receipts, assets), so
// one page works at both, and what the browser keeps (the pinned log
// key) is kept per ledger.

/** The ledger's base path in `pathname` (a page's, or a worker script's). */
export function ledgerBase(pathname = location.pathname) {
  const m = /^(\/c\/[a-z0-9-]{1,40})(?:\/|$)/.exec(pathname);
  return m ? m[1] : '';
}

/**
 * Whether this page is the static copy in a bucket (`serve --mirror`,
 * crates/mirror/src/page.rs), which marks its index.html with
 * <meta name="feeledger-source" content="mirror">: there is no API, only
 * the log's objects (checkpoint, tile/…) beside the page, and the page
 * takes everything it shows from the log it replays. A marker, not a
 * guess from a failed request: a server that is down is not a mirror.
 */
export const FROM_MIRROR = typeof document !== 'undefined' && document.querySelector('meta[name="feeledger-source"][content="mirror"]') !== null;

/** In a bucket the ledger's base is the folder index.html is in (`/BUCKET/PREFIX`), whatever the prefix looks like. */
export function mirrorBase(pathname = location.pathname) {
  return pathname.replace(/\/[^/]*$/, '');
}

export const LEDGER_BASE = FROM_MIRROR ? mirrorBase() : ledgerBase();

/** The localStorage key of the log key pinned for the ledger at `base`; at the root, the key pins always had. */
export function pinKey(base = LEDGER_BASE) {
  return base ? `feeledger.logkey.v1 ${base}` : 'feeledger.logkey.v1';
}

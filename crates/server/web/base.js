// Where the ledger's page is served: '' at the root of its server, or
// '/c/SLUG' under a district platform. Every URL of the ledger is
// `${LEDGER_BASE}/…` (its API, checkpoint, tiles, receipts, assets), so
// one page works at both, and what the browser keeps (the pinned log
// key) is kept per ledger.

/** The ledger's base path in `pathname` (a page's, or a worker script's). */
export function ledgerBase(pathname = location.pathname) {
  const m = /^(\/c\/[a-z0-9-]{1,40})(?:\/|$)/.exec(pathname);
  return m ? m[1] : '';
}

export const LEDGER_BASE = ledgerBase();

/** The localStorage key of the log key pinned for the ledger at `base`; at the root, the key pins always had. */
export function pinKey(base = LEDGER_BASE) {
  return base ? `feeledger.logkey.v1 ${base}` : 'feeledger.logkey.v1';
}

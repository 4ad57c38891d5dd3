// One IndexedDB object store, one transaction at a time: the keys this
// browser keeps for signing (keys.js) and the check's kept state
// (kept.js, read and written by the check's worker) both go through here.
//
// A store is {db, version, store, keyPath, more}: `more` ({name: keyPath or
// null for keys given with each record}, optional) names the database's
// other object stores, made with it. Its database is opened once per page
// or worker and kept open (opening costs a few milliseconds on every visit
// otherwise); it is closed when another page asks to upgrade it.

const connections = new Map();

function open({ db, version, store, keyPath, more = {} }) {
  let connection = connections.get(db);
  if (!connection) {
    connection = new Promise((resolve, reject) => {
      const req = indexedDB.open(db, version);
      req.onupgradeneeded = () => {
        for (const [name, path] of [[store, keyPath], ...Object.entries(more)]) {
          if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, path === null ? {} : { keyPath: path });
        }
      };
      req.onsuccess = () => {
        const opened = req.result;
        opened.onversionchange = () => {
          opened.close();
          connections.delete(db);
        };
        resolve(opened);
      };
      req.onerror = () => reject(req.error);
    });
    connections.set(db, connection);
    connection.catch(() => connections.delete(db));
  }
  return connection;
}

/**
 * Opens `spec`'s database now, so that its first transaction does not wait
 * for the open (a worker that opens it while its first message is on the
 * way). A failure is left for that transaction to meet.
 */
export function openEarly(spec) {
  try {
    open(spec).catch(() => {});
  } catch {
    // No IndexedDB here: the first transaction says so.
  }
}

/**
 * Runs `fn(objectStore)` in one transaction of `mode` on `spec`'s store and
 * resolves with the result of the request it returns, once the transaction
 * has committed. A failure rejects with the DOMException (or the error
 * opening failed with).
 */
export async function withStore(spec, mode, fn) {
  return withStores(spec, [spec.store], mode, (tx) => fn(tx.objectStore(spec.store)));
}

/**
 * Runs `fn(transaction)` in one transaction of `mode` over the stores
 * `names` of `spec`'s database, and resolves once it has committed: with the
 * result of the request `fn` returns, or with what else it returns (an
 * array its requests fill, say).
 */
export async function withStores(spec, names, mode, fn) {
  const db = await open(spec);
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const out = fn(tx);
    let value = out;
    if (out instanceof IDBRequest) {
      out.onsuccess = () => {
        value = out.result;
      };
    }
    tx.oncomplete = () => resolve(value);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

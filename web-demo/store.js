// store.js: keeps saved memories (TTT states) in the browser's IndexedDB, one
// per model, keyed by the model fingerprint that every saved state carries, so
// a memory comes back only into the model it belongs to.
const DB_NAME = 'bit-ttt-demo';
const STORE = 'memories';

function openDb() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this browser has no IndexedDB (private mode?)'));
      return;
    }
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`could not open IndexedDB: ${req.error?.message ?? 'unknown error'}`));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this page'));
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      let result;
      req.onsuccess = () => { result = req.result; };
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? 'request failed'}`));
      tx.onabort = () => reject(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction aborted (storage full?)'}`));
    });
  } finally {
    db.close();
  }
}

/** Stores a memory: { bytes: Uint8Array, tokens, modelName }; replaces the last one. */
export function putMemory(fingerprint, record) {
  return withStore('readwrite', (s) => s.put({ ...record, savedAt: Date.now() }, fingerprint));
}

/** The memory stored for this model, or undefined. */
export function getMemory(fingerprint) {
  return withStore('readonly', (s) => s.get(fingerprint));
}

// index.js: the bit-ttt package's main entry (Node, and unbundled use in
// browsers and workers): the API of core.js, with file paths and file: URLs
// read from disk where it runs in Node. Bundlers for the browser take
// browser.js instead (package.json "exports"), which has no node: import.
import { setFileReader } from './core.js';

if (typeof process === 'object' && process.versions && process.versions.node && typeof window === 'undefined') {
  setFileReader(async (pathOrUrl) => {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(pathOrUrl));
  });
}

export { loadModel, Model, listCachedModels, deleteCachedModel, estimateLoadBytes, hasWasmSimd, readModelHeader } from './core.js';

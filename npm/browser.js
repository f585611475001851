// browser.js: the bit-ttt package's "browser" entry (package.json
// "exports"), the API of core.js as it is: models come from URLs (fetched)
// or bytes, never from the file system, so a bundler meets no node: module.
export { loadModel, Model, listCachedModels, deleteCachedModel, estimateLoadBytes, hasWasmSimd, readModelHeader } from './core.js';

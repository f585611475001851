// cache.js: the browser's model cache of the bit-ttt package (loadModel's
// `cache` option, listCachedModels, deleteCachedModel). Models are kept in
// the origin private file system (navigator.storage.getDirectory), or in the
// Cache API where OPFS is missing, with what verified them (size, the model
// fingerprint the engine computed) so that a read can be checked again.
// Partial downloads are kept too, so a broken download resumes with an HTTP
// Range request. Browsers and workers only: elsewhere there is no store and
// every function here says so by returning null / [] / false.

const DIR = 'bit-ttt-models';
const CACHE_NAME = 'bit-ttt-models';

/** A quota error (storage full, or refused): the caller falls back to memory. */
export function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22);
}

// A file name for a URL: 53 bits of FNV-1a in hex twice over (the URL itself
// is in the entry's metadata and checked on read, so a collision is a miss).
function keyOf(url) {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `m-${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

// The Cache API keys partial downloads under the URL with a marker parameter.
function partialUrl(url) {
  const u = new URL(url);
  u.searchParams.append('bitt-partial', '1');
  return u.href;
}

async function readJson(dir, name) {
  try {
    const h = await dir.getFileHandle(name);
    return JSON.parse(await (await h.getFile()).text());
  } catch {
    return null;
  }
}

async function writeFile(dir, name, data) {
  const h = await dir.getFileHandle(name, { create: true });
  const w = await h.createWritable();
  try {
    await w.write(data);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

async function removeFile(dir, name) {
  try {
    await dir.removeEntry(name);
  } catch { /* not there */ }
}

// A File/Blob's bytes with progress reports (phase 'cache').
async function readBlob(blob, onProgress) {
  const total = blob.size;
  onProgress?.({ loaded: 0, total, phase: 'cache' });
  if (!blob.stream) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    onProgress?.({ loaded: total, total, phase: 'cache' });
    return bytes;
  }
  const out = new Uint8Array(total);
  const reader = blob.stream().getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > total) throw new Error('the cached file grew while it was read');
    out.set(value, at);
    at += value.length;
    onProgress?.({ loaded: at, total, phase: 'cache' });
  }
  if (at !== total) throw new Error(`the cached file gave ${at} of its ${total} bytes`);
  return out;
}

// ---- the two stores, one interface ----

class OpfsStore {
  constructor(dir) { this.dir = dir; this.kind = 'opfs'; }

  async get(url, onProgress) {
    const key = keyOf(url);
    const meta = await readJson(this.dir, `${key}.json`);
    if (!meta || meta.url !== url) return null;
    let file;
    try {
      file = await (await this.dir.getFileHandle(`${key}.bitt`)).getFile();
    } catch {
      return { meta, bytes: null, problem: 'its file is missing' };
    }
    if (file.size !== meta.size) return { meta, bytes: null, problem: `it has ${file.size} bytes, ${meta.size} were stored` };
    return { meta, bytes: await readBlob(file, onProgress) };
  }

  async put(url, bytes, meta) {
    const key = keyOf(url);
    try {
      await writeFile(this.dir, `${key}.bitt`, bytes);
      await writeFile(this.dir, `${key}.json`, JSON.stringify({ ...meta, url }));
    } catch (e) {
      await this.delete(url);
      throw e;
    }
  }

  async delete(url) {
    const key = keyOf(url);
    const meta = await readJson(this.dir, `${key}.json`);
    await removeFile(this.dir, `${key}.json`);
    await removeFile(this.dir, `${key}.bitt`);
    return !!meta;
  }

  async list() {
    const out = [];
    for await (const [name] of this.dir.entries()) {
      if (!name.endsWith('.json') || name.endsWith('.part.json')) continue;
      const meta = await readJson(this.dir, name);
      if (meta && typeof meta.url === 'string') out.push(meta);
    }
    return out;
  }

  async getPartial(url) {
    const key = keyOf(url);
    const meta = await readJson(this.dir, `${key}.part.json`);
    if (!meta || meta.url !== url) return null;
    try {
      const file = await (await this.dir.getFileHandle(`${key}.part`)).getFile();
      return { total: meta.total, validator: meta.validator ?? null, bytes: new Uint8Array(await file.arrayBuffer()) };
    } catch {
      return null;
    }
  }

  async putPartial(url, bytes, total, validator) {
    const key = keyOf(url);
    await writeFile(this.dir, `${key}.part`, bytes);
    await writeFile(this.dir, `${key}.part.json`, JSON.stringify({ url, total, validator, storedAt: Date.now() }));
  }

  async deletePartial(url) {
    const key = keyOf(url);
    await removeFile(this.dir, `${key}.part.json`);
    await removeFile(this.dir, `${key}.part`);
  }
}

class CacheApiStore {
  constructor(cache) { this.cache = cache; this.kind = 'cache-api'; }

  async get(url, onProgress) {
    const res = await this.cache.match(url);
    if (!res) return null;
    let meta;
    try {
      meta = JSON.parse(res.headers.get('x-bitt-meta'));
    } catch {
      meta = null;
    }
    if (!meta || meta.url !== url) return { meta: meta ?? { url }, bytes: null, problem: 'its metadata is missing' };
    const blob = await res.blob();
    if (blob.size !== meta.size) return { meta, bytes: null, problem: `it has ${blob.size} bytes, ${meta.size} were stored` };
    return { meta, bytes: await readBlob(blob, onProgress) };
  }

  async put(url, bytes, meta) {
    const headers = { 'content-type': 'application/octet-stream', 'x-bitt-meta': JSON.stringify({ ...meta, url }) };
    await this.cache.put(url, new Response(bytes, { headers }));
  }

  async delete(url) {
    return this.cache.delete(url);
  }

  async list() {
    const out = [];
    for (const req of await this.cache.keys()) {
      if (new URL(req.url).searchParams.has('bitt-partial')) continue;
      const res = await this.cache.match(req);
      try {
        const meta = JSON.parse(res.headers.get('x-bitt-meta'));
        if (meta && typeof meta.url === 'string') out.push(meta);
      } catch { /* not ours */ }
    }
    return out;
  }

  async getPartial(url) {
    const res = await this.cache.match(partialUrl(url));
    if (!res) return null;
    const total = Number(res.headers.get('x-bitt-total')) || 0;
    const validator = res.headers.get('x-bitt-validator') || null;
    return { total, validator, bytes: new Uint8Array(await res.arrayBuffer()) };
  }

  async putPartial(url, bytes, total, validator) {
    const headers = { 'x-bitt-total': String(total) };
    if (validator) headers['x-bitt-validator'] = validator;
    await this.cache.put(partialUrl(url), new Response(bytes, { headers }));
  }

  async deletePartial(url) {
    await this.cache.delete(partialUrl(url));
  }
}

/**
 * The store: OPFS where navigator.storage.getDirectory works, else the Cache
 * API, else null (Node, or a browser with neither). A quota error from OPFS
 * is thrown (the caller keeps the model in memory and warns); any other
 * failure of OPFS (missing, private mode) falls back to the Cache API.
 */
export async function openStore() {
  const storage = globalThis.navigator?.storage;
  if (storage && typeof storage.getDirectory === 'function') {
    try {
      const root = await storage.getDirectory();
      return new OpfsStore(await root.getDirectoryHandle(DIR, { create: true }));
    } catch (e) {
      if (isQuotaError(e)) throw e;
    }
  }
  if (globalThis.caches && typeof globalThis.caches.open === 'function') {
    try {
      return new CacheApiStore(await globalThis.caches.open(CACHE_NAME));
    } catch (e) {
      if (isQuotaError(e)) throw e;
    }
  }
  return null;
}

/** The store, or null where there is none (or storage refused it). */
async function storeOrNull() {
  try {
    return await openStore();
  } catch {
    return null;
  }
}

/**
 * The models in this origin's cache: [{url, size, fingerprint, storedAt}]
 * (storedAt: milliseconds since 1970), newest first; [] where there is no cache.
 */
export async function listCachedModels() {
  const store = await storeOrNull();
  if (!store) return [];
  const list = await store.list();
  return list.map(({ url, size, fingerprint, storedAt }) => ({ url, size, fingerprint, storedAt }))
    .sort((a, b) => b.storedAt - a.storedAt);
}

/** Deletes a cached model (and any partial download of it); true if it was there. */
export async function deleteCachedModel(url) {
  if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError(`deleteCachedModel: expected a URL string (got ${typeof url})`);
  let href;
  try {
    href = new URL(String(url), globalThis.location?.href).href;
  } catch {
    throw new TypeError(`deleteCachedModel: ${url} is not a URL (cached models are keyed by their absolute URL)`);
  }
  const store = await storeOrNull();
  if (!store) return false;
  await store.deletePartial(href);
  return store.delete(href);
}

// load.test.mjs: loadModel's progress reports and downloads in Node: the
// phases of a path, a Blob and bytes load ('read', 'init'), the estimate of
// the memory a model needs, the model fingerprint (the one saved states
// carry), a download over HTTP ('network', monotonic, ending at the file
// size), one that breaks in the middle and resumes with a Range request, and
// `cache: true`, which Node has no store for and ignores.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { deleteCachedModel, estimateLoadBytes, hasWasmSimd, listCachedModels, loadModel, readModelHeader }
  from '../../npm/index.js';
import { startServer } from '../../scripts/serve.mjs';
import { readSafetensorsMeta } from '../../web-demo/util.js';
import { collect, makeModels, tempDir } from './helpers.mjs';

// Checks a list of progress events: phases in order, loaded never going back within a phase and
// never past total, each phase ending at its total.
function checkProgress(events, phases, size) {
  assert.deepEqual([...new Set(events.map((e) => e.phase))], phases);
  for (const phase of phases) {
    const ev = events.filter((e) => e.phase === phase);
    for (let i = 1; i < ev.length; i++) assert.ok(ev[i].loaded >= ev[i - 1].loaded, `${phase}: ${ev[i - 1].loaded} then ${ev[i].loaded}`);
    for (const e of ev) assert.ok(e.loaded <= e.total, `${phase}: ${e.loaded} > ${e.total}`);
    assert.equal(ev.at(-1).loaded, size);
    assert.equal(ev.at(-1).total, size);
  }
  const init = events.filter((e) => e.phase === 'init');
  assert.equal(init[0].loaded, 0);
  assert.equal(init[0].estimatedBytes, estimateLoadBytes(size));
}

test('loadModel progress, fingerprint, downloads', async (t) => {
  const dir = tempDir(t);
  const path = makeModels(dir)['v2-linear'];
  const bytes = new Uint8Array(readFileSync(path));
  const size = bytes.length;
  assert.equal(hasWasmSimd(), true);

  let reference;
  await t.test('a path: read then init; the fingerprint is the saved state\'s', async () => {
    const events = [];
    const m = await loadModel(path, { onProgress: (e) => events.push(e) });
    checkProgress(events, ['read', 'init'], size);
    assert.match(m.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(m.fingerprint, readSafetensorsMeta(m.saveState()).model_fingerprint);
    assert.equal(m.fromCache, false);
    reference = await collect(m.generate('Hi', { maxTokens: 12, temperature: 0 }));
    m.dispose();
    assert.ok(estimateLoadBytes(size) > size);
  });

  await t.test('bytes: init only; a Blob: read then init', async () => {
    let events = [];
    const m = await loadModel(bytes, { onProgress: (e) => events.push(e) });
    checkProgress(events, ['init'], size);
    m.dispose();
    events = [];
    const b = await loadModel(new Blob([bytes]), { onProgress: (e) => events.push(e) });
    checkProgress(events, ['read', 'init'], size);
    assert.equal(await collect(b.generate('Hi', { maxTokens: 12, temperature: 0 })), reference);
    b.dispose();
  });

  await t.test('readModelHeader: the config before loading, from bytes, the start of a file or a Blob', async () => {
    const m = await loadModel(bytes);
    const whole = await readModelHeader(bytes);
    assert.deepEqual(whole.config, JSON.parse(JSON.stringify(m.info.config)));
    assert.equal(whole.bitt_version, m.info.bitt_version);
    assert.equal(whole.fileBytes, size);
    assert.equal(whole.estimatedBytes, estimateLoadBytes(size));
    m.dispose();
    const start = bytes.subarray(0, whole.headerBytes);
    assert.deepEqual(await readModelHeader(start, { fileBytes: size }), whole);
    assert.deepEqual(await readModelHeader(new Blob([bytes])), whole);
    await assert.rejects(readModelHeader(bytes.subarray(0, whole.headerBytes - 1), { fileBytes: size }),
      new RegExp(`readModelHeader: the header is \\d+ bytes: pass at least the first ${whole.headerBytes} bytes`));
    await assert.rejects(readModelHeader(new Uint8Array(64)), /readModelHeader: not a \.bitt model \(it does not start with the magic BITT\)/);
    await assert.rejects(readModelHeader('m.bitt'), { name: 'TypeError' });
  });

  await t.test('an engine without WebAssembly SIMD gets a clear error', async () => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false; // a new wasm source below, so the engine is instantiated again
    try {
      assert.equal(hasWasmSimd(), false);
      await assert.rejects(loadModel(bytes, { wasm: new URL('../../npm/bitt.wasm?no-simd', import.meta.url) }),
        /bit-ttt: this JavaScript engine lacks WebAssembly SIMD \(128-bit vector instructions\)/);
    } finally {
      WebAssembly.validate = validate;
    }
  });

  await t.test('bad options', async () => {
    await assert.rejects(loadModel(bytes, { onProgress: 1 }), { name: 'TypeError', message: /onProgress must be a function/ });
    await assert.rejects(loadModel(bytes, { cache: 'yes' }), { name: 'TypeError', message: /cache must be a boolean/ });
    await assert.rejects(loadModel(bytes, { retries: -1 }), { name: 'TypeError', message: /retries must be a non-negative integer/ });
  });

  // the model over HTTP; cut: bytes after which the first GET of /cut/m.bitt is broken off
  const requests = [];
  const cut = Math.floor(size / 3);
  let cutDone = false;
  const srv = await startServer({
    port: 0,
    models: dir,
    hook(req, res, pathname) {
      requests.push({ path: pathname, range: req.headers.range ?? null });
      if (pathname !== '/cut/m.bitt') return false;
      if (!cutDone) {
        cutDone = true;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        res.write(bytes.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
        return true;
      }
      return `/models/${path.split('/').at(-1)}`; // the rest: the static server, with Range
    },
  });
  t.after(() => srv.server.close());
  const name = path.split('/').at(-1);

  await t.test('a URL: network then init; cache: true is ignored in Node', async () => {
    const events = [];
    const warnings = [];
    const m = await loadModel(`${srv.url}models/${name}`, { cache: true, onProgress: (e) => events.push(e),
      onWarning: (w) => warnings.push(w) });
    checkProgress(events, ['network', 'init'], size);
    assert.equal(events[0].loaded, 0);
    assert.deepEqual(warnings, []);
    assert.equal(m.fromCache, false);
    assert.equal(await collect(m.generate('Hi', { maxTokens: 12, temperature: 0 })), reference);
    m.dispose();
    assert.deepEqual(await listCachedModels(), []);
    assert.equal(await deleteCachedModel(`${srv.url}models/${name}`), false);
    await assert.rejects(deleteCachedModel('m.bitt'), { name: 'TypeError', message: /deleteCachedModel: m\.bitt is not a URL/ });
  });

  await t.test('a download broken in the middle resumes with Range: bytes=N-', async () => {
    requests.length = 0;
    const events = [];
    const m = await loadModel(`${srv.url}cut/m.bitt`, { onProgress: (e) => events.push(e) });
    checkProgress(events, ['network', 'init'], size);
    const cutRequests = requests.filter((r) => r.path === '/cut/m.bitt');
    assert.equal(cutRequests.length, 2);
    assert.equal(cutRequests[0].range, null);
    assert.equal(cutRequests[1].range, `bytes=${cut}-`);
    assert.equal(await collect(m.generate('Hi', { maxTokens: 12, temperature: 0 })), reference);
    m.dispose();
  });

  await t.test('an AbortSignal stops a download (here: from the first progress report)', async () => {
    const ac = new AbortController();
    await assert.rejects(loadModel(`${srv.url}models/${name}`, { signal: ac.signal, onProgress: () => ac.abort() }),
      { name: 'AbortError' });
    await assert.rejects(loadModel(bytes, { signal: 'x' }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
  });

  await t.test('a download that keeps breaking fails clearly after the retries', async () => {
    cutDone = false;
    await assert.rejects(loadModel(`${srv.url}cut/m.bitt`, { retries: 0 }),
      /loadModel: the download of .*cut\/m\.bitt broke after \d+ of \d+ bytes \(1 tries/);
  });
});

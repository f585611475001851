// load.test.mjs: model loading in headless Chromium: the package's
// loadModel in a page (progress reports, the OPFS model cache and its
// checks, a corrupted cache entry refetched, listCachedModels and
// deleteCachedModel, a download broken off in the middle resumed with a
// Range request, a storage quota error falling back to memory, the Cache API
// where OPFS fails otherwise), then the web demo's side of it (progress with
// phase and memory estimate, the "cached" badge, the list of cached models
// with delete buttons). The test server breaks the first download of
// /cut/NAME after `cut` bytes (while breakNext) and logs every request's
// Range header; a model that changes on the server between the broken
// download and its resumption is downloaded again from the start.
//
//   cd tests/browser && npm ci          (once: playwright-core)
//   node --test tests/browser/load.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const CHROMIUM = process.env.BITT_CHROMIUM ?? '/usr/bin/chromium';
const CLI = process.env.BITT_CLI ?? path.join(repo, 'build/bitt');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const skip = existsSync(CHROMIUM) ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (or set BITT_CHROMIUM) to run the browser test`;
const GREEDY = { maxTokens: 12, temperature: 0 };

describe('model loading and the model cache in headless Chromium', { skip, timeout: 120000 }, () => {
  let tmp;
  let srv;
  let browser;
  let size;
  let cut;
  let reference; // the Node package's greedy text
  let otherReference; // the same for other.bitt (the same size, other weights)
  const requests = [];
  let breakNext = true;

  before(async () => {
    if (!existsSync(CLI)) throw new Error(`the browser test needs the native CLI at ${CLI} (cmake --preset native && cmake --build --preset native)`);
    if (!existsSync(path.join(repo, 'npm/bitt.wasm'))) throw new Error('the browser test needs npm/bitt.wasm (cmake --preset wasm && cmake --build --preset wasm)');
    const { chromium } = await import('playwright-core');
    tmp = mkdtempSync(path.join(tmpdir(), 'bitt-load-'));
    const modelPath = path.join(tmp, 'm.bitt');
    const init = (out, seed) => execFileSync(CLI, ['init', '--out', out, '--packed', '--dim', '64', '--layers', '2',
      '--vocab', '512', '--seed', String(seed)], { stdio: 'pipe' });
    init(modelPath, 3);
    init(path.join(tmp, 'other.bitt'), 4);
    const bytes = readFileSync(modelPath);
    size = bytes.length;
    cut = Math.floor(size / 3);
    const bitt = await import('../../npm/index.js');
    const greedy = async (file) => {
      const m = await bitt.loadModel(file);
      let text = '';
      for await (const piece of m.generate('Hi', GREEDY)) text += piece;
      m.dispose();
      return text;
    };
    reference = await greedy(modelPath);
    otherReference = await greedy(path.join(tmp, 'other.bitt'));
    assert.notEqual(otherReference, reference);
    assert.equal(statSync(path.join(tmp, 'other.bitt')).size, size);

    srv = await startServer({
      port: 0,
      models: tmp,
      hook(req, res, pathname) {
        if (pathname.endsWith('.bitt')) requests.push({ path: pathname, range: req.headers.range ?? null });
        if (pathname === '/blank.html') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end('<!doctype html><title>blank</title>');
          return true;
        }
        const m = /^\/cut\/(\w+\.bitt)$/.exec(pathname);
        if (!m) return false;
        // answered here, not by serve.mjs, with no-store: Chromium's HTTP cache would otherwise fill in ranges itself
        const file = path.join(tmp, m[1]);
        const info = statSync(file);
        const data = readFileSync(file);
        const headers = { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'accept-ranges': 'bytes',
          etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"` }; // as serve.mjs
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          res.writeHead(206, { ...headers, 'content-length': info.size - start, 'content-range': `bytes ${start}-${info.size - 1}/${info.size}` });
          res.end(data.subarray(start));
        } else if (breakNext) {
          breakNext = false;
          res.writeHead(200, { ...headers, 'content-length': info.size });
          res.write(data.subarray(0, cut), () => setTimeout(() => res.destroy(), 50));
        } else {
          res.writeHead(200, { ...headers, 'content-length': info.size });
          res.end(data);
        }
        return true;
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    srv?.server.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // A page of the server's origin with the package imported as window.bitt.
  async function packagePage(context) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.errors = errors;
    await page.goto(`${srv.url}blank.html`);
    await page.evaluate(async () => { window.bitt = await import('/npm/browser.js'); });
    return page;
  }

  // loadModel(url, options) in the page: progress events, warnings, fromCache, fingerprint, greedy text.
  function load(page, url, options = {}) {
    return page.evaluate(async ({ url, options, greedy }) => {
      const events = [];
      const warnings = [];
      const m = await window.bitt.loadModel(url, { ...options, onProgress: (e) => events.push(e), onWarning: (w) => warnings.push(w) });
      let text = '';
      for await (const piece of m.generate('Hi', greedy)) text += piece;
      const out = { events, warnings, fromCache: m.fromCache, fingerprint: m.fingerprint, text };
      m.dispose();
      return out;
    }, { url, options, greedy: GREEDY });
  }

  function checkProgress(events, phases) {
    assert.deepEqual([...new Set(events.map((e) => e.phase))], phases);
    for (const phase of phases) {
      const ev = events.filter((e) => e.phase === phase);
      for (let i = 1; i < ev.length; i++) assert.ok(ev[i].loaded >= ev[i - 1].loaded, `${phase} progress went back`);
      for (const e of ev) assert.ok(e.loaded <= e.total);
      assert.deepEqual([ev.at(-1).loaded, ev.at(-1).total], [size, size], `${phase} ends at the file size`);
    }
    assert.ok(events.find((e) => e.phase === 'init').estimatedBytes > size);
  }

  const list = (page) => page.evaluate(() => window.bitt.listCachedModels());

  it('caches a download, loads it again from the cache, refetches a corrupted entry, deletes it', async () => {
    const context = await browser.newContext();
    const page = await packagePage(context);
    const url = `${srv.url}models/m.bitt`;

    const first = await load(page, url, { cache: true });
    checkProgress(first.events, ['network', 'init']);
    assert.equal(first.fromCache, false);
    assert.equal(first.text, reference);
    assert.deepEqual(first.warnings, []);
    const [entry, ...more] = await list(page);
    assert.equal(more.length, 0);
    assert.equal(entry.url, url);
    assert.equal(entry.size, size);
    assert.equal(entry.fingerprint, first.fingerprint);
    assert.ok(Math.abs(entry.storedAt - Date.now()) < 60000);

    requests.length = 0;
    const second = await load(page, url, { cache: true });
    checkProgress(second.events, ['cache', 'init']);
    assert.equal(second.fromCache, true);
    assert.equal(second.text, reference);
    assert.deepEqual(requests, [], 'nothing downloaded');

    // garbage over the weights (the magic and the size kept): the fingerprint catches it
    const corrupted = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('bit-ttt-models');
      for await (const [name, handle] of dir.entries()) {
        if (!name.endsWith('.bitt')) continue;
        const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
        for (let i = Math.floor(bytes.length / 2); i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 255;
        const w = await handle.createWritable();
        await w.write(bytes);
        await w.close();
        return name;
      }
      return null;
    });
    assert.ok(corrupted, 'the cached model is a .bitt file in OPFS');
    const third = await load(page, url, { cache: true });
    assert.equal(third.warnings.length, 1);
    assert.match(third.warnings[0], /cached copy of .*m\.bitt is corrupt .*deleted and downloaded again/);
    assert.deepEqual([...new Set(third.events.map((e) => e.phase))].filter((p) => p !== 'init'), ['cache', 'network']);
    assert.equal(third.fromCache, false);
    assert.equal(third.text, reference);
    assert.equal((await list(page)).length, 1, 'stored again');
    assert.equal((await load(page, url, { cache: true })).fromCache, true);

    assert.equal(await page.evaluate((u) => window.bitt.deleteCachedModel(u), url), true);
    assert.deepEqual(await list(page), []);
    assert.equal(await page.evaluate((u) => window.bitt.deleteCachedModel(u), url), false);
    assert.deepEqual(page.errors, []);
    await context.close();
  });

  it('resumes a download broken off in the middle with Range: bytes=N-, within a load and across loads', async () => {
    const context = await browser.newContext();
    const page = await packagePage(context);
    const url = `${srv.url}cut/m.bitt`;

    requests.length = 0;
    breakNext = true;
    const within = await load(page, url, { cache: true });
    checkProgress(within.events, ['network', 'init']);
    assert.equal(within.text, reference);
    assert.deepEqual(requests.map((r) => r.range), [null, `bytes=${cut}-`]);
    await page.evaluate((u) => window.bitt.deleteCachedModel(u), url);

    // no retries: the load fails, the bytes so far stay in the cache store, the next load goes on from them
    requests.length = 0;
    breakNext = true;
    const err = await page.evaluate((u) => window.bitt.loadModel(u, { cache: true, retries: 0 }).then(() => null, (e) => e.message), url);
    assert.match(err, /broke after \d+ of \d+ bytes.*resumes from there/);
    const again = await load(page, url, { cache: true });
    assert.equal(again.text, reference);
    assert.deepEqual(requests.map((r) => r.range), [null, `bytes=${cut}-`]);
    const net = again.events.filter((e) => e.phase === 'network');
    assert.equal(net[0].loaded, cut, 'progress starts at the bytes kept');
    assert.equal((await list(page)).length, 1);

    // the file changes on the server between the broken download and the next load: its ETag differs, so it starts over
    copyFileSync(path.join(tmp, 'm.bitt'), path.join(tmp, 'c.bitt'));
    const changing = `${srv.url}cut/c.bitt`;
    breakNext = true;
    await page.evaluate((u) => window.bitt.loadModel(u, { cache: true, retries: 0 }).then(() => null, (e) => e.message), changing);
    copyFileSync(path.join(tmp, 'other.bitt'), path.join(tmp, 'c.bitt'));
    const later = new Date(Date.now() + 60000);
    utimesSync(path.join(tmp, 'c.bitt'), later, later);
    requests.length = 0;
    const changed = await load(page, changing, { cache: true });
    assert.equal(changed.text, otherReference);
    assert.equal(changed.warnings.length, 1);
    assert.match(changed.warnings[0], /c\.bitt changed on the server since the first \d+ bytes came .*again from the start/);
    assert.deepEqual(requests.map((r) => r.range), [`bytes=${cut}-`, null]);
    await context.close();
  });

  it('falls back to memory on a storage quota error, to the Cache API where OPFS is refused, to memory without either', async () => {
    const context = await browser.newContext();
    const page = await packagePage(context);
    const url = `${srv.url}models/m.bitt`;
    await page.evaluate(() => {
      navigator.storage.getDirectory = () => Promise.reject(new DOMException('the quota is used up', 'QuotaExceededError'));
    });
    const quota = await load(page, url, { cache: true });
    assert.equal(quota.text, reference);
    assert.equal(quota.fromCache, false);
    assert.equal(quota.warnings.length, 1);
    assert.match(quota.warnings[0], /storage quota .*kept in memory only/);
    assert.deepEqual(await list(page), []);

    await page.evaluate(() => {
      navigator.storage.getDirectory = () => Promise.reject(new DOMException('no OPFS here', 'SecurityError'));
    });
    const a = await load(page, url, { cache: true });
    assert.deepEqual(a.warnings, []);
    assert.equal(a.fromCache, false);
    const b = await load(page, url, { cache: true });
    assert.equal(b.fromCache, true, 'the second load comes from the Cache API');
    checkProgress(b.events, ['cache', 'init']);
    assert.equal(b.text, reference);
    assert.deepEqual((await list(page)).map((e) => e.url), [url]);
    assert.equal(await page.evaluate((u) => window.bitt.deleteCachedModel(u), url), true);
    assert.equal(await page.evaluate(() => caches.has('bit-ttt-models')), true);
    assert.equal(await page.evaluate(async () => (await (await caches.open('bit-ttt-models')).keys()).length), 0);

    // neither store opens: kept in memory, one warning
    await page.evaluate(() => { caches.open = () => Promise.reject(new DOMException('no caches', 'SecurityError')); });
    const none = await load(page, url, { cache: true });
    assert.equal(none.text, reference);
    assert.equal(none.warnings.length, 1);
    assert.match(none.warnings[0], /no model cache .*kept in memory only/);
    await context.close();
  });

  it('the demo: progress with phase and memory estimate, a "cached" badge, cached models listed and deleted', async () => {
    const context = await browser.newContext();
    // every text of the progress line, as it changes
    await context.addInitScript(() => {
      window.progressTexts = [];
      document.addEventListener('DOMContentLoaded', () => {
        const t = document.querySelector('#progress-text');
        new MutationObserver(() => window.progressTexts.push(t.textContent)).observe(t, { childList: true, characterData: true, subtree: true });
      });
    });
    const open = async () => {
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(e.message));
      await page.goto(`${srv.url}web-demo/?model=/models/m.bitt`);
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status').dataset.kind), null, { timeout: 20000 });
      assert.match(await page.textContent('#status'), /ready/, await page.textContent('#alert-text'));
      return page;
    };
    const first = await open();
    assert.equal(await first.isHidden('#cached-badge'), true);
    let texts = await first.evaluate(() => window.progressTexts);
    assert.ok(texts.some((t) => /^Downloading m\.bitt: .* of .*\(\d+%\)/.test(t)), texts.join(' | '));
    assert.ok(texts.some((t) => /^Preparing m\.bitt \(.*; needs about .* of memory to load\)/.test(t)), texts.join(' | '));
    await first.waitForFunction(() => document.querySelectorAll('#cached-models li').length === 1);
    assert.equal(await first.getAttribute('#cached-models li', 'data-url'), `${srv.url}models/m.bitt`);
    await first.close();

    const second = await open();
    assert.equal(await second.isVisible('#cached-badge'), true);
    texts = await second.evaluate(() => window.progressTexts);
    assert.ok(texts.some((t) => /^Reading m\.bitt from this browser's cache: /.test(t)), texts.join(' | '));
    assert.match(await second.textContent('#output'), /Loaded m\.bitt from this browser's cache/);
    await second.waitForFunction(() => document.querySelectorAll('#cached-models li').length === 1);
    await second.click('#cached-models li .delete-cached');
    await second.waitForFunction(() => document.querySelectorAll('#cached-models li').length === 0);
    assert.equal(await second.isHidden('#cache-box'), true);
    assert.deepEqual(await second.evaluate(async () => (await import('/npm/browser.js')).listCachedModels()), []);
    assert.deepEqual(second.errors, []);
    await context.close();
  });
});

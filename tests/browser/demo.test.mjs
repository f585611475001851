// demo.test.mjs: end-to-end test of the web demo in headless Chromium
// (Debian's package, driven by playwright-core). A random model made by the
// native CLI is served by scripts/serve.mjs; the test loads it by ?model= and
// by the file input, chats (Enter sends, Shift+Enter is a newline), watches
// text stream into #output and tok/s into #status, stops a reply, saves the
// memory (IndexedDB and a download), resets and restores it, teaches, and
// checks every reply against the Node package (npm/index.js) with the same
// seed and memory. Bad files, a browser without SIMD and a phone-width layout
// are covered too.
//
//   cd tests/browser && npm install     (once: playwright-core, no browser download)
//   node --test tests/browser           (BITT_CLI=path/to/bitt, BITT_CHROMIUM=path/to/chromium)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { formatBytes, kvCacheBytes, memoryTokenCount } from '../../web-demo/util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const CHROMIUM = process.env.BITT_CHROMIUM ?? '/usr/bin/chromium';
const CLI = process.env.BITT_CLI ?? path.join(repo, 'build/bitt');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const skip = existsSync(CHROMIUM) ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (or set BITT_CHROMIUM) to run the browser test`;

// Sampling settings: the page's form and the Node package take the same values.
const SAMPLED = { temperature: 0.8, topK: 40, topP: 0.95, maxTokens: 96, seed: 1234 };

describe('web demo in headless Chromium', { skip, timeout: 120000 }, () => {
  let tmp;
  let srv;
  let browser;
  let context;
  let bitt; // the Node package
  let modelPath;
  let savedMemoryPath;
  let savedTokens;
  const base = () => `${srv.url}web-demo/`;

  before(async () => {
    const missing = [];
    if (!existsSync(CLI)) missing.push(`the native CLI at ${CLI} (build it: cmake --preset native && cmake --build --preset native, or set BITT_CLI)`);
    for (const f of ['npm/index.js', 'npm/bitt.wasm']) {
      if (!existsSync(path.join(repo, f))) missing.push(`${f} (build the package: cmake --preset wasm && cmake --build --preset wasm)`);
    }
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch {
      missing.push('playwright-core (run: cd tests/browser && npm install)');
    }
    if (missing.length) throw new Error(`the browser test needs: ${missing.join('; ')}`);

    tmp = mkdtempSync(path.join(tmpdir(), 'bitt-demo-'));
    modelPath = path.join(tmp, 'm.bitt');
    const init = (out, seed) => execFileSync(CLI, ['init', '--out', out, '--packed', '--dim', '64', '--layers', '2',
      '--vocab', '512', '--seed', String(seed)], { stdio: 'pipe' });
    init(modelPath, 1);
    init(path.join(tmp, 'other.bitt'), 2);
    const good = readFileSync(modelPath);
    writeFileSync(path.join(tmp, 'truncated.bitt'), good.subarray(0, Math.floor(good.length / 2)));
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 255;
    writeFileSync(path.join(tmp, 'garbage.bitt'), garbage);

    bitt = await import('../../npm/index.js');
    srv = await startServer({ port: 0, models: tmp });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  });

  after(async () => {
    await browser?.close();
    srv?.server.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // ---- helpers ----

  async function openPage(query = '', ctx = context) {
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.errors = errors;
    await page.goto(base() + query);
    return page;
  }

  const statusText = (page) => page.textContent('#status');

  async function waitReady(page) {
    await page.waitForFunction(() => {
      const s = document.querySelector('#status');
      return s.dataset.kind === 'ready' || s.dataset.kind === 'error';
    }, null, { timeout: 20000 });
    const s = await statusText(page);
    assert.match(s, /ready/, `status should say ready, says: ${s}; alert: ${await page.textContent('#alert-text')}`);
  }

  async function setSampling(page, o) {
    await page.$eval('#settings-box', (d) => { d.open = true; }); // closed on a phone
    await page.fill('#temperature', String(o.temperature));
    await page.fill('#top-k', String(o.topK));
    await page.fill('#top-p', String(o.topP));
    await page.fill('#max-tokens', String(o.maxTokens));
    await page.fill('#seed', String(o.seed));
    // the newer options: as given, else their "off" values
    await page.fill('#min-p', String(o.minP ?? 0));
    await page.fill('#repetition-penalty', String(o.repetitionPenalty ?? 1));
    await page.fill('#presence-penalty', String(o.presencePenalty ?? 0));
    await page.fill('#frequency-penalty', String(o.frequencyPenalty ?? 0));
    await page.fill('#stop-strings', (o.stop ?? []).map((x) => x.replace(/\\/g, '\\\\').replace(/\|/g, '\\|')
      .replace(/\n/g, '\\n')).join('|'));
  }

  // Types a prompt, sends it with Enter, waits for the reply to end.
  async function chat(page, prompt, options) {
    await setSampling(page, options);
    await page.fill('#prompt', prompt);
    const before = await page.locator('#output .msg.bot').count();
    await page.press('#prompt', 'Enter');
    await page.waitForFunction((n) => {
      const bots = document.querySelectorAll('#output .msg.bot');
      return bots.length > n && bots[bots.length - 1].dataset.state !== 'streaming';
    }, before, { timeout: 30000 });
    return page.evaluate(() => {
      const bots = document.querySelectorAll('#output .msg.bot');
      const last = bots[bots.length - 1];
      return { text: last.querySelector('.text').textContent, state: last.dataset.state, tokens: Number(last.dataset.tokens) };
    });
  }

  // The same turn in the Node package: generate from a given memory.
  async function nodeReply(prompt, options, { state, learnFirst } = {}) {
    const model = await bitt.loadModel(new Uint8Array(readFileSync(modelPath)));
    try {
      if (state) model.loadState(state);
      if (learnFirst) model.learn(learnFirst);
      let text = '';
      for await (const piece of model.generate(prompt, options)) text += piece;
      return text;
    } finally {
      model.dispose();
    }
  }

  const memoryTokens = (page) => page.$eval('#memory-tokens', (e) => Number(e.dataset.tokens));
  const stateBytes = (page) => page.$eval('#memory-size', (e) => Number(e.dataset.stateBytes));
  const alertText = (page) => page.$eval('#alert', (e) => (e.hidden ? '' : e.textContent));

  async function clickAndWaitIdle(page, selector) {
    await page.click(selector);
    await page.waitForFunction(() => document.querySelector('#status').dataset.kind !== 'busy'
      && !document.querySelector('#reset-memory').disabled, null, { timeout: 20000 });
  }

  // ---- the tests ----

  it('loads a model from ?model=URL and shows its info', async () => {
    const page = await openPage('?model=/models/m.bitt');
    await waitReady(page);
    assert.equal(await page.inputValue('#model-url'), '/models/m.bitt');
    const model = await bitt.loadModel(new Uint8Array(readFileSync(modelPath)));
    const info = model.info;
    model.dispose();
    assert.equal(await page.$eval('#model-info', (e) => e.dataset.params), String(info.params));
    assert.equal(await page.$eval('#model-info', (e) => e.dataset.version), '2');
    const infoText = await page.textContent('#model-info');
    assert.match(infoText, new RegExp(formatBytes(readFileSync(modelPath).length).replace('.', '\\.')));
    assert.match(infoText, /2 layers × 64 dims/);
    assert.equal(await memoryTokens(page), 0);
    assert.equal(await stateBytes(page), info.state_bytes, 'the memory size is shown');
    assert.match(await page.textContent('#memory-size'), new RegExp(formatBytes(info.state_bytes)));
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('opens with the story model the repository ships, its model card one click away', async () => {
    const shipped = path.join(repo, 'web-demo/models/story-gate.bitt');
    assert.ok(existsSync(shipped), 'web-demo/models/story-gate.bitt is in the repository (scripts/train_demo_model.sh)');
    const page = await openPage();
    await waitReady(page);
    const model = await bitt.loadModel(new Uint8Array(readFileSync(shipped)));
    const info = model.info;
    model.dispose();
    assert.equal(await page.$eval('#model-info', (e) => e.dataset.params), String(info.params));
    assert.equal(await page.inputValue('#model-url'), '', 'no URL was typed');
    const card = await page.evaluate(async () => {
      const res = await fetch(document.querySelector('#model-card-link').href);
      return { ok: res.ok, text: await res.text() };
    });
    assert.ok(card.ok, 'the model card is served beside the model');
    assert.match(card.text, /CDLA-Sharing-1\.0/);
    assert.match(card.text, /nats\/token/);
    const reply = await chat(page, 'Once upon a time', { ...SAMPLED, seed: 5, maxTokens: 24 });
    assert.ok(reply.text.trim().length > 0 && reply.tokens > 0, 'the shipped model answers');
    // "load it again" reloads it (from this browser's cache now)
    await page.click('#load-shipped');
    await waitReady(page);
    assert.equal(await page.$eval('#model-info', (e) => e.dataset.params), String(info.params));
    assert.equal(await memoryTokens(page), 0, 'a fresh load starts with an empty memory');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('chats: Shift+Enter is a newline, Enter sends, same text as the Node package', async () => {
    const page = await openPage('?model=/models/m.bitt');
    await waitReady(page);
    await setSampling(page, SAMPLED);
    await page.click('#prompt');
    await page.keyboard.type('Once upon a time');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('there was');
    assert.equal(await page.inputValue('#prompt'), 'Once upon a time\nthere was');
    assert.equal(await page.locator('#output .msg.user').count(), 0, 'Shift+Enter must not send');
    const bots = page.locator('#output .msg.bot');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#output .msg.bot')?.dataset.state === 'done',
      null, { timeout: 30000 });
    assert.equal(await page.textContent('#output .msg.user'), 'Once upon a time\nthere was');
    const text = await bots.first().locator('.text').textContent();
    const status = await statusText(page);
    assert.match(status, /ready/);
    assert.match(status, /\d+ tokens at [\d.]+ tok\/s/);
    const expected = await nodeReply('Once upon a time\nthere was', SAMPLED);
    assert.ok(expected.length > 0, 'the Node package produced text');
    assert.equal(text, expected, 'the browser and Node give the same text for the same seed');
    // a second turn continues the conversation: the same prompt and seed now answer differently
    const second = await chat(page, 'Once upon a time\nthere was', SAMPLED);
    assert.equal(second.state, 'done');
    assert.notEqual(second.text, text, 'the memory carries the first turn');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('min-p, the penalties and stop strings give the Node package\'s text', async () => {
    const page = await openPage('?model=/models/m.bitt');
    await waitReady(page);
    const rich = { ...SAMPLED, minP: 0.05, repetitionPenalty: 1.3, presencePenalty: 0.4, frequencyPenalty: 0.2 };
    const free = await nodeReply('The dog', rich);
    // a stop string from the middle of that text (printable ASCII: the same bytes in the page and in Node)
    const runs = [...free.slice(4).matchAll(/[a-z]{2,3}/g)];
    assert.ok(runs.length > 0, `no letters to stop at in ${JSON.stringify(free)}`);
    const stop = runs[Math.floor(runs.length / 2)][0];
    const withStop = { ...rich, stop: [stop, 'a|b\nc'] };
    const expected = await nodeReply('The dog', withStop);
    assert.ok(expected.length < free.length && free.startsWith(expected) && !expected.includes(stop),
      `stopped text ${JSON.stringify(expected)} for stop ${JSON.stringify(stop)} in ${JSON.stringify(free)}`);
    const got = await chat(page, 'The dog', withStop);
    assert.equal(got.state, 'done');
    assert.equal(got.text, expected, 'the page and Node give the same text with the same options');
    assert.match(await page.textContent('#settings-summary'), /min-p 0\.05 · repetition 1\.3 · presence 0\.4 · frequency 0\.2 · stop strings/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('streams a long reply into #output with tok/s in #status, and Stop ends it', async () => {
    const page = await openPage('?model=/models/m.bitt');
    await waitReady(page);
    const greedy = { temperature: 0, topK: 0, topP: 1, maxTokens: 100000, seed: 1 };
    await setSampling(page, greedy);
    // A random model's reply may end at </s> within a second in wasm: Stop is clicked as soon as
    // the first text streams, and a reply that still ended on its own is asked again (the memory
    // has moved on, so the next reply is another one).
    let end = null, partial = null;
    for (let attempt = 0; attempt < 4 && (!end || end.state !== 'stopped'); attempt++) {
      await page.fill('#prompt', attempt ? `Hello again ${attempt}` : 'Hello there');
      await page.click('#send');
      // partial text while the reply is still streaming, with Stop showing
      partial = await page.waitForFunction(() => {
        const bots = document.querySelectorAll('#output .msg.bot');
        const bot = bots[bots.length - 1];
        const stop = document.querySelector('#stop');
        if (bot?.dataset.state === 'streaming' && bot.querySelector('.text').textContent.length > 0)
          return { len: bot.querySelector('.text').textContent.length, stopShown: !!(stop && stop.offsetParent) };
        if (bot && bot.dataset.state !== 'streaming' && bot.dataset.state) return { len: -1 };
        return false;
      }, null, { timeout: 20000, polling: 'raf' }).then((h) => h.jsonValue());
      if (partial.len > 0) await page.click('#stop').catch(() => {});
      await page.waitForFunction(() => {
        const bots = document.querySelectorAll('#output .msg.bot');
        return bots[bots.length - 1].dataset.state !== 'streaming';
      }, null, { timeout: 20000 });
      end = await page.$$eval('#output .msg.bot', (es) => {
        const e = es[es.length - 1];
        return { state: e.dataset.state, tokens: Number(e.dataset.tokens), len: e.querySelector('.text').textContent.length };
      });
    }
    // the page is not frozen while the worker generates
    assert.equal(await page.evaluate(() => 6 * 7), 42);
    assert.equal(end.state, 'stopped', 'Stop ended a streaming reply');
    assert.equal(partial.stopShown, true, 'Stop shows while generating');
    assert.ok(end.tokens > 0 && end.tokens < greedy.maxTokens, `stopped after ${end.tokens} tokens`);
    assert.ok(end.len >= partial.len);
    assert.match(await statusText(page), /ready · .*stopped after \d+ tokens at [\d.]+ tok\/s/);
    assert.equal(await page.isVisible('#send'), true);
    assert.equal(await memoryTokens(page) >= end.tokens, true, 'the memory read the stopped reply');
    await page.close();
  });

  it('saves the memory (download and IndexedDB), resets it, restores it, and it matches Node', async () => {
    const page = await openPage('?model=/models/m.bitt');
    await waitReady(page);
    const emptySize = await stateBytes(page);
    await chat(page, 'The cat sat on the mat.', { ...SAMPLED, maxTokens: 40 });
    const tokens = await memoryTokens(page);
    assert.ok(tokens > 0);
    assert.equal(await stateBytes(page), emptySize, 'the memory stays the same size as it reads');
    assert.equal(await page.textContent('#kv-size'), formatBytes(kvCacheBytes({ layers: 2, dim: 64, tokens })));

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-memory')]);
    savedMemoryPath = path.join(tmp, 'saved.memory.safetensors');
    await download.saveAs(savedMemoryPath);
    assert.match(download.suggestedFilename(), /^m\.memory\.safetensors$/);
    const saved = new Uint8Array(readFileSync(savedMemoryPath));
    assert.ok(saved.length >= emptySize, 'the saved file holds the whole state');
    assert.equal(memoryTokenCount(saved), tokens);
    savedTokens = tokens;
    await page.waitForFunction(() => /Memory saved/.test(document.querySelector('#output').textContent));

    await clickAndWaitIdle(page, '#reset-memory');
    assert.equal(await memoryTokens(page), 0);
    await clickAndWaitIdle(page, '#load-memory');
    assert.equal(await memoryTokens(page), tokens, 'restored from IndexedDB');

    const next = { ...SAMPLED, seed: 77, maxTokens: 48 };
    const reply = await chat(page, 'Then the dog came.', next);
    assert.equal(reply.text, await nodeReply('Then the dog came.', next, { state: saved }),
      'the restored memory answers as the saved one does in Node');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('after a reload: model from the file input, memory from IndexedDB and from a file, teaching', async () => {
    assert.ok(savedMemoryPath, 'the save test ran first');
    const page = await openPage("?model=none");
    await page.waitForFunction(() => /no model loaded/.test(document.querySelector('#status').textContent));
    assert.equal(await page.isDisabled('#send'), true);
    await page.setInputFiles('#model-file', modelPath);
    await waitReady(page);
    assert.equal(await memoryTokens(page), 0);
    await clickAndWaitIdle(page, '#load-memory');
    assert.equal(await memoryTokens(page), savedTokens, 'IndexedDB kept the memory across page loads');
    await clickAndWaitIdle(page, '#reset-memory');
    await page.setInputFiles('#memory-file', savedMemoryPath);
    await page.waitForFunction((n) => Number(document.querySelector('#memory-tokens').dataset.tokens) === n,
      savedTokens, { timeout: 20000 });

    const lesson = 'The secret word is blue.';
    const model = await bitt.loadModel(new Uint8Array(readFileSync(modelPath)));
    const lessonTokens = model.encode(lesson).length;
    model.dispose();
    await page.fill('#teach-text', lesson);
    await clickAndWaitIdle(page, '#teach');
    assert.equal(await memoryTokens(page), savedTokens + lessonTokens, 'teaching reads the text into the memory');
    assert.equal(await page.locator('#output .msg.bot').count(), 0, 'teaching makes no reply');
    const saved = new Uint8Array(readFileSync(savedMemoryPath));
    const opts = { ...SAMPLED, seed: 5, maxTokens: 32 };
    const reply = await chat(page, 'What is the secret word?', opts);
    assert.equal(reply.text, await nodeReply('What is the secret word?', opts, { state: saved, learnFirst: lesson }));
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('takes a model and then a saved memory by drag and drop', async () => {
    assert.ok(savedMemoryPath, 'the save test ran first');
    const page = await openPage("?model=none");
    await page.waitForFunction(() => /no model loaded/.test(document.querySelector('#status').textContent));
    // drops a file the server has, as a user dragging it from their desktop would
    const drop = (url, name) => page.evaluate(async ([u, n]) => {
      const file = new File([await (await fetch(u)).arrayBuffer()], n);
      const dt = new DataTransfer();
      dt.items.add(file);
      const fire = (type) => document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      fire('dragenter');
      const overlayShown = !document.querySelector('#drop-overlay').hidden;
      fire('dragover');
      fire('drop');
      return overlayShown;
    }, [url, name]);
    assert.equal(await drop('/models/m.bitt', 'dropped.bitt'), true, 'the drop overlay shows while dragging');
    await waitReady(page);
    assert.match(await statusText(page), /dropped\.bitt/);
    assert.equal(await page.isHidden('#drop-overlay'), true);
    await drop('/models/saved.memory.safetensors', 'saved.memory.safetensors');
    await page.waitForFunction((n) => Number(document.querySelector('#memory-tokens').dataset.tokens) === n,
      savedTokens, { timeout: 20000 });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('explains wrong or broken files, missing URLs and a memory of another model', async () => {
    const page = await openPage("?model=none");
    await page.waitForFunction(() => /no model loaded/.test(document.querySelector('#status').textContent));
    await page.setInputFiles('#model-file', path.join(tmp, 'garbage.bitt'));
    await page.waitForFunction(() => !document.querySelector('#alert').hidden);
    assert.match(await alertText(page), /garbage\.bitt is not a \.bitt model/);
    assert.match(await statusText(page), /error/);

    await page.setInputFiles('#model-file', path.join(tmp, 'truncated.bitt'));
    await page.waitForFunction(() => /truncated/.test(document.querySelector('#alert').textContent));
    assert.match(await alertText(page), /Could not load truncated\.bitt: \S/);
    assert.equal(await page.isDisabled('#send'), true, 'no half-loaded model is used');

    await page.fill('#model-url', '/models/missing.bitt');
    await page.click('#load-url');
    await page.waitForFunction(() => /404/.test(document.querySelector('#alert').textContent));
    assert.match(await alertText(page), /missing\.bitt/);

    // too large for the tab: refused from the size alone, before reading or downloading it
    // (a sparse file: no disk space used)
    const huge = path.join(tmp, 'huge.bitt');
    writeFileSync(huge, 'BITT');
    truncateSync(huge, 1536 * 1024 ** 2);
    await page.setInputFiles('#model-file', huge);
    await page.waitForFunction(() => /huge|1\.50 GiB/.test(document.querySelector('#alert').textContent));
    assert.match(await alertText(page), /1\.50 GiB.*more than a browser tab can have/);
    await page.click('#alert-close');
    await page.fill('#model-url', '/models/huge.bitt');
    await page.click('#load-url');
    await page.waitForFunction(() => !document.querySelector('#alert').hidden);
    assert.match(await alertText(page), /1\.50 GiB.*more than a browser tab can have/);

    await page.setInputFiles('#model-file', modelPath);
    await waitReady(page);
    const other = await bitt.loadModel(new Uint8Array(readFileSync(path.join(tmp, 'other.bitt'))));
    other.learn('another model read this');
    writeFileSync(path.join(tmp, 'other.memory.safetensors'), other.saveState());
    other.dispose();
    await page.setInputFiles('#memory-file', path.join(tmp, 'other.memory.safetensors'));
    await page.waitForFunction(() => !document.querySelector('#alert').hidden);
    assert.match(await alertText(page), /another model/i);
    assert.equal(await memoryTokens(page), 0, 'the memory is unchanged');
    await page.setInputFiles('#memory-file', path.join(tmp, 'garbage.bitt'));
    await page.waitForFunction(() => /not a saved memory/.test(document.querySelector('#alert').textContent));
    await waitReady(page);
    await page.close();
  });

  it('tells a browser without WebAssembly SIMD that it cannot run the model', async () => {
    const page = await context.newPage();
    await page.addInitScript(() => {
      const validate = WebAssembly.validate;
      // a browser whose engine rejects SIMD128 opcodes (0xfd prefix)
      WebAssembly.validate = (bytes) => !new Uint8Array(bytes.buffer ?? bytes).includes(0xfd) && validate(bytes);
    });
    await page.goto(`${base()}?model=/models/m.bitt`);
    await page.waitForFunction(() => !document.querySelector('#alert').hidden);
    assert.match(await alertText(page), /lacks WebAssembly SIMD/);
    assert.match(await statusText(page), /unsupported browser/);
    assert.equal(await page.isDisabled('#model-file'), true);
    assert.equal(await page.isDisabled('#send'), true);
    await page.close();
  });

  it('fits a phone screen: no sideways scrolling, controls within the width', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const page = await openPage('?model=/models/m.bitt', phone);
      await waitReady(page);
      await chat(page, 'Hi', { ...SAMPLED, maxTokens: 30 });
      const layout = await page.evaluate(() => {
        const box = (id) => document.getElementById(id).getBoundingClientRect();
        return {
          scrollWidth: document.scrollingElement.scrollWidth,
          boxes: ['prompt', 'send', 'output', 'save-memory', 'reset-memory', 'model-url', 'seed']
            .map((id) => ({ id, left: box(id).left, right: box(id).right })),
        };
      });
      assert.ok(layout.scrollWidth <= 390, `page is ${layout.scrollWidth}px wide`);
      for (const b of layout.boxes) assert.ok(b.left >= 0 && b.right <= 390, `#${b.id} spans ${b.left}..${b.right}`);
      await page.close();
    } finally {
      await phone.close();
    }
  });
});

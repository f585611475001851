// api.test.mjs: the package's behaviour beyond parity: every kind of source
// for loadModel, cancellation (break, AbortSignal), clear Errors for bad
// input (garbage and truncated files, wrong types, a state of another
// model), a model too large for the memory-capped wasm build, and use from a
// worker thread.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { loadModel } from '../../npm/index.js';
import { WASM_BUILD, bitt, collect, makeModels, tempDir } from './helpers.mjs';

test('loadModel sources, cancellation, bad input', async (t) => {
  const dir = tempDir(t);
  const models = makeModels(dir);
  const path = models['v2-linear'];
  const bytes = readFileSync(path);

  await t.test('sources: path, file URL, Uint8Array, ArrayBuffer', async () => {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const texts = [];
    for (const src of [path, pathToFileURL(path).href, new Uint8Array(bytes), ab]) {
      const m = await loadModel(src);
      texts.push(await collect(m.generate('Hi', { maxTokens: 12, temperature: 0 })));
      m.dispose();
    }
    assert.ok(texts[0].length > 0);
    for (const x of texts) assert.equal(x, texts[0]);
  });

  const model = await loadModel(path);
  t.after(() => model.dispose());

  await t.test('break stops generation; the model is usable after', async () => {
    model.reset();
    let n = 0;
    for await (const piece of model.generate('Once', { maxTokens: 100, temperature: 0 })) {
      assert.equal(typeof piece, 'string');
      if (++n === 3) break;
    }
    assert.equal(n, 3);
    const before = model.tokens;
    await collect(model.generate('', { maxTokens: 4, temperature: 0 }));
    assert.equal(model.tokens, before + 4);
  });

  await t.test('AbortSignal cancels with an AbortError', async () => {
    model.reset();
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const piece of model.generate('Once', { maxTokens: 100, temperature: 0, signal: ac.signal })) {
        void piece;
        if (++n === 2) ac.abort();
      }
    }, { name: 'AbortError' });
    assert.equal(n, 2);
    await assert.rejects(collect(model.generate('x', { signal: AbortSignal.abort() })), { name: 'AbortError' });
    assert.ok((await collect(model.generate('ok', { maxTokens: 3, temperature: 0 }))).length >= 0);
  });

  await t.test('one generation at a time per model', async () => {
    const it = model.generate('a', { maxTokens: 50 });
    await it.next();
    assert.throws(() => model.learn('b'), /still running/);
    assert.throws(() => model.generate('c'), /still running/);
    await it.return();
    model.learn('b');
  });

  await t.test('garbage and truncated files', async () => {
    await assert.rejects(loadModel(new Uint8Array(1000).fill(7)), (e) => e instanceof Error && /loadModel: .*(magic|BITT|not a)/i.test(e.message));
    for (const cut of [3, 20, 1000, bytes.length >> 1, bytes.length - 1]) {
      await assert.rejects(loadModel(bytes.subarray(0, cut)), (e) => e instanceof Error && /^loadModel: .+/.test(e.message) && !/unknown error/.test(e.message), `cut at ${cut}`);
    }
    await assert.rejects(loadModel(new Uint8Array(0)), /^Error: loadModel: |loadModel: /);
    await assert.rejects(loadModel(join(dir, 'no-such.bitt')), /loadModel: cannot read .*no-such\.bitt/);
  });

  await t.test('wrong argument types', async () => {
    await assert.rejects(loadModel(42), { name: 'TypeError', message: /loadModel: expected a URL string, a file path, an ArrayBuffer or a Uint8Array \(got a number\)/ });
    await assert.rejects(loadModel({}), TypeError);
    await assert.rejects(loadModel(''), /empty string/);
    await assert.rejects(loadModel(path, { lmHead: 'f16' }), { name: 'TypeError', message: /lmHead must be 'f32' or 'int8'/ });
    await assert.rejects(loadModel(path, { lmhead: 'int8' }), { name: 'TypeError', message: /unknown option 'lmhead'/ });
    assert.throws(() => model.generate(123), { name: 'TypeError', message: /prompt must be a string/ });
    assert.throws(() => model.generate('x', { maxTokens: -1 }), /maxTokens must be >= 0/);
    assert.throws(() => model.generate('x', { maxTokens: 1.5 }), /maxTokens must be an integer/);
    assert.throws(() => model.generate('x', { temperature: 'hot' }), /temperature must be a finite number/);
    assert.throws(() => model.generate('x', { topP: 0 }), /topP must be in \(0, 1\]/);
    assert.throws(() => model.generate('x', { seed: -1 }), /seed/);
    assert.throws(() => model.generate('x', { signal: 'stop' }), /signal must be an AbortSignal/);
    assert.throws(() => model.generate('x', { maxToken: 5 }), /unknown option 'maxToken'/);
    assert.throws(() => model.generate('x', { minP: 2 }), /minP must be in \[0, 1\]/);
    assert.throws(() => model.generate('x', { repetitionPenalty: 0 }), /repetitionPenalty must be > 0/);
    assert.throws(() => model.generate('x', { presencePenalty: NaN }), /presencePenalty must be a finite number/);
    assert.throws(() => model.generate('x', { frequencyPenalty: '1' }), /frequencyPenalty must be a finite number/);
    assert.throws(() => model.generate('x', { penaltyLastN: -1 }), /penaltyLastN must be >= 0/);
    assert.throws(() => model.generate('x', { stop: 5 }), /stop must be a string or an array/);
    assert.throws(() => model.generate('x', { stop: [''] }), /stop\[0\] must be 1 to 256 bytes/);
    assert.throws(() => model.generate('x', { stop: Array(17).fill('a') }), /at most 16 stop strings/);
    assert.equal(await collect(model.generate('x', { maxTokens: 3, stop: 'x' })).then((t) => typeof t), 'string');
    assert.throws(() => model.encode(5), /encode: text must be a string/);
    assert.throws(() => model.decode('abc'), /decode: ids must be/);
    assert.throws(() => model.decode([1.5]), /decode: ids\[0\] must be an integer/);
    assert.throws(() => model.decode([1, 999999]), /decode: .*out of range/);
    assert.throws(() => model.learn(null), /learn: text must be a string/);
    assert.throws(() => model.loadState('state'), /loadState: expected a Uint8Array/);
  });

  await t.test('a state of another model, garbage state', async () => {
    const other = await loadModel(models['v1-linear']);
    other.learn('hello');
    const foreign = other.saveState();
    other.dispose();
    model.reset();
    model.learn('keep me');
    const mine = model.saveState();
    assert.throws(() => model.loadState(foreign), (e) => /^loadState: .*(another|other|fingerprint|does not match)/i.test(e.message));
    assert.throws(() => model.loadState(new Uint8Array(64).fill(1)), /loadState: state: .+/);
    assert.deepEqual(model.saveState(), mine, 'a refused state leaves the memory unchanged');
  });

  await t.test('a disposed model throws', async () => {
    const m = await loadModel(bytes);
    m.dispose();
    assert.throws(() => m.encode('x'), /disposed/);
    m.dispose(); // twice is fine
  });

  await t.test('a model that does not fit in WebAssembly memory', async () => {
    const capped = join(WASM_BUILD, 'bitt-48mb.wasm');
    const big = join(dir, 'big.bitt'); // f32 embed + lm_head alone: 2 x 32000 x 128 x 4 bytes = 33 MB
    bitt(['init', '--out', big, '--dim', '128', '--layers', '1', '--vocab', '32000', '--packed']);
    await assert.rejects(loadModel(big, { wasm: capped }), (e) => e instanceof Error && /out of memory|do not fit/.test(e.message));
    const small = await loadModel(models['v1-linear'], { wasm: capped }); // the capped runtime still works
    assert.ok((await collect(small.generate('a', { maxTokens: 3, temperature: 0 }))).length >= 0);
    small.dispose();
  });

  await t.test('works inside a worker thread', async () => {
    const src = `
      import { parentPort, workerData } from 'node:worker_threads';
      import { loadModel } from ${JSON.stringify(new URL('../../npm/index.js', import.meta.url).href)};
      const m = await loadModel(workerData);
      let text = '';
      for await (const p of m.generate('Hi', { maxTokens: 12, temperature: 0 })) text += p;
      parentPort.postMessage(text);`;
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), { workerData: path });
    const fromWorker = await new Promise((res, rej) => { w.once('message', res); w.once('error', rej); });
    await w.terminate();
    model.reset();
    assert.equal(fromWorker, await collect(model.generate('Hi', { maxTokens: 12, temperature: 0 })));
  });
});

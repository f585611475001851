// parity.test.mjs: the npm package (wasm) against the native CLI on the same
// random models (.bitt v1 and v2 with F16 and I8 embeddings, TTT-Linear with
// and without the forget gate, and seed): tokenizer ids, logits bit for bit (every backend sums in
// the same order), identical greedy 128-token continuations, the
// same sampled text for a seed, and memories saved by one and loaded by the
// other.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../npm/index.js';
import { bitt, bittJson, collect, makeModels, nativeLogits, relDiff, tempDir } from './helpers.mjs';

const TEXTS = ['Once upon a time, there was a little robot.', '', 'naïve café — 日本語 🙂 \n\n tabs\tand  spaces',
  'Hello</s>world<s>', 'x'.repeat(300)];

test('package vs native CLI on random v1/v2 models', async (t) => {
  const dir = tempDir(t);
  const models = makeModels(dir);
  for (const [name, path] of Object.entries(models)) {
    const model = await loadModel(path);
    t.after(() => model.dispose());

    await t.test(`${name}: info`, () => {
      const native = bittJson(['inspect', path]);
      assert.equal(model.info.bitt_version, native.bitt_version);
      assert.equal(model.info.params, native.params);
      assert.equal(model.info.config.vocab_size, native.config.vocab_size);
      assert.equal(model.info.config.ttt_variant, native.config.ttt_variant);
      assert.equal(model.kernels, 'wasm128');
    });

    await t.test(`${name}: tokenizer ids`, () => {
      for (const text of TEXTS) {
        const ids = Array.from(model.encode(text));
        const native = text === '' ? { ids: [] } : bittJson(['tokenize', '--model', path, '--text', text]);
        assert.deepEqual(ids, native.ids, `ids of ${JSON.stringify(text)}`);
        if (!text.includes('<')) assert.equal(model.decode(ids), text);
      }
    });

    await t.test(`${name}: logits bit for bit`, () => {
      for (const text of [TEXTS[0], TEXTS[2], 'a'.repeat(45)]) { // 45: ends inside a mini-batch
        model.reset();
        const wasm = model.logits(text);
        const native = nativeLogits(path, text);
        const d = relDiff(native, wasm);
        assert.equal(d, 0, `logits of ${JSON.stringify(text.slice(0, 20))} differ by ${d}`);
      }
    });

    await t.test(`${name}: greedy 128 tokens identical`, async () => {
      const prompt = 'The little dog';
      model.reset();
      const wasm = await collect(model.generate(prompt, { maxTokens: 128, temperature: 0 }));
      const native = bittJson(['generate', '--model', path, '--prompt', prompt, '--max-tokens', '128', '--temp', '0']);
      assert.equal(wasm, native.text);
      assert.ok(native.tokens > 0);
    });

    await t.test(`${name}: int8 lm_head: greedy 128 tokens identical to the CLI's --lm-head int8`, async () => {
      const m8 = await loadModel(readFileSync(path), { lmHead: 'int8' });
      try {
        const prompt = 'The little dog';
        const wasm = await collect(m8.generate(prompt, { maxTokens: 128, temperature: 0 }));
        const native = bittJson(['generate', '--model', path, '--prompt', prompt, '--max-tokens', '128', '--temp', '0',
          '--lm-head', 'int8']);
        assert.equal(wasm, native.text);
      } finally {
        m8.dispose();
      }
    });

    await t.test(`${name}: f32 lm_head: greedy 128 tokens identical to the CLI's --lm-head f32`, async () => {
      const m32 = await loadModel(readFileSync(path), { lmHead: 'f32' }); // an I8 file's lm_head dequantised
      try {
        const prompt = 'The little dog';
        const wasm = await collect(m32.generate(prompt, { maxTokens: 128, temperature: 0 }));
        const native = bittJson(['generate', '--model', path, '--prompt', prompt, '--max-tokens', '128', '--temp', '0',
          '--lm-head', 'f32']);
        assert.equal(wasm, native.text);
      } finally {
        m32.dispose();
      }
    });

    await t.test(`${name}: sampled text for a seed`, async () => {
      for (const [seed, temp, topK, topP] of [[7, 0.9, 50, 0.9], [123456789, 1.2, 0, 1]]) {
        model.reset();
        const wasm = await collect(model.generate('Once', { maxTokens: 60, temperature: temp, topK, topP, seed }));
        const native = bittJson(['generate', '--model', path, '--prompt', 'Once', '--max-tokens', '60',
          '--temp', String(temp), '--top-k', String(topK), '--top-p', String(topP), '--seed', String(seed)]);
        assert.equal(wasm, native.text, `seed ${seed}`);
      }
    });

    await t.test(`${name}: min-p, penalties and stop strings: the CLI's text for a seed`, async () => {
      const cases = [
        { temperature: 0.9, topK: 0, topP: 1, minP: 0.05, repetitionPenalty: 1.3, presencePenalty: 0.5,
          frequencyPenalty: 0.2, penaltyLastN: 16, seed: 9 },
        { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.5, presencePenalty: 1, seed: 1 },
        { temperature: 1.1, topK: 30, topP: 0.9, minP: 0.1, frequencyPenalty: -0.3, seed: 77 },
      ];
      const flags = (o) => ['--temp', String(o.temperature), '--top-k', String(o.topK), '--top-p', String(o.topP),
        '--min-p', String(o.minP ?? 0), '--repetition-penalty', String(o.repetitionPenalty ?? 1),
        '--presence-penalty', String(o.presencePenalty ?? 0), '--frequency-penalty', String(o.frequencyPenalty ?? 0),
        '--penalty-last-n', String(o.penaltyLastN ?? 0), '--seed', String(o.seed)];
      for (const o of cases) {
        model.reset();
        const wasm = await collect(model.generate('Once', { maxTokens: 60, ...o }));
        const native = bittJson(['generate', '--model', path, '--prompt', 'Once', '--max-tokens', '60', ...flags(o)]);
        assert.equal(wasm, native.text, `options ${JSON.stringify(o)}`);
        // the options change the text (so that this comparison tests them)
        const plain = bittJson(['generate', '--model', path, '--prompt', 'Once', '--max-tokens', '60',
          '--temp', String(o.temperature), '--top-k', String(o.topK), '--top-p', String(o.topP), '--seed', String(o.seed)]);
        assert.notEqual(native.text, plain.text, `options ${JSON.stringify(o)} make no difference`);
        // a stop string from the middle of the text ends both at the same place
        const runs = [...native.text.slice(3).matchAll(/[a-z]{2,3}/g)];
        if (runs.length === 0) continue;
        const stop = runs[Math.floor(runs.length / 2)][0];
        model.reset();
        const wasmStop = await collect(model.generate('Once', { maxTokens: 60, ...o, stop: [stop, 'never seen'] }));
        const nativeStop = bittJson(['generate', '--model', path, '--prompt', 'Once', '--max-tokens', '60', ...flags(o),
          '--stop', stop, 'never seen']);
        assert.equal(wasmStop, nativeStop.text, `stop ${JSON.stringify(stop)}`);
        assert.equal(nativeStop.finish_reason, 'stop');
        assert.ok(native.text.startsWith(nativeStop.text) && !nativeStop.text.includes(stop));
      }
    });

    await t.test(`${name}: memory saved natively, loaded in wasm and back`, async () => {
      const s1 = join(dir, `${name}.s1`);
      bitt(['generate', '--model', path, '--prompt', 'Tom has a red ball.', '--max-tokens', '21', '--temp', '0',
        '--state-out', s1]);
      model.reset();
      model.loadState(readFileSync(s1));
      const wasmCont = await collect(model.generate(' Then', { maxTokens: 30, temperature: 0 }));
      const nativeCont = bittJson(['generate', '--model', path, '--state-in', s1, '--prompt', ' Then',
        '--max-tokens', '30', '--temp', '0']);
      assert.equal(wasmCont, nativeCont.text);

      // wasm -> native: the memory after learn + generate, continued by both
      model.reset();
      model.learn('A cat sat on the mat. ');
      await collect(model.generate('It', { maxTokens: 5, temperature: 0 }));
      const s2 = join(dir, `${name}.s2`);
      writeFileSync(s2, model.saveState());
      const d = relDiff(nativeLogits(path, ' And then', s2), model.logits(' And then'));
      assert.equal(d, 0, `logits after a wasm memory differ by ${d}`);
      const wasmMore = await collect(model.generate(' so', { maxTokens: 30, temperature: 0.7, seed: 3 }));
      const s3 = join(dir, `${name}.s3`);
      model.reset();
      model.learn('A cat sat on the mat. ');
      await collect(model.generate('It', { maxTokens: 5, temperature: 0 }));
      model.learn(' And then');
      writeFileSync(s3, model.saveState());
      const nativeMore = bittJson(['generate', '--model', path, '--state-in', s3, '--prompt', ' so',
        '--max-tokens', '30', '--temp', '0.7', '--seed', '3']);
      assert.equal(wasmMore, nativeMore.text);
    });
  }
});

// trained.test.mjs: a tiny model trained by the test suite itself (bitt corpus ->
// bitt tokenizer train -> bitt prepare -> bitt train -> bitt convert
// --packed), then the package against the native CLI on it: tokenizer ids,
// logits within 1e-4, greedy 128 tokens, sampled text. Skipped (with the
// reason) while the CLI has no `train` command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../npm/index.js';
import { CLI, bitt, bittJson, collect, nativeLogits, relDiff, tempDir } from './helpers.mjs';

const hasTrain = spawnSync(CLI, ['train', '--help']).status === 0;

test('a tiny model trained by the suite: package vs native', { skip: !hasTrain && 'bitt train is not built yet' }, async (t) => {
  const dir = tempDir(t);
  const corpus = join(dir, 'corpus.txt'), tok = join(dir, 'tok.json'), data = join(dir, 'train.bin');
  const ckpt = join(dir, 'ckpt'), model = join(dir, 'trained.bitt');
  bitt(['corpus', '--out', corpus, '--stories', '300', '--seed', '2']);
  bitt(['tokenizer', 'train', '--input', corpus, '--vocab', '512', '--out', tok, '--quiet']);
  bitt(['prepare', '--tokenizer', tok, '--input', corpus, '--out', data, '--quiet']);
  bitt(['train', '--data', data, '--tokenizer', tok, '--out', ckpt, '--dim', '64', '--layers', '2',
    '--context', '64', '--batch', '4', '--steps', '30', '--warmup', '5', '--lr', '3e-3', '--seed', '1']);
  bitt(['convert', join(ckpt, 'checkpoint'), model, '--packed']); // train writes DIR/checkpoint

  const m = await loadModel(model);
  t.after(() => m.dispose());
  const prompt = 'Once upon a time, a little girl named';
  assert.deepEqual(Array.from(m.encode(prompt)), bittJson(['tokenize', '--model', model, '--text', prompt]).ids);
  const d = relDiff(nativeLogits(model, prompt), m.logits(prompt));
  assert.equal(d, 0, `logits differ by ${d}`);
  m.reset();
  const greedy = await collect(m.generate(prompt, { maxTokens: 128, temperature: 0 }));
  assert.equal(greedy, bittJson(['generate', '--model', model, '--prompt', prompt, '--max-tokens', '128', '--temp', '0']).text);
  m.reset();
  const sampled = await collect(m.generate(prompt, { maxTokens: 64, temperature: 0.8, seed: 11 }));
  assert.equal(sampled, bittJson(['generate', '--model', model, '--prompt', prompt, '--max-tokens', '64', '--temp', '0.8', '--seed', '11']).text);
});

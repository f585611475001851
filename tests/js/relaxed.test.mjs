// relaxed.test.mjs: the relaxed-SIMD prefill kernel (npm/relaxed.js). Where
// the engine lacks relaxed SIMD (Node 20 by default) the package reports it
// and keeps the SIMD128 kernels; in a Node started with
// --experimental-wasm-relaxed-simd the kernel must give the SIMD128 kernels'
// results bit for bit (the memory after prefill, greedy text) on models whose
// shapes reach its edge cases: a partial last group of rows, padded blocks,
// and more than 16 blocks per row (its int16 spans).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadModel } from '../../npm/index.js';
import { relaxedKernelBytes, relaxedSimdSupported } from '../../npm/relaxed.js';
import { bitt, tempDir } from './helpers.mjs';

const CHILD = fileURLToPath(new URL('./relaxed_child.mjs', import.meta.url));

test('relaxed SIMD: detection and the option', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.bitt');
  bitt(['init', '--out', path, '--dim', '64', '--layers', '1', '--vocab', '400', '--packed']);
  assert.equal(typeof relaxedSimdSupported(), 'boolean');
  assert.ok(relaxedKernelBytes() instanceof Uint8Array);
  const m = await loadModel(path);
  assert.equal(m.kernels, relaxedSimdSupported() ? 'wasm128+relaxed' : 'wasm128');
  m.dispose();
  const plain = await loadModel(path, { relaxedSimd: false });
  assert.equal(plain.kernels, 'wasm128');
  plain.dispose();
  await assert.rejects(loadModel(path, { relaxedSimd: 'yes' }), /relaxedSimd must be a boolean/);
});

test('relaxed SIMD kernel == SIMD128 kernels (node --experimental-wasm-relaxed-simd)', async (t) => {
  const dir = tempDir(t);
  const shapes = [
    ['--dim', '128', '--layers', '2', '--vocab', '900', '--seed', '11'],
    // gate/up: 1,102 rows (a partial group); down: 1,102 columns = 18 blocks, the last padded
    ['--dim', '64', '--layers', '2', '--intermediate', '1102', '--vocab', '700', '--seed', '12', '--mini-batch', '8'],
  ];
  for (const [i, args] of shapes.entries()) {
    const path = join(dir, `m${i}.bitt`);
    bitt(['init', '--out', path, ...args, '--packed']);
    const out = JSON.parse(execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', CHILD, path],
      { encoding: 'utf8' }));
    assert.equal(out.supported, true, 'this Node did not take --experimental-wasm-relaxed-simd');
    assert.deepEqual(out.kernels, ['wasm128+relaxed', 'wasm128']);
    for (const c of out.checks) assert.ok(c.stateIdentical, `memory after ${c.tokens} tokens differs (${args.join(' ')})`);
    assert.ok(out.checks.some((c) => c.tokens % 2 === 1) && out.checks.some((c) => c.tokens % 2 === 0));
    assert.ok(out.greedyIdentical, `greedy text differs (${args.join(' ')})`);
  }
});

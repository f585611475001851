// fuzz.test.mjs: a short mutation run over the npm package's byte entry
// points (tests/js/mutate.mjs): loadModel on mutated .bitt v1, v2 (I8 and F16
// embeddings) files and loadState on mutated state files, 150 inputs each
// with fixed seeds; every input loads and runs or is refused with an Error,
// never a WebAssembly trap, and the package stays usable. scripts/fuzz_js.mjs
// runs the same for minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkg from '../../npm/index.js';
import { bitt, tempDir } from './helpers.mjs';
import { fuzzPackage } from './mutate.mjs';

// Small models: a mutated file is read in well under a millisecond.
function makeModels(dir) {
  const out = [];
  for (const [name, extra] of [['v1', []], ['v2-i8', ['--packed', '--embed', 'i8']], ['v2-f16', ['--packed', '--embed', 'f16']]]) {
    const path = join(dir, `${name}.bitt`);
    bitt(['init', '--out', path, '--dim', '32', '--layers', '2', '--vocab', '300', '--seed', '3', ...extra]);
    const state = join(dir, `${name}.state`);
    bitt(['generate', '--model', path, '--prompt', 'Once upon a time', '--max-tokens', '5', '--state-out', state]);
    out.push({ name, model: readFileSync(path), state: readFileSync(state) });
  }
  return out;
}

test('mutated .bitt files and state files are loaded and run, or refused with an Error', async (t) => {
  const dir = tempDir(t);
  let seed = 1;
  for (const m of makeModels(dir)) {
    const counts = await fuzzPackage(pkg, m.model, m.state, { seed: seed++, iterations: 150 });
    assert.equal(counts.models, 150, m.name);
    // the run must have reached past the first checks: some mutations load
    assert.ok(counts.modelsLoaded > 0 && counts.modelsLoaded < counts.models, `${m.name}: ${JSON.stringify(counts)}`);
  }
});

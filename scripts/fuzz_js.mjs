#!/usr/bin/env node
// fuzz_js.mjs: a long mutation campaign over the npm package's byte entry
// points (loadModel, loadState; tests/js/mutate.mjs) on small models made by
// the native CLI: v1, v2 with I8 and with F16 embeddings. Prints the inputs
// tried and how many loaded; exits non-zero on the first trap or bad error,
// naming the seed and the input number that reproduce it.
// Usage: node scripts/fuzz_js.mjs [--seconds N] [--seed S]   (BITT_CLI: the native bitt)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pkg from '../npm/index.js';
import { fuzzPackage } from '../tests/js/mutate.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = process.env.BITT_CLI || join(root, 'build', 'bitt');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg('--seconds', 60);
let seed = arg('--seed', 1000);
const dir = mkdtempSync(join(tmpdir(), 'bitt-fuzz-js-'));
try {
  const models = [['v1', []], ['v2-i8', ['--packed', '--embed', 'i8']], ['v2-f16', ['--packed', '--embed', 'f16']]].map(([name, extra]) => {
    const path = join(dir, `${name}.bitt`), state = join(dir, `${name}.state`);
    execFileSync(cli, ['init', '--out', path, '--dim', '32', '--layers', '2', '--vocab', '300', '--seed', '3', ...extra], { stdio: 'ignore' });
    execFileSync(cli, ['generate', '--model', path, '--prompt', 'Once upon a time', '--max-tokens', '5', '--state-out', state], { stdio: 'ignore' });
    return { name, model: readFileSync(path), state: readFileSync(state) };
  });
  const deadline = Date.now() + seconds * 1000;
  const total = Object.fromEntries(models.map((m) => [m.name, { models: 0, modelsLoaded: 0, states: 0, statesLoaded: 0 }]));
  while (Date.now() < deadline) {
    for (const m of models) {
      const c = await fuzzPackage(pkg, m.model, m.state, { seed: seed++, iterations: 200, deadline });
      for (const k of Object.keys(c)) total[m.name][k] += c[k];
    }
  }
  for (const [name, c] of Object.entries(total)) {
    console.log(`${name}: ${c.models} mutated models (${c.modelsLoaded} loaded and ran), ${c.states} mutated states (${c.statesLoaded} loaded)`);
  }
  console.log(`${seconds} s, seeds up to ${seed - 1}: no trap, every refusal an Error with a message`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

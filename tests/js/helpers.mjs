// helpers.mjs: shared pieces of the Node harness (tests/js/*.test.mjs): where
// the native CLI and test tools are (env BITT_CLI, default build/bitt), temp
// dirs, running the CLI, building the random test models once per file, and
// the relative difference of two logit vectors.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = resolve(process.env.BITT_CLI || join(ROOT, 'build', 'bitt'));
export const DUMP_LOGITS = join(dirname(CLI), 'bitt_dump_logits');
export const PACKAGE_DIR = join(ROOT, 'npm');
// The wasm build dir (for the memory-capped test module bitt-48mb.wasm).
export const WASM_BUILD = resolve(process.env.BITT_WASM_BUILD || join(ROOT, 'build-wasm'));

for (const [what, path, how] of [
  ['the native CLI', CLI, 'cmake --preset native && cmake --build --preset native (or set BITT_CLI)'],
  ['bitt_dump_logits', DUMP_LOGITS, 'it is built with the native CLI'],
  ['npm/bitt.wasm', join(PACKAGE_DIR, 'bitt.wasm'), 'cmake --preset wasm && cmake --build --preset wasm'],
]) {
  if (!existsSync(path)) throw new Error(`tests/js: ${what} is missing at ${path}: ${how}`);
}

export function tempDir(t, name = 'bitt-js-') {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Runs the CLI; returns stdout (throws with stderr on a non-zero exit).
export function bitt(args, opts = {}) {
  try {
    return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...opts });
  } catch (e) {
    throw new Error(`bitt ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

export function bittJson(args) {
  return JSON.parse(bitt([...args, '--json']));
}

export function nativeLogits(model, text, stateIn) {
  const args = [model, text];
  if (stateIn) args.push(stateIn);
  const out = execFileSync(DUMP_LOGITS, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return Float32Array.from(JSON.parse(out).logits);
}

// max |a - b| / max |a|
export function relDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return num / (den || 1);
}

// The random models every comparison runs on: .bitt v1 (float32) and v2
// (packed), TTT-Linear with partial mini-batches, with a bounded memory
// (state_decay, docs/TTT_MEMORY.md), with I8 embeddings (int8 rows + a scale
// per row, SPEC 3.3), and the seed variant.
export const MODEL_SPECS = [
  { name: 'v1-linear', args: ['--dim', '128', '--layers', '2', '--vocab', '2000', '--seed', '3'] },
  { name: 'v2-linear', args: ['--dim', '128', '--layers', '3', '--vocab', '3000', '--seed', '4', '--packed'] },
  { name: 'v2-linear-decay', args: ['--dim', '128', '--layers', '2', '--vocab', '1800', '--seed', '6', '--mini-batch', '8',
    '--state-decay', '0.8', '--packed'] },
  { name: 'v2-linear-i8', args: ['--dim', '128', '--layers', '2', '--vocab', '2500', '--seed', '8', '--packed',
    '--embed', 'i8'] },
  { name: 'v1-linear-nogate', args: ['--dim', '128', '--layers', '2', '--vocab', '2000', '--seed', '3', '--forget-gate', 'off'] },
  { name: 'v2-seed', args: ['--dim', '128', '--layers', '2', '--vocab', '1500', '--seed', '5', '--variant', 'seed', '--packed'] },
];

export function makeModels(dir) {
  const out = {};
  for (const spec of MODEL_SPECS) {
    const path = join(dir, `${spec.name}.bitt`);
    bitt(['init', '--out', path, ...spec.args]);
    out[spec.name] = path;
  }
  return out;
}

export async function collect(iter) {
  let text = '';
  for await (const piece of iter) text += piece;
  return text;
}

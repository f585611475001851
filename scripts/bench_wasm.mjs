#!/usr/bin/env node
// bench_wasm.mjs: decode and prefill tokens/s of the wasm build (the npm
// package in Node) against the native CLI on one thread (`bitt bench
// --threads 1 --kernels avx2`), on the same random .bitt v2 model (256-dim,
// 8 layers, 16,384-token vocabulary), rounds interleaved in one run, medians
// reported; plus the size of bitt.wasm and of the unpacked npm package.
// Usage: node scripts/bench_wasm.mjs [--rounds N] [--lm-head f32|int8] [--json]
//   --lm-head int8: both sides compute the logits through the int8 lm_head.
//   env BITT_CLI: the native CLI (default build/bitt); needs npm/bitt.wasm.
//   env BITT_WASM_BASELINE: another bitt.wasm (e.g. a copy from before a
//   change), measured in the same interleaved rounds and reported beside it.
// Wasm figures go through the public API: prefill = model.learn(text) of a
// ~512-token text (one feed, dual form), decode = model.generate('', {maxTokens:
// 128}) with the default sampler, tokens counted by the memory's counter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadModel } from '../npm/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = resolve(process.env.BITT_CLI || join(ROOT, 'build', 'bitt'));
const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 5;
const json = args.includes('--json');
const lmHead = args.includes('--lm-head') ? args[args.indexOf('--lm-head') + 1] : 'f32';
if (lmHead !== 'f32' && lmHead !== 'int8') throw new Error(`--lm-head must be f32 or int8 (got ${lmHead})`);
const PROMPT_TOKENS = 512, GEN_TOKENS = 128;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const run = (cmd, a) => execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const dir = mkdtempSync(join(tmpdir(), 'bitt-bench-wasm-'));
try {
  const modelPath = join(dir, 'bench.bitt');
  run(CLI, ['init', '--out', modelPath, '--dim', '256', '--layers', '8', '--vocab', '16384', '--packed']);
  const model = await loadModel(modelPath, { lmHead });
  const BASE = process.env.BITT_WASM_BASELINE ? resolve(process.env.BITT_WASM_BASELINE) : null;
  const baseModel = BASE ? await loadModel(modelPath, { wasm: BASE, lmHead }) : null;
  // where the engine runs relaxed SIMD (Chrome 114+, Node 22+, Node 20 with
  // --experimental-wasm-relaxed-simd) the package uses it; the SIMD128-only
  // kernels are then measured beside it in the same rounds
  const plainModel = model.kernels.includes('relaxed') ? await loadModel(modelPath, { lmHead, relaxedSimd: false }) : null;

  // a text of about PROMPT_TOKENS tokens: decoded random ids, cut at PROMPT_TOKENS after re-encoding
  let seed = 7;
  const ids = Int32Array.from({ length: PROMPT_TOKENS * 2 }, () => 3 + ((seed = (seed * 1103515245 + 12345) >>> 0) % (16384 - 3)));
  const prompt = model.decode(model.encode(model.decode(ids)).subarray(0, PROMPT_TOKENS));

  const wasmOnce = async (model) => {
    model.reset();
    const t0 = performance.now();
    model.learn(prompt);
    const t1 = performance.now();
    const n0 = model.tokens;
    for await (const piece of model.generate('', { maxTokens: GEN_TOKENS })) void piece;
    const t2 = performance.now();
    return { prefill: n0 / ((t1 - t0) / 1000), decode: (model.tokens - n0) / ((t2 - t1) / 1000), promptTokens: n0 };
  };
  const nativeOnce = (kernels) => JSON.parse(run(CLI, ['bench', '--model', modelPath, '--threads', '1', '--kernels', kernels,
    '--prompt-tokens', String(PROMPT_TOKENS), '--gen-tokens', String(GEN_TOKENS), '--contexts', 'none', '--runs', '3',
    '--lm-head', lmHead, '--json']));

  await wasmOnce(model); // warm-up: compile tiers, page in
  if (baseModel) await wasmOnce(baseModel);
  if (plainModel) await wasmOnce(plainModel);
  const w = [], n = [], b = [], s = [];
  let promptTokens = 0;
  for (let r = 0; r < rounds; r++) {
    const x = await wasmOnce(model);
    promptTokens = x.promptTokens;
    w.push(x);
    n.push(nativeOnce('avx2'));
    if (baseModel) b.push(await wasmOnce(baseModel));
    if (plainModel) s.push(await wasmOnce(plainModel));
  }
  const kernels = model.kernels;
  model.dispose();
  if (plainModel) plainModel.dispose();
  if (baseModel) baseModel.dispose();
  const pack = JSON.parse(run('npm', ['pack', '--dry-run', '--json', join(ROOT, 'npm')]))[0];
  const result = {
    model: `256-dim, 8 layers, 16,384 vocab, random, .bitt v2, ${lmHead} lm_head`,
    rounds,
    native_avx2_1thread: { decode_tok_s: median(n.map((x) => x.decode_tok_s)), prefill_tok_s: median(n.map((x) => x.prefill_tok_s)) },
    wasm_node: { kernels, decode_tok_s: median(w.map((x) => x.decode)), prefill_tok_s: median(w.map((x) => x.prefill)), prompt_tokens: promptTokens },
    wasm_bytes: statSync(join(ROOT, 'npm', 'bitt.wasm')).size,
    package_unpacked_bytes: pack.unpackedSize,
    package_tarball_bytes: pack.size,
    node: process.version,
  };
  if (plainModel) result.wasm_simd128_only = { decode_tok_s: median(s.map((x) => x.decode)), prefill_tok_s: median(s.map((x) => x.prefill)) };
  if (baseModel) result.wasm_baseline = { path: BASE, decode_tok_s: median(b.map((x) => x.decode)), prefill_tok_s: median(b.map((x) => x.prefill)) };
  result.wasm_vs_native = {
    decode: result.wasm_node.decode_tok_s / result.native_avx2_1thread.decode_tok_s,
    prefill: result.wasm_node.prefill_tok_s / result.native_avx2_1thread.prefill_tok_s,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    const f = (x) => x.toFixed(1);
    console.log(`model: ${result.model}; ${rounds} rounds, medians`);
    console.log(`native AVX2, 1 thread: decode ${f(result.native_avx2_1thread.decode_tok_s)} tok/s, prefill ${f(result.native_avx2_1thread.prefill_tok_s)} tok/s`);
    console.log(`wasm (${kernels}) in Node ${process.version}: decode ${f(result.wasm_node.decode_tok_s)} tok/s, prefill ${f(result.wasm_node.prefill_tok_s)} tok/s (${promptTokens}-token prompt)`);
    if (plainModel) console.log(`same run, SIMD128 kernels only (relaxedSimd: false): decode ${f(result.wasm_simd128_only.decode_tok_s)} tok/s, prefill ${f(result.wasm_simd128_only.prefill_tok_s)} tok/s (wasm / native: decode ${(result.wasm_simd128_only.decode_tok_s / result.native_avx2_1thread.decode_tok_s).toFixed(2)}, prefill ${(result.wasm_simd128_only.prefill_tok_s / result.native_avx2_1thread.prefill_tok_s).toFixed(2)})`);
    if (baseModel) console.log(`baseline wasm (${BASE}): decode ${f(result.wasm_baseline.decode_tok_s)} tok/s, prefill ${f(result.wasm_baseline.prefill_tok_s)} tok/s (wasm / native: decode ${(result.wasm_baseline.decode_tok_s / result.native_avx2_1thread.decode_tok_s).toFixed(2)}, prefill ${(result.wasm_baseline.prefill_tok_s / result.native_avx2_1thread.prefill_tok_s).toFixed(2)})`);
    console.log(`wasm / native: decode ${result.wasm_vs_native.decode.toFixed(2)}, prefill ${result.wasm_vs_native.prefill.toFixed(2)}`);
    console.log(`bitt.wasm ${result.wasm_bytes} bytes; package ${result.package_tarball_bytes} bytes packed, ${result.package_unpacked_bytes} unpacked`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

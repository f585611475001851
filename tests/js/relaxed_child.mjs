// relaxed_child.mjs: run by relaxed.test.mjs in a Node started with
// --experimental-wasm-relaxed-simd: the package with the relaxed-SIMD prefill
// kernel (npm/relaxed.js) against the SIMD128-only kernels on the same model.
// Prints one JSON line with what it saw; the test asserts on it.
import { loadModel } from '../../npm/index.js';
import { relaxedSimdSupported } from '../../npm/relaxed.js';

const [path] = process.argv.slice(2);
const relaxed = await loadModel(path, { relaxedSimd: true });
const plain = await loadModel(path, { relaxedSimd: false });
const text = 'The little robot counted 17 stars, then 42 more; "Good night," it said to the moon. '.repeat(9);
const out = { supported: relaxedSimdSupported(), kernels: [relaxed.kernels, plain.kernels], checks: [] };
const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
// even and odd token counts (pairs only / pairs + a lone row), several chunks
for (const cut of [text.length, text.length - 7, 40]) {
  const part = text.slice(0, cut);
  relaxed.reset();
  plain.reset();
  relaxed.learn(part);
  plain.learn(part);
  out.checks.push({ tokens: relaxed.tokens, stateIdentical: same(relaxed.saveState(), plain.saveState()) });
}
let a = '', b = '';
for await (const p of relaxed.generate('Once', { maxTokens: 64, temperature: 0 })) a += p;
for await (const p of plain.generate('Once', { maxTokens: 64, temperature: 0 })) b += p;
out.greedyIdentical = a === b && a.length > 0;
console.log(JSON.stringify(out));

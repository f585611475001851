// util.test.mjs: Node tests of the web demo's pure helpers (web-demo/util.js):
// SIMD detection, formatting, the KV-cache arithmetic, memory metadata, model
// file checks, the size check, error messages and the settings parser.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  SIMD_PROBE, checkModelBytes, describeLoadError, formatBytes, formatCount, isOutOfMemory,
  kvCacheBytes, kvCrossoverTokens, memoryCheck, memoryTokenCount, missingWasmFeature, nameFromUrl,
  parseSettings, parseStopStrings, readSafetensorsMeta, WASM_MEMORY_LIMIT,
} from '../../web-demo/util.js';

// A safetensors file with the given metadata and one tiny tensor.
function safetensors(meta) {
  const header = JSON.stringify({ __metadata__: meta, x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + 4);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

test('the SIMD probe is valid wasm with SIMD, and its absence is reported', () => {
  assert.equal(WebAssembly.validate(SIMD_PROBE), true, 'Node 20 has SIMD128: the probe must validate');
  const noSimdProbe = SIMD_PROBE.slice();
  noSimdProbe[noSimdProbe.length - 2] = 0xff; // an unknown SIMD opcode: must not validate
  assert.equal(WebAssembly.validate(noSimdProbe), false);
  assert.equal(missingWasmFeature({ WebAssembly, Worker: function Worker() {} }), null);
  const noSimd = { WebAssembly: { validate: () => false, instantiate() {} }, Worker: function Worker() {} };
  assert.match(missingWasmFeature(noSimd), /SIMD/);
  assert.match(missingWasmFeature({ Worker: function Worker() {} }), /no WebAssembly/);
  assert.match(missingWasmFeature({ WebAssembly }), /Web Workers/);
});

test('bytes and counts are formatted for people', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1), '1 byte');
  assert.equal(formatBytes(1023), '1023 bytes');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(40 * 1024), '40.0 KiB');
  assert.equal(formatBytes(300 * 1024 ** 2), '300 MiB');
  assert.equal(formatBytes(-1), '?');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(205762), '206K');
  assert.equal(formatCount(1234567), '1.23M');
  assert.equal(formatCount(25e6), '25.0M');
});

test('KV cache arithmetic: 2 x layers x dim x tokens x 2 bytes', () => {
  assert.equal(kvCacheBytes({ layers: 2, dim: 64, tokens: 100 }), 2 * 2 * 64 * 100 * 2);
  assert.equal(kvCacheBytes({ layers: 8, dim: 256, tokens: 0 }), 0);
  assert.equal(kvCacheBytes({ layers: 1, dim: 10, tokens: 3, bytesPerValue: 4 }), 240);
  // 8 layers x 256 dims = 8 KiB per token; a 1 MiB state is passed at 128 tokens
  assert.equal(kvCrossoverTokens({ stateBytes: 1024 ** 2, layers: 8, dim: 256 }), 128);
  assert.equal(kvCrossoverTokens({ stateBytes: 1024 ** 2 + 1, layers: 8, dim: 256 }), 129);
  assert.equal(kvCrossoverTokens({ stateBytes: 10, layers: 0, dim: 256 }), Infinity);
});

test('saved memory metadata is read, and non-memory bytes are refused', () => {
  const bytes = safetensors({ format: 'bitt-state', token_count: '321', model_fingerprint: '00ff' });
  assert.deepEqual(readSafetensorsMeta(bytes), { format: 'bitt-state', token_count: '321', model_fingerprint: '00ff' });
  assert.equal(memoryTokenCount(bytes), 321);
  assert.equal(memoryTokenCount(safetensors({})), null);
  assert.throws(() => readSafetensorsMeta(new Uint8Array(5)), /only 5 bytes/);
  const huge = bytes.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => readSafetensorsMeta(huge), /does not fit/);
  const notJson = bytes.slice();
  notJson[8] = 0x78;
  assert.throws(() => readSafetensorsMeta(notJson), /not JSON/);
});

test('model bytes: .bitt passes, other files get a specific message', () => {
  const bitt = new Uint8Array(64);
  bitt.set([0x42, 0x49, 0x54, 0x54]);
  assert.equal(checkModelBytes(bitt, 'm.bitt'), null);
  assert.match(checkModelBytes(new Uint8Array(0), 'e.bitt'), /e\.bitt is empty/);
  assert.match(checkModelBytes(new Uint8Array(5), 's.bitt'), /only 5 bytes/);
  assert.match(checkModelBytes(new TextEncoder().encode('<!doctype html><html>...'), 'x'), /HTML/);
  const zip = new Uint8Array(64);
  zip.set([0x50, 0x4b, 3, 4]);
  assert.match(checkModelBytes(zip, 'x'), /zip/);
  assert.match(checkModelBytes(safetensors({}), 'w.safetensors'), /bare safetensors/);
  assert.match(checkModelBytes(new Uint8Array(64).fill(7), 'g.bin'), /should start with "BITT"/);
});

test('size check: fatal past the wasm memory cap, a warning past device memory', () => {
  assert.equal(memoryCheck(10 * 1024 ** 2), null);
  const fatal = memoryCheck(WASM_MEMORY_LIMIT);
  assert.equal(fatal.fatal, true);
  assert.match(fatal.message, /more than a browser tab can have/);
  const warn = memoryCheck(600 * 1024 ** 2, { deviceMemoryGiB: 1 });
  assert.equal(warn.fatal, false);
  assert.match(warn.message, /1 GiB/);
  assert.equal(memoryCheck(600 * 1024 ** 2, { deviceMemoryGiB: 8 }), null);
});

test('load errors: out-of-memory is told apart from a broken file', () => {
  assert.equal(isOutOfMemory(new RangeError('Array buffer allocation failed')), true);
  assert.equal(isOutOfMemory(new Error('m.bitt: out of memory loading lm_head')), true);
  assert.equal(isOutOfMemory(new Error('m.bitt: truncated safetensors data')), false);
  assert.equal(isOutOfMemory(new RangeError('Invalid typed array length: -1')), false);
  assert.match(describeLoadError(new Error('out of memory'), { name: 'big.bitt', size: 3 * 1024 ** 3 }),
    /big\.bitt \(3\.00 GiB\) is too large for this tab's memory/);
  assert.equal(describeLoadError(new Error('Error: m.bitt: bad header'), { name: 'm.bitt' }),
    'Could not load m.bitt: m.bitt: bad header');
});

test('names from URLs', () => {
  assert.equal(nameFromUrl('https://example.org/models/story%20v2.bitt?x=1'), 'story v2.bitt');
  assert.equal(nameFromUrl('/models/m.bitt'), 'm.bitt');
  assert.equal(nameFromUrl('https://example.org/'), 'example.org');
});

test('settings: numbers in range are taken, others get a message naming the field', () => {
  const ok = parseSettings({ temperature: '0.7', topK: '40', topP: '0.9', maxTokens: '64', seed: '7' });
  assert.deepEqual(ok, { options: { temperature: 0.7, topK: 40, topP: 0.9, maxTokens: 64, seed: 7 } });
  const random = parseSettings({ temperature: '0', topK: '0', topP: '1', maxTokens: '1', seed: ' ' }, () => 99);
  assert.equal(random.options.seed, 99);
  assert.match(parseSettings({ temperature: '3', topK: '1', topP: '1', maxTokens: '1', seed: '1' }).error, /Temperature/);
  assert.match(parseSettings({ temperature: '1', topK: '1.5', topP: '1', maxTokens: '1', seed: '1' }).error, /Top-k must be a whole number/);
  assert.match(parseSettings({ temperature: '1', topK: '1', topP: '0', maxTokens: '1', seed: '1' }).error, /Top-p/);
  assert.match(parseSettings({ temperature: '1', topK: '1', topP: '1', maxTokens: '', seed: '1' }).error, /Max tokens/);
  assert.match(parseSettings({ temperature: '1', topK: '1', topP: '1', maxTokens: '5', seed: '-1' }).error, /Seed/);
});

test('settings: min-p, the penalties and stop strings', () => {
  const base = { temperature: '0.7', topK: '40', topP: '0.9', maxTokens: '64', seed: '7' };
  const ok = parseSettings({ ...base, minP: '0.05', repetitionPenalty: '1.2', presencePenalty: '-0.5',
    frequencyPenalty: '0.3', stop: 'The end|\\n\\n|a\\|b||' });
  assert.deepEqual(ok.options, { temperature: 0.7, topK: 40, topP: 0.9, maxTokens: 64, seed: 7, minP: 0.05,
    repetitionPenalty: 1.2, presencePenalty: -0.5, frequencyPenalty: 0.3, stop: ['The end', '\n\n', 'a|b'] });
  assert.match(parseSettings({ ...base, minP: '1.5' }).error, /Min-p/);
  assert.match(parseSettings({ ...base, repetitionPenalty: '0' }).error, /Repetition penalty/);
  assert.match(parseSettings({ ...base, presencePenalty: '3' }).error, /Presence penalty/);
  assert.match(parseSettings({ ...base, frequencyPenalty: 'x' }).error, /Frequency penalty/);
  assert.match(parseSettings({ ...base, stop: Array(17).fill('x').join('|') }).error, /Stop: at most 16/);
  assert.match(parseSettings({ ...base, stop: 'y'.repeat(257) }).error, /Stop: each string at most 256 bytes/);
  assert.deepEqual(parseStopStrings(''), []);
  assert.deepEqual(parseStopStrings('\\t\\\\x'), ['\t\\x']);
});

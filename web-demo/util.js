// util.js: the web demo's pure helpers (no DOM, no worker): WebAssembly SIMD
// detection, byte and number formatting, the KV-cache comparison, reading the
// metadata of a saved memory, first checks on a model file, sampling settings
// from the form, and turning load errors into messages a person can act on.
// Shared by app.js, worker.js and the Node tests (tests/browser/util.test.mjs).

// The smallest module that uses SIMD128: one function () -> v128 whose body is
// i32.const 0; i8x16.splat; i8x16.popcnt. Browsers without SIMD reject it.
export const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0a, 0x01, 0x08, 0x00, // code section: one body of 8 bytes, no locals
  0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // i32.const 0, i8x16.splat, i8x16.popcnt, end
]);

/** What the browser lacks to run the model, or null if nothing. */
export function missingWasmFeature(scope = globalThis) {
  const wa = scope.WebAssembly;
  if (typeof wa !== 'object' || typeof wa.validate !== 'function' || typeof wa.instantiate !== 'function') {
    return 'This browser has no WebAssembly, so the model cannot run here. ' +
      'Use a current Chrome, Edge, Firefox or Safari with WebAssembly enabled.';
  }
  let simd = false;
  try { simd = wa.validate(SIMD_PROBE); } catch { simd = false; }
  if (!simd) {
    return 'This browser lacks WebAssembly SIMD (128-bit vector instructions), which the model\'s ' +
      'kernels are built with. Chrome/Edge 91+, Firefox 89+ and Safari 16.4+ have it.';
  }
  if (typeof scope.Worker !== 'function') {
    return 'This browser has no Web Workers, which the demo uses to keep the page responsive.';
  }
  return null;
}

/** 1536 -> "1.5 KiB"; exact bytes below 1 KiB. */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  if (i === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/** 205762 -> "206K", 1234567 -> "1.23M": short parameter counts. */
export function formatCount(n) {
  if (!Number.isFinite(n)) return '?';
  if (n < 1000) return String(n);
  const steps = [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [div, suffix] of steps) {
    if (n >= div) {
      const v = n / div;
      return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${suffix}`;
    }
  }
  return String(n);
}

/**
 * Bytes a transformer's KV cache holds after `tokens` tokens: keys and values
 * (2) for every layer, each a vector of `dim` numbers per token, stored as f16
 * (2 bytes). Assumes plain multi-head attention (no grouped-query sharing).
 */
export function kvCacheBytes({ layers, dim, tokens, bytesPerValue = 2 }) {
  return 2 * layers * dim * tokens * bytesPerValue;
}

/** The context length at which that KV cache outgrows a state of `stateBytes`. */
export function kvCrossoverTokens({ stateBytes, layers, dim, bytesPerValue = 2 }) {
  const perToken = kvCacheBytes({ layers, dim, tokens: 1, bytesPerValue });
  return perToken > 0 ? Math.ceil(stateBytes / perToken) : Infinity;
}

/**
 * The "__metadata__" object of a safetensors file (a saved memory is one:
 * token_count, model_fingerprint, ttt_variant...). Throws on a file that is
 * not safetensors.
 */
export function readSafetensorsMeta(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 10) throw new Error(`not a memory file: only ${u8.length} bytes`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const len = Number(view.getBigUint64(0, true));
  if (!Number.isSafeInteger(len) || len < 2 || len > u8.length - 8) {
    throw new Error('not a memory file: the safetensors header length does not fit the file');
  }
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, 8 + len)));
  } catch {
    throw new Error('not a memory file: its safetensors header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('not a memory file: its safetensors header is not a JSON object');
  }
  const meta = header.__metadata__;
  return meta && typeof meta === 'object' ? meta : {};
}

/** Tokens a saved memory has read, or null if it does not say. */
export function memoryTokenCount(bytes) {
  const n = Number(readSafetensorsMeta(bytes).token_count);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * A quick look at the first bytes of a would-be model, before the engine
 * parses it: returns a message if it is plainly not a .bitt file, else null.
 */
export function checkModelBytes(bytes, name = 'the file') {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length === 0) return `${name} is empty.`;
  if (u8.length < 12) return `${name} is only ${u8.length} bytes: too short to be a .bitt model.`;
  const magic = String.fromCharCode(u8[0], u8[1], u8[2], u8[3]);
  if (magic === 'BITT') return null;
  if (u8[0] === 0x3c) return `${name} looks like a web page (HTML), not a .bitt model. Is the URL right?`;
  if (u8[0] === 0x50 && u8[1] === 0x4b) return `${name} is a zip archive, not a .bitt model. Unpack it first.`;
  const headerLen = new DataView(u8.buffer, u8.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > 0n && headerLen < BigInt(u8.length) && u8[8] === 0x7b) {
    return `${name} is a bare safetensors file. Convert it to .bitt with the CLI: ` +
      '`bitt convert CHECKPOINT_DIR model.bitt --packed`.';
  }
  return `${name} is not a .bitt model: it should start with "BITT". ` +
    'Make one with `bitt convert` or `bitt init`.';
}

/** The wasm memory cap of the npm package's build (BITT_WASM_MAX_MEMORY in wasm/CMakeLists.txt). */
export const WASM_MEMORY_LIMIT = 2 * 1024 ** 3;
/** Roughly how much wasm memory loading takes per byte of .bitt file: the file's copy plus the model. */
export const MEMORY_PER_FILE_BYTE = 2;

/**
 * Whether a model file of `size` bytes fits the tab: null if it does, else
 * { fatal, message }: fatal when it cannot fit in wasm32 memory at all, not
 * fatal (a warning) when it may not fit the device's memory.
 */
export function memoryCheck(size, { limit = WASM_MEMORY_LIMIT, deviceMemoryGiB } = {}) {
  const need = size * MEMORY_PER_FILE_BYTE;
  if (need > limit) {
    return {
      fatal: true,
      message: `This model is ${formatBytes(size)}; loading it needs about ${formatBytes(need)} of ` +
        `WebAssembly memory, more than a browser tab can have (${formatBytes(limit)}). ` +
        'Use a smaller or packed (.bitt v2) model, or the native CLI.',
    };
  }
  if (deviceMemoryGiB && need > deviceMemoryGiB * 1024 ** 3 * 0.5) {
    return {
      fatal: false,
      message: `This model is ${formatBytes(size)} and this device reports about ${deviceMemoryGiB} GiB ` +
        'of memory: the tab may run out of memory.',
    };
  }
  return null;
}

/** Whether an error means the tab ran out of memory rather than a bad file. */
export function isOutOfMemory(err) {
  if (!err) return false;
  if (err.name === 'RangeError' && /allocat|memory|array buffer|invalid array length/i.test(err.message)) return true;
  return /out of memory|cannot enlarge memory|aborted\(oom\)|memory access out of bounds|could not allocate|allocation failed|grow memory/i
    .test(String(err.message ?? err));
}

/** The message shown when a model fails to load. */
export function describeLoadError(err, { name = 'the model', size } = {}) {
  const text = String(err?.message ?? err ?? 'unknown error').replace(/^Error:\s*/, '');
  if (isOutOfMemory(err)) {
    return `${name}${size ? ` (${formatBytes(size)})` : ''} is too large for this tab's memory: ${text}. ` +
      'Close other tabs, or use a smaller or packed (.bitt v2) model.';
  }
  return `Could not load ${name}: ${text}`;
}

/** The file name at the end of a URL, for messages and titles. */
export function nameFromUrl(url) {
  try {
    const u = new URL(url, 'http://localhost/');
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '');
    return last || u.host || url;
  } catch {
    return String(url);
  }
}

/** Sampling limits of the form; the npm API takes the same names. */
export const LIMITS = {
  temperature: [0, 2],
  topK: [0, 100000],
  topP: [0.01, 1],
  maxTokens: [1, 100000],
  seed: [0, Number.MAX_SAFE_INTEGER],
  minP: [0, 1],
  repetitionPenalty: [0.01, 10],
  presencePenalty: [-2, 2],
  frequencyPenalty: [-2, 2],
};

/**
 * Stop strings from the form's one-line field: separated by |, with \n a
 * newline, \t a tab, \| a bar and \\ a backslash; empty parts are dropped.
 */
export function parseStopStrings(raw) {
  const out = [];
  let cur = '';
  const s = String(raw ?? '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[++i];
      cur += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else if (c === '|') {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Sampling options from the form's raw strings: { options } or { error }.
 * An empty seed means "pick one" (the caller supplies `randomSeed`).
 */
export function parseSettings(raw, randomSeed = () => Math.floor(Math.random() * 2 ** 31)) {
  const out = {};
  const num = (key, label, integer) => {
    const s = String(raw[key] ?? '').trim();
    const v = Number(s);
    const [lo, hi] = LIMITS[key];
    if (s === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < lo || v > hi) {
      throw new Error(`${label} must be ${integer ? 'a whole number' : 'a number'} from ${lo} to ${hi}`);
    }
    out[key] = v;
  };
  try {
    num('temperature', 'Temperature', false);
    num('topK', 'Top-k', true);
    num('topP', 'Top-p', false);
    num('maxTokens', 'Max tokens', true);
    if (String(raw.seed ?? '').trim() === '') out.seed = randomSeed();
    else num('seed', 'Seed', true);
    // the newer options are read when the form has them
    if (raw.minP !== undefined) num('minP', 'Min-p', false);
    if (raw.repetitionPenalty !== undefined) num('repetitionPenalty', 'Repetition penalty', false);
    if (raw.presencePenalty !== undefined) num('presencePenalty', 'Presence penalty', false);
    if (raw.frequencyPenalty !== undefined) num('frequencyPenalty', 'Frequency penalty', false);
    if (raw.stop !== undefined) {
      const stop = parseStopStrings(raw.stop);
      if (stop.length > 16) throw new Error('Stop: at most 16 strings');
      if (stop.some((x) => new TextEncoder().encode(x).length > 256)) throw new Error('Stop: each string at most 256 bytes');
      out.stop = stop;
    }
  } catch (e) {
    return { error: e.message };
  }
  return { options: out };
}

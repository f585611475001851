// index.js: the bit-ttt package: loads bitt.wasm (the Bit-TTT C core built
// with Emscripten, SIMD128 kernels) and wraps its exports (wasm/bitt_wasm.c)
// as the API of SPEC section 5: loadModel(source) -> Model with generate (an
// async iterator of text pieces), encode, decode, learn, saveState,
// loadState, reset, dispose, info. Runs in Node, browsers and Web Workers
// (no DOM use); no dependencies.

import { relaxedKernel } from './relaxed.js';

const WASM_URL = new URL('./bitt.wasm', import.meta.url);
const isNode = typeof process === 'object' && !!(process.versions && process.versions.node) &&
  typeof window === 'undefined';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8'); // invalid bytes become U+FFFD

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `a ${v.constructor ? v.constructor.name : 'object'}`;
  return `a ${typeof v}`;
}

// ---- reading bytes: URL strings, paths (Node), ArrayBuffer, Uint8Array ----

async function nodeReadFile(pathOrUrl) {
  const fs = await import('node:fs/promises');
  return new Uint8Array(await fs.readFile(pathOrUrl));
}

async function fetchBytes(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${what}: cannot fetch ${url}: ${e.message}`);
  }
  if (!res.ok) throw new Error(`${what}: cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

// Bytes of a source: Uint8Array / ArrayBuffer / other views as they are; a
// string or URL: http(s), data and blob URLs are fetched, file: URLs and
// plain paths read from disk in Node (fetched relative to the page elsewhere).
async function readSource(source, what) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  let url = null;
  if (source instanceof URL) url = source;
  else if (typeof source === 'string') {
    if (source.length === 0) throw new Error(`${what}: empty string (expected a URL or a file path)`);
    if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) url = new URL(source);
    else if (isNode) {
      try {
        return await nodeReadFile(source);
      } catch (e) {
        throw new Error(`${what}: cannot read ${source}: ${e.message}`);
      }
    } else return fetchBytes(source, what);
  } else {
    throw new TypeError(`${what}: expected a URL string, a file path, an ArrayBuffer or a Uint8Array (got ${describe(source)})`);
  }
  if (url.protocol === 'file:' && isNode) {
    try {
      return await nodeReadFile(url);
    } catch (e) {
      throw new Error(`${what}: cannot read ${url.href}: ${e.message}`);
    }
  }
  return fetchBytes(url.href, what);
}

// ---- the wasm runtime: one instance (one memory) shared by its models ----

class Runtime {
  constructor(instance) {
    this.x = instance.exports;
    this.memory = this.x.memory;
    this.buf = null;
    this.x._initialize();
  }

  // Views are re-created whenever memory has grown (the old buffer detaches).
  u8() {
    if (this.buf !== this.memory.buffer) this.buf = this.memory.buffer;
    return new Uint8Array(this.buf);
  }

  lastError() {
    return this.cString(this.x.bw_error()) || 'unknown error';
  }

  cString(ptr) {
    if (!ptr) return '';
    const u8 = this.u8();
    let end = ptr;
    while (u8[end] !== 0) end++;
    return decoder.decode(u8.subarray(ptr, end));
  }

  // Copies bytes into wasm memory; the caller frees the pointer.
  copyIn(bytes, what) {
    const p = this.x.bw_malloc(bytes.length);
    if (!p) throw new Error(`${what}: ${bytes.length} bytes do not fit in WebAssembly memory (out of memory)`);
    this.u8().set(bytes, p);
    return p;
  }

  // Runs fn(ptr, len) over the UTF-8 bytes of text, then frees them.
  withText(text, what, fn) {
    const bytes = encoder.encode(text);
    const p = this.copyIn(bytes, what);
    try {
      return fn(p, bytes.length);
    } finally {
      this.x.bw_free(p);
    }
  }

  // A malloc'd (pointer, length) result copied out and freed.
  takeBytes(p, len) {
    const out = this.u8().slice(p, p + len);
    this.x.bw_free(p);
    return out;
  }

  // A u32 out-parameter: fn(outPtr) runs, then the value is read.
  withOut(what, fn) {
    const out = this.x.bw_malloc(4);
    if (!out) throw new Error(`${what}: out of memory`);
    try {
      const r = fn(out);
      return [r, new DataView(this.memory.buffer).getUint32(out, true)];
    } finally {
      this.x.bw_free(out);
    }
  }
}

function wasiImports(getMemory, getKernel) {
  const view = () => new DataView(getMemory().buffer);
  return {
    env: {
      emscripten_notify_memory_growth() {}, // views are re-created on use
      // the relaxed-SIMD prefill kernel (relaxed.js), called only once bw_use_relaxed(1) turned it on
      bitt_relaxed_ternary_pairs(...args) {
        getKernel()(...args);
      },
    },
    wasi_snapshot_preview1: {
      environ_sizes_get(countPtr, sizePtr) {
        view().setUint32(countPtr, 0, true);
        view().setUint32(sizePtr, 0, true);
        return 0;
      },
      environ_get() {
        return 0;
      },
      fd_write(fd, iov, iovcnt, nwrittenPtr) { // only reached by debug prints
        const dv = view();
        let n = 0;
        for (let i = 0; i < iovcnt; i++) n += dv.getUint32(iov + 8 * i + 4, true);
        dv.setUint32(nwrittenPtr, n, true);
        return 0;
      },
      proc_exit(code) {
        throw new Error(`bit-ttt: the WebAssembly module exited (code ${code})`);
      },
    },
  };
}

const runtimes = new Map(); // wasm source (+ relaxed SIMD or not) -> Promise<Runtime>

async function instantiate(wasmSource, relaxed) {
  let memory = null;
  let kernel = null;
  const imports = wasiImports(() => memory, () => kernel);
  let result;
  if (wasmSource instanceof WebAssembly.Module) {
    result = { instance: await WebAssembly.instantiate(wasmSource, imports) };
  } else if (!isNode && (wasmSource instanceof URL || typeof wasmSource === 'string') &&
             typeof WebAssembly.instantiateStreaming === 'function') {
    const url = wasmSource instanceof URL ? wasmSource.href : wasmSource;
    try {
      result = await WebAssembly.instantiateStreaming(fetch(url), imports);
    } catch { // wrong MIME type on the server: fall back to bytes
      result = await WebAssembly.instantiate(await fetchBytes(url, 'loading bitt.wasm'), imports);
    }
  } else {
    const bytes = await readSource(wasmSource, 'loading bitt.wasm');
    result = await WebAssembly.instantiate(bytes, imports);
  }
  memory = result.instance.exports.memory;
  const rt = new Runtime(result.instance);
  // relaxed SIMD where the engine has it (and the module knows the kernel): prefill about 2x
  if (relaxed && typeof rt.x.bw_use_relaxed === 'function' && (kernel = relaxedKernel(memory)))
    rt.x.bw_use_relaxed(1);
  return rt;
}

function runtimeFor(wasmSource, relaxed) {
  const src = wasmSource === undefined ? WASM_URL.href : wasmSource;
  let byRelaxed = runtimes.get(src);
  if (!byRelaxed) runtimes.set(src, (byRelaxed = new Map()));
  let p = byRelaxed.get(relaxed);
  if (!p) {
    p = instantiate(wasmSource === undefined ? WASM_URL : wasmSource, relaxed);
    byRelaxed.set(relaxed, p);
    p.catch(() => byRelaxed.delete(relaxed));
  }
  return p;
}

// ---- generation helpers ----

const DEFAULTS = {
  maxTokens: 256, temperature: 0.8, topK: 40, topP: 0.95, seed: 42,
  minP: 0, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, penaltyLastN: 0, stop: [],
};
// Numeric options as bw_gen_options_set numbers them (wasm/bitt_wasm.c, OPT_*).
const NUMERIC_OPTIONS = ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'presencePenalty',
  'frequencyPenalty', 'penaltyLastN'];
const MAX_STOP_STRINGS = 16;
const MAX_STOP_BYTES = 256;

function checkNumber(name, v, { integer = false, min = -Infinity } = {}) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`generate: ${name} must be a finite number (got ${describe(v)})`);
  if (integer && !Number.isInteger(v)) throw new TypeError(`generate: ${name} must be an integer (got ${v})`);
  if (v < min) throw new RangeError(`generate: ${name} must be >= ${min} (got ${v})`);
  return v;
}

// stop: a string or an array of strings, each 1..256 bytes of UTF-8, at most 16.
function checkStop(stop) {
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list)) throw new TypeError(`generate: stop must be a string or an array of strings (got ${describe(stop)})`);
  if (list.length > MAX_STOP_STRINGS) throw new RangeError(`generate: at most ${MAX_STOP_STRINGS} stop strings (got ${list.length})`);
  return list.map((s, i) => {
    if (typeof s !== 'string') throw new TypeError(`generate: stop[${i}] must be a string (got ${describe(s)})`);
    const bytes = encoder.encode(s);
    if (bytes.length < 1 || bytes.length > MAX_STOP_BYTES) throw new RangeError(`generate: stop[${i}] must be 1 to ${MAX_STOP_BYTES} bytes of UTF-8 (got ${bytes.length})`);
    return bytes;
  });
}

function seedHalves(seed) {
  let big;
  if (typeof seed === 'bigint') big = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) big = BigInt(seed);
  else throw new TypeError(`generate: seed must be a non-negative safe integer or a BigInt (got ${typeof seed === 'number' ? seed : describe(seed)})`);
  if (big < 0n || big >= 1n << 64n) throw new RangeError(`generate: seed must be in [0, 2^64) (got ${big})`);
  return [Number(big & 0xffffffffn), Number(big >> 32n)];
}

// Lets timers, UI events and abort() calls run during a long generation.
function yieldToEventLoop() {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); r(); };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error('generate: aborted');
  e.name = 'AbortError';
  return e;
}

const cleanup = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ rt, model, session }) => {
    rt.x.bw_session_free(session);
    rt.x.bw_model_free(model);
  })
  : null;

// ---- the model ----

class Model {
  #rt;
  #model;
  #session;
  #busy = false;
  #token = {};

  constructor(rt, model, session, info) {
    this.#rt = rt;
    this.#model = model;
    this.#session = session;
    /** {config, params, bitt_version, state_bytes} */
    this.info = Object.freeze(info);
    if (cleanup) cleanup.register(this, { rt, model, session }, this.#token);
  }

  #live(what) {
    if (!this.#model) throw new Error(`${what}: the model has been disposed`);
  }

  #idle(what) {
    this.#live(what);
    if (this.#busy) throw new Error(`${what}: a generation on this model is still running (finish or break it first)`);
  }

  /** The kernel backend of the wasm build ("wasm128"). */
  get kernels() {
    this.#live('kernels');
    return this.#rt.cString(this.#rt.x.bw_model_kernels(this.#model));
  }

  /** Tokens the memory has read since its start state. */
  get tokens() {
    this.#live('tokens');
    return this.#rt.x.bw_session_tokens(this.#session);
  }

  encode(text) {
    this.#live('encode');
    if (typeof text !== 'string') throw new TypeError(`encode: text must be a string (got ${describe(text)})`);
    const rt = this.#rt;
    const [p, n] = rt.withText(text, 'encode', (tp, len) =>
      rt.withOut('encode', (out) => rt.x.bw_encode(this.#model, tp, len, out)));
    if (!p) throw new Error(`encode: ${rt.lastError()}`);
    const ids = new Int32Array(rt.memory.buffer, p, n).slice();
    rt.x.bw_free(p);
    return ids;
  }

  decode(ids) {
    this.#live('decode');
    let arr;
    if (ids instanceof Int32Array) arr = ids;
    else if (Array.isArray(ids) || ArrayBuffer.isView(ids)) {
      arr = new Int32Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const v = ids[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
          throw new TypeError(`decode: ids[${i}] must be an integer token id (got ${typeof v === 'number' ? v : describe(v)})`);
        }
        arr[i] = v;
      }
    } else throw new TypeError(`decode: ids must be an Int32Array or an array of integers (got ${describe(ids)})`);
    const rt = this.#rt;
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    const ip = rt.copyIn(bytes, 'decode');
    let p, len;
    try {
      [p, len] = rt.withOut('decode', (out) => rt.x.bw_decode(this.#model, ip, arr.length, out));
    } finally {
      rt.x.bw_free(ip);
    }
    if (!p) throw new Error(`decode: ${rt.lastError()}`);
    return decoder.decode(rt.takeBytes(p, len));
  }

  /** Feeds text into the TTT memory (no output). */
  learn(text) {
    this.#idle('learn');
    if (typeof text !== 'string') throw new TypeError(`learn: text must be a string (got ${describe(text)})`);
    const rt = this.#rt;
    const ok = rt.withText(text, 'learn', (p, len) => rt.x.bw_learn(this.#session, p, len));
    if (!ok) throw new Error(`learn: ${rt.lastError()}`);
  }

  /** Continues the prompt: an async iterator of text pieces. */
  generate(prompt = '', options = {}) {
    this.#idle('generate');
    if (typeof prompt !== 'string') throw new TypeError(`generate: prompt must be a string (got ${describe(prompt)})`);
    if (options === null || typeof options !== 'object') throw new TypeError(`generate: options must be an object (got ${describe(options)})`);
    const known = new Set([...Object.keys(DEFAULTS), 'signal']);
    for (const k of Object.keys(options)) if (!known.has(k)) throw new TypeError(`generate: unknown option '${k}'`);
    const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    checkNumber('maxTokens', o.maxTokens, { integer: true, min: 0 });
    checkNumber('temperature', o.temperature, { min: 0 });
    checkNumber('topK', o.topK, { integer: true, min: 0 });
    checkNumber('topP', o.topP);
    if (!(o.topP > 0 && o.topP <= 1)) throw new RangeError(`generate: topP must be in (0, 1] (got ${o.topP})`);
    checkNumber('minP', o.minP);
    if (!(o.minP >= 0 && o.minP <= 1)) throw new RangeError(`generate: minP must be in [0, 1] (got ${o.minP})`);
    checkNumber('repetitionPenalty', o.repetitionPenalty);
    if (!(o.repetitionPenalty > 0)) throw new RangeError(`generate: repetitionPenalty must be > 0 (1 = off; got ${o.repetitionPenalty})`);
    checkNumber('presencePenalty', o.presencePenalty);
    checkNumber('frequencyPenalty', o.frequencyPenalty);
    checkNumber('penaltyLastN', o.penaltyLastN, { integer: true, min: 0 });
    if (o.topK > 2 ** 31 - 1 || o.penaltyLastN > 2 ** 31 - 1) throw new RangeError('generate: topK and penaltyLastN must be below 2^31');
    o.stop = checkStop(o.stop);
    const [seedLo, seedHi] = seedHalves(o.seed);
    const signal = o.signal;
    if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean')) {
      throw new TypeError(`generate: signal must be an AbortSignal (got ${describe(signal)})`);
    }
    return this.#run(prompt, o, seedLo, seedHi, signal);
  }

  async *#run(prompt, o, seedLo, seedHi, signal) {
    const rt = this.#rt;
    this.#idle('generate'); // again: another iterator may have started meanwhile
    this.#busy = true;
    let gen = 0;
    try {
      if (signal && signal.aborted) throw abortReason(signal);
      const opts = rt.x.bw_gen_options_new();
      if (!opts) throw new Error(`generate: ${rt.lastError()}`);
      try {
        NUMERIC_OPTIONS.forEach((name, which) => {
          if (!rt.x.bw_gen_options_set(opts, which, o[name])) throw new Error(`generate: ${rt.lastError()}`);
        });
        for (const bytes of o.stop) {
          const sp = rt.copyIn(bytes, 'generate');
          try {
            if (!rt.x.bw_gen_options_stop(opts, sp, bytes.length)) throw new Error(`generate: ${rt.lastError()}`);
          } finally {
            rt.x.bw_free(sp);
          }
        }
        gen = rt.withText(prompt, 'generate', (p, len) => rt.x.bw_gen_begin(
          this.#session, this.#model, p, len, o.maxTokens, opts, seedLo, seedHi));
      } finally {
        rt.x.bw_gen_options_free(opts);
      }
      if (!gen) throw new Error(`generate: ${rt.lastError()}`);
      let last = now();
      for (;;) {
        if (signal && signal.aborted) throw abortReason(signal);
        if (!this.#model) throw new Error('generate: the model has been disposed');
        const rc = rt.x.bw_gen_next(gen);
        if (rc < 0) throw new Error(`generate: ${rt.lastError()}`);
        if (rc === 0) break;
        const len = rt.x.bw_gen_piece_len(gen);
        if (len > 0) {
          const p = rt.x.bw_gen_piece(gen);
          yield decoder.decode(rt.u8().subarray(p, p + len));
        }
        if (now() - last > 15) { // keep the page (or worker) responsive
          await yieldToEventLoop();
          last = now();
        }
      }
    } finally {
      if (gen) rt.x.bw_gen_free(gen);
      this.#busy = false;
    }
  }

  /** The TTT memory as bytes (a safetensors file, SPEC 3.4). */
  saveState() {
    this.#idle('saveState');
    const rt = this.#rt;
    const [p, len] = rt.withOut('saveState', (out) => rt.x.bw_state_save(this.#session, out));
    if (!p) throw new Error(`saveState: ${rt.lastError()}`);
    return rt.takeBytes(p, len);
  }

  /** Restores a memory saved by saveState (or by the CLI's --state-out). */
  loadState(bytes) {
    this.#idle('loadState');
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`loadState: expected a Uint8Array or an ArrayBuffer (got ${describe(bytes)})`);
    const rt = this.#rt;
    const p = rt.copyIn(bytes, 'loadState');
    try {
      if (!rt.x.bw_state_load(this.#session, p, bytes.length)) throw new Error(`loadState: ${rt.lastError()}`);
    } finally {
      rt.x.bw_free(p);
    }
  }

  /** Forgets everything: back to the model's start state. */
  reset() {
    this.#idle('reset');
    this.#rt.x.bw_session_reset(this.#session);
  }

  /** Next-token logits after the text read so far (feeds `text` first if given). */
  logits(text) {
    this.#idle('logits');
    const rt = this.#rt;
    if (text !== undefined) {
      if (typeof text !== 'string') throw new TypeError(`logits: text must be a string (got ${describe(text)})`);
      this.learn(text);
    }
    const p = rt.x.bw_logits(this.#session);
    if (!p) throw new Error('logits: nothing has been read yet');
    return new Float32Array(rt.memory.buffer, p, this.info.config.vocab_size).slice();
  }

  /** Releases the model's WebAssembly memory; the object is unusable after. */
  dispose() {
    if (!this.#model) return;
    if (cleanup) cleanup.unregister(this.#token);
    this.#rt.x.bw_session_free(this.#session);
    this.#rt.x.bw_model_free(this.#model);
    this.#model = 0;
    this.#session = 0;
  }
}

/**
 * Loads a .bitt model (v1 or v2) from a URL string, a file path (Node), an
 * ArrayBuffer or a Uint8Array. options.wasm: where bitt.wasm is, if not next
 * to this file (URL, path, bytes or a compiled WebAssembly.Module).
 * options.lmHead: 'f32' or 'int8' (logits through int8 rows: a quarter of
 * the bytes per token, as `bitt generate --lm-head int8`); default: the
 * file's form (int8 for a .bitt v2 with I8 embeddings, else f32); 'f32' on
 * such a file dequantises lm_head (a float copy), as `--lm-head f32`.
 */
export async function loadModel(source, options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`loadModel: options must be an object (got ${describe(options)})`);
  for (const k of Object.keys(options))
    if (k !== 'wasm' && k !== 'lmHead' && k !== 'relaxedSimd') throw new TypeError(`loadModel: unknown option '${k}'`);
  const lmHead = options.lmHead; // undefined: the file's form
  const relaxed = options.relaxedSimd ?? true;
  if (typeof relaxed !== 'boolean') throw new TypeError(`loadModel: relaxedSimd must be a boolean (got ${describe(relaxed)})`);
  if (lmHead !== undefined && lmHead !== 'f32' && lmHead !== 'int8') throw new TypeError(`loadModel: lmHead must be 'f32' or 'int8' (got ${describe(lmHead)})`);
  const bytes = await readSource(source, 'loadModel');
  const rt = await runtimeFor(options.wasm, relaxed);
  const p = rt.copyIn(bytes, 'loadModel: the model file');
  let model;
  try {
    model = rt.x.bw_model_load(p, bytes.length);
  } finally {
    rt.x.bw_free(p);
  }
  if (!model) throw new Error(`loadModel: ${rt.lastError()}`);
  if (lmHead !== undefined && !rt.x.bw_model_set_lm_head_int8(model, lmHead === 'int8' ? 1 : 0)) {
    const msg = rt.lastError();
    rt.x.bw_model_free(model);
    throw new Error(`loadModel: ${msg}`);
  }
  const session = rt.x.bw_session_new(model);
  if (!session) {
    const msg = rt.lastError();
    rt.x.bw_model_free(model);
    throw new Error(`loadModel: ${msg}`);
  }
  const ip = rt.x.bw_model_info(model);
  if (!ip) {
    rt.x.bw_session_free(session);
    rt.x.bw_model_free(model);
    throw new Error(`loadModel: ${rt.lastError()}`);
  }
  const info = JSON.parse(rt.cString(ip));
  rt.x.bw_free(ip);
  return new Model(rt, model, session, info);
}

export { Model };

// core.js: the bit-ttt package without the Node file reader (index.js adds
// it for Node; browser.js, the "browser" entry, goes without, so bundlers
// meet no node: import): loads bitt.wasm (the Bit-TTT C core built
// with Emscripten, SIMD128 kernels) and wraps its exports (wasm/bitt_wasm.c)
// as the API of SPEC section 5: loadModel(source) -> Model with generate (an
// async iterator of text pieces), chat.completions.create (OpenAI-style,
// through the chat template of `bitt serve`), encode, decode, learn,
// saveState, loadState, reset, dispose, info. loadModel reports progress
// (network / cache / read / init) and, in browsers, keeps models in a
// verified cache (cache.js) and resumes broken downloads with HTTP Range.
// Runs in Node, browsers and Web Workers (no DOM use); no dependencies.

import { relaxedKernel } from './relaxed.js';
import { isQuotaError, openStore } from './cache.js';

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

// (path or file: URL) -> Promise<Uint8Array>; set by index.js in Node, null elsewhere.
let fileReader = null;

/** Internal (index.js): how paths and file: URLs are read. */
export function setFileReader(read) {
  fileReader = read;
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
    else if (fileReader) {
      try {
        return await fileReader(source);
      } catch (e) {
        throw new Error(`${what}: cannot read ${source}: ${e.message}`);
      }
    } else return fetchBytes(source, what);
  } else {
    throw new TypeError(`${what}: expected a URL string, a file path, an ArrayBuffer or a Uint8Array (got ${describe(source)})`);
  }
  if (url.protocol === 'file:' && fileReader) {
    try {
      return await fileReader(url);
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

// A tiny module with one SIMD128 instruction: whether this engine has wasm SIMD.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this JavaScript engine has WebAssembly SIMD128, which bitt.wasm needs. */
export function hasWasmSimd() {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

async function instantiate(wasmSource, relaxed) {
  if (typeof WebAssembly !== 'object') throw new Error('bit-ttt: this JavaScript engine has no WebAssembly');
  if (!hasWasmSimd()) {
    throw new Error('bit-ttt: this JavaScript engine lacks WebAssembly SIMD (128-bit vector instructions), which ' +
      'bitt.wasm is built with: Chrome/Edge 91+, Firefox 89+, Safari 16.4+ and Node 16.4+ have it');
  }
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

function checkNumber(what, name, v, { integer = false, min = -Infinity } = {}) {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${what}: ${name} must be a finite number (got ${describe(v)})`);
  if (integer && !Number.isInteger(v)) throw new TypeError(`${what}: ${name} must be an integer (got ${v})`);
  if (v < min) throw new RangeError(`${what}: ${name} must be >= ${min} (got ${v})`);
  return v;
}

// stop: a string or an array of strings, each 1..256 bytes of UTF-8, at most 16.
function checkStop(what, stop) {
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list)) throw new TypeError(`${what}: stop must be a string or an array of strings (got ${describe(stop)})`);
  if (list.length > MAX_STOP_STRINGS) throw new RangeError(`${what}: at most ${MAX_STOP_STRINGS} stop strings (got ${list.length})`);
  return list.map((s, i) => {
    if (typeof s !== 'string') throw new TypeError(`${what}: stop[${i}] must be a string (got ${describe(s)})`);
    const bytes = encoder.encode(s);
    if (bytes.length < 1 || bytes.length > MAX_STOP_BYTES) throw new RangeError(`${what}: stop[${i}] must be 1 to ${MAX_STOP_BYTES} bytes of UTF-8 (got ${bytes.length})`);
    return bytes;
  });
}

function seedHalves(what, seed) {
  let big;
  if (typeof seed === 'bigint') big = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) big = BigInt(seed);
  else throw new TypeError(`${what}: seed must be a non-negative safe integer or a BigInt (got ${typeof seed === 'number' ? seed : describe(seed)})`);
  if (big < 0n || big >= 1n << 64n) throw new RangeError(`${what}: seed must be in [0, 2^64) (got ${big})`);
  return [Number(big & 0xffffffffn), Number(big >> 32n)];
}

// Checks the merged options o (DEFAULTS' keys) in place: o.stop becomes
// UTF-8 bytes. name(key) is how messages call an option (chat uses the
// OpenAI names). Returns the seed halves and the signal.
function checkOptions(what, o, name = (k) => k) {
  const num = (k, opts) => checkNumber(what, name(k), o[k], opts);
  num('maxTokens', { integer: true, min: 0 });
  num('temperature', { min: 0 });
  num('topK', { integer: true, min: 0 });
  num('topP');
  if (!(o.topP > 0 && o.topP <= 1)) throw new RangeError(`${what}: ${name('topP')} must be in (0, 1] (got ${o.topP})`);
  num('minP');
  if (!(o.minP >= 0 && o.minP <= 1)) throw new RangeError(`${what}: ${name('minP')} must be in [0, 1] (got ${o.minP})`);
  num('repetitionPenalty');
  if (!(o.repetitionPenalty > 0)) throw new RangeError(`${what}: ${name('repetitionPenalty')} must be > 0 (1 = off; got ${o.repetitionPenalty})`);
  num('presencePenalty');
  num('frequencyPenalty');
  num('penaltyLastN', { integer: true, min: 0 });
  if (o.topK > 2 ** 31 - 1 || o.penaltyLastN > 2 ** 31 - 1) throw new RangeError(`${what}: ${name('topK')} and ${name('penaltyLastN')} must be below 2^31`);
  o.stop = checkStop(what, o.stop);
  const [seedLo, seedHi] = seedHalves(what, o.seed);
  const signal = o.signal;
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean')) {
    throw new TypeError(`${what}: signal must be an AbortSignal (got ${describe(signal)})`);
  }
  return { seedLo, seedHi, signal };
}

// ---- chat: OpenAI-style parameters onto generate's options ----

const CHAT = 'chat.completions.create';
// OpenAI name -> generate's option (the names `bitt serve` reads, src/server/request.c)
const CHAT_OPTIONS = {
  max_tokens: 'maxTokens', max_completion_tokens: 'maxTokens', temperature: 'temperature', top_p: 'topP',
  top_k: 'topK', min_p: 'minP', presence_penalty: 'presencePenalty', frequency_penalty: 'frequencyPenalty',
  repetition_penalty: 'repetitionPenalty', penalty_last_n: 'penaltyLastN', seed: 'seed', stop: 'stop', signal: 'signal',
};
const CHAT_NAMES = Object.fromEntries(Object.entries(CHAT_OPTIONS).filter(([k]) => k !== 'max_completion_tokens')
  .map(([k, v]) => [v, k]));
// ChatRole of src/server/request.h; developer is a system message, as in the server
const CHAT_ROLES = { system: 0, developer: 0, user: 1, assistant: 2 };
const MAX_MESSAGES = 4096;

// [{role, text}] of the messages, checked as the server checks them.
function chatMessages(messages) {
  if (messages === undefined) throw new TypeError(`${CHAT}: messages is required`);
  if (!Array.isArray(messages)) throw new TypeError(`${CHAT}: messages must be an array (got ${describe(messages)})`);
  if (messages.length === 0) throw new RangeError(`${CHAT}: messages must hold at least one message`);
  if (messages.length > MAX_MESSAGES) throw new RangeError(`${CHAT}: at most ${MAX_MESSAGES} messages (got ${messages.length})`);
  return messages.map((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new TypeError(`${CHAT}: messages[${i}] must be an object (got ${describe(m)})`);
    if (m.role === 'tool' || m.role === 'function') throw new TypeError(`${CHAT}: messages[${i}]: tool and function messages are not supported`);
    if (!Object.hasOwn(CHAT_ROLES, m.role)) throw new TypeError(`${CHAT}: messages[${i}].role must be system, developer, user or assistant (got ${typeof m.role === 'string' ? JSON.stringify(m.role) : describe(m.role)})`);
    let text;
    if (typeof m.content === 'string') text = m.content;
    else if (Array.isArray(m.content)) {
      text = m.content.map((part, k) => {
        if (part === null || typeof part !== 'object' || part.type !== 'text') throw new TypeError(`${CHAT}: messages[${i}].content[${k}]: only text parts ({type: 'text', text}) are supported`);
        if (typeof part.text !== 'string') throw new TypeError(`${CHAT}: messages[${i}].content[${k}].text must be a string (got ${describe(part.text)})`);
        return part.text;
      }).join('');
    } else throw new TypeError(`${CHAT}: messages[${i}].content must be a string or an array of text parts (got ${describe(m.content)})`);
    return { role: CHAT_ROLES[m.role], text };
  });
}

let chatIds = 0;
function chatId() {
  const rand = Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return `chatcmpl-${rand}${(chatIds++).toString(16).padStart(4, '0')}`;
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

function abortReason(signal, what = 'generate') {
  if (signal.reason !== undefined) return signal.reason;
  const e = new Error(`${what}: aborted`);
  e.name = 'AbortError';
  return e;
}

const cleanup = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ rt, model, session, template }) => {
    if (template) rt.x.bw_chat_template_free(template);
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
  #template; // the chat template (a wasm pointer), or 0 with #templateError
  #templateError;

  constructor(rt, model, session, info, template, templateError) {
    this.#rt = rt;
    this.#model = model;
    this.#session = session;
    this.#template = template;
    this.#templateError = templateError;
    /** {config, params, bitt_version, state_bytes} */
    this.info = Object.freeze(info);
    /** The model fingerprint the engine computed (16 hex digits; saved states carry it). */
    this.fingerprint = null;
    /** Whether loadModel took the file from the browser's model cache. */
    this.fromCache = false;
    /** OpenAI-style chat: chat.completions.create({messages, stream, ...}) */
    this.chat = Object.freeze({ completions: Object.freeze({ create: (params) => this.#chatCreate(params) }) });
    if (cleanup) cleanup.register(this, { rt, model, session, template }, this.#token);
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
    const { seedLo, seedHi, signal } = checkOptions('generate', o);
    return this.#run('generate', prompt, o, seedLo, seedHi, signal, null);
  }

  // The steps of a generation. chat (chat.completions.create): null, or
  // {report}: the memory starts from the start state (as `bitt serve` for a
  // request without a conversation id), the template's stop strings follow
  // o.stop, and report gets promptTokens, completionTokens, finishReason.
  async *#run(what, prompt, o, seedLo, seedHi, signal, chat) {
    const rt = this.#rt;
    this.#idle(what); // again: another iterator may have started meanwhile
    this.#busy = true;
    let gen = 0;
    try {
      if (signal && signal.aborted) throw abortReason(signal, what);
      if (chat) {
        if (!this.#template) throw new Error(`${what}: ${this.#templateError}`);
        rt.x.bw_session_reset(this.#session);
      }
      const opts = rt.x.bw_gen_options_new();
      if (!opts) throw new Error(`${what}: ${rt.lastError()}`);
      try {
        NUMERIC_OPTIONS.forEach((name, which) => {
          if (!rt.x.bw_gen_options_set(opts, which, o[name])) throw new Error(`${what}: ${rt.lastError()}`);
        });
        for (const bytes of o.stop) {
          const sp = rt.copyIn(bytes, what);
          try {
            if (!rt.x.bw_gen_options_stop(opts, sp, bytes.length)) throw new Error(`${what}: ${rt.lastError()}`);
          } finally {
            rt.x.bw_free(sp);
          }
        }
        if (chat && !rt.x.bw_gen_options_chat_stops(opts, this.#template)) throw new Error(`${what}: ${rt.lastError()}`);
        gen = rt.withText(prompt, what, (p, len) => rt.x.bw_gen_begin(
          this.#session, this.#model, p, len, o.maxTokens, opts, seedLo, seedHi));
      } finally {
        rt.x.bw_gen_options_free(opts);
      }
      if (!gen) throw new Error(`${what}: ${rt.lastError()}`);
      if (chat) chat.report.promptTokens = rt.x.bw_session_tokens(this.#session);
      let last = now();
      for (;;) {
        if (signal && signal.aborted) throw abortReason(signal, what);
        if (!this.#model) throw new Error(`${what}: the model has been disposed`);
        const rc = rt.x.bw_gen_next(gen);
        if (rc < 0) throw new Error(`${what}: ${rt.lastError()}`);
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
      if (chat) {
        chat.report.completionTokens = rt.x.bw_gen_tokens(gen);
        chat.report.finishReason = rt.x.bw_gen_finish_reason(gen) === 3 ? 'length' : 'stop'; // 3: maxTokens
      }
    } finally {
      if (gen) rt.x.bw_gen_free(gen);
      this.#busy = false;
    }
  }

  // chat.completions.create: checks everything before anything runs, so a
  // bad request or an aborted signal rejects the promise itself.
  async #chatCreate(params) {
    this.#idle(CHAT);
    if (params === null || typeof params !== 'object') throw new TypeError(`${CHAT}: expected an object of parameters (got ${describe(params)})`);
    const o = { ...DEFAULTS };
    let stream = false;
    let includeUsage = false;
    let modelName = 'bit-ttt';
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      if (Object.hasOwn(CHAT_OPTIONS, k)) o[CHAT_OPTIONS[k]] = v;
      else if (k === 'stream') {
        if (typeof v !== 'boolean') throw new TypeError(`${CHAT}: stream must be a boolean (got ${describe(v)})`);
        stream = v;
      } else if (k === 'stream_options') {
        if (v === null || typeof v !== 'object') throw new TypeError(`${CHAT}: stream_options must be an object (got ${describe(v)})`);
        for (const key of Object.keys(v)) if (key !== 'include_usage') throw new TypeError(`${CHAT}: unknown stream_options key '${key}'`);
        if (v.include_usage !== undefined && typeof v.include_usage !== 'boolean') throw new TypeError(`${CHAT}: stream_options.include_usage must be a boolean`);
        includeUsage = !!v.include_usage;
      } else if (k === 'model') {
        if (typeof v !== 'string') throw new TypeError(`${CHAT}: model must be a string (got ${describe(v)})`);
        modelName = v; // only named in the answer: this object is the model
      } else if (k !== 'messages') throw new TypeError(`${CHAT}: unknown parameter '${k}'`);
    }
    if (params.stream_options !== undefined && !stream) throw new TypeError(`${CHAT}: stream_options needs stream: true`);
    const msgs = chatMessages(params.messages);
    const { seedLo, seedHi, signal } = checkOptions(CHAT, o, (k) => CHAT_NAMES[k] || k);
    if (signal && signal.aborted) throw abortReason(signal, CHAT);
    const prompt = this.#renderChat(msgs);
    const report = {};
    const steps = this.#run(CHAT, prompt, o, seedLo, seedHi, signal, { report });
    const id = chatId();
    const created = Math.floor(Date.now() / 1000);
    const usage = () => ({ prompt_tokens: report.promptTokens, completion_tokens: report.completionTokens,
      total_tokens: report.promptTokens + report.completionTokens });
    if (!stream) {
      let content = '';
      for await (const piece of steps) content += piece;
      return {
        id, object: 'chat.completion', created, model: modelName,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null,
          finish_reason: report.finishReason }],
        usage: usage(),
      };
    }
    const chunk = (delta, finishReason) => ({ id, object: 'chat.completion.chunk', created, model: modelName,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    return (async function* chunks() {
      let first = true;
      for await (const piece of steps) {
        yield chunk(first ? { role: 'assistant', content: piece } : { content: piece }, null);
        first = false;
      }
      yield chunk(first ? { role: 'assistant', content: '' } : {}, report.finishReason);
      if (includeUsage) yield { id, object: 'chat.completion.chunk', created, model: modelName, choices: [], usage: usage() };
    })();
  }

  // The text the model reads for the messages: the server's template code in the wasm (bw_chat_render).
  #renderChat(msgs) {
    const rt = this.#rt;
    if (!this.#template) throw new Error(`${CHAT}: ${this.#templateError}`);
    const texts = msgs.map((m) => encoder.encode(m.text));
    const total = texts.reduce((n, b) => n + b.length, 0);
    const table = rt.x.bw_malloc(12 * msgs.length);
    const data = rt.x.bw_malloc(total);
    try {
      if (!table || !data) throw new Error(`${CHAT}: the messages do not fit in WebAssembly memory (out of memory)`);
      const dv = new DataView(rt.memory.buffer);
      let at = data;
      texts.forEach((b, i) => {
        rt.u8().set(b, at);
        dv.setUint32(table + 12 * i, msgs[i].role, true);
        dv.setUint32(table + 12 * i + 4, at, true);
        dv.setUint32(table + 12 * i + 8, b.length, true);
        at += b.length;
      });
      const [p, len] = rt.withOut(CHAT, (out) => rt.x.bw_chat_render(this.#template, table, msgs.length, out));
      if (!p) throw new Error(`${CHAT}: ${rt.lastError()}`);
      return decoder.decode(rt.takeBytes(p, len));
    } finally {
      if (table) rt.x.bw_free(table);
      if (data) rt.x.bw_free(data);
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
    if (this.#template) this.#rt.x.bw_chat_template_free(this.#template);
    this.#template = 0;
    this.#templateError = 'the model has been disposed';
    this.#rt.x.bw_session_free(this.#session);
    this.#rt.x.bw_model_free(this.#model);
    this.#model = 0;
    this.#session = 0;
  }
}

// ---- loading: progress, the browser cache, resumable downloads ----

const LOAD_OPTIONS = new Set(['wasm', 'lmHead', 'relaxedSimd', 'onProgress', 'onWarning', 'cache', 'retries', 'signal']);

// The fingerprint the engine computed for a model: it is in the metadata of
// every saved state (model_fingerprint, 16 hex digits).
function stateFingerprint(state) {
  try {
    const len = Number(new DataView(state.buffer, state.byteOffset, 8).getBigUint64(0, true));
    const header = JSON.parse(decoder.decode(state.subarray(8, 8 + len)));
    const fp = header.__metadata__?.model_fingerprint;
    return typeof fp === 'string' ? fp : null;
  } catch {
    return null;
  }
}

/**
 * A rough estimate of the WebAssembly memory a model of `fileBytes` needs
 * while it loads: the file's copy in wasm memory plus the parsed model (about
 * the file's size again), plus the TTT state and buffers (a few MiB). Once
 * loaded the file copy is freed, so steady use is about half.
 */
export function estimateLoadBytes(fileBytes) {
  return 2 * fileBytes + (4 << 20);
}

/**
 * What a .bitt file's header says, before the engine loads it: {bitt_version,
 * config, headerBytes, fileBytes, estimatedBytes}. source: the file's first
 * bytes (at least its header: 12 bytes, then the header length they give) as
 * a Uint8Array / ArrayBuffer, or a Blob / File (only the header is read).
 * fileBytes: the file's size when source is only its start (default: the
 * bytes given, or the Blob's size).
 */
export async function readModelHeader(source, { fileBytes } = {}) {
  const what = 'readModelHeader';
  const isBlob = typeof Blob !== 'undefined' && source instanceof Blob;
  let head;
  if (isBlob) head = new Uint8Array(await source.slice(0, 12).arrayBuffer());
  else if (source instanceof ArrayBuffer) head = new Uint8Array(source);
  else if (ArrayBuffer.isView(source)) head = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  else throw new TypeError(`${what}: expected a Uint8Array, an ArrayBuffer or a Blob (got ${describe(source)})`);
  if (head.length < 12) throw new Error(`${what}: only ${head.length} bytes: too short for a .bitt header (12 at least)`);
  if (!hasMagic(head)) throw new Error(`${what}: not a .bitt model (it does not start with the magic BITT)`);
  const size = fileBytes ?? (isBlob ? source.size : head.length);
  const len = Number(new DataView(head.buffer, head.byteOffset, 12).getBigUint64(4, true));
  if (!Number.isSafeInteger(len) || 12 + len > size) throw new Error(`${what}: the header length ${len} runs past the end of the file (${size} bytes)`);
  const bytes = isBlob ? new Uint8Array(await source.slice(12, 12 + len).arrayBuffer()) : head.subarray(12, 12 + len);
  if (bytes.length < len) throw new Error(`${what}: the header is ${len} bytes: pass at least the first ${12 + len} bytes of the file`);
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new Error(`${what}: the .bitt header is not JSON (${e.message})`);
  }
  if (header === null || typeof header !== 'object' || typeof header.config !== 'object' || header.config === null) {
    throw new Error(`${what}: the .bitt header has no "config" object`);
  }
  return { bitt_version: header.bitt_version ?? 1, config: header.config, headerBytes: 12 + len, fileBytes: size,
    estimatedBytes: estimateLoadBytes(size) };
}

// The URL of a source to fetch over HTTP(S) (what the cache keys on), or null
// for bytes, paths read from disk, data: and blob: URLs.
function remoteUrl(source) {
  let href = null;
  if (source instanceof URL) href = source.href;
  else if (typeof source === 'string' && source.length > 0) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source)) href = new URL(source).href;
    else if (!fileReader && globalThis.location?.href) href = new URL(source, globalThis.location.href).href;
  }
  return href && /^https?:/i.test(href) ? href : null;
}

function hasMagic(bytes) {
  return bytes.length >= 4 && bytes[0] === 0x42 && bytes[1] === 0x49 && bytes[2] === 0x54 && bytes[3] === 0x54;
}

// Concatenates chunks into one Uint8Array.
function join(chunks, length) {
  if (chunks.length === 1 && chunks[0].length === length) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

// Progress reports of one phase, at most every 30 ms (the first and the last always).
function reporter(onProgress, phase) {
  let last = -Infinity;
  return (loaded, total, final = false, extra = undefined) => {
    if (!onProgress) return;
    const t = now();
    if (!final && loaded !== 0 && t - last < 30) return;
    last = t;
    onProgress({ loaded, total, phase, ...extra });
  };
}

/**
 * Downloads url, resuming with `Range: bytes=N-` when the connection breaks
 * (up to `retries` times; a 200 answer to a Range request restarts from 0).
 * partial: {bytes, total, validator} of an earlier broken download to go on
 * from. savePartial(bytes, total, validator): keeps what arrived when a
 * download breaks. validator: the ETag (or Last-Modified) of the file the
 * bytes came from; a 206 naming another one means the file changed: restart.
 */
async function download(url, { onProgress, retries, partial, savePartial, warn, signal }) {
  const what = 'loadModel';
  const aborted = () => signal && signal.aborted;
  const report = reporter(onProgress, 'network');
  const validatorOf = (res) => res.headers.get('etag') || res.headers.get('last-modified') || null;
  let chunks = [];
  let loaded = 0;
  let total = 0;
  let validator = null;
  if (partial && partial.bytes.length > 0 && partial.total > partial.bytes.length) {
    chunks = [partial.bytes];
    loaded = partial.bytes.length;
    total = partial.total;
    validator = partial.validator ?? null;
  }
  let lastError = null;
  let restarts = 0; // from byte 0 after a bad answer to a Range request: once
  for (let attempt = 0; attempt <= retries; attempt++) {
    const resuming = loaded > 0;
    let res;
    try {
      res = await fetch(url, resuming ? { headers: { Range: `bytes=${loaded}-` }, signal } : { signal });
    } catch (e) {
      if (aborted()) throw abortReason(signal, what);
      lastError = new Error(`${what}: cannot fetch ${url}: ${e.message}`);
      if (!resuming) throw lastError;
      continue;
    }
    if (resuming && res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
      const now = validatorOf(res);
      const changed = validator && now && now !== validator;
      if (!m || Number(m[1]) !== loaded || Number(m[3]) !== total || changed) {
        res.body?.cancel().catch(() => {});
        warn(changed
          ? `${url} changed on the server since the first ${loaded} bytes came (${validator}, now ${now}): downloading it again from the start`
          : `${url} answered the Range request with ${m ? `bytes ${m[1]}-${m[2]}/${m[3]}` : 'no usable Content-Range'}, ` +
            `not bytes ${loaded}-/${total}: downloading it again from the start`);
        chunks = []; loaded = 0; total = 0;
        if (restarts++ === 0) attempt--; // a first restart is not a retry
        continue;
      }
    } else if (res.ok) {
      if (resuming) { // the server ignored the Range header (200): start over
        chunks = []; loaded = 0;
      }
      total = Number(res.headers.get('content-length')) || 0;
      validator = validatorOf(res);
    } else if (resuming && res.status === 416) {
      chunks = []; loaded = 0; total = 0;
      if (restarts++ === 0) attempt--;
      continue;
    } else {
      res.body?.cancel().catch(() => {});
      throw new Error(`${what}: cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
    }
    report(loaded, total, true);
    try {
      if (!res.body) {
        const b = new Uint8Array(await res.arrayBuffer());
        chunks.push(b);
        loaded += b.length;
      } else {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          loaded += value.length;
          report(loaded, total);
        }
      }
      if (total && loaded < total) throw new Error(`the server sent ${loaded} of ${total} bytes`);
    } catch (e) {
      if (aborted()) throw abortReason(signal, what);
      lastError = e;
      if (loaded > 0 && total > loaded) {
        chunks = [join(chunks, loaded)];
        if (savePartial) await savePartial(chunks[0], total, validator);
        continue;
      }
      throw new Error(`${what}: the download of ${url} broke after ${loaded} bytes: ${e.message}`);
    }
    if (!total) total = loaded;
    report(loaded, total, true);
    return join(chunks, loaded);
  }
  throw new Error(`${what}: the download of ${url} broke after ${loaded} of ${total} bytes ` +
    `(${retries + 1} tries; ${lastError?.message ?? 'connection lost'})` +
    (savePartial ? '; loading it again resumes from there' : ''));
}

// The engine's model from the bytes (the 'init' phase).
async function initModel(bytes, options) {
  const { lmHead, relaxed, onProgress } = options;
  const size = bytes.length;
  const estimatedBytes = estimateLoadBytes(size);
  onProgress?.({ loaded: 0, total: size, phase: 'init', estimatedBytes });
  const rt = await runtimeFor(options.wasm, relaxed);
  const p = rt.copyIn(bytes, 'loadModel: the model file');
  let model;
  let template = 0;
  let templateError = '';
  try {
    model = rt.x.bw_model_load(p, bytes.length);
    if (!model) throw new Error(`loadModel: ${rt.lastError()}`);
    // the chat template of the header (a malformed one fails only chat, as it would fail `bitt serve`)
    template = rt.x.bw_chat_template_new(p, bytes.length);
    if (!template) templateError = rt.lastError();
  } finally {
    rt.x.bw_free(p);
  }
  const fail = (msg) => {
    if (template) rt.x.bw_chat_template_free(template);
    rt.x.bw_model_free(model);
    throw new Error(`loadModel: ${msg}`);
  };
  if (lmHead !== undefined && !rt.x.bw_model_set_lm_head_int8(model, lmHead === 'int8' ? 1 : 0)) fail(rt.lastError());
  const session = rt.x.bw_session_new(model);
  if (!session) fail(rt.lastError());
  const ip = rt.x.bw_model_info(model);
  if (!ip) {
    rt.x.bw_session_free(session);
    fail(rt.lastError());
  }
  const info = JSON.parse(rt.cString(ip));
  rt.x.bw_free(ip);
  const m = new Model(rt, model, session, info, template, templateError);
  m.fingerprint = stateFingerprint(m.saveState());
  onProgress?.({ loaded: size, total: size, phase: 'init', estimatedBytes });
  return m;
}

/**
 * Loads a .bitt model (v1 or v2) from a URL string, a file path (Node), a
 * Blob / File, an ArrayBuffer or a Uint8Array. options.wasm: where bitt.wasm
 * is, if not next to this file (URL, path, bytes or a compiled
 * WebAssembly.Module). options.lmHead: 'f32' or 'int8' (logits through int8
 * rows: a quarter of the bytes per token, as `bitt generate --lm-head int8`);
 * default: the file's form (int8 for a .bitt v2 with I8 embeddings, else
 * f32); 'f32' on such a file dequantises lm_head (a float copy), as
 * `--lm-head f32`. options.onProgress({loaded, total, phase}); options.cache
 * (browsers: keep http(s) models in OPFS / the Cache API); options.retries
 * (Range resumes of a broken download, default 3); options.onWarning(message)
 * (default console.warn); options.signal (an AbortSignal: aborts a download). See index.d.ts and README.md.
 */
export async function loadModel(source, options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`loadModel: options must be an object (got ${describe(options)})`);
  for (const k of Object.keys(options)) if (!LOAD_OPTIONS.has(k)) throw new TypeError(`loadModel: unknown option '${k}'`);
  const lmHead = options.lmHead; // undefined: the file's form
  const relaxed = options.relaxedSimd ?? true;
  if (typeof relaxed !== 'boolean') throw new TypeError(`loadModel: relaxedSimd must be a boolean (got ${describe(relaxed)})`);
  if (lmHead !== undefined && lmHead !== 'f32' && lmHead !== 'int8') throw new TypeError(`loadModel: lmHead must be 'f32' or 'int8' (got ${describe(lmHead)})`);
  for (const k of ['onProgress', 'onWarning']) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new TypeError(`loadModel: ${k} must be a function (got ${describe(options[k])})`);
  }
  const cache = options.cache ?? false;
  if (typeof cache !== 'boolean') throw new TypeError(`loadModel: cache must be a boolean (got ${describe(cache)})`);
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`loadModel: retries must be a non-negative integer (got ${retries})`);
  const { onProgress, signal } = options;
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean')) {
    throw new TypeError(`loadModel: signal must be an AbortSignal (got ${describe(signal)})`);
  }
  const checkAbort = () => { if (signal && signal.aborted) throw abortReason(signal, 'loadModel'); };
  checkAbort();
  const warn = (msg) => (options.onWarning ? options.onWarning(`loadModel: ${msg}`) : console.warn(`bit-ttt: loadModel: ${msg}`));
  const init = { wasm: options.wasm, lmHead, relaxed, onProgress };

  const url = remoteUrl(source);
  if (!url) { // bytes, a Blob, a path (Node), data: / blob: URLs: no cache
    let bytes;
    if (typeof Blob !== 'undefined' && source instanceof Blob) {
      onProgress?.({ loaded: 0, total: source.size, phase: 'read' });
      bytes = new Uint8Array(await source.arrayBuffer());
      onProgress?.({ loaded: bytes.length, total: bytes.length, phase: 'read' });
    } else {
      const isBytes = source instanceof ArrayBuffer || ArrayBuffer.isView(source);
      bytes = await readSource(source, 'loadModel');
      if (!isBytes) onProgress?.({ loaded: bytes.length, total: bytes.length, phase: 'read' });
    }
    const model = await initModel(bytes, init);
    model.fromCache = false;
    return model;
  }

  // cache: true works where there is OPFS or the Cache API (browsers, workers); elsewhere (Node) it is ignored
  let store = null;
  if (cache) {
    let quota = false;
    try {
      store = await openStore();
    } catch (e) {
      quota = true;
      warn(`the model cache is over its storage quota (${e.message}): ${url} is kept in memory only`);
    }
    // a browser whose storage refused both stores (e.g. some private modes); Node has neither and stays quiet
    if (!store && !quota && !isNode && (globalThis.navigator?.storage || globalThis.caches)) {
      warn(`this browser gave no model cache (neither OPFS nor the Cache API could be opened): ${url} is kept in memory only`);
    }
  }
  if (store) {
    let hit = null;
    try {
      hit = await store.get(url, onProgress);
    } catch (e) {
      hit = { meta: null, bytes: null, problem: `it could not be read: ${e.message}` };
    }
    if (hit) {
      let problem = hit.problem;
      if (!problem && !hasMagic(hit.bytes)) problem = 'it does not start with the magic BITT';
      if (!problem && hit.bytes.length !== hit.meta.size) problem = `it has ${hit.bytes.length} bytes, ${hit.meta.size} were stored`;
      let model = null;
      if (!problem) {
        try {
          model = await initModel(hit.bytes, init);
          if (model.fingerprint !== hit.meta.fingerprint) {
            problem = `its fingerprint is ${model.fingerprint}, ${hit.meta.fingerprint} was stored`;
            model.dispose();
            model = null;
          }
        } catch (e) {
          problem = e.message;
        }
      }
      if (model) {
        model.fromCache = true;
        return model;
      }
      warn(`the cached copy of ${url} is corrupt (${problem}): it is deleted and downloaded again`);
      await store.delete(url).catch(() => {});
    }
  }
  let partial = null;
  if (store) partial = await store.getPartial(url).catch(() => null);
  let keepPartial = !!store;
  const bytes = await download(url, {
    onProgress, retries, partial, warn, signal,
    savePartial: store ? async (b, total, validator) => {
      if (!keepPartial) return;
      try {
        await store.putPartial(url, b, total, validator);
      } catch (e) {
        keepPartial = false;
        warn(`could not keep the partial download of ${url} (${isQuotaError(e) ? 'storage quota' : e.message})`);
      }
    } : null,
  });
  checkAbort();
  if (!hasMagic(bytes)) throw new Error(`loadModel: ${url} is not a .bitt model (it does not start with the magic BITT)`);
  const model = await initModel(bytes, init);
  model.fromCache = false;
  if (store) {
    await store.deletePartial(url).catch(() => {});
    try {
      await store.put(url, bytes, { size: bytes.length, fingerprint: model.fingerprint, storedAt: Date.now() });
    } catch (e) {
      warn(isQuotaError(e)
        ? `the model cache is over its storage quota (${e.message}): ${url} is kept in memory only`
        : `could not cache ${url} (${e.message}): it is kept in memory only`);
    }
  }
  return model;
}

export { Model };
export { listCachedModels, deleteCachedModel } from './cache.js';

// worker.js: the demo's module Web Worker. It owns the model (the bit-ttt npm
// package from ../npm/), so loading, generation, learning and the memory
// operations never block the page. Messages in: {id, op, ...}; messages out:
// {id, type: 'progress' | 'pieces' | 'done' | 'error', ...}. Models from URLs
// are cached by the package (OPFS); the page lists and deletes them itself. Generation sends
// its text in small batches and yields to the event loop between them, so a
// 'stop' message is seen while tokens are still being made.
import { loadModel } from '../npm/index.js';
import { checkModelBytes, describeLoadError, isOutOfMemory, memoryCheck, readSafetensorsMeta }
  from './util.js';

let model = null;
let modelInfo = null;
let running = null; // { id, controller } of the generation in progress

const post = (msg, transfer) => self.postMessage(msg, transfer ?? []);

// Lets queued messages (a stop) run: a MessageChannel round trip is a real
// task, unlike an awaited promise, and is not clamped like setTimeout.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToEvents() {
  return new Promise((resolve) => { waiting.push(resolve); channel.port2.postMessage(0); });
}

// The memory's size (constant: the TTT state's tensors) and the tokens it has read.
function memoryStats() {
  return { stateBytes: modelInfo.state_bytes, memoryTokens: model.tokens };
}

// The fingerprint of the model a saved memory belongs to (from its metadata).
function fingerprintOf(bytes) {
  try {
    const fp = readSafetensorsMeta(bytes).model_fingerprint;
    return typeof fp === 'string' ? fp : null;
  } catch {
    return null;
  }
}

// Throws a readable error for a model that cannot fit in wasm memory at all.
function refuseIfTooLarge(size) {
  const check = size ? memoryCheck(size) : null;
  if (check?.fatal) throw Object.assign(new Error(check.message), { friendly: true });
}

// Loads a model: a File (read here, checked for the plainly-not-a-model
// cases first) or a URL, which the package downloads with progress, keeps in
// its browser cache (OPFS) and resumes with Range if the connection breaks.
// Progress goes to the page as {phase: 'read' | 'network' | 'cache' | 'init',
// loaded, total, estimatedBytes}; a download whose size is too large for
// the tab is aborted from its first report. The old model stays until the
// new one is in, so a failed load keeps it.
async function opLoad(msg) {
  const { id, name } = msg;
  let size = 0;
  const warnings = [];
  try {
    if (running) running.controller.abort();
    const controller = new AbortController();
    const onProgress = (p) => {
      if (p.total) size = p.total;
      if (p.phase === 'network' && p.total && !controller.signal.aborted) {
        const check = memoryCheck(p.total);
        if (check?.fatal) {
          controller.abort(Object.assign(new Error(check.message), { friendly: true }));
          return;
        }
      }
      post({ id, type: 'progress', ...p });
    };
    let source = msg.url;
    if (msg.file) {
      size = msg.file.size;
      refuseIfTooLarge(size);
      post({ id, type: 'progress', phase: 'read', loaded: 0, total: size });
      source = new Uint8Array(await msg.file.arrayBuffer());
      post({ id, type: 'progress', phase: 'read', loaded: size, total: size });
      const bad = checkModelBytes(source, name);
      if (bad) throw Object.assign(new Error(bad), { friendly: true });
    }
    const next = await loadModel(source, {
      onProgress, signal: controller.signal, cache: !msg.file, onWarning: (w) => warnings.push(w.replace(/^loadModel: /, '')),
    });
    source = null;
    if (model) model.dispose();
    model = next;
    modelInfo = model.info;
    const warning = memoryCheck(size, { deviceMemoryGiB: self.navigator?.deviceMemory })?.message ?? null;
    post({ id, type: 'done', info: modelInfo, kernels: model.kernels, fileBytes: size, warning, warnings,
      fingerprint: model.fingerprint, fromCache: model.fromCache, ...memoryStats() });
  } catch (e) {
    const text = e.friendly ? e.message : describeLoadError(e, { name, size });
    post({ id, type: 'error', message: text, outOfMemory: isOutOfMemory(e), modelKept: !!model, warnings });
  }
}

async function opGenerate(msg) {
  const { id, prompt, options } = msg;
  const controller = new AbortController();
  running = { id, controller };
  const start = performance.now();
  // Tokens generated so far: what the memory read beyond the prompt (which at
  // the start state is preceded by the separator </s>). Pieces are not
  // tokens: a token may end inside a UTF-8 character.
  const before = model.tokens + model.encode(prompt).length + (model.tokens === 0 ? 1 : 0);
  const generated = () => Math.max(0, model.tokens - before);
  let buffered = '';
  let lastPost = start;
  let stopped = false;
  const flush = () => {
    post({ id, type: 'pieces', text: buffered, tokens: generated(), seconds: (performance.now() - start) / 1000 });
    buffered = '';
  };
  try {
    for await (const piece of model.generate(prompt, { ...options, signal: controller.signal })) {
      buffered += piece;
      const now = performance.now();
      if (now - lastPost > 16) {
        lastPost = now;
        flush();
        await yieldToEvents(); // lets a 'stop' message in
      }
    }
  } catch (e) {
    if (e?.name === 'AbortError' || controller.signal.aborted) {
      stopped = true;
    } else {
      if (buffered) flush();
      running = null;
      post({ id, type: 'error', message: `Generation failed: ${e.message ?? e}`, outOfMemory: isOutOfMemory(e) });
      return;
    }
  }
  running = null;
  const seconds = (performance.now() - start) / 1000;
  post({ id, type: 'done', text: buffered, tokens: generated(), seconds, stopped, ...memoryStats() });
}

function run(msg) {
  const { id, op } = msg;
  try {
    if (op === 'stop') {
      if (running && (msg.target === undefined || msg.target === running.id)) running.controller.abort();
      post({ id, type: 'done' });
      return;
    }
    if (op === 'load') { opLoad(msg); return; }
    if (!model) throw new Error('no model is loaded yet');
    if (running) throw new Error('the model is busy generating; stop it first');
    switch (op) {
      case 'generate':
        opGenerate(msg);
        return;
      case 'learn': {
        const start = performance.now();
        model.learn(msg.text);
        post({ id, type: 'done', seconds: (performance.now() - start) / 1000, ...memoryStats() });
        return;
      }
      case 'save-state': {
        const bytes = model.saveState();
        post({ id, type: 'done', bytes, fingerprint: fingerprintOf(bytes), ...memoryStats() }, [bytes.buffer]);
        return;
      }
      case 'load-state':
        model.loadState(new Uint8Array(msg.bytes));
        post({ id, type: 'done', ...memoryStats() });
        return;
      case 'reset':
        model.reset();
        post({ id, type: 'done', ...memoryStats() });
        return;
      default:
        throw new Error(`unknown request '${op}'`);
    }
  } catch (e) {
    post({ id, type: 'error', message: String(e?.message ?? e), outOfMemory: isOutOfMemory(e) });
  }
}

self.onmessage = (ev) => run(ev.data);
self.postMessage({ type: 'hello' });

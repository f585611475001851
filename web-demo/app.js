// app.js: the web demo's page logic. Talks to worker.js (which owns the
// model), streams replies into #output, keeps #status current (`ready`,
// tok/s), shows the model's info and its memory next to a KV cache, and
// saves/restores the memory through IndexedDB and files, and lists the models
// the package keeps in this browser's cache (OPFS), with delete buttons.
import {
  formatBytes, formatCount, kvCacheBytes, kvCrossoverTokens, memoryCheck,
  missingWasmFeature, nameFromUrl, parseSettings, readSafetensorsMeta,
} from './util.js';
import { getMemory, putMemory } from './store.js';
import { deleteCachedModel, listCachedModels } from '../npm/browser.js';

const $ = (id) => document.getElementById(id);
const el = {
  status: $('status'), alert: $('alert'), alertText: $('alert-text'), alertClose: $('alert-close'),
  modelFile: $('model-file'), loadShipped: $('load-shipped'), urlForm: $('url-form'), modelUrl: $('model-url'), loadUrl: $('load-url'),
  progressBox: $('progress-box'), progress: $('progress'), progressText: $('progress-text'),
  info: $('model-info'), cachedBadge: $('cached-badge'), cacheBox: $('cache-box'), cachedModels: $('cached-models'),
  output: $('output'), composer: $('composer'), prompt: $('prompt'),
  send: $('send'), stop: $('stop'), memorySize: $('memory-size'), kvSize: $('kv-size'),
  barState: $('bar-state'), barKv: $('bar-kv'), memoryTokens: $('memory-tokens'),
  kvAssume: $('kv-assume'), saveMemory: $('save-memory'), loadMemory: $('load-memory'),
  loadMemoryFile: $('load-memory-file'), resetMemory: $('reset-memory'), memoryFile: $('memory-file'),
  teachForm: $('teach-form'), teachText: $('teach-text'), teach: $('teach'),
  overlay: $('drop-overlay'), dropZone: $('drop-zone'),
  settingsBox: $('settings-box'), settingsSummary: $('settings-summary'),
  temperature: $('temperature'), topK: $('top-k'), topP: $('top-p'), maxTokens: $('max-tokens'), seed: $('seed'),
  minP: $('min-p'), repetitionPenalty: $('repetition-penalty'), presencePenalty: $('presence-penalty'),
  frequencyPenalty: $('frequency-penalty'), stopStrings: $('stop-strings'),
};

const state = {
  worker: null,
  model: null, // { name, info, fileBytes }
  memory: { stateBytes: 0, tokens: 0, fingerprint: null },
  busy: null, // 'load' | 'generate' | 'memory' while a request runs
  generating: null, // id of the running generation
  lastRate: null, // text after the last reply, kept in #status
};

// ---------- status line, alerts, busy state ----------

function setStatus(text, kind = 'idle') {
  el.status.textContent = text;
  el.status.dataset.kind = kind;
}

function showAlert(message, kind = 'error') {
  el.alertText.textContent = message;
  el.alert.dataset.kind = kind;
  el.alert.hidden = false;
}

function hideAlert() { el.alert.hidden = true; }

function readyStatus() {
  if (!state.model) return;
  setStatus(`ready · ${state.model.name}${state.lastRate ? ` · ${state.lastRate}` : ''}`, 'ready');
}

// Enables what makes sense now; everything model-related waits for a model and an idle worker.
function refreshControls() {
  const idle = !state.busy && !!state.model;
  for (const b of [el.send, el.prompt, el.teach, el.teachText, el.saveMemory, el.loadMemory,
    el.loadMemoryFile, el.resetMemory]) b.disabled = !idle;
  const loading = state.busy === 'load';
  el.modelFile.disabled = loading || state.busy === 'generate' || !state.worker;
  el.loadUrl.disabled = el.modelFile.disabled;
  el.loadShipped.disabled = el.modelFile.disabled;
  el.send.hidden = state.busy === 'generate';
  el.stop.hidden = state.busy !== 'generate';
  document.body.classList.toggle('has-model', !!state.model);
}

// ---------- the worker ----------

let nextId = 1;
const pending = new Map();

function call(op, payload = {}, handlers = {}, transfer = []) {
  const id = nextId++;
  return {
    id,
    done: new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, handlers });
      state.worker.postMessage({ id, op, ...payload }, transfer);
    }),
  };
}

function onWorkerMessage(ev) {
  const msg = ev.data;
  if (msg.type === 'hello') return;
  const p = pending.get(msg.id);
  if (!p) return;
  if (msg.type === 'progress') p.handlers.onProgress?.(msg);
  else if (msg.type === 'pieces') p.handlers.onPieces?.(msg);
  else {
    pending.delete(msg.id);
    if (msg.type === 'done') p.resolve(msg);
    else p.reject(Object.assign(new Error(msg.message), { outOfMemory: msg.outOfMemory, modelKept: msg.modelKept }));
  }
}

function startWorker() {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    let started = false;
    w.onmessage = (ev) => {
      if (!started && ev.data?.type === 'hello') { started = true; resolve(w); return; }
      onWorkerMessage(ev);
    };
    w.onerror = (ev) => {
      ev.preventDefault?.();
      const why = ev.message || 'the engine (../npm/index.js and its bitt.wasm) did not load';
      if (!started) {
        started = true;
        resolve(null);
        showAlert(`Could not start the model engine: ${why}. Build the npm package first ` +
          '(cmake --preset wasm && cmake --build --preset wasm) and serve the repository root.');
        setStatus('engine unavailable', 'error');
        return;
      }
      for (const [id, p] of pending) { p.reject(new Error(`the engine stopped: ${why}`)); pending.delete(id); }
      state.busy = null;
      state.model = null;
      setStatus('the engine stopped; load the model again', 'error');
      refreshControls();
    };
  });
}

// ---------- model loading ----------

const PHASE_TEXT = {
  network: (name) => `Downloading ${name}`,
  cache: (name) => `Reading ${name} from this browser's cache`,
  read: (name) => `Reading ${name}`,
};

// The progress bar and #status for a progress report of the package's
// loadModel: {phase: 'read' | 'network' | 'cache' | 'init', loaded, total, estimatedBytes}.
function showProgress(msg, name) {
  el.progressBox.hidden = false;
  const { loaded = 0, total = 0, phase = 'network' } = msg;
  el.progressBox.dataset.phase = phase;
  if (phase === 'init') {
    el.progress.removeAttribute('value');
    const need = msg.estimatedBytes ? `; needs about ${formatBytes(msg.estimatedBytes)} of memory to load` : '';
    el.progressText.textContent = `Preparing ${name} (${formatBytes(total)}${need})…`;
    el.progressText.dataset.estimatedBytes = String(msg.estimatedBytes ?? '');
    setStatus(`loading · preparing ${name}`, 'busy');
    return;
  }
  const what = (PHASE_TEXT[phase] ?? PHASE_TEXT.network)(name);
  if (total > 0) {
    el.progress.value = loaded / total;
    const pct = Math.floor((100 * loaded) / total);
    el.progressText.textContent = `${what}: ${formatBytes(loaded)} of ${formatBytes(total)} (${pct}%)`;
    setStatus(`loading · ${phase} · ${pct}%`, 'busy');
  } else {
    el.progress.removeAttribute('value');
    el.progressText.textContent = `${what}: ${formatBytes(loaded)}`;
    setStatus(`loading · ${phase} · ${formatBytes(loaded)}`, 'busy');
  }
}

// ---------- the model cache (OPFS, through the package) ----------

async function renderCachedModels() {
  let list = [];
  try {
    list = await listCachedModels();
  } catch (e) {
    list = [];
    el.cachedModels.dataset.error = e.message;
  }
  el.cachedModels.replaceChildren();
  for (const m of list) {
    const li = document.createElement('li');
    li.dataset.url = m.url;
    const name = document.createElement('button');
    name.type = 'button';
    name.className = 'link load-cached';
    name.textContent = nameFromUrl(m.url);
    name.title = `Load ${m.url} from the cache`;
    name.addEventListener('click', () => loadModelFrom({ url: m.url }));
    const what = document.createElement('span');
    what.className = 'fine';
    what.textContent = ` ${formatBytes(m.size)} · stored ${new Date(m.storedAt).toLocaleString()} · ${m.fingerprint} `;
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'delete-cached';
    del.textContent = 'Delete';
    del.title = `Delete ${m.url} from this browser's cache`;
    del.addEventListener('click', async () => {
      del.disabled = true;
      try {
        await deleteCachedModel(m.url);
      } catch (e) {
        showAlert(`Could not delete ${m.url} from the cache: ${e.message}`);
      }
      renderCachedModels();
    });
    li.append(name, what, del);
    el.cachedModels.append(li);
  }
  el.cacheBox.hidden = list.length === 0;
  el.cachedModels.dataset.count = String(list.length);
}

// The small story model of web-demo/models/ (scripts/train_demo_model.sh),
// loaded when the page opens without ?model=.
const SHIPPED_MODEL_URL = new URL('./models/story-gate.bitt', location.href).href;

async function shippedModelThere() {
  try {
    const res = await fetch(SHIPPED_MODEL_URL, { method: 'HEAD' });
    return res.ok;
  } catch {
    return false;
  }
}

async function loadModelFrom(source) {
  if (!state.worker || state.busy === 'load') return;
  if (state.busy === 'generate') { showAlert('Stop the reply first, then load another model.', 'info'); return; }
  hideAlert();
  const name = source.file ? source.file.name : nameFromUrl(source.url);
  if (source.file) {
    const check = memoryCheck(source.file.size, { deviceMemoryGiB: navigator.deviceMemory });
    if (check?.fatal) { showAlert(check.message); return; }
  }
  state.busy = 'load';
  state.lastRate = null;
  refreshControls();
  setStatus(`loading · ${name}`, 'busy');
  showProgress({ loaded: 0, total: source.file?.size ?? 0, phase: source.file ? 'read' : 'network' }, name);
  try {
    const payload = source.file ? { file: source.file, name } : { url: source.url, name };
    const res = await call('load', payload, { onProgress: (m) => showProgress(m, name) }).done;
    state.model = { name, info: res.info, kernels: res.kernels, fileBytes: res.fileBytes, fromCache: res.fromCache };
    updateMemory(res);
    renderModelInfo();
    clearConversation();
    addNote(`Loaded ${name}${res.fromCache ? ' from this browser\'s cache' : ''}: ` +
      `${formatCount(res.info.params)} parameters. Memory is empty.`);
    const notes = [...(res.warnings ?? []), ...(res.warning ? [res.warning] : [])];
    if (notes.length) showAlert(notes.join(' '), 'info');
    state.busy = null;
    readyStatus();
    focusPrompt();
  } catch (e) {
    state.busy = null;
    const text = e.message;
    showAlert(text);
    if (e.modelKept && state.model) {
      addNote(`${name} was not loaded; still using ${state.model.name}.`);
      readyStatus();
    } else {
      state.model = null;
      el.info.hidden = true;
      el.cachedBadge.hidden = true;
      renderMemory();
      setStatus(`error · ${text}`, 'error');
    }
  } finally {
    el.progressBox.hidden = true;
    refreshControls();
    if (source.url) renderCachedModels();
  }
}

function renderModelInfo() {
  const { info, fileBytes } = state.model;
  const c = info.config ?? {};
  const rows = [
    ['Parameters', `${formatCount(info.params)} (${Number(info.params).toLocaleString('en-US')})`],
    ['File', `${formatBytes(fileBytes)} · .bitt v${info.bitt_version}`],
    ['Shape', `${c.num_layers ?? '?'} layers × ${c.hidden_dim ?? '?'} dims, ${c.num_heads ?? '?'} ` +
      `TTT head${c.num_heads === 1 ? '' : 's'}`],
    ['Vocabulary', `${Number(c.vocab_size ?? 0).toLocaleString('en-US')} tokens`],
    ['Memory', `TTT ${c.ttt_variant ?? 'linear'}${c.act_quant === 'none' ? ', float activations' : ''}`],
  ];
  if (state.model.kernels) rows.push(['Kernels', state.model.kernels]);
  el.info.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    el.info.append(dt, dd);
  }
  el.info.dataset.params = String(info.params);
  el.info.dataset.version = String(info.bitt_version);
  el.info.hidden = false;
  el.cachedBadge.hidden = !state.model.fromCache;
}

// ---------- the memory panel ----------

function updateMemory(res) {
  if (typeof res.stateBytes === 'number') state.memory.stateBytes = res.stateBytes;
  if (typeof res.memoryTokens === 'number') state.memory.tokens = res.memoryTokens;
  if (res.fingerprint) state.memory.fingerprint = res.fingerprint;
  renderMemory();
}

function renderMemory() {
  const c = state.model?.info?.config ?? {};
  const layers = Number(c.num_layers) || 0;
  const dim = Number(c.hidden_dim) || 0;
  const { stateBytes, tokens } = state.memory;
  const kv = kvCacheBytes({ layers, dim, tokens });
  const top = Math.max(stateBytes, kv, 1);
  el.barState.style.width = `${(100 * stateBytes) / top}%`;
  el.barKv.style.width = `${(100 * kv) / top}%`;
  el.memorySize.textContent = state.model ? `${formatBytes(stateBytes)} (fixed)` : '–';
  el.kvSize.textContent = state.model ? formatBytes(kv) : '–';
  el.memoryTokens.textContent = tokens.toLocaleString('en-US');
  el.memorySize.dataset.stateBytes = String(stateBytes);
  el.memoryTokens.dataset.tokens = String(tokens);
  if (state.model) {
    const cross = kvCrossoverTokens({ stateBytes, layers, dim });
    el.kvAssume.textContent = `KV cache: what a transformer of the same shape would hold for these tokens ` +
      `(keys + values in f16, no grouped-query sharing): 2 × ${layers} layers × ${dim} dims × tokens × 2 bytes. ` +
      `It outgrows the TTT memory after ${cross.toLocaleString('en-US')} tokens.`;
  } else {
    el.kvAssume.textContent = '';
  }
}

function downloadBytes(bytes, filename) {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function memoryKey() {
  return state.memory.fingerprint ?? `${state.model.name}:${state.model.info.params}`;
}

// Runs a memory request with the controls locked; reports failures.
async function memoryOp(label, fn) {
  if (!state.model || state.busy) return;
  hideAlert();
  state.busy = 'memory';
  refreshControls();
  setStatus(`${label}…`, 'busy');
  try {
    await fn();
  } catch (e) {
    showAlert(`${label[0].toUpperCase()}${label.slice(1)} failed: ${e.message}`);
  } finally {
    state.busy = null;
    refreshControls();
    readyStatus();
  }
}

function saveMemory() {
  return memoryOp('saving the memory', async () => {
    const res = await call('save-state').done;
    const bytes = new Uint8Array(res.bytes);
    const base = state.model.name.replace(/\.bitt$/i, '');
    downloadBytes(bytes, `${base}.memory.safetensors`);
    try {
      await putMemory(memoryKey(), { bytes, tokens: res.memoryTokens, modelName: state.model.name });
      addNote(`Memory saved (${res.memoryTokens ?? '?'} tokens, ${formatBytes(bytes.length)}) to this browser and as a download.`);
    } catch (e) {
      addNote(`Memory downloaded as a file (${formatBytes(bytes.length)}); this browser could not keep a copy: ${e.message}.`);
    }
  });
}

async function restoreMemory(bytes, from) {
  const res = await call('load-state', { bytes }, {}, [bytes.buffer]).done;
  updateMemory(res);
  addNote(`Memory restored from ${from}: ${res.memoryTokens ?? '?'} tokens read so far.`);
}

function loadSavedMemory() {
  return memoryOp('loading the memory', async () => {
    const rec = await getMemory(memoryKey());
    if (!rec) {
      showAlert('No memory of this model is saved in this browser yet. Save one first, or use "File…".', 'info');
      return;
    }
    const when = new Date(rec.savedAt).toLocaleString();
    await restoreMemory(new Uint8Array(rec.bytes).slice(), `this browser (saved ${when})`);
  });
}

function loadMemoryFromFile(file) {
  return memoryOp('loading the memory', async () => {
    const expected = state.memory.stateBytes;
    if (expected && file.size > 2 * expected + (1 << 20)) {
      throw new Error(`${file.name} (${formatBytes(file.size)}) is far larger than a memory of this model ` +
        `(about ${formatBytes(expected)})`);
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      const meta = readSafetensorsMeta(bytes);
      if (meta.format && meta.format !== 'bitt-state') throw new Error(`it is a "${meta.format}" file`);
    } catch (e) {
      throw new Error(`${file.name} is not a saved memory (${e.message})`);
    }
    await restoreMemory(bytes, file.name);
  });
}

function resetMemory() {
  return memoryOp('resetting the memory', async () => {
    const res = await call('reset').done;
    updateMemory(res);
    addNote('Memory reset: the model has forgotten everything.');
  });
}

function teach(ev) {
  ev.preventDefault();
  const text = el.teachText.value;
  if (!text.trim()) { el.teachText.focus(); return undefined; }
  return memoryOp('teaching', async () => {
    const before = state.memory.tokens;
    const res = await call('learn', { text }).done;
    updateMemory(res);
    el.teachText.value = '';
    addNote(`Taught ${(res.memoryTokens ?? before) - before} tokens in ${(res.seconds * 1000).toFixed(0)} ms ` +
      `(no reply): "${text.length > 80 ? `${text.slice(0, 77)}…` : text}"`);
  });
}

// ---------- the conversation ----------

function clearConversation() { el.output.replaceChildren(); }

function scrollToEnd(force) {
  const o = el.output;
  if (force || o.scrollHeight - o.scrollTop - o.clientHeight < 80) o.scrollTop = o.scrollHeight;
}

function addMessage(kind, text) {
  const div = document.createElement('div');
  div.className = `msg ${kind}`;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  div.append(body);
  el.output.append(div);
  scrollToEnd(true);
  return div;
}

function addNote(text) { return addMessage('note', text); }

// Focuses the prompt, except on touch screens, where that would pop up the keyboard unasked.
function focusPrompt() {
  if (window.matchMedia('(pointer: fine)').matches) el.prompt.focus();
}

function rate(tokens, seconds) {
  const r = seconds > 0 ? tokens / seconds : 0;
  return `${r >= 100 ? r.toFixed(0) : r.toFixed(1)} tok/s`;
}

async function send(ev) {
  ev?.preventDefault();
  if (!state.model || state.busy) return;
  const prompt = el.prompt.value;
  if (!prompt.trim()) { el.prompt.focus(); return; }
  const parsed = parseSettings({
    temperature: el.temperature.value, topK: el.topK.value, topP: el.topP.value,
    maxTokens: el.maxTokens.value, seed: el.seed.value,
    minP: el.minP.value, repetitionPenalty: el.repetitionPenalty.value, presencePenalty: el.presencePenalty.value,
    frequencyPenalty: el.frequencyPenalty.value, stop: el.stopStrings.value,
  });
  if (parsed.error) { showAlert(parsed.error); return; }
  hideAlert();
  const options = parsed.options;
  addMessage('user', prompt);
  const reply = addMessage('bot', '');
  reply.dataset.state = 'streaming';
  reply.dataset.seed = String(options.seed);
  const body = reply.querySelector('.text');
  const textNode = document.createTextNode('');
  body.append(textNode);
  const meta = document.createElement('span');
  meta.className = 'meta';
  reply.append(meta);
  el.prompt.value = '';
  state.busy = 'generate';
  refreshControls();
  setStatus('generating…', 'busy');
  const job = call('generate', { prompt, options }, {
    onPieces: (m) => {
      if (m.text) { textNode.appendData(m.text); scrollToEnd(false); }
      setStatus(`generating · ${m.tokens} tokens · ${rate(m.tokens, m.seconds)}`, 'busy');
    },
  });
  state.generating = job.id;
  try {
    const res = await job.done;
    if (res.text) textNode.appendData(res.text);
    updateMemory(res);
    reply.dataset.state = res.stopped ? 'stopped' : 'done';
    reply.dataset.tokens = String(res.tokens);
    const speed = rate(res.tokens, res.seconds);
    meta.textContent = `${res.tokens} tokens · ${speed} · seed ${options.seed}${res.stopped ? ' · stopped' : ''}`;
    state.lastRate = `${res.stopped ? 'stopped after ' : ''}${res.tokens} tokens at ${speed}`;
    if (!textNode.data) body.classList.add('nothing');
  } catch (e) {
    reply.dataset.state = 'error';
    meta.textContent = 'failed';
    showAlert(e.outOfMemory ? `${e.message}. The tab ran out of memory: reload the page, or use a smaller model.`
      : e.message);
  } finally {
    state.busy = null;
    state.generating = null;
    refreshControls();
    readyStatus();
    scrollToEnd(false);
    focusPrompt();
  }
}

function stop() {
  if (state.generating === null) return;
  setStatus('stopping…', 'busy');
  call('stop', { target: state.generating });
}

// ---------- files: picker, drag and drop ----------

async function looksLikeModel(file) {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return String.fromCharCode(...head) === 'BITT';
}

// A dropped .bitt loads as the model; a dropped saved memory loads into the model.
async function takeFile(file) {
  if (!file) return;
  if (state.model && !file.name.toLowerCase().endsWith('.bitt') && !(await looksLikeModel(file))) {
    // a safetensors file (u64 header length, then '{'): treat it as a saved memory
    const head = new Uint8Array(await file.slice(0, 9).arrayBuffer());
    const len = head.length === 9 ? new DataView(head.buffer).getBigUint64(0, true) : 0n;
    if (head[8] === 0x7b && len > 0n && len < BigInt(file.size)) { loadMemoryFromFile(file); return; }
  }
  loadModelFrom({ file });
}

function setUpDragAndDrop() {
  let depth = 0;
  const hasFiles = (ev) => [...(ev.dataTransfer?.types ?? [])].includes('Files');
  document.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth++;
    el.overlay.hidden = false;
  });
  document.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) el.overlay.hidden = true;
  });
  document.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth = 0;
    el.overlay.hidden = true;
    takeFile(ev.dataTransfer.files[0]);
  });
}

// ---------- start ----------

// The one-line summary of the sampling settings shown when their box is closed (phones).
function summarizeSettings() {
  const seed = el.seed.value.trim() === '' ? 'random seed' : `seed ${el.seed.value}`;
  const extra = [];
  if (Number(el.minP.value) !== 0) extra.push(`min-p ${el.minP.value}`);
  if (Number(el.repetitionPenalty.value) !== 1) extra.push(`repetition ${el.repetitionPenalty.value}`);
  if (Number(el.presencePenalty.value) !== 0) extra.push(`presence ${el.presencePenalty.value}`);
  if (Number(el.frequencyPenalty.value) !== 0) extra.push(`frequency ${el.frequencyPenalty.value}`);
  if (el.stopStrings.value !== '') extra.push('stop strings');
  el.settingsSummary.textContent = `temperature ${el.temperature.value} · top-k ${el.topK.value} · ` +
    `top-p ${el.topP.value} · ${el.maxTokens.value} tokens · ${seed}${extra.map((x) => ` · ${x}`).join('')}`;
}

function wire() {
  el.alertClose.addEventListener('click', hideAlert);
  el.modelFile.addEventListener('change', () => {
    const f = el.modelFile.files[0];
    el.modelFile.value = '';
    if (f) loadModelFrom({ file: f });
  });
  el.loadShipped.addEventListener('click', () => loadModelFrom({ url: SHIPPED_MODEL_URL }));
  el.urlForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const raw = el.modelUrl.value.trim();
    if (!raw) { el.modelUrl.focus(); return; }
    let url;
    try { url = new URL(raw, location.href).href; } catch { showAlert(`"${raw}" is not a URL.`); return; }
    loadModelFrom({ url });
  });
  el.composer.addEventListener('submit', send);
  el.prompt.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); send(); }
  });
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && state.generating !== null) stop(); });
  el.stop.addEventListener('click', stop);
  el.teachForm.addEventListener('submit', teach);
  el.teachText.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) teach(ev);
  });
  el.saveMemory.addEventListener('click', saveMemory);
  el.loadMemory.addEventListener('click', loadSavedMemory);
  el.loadMemoryFile.addEventListener('click', () => el.memoryFile.click());
  el.memoryFile.addEventListener('change', () => {
    const f = el.memoryFile.files[0];
    el.memoryFile.value = '';
    if (f) loadMemoryFromFile(f);
  });
  el.resetMemory.addEventListener('click', resetMemory);
  for (const input of [el.temperature, el.topK, el.topP, el.maxTokens, el.seed, el.minP, el.repetitionPenalty,
    el.presencePenalty, el.frequencyPenalty, el.stopStrings]) {
    input.addEventListener('input', summarizeSettings);
  }
  summarizeSettings();
  // open on wide screens; on a phone the conversation gets the room
  el.settingsBox.open = window.matchMedia('(min-width: 901px)').matches;
  setUpDragAndDrop();
}

async function main() {
  wire();
  refreshControls();
  renderMemory();
  const missing = missingWasmFeature(window);
  if (missing) {
    showAlert(missing);
    setStatus('unsupported browser', 'error');
    el.modelFile.disabled = true;
    el.loadUrl.disabled = true;
    el.loadShipped.disabled = true;
    el.dropZone.classList.add('disabled');
    return;
  }
  renderCachedModels();
  state.worker = await startWorker();
  refreshControls();
  if (!state.worker) return;
  const fromQuery = new URLSearchParams(location.search).get('model');
  if (fromQuery === 'none') { // ?model=none: open with no model
    setStatus('no model loaded: choose a .bitt file or a URL', 'idle');
    return;
  }
  if (!fromQuery) { // the story model the repository ships, where this server has it
    if (await shippedModelThere()) { loadModelFrom({ url: SHIPPED_MODEL_URL }); return; }
  }
  if (fromQuery) {
    let url;
    try { url = new URL(fromQuery, location.href).href; } catch { url = null; }
    if (url) {
      el.modelUrl.value = fromQuery;
      loadModelFrom({ url });
      return;
    }
    showAlert(`?model=${fromQuery} is not a URL.`);
  }
  setStatus('no model loaded: choose a .bitt file or a URL', 'idle');
}

main();

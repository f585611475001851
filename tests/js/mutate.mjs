// mutate.mjs: a small mutation fuzzer for the npm package's byte entry points
// (loadModel on .bitt bytes, model.loadState on state files), shared by the
// short run in fuzz.test.mjs and the long one in scripts/fuzz_js.mjs.
// Every mutated input must either load (and then run: a few generated
// tokens, a saveState that loads back) or be refused with an Error whose
// message says what is wrong; a WebAssembly trap (RuntimeError: out of
// bounds, unreachable), a non-Error throw or a hang is a failure. After each
// input the package must still load the original model and give the same
// text as before.

// xorshift32: the same mutations for the same seed
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe];
const INTERESTING_U64 = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];

// One mutated copy of buf: byte flips, interesting bytes, little-endian u64
// overwrites (sizes and offsets of the headers), truncation, duplication of
// a slice, digit edits inside the JSON headers.
export function mutate(buf, rand) {
  let b = Uint8Array.from(buf);
  const n = 1 + Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rand() * b.length);
    switch (Math.floor(rand() * 7)) {
      case 0: b[at] ^= 1 << Math.floor(rand() * 8); break;
      case 1: b[at] = INTERESTING[Math.floor(rand() * INTERESTING.length)]; break;
      case 2: if (at + 8 <= b.length) {
        new DataView(b.buffer).setBigUint64(at, INTERESTING_U64[Math.floor(rand() * INTERESTING_U64.length)], true);
      } break;
      case 3: b = b.slice(0, at); break;
      case 4: { // a slice repeated right after itself
        const len = Math.min(Math.floor(rand() * 64), b.length - at);
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at + len));
        out.set(b.subarray(at, at + len), at + len);
        out.set(b.subarray(at + len), at + 2 * len);
        b = out;
        break;
      }
      case 5: { // a digit of the JSON header (shapes, offsets, sizes) becomes another
        for (let i = at, tries = 0; tries < 4096 && i < b.length; i++, tries++) {
          if (b[i] >= 0x30 && b[i] <= 0x39) { b[i] = 0x30 + Math.floor(rand() * 10); break; }
        }
        break;
      }
      default: b[at] = Math.floor(rand() * 256);
    }
    if (b.length === 0) break;
  }
  return b;
}

// Throws unless e is an ordinary refusal (an Error with a message, not a trap).
export function checkRefusal(e, what) {
  if (e instanceof WebAssembly.RuntimeError) throw new Error(`${what}: WebAssembly trap: ${e.message}`);
  if (!(e instanceof Error)) throw new Error(`${what}: threw a non-Error: ${String(e)}`);
  if (!e.message || e.message.length < 8) throw new Error(`${what}: an error without a useful message: '${e.message}'`);
}

// Runs `iterations` mutations (or until `deadline`, ms since the epoch) of
// the model bytes and of the state bytes. pkg: the package module; model:
// the valid .bitt bytes; state: a valid state file of that model. Returns
// counts { models, modelsLoaded, states, statesLoaded }.
export async function fuzzPackage(pkg, model, state, { seed = 1, iterations = 100, deadline = Infinity } = {}) {
  const rand = rng(seed);
  const base = await pkg.loadModel(model);
  const expect = await text(base);
  const counts = { models: 0, modelsLoaded: 0, states: 0, statesLoaded: 0 };
  for (let i = 0; i < iterations && Date.now() < deadline; i++) {
    const m = mutate(model, rand);
    counts.models++;
    let loaded = null;
    try {
      loaded = await pkg.loadModel(m);
    } catch (e) {
      checkRefusal(e, `model mutation ${i} (seed ${seed})`);
    }
    if (loaded) { // a mutation the reader accepts (e.g. a changed weight) must run
      counts.modelsLoaded++;
      try {
        await text(loaded);
        loaded.loadState(loaded.saveState());
      } catch (e) {
        checkRefusal(e, `model mutation ${i} (seed ${seed}), loaded`);
      } finally {
        loaded.dispose();
      }
    }
    const s = mutate(state, rand);
    counts.states++;
    try {
      base.loadState(s);
      counts.statesLoaded++;
      await text(base, false);
    } catch (e) {
      checkRefusal(e, `state mutation ${i} (seed ${seed})`);
    }
    base.reset();
    if (i % 16 === 15 && (await text(base)) !== expect) {
      throw new Error(`after state mutation ${i} (seed ${seed}) the model gives another text`);
    }
  }
  if ((await text(base)) !== expect) throw new Error(`after the run (seed ${seed}) the model gives another text`);
  base.dispose();
  return counts;
}

async function text(model, reset = true) {
  if (reset) model.reset();
  let out = '';
  for await (const piece of model.generate('Once', { maxTokens: 4, temperature: 0, seed: 1 })) out += piece;
  return out;
}

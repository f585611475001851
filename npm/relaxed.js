// relaxed.js: the packed ternary BitLinear kernel of bitt.wasm for prefill,
// rewritten with the relaxed-SIMD instruction i16x8.relaxed_dot_i8x16_i7x16_s
// (16 int8 x 7-bit products summed in pairs into int16 lanes: one instruction,
// pmaddubsw on x86; baseline SIMD128 needs about four for that). The
// toolchain that builds bitt.wasm (clang 14) cannot emit relaxed SIMD, so the
// kernel is assembled here, byte by byte, into a small module that imports
// bitt.wasm's memory; bitt.wasm calls it through an import
// (env.bitt_relaxed_ternary_pairs, see simd/kernels_wasm.h). Where the engine
// lacks relaxed SIMD (Node 20 without --experimental-wasm-relaxed-simd) the
// module does not validate and bitt.wasm keeps its own kernel. (The int32
// form i32x4.relaxed_dot_i8x16_i7x16_add_s would save the int16 step, but
// Node 20's V8 returns twice the dot product and drops the accumulator.)
//
// Exactness: the second operand of the dot is a weight code c = w + 1 in
// {0, 1, 2}, inside the 7-bit range where the instruction is deterministic;
// a pair of products is at most 2 * 127 * 2 = 508 (no engine saturates), and
// SPAN blocks of 4 dots stay within int16 before they are widened to int32,
// so the sums equal the scalar reference bit for bit.
//
// tern4x2(gp, nb, ngroups, group_bytes, x, padded, npairs, acc, row_bytes,
// xsums): weights in the layout of kernels_wasm.c (groups of 4 rows, blocks
// of 64 codes in 16 bytes, the 4 rows' blocks interleaved), activations int8
// rows `padded` bytes apart, two rows (tokens) at a time; xsums holds
// (s0, s0, s1, s1) per pair, s the sum of a token's activations. It writes
// acc[t][o] = sum_i c x - s_t = sum_i w x (int32, rows `row_bytes` apart)
// for every row of every group: 2 rows x 2 tokens per pass keeps every
// accumulator in a register (4 x 2 spills on x86-64 and runs slower).

const SIMD = 0xfd;

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

function sleb(n) {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && (byte & 0x40))) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const name = (s) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const vec = (items) => [...uleb(items.length), ...items.flat()];

// instructions
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const i32 = (v) => [0x41, ...sleb(v)];
const simd = (op, ...imm) => [SIMD, ...uleb(op), ...imm];
const load = (offset) => simd(0x00, 0, ...uleb(offset));   // v128.load, align hint 1
const store = (offset) => simd(0x0b, 0, ...uleb(offset));  // v128.store
const ZERO = simd(0x0c, ...new Array(16).fill(0));         // v128.const 0
const SPLAT8 = simd(0x0f);                                  // i8x16.splat
const AND = simd(0x4e);                                     // v128.and
const SHR_U16 = simd(0x8d);                                 // i16x8.shr_u
const ADD32 = simd(0xae);                                   // i32x4.add
const SUB32 = simd(0xb1);                                   // i32x4.sub
const DOT16 = simd(0x112);                                  // i16x8.relaxed_dot_i8x16_i7x16_s
const ADD16 = simd(0x8e);                                   // i16x8.add
const WIDEN16 = simd(0x7e);                                 // i32x4.extadd_pairwise_i16x8_s
const lanes32 = (...l) => l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]);
const EVEN = simd(0x0d, ...lanes32(0, 2, 4, 6));            // i8x16.shuffle: lanes 0, 2 of a, then of b
const ODD = simd(0x0d, ...lanes32(1, 3, 5, 7));
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = [0x0b];
const br = (d) => [0x0c, ...uleb(d)], brIf = (d) => [0x0d, ...uleb(d)];
const ADD = [0x6a], SUB = [0x6b], GE_S = [0x4e], EQZ = [0x45];

// locals: 10 i32 parameters, then 10 i32 and 20 v128
const [GP, NB, NGROUPS, GROUP_BYTES, X, PADDED, NPAIRS, OUT, ROWB, XS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [P, G, B, E, WP, XA, XB, OP, XROW, WG] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const ACC = [20, 21, 22, 23], H = [24, 25, 26, 27];
const [X0, X1, V0, V1, C, MASK, T0, T1, T2, XSUM] = [28, 29, 30, 31, 32, 33, 34, 35, 36, 37];
const STORE64 = (offset, lane) => simd(0x5b, 0, ...uleb(offset), lane); // v128.store64_lane
const SPAN = 16; // blocks summed in int16 lanes: 16 x 4 x 508 < 32768

const addTo = (local, amount) => [...get(local), ...amount, ...ADD, ...set(local)];
const SELECT = [0x1b], LT_S = [0x48];

// the four int32 sums of the ACC vectors as one vector (two rounds of pairwise adds)
function reduceAcc() {
  const pair = (u, v, dst) => [...get(u), ...get(v), ...EVEN, ...get(u), ...get(v), ...ODD, ...ADD32, ...set(dst)];
  return [...pair(ACC[0], ACC[1], T0), ...pair(ACC[2], ACC[3], T1), ...pair(T0, T1, T2)];
}

// One block of 64 codes for 2 rows (the half `half` of a 4-row group) x 2
// tokens: H[t * 2 + r] += the int16 pair sums of c x.
function blockBody(half) {
  const code = [...get(WP), ...load(32 * half), ...set(V0), ...get(WP), ...load(32 * half + 16), ...set(V1)];
  for (let k = 0; k < 4; k++) {
    code.push(...get(XA), ...load(16 * k), ...set(X0), ...get(XB), ...load(16 * k), ...set(X1));
    [V0, V1].forEach((v, r) => {
      code.push(...get(v));
      if (k) code.push(...i32(2 * k), ...SHR_U16);
      code.push(...get(MASK), ...AND, ...set(C));
      [X0, X1].forEach((x, t) => {
        const h = H[t * 2 + r];
        code.push(...get(h), ...get(x), ...get(C), ...DOT16, ...ADD16, ...set(h));
      });
    });
  }
  return code;
}

// 2 rows x 2 tokens over all blocks, minus the tokens' activation sums:
// acc[t][4g + 2 half + r] for the pair's two tokens (OP: token 0's row)
function halfGroup(half) {
  return [
    ...ACC.flatMap((a) => [...ZERO, ...set(a)]),
    ...get(WG), ...set(WP), ...get(XROW), ...set(XA), ...get(XROW), ...get(PADDED), ...ADD, ...set(XB),
    ...i32(0), ...set(B),
    ...BLOCK, ...LOOP, // spans of up to SPAN blocks
    ...get(B), ...get(NB), ...GE_S, ...brIf(1),
    ...H.flatMap((h) => [...ZERO, ...set(h)]),
    ...get(B), ...i32(SPAN), ...ADD, ...get(NB), ...get(B), ...i32(SPAN), ...ADD, ...get(NB), ...LT_S, ...SELECT,
    ...set(E), // E = min(B + SPAN, NB)
    ...BLOCK, ...LOOP, // the blocks of the span
    ...get(B), ...get(E), ...GE_S, ...brIf(1),
    ...blockBody(half),
    ...addTo(WP, i32(64)), ...addTo(XA, i32(64)), ...addTo(XB, i32(64)), ...addTo(B, i32(1)),
    ...br(0), ...END, ...END,
    ...[0, 1, 2, 3].flatMap((i) => [...get(ACC[i]), ...get(H[i]), ...WIDEN16, ...ADD32, ...set(ACC[i])]),
    ...br(0), ...END, ...END,
    ...reduceAcc(), ...get(T2), ...get(XSUM), ...SUB32, ...set(T2),
    ...get(OP), ...get(T2), ...STORE64(8 * half, 0),
    ...get(OP), ...get(ROWB), ...ADD, ...get(T2), ...STORE64(8 * half, 1),
  ];
}

function kernelBody() {
  const body = [
    ...i32(3), ...SPLAT8, ...set(MASK),
    ...get(X), ...set(XROW), ...i32(0), ...set(P),
    ...BLOCK, ...LOOP, // token pairs
    ...get(P), ...get(NPAIRS), ...GE_S, ...brIf(1),
    ...i32(0), ...set(G), ...get(GP), ...set(WG), ...get(OUT), ...set(OP),
    ...get(XS), ...load(0), ...set(XSUM),
    ...BLOCK, ...LOOP, // row groups
    ...get(G), ...get(NGROUPS), ...GE_S, ...brIf(1),
    ...halfGroup(0), ...halfGroup(1),
    ...addTo(OP, i32(16)), ...addTo(WG, get(GROUP_BYTES)), ...addTo(G, i32(1)),
    ...br(0), ...END, ...END,
    ...addTo(XROW, [...get(PADDED), ...get(PADDED), ...ADD]), ...addTo(P, i32(1)),
    ...addTo(OUT, [...get(ROWB), ...get(ROWB), ...ADD]), ...addTo(XS, i32(16)),
    ...br(0), ...END, ...END,
    ...END,
  ];
  const locals = vec([[...uleb(10), 0x7f], [...uleb(20), 0x7b]]);
  const fn = [...locals, ...body];
  return [...uleb(fn.length), ...fn];
}

let kernelBytes;
/** The kernel module's bytes (assembled once). */
export function relaxedKernelBytes() {
  return (kernelBytes ??= assembleKernel());
}

function assembleKernel() {
  const type = vec([[0x60, ...vec(new Array(10).fill([0x7f])), 0]]);  // (10 x i32) -> ()
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0]]); // memory, min 0 pages
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name('tern4x2'), 0x00, 0]])),
    ...section(10, vec([kernelBody()])),
  ]);
}

let supported;
/** Whether this engine runs relaxed SIMD (the kernel module validates). */
export function relaxedSimdSupported() {
  if (supported === undefined) {
    try {
      supported = WebAssembly.validate(relaxedKernelBytes());
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** The kernel over `memory` (bitt.wasm's), or null where unsupported. */
export function relaxedKernel(memory) {
  if (!relaxedSimdSupported()) return null;
  const module = new WebAssembly.Module(relaxedKernelBytes());
  return new WebAssembly.Instance(module, { env: { memory } }).exports.tern4x2;
}

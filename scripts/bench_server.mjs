#!/usr/bin/env node
// bench_server.mjs: load figures of `bitt serve` for docs/SERVER.md: at 1, 4
// and 16 concurrent streams, requests per second, time to first token (p50,
// p99) and tokens per second of each stream, the median of --repeats runs.
// Starts its own server (build/bitt, or BITT_CLI) on a random port with
// --cache 0, so that every request reads its whole prompt (no cache hits).
//
//   node scripts/bench_server.mjs [--model M] [--levels 1,4,16] [--requests 32] [--max-tokens 64]
//                                 [--repeats 3] [--parallel N] [--json]
// Without --model it makes one with `bitt init --dim 256 --layers 8 --vocab 16384 --packed`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = resolve(process.env.BITT_CLI || join(ROOT, 'build', 'bitt'));

function parseArgs(argv) {
  const o = { model: null, levels: [1, 4, 16], requests: 32, maxTokens: 64, repeats: 3, parallel: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => argv[++i];
    if (a === '--model') o.model = v();
    else if (a === '--levels') o.levels = v().split(',').map(Number);
    else if (a === '--requests') o.requests = Number(v());
    else if (a === '--max-tokens') o.maxTokens = Number(v());
    else if (a === '--repeats') o.repeats = Number(v());
    else if (a === '--parallel') o.parallel = Number(v());
    else if (a === '--json') o.json = true;
    else throw new Error(`bench_server: unknown argument ${a} (see the comment at the top)`);
  }
  return o;
}

const now = () => performance.now() / 1000;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

async function startServer(model, parallel) {
  const args = ['serve', '--model', model, '--port', '0', '--quiet', '--cache', '0', '--queue', '256'];
  if (parallel) args.push('--parallel', String(parallel));
  const proc = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((res, rej) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; const m = out.match(/listening on (http:\/\/\S+)/); if (m) res(m[1]); });
    proc.on('exit', (c) => rej(new Error(`bitt serve exited (${c})`)));
  });
  return { url, stop: () => new Promise((r) => { proc.on('exit', r); proc.kill('SIGTERM'); }) };
}

// One streamed completion: time to the first text, tokens, end.
async function stream(url, i, maxTokens) {
  const t0 = now();
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt: `Story ${i}. Once upon a time, in a small town by the sea, there lived a girl who loved to draw maps of places nobody had seen.`,
      max_tokens: maxTokens, temperature: 0.8, seed: i, stream: true, stream_options: { include_usage: true } }),
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = '', first = null, tokens = 0;
  for await (const chunk of res.body) {
    buf += dec.decode(chunk, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, at);
      buf = buf.slice(at + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const d = JSON.parse(ev.slice(6));
      if (first === null && d.choices?.[0]?.text) first = now();
      if (d.usage) tokens = d.usage.completion_tokens;
    }
  }
  const end = now();
  return { ttft: (first ?? end) - t0, tokens, decodeTokS: first !== null && end > first ? (tokens - 1) / (end - first) : NaN };
}

async function level(url, concurrency, requests, maxTokens, offset) {
  const results = [];
  let next = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) results.push(await stream(url, offset + next++, maxTokens));
  }));
  const wall = now() - t0;
  return {
    rps: requests / wall,
    ttft_p50: quantile(results.map((r) => r.ttft), 0.5),
    ttft_p99: quantile(results.map((r) => r.ttft), 0.99),
    tok_s_per_stream: median(results.map((r) => r.decodeTokS).filter(Number.isFinite)),
    tokens: results.reduce((a, r) => a + r.tokens, 0),
    wall,
  };
}

const o = parseArgs(process.argv.slice(2));
let tmp = null;
let model = o.model;
if (!model) {
  tmp = mkdtempSync(join(tmpdir(), 'bitt-bench-'));
  model = join(tmp, 'bench.bitt');
  execFileSync(CLI, ['init', '--out', model, '--dim', '256', '--layers', '8', '--vocab', '16384', '--packed', '--seed', '1'], { stdio: 'ignore' });
}
const server = await startServer(model, o.parallel);
try {
  await level(server.url, 2, 4, 8, 10 ** 6); // warm-up
  const rows = [];
  for (const c of o.levels) {
    const runs = [];
    for (let r = 0; r < o.repeats; r++) runs.push(await level(server.url, c, Math.max(o.requests, c), o.maxTokens, (r + 1) * 10 ** 5 + c * 1000));
    const pick = (k) => median(runs.map((x) => x[k]));
    rows.push({ concurrency: c, requests: Math.max(o.requests, c), rps: pick('rps'), ttft_p50_s: pick('ttft_p50'),
      ttft_p99_s: pick('ttft_p99'), tok_s_per_stream: pick('tok_s_per_stream'), total_tok_s: median(runs.map((x) => x.tokens / x.wall)) });
  }
  const meta = { date: new Date().toISOString().slice(0, 10), cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, model,
    max_tokens: o.maxTokens, repeats: o.repeats, parallel: o.parallel ?? 'default (the cores)' };
  if (o.json) {
    console.log(JSON.stringify({ ...meta, rows }, null, 2));
  } else {
    console.log(`bitt serve, ${meta.date}, ${meta.cpus}; ${o.maxTokens} tokens per request, streamed; median of ${o.repeats} runs`);
    console.log('| concurrent | requests/s | TTFT p50 | TTFT p99 | tok/s per stream | tok/s total |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      console.log(`| ${r.concurrency} | ${r.rps.toFixed(2)} | ${(r.ttft_p50_s * 1000).toFixed(0)} ms | ${(r.ttft_p99_s * 1000).toFixed(0)} ms | ` +
        `${r.tok_s_per_stream.toFixed(0)} | ${r.total_tok_s.toFixed(0)} |`);
    }
  }
} finally {
  await server.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

// helpers.mjs: what the server tests share: the native CLI (env BITT_CLI,
// default build/bitt), whether it has `serve`, temp dirs, models made by the
// CLI inside the test (bitt init, or a few steps of bitt train), and a live
// `bitt serve` on 127.0.0.1 with a random port: start, stop (SIGTERM, exit
// 0, no sanitizer report), its RSS.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = resolve(process.env.BITT_CLI || join(ROOT, 'build', 'bitt'));

// A reason to skip, or false.
export function skipReason() {
  if (!existsSync(CLI)) return `no CLI at ${CLI} (cmake --preset native && cmake --build --preset native, or set BITT_CLI)`;
  if (spawnSync(CLI, ['serve', '--help']).status !== 0) return 'this bitt was built without the HTTP server (libmicrohttpd)';
  return false;
}

export function tempDir(t, name = 'bitt-serve-') {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function bitt(args, opts = {}) {
  try {
    return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...opts });
  } catch (e) {
    throw new Error(`bitt ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

export const bittJson = (args) => JSON.parse(bitt([...args, '--json']));

// A small story model trained for a few steps: its checkpoint directory.
export function trainedModel(dir, { steps = 60 } = {}) {
  const corpus = join(dir, 'corpus.txt'), tok = join(dir, 'tok.json'), data = join(dir, 'train.bin');
  const out = join(dir, 'run');
  bitt(['corpus', '--out', corpus, '--stories', '300', '--seed', '2']);
  bitt(['tokenizer', 'train', '--input', corpus, '--vocab', '512', '--out', tok, '--quiet']);
  bitt(['prepare', '--tokenizer', tok, '--input', corpus, '--out', data, '--quiet']);
  bitt(['train', '--data', data, '--tokenizer', tok, '--out', out, '--dim', '64', '--layers', '2', '--context', '64',
    '--batch', '4', '--steps', String(steps), '--warmup', '5', '--lr', '3e-3', '--seed', '1']);
  return join(out, 'checkpoint');
}

// A copy of a checkpoint directory with a chat template in its config.json.
export function withTemplate(checkpoint, dir, template) {
  const copy = join(dir, 'templated');
  bitt(['convert', checkpoint, copy]);
  const cfgPath = join(copy, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.chat_template = template;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
  return copy;
}

// Starts `bitt serve --port 0 ...args`; resolves once it listens.
export async function startServer(args, { quiet = true } = {}) {
  const proc = spawn(CLI, ['serve', '--port', '0', ...(quiet ? ['--quiet'] : []), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  const url = await new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`bitt serve did not start in 20 s: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); res(m[1]); }
    });
    exited.then(({ code }) => { clearTimeout(timer); rej(new Error(`bitt serve exited (${code}) at start: ${stderr}`)); });
  });
  return {
    url,
    pid: proc.pid,
    stderr: () => stderr,
    // VmRSS of the server process, in bytes
    rss() {
      const m = readFileSync(`/proc/${proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      return m ? Number(m[1]) * 1024 : NaN;
    },
    async health() {
      return (await fetch(`${url}/health`)).json();
    },
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const { code, signal } = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`bitt serve ended with ${code ?? signal} after SIGTERM: ${stderr}`);
      if (/Sanitizer|runtime error:|Segmentation fault/.test(stderr)) throw new Error(`bitt serve reported: ${stderr}`);
    },
  };
}

// The events of a Server-Sent Events body, parsed ("[DONE]" kept as a string).
export function parseEvents(text) {
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => {
    const data = b.slice(6);
    return data === '[DONE]' ? data : JSON.parse(data);
  });
}

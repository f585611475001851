#!/usr/bin/env node
// serve.mjs: a small static file server for the web demo. Serves the
// repository root on 127.0.0.1 with the right MIME types (application/wasm
// included, which WebAssembly streaming compilation needs), so the demo is at
// /web-demo/ and its npm package at /npm/. No dependencies.
//
//   node scripts/serve.mjs [--port 8000] [--host 127.0.0.1] [--models DIR]
//
// --models DIR also serves DIR under /models/ (e.g. ?model=/models/story.bitt).
// Port 0 picks a free port. Single byte ranges (Range: bytes=N- or N-M) are
// answered with 206, so broken model downloads resume; an ETag (size and
// mtime) lets the package see that a file changed between the two. The tests import
// startServer() from here.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.bitt': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Maps a URL path to a file under one of the mounts ({prefix: dir}), refusing
// anything that would leave its directory.
function resolvePath(urlPath, mounts) {
  let decoded;
  try { decoded = decodeURIComponent(urlPath); } catch { return null; }
  if (decoded.includes('\0')) return null;
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  for (const prefix of prefixes) {
    if (!decoded.startsWith(prefix)) continue;
    const dir = mounts[prefix];
    const file = path.resolve(dir, `.${path.posix.normalize(`/${decoded.slice(prefix.length)}`)}`);
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    return file;
  }
  return null;
}

function send(res, code, text, headers = {}) {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

/**
 * Starts the server; resolves to { server, port, url } once it listens.
 * options: root (default: the repository), host, port (0 = any free one),
 * models (a directory served under /models/), quiet (no request log),
 * hook(req, res, pathname): called first; returns true when it answered
 * the request itself, a path to serve instead, or false (tests use it to log
 * requests and break downloads).
 */
export function startServer({ root = repoRoot, host = '127.0.0.1', port = 8000, models, quiet = true, hook } = {}) {
  const mounts = { '/': path.resolve(root) };
  if (models) mounts['/models/'] = path.resolve(models);
  const server = createServer(async (req, res) => {
    const started = Date.now();
    const log = (code) => { if (!quiet) console.log(`${code} ${req.method} ${req.url} ${Date.now() - started} ms`); };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      log(405);
      send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    let { pathname } = new URL(req.url, 'http://localhost');
    const hooked = hook ? await hook(req, res, pathname) : false;
    if (hooked === true) return;
    if (typeof hooked === 'string') pathname = hooked;
    if (pathname === '/') {
      log(302);
      send(res, 302, 'see /web-demo/\n', { location: '/web-demo/' });
      return;
    }
    let file = resolvePath(pathname, mounts);
    if (!file) { log(400); send(res, 400, 'bad path\n'); return; }
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        if (!pathname.endsWith('/')) {
          log(301);
          send(res, 301, 'moved\n', { location: `${pathname}/` });
          return;
        }
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
      const headers = {
        'content-type': type,
        'content-length': info.size,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'accept-ranges': 'bytes',
        etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`, // resumed downloads check it
      };
      let range = null;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m) {
        const start = Number(m[1]);
        const end = m[2] === '' ? info.size - 1 : Math.min(Number(m[2]), info.size - 1);
        if (start >= info.size || end < start) {
          log(416);
          send(res, 416, 'range not satisfiable\n', { 'content-range': `bytes */${info.size}` });
          return;
        }
        range = { start, end };
        headers['content-length'] = end - start + 1;
        headers['content-range'] = `bytes ${start}-${end}/${info.size}`;
      }
      res.writeHead(range ? 206 : 200, headers);
      log(range ? 206 : 200);
      if (req.method === 'HEAD') { res.end(); return; }
      const stream = createReadStream(file, range ?? {});
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (e) {
      const missing = e.code === 'ENOENT' || e.code === 'ENOTDIR';
      log(missing ? 404 : 500);
      send(res, missing ? 404 : 500, missing ? `not found: ${pathname}\n` : `error: ${e.message}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolve({ server, port: actual, url: `http://${host}:${actual}/` });
    });
  });
}

function parseArgs(argv) {
  const opts = { port: Number(process.env.PORT ?? 8000), host: '127.0.0.1', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(value());
    else if (a === '--host') opts.host = value();
    else if (a === '--models') opts.models = value();
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/serve.mjs [--port N (default 8000, 0 = any)] [--host H (default 127.0.0.1)] ' +
        '[--models DIR (served under /models/)] [--quiet]');
      process.exit(0);
    } else throw new Error(`unknown flag '${a}' (see --help)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error('--port must be 0..65535');
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(2);
  }
  startServer(opts).then(({ url }) => {
    console.log(`Bit-TTT web demo: ${url}web-demo/`);
    if (opts.models) console.log(`models from ${opts.models}: ${url}web-demo/?model=/models/NAME.bitt`);
    console.log('Ctrl+C stops the server.');
  }, (e) => {
    console.error(`serve.mjs: cannot listen on ${opts.host}:${opts.port}: ${e.message}`);
    process.exit(1);
  });
}

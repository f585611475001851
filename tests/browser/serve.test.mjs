// serve.test.mjs: tests of scripts/serve.mjs, the demo's static server: MIME
// types (application/wasm above all), the /models/ mount, redirects, and that
// no path leaves the served directories.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/serve.mjs';

let srv;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bitt-serve-'));
  writeFileSync(path.join(dir, 'tiny.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  writeFileSync(path.join(dir, 'm.bitt'), 'BITT');
  srv = await startServer({ port: 0, models: dir });
});

after(() => {
  srv?.server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A raw request, so that paths reach the server exactly as written.
function request(pathname, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: pathname, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('listens on 127.0.0.1 on the port it was given (0 = a free one)', () => {
  assert.ok(srv.port > 0);
  assert.equal(srv.server.address().address, '127.0.0.1');
  assert.equal(srv.url, `http://127.0.0.1:${srv.port}/`);
});

test('serves the demo with the right MIME types', async () => {
  const html = await request('/web-demo/');
  assert.equal(html.status, 200);
  assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(html.body.toString(), /id="model-file"/);
  const js = await request('/web-demo/app.js');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  const css = await request('/web-demo/style.css');
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  const wasm = await request('/models/tiny.wasm');
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.equal(wasm.headers['content-length'], '8');
  const model = await request('/models/m.bitt');
  assert.equal(model.headers['content-type'], 'application/octet-stream');
  assert.equal(model.body.toString(), 'BITT');
  const head = await request('/models/m.bitt', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '4');
  assert.equal(head.body.length, 0);
});

test('redirects the root and bare directories', async () => {
  const root = await request('/');
  assert.equal(root.status, 302);
  assert.equal(root.headers.location, '/web-demo/');
  const bare = await request('/web-demo');
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.location, '/web-demo/');
});

test('refuses paths outside its directories and other methods', async () => {
  const sneaky = ['/%2e%2e/%2e%2e/etc/passwd', '/models/%2e%2e/%2e%2e/etc/passwd', '/../../etc/passwd',
    '/models/..%2f..%2f..%2f..%2f..%2fetc/passwd', '/..%2f..%2f..%2f..%2fetc/passwd'];
  for (const p of sneaky) {
    const res = await request(p);
    assert.ok(res.status === 404 || res.status === 400, `${p}: status ${res.status}`);
    assert.doesNotMatch(res.body.toString(), /root:/);
  }
  assert.equal((await request('/web-demo/%00')).status, 400);
  assert.equal((await request('/web-demo/nope.js')).status, 404);
  const post = await request('/web-demo/', 'POST');
  assert.equal(post.status, 405);
});

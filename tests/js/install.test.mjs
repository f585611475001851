// install.test.mjs: the package as users get it: `npm pack` the package, install the
// tarball into a fresh temporary project with no network (--offline), import
// 'bit-ttt' by name there and generate; the tarball holds exactly the
// package files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { PACKAGE_DIR, bitt, tempDir } from './helpers.mjs';

const npm = (args, cwd) => execFileSync('npm', args, {
  cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
});

test('npm pack, install offline into a fresh project, import, generate', async (t) => {
  const dir = tempDir(t, 'bitt-install-');
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir, PACKAGE_DIR], dir));
  const files = info.files.map((f) => f.path).sort();
  assert.deepEqual(files, ['README.md', 'bitt.wasm', 'browser.js', 'cache.js', 'core.js', 'index.d.ts', 'index.js',
    'package.json', 'relaxed.js']);
  const wasm = info.files.find((f) => f.path === 'bitt.wasm');
  assert.ok(wasm.size < 200 * 1024, `bitt.wasm is ${wasm.size} bytes`);
  console.log(`# bit-ttt tarball ${info.size} bytes, unpacked ${info.unpackedSize} bytes, bitt.wasm ${wasm.size} bytes`);

  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  npm(['install', '--offline', '--no-audit', '--no-fund', join(dir, info.filename)], app);
  const model = join(dir, 'm.bitt');
  bitt(['init', '--out', model, '--dim', '64', '--layers', '2', '--vocab', '800', '--packed']);
  writeFileSync(join(app, 'main.mjs'), `
    import { loadModel } from 'bit-ttt';
    const m = await loadModel(process.argv[2]);
    let text = '';
    for await (const piece of m.generate('Once upon a time', { maxTokens: 16, temperature: 0 })) text += piece;
    console.log(JSON.stringify({ text, kernels: m.kernels, version: m.info.bitt_version }));`);
  const out = JSON.parse(execFileSync(process.execPath, ['main.mjs', model], { cwd: app, encoding: 'utf8' }));
  assert.equal(out.kernels, 'wasm128');
  assert.equal(out.version, 2);
  assert.equal(out.text, JSON.parse(bitt(['generate', '--model', model, '--prompt', 'Once upon a time',
    '--max-tokens', '16', '--temp', '0', '--json'])).text);
});

// bundle.test.mjs: the package as an app gets it from the registry: `npm
// pack` of npm/, installed offline from that tarball into a scratch app,
// whose types are checked by `tsc --noEmit` over tests/types/usage.ts (every
// export, resolved through the "exports" map, as bundlers and as Node
// resolve it), then bundled by Vite (the "browser" condition; bitt.wasm
// found through new URL('./bitt.wasm', import.meta.url) and copied into the
// build) and run in headless Chromium (Debian's package, driven by
// tests/browser's playwright-core), where it must generate and chat the same
// text as the installed package in Node.
//
//   cd tests/bundle && npm ci            (once: vite and typescript, pinned by the lockfile)
//   node --test tests/bundle             (BITT_CLI=path/to/bitt, BITT_CHROMIUM=path/to/chromium)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const CHROMIUM = process.env.BITT_CHROMIUM ?? '/usr/bin/chromium';
const CLI = process.env.BITT_CLI ?? path.join(repo, 'build/bitt');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TSC = path.join(here, 'node_modules/typescript/bin/tsc');
const VITE = path.join(here, 'node_modules/vite/dist/node/index.js');

const skip = existsSync(CHROMIUM) ? false
  : `no Chromium at ${CHROMIUM}: install Debian's chromium package (or set BITT_CHROMIUM) to run the bundle test`;

const run = (cmd, args, opts = {}) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed:\n${e.stdout || ''}${e.stderr || e.message}`);
  }
};

// The app: what it does in the page, and what the test does in Node to compare.
const APP = `import { loadModel } from 'bit-ttt';

export async function work(model) {
  let text = '';
  for await (const piece of model.generate('Once upon a time', { maxTokens: 40, seed: 5 })) text += piece;
  const chat = await model.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 24, seed: 3 });
  return { text, chat: chat.choices[0].message.content };
}

if (typeof document !== 'undefined') {
  loadModel('./model.bitt')
    .then(async (model) => ({ ...(await work(model)), kernels: model.kernels }))
    .catch((e) => ({ error: String((e && e.stack) || e) }))
    .then((r) => { window.__result = r; });
}
`;

test('npm pack -> tsc, Vite build, Chromium', { skip, timeout: 180000 }, async (t) => {
  const missing = [];
  if (!existsSync(CLI)) missing.push(`the native CLI at ${CLI} (cmake --preset native && cmake --build --preset native, or set BITT_CLI)`);
  if (!existsSync(path.join(repo, 'npm/bitt.wasm'))) missing.push('npm/bitt.wasm (cmake --preset wasm && cmake --build --preset wasm)');
  if (!existsSync(TSC) || !existsSync(VITE)) missing.push('vite and typescript (run: cd tests/bundle && npm ci)');
  let chromium;
  try {
    ({ chromium } = createRequire(path.join(repo, 'tests/browser/package.json'))('playwright-core'));
  } catch {
    missing.push('playwright-core (run: cd tests/browser && npm ci)');
  }
  if (missing.length) throw new Error(`the bundle test needs: ${missing.join('; ')}`);

  const tmp = mkdtempSync(path.join(tmpdir(), 'bitt-bundle-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const app = path.join(tmp, 'app');
  mkdirSync(path.join(app, 'public'), { recursive: true });

  // the tarball, installed as a dependency without the network
  const [{ filename }] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: path.join(repo, 'npm') }));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module',
    dependencies: { 'bit-ttt': `file:${path.join(tmp, path.basename(filename))}` } }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });
  const installed = path.join(app, 'node_modules/bit-ttt');
  for (const f of ['index.js', 'browser.js', 'core.js', 'relaxed.js', 'cache.js', 'index.d.ts', 'bitt.wasm', 'package.json', 'README.md']) {
    assert.ok(existsSync(path.join(installed, f)), `the tarball holds ${f}`);
  }

  await t.test('tsc --noEmit over tests/types/usage.ts (bundler and nodenext resolution)', () => {
    copyFileSync(path.join(repo, 'tests/types/usage.ts'), path.join(app, 'usage.ts'));
    for (const [mod, res] of [['esnext', 'bundler'], ['nodenext', 'nodenext']]) {
      run(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--lib', 'es2022,dom,dom.asynciterable',
        '--module', mod, '--moduleResolution', res, 'usage.ts'], { cwd: app });
    }
  });

  await t.test('Vite bundles it; Chromium runs it; the same text as Node', async () => {
    run(CLI, ['init', '--out', path.join(app, 'public/model.bitt'), '--packed', '--dim', '64', '--layers', '2', '--vocab', '512', '--seed', '1']);
    writeFileSync(path.join(app, 'main.js'), APP);
    writeFileSync(path.join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><title>app</title><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n');
    const warnings = [];
    const { build } = await import(pathToFileURL(VITE).href);
    await build({
      root: app, base: './', configFile: false, logLevel: 'silent',
      build: { outDir: path.join(app, 'dist'), emptyOutDir: true,
        rollupOptions: { onwarn: (w) => warnings.push(w.message) } },
    });
    assert.deepEqual(warnings, [], 'no Vite warnings');
    const assets = readdirSync(path.join(app, 'dist/assets'));
    assert.ok(assets.some((f) => /^bitt-.*\.wasm$/.test(f)), `bitt.wasm copied into the build (assets: ${assets.join(', ')})`);

    const { loadModel } = await import(pathToFileURL(path.join(installed, 'index.js')).href);
    // main.js imports 'bit-ttt', which Node resolves from the app's node_modules too
    const { work } = await import(pathToFileURL(path.join(app, 'main.js')).href);
    const model = await loadModel(path.join(app, 'public/model.bitt'));
    t.after(() => model.dispose());
    const want = await work(model);
    assert.ok(want.text.length > 0 && want.chat.length > 0);

    const srv = await startServer({ root: app, port: 0 }); // the build under /dist/
    t.after(() => srv.server.close());
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText}`));
    await page.goto(new URL('dist/index.html', srv.url).href);
    await page.waitForFunction(() => window.__result, null, { timeout: 30000 }).catch((e) => {
      throw new Error(`no result from the page: ${e.message}; page errors: ${errors.join('; ') || 'none'}`);
    });
    const got = await page.evaluate(() => window.__result);
    assert.equal(got.error, undefined, got.error);
    assert.deepEqual(errors, []);
    assert.match(got.kernels, /^wasm128/);
    assert.equal(got.text, want.text);
    assert.equal(got.chat, want.chat);
  });
});

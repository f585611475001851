#!/usr/bin/env node
// screenshots.mjs: takes the README's pictures of the web demo, at desktop
// (1280x800) and phone (390x844) width, into docs/demo-desktop.png and
// docs/demo-phone.png. Drives Debian's Chromium with playwright-core (from
// tests/browser: run `npm install` there first).
//
//   node scripts/screenshots.mjs [--model M.bitt] [--prompt TEXT] [--out-dir docs]
//
// Without --model (or BITT_MODEL) it makes a random-weight model whose
// tokenizer is learned from the CLI's synthetic stories, so the (untrained)
// text is at least made of English pieces. Needs the CLI (BITT_CLI, default
// build/bitt) for that, and the npm package built into npm/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (args.includes('--help')) {
  console.log('usage: node scripts/screenshots.mjs [--model M.bitt] [--prompt TEXT] [--out-dir docs]');
  process.exit(0);
}
const CHROMIUM = process.env.BITT_CHROMIUM ?? '/usr/bin/chromium';
const CLI = process.env.BITT_CLI ?? path.join(repo, 'build/bitt');
const outDir = path.resolve(flag('--out-dir', path.join(repo, 'docs')));
const prompt = flag('--prompt', 'Once upon a time, there was a little fox who');
const lesson = 'The fox lives in a red house by the river. Her best friend is a duck called Pip.';

function fail(message) {
  console.error(`screenshots.mjs: ${message}`);
  process.exit(1);
}

let chromium;
try {
  ({ chromium } = createRequire(path.join(repo, 'tests/browser/package.json'))('playwright-core'));
} catch {
  fail('playwright-core is missing: run `npm install` in tests/browser');
}
if (!existsSync(CHROMIUM)) fail(`no Chromium at ${CHROMIUM} (install Debian's chromium or set BITT_CHROMIUM)`);
if (!existsSync(path.join(repo, 'npm/bitt.wasm'))) fail('npm/bitt.wasm is missing: cmake --preset wasm && cmake --build --preset wasm');

const tmp = mkdtempSync(path.join(tmpdir(), 'bitt-shots-'));
let model = flag('--model', process.env.BITT_MODEL);
const name = model ? path.basename(model) : 'story-random.bitt';
try {
  if (model) {
    copyFileSync(model, path.join(tmp, name));
  } else {
    if (!existsSync(CLI)) fail(`no CLI at ${CLI} to make a model: build it or pass --model`);
    const run = (...a) => execFileSync(CLI, a, { stdio: 'pipe' });
    run('corpus', '--out', path.join(tmp, 'stories.txt'), '--stories', '300');
    run('tokenizer', 'train', '--input', path.join(tmp, 'stories.txt'), '--vocab', '1024', '--out', path.join(tmp, 'tok.json'));
    run('init', '--out', path.join(tmp, name), '--packed', '--dim', '128', '--layers', '4',
      '--tokenizer', path.join(tmp, 'tok.json'), '--seed', '3');
  }
  model = path.join(tmp, name);

  const srv = await startServer({ port: 0, models: tmp });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'],
  });
  try {
    mkdirSync(outDir, { recursive: true });
    const shots = [
      { file: 'demo-desktop.png', viewport: { width: 1280, height: 800 }, mobile: false },
      { file: 'demo-phone.png', viewport: { width: 390, height: 844 }, mobile: true },
    ];
    for (const shot of shots) {
      const ctx = await browser.newContext({
        viewport: shot.viewport, deviceScaleFactor: shot.mobile ? 2 : 1, isMobile: shot.mobile,
        hasTouch: shot.mobile, colorScheme: 'light',
      });
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      await page.goto(`${srv.url}web-demo/?model=/models/${encodeURIComponent(name)}`);
      await page.waitForFunction(() => ['ready', 'error'].includes(document.querySelector('#status').dataset.kind),
        null, { timeout: 60000 });
      if (!/ready/.test(await page.textContent('#status'))) fail(`the model did not load: ${await page.textContent('#alert')}`);
      await page.fill('#teach-text', lesson);
      await page.click('#teach');
      await page.waitForFunction(() => !document.querySelector('#send').disabled);
      const wasOpen = await page.$eval('#settings-box', (d) => { const o = d.open; d.open = true; return o; });
      await page.fill('#max-tokens', '60');
      await page.fill('#seed', '7');
      await page.$eval('#settings-box', (d, o) => { d.open = o; }, wasOpen);
      await page.fill('#prompt', prompt);
      await page.press('#prompt', 'Enter');
      await page.waitForFunction(() => document.querySelector('#output .msg.bot')?.dataset.state === 'done',
        null, { timeout: 60000 });
      await page.fill('#prompt', 'One day');
      await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
      const out = path.join(outDir, shot.file);
      await page.screenshot({ path: out });
      console.log(`wrote ${path.relative(process.cwd(), out)}`);
      await ctx.close();
    }
  } finally {
    await browser.close();
    srv.server.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

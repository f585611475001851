// load.test.mjs: a bounded load on `bitt serve` (--parallel 4): 64 requests,
// 16 at a time, completions and chats, whole and streamed, some streams
// cancelled by their client after a few events. Every request is answered
// (a valid body or a stream ending in [DONE]) or cancelled, none lost; the
// server's counters agree; its resident memory is flat afterwards (measured
// after three rounds have filled its cache, sessions and heaps).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { bitt, parseEvents, skipReason, startServer, tempDir } from './helpers.mjs';

const skip = skipReason();
// The sanitizer suite runs this against its bitt (BITT_SANITIZED=1): one warm-up round, and no
// bound on RSS (AddressSanitizer keeps freed memory in quarantine).
const SANITIZED = process.env.BITT_SANITIZED === '1';
const TOTAL = 64;
const CONCURRENT = 16;

// One request of the mix; resolves to 'answered' or 'cancelled' (throws on anything else).
async function one(url, i) {
  const chat = i % 2 === 1;
  const stream = i % 3 !== 0;
  const cancel = stream && i % 5 === 2;
  // a stream to be cancelled is long (greedy, up to 4000 tokens), so that the client goes away before its end
  const max = cancel ? 4000 : 48;
  const body = chat
    ? { messages: [{ role: 'user', content: `Story ${i % 7}: once` }], max_tokens: max, stream, seed: i }
    : { prompt: `Once upon a time number ${i % 9}`, max_tokens: max, stream, seed: i, temperature: 0.9 };
  if (cancel) body.temperature = 0;
  const ac = new AbortController();
  const res = await fetch(`${url}/v1/${chat ? 'chat/completions' : 'completions'}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: ac.signal,
  });
  if (res.status !== 200) throw new Error(`request ${i}: HTTP ${res.status} ${await res.text()}`);
  if (!stream) {
    const d = await res.json();
    assert.equal(d.object, chat ? 'chat.completion' : 'text_completion');
    assert.ok(d.usage.completion_tokens >= 1 && d.usage.completion_tokens <= max);
    return 'answered';
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '', events = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (cancel && e.name === 'AbortError') return 'cancelled';
      throw e;
    }
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
    events = text.split('\n\n').length - 1;
    if (cancel && events >= 3) {
      ac.abort();
      return 'cancelled';
    }
  }
  const ev = parseEvents(text);
  assert.equal(ev.at(-1), '[DONE]', `request ${i}: the stream did not end in [DONE]`);
  assert.ok(ev.slice(0, -1).every((e) => !e.error), `request ${i}: an error event`);
  return 'answered';
}

// TOTAL requests, CONCURRENT at a time; the outcome of each.
async function round(url, offset) {
  const outcomes = new Array(TOTAL);
  let next = 0;
  async function worker() {
    while (next < TOTAL) {
      const i = next++;
      outcomes[i] = await one(url, offset + i);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENT }, worker));
  return outcomes;
}

async function idle(server) {
  for (let i = 0; i < 200; i++) {
    const h = await server.health();
    if (h.slots.busy === 0 && h.slots.queued === 0) return h;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the server did not go idle');
}

test('64 requests, 16 at a time: all answered or cancelled, memory flat', { skip, timeout: 120000 }, async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'm.bitt');
  bitt(['init', '--out', model, '--dim', '64', '--layers', '2', '--vocab', '512', '--seed', '3']);
  const server = await startServer(['--model', model, '--parallel', '4', '--queue', '64', '--cache', '16']);
  t.after(() => server.stop());

  // warm-up rounds fill the cache, the sessions and the heaps of the connection threads
  const first = [];
  const warmups = SANITIZED ? 1 : 3;
  for (let r = 0; r < warmups; r++) {
    first.push(...await round(server.url, 100 * r));
    await idle(server);
  }
  const rssBefore = server.rss();
  const outcomes = await round(server.url, 1000);
  const h = await idle(server);
  const rssAfter = server.rss();

  for (const o of [...first, ...outcomes]) assert.ok(o === 'answered' || o === 'cancelled');
  const cancelled = outcomes.filter((o) => o === 'cancelled').length;
  assert.equal(outcomes.length, TOTAL);
  assert.ok(cancelled >= 5, `only ${cancelled} cancelled`);
  // every request the server started it finished or counted as cancelled; none failed or were refused
  assert.equal(h.requests.started, (warmups + 1) * TOTAL);
  assert.equal(h.requests.completed + h.requests.cancelled, (warmups + 1) * TOTAL);
  assert.equal(h.requests.failed, 0);
  assert.equal(h.requests.rejected_busy, 0);
  assert.ok(h.requests.cancelled >= 1, 'no cancellation reached the server');
  assert.ok(h.cache.entries <= 16);
  const grew = rssAfter - rssBefore;
  console.log(`server RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB before the measured round, ${(rssAfter / 2 ** 20).toFixed(1)} MiB after`);
  if (!SANITIZED) assert.ok(grew < 1.5 * 2 ** 20, `RSS grew by ${(grew / 2 ** 20).toFixed(2)} MiB over 64 requests`);
});

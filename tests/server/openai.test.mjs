// openai.test.mjs: `bitt serve` through the official OpenAI client (the
// `openai` npm package, pinned in package.json) on a story model trained by
// the test: the model list; completions whose text, for a seed, is the text
// of `bitt generate` with the same options (min-p and the penalties too);
// streaming that gives the same text in pieces, with usage at the end; stop
// strings; chat with the default template (what bitt generate reads) and
// with a template from the model's config; the second turn of a chat reads
// only its new tokens and answers as a server without a cache does;
// logprobs; a memory continued by conversation_id, exported and imported as
// the state files of `bitt generate --state-in/--state-out`, byte for byte;
// errors as the client's error classes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { bitt, bittJson, parseEvents, skipReason, startServer, tempDir, trainedModel, withTemplate } from './helpers.mjs';

let OpenAI = null;
try {
  ({ default: OpenAI } = await import('openai'));
} catch {
  // reported below
}
const skip = skipReason() || (!OpenAI && 'the openai package is missing: cd tests/server && npm ci');

const PROMPT = 'Once upon a time, a little girl named';

// The sampling flags of bitt generate for request options.
function cliFlags(o) {
  const f = ['--temp', String(o.temperature), '--seed', String(o.seed)];
  if (o.top_p !== undefined) f.push('--top-p', String(o.top_p));
  if (o.top_k !== undefined) f.push('--top-k', String(o.top_k));
  if (o.min_p !== undefined) f.push('--min-p', String(o.min_p));
  if (o.presence_penalty !== undefined) f.push('--presence-penalty', String(o.presence_penalty));
  if (o.frequency_penalty !== undefined) f.push('--frequency-penalty', String(o.frequency_penalty));
  if (o.repetition_penalty !== undefined) f.push('--repetition-penalty', String(o.repetition_penalty));
  if (o.penalty_last_n !== undefined) f.push('--penalty-last-n', String(o.penalty_last_n));
  if (o.stop !== undefined) f.push('--stop', ...[o.stop].flat());
  return f;
}

test('bitt serve with the official openai client', { skip, timeout: 180000 }, async (t) => {
  const dir = tempDir(t);
  const model = trainedModel(dir);
  const server = await startServer(['--model', model, '--name', 'story', '--parallel', '2']);
  t.after(() => server.stop());
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });

  await t.test('models', async () => {
    const list = await client.models.list();
    assert.deepEqual(list.data.map((m) => m.id), ['story']);
    assert.equal((await client.models.retrieve('story')).object, 'model');
  });

  await t.test('completions: for a seed, the text and token counts of bitt generate', async () => {
    const cases = [
      { temperature: 0.8, top_p: 0.95, top_k: 40, seed: 5 },
      { temperature: 0, seed: 1 },
      { temperature: 1.0, top_p: 1, top_k: 0, seed: 123456789 },
      { temperature: 0.9, top_k: 0, top_p: 1, min_p: 0.05, presence_penalty: 0.6, frequency_penalty: 0.3,
        repetition_penalty: 1.3, penalty_last_n: 16, seed: 9 },
    ];
    for (const o of cases) {
      const res = await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 40, ...o });
      const cli = bittJson(['generate', '--model', model, '--prompt', PROMPT, '--max-tokens', '40', ...cliFlags(o)]);
      assert.equal(res.object, 'text_completion');
      assert.equal(res.choices[0].text, cli.text, `options ${JSON.stringify(o)}`);
      assert.equal(res.usage.completion_tokens, cli.tokens);
      assert.equal(res.usage.prompt_tokens, cli.prompt_tokens);
      assert.equal(res.usage.total_tokens, cli.prompt_tokens + cli.tokens);
      assert.equal(res.choices[0].finish_reason, cli.finish_reason === 'length' ? 'length' : 'stop');
      assert.equal(res.bitt.seed, o.seed);
    }
    // a request without a seed gets one, reported, that reproduces it
    const free = await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 30 });
    const again = await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 30, seed: free.bitt.seed });
    assert.equal(again.choices[0].text, free.choices[0].text);
  });

  await t.test('streaming: the same text in pieces, then finish_reason, usage and [DONE]', async () => {
    const o = { model: 'story', prompt: PROMPT, max_tokens: 40, temperature: 0.8, seed: 21 };
    const whole = await client.completions.create(o);
    const stream = await client.completions.create({ ...o, stream: true, stream_options: { include_usage: true } });
    let text = '', pieces = 0, usage = null, finish = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.text;
        if (c.text) pieces++;
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(text, whole.choices[0].text);
    assert.ok(pieces > 3, `only ${pieces} pieces`);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
    // the raw stream ends in data: [DONE]; without include_usage there is no usage chunk
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: PROMPT }], max_tokens: 8, stream: true, seed: 2 }),
    });
    assert.equal(raw.headers.get('content-type'), 'text/event-stream');
    const events = parseEvents(await raw.text());
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(events[0].choices[0].delta.role, 'assistant');
    assert.ok(events.slice(0, -1).every((e) => e.object === 'chat.completion.chunk' && !e.usage));
    // chat stream through the client: content deltas add up to the whole answer
    const chatOpts = { model: 'story', messages: [{ role: 'user', content: PROMPT }], max_tokens: 30, temperature: 0.7, seed: 4 };
    const chatWhole = await client.chat.completions.create(chatOpts);
    let chatText = '';
    for await (const chunk of await client.chat.completions.create({ ...chatOpts, stream: true })) {
      chatText += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(chatText, chatWhole.choices[0].message.content);
  });

  await t.test('stop strings: cut before the first one, as bitt generate --stop', async () => {
    const o = { temperature: 0.8, seed: 1 };
    const full = bittJson(['generate', '--model', model, '--prompt', PROMPT, '--max-tokens', '60', ...cliFlags(o)]).text;
    const words = [...full.slice(4).matchAll(/[a-z]{3,}/g)].map((m) => m[0]);
    assert.ok(words.length > 0, `no word to stop at in ${JSON.stringify(full)}`);
    const stop = [words[Math.floor(words.length / 2)], 'never appears'];
    const res = await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 60, ...o, stop });
    const cli = bittJson(['generate', '--model', model, '--prompt', PROMPT, '--max-tokens', '60', ...cliFlags({ ...o, stop })]);
    assert.equal(res.choices[0].text, cli.text);
    assert.equal(res.choices[0].text, full.slice(0, full.indexOf(stop[0])));
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.equal(res.bitt.finish, 'stop');
    // in a stream the stop string never shows, even split over tokens
    let streamed = '';
    for await (const c of await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 60, ...o, stop, stream: true })) {
      streamed += c.choices[0]?.text ?? '';
    }
    assert.equal(streamed, cli.text);
  });

  await t.test('chat with the default template reads the messages as plain text, as bitt generate', async () => {
    const messages = [{ role: 'user', content: 'Once upon a time' }, { role: 'assistant', content: ', there was a dog.' },
      { role: 'user', content: ' The dog' }];
    const o = { temperature: 0.8, seed: 3 };
    const res = await client.chat.completions.create({ model: 'story', messages, max_tokens: 30, ...o });
    const cli = bittJson(['generate', '--model', model, '--prompt', 'Once upon a time, there was a dog. The dog',
      '--max-tokens', '30', ...cliFlags(o)]);
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, cli.text);
    assert.equal(res.usage.prompt_tokens, cli.prompt_tokens);
  });

  await t.test('logprobs: each token of the answer, its logprob, alternatives best first', async () => {
    const res = await client.chat.completions.create({ model: 'story', messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3 });
    const content = res.choices[0].logprobs.content;
    assert.equal(content.map((c) => c.token).join(''), res.choices[0].message.content);
    for (const c of content) {
      assert.ok(c.logprob <= 0 && c.top_logprobs.length === 3);
      assert.equal(c.top_logprobs[0].logprob, c.logprob, 'greedy draws the most likely token');
      assert.ok(c.top_logprobs[0].logprob >= c.top_logprobs[1].logprob && c.top_logprobs[1].logprob >= c.top_logprobs[2].logprob);
      assert.deepEqual(Buffer.from(c.bytes).toString('utf8'), c.token);
    }
    const legacy = await client.completions.create({ model: 'story', prompt: PROMPT, max_tokens: 12, temperature: 0, logprobs: 2 });
    const lp = legacy.choices[0].logprobs;
    assert.equal(lp.tokens.join(''), legacy.choices[0].text);
    assert.equal(lp.token_logprobs.length, lp.tokens.length);
    assert.equal(lp.text_offset[0], 0);
    assert.ok(lp.top_logprobs.every((m) => Object.keys(m).length >= 1));
  });

  await t.test('errors come back as the client\'s error classes with the server\'s message', async () => {
    await assert.rejects(client.completions.create({ model: 'story', prompt: 'x', temperature: 7 }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /temperature/.test(e.message) &&
        e.param === 'temperature');
    await assert.rejects(client.chat.completions.create({ model: 'story', messages: [{ role: 'user', content: 'x' }], n: 3 }),
      (e) => e instanceof OpenAI.BadRequestError && e.code === 'unsupported');
    await assert.rejects(client.models.retrieve('gpt-4'), (e) => e instanceof OpenAI.NotFoundError);
  });

  await t.test('memory: a conversation continued by id, exported and imported as bitt generate\'s state files', async () => {
    const s0 = join(dir, 's0.state'), s1 = join(dir, 's1.state');
    bitt(['generate', '--model', model, '--prompt', 'Tom has a red ball.', '--max-tokens', '0', '--state-out', s0]);
    const put = await fetch(`${server.url}/v1/bitt/state/tom`, { method: 'PUT', body: readFileSync(s0) });
    assert.equal(put.status, 201);
    const stored = await put.json();
    assert.equal(stored.id, 'tom');
    assert.ok(stored.tokens > 0);
    const o = { temperature: 0.7, seed: 8 };
    const res = await client.completions.create({ model: 'story', prompt: ' He', max_tokens: 20, ...o, conversation_id: 'tom' });
    const cli = bittJson(['generate', '--model', model, '--state-in', s0, '--prompt', ' He', '--max-tokens', '20',
      ...cliFlags(o), '--state-out', s1]);
    assert.equal(res.choices[0].text, cli.text);
    assert.equal(res.bitt.conversation_id, 'tom');
    const got = await fetch(`${server.url}/v1/bitt/state/tom`);
    assert.equal(got.status, 200);
    const bytes = Buffer.from(await got.arrayBuffer());
    assert.ok(bytes.equals(readFileSync(s1)), 'the exported memory is byte for byte bitt generate\'s --state-out');
    assert.equal(Number(got.headers.get('x-bitt-tokens')), stored.tokens + res.usage.prompt_tokens + res.usage.completion_tokens);
    // the memory of an anonymous request (its last token not read yet) exports as the CLI's too
    const anon = await client.completions.create({ model: 'story', prompt: 'A cat sat.', max_tokens: 15, temperature: 0 });
    const s2 = join(dir, 's2.state');
    bitt(['generate', '--model', model, '--prompt', 'A cat sat.', '--max-tokens', '15', '--temp', '0', '--state-out', s2]);
    const exp = Buffer.from(await (await fetch(`${server.url}/v1/bitt/state/${anon.bitt.conversation_id}`)).arrayBuffer());
    assert.ok(exp.equals(readFileSync(s2)), 'an anonymous conversation exports as bitt generate --state-out');
    // the list, and forgetting
    const list = await (await fetch(`${server.url}/v1/bitt/state`)).json();
    assert.ok(list.data.some((e) => e.id === 'tom' && e.prefix_tokens === null));
    assert.equal((await fetch(`${server.url}/v1/bitt/state/tom`, { method: 'DELETE' })).status, 200);
    await assert.rejects(client.completions.create({ model: 'story', prompt: 'x', conversation_id: 'tom' }),
      (e) => e instanceof OpenAI.NotFoundError && e.code === 'conversation_not_found');
    writeFileSync(join(dir, 'unused'), '');
  });

  await t.test('chat memory: the second turn reads only its new tokens and answers as without a cache', async () => {
    const tpl = { user: '{content}', assistant: '{content}\n', stop: ['\n'] };
    const templated = withTemplate(model, dir, tpl);
    const cached = await startServer(['--model', templated, '--name', 'story']);
    const uncached = await startServer(['--model', templated, '--name', 'story', '--cache', '0']);
    t.after(() => cached.stop());
    t.after(() => uncached.stop());
    const c1 = new OpenAI({ baseURL: `${cached.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const c0 = new OpenAI({ baseURL: `${uncached.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const o = { model: 'story', max_tokens: 24, temperature: 0.6, seed: 12 };
    const turn1 = [{ role: 'user', content: 'Once upon a time' }];
    const r1 = await c1.chat.completions.create({ ...o, messages: turn1 });
    const answer = r1.choices[0].message.content;
    assert.ok(answer.length > 0 && !answer.includes('\n'));
    const turn2 = [...turn1, { role: 'assistant', content: answer }, { role: 'user', content: 'One day' }];
    const r2 = await c1.chat.completions.create({ ...o, messages: turn2 });
    // the memory of turn 1 (</s>, its prompt, the answer and the template's newline after
    // it, as the tokenizer encodes them, all but the last token) is the start of turn 2
    const known = bittJson(['tokenize', '--model', templated, '--text', `Once upon a time${answer}\n`]).ids.length;
    assert.equal(r2.usage.prompt_tokens_details.cached_tokens, known, 'the second turn did not find the first turn\'s memory');
    assert.equal(r2.bitt.tokens_read, r2.usage.prompt_tokens - known);
    assert.ok(r2.bitt.tokens_read < r2.usage.prompt_tokens / 2, `read ${r2.bitt.tokens_read} of ${r2.usage.prompt_tokens}`);
    // the same text as reading everything again
    const r2fresh = await c0.chat.completions.create({ ...o, messages: turn2 });
    assert.equal(r2fresh.usage.prompt_tokens_details.cached_tokens, 0);
    assert.equal(r2fresh.bitt.tokens_read, r2fresh.usage.prompt_tokens);
    assert.equal(r2.choices[0].message.content, r2fresh.choices[0].message.content);
    // /health counts them
    const h = await cached.health();
    assert.equal(h.tokens.cached, known);
    assert.ok(h.cache.hits >= 1 && h.cache.entries >= 2);
    // the same turn again (a regenerated answer) reads nothing new
    const again = await c1.chat.completions.create({ ...o, messages: turn2, seed: 13 });
    assert.equal(again.bitt.tokens_read, 0);
    assert.equal(again.usage.prompt_tokens_details.cached_tokens, r2.usage.prompt_tokens);
  });
});

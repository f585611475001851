// chat.test.mjs: model.chat.completions.create, the OpenAI-style chat of the
// package: the same answers as `bitt serve` for a seed (when this bitt has
// the server), the same text as generate on the prompt the chat template
// renders, streamed chunks that add up to the whole answer, stop strings
// (the request's and the template's), cancellation by AbortSignal and by
// break followed at once by a run that gives a fresh run's text, and clear
// errors for bad requests.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadModel } from '../../npm/index.js';
import { CLI, bitt, collect, tempDir } from './helpers.mjs';

const TEMPLATE = { system: 'System: {content}\n', user: 'User: {content}\n', assistant: 'Bot: {content}\n', stop: ['\nUser:'] };
const TEMPLATE_STOP = { ...TEMPLATE, stop: ['o'] }; // stops often on the random model's letters
const MESSAGES = [
  { role: 'system', content: 'Tell stories.' },
  { role: 'user', content: 'Once upon a time' },
  { role: 'assistant', content: [{ type: 'text', text: 'there was ' }, { type: 'text', text: 'a cat.' }] },
  { role: 'developer', content: 'Short.' },
  { role: 'user', content: 'Go on — naïve 🙂' },
];
// What the template makes of MESSAGES (chat_template.h: each message in its role's string, then the answer's start).
function rendered(tpl) {
  const role = { system: tpl.system, developer: tpl.system, user: tpl.user, assistant: tpl.assistant };
  const text = (c) => (typeof c === 'string' ? c : c.map((p) => p.text).join(''));
  return MESSAGES.map((m) => role[m.role].replace('{content}', text(m.content))).join('') + tpl.assistant.split('{content}')[0];
}

// A copy of a .bitt file with a chat template in the config of its header.
function withTemplate(src, out, template) {
  const bytes = readFileSync(src);
  const h = Number(bytes.readBigUInt64LE(4));
  const header = JSON.parse(bytes.subarray(12, 12 + h).toString('utf8'));
  header.config.chat_template = template;
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((64 - ((json.length - h) % 64 + 64) % 64) % 64, 0x20)]); // keep the data's alignment
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(out, Buffer.concat([bytes.subarray(0, 4), len, json, bytes.subarray(12 + h)]));
  return out;
}

const hasServer = spawnSync(CLI, ['serve', '--help']).status === 0;

// `bitt serve --port 0` on a model; resolves to {url, stop()} once it listens.
async function serve(model) {
  const proc = spawn(CLI, ['serve', '--model', model, '--port', '0', '--quiet', '--parallel', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bitt serve did not start: ${stderr}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`bitt serve exited (${code}): ${stderr}`)); });
  });
  return {
    async chat(body) {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new Error(`bitt serve: ${JSON.stringify(json)}`);
      return json;
    },
    stop: () => new Promise((resolve) => { proc.on('exit', resolve); proc.kill('SIGTERM'); }),
  };
}

async function streamText(stream) {
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  return text;
}

const REQUESTS = [
  { max_tokens: 40, seed: 7 },
  { max_tokens: 30, temperature: 0 },
  { max_tokens: 50, seed: 123456789, temperature: 1.3, top_p: 0.7, top_k: 0, min_p: 0.05 },
  { max_tokens: 40, seed: 5, presence_penalty: 0.8, frequency_penalty: 0.4, repetition_penalty: 1.3, penalty_last_n: 8 },
  { max_tokens: 60, seed: 9, stop: ['e', 'an'] },
];

test('chat.completions.create', async (t) => {
  const dir = tempDir(t);
  const base = join(dir, 'plain.bitt');
  bitt(['init', '--out', base, '--dim', '64', '--layers', '2', '--vocab', '600', '--seed', '3']);
  const models = {
    plain: base, // no template: the messages' texts one after the other
    template: withTemplate(base, join(dir, 'template.bitt'), TEMPLATE),
    'template-stop': withTemplate(base, join(dir, 'template-stop.bitt'), TEMPLATE_STOP),
  };
  const loaded = {};
  for (const [name, path] of Object.entries(models)) {
    loaded[name] = await loadModel(path);
    t.after(() => loaded[name].dispose());
  }
  const model = loaded.template;

  await t.test('the same answers as bitt serve', { skip: !hasServer && 'this bitt was built without the HTTP server' }, async () => {
    for (const [name, path] of Object.entries(models)) {
      const srv = await serve(path);
      try {
        for (const req of REQUESTS) {
          const want = await srv.chat({ messages: MESSAGES, ...req });
          const got = await loaded[name].chat.completions.create({ messages: MESSAGES, ...req });
          const what = `${name} ${JSON.stringify(req)}`;
          // invalid UTF-8 (random models draw stray bytes): the server's JSON writes a U+FFFD per
          // byte, TextDecoder one per maximal bad sequence; the tokens are the same
          const bad = (s) => s.replace(/\uFFFD+/g, '\uFFFD');
          assert.equal(bad(got.choices[0].message.content), bad(want.choices[0].message.content), what);
          assert.equal(got.choices[0].finish_reason, want.choices[0].finish_reason, what);
          assert.deepEqual(got.usage, { prompt_tokens: want.usage.prompt_tokens, completion_tokens: want.usage.completion_tokens,
            total_tokens: want.usage.total_tokens }, what);
        }
      } finally {
        await srv.stop();
      }
    }
  });

  await t.test('the text of generate on the rendered prompt', async () => {
    for (const [name, tpl] of [['template', TEMPLATE], ['template-stop', TEMPLATE_STOP]]) {
      const m = loaded[name];
      for (const req of [{ max_tokens: 40, seed: 7 }, { max_tokens: 60, seed: 9, stop: 'an' }]) {
        const got = await m.chat.completions.create({ messages: MESSAGES, ...req });
        m.reset();
        const want = await collect(m.generate(rendered(tpl), { maxTokens: req.max_tokens, seed: req.seed,
          stop: [...(req.stop ? [req.stop] : []), ...tpl.stop] }));
        assert.equal(got.choices[0].message.content, want, `${name} ${JSON.stringify(req)}`);
      }
    }
    // no template: the messages one after the other, a system message on a line of its own
    const plain = loaded.plain;
    const got = await plain.chat.completions.create({ messages: [{ role: 'system', content: 'A' }, { role: 'user', content: 'B' }], max_tokens: 30 });
    plain.reset();
    assert.equal(got.choices[0].message.content, await collect(plain.generate('A\nB', { maxTokens: 30 })));
  });

  await t.test('an OpenAI-shaped answer; the memory starts afresh every call', async () => {
    model.learn('something else first');
    const a = await model.chat.completions.create({ model: 'story', messages: MESSAGES, max_tokens: 12, seed: 1 });
    assert.match(a.id, /^chatcmpl-/);
    assert.equal(a.object, 'chat.completion');
    assert.equal(a.model, 'story');
    assert.equal(typeof a.created, 'number');
    assert.equal(a.choices.length, 1);
    assert.equal(a.choices[0].message.role, 'assistant');
    assert.equal(a.choices[0].finish_reason, 'length');
    assert.equal(a.usage.completion_tokens, 12);
    assert.equal(a.usage.prompt_tokens, model.encode(rendered(TEMPLATE)).length + 1); // + </s> at the start
    assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + 12);
    const b = await model.chat.completions.create({ model: 'story', messages: MESSAGES, max_tokens: 12, seed: 1 });
    assert.equal(b.choices[0].message.content, a.choices[0].message.content);
    assert.notEqual(b.id, a.id);
  });

  await t.test('stream: chunks add up to the answer', async () => {
    for (const req of REQUESTS) {
      const whole = await model.chat.completions.create({ messages: MESSAGES, ...req });
      const chunks = [];
      for await (const c of await model.chat.completions.create({ messages: MESSAGES, ...req, stream: true })) chunks.push(c);
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');
      for (const c of chunks) {
        assert.equal(c.object, 'chat.completion.chunk');
        assert.equal(c.id, chunks[0].id);
      }
      for (const c of chunks.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);
      assert.equal(chunks.at(-1).choices[0].finish_reason, whole.choices[0].finish_reason);
      assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), whole.choices[0].message.content);
    }
    const chunks = [];
    for await (const c of await model.chat.completions.create({ messages: MESSAGES, max_tokens: 5, stream: true,
      stream_options: { include_usage: true } })) chunks.push(c);
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.completion_tokens, 5);
  });

  await t.test('stop strings: the request\'s and the template\'s', async () => {
    const free = (await model.chat.completions.create({ messages: MESSAGES, max_tokens: 60, temperature: 0 })).choices[0].message.content;
    assert.ok(free.length > 20, free);
    const stop = free.slice(10, 13);
    const cut = free.slice(0, free.indexOf(stop));
    for (const stream of [false, true]) {
      const req = { messages: MESSAGES, max_tokens: 60, temperature: 0, stop, stream };
      const r = await model.chat.completions.create(req);
      const text = stream ? await streamText(r) : r.choices[0].message.content;
      assert.equal(text, cut);
    }
    const r = await model.chat.completions.create({ messages: MESSAGES, max_tokens: 60, temperature: 0, stop: [stop] });
    assert.equal(r.choices[0].finish_reason, 'stop');
    // the template's stop strings apply to chat, not to generate
    const m = loaded['template-stop'];
    const chat = (await m.chat.completions.create({ messages: MESSAGES, max_tokens: 200, seed: 3 })).choices[0];
    assert.ok(!chat.message.content.includes('o'));
    m.reset();
    const gen = await collect(m.generate(rendered(TEMPLATE_STOP), { maxTokens: 200, seed: 3 }));
    assert.ok(gen.startsWith(`${chat.message.content}o`), `${JSON.stringify(chat.message.content)} vs ${JSON.stringify(gen)}`);
    assert.equal(chat.finish_reason, 'stop');
  });

  await t.test('abort mid-stream, then a new run gives a fresh run\'s text', async () => {
    const req = { messages: MESSAGES, max_tokens: 80, seed: 11 };
    const fresh = (await model.chat.completions.create(req)).choices[0].message.content;
    // AbortSignal in the middle of a stream
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(async () => {
      for await (const c of await model.chat.completions.create({ ...req, stream: true, signal: ac.signal })) {
        if (c.choices[0].delta.content && ++n === 3) ac.abort();
      }
    }, { name: 'AbortError' });
    assert.equal(n, 3);
    assert.equal((await model.chat.completions.create(req)).choices[0].message.content, fresh);
    // break out of a stream
    for await (const c of await model.chat.completions.create({ ...req, stream: true })) if (c.choices[0].delta.content) break;
    assert.equal(await streamText(await model.chat.completions.create({ ...req, stream: true })), fresh);
    // an AbortSignal that fires while a non-streamed answer is being made: create() returns once the
    // prompt is read and the first token drawn (the first await), so this abort lands mid-way, every time
    const ac2 = new AbortController();
    const p = model.chat.completions.create({ ...req, signal: ac2.signal });
    ac2.abort();
    await assert.rejects(p, { name: 'AbortError' });
    assert.equal((await model.chat.completions.create(req)).choices[0].message.content, fresh);
    // generate: aborted mid-way, then at once a new generate from the start state
    model.reset();
    const gen = await collect(model.generate('The dog', { maxTokens: 60, seed: 4 }));
    model.reset();
    const ac3 = new AbortController();
    n = 0;
    await assert.rejects(async () => {
      for await (const piece of model.generate('The dog', { maxTokens: 60, seed: 4, signal: ac3.signal })) if (piece && ++n === 2) ac3.abort();
    }, { name: 'AbortError' });
    model.reset();
    assert.equal(await collect(model.generate('The dog', { maxTokens: 60, seed: 4 })), gen);
    model.reset();
    for await (const piece of model.generate('The dog', { maxTokens: 60, seed: 4 })) if (piece) break;
    model.reset();
    assert.equal(await collect(model.generate('The dog', { maxTokens: 60, seed: 4 })), gen);
  });

  await t.test('an AbortSignal already aborted rejects with an AbortError', async () => {
    for (const stream of [false, true]) {
      await assert.rejects(model.chat.completions.create({ messages: MESSAGES, stream, signal: AbortSignal.abort() }), { name: 'AbortError' });
    }
    await assert.rejects(collect(model.generate('x', { signal: AbortSignal.abort() })), { name: 'AbortError' });
    const ok = await model.chat.completions.create({ messages: MESSAGES, max_tokens: 3 });
    assert.equal(ok.usage.completion_tokens, 3);
  });

  await t.test('bad requests reject with clear errors', async () => {
    const create = (p) => model.chat.completions.create(p);
    await assert.rejects(create({}), /messages is required/);
    await assert.rejects(create({ messages: [] }), /at least one message/);
    await assert.rejects(create({ messages: 'hi' }), /messages must be an array/);
    await assert.rejects(create({ messages: [{ role: 'tool', content: 'x' }] }), /tool and function messages are not supported/);
    await assert.rejects(create({ messages: [{ role: 'bot', content: 'x' }] }), /role must be system, developer, user or assistant \(got "bot"\)/);
    await assert.rejects(create({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }), /only text parts/);
    await assert.rejects(create({ messages: [{ role: 'user' }] }), /content must be a string or an array/);
    await assert.rejects(create({ messages: MESSAGES, top_p: 0 }), /chat.completions.create: top_p must be in \(0, 1\]/);
    await assert.rejects(create({ messages: MESSAGES, max_tokens: -1 }), /max_tokens must be >= 0/);
    await assert.rejects(create({ messages: MESSAGES, n: 2 }), /unknown parameter 'n'/);
    await assert.rejects(create({ messages: MESSAGES, stream: 'yes' }), /stream must be a boolean/);
    await assert.rejects(create({ messages: MESSAGES, stream_options: { include_usage: true } }), /stream_options needs stream: true/);
    await assert.rejects(create({ messages: MESSAGES, signal: 'stop' }), /signal must be an AbortSignal/);
    await assert.rejects(create(null), /expected an object/);
    // busy: one generation at a time on a model
    const it = model.generate('x', { maxTokens: 5 });
    await it.next();
    await assert.rejects(create({ messages: MESSAGES }), /still running/);
    await it.return();
    // a malformed template fails chat (as it fails bitt serve), not the model
    const bad = await loadModel(withTemplate(base, join(dir, 'bad.bitt'), { user: 'no placeholder' }));
    t.after(() => bad.dispose());
    assert.ok((await collect(bad.generate('x', { maxTokens: 3 }))).length >= 0);
    await assert.rejects(bad.chat.completions.create({ messages: MESSAGES }), /chat_template.user must hold \{content\}/);
  });
});

// usage.ts: every export of the bit-ttt package used as an app would, for
// `tsc --noEmit` (tests/bundle/bundle.test.mjs runs it against the packed
// package, resolved through its "exports" map): it compiles only while
// index.d.ts describes the API; the @ts-expect-error lines check that wrong
// uses are refused. Never run.
import { deleteCachedModel, estimateLoadBytes, hasWasmSimd, listCachedModels, loadModel, Model, readModelHeader } from 'bit-ttt';
import type {
  CachedModel, LoadProgress, ModelHeader,
  ChatCompletion, ChatCompletionChunk, ChatCompletionParams, ChatCompletions, ChatCompletionUsage, ChatFinishReason,
  ChatMessage, GenerateOptions, LoadOptions, ModelConfig, ModelInfo,
} from 'bit-ttt';

export async function usage(bytes: Uint8Array, wasm: WebAssembly.Module): Promise<string> {
  const load: LoadOptions = { wasm, lmHead: 'int8', relaxedSimd: false };
  const model: Model = await loadModel('story.bitt', load);
  await loadModel(new URL('https://example.com/story.bitt'));
  await loadModel(bytes.buffer as ArrayBuffer, { wasm: new URL('./bitt.wasm', import.meta.url) });
  await loadModel(bytes, { wasm: 'bitt.wasm' });
  // @ts-expect-error: lmHead is 'f32' or 'int8'
  await loadModel(bytes, { lmHead: 'f16' });
  const phases: string[] = [];
  const cached = await loadModel(new Blob([bytes.buffer as ArrayBuffer]), {
    cache: true, retries: 2, signal: new AbortController().signal, onWarning: (m: string) => phases.push(m),
    onProgress: (p: LoadProgress) => phases.push(`${p.phase} ${p.loaded}/${p.total} ${p.estimatedBytes ?? ''}`),
  });
  const fp: string = cached.fingerprint;
  const fromCache: boolean = cached.fromCache;
  const list: CachedModel[] = await listCachedModels();
  const gone: boolean = await deleteCachedModel(list[0]?.url ?? fp);
  const need: number = estimateLoadBytes(list[0]?.size ?? 0) + (list[0]?.storedAt ?? 0);
  const simd: boolean = hasWasmSimd() && fromCache && gone && need > 0;
  void simd;
  const header: ModelHeader = await readModelHeader(bytes.subarray(0, 4096), { fileBytes: 1 << 20 });
  const layers: number = header.config.num_layers + header.bitt_version + header.headerBytes + header.estimatedBytes;
  void layers;
  await readModelHeader(new Blob([bytes.buffer as ArrayBuffer]));
  // @ts-expect-error: phase is one of four
  const bad: LoadProgress = { loaded: 0, total: 0, phase: 'disk' };
  void bad;

  const info: Readonly<ModelInfo> = model.info;
  const config: ModelConfig = info.config;
  const sizes: number[] = [config.vocab_size, config.hidden_dim, info.params, info.bitt_version, info.state_bytes,
    config.state_decay ?? 1, model.tokens];
  const variant: 'linear' | 'seed' | 'none' = config.ttt_variant;
  const kernels: string = model.kernels;

  const ac = new AbortController();
  const options: GenerateOptions = {
    maxTokens: 64, temperature: 0.8, topK: 40, topP: 0.95, seed: 1n, minP: 0.05, repetitionPenalty: 1.1,
    presencePenalty: 0.5, frequencyPenalty: 0.5, penaltyLastN: 64, stop: ['\n\n', 'The end'], signal: ac.signal,
  };
  let text = '';
  for await (const piece of model.generate('Once upon a time', options)) text += piece;
  for await (const piece of model.generate()) text += piece;
  // @ts-expect-error: pieces are strings
  for await (const piece of model.generate('x')) piece.toFixed();

  const ids: Int32Array = model.encode(text);
  text += model.decode(ids) + model.decode([1, 2, 3]);
  model.learn('Tom has a red ball.');
  const state: Uint8Array = model.saveState();
  model.reset();
  model.loadState(state);
  model.loadState(state.buffer as ArrayBuffer);
  const logits: Float32Array = model.logits('Hi');
  model.logits();

  const messages: ChatMessage[] = [
    { role: 'system', content: 'Tell stories.' },
    { role: 'developer', content: 'Short ones.' },
    { role: 'user', content: [{ type: 'text', text: 'A cat' }], name: 'me' },
    { role: 'assistant', content: 'Once' },
  ];
  const params = {
    messages, model: 'story', max_tokens: 100, max_completion_tokens: 100, temperature: 0.7, top_p: 0.9, top_k: 40,
    min_p: 0, presence_penalty: 0, frequency_penalty: 0, repetition_penalty: 1, penalty_last_n: 0, seed: 7,
    stop: 'The end', signal: ac.signal,
  } satisfies ChatCompletionParams; // no stream: the overload that answers a ChatCompletion
  const completions: ChatCompletions = model.chat.completions;
  const answer: ChatCompletion = await completions.create(params);
  const reason: ChatFinishReason = answer.choices[0].finish_reason;
  const usage: ChatCompletionUsage = answer.usage;
  text += answer.choices[0].message.content + reason + usage.total_tokens;
  const stream = await model.chat.completions.create({ messages, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    const c: ChatCompletionChunk = chunk;
    text += c.choices[0]?.delta.content ?? '';
    if (c.usage) text += c.usage.completion_tokens;
    const done: ChatFinishReason | null | undefined = c.choices[0]?.finish_reason;
    text += done ?? '';
  }
  // @ts-expect-error: a tool message is not a chat message here
  await model.chat.completions.create({ messages: [{ role: 'tool', content: 'x' }] });
  // @ts-expect-error: messages are required
  await model.chat.completions.create({ max_tokens: 5 });

  model.dispose();
  return `${text}${sizes.join()}${variant}${kernels}${logits.length}`;
}

// index.d.ts: TypeScript types of the bit-ttt package (index.js).

/** A model's config.json (SPEC 3.1). */
export interface ModelConfig {
  vocab_size: number;
  hidden_dim: number;
  num_layers: number;
  intermediate_dim: number;
  ttt_variant: 'linear' | 'seed' | 'none';
  num_heads: number;
  mini_batch: number;
  base_lr: number;
  /** Present only when < 1: the TTT-Linear memory's pull back toward its start after each mini-batch (docs/TTT_MEMORY.md). */
  state_decay?: number;
  inner_lr: number;
  act_quant: 'int8' | 'none';
  rms_eps: number;
}

export interface ModelInfo {
  config: ModelConfig;
  /** Number of parameters. */
  params: number;
  /** .bitt format version of the loaded file: 1 (float32) or 2 (packed ternary). */
  bitt_version: number;
  /** Bytes of the TTT memory (constant in the context length). */
  state_bytes: number;
}

export interface GenerateOptions {
  /** Tokens to generate at most (default 256); stops early at </s>. */
  maxTokens?: number;
  /** 0 = greedy (default 0.8). */
  temperature?: number;
  /** Keep the k most likely tokens, 0 = off (default 40). */
  topK?: number;
  /** Nucleus sampling mass in (0, 1], 1 = off (default 0.95). */
  topP?: number;
  /** Sampling seed (default 42); the same seed and options give the same text as `bitt generate --seed` and `bitt serve`. */
  seed?: number | bigint;
  /** Keep only tokens whose probability (at the temperature) is at least minP times the most likely one's; in [0, 1], 0 = off (default). Applied after topK and topP. */
  minP?: number;
  /** A drawn token's logit l becomes l / r when l > 0, else l * r; > 0, 1 = off (default). */
  repetitionPenalty?: number;
  /** Subtracted once from the logit of every token already drawn in this generation; 0 = off (default). */
  presencePenalty?: number;
  /** Subtracted from a token's logit once per time it was drawn in this generation; 0 = off (default). */
  frequencyPenalty?: number;
  /** The penalties look at the last n drawn tokens; 0 = all of this generation (default). */
  penaltyLastN?: number;
  /** Stop strings (at most 16, 1..256 bytes of UTF-8 each): generation ends when one appears, and it is not part of the text, even when it spans tokens. */
  stop?: string | string[];
  /** Aborting it ends the iteration by throwing signal.reason (an AbortError). */
  signal?: AbortSignal;
}

export interface LoadOptions {
  /** Where bitt.wasm is, if not next to index.js: URL, path (Node), bytes or a compiled module. */
  wasm?: string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module;
  /** 'f32' or 'int8': logits through int8 rows with per-row scales, a quarter of the bytes per token (as `bitt generate --lm-head int8`). Default: the file's form (int8 for a .bitt v2 with I8 embeddings, else 'f32'). */
  lmHead?: 'f32' | 'int8';
  /** true (default): prefill through the relaxed-SIMD kernel where the engine has relaxed SIMD (Chrome 114+, Node 22+; `model.kernels` is then 'wasm128+relaxed'), the same numbers bit for bit; false: SIMD128 kernels only. */
  relaxedSimd?: boolean;
  /** Byte progress of the load, per phase; see LoadProgress. */
  onProgress?: (progress: LoadProgress) => void;
  /** Browsers and workers: keep http(s) models in OPFS (or the Cache API) and load them from there next time, checked (magic, size, fingerprint) when stored and when read. Ignored in Node. Default false. */
  cache?: boolean;
  /** How often a broken download is resumed with `Range: bytes=N-` (default 3). */
  retries?: number;
  /** What did not stop the load (a corrupt cached copy refetched, a storage quota error: kept in memory only); default console.warn. */
  onWarning?: (message: string) => void;
  /** Aborting it stops a download: loadModel rejects with signal.reason (an AbortError). */
  signal?: AbortSignal;
}

/** A progress report of loadModel. Within a phase `loaded` never decreases and ends at `total`. */
export interface LoadProgress {
  /** Bytes so far in this phase. */
  loaded: number;
  /** Bytes of the phase: the file's size (for 'network': the Content-Length; 0 while a server sends none). */
  total: number;
  /** 'network': downloading; 'cache': reading the browser cache; 'read': a Blob or a file from disk; 'init': the engine parses the model (reported at loaded 0 and at loaded total). */
  phase: 'network' | 'cache' | 'read' | 'init';
  /** With 'init': a rough estimate of the WebAssembly memory the load needs (estimateLoadBytes). */
  estimatedBytes?: number;
}

/** A model in the browser's model cache (listCachedModels). */
export interface CachedModel {
  url: string;
  /** Bytes of the file. */
  size: number;
  /** The model fingerprint the engine computed (Model.fingerprint). */
  fingerprint: string;
  /** When it was stored: milliseconds since 1970 (Date.now()). */
  storedAt: number;
}

/** A chat message, as in the OpenAI API; developer is a system message. */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string | Array<{ type: 'text'; text: string }>;
  /** Accepted and ignored. */
  name?: string;
}

/** The parameters of chat.completions.create: OpenAI's names, the sampling ones as `bitt serve` reads them. Defaults as for generate. */
export interface ChatCompletionParams {
  messages: ChatMessage[];
  /** Only named in the answer (this object is the model); default 'bit-ttt'. */
  model?: string;
  /** true: the promise resolves to an async iterable of chunks. */
  stream?: boolean;
  /** With stream: include_usage adds a last chunk with no choices and the usage. */
  stream_options?: { include_usage?: boolean };
  /** Tokens to generate at most (default 256). */
  max_tokens?: number;
  /** The same as max_tokens. */
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  repetition_penalty?: number;
  penalty_last_n?: number;
  /** Default 42; the same seed and parameters give the same answer as `bitt serve`. */
  seed?: number | bigint;
  /** Stop strings, before the template's own (at most 16 in all). */
  stop?: string | string[];
  /** Aborting it rejects the promise (or ends the stream) with signal.reason (an AbortError). */
  signal?: AbortSignal;
}

export interface ChatCompletionUsage {
  /** Tokens read: </s> then the rendered messages. */
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type ChatFinishReason = 'stop' | 'length';

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  /** Unix seconds. */
  created: number;
  model: string;
  choices: [{
    index: 0;
    message: { role: 'assistant'; content: string; refusal: null };
    logprobs: null;
    finish_reason: ChatFinishReason;
  }];
  usage: ChatCompletionUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  /** One choice; none in the usage chunk of stream_options.include_usage. */
  choices: Array<{
    index: 0;
    /** The first chunk names the role; the last has no content and a finish_reason. */
    delta: { role?: 'assistant'; content?: string };
    logprobs: null;
    finish_reason: ChatFinishReason | null;
  }>;
  usage?: ChatCompletionUsage;
}

export interface ChatCompletions {
  /** Renders the messages with the model's chat template (the config's chat_template, as `bitt serve`) and answers from the start state (the memory is reset first). */
  create(params: ChatCompletionParams & { stream: true }): Promise<AsyncGenerator<ChatCompletionChunk, void, undefined>>;
  create(params: ChatCompletionParams & { stream?: false }): Promise<ChatCompletion>;
  create(params: ChatCompletionParams): Promise<ChatCompletion | AsyncGenerator<ChatCompletionChunk, void, undefined>>;
}

export declare class Model {
  private constructor();
  /** {config, params, bitt_version, state_bytes} */
  readonly info: Readonly<ModelInfo>;
  /** The model fingerprint the engine computed (16 hex digits): the model_fingerprint of saved states. */
  readonly fingerprint: string;
  /** Whether loadModel took the file from the browser's model cache. */
  readonly fromCache: boolean;
  /** The kernel backend in use ("wasm128"). */
  readonly kernels: string;
  /** Tokens the memory has read since its start state. */
  readonly tokens: number;
  /** OpenAI-style chat: `await model.chat.completions.create({ messages })`. */
  readonly chat: { readonly completions: ChatCompletions };
  /** Continues the prompt; every generated token also enters the memory. */
  generate(prompt?: string, options?: GenerateOptions): AsyncGenerator<string, void, undefined>;
  /** Token ids of the text (no special tokens added). */
  encode(text: string): Int32Array;
  /** Text of the ids (special tokens skipped). */
  decode(ids: Int32Array | ArrayLike<number>): string;
  /** Feeds text into the TTT memory, no output. */
  learn(text: string): void;
  /** The memory as bytes (a safetensors state file; loads in the CLI with --state-in). */
  saveState(): Uint8Array;
  /** Restores a saved memory; a state of another model throws. */
  loadState(bytes: Uint8Array | ArrayBuffer): void;
  /** Forgets everything (back to the start state). */
  reset(): void;
  /** Next-token logits after what was read (reads `text` first if given). */
  logits(text?: string): Float32Array;
  /** Releases the model's WebAssembly memory. */
  dispose(): void;
}

/** Loads a .bitt model (v1 or v2) from a URL string, a file path (Node), a Blob / File, an ArrayBuffer or a Uint8Array. */
export declare function loadModel(
  source: string | URL | Blob | ArrayBuffer | Uint8Array,
  options?: LoadOptions,
): Promise<Model>;

/** The models in this origin's model cache, newest first ([] where there is none, as in Node). */
export declare function listCachedModels(): Promise<CachedModel[]>;

/** Deletes a model (and any partial download of it) from the cache; true if it was there. */
export declare function deleteCachedModel(url: string | URL): Promise<boolean>;

/** A rough estimate of the WebAssembly memory loading a .bitt file of fileBytes needs (about twice the file, plus a few MiB). */
export declare function estimateLoadBytes(fileBytes: number): number;

/** What a .bitt header says, read without loading the model (readModelHeader). */
export interface ModelHeader {
  /** 1 (float32) or 2 (packed ternary). */
  bitt_version: number;
  config: ModelConfig;
  /** Bytes of the magic, the length and the JSON header. */
  headerBytes: number;
  /** The file's size (given, or the bytes / Blob read). */
  fileBytes: number;
  /** estimateLoadBytes(fileBytes): rough. */
  estimatedBytes: number;
}

/** Reads a .bitt file's header (its first bytes, or a Blob / File, of which only the header is read) without loading the model. */
export declare function readModelHeader(source: Uint8Array | ArrayBuffer | Blob, options?: { fileBytes?: number }): Promise<ModelHeader>;

/** Whether this JavaScript engine has WebAssembly SIMD128, which bitt.wasm needs. */
export declare function hasWasmSimd(): boolean;

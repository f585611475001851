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
}

export declare class Model {
  private constructor();
  /** {config, params, bitt_version, state_bytes} */
  readonly info: Readonly<ModelInfo>;
  /** The kernel backend in use ("wasm128"). */
  readonly kernels: string;
  /** Tokens the memory has read since its start state. */
  readonly tokens: number;
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

/** Loads a .bitt model (v1 or v2) from a URL string, a file path (Node), an ArrayBuffer or a Uint8Array. */
export declare function loadModel(
  source: string | URL | ArrayBuffer | Uint8Array,
  options?: LoadOptions,
): Promise<Model>;

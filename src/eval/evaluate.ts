import * as path from 'node:path';
import type { ModelDims } from '../arch/dims.js';
import { loadModel } from '../arch/load.js';
import { resolveArchitecture } from '../arch/resolve.js';
import { initBackend } from '../backend/index.js';
import { CONFIG_FILE, readConfig } from '../checkpoint/index.js';
import { isSeed, loadTokenizer, loadTokens, MAX_SEED } from '../data/index.js';
import { UsageError } from '../errors.js';
import { maskTokenIdFor } from './mask_token.js';
import { checkBatchSize, defaultBatchSize, DEFAULT_SEQ_LEN, evaluateTokens, resolveSeqLen, type TokenEvalResult } from './evaluate_tokens.js';

export { evaluateTokens, type EvalModel, type EvaluateTokensOptions, type TokenEvalResult } from './evaluate_tokens.js';

export interface EvaluateOptions {
  /** Model directory (config.json, safetensors weights, tokenizer.json). */
  model: string;
  /** Text, .jsonl (a `text` field per line) or pre-tokenized .bin file. */
  data: string;
  /** Window length T; default min(256, the model's positions). */
  seqLen?: number;
  /** Use only the first N tokens of the data. */
  maxTokens?: number;
  /** Windows per forward pass; default 8, fewer when the logits would be large. */
  batchSize?: number;
  /** A tfjs backend (see initBackend); default LIGO_BACKEND, else the fastest available. */
  backend?: string;
  /** wasm backend: threads for matrix products (default LIGO_WASM_THREADS, else every core); set at the first backend start. */
  threads?: number;
  /** Masking seed for BERT (masked-LM) evaluation; default 0. */
  seed?: number;
  log?: (message: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** What `ligo eval --json` prints: the token-level result plus which model it was. */
export interface EvalResult extends TokenEvalResult {
  model: string;
  modelType: string;
}

/**
 * Loss and perplexity of a checkpoint on a data file (the contract of `ligo eval`): the data
 * is tokenized without special tokens, cut to maxTokens, split into full windows of seqLen,
 * and each window predicts its tokens 1..T-1 from its own prefix. For BERT the loss is the
 * masked-LM loss under a seeded 15% masking (seed 0), so runs are comparable.
 */
export async function evaluate(options: EvaluateOptions): Promise<EvalResult> {
  const backend = await initBackend({ backend: options.backend, threads: options.threads, log: options.log });
  const config = await readConfig(options.model);
  const { description, dims } = resolveArchitecture(config, path.join(options.model, CONFIG_FILE));
  const seqLen = resolveSeqLen(options.seqLen, DEFAULT_SEQ_LEN, dims, description.configFields.maxPositions, options.log);
  const batchSize = options.batchSize ?? defaultBatchSize(dims, seqLen);
  checkBatchSize(batchSize);
  if (options.seed !== undefined && !isSeed(options.seed)) {
    throw new UsageError(`--seed: expected an integer from 0 to ${MAX_SEED}, got ${options.seed}`, { flag: '--seed' });
  }

  const { tokens, maskTokenId } = await readData(options, config, dims);
  const model = await loadModel(options.model);
  try {
    const result = await evaluateTokens({
      dims: model.dims,
      weights: model.weights,
      tokens,
      seqLen,
      batchSize,
      maskTokenId,
      maskSeed: options.seed,
      onProgress: options.onProgress,
    });
    return { ...result, backend: backend.name, model: options.model, modelType: dims.modelType };
  } finally {
    model.dispose();
  }
}

/** Tokens of the data file, and BERT's [MASK] id; tokenizer.json is read only when needed. */
async function readData(
  options: EvaluateOptions,
  config: Record<string, unknown>,
  dims: ModelDims,
): Promise<{ tokens: Int32Array; maskTokenId?: number }> {
  const pretokenized = path.extname(options.data).toLowerCase() === '.bin';
  const tokenizer = pretokenized ? undefined : await loadTokenizer(options.model);
  const tokens = await loadTokens({ file: options.data, tokenizer, maxTokens: options.maxTokens });
  if (dims.objective !== 'masked') return { tokens };
  return { tokens, maskTokenId: await maskTokenIdFor(options.model, config, tokenizer) };
}

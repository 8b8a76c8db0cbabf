import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';
import { MAX_POSITIONS } from '../arch/limits.js';
import { DataError, LigoError, UsageError } from '../errors.js';
import { causalLmLoss, forward, IGNORE_INDEX, maskTokens, mlmLoss, type Weights } from '../models/index.js';
import { mapGetter } from '../util/map_getter.js';

/** A model in memory: what loadModel returns, or weights the grow code materialized itself. */
export interface EvalModel {
  dims: ModelDims;
  weights: Weights | ReadonlyMap<string, tf.Tensor>;
}

export interface EvaluateTokensOptions extends EvalModel {
  /** Token ids, e.g. from loadTokens; every full window of seqLen is evaluated. */
  tokens: Int32Array;
  /** Window length T (2 .. the model's positions). */
  seqLen: number;
  /** Windows per forward pass; default DEFAULT_BATCH_SIZE, fewer when the logits would be large. */
  batchSize?: number;
  /** BERT only, required there: evaluation is the masked-LM loss. */
  maskTokenId?: number;
  /** BERT masking seed; default 0, so runs are comparable. */
  maskSeed?: number;
  /** Called after every batch with windows done and windows in all. */
  onProgress?: (done: number, total: number) => void;
  /** Also return each window's mean loss (windowLosses), for paired comparisons of two models. */
  perWindow?: boolean;
}

export interface TokenEvalResult {
  /** Mean cross-entropy (nats) over all predicted tokens. */
  loss: number;
  perplexity: number;
  /** Tokens predicted: windows x (seqLen - 1) for causal LMs, masked positions for BERT. */
  tokens: number;
  windows: number;
  seqLen: number;
  batchSize: number;
  objective: 'causal' | 'mlm';
  backend: string;
  seconds: number;
  tokensPerSecond: number;
  /** With perWindow: each window's mean loss, in window order. */
  windowLosses?: number[];
}

export const DEFAULT_SEQ_LEN = 256;
export const DEFAULT_BATCH_SIZE = 8;
/**
 * Cap on the float32 logits of one batch (B x T x V), 32M values = 128 MB: with a 50k
 * vocabulary and T = 256 this keeps the default batch at 2 windows instead of 8 (400 MB).
 */
export const MAX_BATCH_LOGITS = 32 * 1024 * 1024;

/** The batch size used when none is given: DEFAULT_BATCH_SIZE, fewer when logits would be large. */
export function defaultBatchSize(dims: ModelDims, seqLen: number): number {
  const fit = Math.floor(MAX_BATCH_LOGITS / (seqLen * dims.vocabSize));
  return Math.max(1, Math.min(DEFAULT_BATCH_SIZE, fit));
}

function requireInt(value: number, flag: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got ${value}`, { flag, actual: String(value) });
  }
}

/**
 * The tokens per sequence a run uses, one rule for grow, compare and eval: the requested
 * --seq-len (or `fallback` when none was given) capped at the model's positions. A requested
 * length beyond them is used capped and said in one line (`log`); a default is capped silently,
 * as documented. Checked before anything large is loaded.
 */
export function resolveSeqLen(requested: number | undefined, fallback: number, dims: ModelDims, positionsField: string | undefined, log?: (line: string) => void): number {
  const seqLen = requested ?? fallback;
  requireInt(seqLen, '--seq-len', 2);
  if (seqLen > MAX_POSITIONS) throw new UsageError(`--seq-len ${seqLen} is more than ligo's limit of ${MAX_POSITIONS.toLocaleString('en-US')} positions`, { flag: '--seq-len', actual: String(seqLen) });
  if (seqLen <= dims.maxPositions) return seqLen;
  if (requested !== undefined) {
    const source = positionsField === undefined ? '' : ` (${positionsField} in config.json)`;
    log?.(`--seq-len ${requested} is more than the model's ${dims.maxPositions} positions${source}: using ${dims.maxPositions}`);
  }
  return dims.maxPositions;
}

/** A library caller's window length: evaluateTokens cannot run past the model's positions (runs resolve theirs with resolveSeqLen). */
function checkWindow(seqLen: number, dims: ModelDims): void {
  requireInt(seqLen, 'seqLen', 2);
  if (seqLen > dims.maxPositions) throw new UsageError(`seqLen ${seqLen} exceeds the model's ${dims.maxPositions} positions`, { expected: `<= ${dims.maxPositions}`, actual: String(seqLen) });
}

export function checkBatchSize(batchSize: number): void {
  requireInt(batchSize, '--batch-size', 1);
}

function checkTokens(tokens: Int32Array, seqLen: number, vocabSize: number): void {
  if (tokens.length < seqLen) {
    throw new DataError(`the data has ${tokens.length} tokens, fewer than one window of --seq-len ${seqLen}`, {
      expected: `>= ${seqLen} tokens`,
      actual: String(tokens.length),
      hint: 'use more text or a smaller --seq-len',
    });
  }
  checkTokenIds(tokens, vocabSize);
}

/** Every id must index the embedding: out-of-range ids would read garbage, not fail, on some backends. */
export function checkTokenIds(tokens: Int32Array, vocabSize: number, file?: string): void {
  const bad = tokens.findIndex((id) => id < 0 || id >= vocabSize);
  if (bad >= 0) {
    throw new DataError(`${file ? `${file}: ` : ''}token ${bad} of the data has id ${tokens[bad]}, outside the model's vocabulary of ${vocabSize}`, {
      file,
      hint: 'the tokenizer (or .bin file) does not belong to this model',
    });
  }
}

function weightLookup(weights: EvalModel['weights']): Weights {
  if (typeof weights === 'function') return weights;
  return mapGetter(weights, (name) => new LigoError(`no weight "${name}" in the model being evaluated`, { tensor: name }));
}

/** Inputs and labels for every window, masked once so the loss does not depend on the batch size. */
function maskAll(ids: Int32Array, windows: number, seqLen: number, dims: ModelDims, maskTokenId: number, seed: number) {
  const all = tf.tensor2d(ids, [windows, seqLen], 'int32');
  const masked = maskTokens(all, { vocabSize: dims.vocabSize, maskTokenId, seed });
  const inputs = masked.inputIds.dataSync() as Int32Array;
  const labels = masked.labels.dataSync() as Int32Array;
  tf.dispose([all, masked.inputIds, masked.labels]);
  return { inputs, labels };
}

/**
 * Loss of a model on a token stream, following the eval contract: window i is
 * tokens[i*T, (i+1)*T) for every full window. Causal LMs predict tokens 1..T-1 of each window
 * from its own prefix; BERT predicts the positions masked with a seeded 15% draw (80/10/10).
 * The loss is the mean over all predicted tokens, summed across batches in float64.
 */
export async function evaluateTokens(options: EvaluateTokensOptions): Promise<TokenEvalResult> {
  const { dims, tokens, seqLen } = options;
  checkWindow(seqLen, dims);
  const batchSize = options.batchSize ?? defaultBatchSize(dims, seqLen);
  checkBatchSize(batchSize);
  checkTokens(tokens, seqLen, dims.vocabSize);
  if (dims.objective === 'masked' && options.maskTokenId === undefined) {
    throw new LigoError('evaluating a BERT model needs the [MASK] token id (maskTokenId)');
  }
  const w = weightLookup(options.weights);
  const windows = Math.floor(tokens.length / seqLen);
  const used = tokens.subarray(0, windows * seqLen);
  const started = performance.now();
  const mlm =
    dims.objective === 'masked' && options.maskTokenId !== undefined
      ? maskAll(used, windows, seqLen, dims, options.maskTokenId, options.maskSeed ?? 0)
      : undefined;

  const inputs = { dims, w, ids: mlm ? mlm.inputs : used, labels: mlm?.labels, seqLen, perWindow: options.perWindow ?? false };
  let lossSum = 0;
  let predicted = 0;
  const windowLosses: number[] = [];
  for (let first = 0; first < windows; first += batchSize) {
    const b = Math.min(batchSize, windows - first);
    const batch = await batchLosses(inputs, first, b);
    batch.values.forEach((v, i) => {
      lossSum += v * batch.counts[i];
      predicted += batch.counts[i];
    });
    if (options.perWindow) windowLosses.push(...batch.values);
    options.onProgress?.(first + b, windows);
  }
  if (predicted === 0) {
    throw new DataError(`no position was masked in ${windows} window(s) of ${seqLen} tokens`, { hint: 'use more data' });
  }
  const seconds = (performance.now() - started) / 1000;
  const loss = lossSum / predicted;
  return {
    loss,
    perplexity: Math.exp(loss),
    tokens: predicted,
    windows,
    seqLen,
    batchSize,
    objective: mlm ? 'mlm' : 'causal',
    backend: tf.getBackend(),
    seconds,
    tokensPerSecond: seconds > 0 ? predicted / seconds : 0,
    ...(options.perWindow ? { windowLosses } : {}),
  };
}

/** What batchLosses reads: the windows' input ids, BERT's labels (absent: causal), and whether to split by window. */
interface LossInputs {
  dims: ModelDims;
  w: Weights;
  ids: Int32Array;
  labels?: Int32Array;
  seqLen: number;
  perWindow: boolean;
}

/**
 * The mean loss of windows first .. first + b - 1 (one value, or one per window), each with the
 * tokens it predicts, so a mean counts as many times as it has tokens: causal windows predict all
 * but their first token, BERT windows their masked positions.
 */
async function batchLosses(x: LossInputs, first: number, b: number): Promise<{ values: number[]; counts: number[] }> {
  const { seqLen, labels } = x;
  const range: [number, number] = [first * seqLen, (first + b) * seqLen];
  const losses = tf.tidy(() => {
    const ids = tf.tensor2d(x.ids.subarray(...range), [b, seqLen], 'int32'); // [B, T]
    const logits = forward(x.dims, x.w, { ids }); // [B, T, V]
    const y = labels ? tf.tensor2d(labels.subarray(...range), [b, seqLen], 'int32') : ids; // [B, T]
    const loss = (l: tf.Tensor3D, t: tf.Tensor2D): tf.Scalar => (labels ? mlmLoss(l, t) : causalLmLoss(l, t));
    if (!x.perWindow) return [loss(logits, y)];
    const [, T, V] = logits.shape;
    return Array.from({ length: b }, (_, r) => loss(tf.slice(logits, [r, 0, 0], [1, T, V]), tf.slice(y, [r, 0], [1, T]))); // b x []
  });
  const values = await Promise.all(losses.map(async (l) => (await l.data())[0]));
  tf.dispose(losses);
  const count = (from: number, n: number): number => (labels ? countLabels(labels.subarray(from * seqLen, (from + n) * seqLen)) : n * (seqLen - 1));
  const counts = x.perWindow ? values.map((_, r) => count(first + r, 1)) : [count(first, b)];
  return { values, counts };
}

function countLabels(labels: Int32Array): number {
  let n = 0;
  for (const l of labels) if (l !== IGNORE_INDEX) n++;
  return n;
}

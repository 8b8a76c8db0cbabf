import type * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../arch/load.js';
import { heldOutSplit, loadTokenizer, loadTokens, type TextTokenizer } from '../data/index.js';
import { UsageError } from '../errors.js';
import { checkTokenIds, evaluateTokens, maskTokenIdFor } from '../eval/index.js';
import type { SelectionScore } from '../train/best_operator.js';
import type { ResolvedGrowOptions } from './options.js';
import { mapGetter } from '../util/map_getter.js';

/** Held-out loss is measured three times per run; this many tokens give a stable number quickly. */
export const MAX_HELD_OUT_TOKENS = 16_384;

/**
 * Tokens at the end of the training split on which the learning phase picks its best operator
 * (--keep-best), so the held-out tokens that report the result never choose it.
 */
export const MAX_SELECTION_TOKENS = 2_048;
/** Windows per forward pass when measuring the selection tokens. */
export const SELECTION_BATCH = 8;

/** The tokens of --data, split into training, selection and (capped) held-out tokens. */
export interface RunData {
  tokens: Int32Array;
  train: Int32Array;
  /** The last whole windows of the training split (at most MAX_SELECTION_TOKENS, a quarter of it); not in `train`. */
  selection: Int32Array;
  heldOut: Int32Array;
  /** The tokenizer's mask token for masked-LM models (BERT). */
  maskTokenId?: number;
}

/** The source's tokenizer for text data (a .bin file is token ids already); it must fit the model's vocabulary. */
export async function loadSourceTokenizer(o: ResolvedGrowOptions, small: LoadedModel): Promise<TextTokenizer | undefined> {
  const tokenizer = o.data && !o.data.endsWith('.bin') ? await loadTokenizer(o.source) : undefined;
  if (tokenizer && tokenizer.vocabSize > small.dims.vocabSize) {
    throw new UsageError(`${o.source}: tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${small.dims.vocabSize}`, { file: o.source });
  }
  return tokenizer;
}

/** Reads --data (at most --max-tokens), checks the ids against the vocabulary and holds out --held-out of it. */
export async function loadRunData(o: ResolvedGrowOptions & { data: string }, small: LoadedModel, tokenizer: TextTokenizer | undefined, seqLen: number): Promise<RunData> {
  const tokens = await loadTokens({ file: o.data, tokenizer, maxTokens: o.maxTokens });
  checkTokenIds(tokens, small.dims.vocabSize, o.data);
  const split = heldOutSplit(tokens, o.heldOut, seqLen, { file: o.data });
  const limit = Math.max(seqLen, Math.floor(MAX_HELD_OUT_TOKENS / seqLen) * seqLen);
  const maskTokenId = small.dims.objective === 'masked' ? await maskTokenIdFor(o.source, small.config, tokenizer) : undefined;
  const selectionLength = Math.min(MAX_SELECTION_TOKENS, Math.floor(split.train.length / 4 / seqLen) * seqLen);
  const trainLength = split.train.length - selectionLength;
  return {
    tokens,
    train: split.train.subarray(0, trainLength),
    selection: split.train.subarray(trainLength),
    heldOut: split.heldOut.subarray(0, Math.min(split.heldOut.length, limit)),
    maskTokenId,
  };
}

/** A map of weights as the lookup forward passes take. */
export const weightGetter = (weights: ReadonlyMap<string, tf.Tensor>): ((name: string) => tf.Tensor) => mapGetter(weights);

type Evaluated = LoadedModel['dims'];
type EvalWeights = ReadonlyMap<string, tf.Tensor> | ((name: string) => tf.Tensor);

/** Loss of a model (source or grown) on the run's held-out tokens (or `tokens`), per window when asked. */
function tokenLoss(data: RunData, seqLen: number, batchSize: number, tokens: Int32Array, perWindow: boolean) {
  return (dims: Evaluated, weights: EvalWeights) =>
    evaluateTokens({ dims, weights: typeof weights === 'function' ? weights : weightGetter(weights), tokens, seqLen, batchSize, maskTokenId: data.maskTokenId, perWindow });
}

/** Held-out loss of a model (source or grown) on the run's held-out tokens (or `tokens`). */
export function heldOutLoss(data: RunData, seqLen: number, batchSize: number, tokens: Int32Array = data.heldOut) {
  const run = tokenLoss(data, seqLen, batchSize, tokens, false);
  return async (dims: Evaluated, weights: EvalWeights): Promise<number> => (await run(dims, weights)).loss;
}

/** The loss and each window's loss on `tokens`: what the learning phase's selection compares. */
export function selectionScore(data: RunData, seqLen: number, batchSize: number, tokens: Int32Array) {
  const run = tokenLoss(data, seqLen, batchSize, tokens, true);
  return async (dims: Evaluated, weights: EvalWeights): Promise<SelectionScore> => {
    const result = await run(dims, weights);
    return { loss: result.loss, windows: result.windowLosses ?? [] };
  };
}

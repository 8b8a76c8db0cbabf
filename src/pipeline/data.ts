import type * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../arch/load.js';
import { heldOutSplit, loadTokenizer, loadTokens, type TextTokenizer } from '../data/index.js';
import { UsageError } from '../errors.js';
import { checkTokenIds, evaluateTokens, maskTokenIdFor } from '../eval/index.js';
import type { ResolvedGrowOptions } from './options.js';

/** Held-out loss is measured three times per run; this many tokens give a stable number quickly. */
export const MAX_HELD_OUT_TOKENS = 16_384;

/** The tokens of --data, split into training and (capped) held-out tokens. */
export interface RunData {
  tokens: Int32Array;
  train: Int32Array;
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
  return { tokens, train: split.train, heldOut: split.heldOut.subarray(0, Math.min(split.heldOut.length, limit)), maskTokenId };
}

/** A map of weights as the lookup forward passes take. */
export const weightGetter = (weights: ReadonlyMap<string, tf.Tensor>) => (name: string): tf.Tensor => {
  const t = weights.get(name);
  if (!t) throw new Error(`no tensor "${name}"`);
  return t;
};

/** Held-out loss of a model (source or grown) on the run's held-out tokens. */
export function heldOutLoss(data: RunData, seqLen: number, batchSize: number) {
  return async (dims: LoadedModel['dims'], weights: ReadonlyMap<string, tf.Tensor>): Promise<number> =>
    (await evaluateTokens({ dims, weights: weightGetter(weights), tokens: data.heldOut, seqLen, batchSize, maskTokenId: data.maskTokenId })).loss;
}

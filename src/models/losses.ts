/**
 * Language-modeling losses with PyTorch CrossEntropyLoss semantics (mean over counted
 * positions, -100 ignored), and BERT-style masking of inputs.
 *
 * The loss has a closed-form gradient, (softmax - onehot) * weight / count, supplied through
 * tf.customGrad instead of autodiff through tf.gather: gather's gradient needs
 * UnsortedSegmentSum, which stock tfjs-backend-wasm lacks, and a one-hot product in the forward
 * pass would keep a float [N, V] mask alive until backprop. The wasm kernel quirks worked around
 * below are listed in backend/profile.ts; the workarounds are right on every backend, so there is
 * one code path, checked against Hugging Face on wasm and cpu by the golden tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../data/random.js';

/** Label value that CrossEntropyLoss (and HF's MLM collator) skips. */
export const IGNORE_INDEX = -100;

/** Largest flat index an int32 gather can address. */
const MAX_FLAT_INDEX = 2 ** 31 - 1;

/** logits[n, targets[n]] for logits [N, V], targets [N] -> [N]. Forward only (no gradient). */
function pickTargets(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  if (N * V <= MAX_FLAT_INDEX) {
    // Flat indices n*V + t, because the wasm GatherV2 kernel ignores batchDims (tfjs 4.22 gives
    // zeros for gather(x, t, 1, 1)).
    const flatIndex = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets); // [N]
    return tf.gather(tf.reshape(logits, [N * V]), flatIndex) as tf.Tensor1D;
  }
  // Too many elements for int32 indices: select by comparing column ids (costs an [N, V] mask).
  const hit = tf.equal(tf.range(0, V, 1, 'int32'), tf.reshape(targets, [N, 1])); // [N, V]
  return tf.sum(tf.where(hit, logits, tf.zerosLike(logits)), -1) as tf.Tensor1D;
}

/**
 * sum_n w_n * (logsumexp(logits_n) - logits_n[target_n]) / max(sum_n w_n, 1).
 * logits [N, V] float32, targets [N] int32 in [0, V), weights [N] float32 (1 counted, 0 ignored).
 * The max(., 1) turns a batch with no counted position into loss 0 rather than NaN
 * (PyTorch gives NaN), so one unlucky masking draw cannot poison an optimizer state.
 * Gradient flows to logits only.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  const [N, V] = logits.shape;
  const count = tf.maximum(tf.sum(weights), 1); // []
  const scaled = tf.div(weights, count); // [N]
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D; // [N, V]
    const save = args[1] as tf.GradSaveFunc;
    // Everything the gradient needs goes through save(): tf.grad runs the forward pass in its own
    // tidy, so tensors merely captured by the closure are disposed before backprop.
    save([x, targets, scaled]);
    const lse = tf.logSumExp(x, -1); // [N]
    const picked = pickTargets(x, targets); // [N]
    const value = tf.sum(tf.mul(tf.sub(lse, picked), scaled)) as tf.Scalar;
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]): tf.Tensor => {
      const [savedX, savedTargets, savedScaled] = saved;
      const probs = tf.softmax(savedX, -1); // [N, V]
      // int32 then cast: the wasm OneHot kernel writes integer bits into a float32 output.
      const oneHot = tf.cast(tf.oneHot(savedTargets as tf.Tensor1D, V), 'float32'); // [N, V]
      const rowScale = tf.reshape(tf.mul(savedScaled, dy), [N, 1]); // [N, 1]
      return tf.mul(tf.sub(probs, oneHot), rowScale); // [N, V]
    };
    return { value, gradFunc };
  });
  return op(logits);
}

/** Mean next-token cross-entropy: logits [B, T, V] at t predict ids [B, T] at t+1. */
export function causalLmLoss(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  if (T < 2) throw new Error(`causalLmLoss needs at least 2 positions, got T=${T}`);
  const N = B * (T - 1);
  const shifted = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [N, V]) as tf.Tensor2D; // [N, V]
  const targets = tf.reshape(tf.cast(tf.slice(ids, [0, 1], [B, T - 1]), 'int32'), [N]) as tf.Tensor1D; // [N]
  return crossEntropy(shifted, targets, tf.ones([N]));
}

/** Masked-LM cross-entropy: mean over positions whose label is not IGNORE_INDEX. */
export function mlmLoss(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Scalar {
  const [B, T, V] = logits.shape;
  const N = B * T;
  const flatLabels = tf.reshape(tf.cast(labels, 'int32'), [N]); // [N]
  const counted = tf.notEqual(flatLabels, IGNORE_INDEX); // [N] bool
  // Ignored rows still need a valid index for the pick; their weight 0 removes them.
  const targets = tf.where(counted, flatLabels, tf.zerosLike(flatLabels)) as tf.Tensor1D;
  return crossEntropy(tf.reshape(logits, [N, V]) as tf.Tensor2D, targets, tf.cast(counted, 'float32') as tf.Tensor1D);
}

export interface MaskTokensOptions {
  vocabSize: number;
  maskTokenId: number;
  /** Ids never selected for masking ([CLS], [SEP], [PAD], ...). */
  specialIds?: readonly number[];
  seed: number;
  /** Selection probability per position; 0.15 as in BERT. */
  prob?: number;
}

export interface MaskedBatch {
  /** int32 [B, T]: selected positions replaced by [MASK] (80%), a random id (10%) or kept (10%). */
  inputIds: tf.Tensor2D;
  /** int32 [B, T]: the original id where selected, IGNORE_INDEX elsewhere. */
  labels: tf.Tensor2D;
}



const REPLACE_WITH_MASK = 0.8;
/** Of the selected positions not turned into [MASK], half get a random id, half stay. */
const RANDOM_OF_REST = 0.5;

/**
 * HF DataCollatorForLanguageModeling masking, deterministic for a seed. Draws happen in a fixed
 * order per position (select, then mask-or-not, then random-or-keep, then the random id), so the
 * result depends only on (ids, options).
 */
export function maskTokens(ids: tf.Tensor2D, opts: MaskTokensOptions): MaskedBatch {
  const prob = opts.prob ?? 0.15;
  const special = new Set(opts.specialIds ?? []);
  const source = ids.dataSync();
  const inputs = new Int32Array(source.length);
  const labels = new Int32Array(source.length).fill(IGNORE_INDEX);
  const uniform = createRng(opts.seed);
  for (let n = 0; n < source.length; n++) {
    const id = source[n];
    inputs[n] = id;
    const selected = uniform() < prob;
    if (!selected || special.has(id)) continue;
    labels[n] = id;
    if (uniform() < REPLACE_WITH_MASK) {
      inputs[n] = opts.maskTokenId;
    } else if (uniform() < RANDOM_OF_REST) {
      inputs[n] = Math.floor(uniform() * opts.vocabSize);
    }
  }
  return { inputIds: tf.tensor2d(inputs, ids.shape, 'int32'), labels: tf.tensor2d(labels, ids.shape, 'int32') };
}

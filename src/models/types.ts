import type * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';

/**
 * Float32 weight by its canonical Hugging Face name (e.g. `transformer.h.0.attn.c_attn.weight`).
 * Implementations throw when the name is missing, so a forward pass never computes with a gap.
 */
export type Weights = (name: string) => tf.Tensor;

export interface ForwardInput {
  /** Token ids, int32 [B, T]. */
  ids: tf.Tensor2D;
  /** BERT segment ids, int32 [B, T]; zeros when absent (as Hugging Face does). */
  tokenTypeIds?: tf.Tensor2D;
}

/**
 * Logits [B, T, V] for a family. Pure tensor code: the caller wraps it in `tf.tidy`
 * (or `tf.grad`), which frees every intermediate.
 */
export type ForwardFn = (dims: ModelDims, w: Weights, input: ForwardInput) => tf.Tensor3D;

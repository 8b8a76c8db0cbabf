import type * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../arch/dims.js';

/**
 * Float32 weight by its canonical Hugging Face name (e.g. `transformer.h.0.attn.c_attn.weight`).
 * Implementations throw when the name is missing, so a forward pass never computes with a gap.
 */
export type Weights = (name: string) => tf.Tensor;

/**
 * Runs one transformer layer's `body` on x. The default (tidyLayer) frees the layer's
 * intermediates except what the gradient tape keeps; training can pass one that keeps only the
 * layer's input and recomputes the rest during backpropagation (src/train/recompute.ts), so a
 * body must depend on nothing but `w` and `x` (no tensors captured from outside the layer).
 */
export type LayerRunner = (layer: number, x: tf.Tensor, w: Weights, body: (w: Weights, x: tf.Tensor) => tf.Tensor) => tf.Tensor;

export interface ForwardInput {
  /** Token ids, int32 [B, T]. */
  ids: tf.Tensor2D;
  runLayer?: LayerRunner;
  /** BERT segment ids, int32 [B, T]; zeros when absent (as Hugging Face does). */
  tokenTypeIds?: tf.Tensor2D;
}

/**
 * Logits [B, T, V] for a family. Pure tensor code: the caller wraps it in `tf.tidy`
 * (or `tf.grad`), which frees every intermediate.
 */
export type ForwardFn = (dims: ModelDims, w: Weights, input: ForwardInput) => tf.Tensor3D;

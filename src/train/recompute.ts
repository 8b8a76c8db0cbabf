/**
 * Activation recomputation for the learning phase: each transformer layer keeps only its input
 * for backpropagation, and its intermediates (attention scores, MLP activations) are recomputed
 * layer by layer during the backward pass. Activation memory drops from every layer's
 * intermediates to one layer's plus a [B, T, C] input per layer, for about one more forward pass
 * of compute. Gradients are the same computation, so the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerRunner, Weights } from '../models/index.js';

/**
 * tf.grads inside a custom gradient, which tfjs does not support as is: the nested call replaces
 * the engine's active tape and clears it when done, so the outer backward pass would then fail
 * to release its own tape. The outer tape is put back.
 */
function nestedGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
  const outer = state.activeTape;
  try {
    return tf.grads(f)(xs, dy).map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    state.activeTape = outer;
  }
}

/** A LayerRunner that recomputes each layer in backpropagation; `layerWeights(i)` names every weight layer i reads. */
export function recomputingLayers(layerWeights: (layer: number) => readonly string[]): LayerRunner {
  return (layer, x, w, body) => {
    const names = layerWeights(layer);
    const index = new Map(names.map((n, i) => [n, i]));
    const run = (inputs: tf.Tensor[]): tf.Tensor => {
      const weights: Weights = (name) => {
        const i = index.get(name);
        // A weight read but not passed in would get no gradient: refuse rather than train wrong.
        if (i === undefined) throw new Error(`layer ${layer} read "${name}", which is not among its recomputed weights`);
        return inputs[i + 1];
      };
      return body(weights, inputs[0]);
    };
    const checkpointed = tf.customGrad(((...args: unknown[]) => {
      const save = args.pop() as tf.GradSaveFunc;
      const inputs = args as tf.Tensor[];
      save(inputs);
      return {
        value: tf.tidy(() => run(inputs)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => nestedGrads((...xs) => run(xs), saved, dy),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return checkpointed(x, ...names.map((n) => w(n)));
  };
}

import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';

/**
 * Comparisons and logic ops have zero gradient, but tfjs 4.22 registers one only for GreaterEqual,
 * so `tf.mul(tf.cast(tf.greater(w, 0), 'float32'), w)` with a trainable w throws
 * "gradient function not found for Greater" on every backend.
 */
const ZERO_GRADIENT_OPS: { kernelName: string; inputs: string[] }[] = [
  { kernelName: 'Greater', inputs: ['a', 'b'] },
  { kernelName: 'Less', inputs: ['a', 'b'] },
  { kernelName: 'LessEqual', inputs: ['a', 'b'] },
  { kernelName: 'Equal', inputs: ['a', 'b'] },
  { kernelName: 'NotEqual', inputs: ['a', 'b'] },
  { kernelName: 'LogicalAnd', inputs: ['a', 'b'] },
  { kernelName: 'LogicalOr', inputs: ['a', 'b'] },
  { kernelName: 'LogicalNot', inputs: ['x'] },
];

function zeroGradient(kernelName: string, inputs: string[]): GradConfig {
  return {
    kernelName,
    inputsToSave: inputs,
    // The tape insists on float32 gradients, so zerosLike (which keeps bool/int32) won't do.
    gradFunc: (_dy, saved) =>
      Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')])),
  };
}

/** Registers zero gradients for non-differentiable ops that lack one. Idempotent. */
export function registerMissingGradients(): string[] {
  const added: string[] = [];
  for (const { kernelName, inputs } of ZERO_GRADIENT_OPS) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient(zeroGradient(kernelName, inputs));
    added.push(kernelName);
  }
  return added;
}

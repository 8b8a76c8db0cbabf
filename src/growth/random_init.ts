import * as tf from '@tensorflow/tfjs-core';

/** Standard deviation of fresh weights, as in GPT-2, BERT and Llama's `initializer_range`. */
export const INIT_STD = 0.02;

/** Stands in for seed 0, which tfjs would ignore. */
const SEED_FOR_ZERO = 0x5eed;

/** A fresh tensor for the `random` baseline, from the template's init rule. */
export function freshTensor(init: 'normal' | 'zeros' | 'ones', shape: number[], seed: number): tf.Tensor {
  switch (init) {
    case 'ones':
      return tf.ones(shape);
    case 'zeros':
      return tf.zeros(shape);
    case 'normal':
      // tfjs takes seed 0 as "no seed" (Math.random): shift it so every seed is reproducible.
      return tf.truncatedNormal(shape, 0, INIT_STD, 'float32', seed === 0 ? SEED_FOR_ZERO : seed);
  }
}

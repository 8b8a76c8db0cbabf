import * as tf from '@tensorflow/tfjs-core';

/** Standard deviation of fresh weights, as in GPT-2, BERT and Llama's `initializer_range`. */
export const INIT_STD = 0.02;

/** Stands in for seed 0, which tfjs would ignore. */
const SEED_FOR_ZERO = 0x5eed;

/** Spaces one run seed's tensor seeds from the next run seed's (a prime, so they rarely meet). */
const TENSOR_SEED_STRIDE = 7919;

/**
 * The seed of tensor `index` (its place in the plan) of a `random` grow with run seed `seed`: the
 * one formula the in-memory grow and the streamed grow share, so both write the same tensors.
 */
export function tensorSeed(seed: number, index: number): number {
  return seed * TENSOR_SEED_STRIDE + index;
}

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

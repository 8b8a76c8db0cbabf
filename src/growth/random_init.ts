import * as tf from '@tensorflow/tfjs-core';

/** Standard deviation of fresh weights, as in GPT-2, BERT and Llama's `initializer_range`. */
export const INIT_STD = 0.02;

/** A fresh tensor for the `random` baseline, from the template's init rule. */
export function freshTensor(init: 'normal' | 'zeros' | 'ones', shape: number[], seed: number): tf.Tensor {
  switch (init) {
    case 'ones':
      return tf.ones(shape);
    case 'zeros':
      return tf.zeros(shape);
    case 'normal':
      return tf.truncatedNormal(shape, 0, INIT_STD, 'float32', seed);
  }
}

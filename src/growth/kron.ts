import * as tf from '@tensorflow/tfjs-core';

/** Kronecker product of two matrices: [a, b] x [c, d] -> [a*c, b*d], differentiable. */
export function kron(m: tf.Tensor2D, n: tf.Tensor2D): tf.Tensor2D {
  const [a, b] = m.shape;
  const [c, d] = n.shape;
  const product = tf.mul(tf.reshape(m, [a, 1, b, 1]), tf.reshape(n, [1, c, 1, d])); // [a, c, b, d]
  return tf.reshape(product, [a * c, b * d]);
}

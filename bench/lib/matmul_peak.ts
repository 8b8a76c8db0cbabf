/** The matMul rate of the active tfjs backend: square float32 products timed behind a read-back. */
import * as tf from '@tensorflow/tfjs-core';
import { median } from './report.js';

/**
 * Waits until `t` is computed. A read-back (async: webgpu has no synchronous one under Node) of one
 * element: a GPU queue runs in order, so everything before it is done too.
 */
export async function barrier(t: tf.Tensor | undefined): Promise<void> {
  if (t === undefined) return;
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1));
  await one.data();
  one.dispose();
}

export interface MatmulRate {
  /** n of the n x n x n product. */
  size: number;
  /** Milliseconds per product (median of the repeats). */
  ms: number;
  gflops: number;
}

/**
 * Each of `repeats` samples enqueues `chain` products and waits for the last: on a GPU a chain of
 * several spreads the read-back's latency (a fraction of a millisecond) over them, which one product
 * of a few milliseconds would not. One untimed product first compiles the kernel.
 */
export async function matmulPeak(sizes: readonly number[], { repeats = 5, chain = 1 } = {}): Promise<MatmulRate[]> {
  const results: MatmulRate[] = [];
  for (const n of sizes) {
    const a = tf.randomNormal([n, n]) as tf.Tensor2D;
    const b = tf.randomNormal([n, n]) as tf.Tensor2D;
    const warm = tf.matMul(a, b);
    await barrier(warm);
    warm.dispose();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      const products = Array.from({ length: chain }, () => tf.matMul(a, b));
      await barrier(products.at(-1));
      times.push((performance.now() - start) / chain);
      tf.dispose(products);
    }
    tf.dispose([a, b]);
    const ms = median(times);
    results.push({ size: n, ms, gflops: (2 * n ** 3) / (ms / 1000) / 1e9 });
  }
  return results;
}

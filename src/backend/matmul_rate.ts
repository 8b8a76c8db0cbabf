import * as tf from '@tensorflow/tfjs-core';

/** Side of the square matrices timed: large enough for a BLAS to reach its speed, about 20 ms on 2 cores. */
export const RATE_PROBE_SIZE = 1024;
/** Products timed; the fastest counts (the first pays for warm-up, and a busy machine makes some slow). */
const RATE_PROBE_REPEATS = 6;

/**
 * The active backend's float32 matrix-product rate in FLOP/s (2 n^3 per n x n product): the
 * machine's speed the learning phase's step time is estimated from, and benchmarks report
 * their achieved rate against.
 */
export async function measureMatmulRate(size: number = RATE_PROBE_SIZE, repeats: number = RATE_PROBE_REPEATS): Promise<number> {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
  let best = Number.POSITIVE_INFINITY;
  try {
    for (let i = 0; i < repeats; i++) {
      const start = performance.now();
      const c = tf.matMul(a, b);
      await c.data(); // the product is done when its values are (webgpu runs asynchronously)
      best = Math.min(best, performance.now() - start);
      c.dispose();
    }
  } finally {
    tf.dispose([a, b]);
  }
  return (2 * size ** 3) / (Math.max(best, 1e-3) / 1000);
}

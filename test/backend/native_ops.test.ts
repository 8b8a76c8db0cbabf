import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadNativeKernels } from '../../src/backend/native_kernels.js';
import { BLAS_UNAVAILABLE } from './blas_available.js';

/**
 * The blas backend's ops on tensors large enough to go to the native kernels (NATIVE_MIN_ELEMENTS),
 * against tfjs-backend-cpu's: the dispatch itself (how a broadcast collapses to the native walk,
 * the strides a transpose, slice, split or concatenation hands over), not only the kernels.
 */
const native = await loadNativeKernels({});
const skip = BLAS_UNAVAILABLE ?? ('unavailable' in native ? native.unavailable : undefined);

async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(list);
    return values;
  };
  return [await run('blas'), await run('cpu')];
}

function closeTo(a: Float32Array[], b: Float32Array[], tolerance: number): void {
  expect(a.map((t) => t.length)).toEqual(b.map((t) => t.length));
  a.forEach((t, k) => {
    let worst = 0;
    for (let i = 0; i < t.length; i++) worst = Math.max(worst, Math.abs(t[i] - b[k][i]) / Math.max(1, Math.abs(b[k][i])));
    expect(worst).toBeLessThanOrEqual(tolerance);
  });
}

const seeded = (shape: number[], seed: number) => tf.randomUniform(shape, -3, 3, 'float32', seed);

describe.skipIf(skip !== undefined)(`blas ops through the native kernels${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  it('broadcasting binary ops equal tfjs-backend-cpu: same shapes, a bias, a column, a scalar, a broadcast in the middle', async () => {
    const [x, bias, col, mid] = [seeded([300, 257], 1), tf.add(seeded([257], 2), 4), tf.add(seeded([300, 1], 3), 4), tf.add(seeded([300, 1, 257], 4), 4)];
    const ops = [tf.add, tf.sub, tf.mul, tf.div];
    const [blas, cpu] = await onBoth(() =>
      ops.flatMap((op) => [op(x, tf.add(x, 4)), op(x, bias), op(col, x), op(x, tf.scalar(2.5)), op(seeded([300, 4, 257], 5), mid)]),
    );
    closeTo(blas, cpu, 0);
  });

  it('transposes, slices, splits, pads and concatenations equal tfjs-backend-cpu', async () => {
    const x = seeded([16, 12, 8, 6], 6);
    const [blas, cpu] = await onBoth(() => [
      tf.transpose(x, [0, 2, 1, 3]),
      tf.transpose(x, [3, 1, 0, 2]),
      tf.slice(x, [2, 1, 0, 1], [12, 10, 8, 4]),
      ...tf.split(x, [2, 3, 1], 3),
      tf.pad(x, [[0, 0], [1, 2], [0, 0], [3, 0]], 0.5),
      tf.concat([x, tf.mul(x, 2), tf.add(x, 1)], 3),
      tf.concat([x, tf.mul(x, 2)], 1),
    ]);
    closeTo(blas, cpu, 0);
  });

  it('sums and means over leading, trailing and all axes equal tfjs-backend-cpu to float32 rounding', async () => {
    const x = seeded([64, 96, 40], 7);
    const [blas, cpu] = await onBoth(() => [tf.sum(x, 0), tf.sum(x, [0, 1]), tf.sum(x, 2), tf.mean(x, 1), tf.sum(x), tf.mean(x, [1, 2])]);
    closeTo(blas, cpu, 1e-6);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';

/** Runs fn on a backend and returns plain arrays, so nothing crosses backends. */
async function on<T>(backend: 'wasm' | 'cpu', fn: () => T): Promise<T> {
  await tf.setBackend(backend);
  try {
    return fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

const V = 6;
const C = 4;
const IDS = [
  [1, 3, 1],
  [5, 1, 0],
]; // [B=2, T=3], row 1 appears three times
const WEIGHTS = Array.from({ length: 2 * 3 * C }, (_, i) => Math.sin(i + 1)); // [B, T, C]

function gatherGrad(): Float32Array {
  return tf.tidy(() => {
    const table = tf.tensor2d(Array.from({ length: V * C }, (_, i) => i / 10), [V, C]);
    const ids = tf.tensor2d(IDS, [2, 3], 'int32');
    const weights = tf.tensor3d(WEIGHTS, [2, 3, C]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), weights)))(table);
    return grad.dataSync() as Float32Array;
  });
}

describe('wasm kernels', () => {
  beforeAll(async () => {
    const info = await initBackend({ backend: 'wasm' });
    expect(info.name).toBe('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  it('gather gradient on wasm is the scatter-add of dy and matches cpu', async () => {
    const wasm = await on('wasm', gatherGrad);
    const cpu = await on('cpu', gatherGrad);
    const expected = new Float32Array(V * C);
    IDS.flat().forEach((row, p) => {
      for (let c = 0; c < C; c++) expected[row * C + c] += WEIGHTS[p * C + c];
    });
    expect(maxAbsDiff(wasm, expected)).toBeLessThan(1e-6);
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-6);
    expect(Array.from(wasm.slice(2 * C, 3 * C))).toEqual([0, 0, 0, 0]); // row 2 never gathered
  });

  // Values match cpu; the dtype follows TensorFlow (x's dtype), where tfjs-backend-cpu upcasts to float32.
  it('unsortedSegmentSum drops out-of-range ids like cpu and keeps int32', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], 'int32');
        const ids = tf.tensor1d([2, -1, 2, 7], 'int32');
        const out = tf.unsortedSegmentSum(x, ids, 3);
        return { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
      });
    const wasm = await on('wasm', run);
    expect(wasm).toEqual({ shape: [3, 2], dtype: 'int32', values: [0, 0, 0, 0, 6, 8] });
    expect((await on('cpu', run)).values).toEqual(wasm.values);
  });

  it('gather along an inner axis with 2-D segment ids trains the same as cpu', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor3d(Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.cos(i)), [2, 5, 3]);
        const ids = tf.tensor2d([[4, 0], [4, 4]], [2, 2], 'int32');
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids, 1))))(x);
        return g.dataSync() as Float32Array;
      });
    expect(maxAbsDiff(await on('wasm', run), await on('cpu', run))).toBeLessThan(1e-5);
  });
});

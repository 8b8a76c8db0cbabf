import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { fusedGeluNew, fusedLayerNorm, fusedMaskedSoftmax, GELU_NEW_KERNEL, LAYER_NORM_KERNEL } from '../../src/backend/fused_ops.js';
import { causalMask } from '../../src/models/attention.js';
import { backendProfile } from '../../src/backend/profile.js';
import { tanhFloat } from '../../src/backend/js_kernels/gelu.js';
import { initBackend } from '../../src/backend/select.js';
import { geluNew, geluNewComposed, layerNorm, layerNormComposed } from '../../src/models/layers.js';
import { BLAS_UNAVAILABLE } from './blas_available.js';

/** Max |a - b| over max(|b|, 1): relative where values are large, absolute near zero. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Values that cover GELU's whole shape: the tails, the bend near 0, tiny and exact zeros. */
function inputs(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % n) / n * 24 - 12;
  x.set([0, -0, 1e-8, -1e-8, 3e-4, -3e-4, 50, -50, 7.9, -7.9]);
  return x;
}

describe('tanhFloat (the fused kernels\' tanh)', () => {
  it('equals Math.tanh to float32 accuracy', () => {
    let worst = 0;
    for (let u = -12; u <= 12; u += 1e-3) {
      const exact = Math.tanh(u);
      worst = Math.max(worst, Math.abs(tanhFloat(u) - exact) / Math.max(Math.abs(exact), 1e-30));
    }
    for (const u of [0, 1e-9, -1e-6, 3.9e-4, 4.1e-4, 100, -100, Infinity, -Infinity]) {
      expect(Math.abs(tanhFloat(u) - Math.tanh(u))).toBeLessThanOrEqual(Math.abs(Math.tanh(u)) * 3e-7);
    }
    expect(worst).toBeLessThan(3e-7);
  });
});

describe.skipIf(BLAS_UNAVAILABLE !== undefined)(`fused gelu_new on blas${BLAS_UNAVAILABLE === undefined ? '' : ` (skipped: ${BLAS_UNAVAILABLE})`}`, () => {
  const values = inputs(4099);
  const weights = inputs(4099).map((v, i) => v * ((i % 3) - 1));

  it('output and gradient equal the composition of stock ops', async () => {
    await initBackend({ backend: 'blas' });
    const x = tf.tensor2d(values, [1, values.length]);
    const w = tf.tensor2d(weights, [1, values.length]);
    const fused = fusedGeluNew(x);
    expect(fused).toBeDefined();
    const composed = geluNewComposed(x);
    expect(maxRelDiff(await (fused as tf.Tensor).data(), await composed.data())).toBeLessThan(1e-6);
    const grad = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(x);
    const before = tf.memory().numTensors;
    const gFused = grad(geluNew);
    const gComposed = grad(geluNewComposed);
    expect(maxRelDiff(await gFused.data(), await gComposed.data())).toBeLessThan(1e-6);
    tf.dispose([gFused, gComposed]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, fused as tf.Tensor, composed]);
  });

  it('LayerNorm: output and gradients (x, weight, bias) equal the composition of stock ops', async () => {
    await initBackend({ backend: 'blas' });
    const [rows, c] = [37, 96];
    const x = tf.tensor3d(inputs(rows * c).map((v, i) => v * 0.3 + (i % c) * 0.05), [1, rows, c]);
    const w = tf.tensor1d(inputs(c).map((v) => 1 + v * 0.05));
    const b = tf.tensor1d(inputs(c).map((v) => v * 0.1));
    const dyWeights = tf.tensor3d(inputs(rows * c).reverse(), [1, rows, c]);
    const fused = fusedLayerNorm(x, w, b, 1e-5);
    expect(fused).toBeDefined();
    const composed = layerNormComposed(x, w, b, 1e-5);
    expect(maxRelDiff(await (fused as tf.Tensor).data(), await composed.data())).toBeLessThan(1e-6);
    const grads = (f: typeof layerNorm) => tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(xi, wi, bi, 1e-5), dyWeights)))([x, w, b]);
    const before = tf.memory().numTensors;
    const gFused = grads(layerNorm);
    const gComposed = grads(layerNormComposed);
    for (let i = 0; i < 3; i++) {
      expect(gFused[i].shape).toEqual(gComposed[i].shape);
      // dweight and dbias sum 37 rows: relative to their size, float32 summation order differs.
      expect(maxRelDiff(await gFused[i].data(), await gComposed[i].data())).toBeLessThan(i === 0 ? 1e-6 : 2e-6);
    }
    tf.dispose([...gFused, ...gComposed]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, b, dyWeights, fused as tf.Tensor, composed]);
  });

  it("matches each backend profile's fusedOps (what the memory estimate counts)", async () => {
    const kernels = { geluNew: GELU_NEW_KERNEL, layerNorm: LAYER_NORM_KERNEL };
    for (const backend of ['blas', 'wasm', 'cpu']) {
      await initBackend({ backend });
      const registered = (Object.keys(kernels) as (keyof typeof kernels)[]).filter((op) => tf.getKernel(kernels[op], backend) !== undefined);
      expect(registered).toEqual([...backendProfile(backend).fusedOps]);
    }
  });

  it('attention softmax: softmax(scale * scores + causal mask) and its gradient equal the composition', async () => {
    await initBackend({ backend: 'blas' });
    const scores = tf.tensor4d(inputs(2 * 3 * 7 * 7), [2, 3, 7, 7]);
    const w = tf.tensor4d(inputs(2 * 3 * 7 * 7).map((v, i) => v * ((i % 5) - 2)), [2, 3, 7, 7]);
    const mask = causalMask(7, undefined);
    const composed = (t: tf.Tensor) => tf.softmax(tf.add(tf.mul(t, 0.25), mask), -1);
    const fused = (t: tf.Tensor) => fusedMaskedSoftmax(t, mask, 0.25) ?? tf.zerosLike(t);
    expect(fusedMaskedSoftmax(scores, mask, 0.25)).toBeDefined();
    expect(maxRelDiff(await fused(scores).data(), await composed(scores).data())).toBeLessThan(1e-6);
    const grad = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), w)))(scores);
    expect(maxRelDiff(await grad(fused).data(), await grad(composed).data())).toBeLessThan(1e-5);
  });

  it('is absent on the backends without a fused kernel, which compose it', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await initBackend({ backend });
      const x = tf.tensor2d([0.5, -1], [1, 2]);
      const w = tf.tensor1d([1, 1]);
      expect(fusedGeluNew(x)).toBeUndefined();
      expect(fusedLayerNorm(x, w, w, 1e-5)).toBeUndefined();
      tf.dispose([x, w]);
    }
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv1d, gelu, geluNew, layerNorm, linear, positionIds, rmsNorm, silu } from '../../src/models/layers.js';
import { applyRope, ropeInvFreq, ropeTables, rotateHalf } from '../../src/models/rope.js';
import { useBackend } from './helpers.js';

function values(f: () => tf.Tensor): number[] {
  return Array.from(tf.tidy(f).dataSync());
}

function expectClose(actual: number[], expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `index ${i}: ${a} vs ${expected[i]}`).toBeLessThan(tol));
}

describe('layers (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  it('layerNorm uses the biased variance over the last axis', () => {
    // mean 2.5, variance 1.25 -> normed [-1.3416408, -0.4472136, 0.4472136, 1.3416408]
    const out = values(() =>
      layerNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.tensor1d([1, 1, 2, 2]), tf.tensor1d([0, 0, 0, 1]), 1e-12),
    );
    expectClose(out, [-1.3416408, -0.4472136, 0.8944272, 3.6832816]);
  });

  it('rmsNorm divides by the root mean square without centering', () => {
    // mean(x^2) = 7.5, rsqrt = 0.3651484
    const out = values(() => rmsNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.tensor1d([1, 2, 1, 0.5]), 0));
    expectClose(out, [0.3651484, 1.4605935, 1.0954451, 0.7302967]);
  });

  it('gelu_new (tanh) and gelu (erf) match reference values', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 2, 3];
    expectClose(values(() => geluNew(tf.tensor1d(xs))), [
      -0.0036373921, -0.1588080094, -0.1542859902, 0, 0.3457140098, 0.8411919906, 1.9545976941, 2.9963626079,
    ]);
    expectClose(values(() => gelu(tf.tensor1d(xs))), [
      -0.0040496941, -0.1586552539, -0.1542687694, 0, 0.3457312306, 0.8413447461, 1.9544997361, 2.9959503059,
    ]);
    expectClose(values(() => silu(tf.tensor1d([0, 1, -2]))), [0, 0.7310586, -0.2384058]);
  });

  it('linear takes [out, in] weights and conv1d takes [in, out]', () => {
    const x = tf.tensor3d([[[1, 2, 3]]]); // [1, 1, 3]
    const wOutIn = tf.tensor2d([[1, 0, 0], [0, 1, 1]]); // [2, 3]
    const b = tf.tensor1d([10, 20]);
    expectClose(values(() => linear(x, wOutIn, b)), [11, 25]);
    expectClose(values(() => conv1d(x, tf.transpose(wOutIn), b)), [11, 25]);
    expect(tf.tidy(() => linear(x, wOutIn)).shape).toEqual([1, 1, 2]);
  });
});

describe('rotary embedding (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  it('inv_freq = 1 / theta^(2i / head_dim)', () => {
    expectClose(Array.from(ropeInvFreq(4, 10000)), [1, 0.01], 1e-9);
    expectClose(Array.from(ropeInvFreq(8, 500000)), [1, 500000 ** -0.25, 500000 ** -0.5, 500000 ** -0.75], 1e-7);
  });

  it('llama3 rope_scaling keeps short wavelengths, divides long ones by factor and interpolates between', () => {
    const scaling = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 256 } as const;
    const plain = Array.from(ropeInvFreq(16, 500000));
    const scaled = Array.from(ropeInvFreq(16, 500000, scaling));
    // Wavelengths 2 pi / inv: below 256 / 4 kept, above 256 / 1 divided by 8, in between smoothed.
    const smooth = (256 / ((2 * Math.PI) / plain[2]) - 1) / 3;
    const expected = plain.map((f, i) => (i < 2 ? f : i === 2 ? ((1 - smooth) * f) / 8 + smooth * f : f / 8));
    expectClose(scaled, expected, 1e-8); // float32 steps
    expectClose(Array.from(ropeInvFreq(8, 10000, { type: 'linear', factor: 4 })), Array.from(ropeInvFreq(8, 10000)).map((f) => f / 4), 1e-9);
  });

  it('rotate_half pairs element j with j + hd/2: [x1, x2] -> [-x2, x1]', () => {
    expectClose(values(() => rotateHalf(tf.tensor1d([1, 2, 3, 4]))), [-3, -4, 1, 2]);
  });

  it('rotates a 1-head 4-dim vector as computed by hand', () => {
    // Same x = [1, 2, 3, 4] at positions 0 and 1; [B=1, heads=1, T=2, hd=4].
    const out = values(() => {
      const rope = ropeTables(2, 4, 10000);
      return applyRope(tf.tensor4d([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]), rope);
    });
    const c1 = Math.cos(1);
    const s1 = Math.sin(1);
    const c2 = Math.cos(0.01);
    const s2 = Math.sin(0.01);
    expectClose(out, [
      1, 2, 3, 4, // position 0: angle 0, unchanged
      1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2,
    ]);
  });
});

describe('positionIds', () => {
  it('counts 0..T-1 and refuses sequences longer than the learned table', async () => {
    await useBackend('wasm');
    expect(values(() => positionIds(4, 8))).toEqual([0, 1, 2, 3]);
    expect(() => positionIds(9, 8)).toThrow(/exceeds the 8 learned positions/);
  });
});

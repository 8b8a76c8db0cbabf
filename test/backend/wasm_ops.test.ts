import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';

const B = 2;
const T = 4;
const C = 8;

/** Each case maps a [B, T, C] parameter to a scalar, touching ops a transformer step uses. */
const CASES: Record<string, (w: tf.Tensor) => tf.Scalar> = {
  layerNorm: (w) => {
    const mean = tf.mean(w, -1, true);
    const centered = tf.sub(w, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.sum(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-5))), tf.sin(w)));
  },
  geluErf: (w) => tf.sum(tf.mul(tf.mul(w, 0.5), tf.add(1, tf.erf(tf.div(w, Math.SQRT2))))),
  geluTanh: (w) => tf.sum(tf.tanh(tf.add(w, tf.mul(0.044715, tf.pow(w, 3))))),
  causalAttention: (w) => {
    const q = tf.reshape(w, [B, T, 2, 4]); // [B, T, H, hd]
    const qh = tf.transpose(q, [0, 2, 1, 3]); // [B, H, T, hd]
    const scores = tf.matMul(qh, qh, false, true); // [B, H, T, T]
    const pos = tf.range(0, T, 1, 'int32');
    const future = tf.less(tf.reshape(pos, [T, 1]), tf.reshape(pos, [1, T])); // [T, T]
    const masked = tf.where(tf.broadcastTo(future, scores.shape), tf.fill(scores.shape, -1e9), scores);
    const out = tf.matMul(tf.softmax(masked), qh); // [B, H, T, hd]
    return tf.sum(tf.mul(out, tf.transpose(qh, [0, 1, 2, 3])));
  },
  matMulTransposeA: (w) => tf.sum(tf.matMul(w, tf.cos(w), true, false)),
  concatSplitSlice: (w) => {
    const [a, b] = tf.split(w, 2, -1);
    const joined = tf.concat([tf.exp(a), b, a], -1);
    return tf.sum(tf.mul(tf.slice(joined, [0, 1, 2], [B, 2, 9]), 3));
  },
  logSoftmaxNll: (w) => {
    const logp = tf.logSoftmax(w); // [B, T, C]
    const targets = tf.oneHot(tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 0]], [B, T], 'int32'), C);
    return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(logp, targets), -1)));
  },
  clipSqrt: (w) => tf.sum(tf.add(tf.clipByValue(w, -0.3, 0.3), tf.sqrt(tf.add(tf.square(w), 1)))),
  comparisonMask: (w) => tf.sum(tf.mul(tf.cast(tf.greater(w, 0), 'float32'), w)),
};

function gradOf(name: string): Float32Array {
  const f = CASES[name];
  return tf.tidy(() => {
    const w = tf.tensor3d(Array.from({ length: B * T * C }, (_, i) => Math.sin(i * 1.7)), [B, T, C]);
    return tf.grad(f)(w).dataSync() as Float32Array;
  });
}

describe('training ops on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it.each(Object.keys(CASES))('%s: wasm gradient matches cpu', async (name) => {
    await tf.setBackend('wasm');
    const wasm = gradOf(name);
    await tf.setBackend('cpu');
    const cpu = gradOf(name);
    await tf.setBackend('wasm');
    let max = 0;
    for (let i = 0; i < cpu.length; i++) max = Math.max(max, Math.abs(wasm[i] - cpu[i]));
    expect(wasm.every(Number.isFinite)).toBe(true);
    expect(max).toBeLessThan(1e-4);
  });
});

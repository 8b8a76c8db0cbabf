import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';

describe('toy model on wasm', () => {
  it('embedding -> matmul -> logSoftmax NLL trains 5 steps with no tensor leak', async () => {
    const info = await initBackend({ backend: 'wasm' });
    expect(info.name).toBe('wasm');
    const [V, C, B, T] = [12, 8, 2, 5];
    const embed = tf.variable(tf.randomNormal([V, C], 0, 0.5, 'float32', 1), true, 'embed'); // [V, C]
    const head = tf.variable(tf.randomNormal([C, V], 0, 0.5, 'float32', 2), true, 'head'); // [C, V]
    const params = [embed, head];
    const moments = params.map((p) => ({ m: tf.variable(tf.zerosLike(p)), v: tf.variable(tf.zerosLike(p)) }));
    const inputs = tf.tensor2d([[1, 2, 3, 1, 2], [3, 1, 2, 3, 1]], [B, T], 'int32');
    const targets = tf.oneHot(tf.tensor2d([[2, 3, 1, 2, 3], [1, 2, 3, 1, 2]], [B, T], 'int32'), V);
    const [lr, beta1, beta2, decay, eps] = [0.05, 0.9, 0.999, 0.01, 1e-8];

    const step = (t: number): number => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const x = tf.gather(embed, inputs); // [B, T, C]
          const logits = tf.matMul(tf.reshape(x, [B * T, C]), head); // [B*T, V]
          const logp = tf.logSoftmax(logits);
          return tf.neg(tf.mean<tf.Scalar>(tf.sum(tf.mul(logp, tf.reshape(targets, [B * T, V])), -1)));
        }, params);
        params.forEach((p, i) => {
          const g = tf.clipByValue(grads[p.name], -1, 1);
          const { m, v } = moments[i];
          m.assign(tf.add(tf.mul(beta1, m), tf.mul(1 - beta1, g)));
          v.assign(tf.add(tf.mul(beta2, v), tf.mul(1 - beta2, tf.square(g))));
          const mHat = tf.div(m, 1 - beta1 ** t);
          const vHat = tf.div(v, 1 - beta2 ** t);
          const update = tf.add(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), tf.mul(decay, p));
          p.assign(tf.sub(p, tf.mul(lr, update)));
        });
        return value;
      });
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };

    const losses: number[] = [];
    const live: number[] = [];
    for (let t = 1; t <= 5; t++) {
      losses.push(step(t));
      live.push(tf.memory().numTensors);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    expect(live[4]).toBe(live[1]);
  });
});

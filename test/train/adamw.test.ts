import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { AdamW, globalNormClip } from '../../src/train/adamw.js';

/** AdamW by hand in float64 for one variable: decoupled decay, bias correction. */
function reference(p: number[], grads: number[][], lr: number, decay: number): number[] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const x = [...p];
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const update = m[i] / (1 - b1 ** t) / (Math.sqrt(v[i] / (1 - b2 ** t)) + eps);
      x[i] = x[i] * (1 - lr * decay) - lr * update;
    }
  });
  return x;
}

describe('AdamW and global-norm clipping', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('matches a float64 reference over three steps, with decoupled weight decay', async () => {
    const start = [0.5, -1, 2, 0];
    const grads = [[0.1, -0.2, 0.3, 0], [1, 1, -1, 0.5], [-0.3, 0.2, 0.1, -0.4]];
    const p = tf.variable(tf.tensor1d(start), true, 'adamw-ref');
    const opt = new AdamW([p], { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1 });
    for (const g of grads) tf.tidy(() => opt.step({ [p.name]: tf.tensor1d(g) }, 0.01));
    const got = Array.from(await p.data());
    reference(start, grads, 0.01, 0.1).forEach((want, i) => expect(got[i]).toBeCloseTo(want, 6));
    opt.dispose();
    p.dispose();
  });

  it('clips to the global norm through the update, one variable at a time, like scaling the gradients first', async () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]), true, 'clip-a');
    const b = tf.variable(tf.tensor1d([-1, 0.5]), true, 'clip-b');
    const grads = { [a.name]: tf.tensor1d([3, 0, 4]), [b.name]: tf.tensor1d([0, 12]) }; // global norm 13
    const { norm, scale } = globalNormClip(grads, 1);
    expect((await norm.data())[0]).toBeCloseTo(13, 5);
    expect((await scale?.data())?.[0]).toBeCloseTo(1 / 13, 6);
    // Adam's first step moves every entry by about lr whatever the gradient's scale, so compare with
    // an optimizer given the gradients already scaled.
    const a2 = tf.variable(tf.tensor1d([1, 2, 3]), true, 'clip-a2');
    const b2 = tf.variable(tf.tensor1d([-1, 0.5]), true, 'clip-b2');
    const opt = new AdamW([a, b]);
    const opt2 = new AdamW([a2, b2]);
    const before = tf.memory().numTensors;
    tf.tidy(() => opt.step(grads, 0.1, scale));
    tf.tidy(() => opt2.step({ [a2.name]: tf.mul(grads[a.name], 1 / 13), [b2.name]: tf.mul(grads[b.name], 1 / 13) }, 0.1));
    // A second, small gradient (norm 0.5, not clipped): how it mixes with the first step's moments
    // shows whether the first step's gradients were really scaled.
    const small = { [a.name]: tf.tensor1d([0.3, 0, 0]), [b.name]: tf.tensor1d([0, 0.4]) };
    const second = globalNormClip(small, 1);
    tf.tidy(() => opt.step(small, 0.1, second.scale));
    tf.tidy(() => opt2.step({ [a2.name]: small[a.name], [b2.name]: small[b.name] }, 0.1));
    tf.dispose([second.norm, second.scale as tf.Tensor, ...Object.values(small)]);
    expect(tf.memory().numTensors).toBe(before);
    for (const [x, y] of [[a, a2], [b, b2]] as const) {
      const [gx, gy] = [await x.data(), await y.data()];
      for (let i = 0; i < gx.length; i++) expect(gx[i]).toBeCloseTo(gy[i], 6);
    }
    const none = globalNormClip(grads, 0);
    expect(none.scale).toBeUndefined();
    tf.dispose([norm, none.norm, a, b, a2, b2, ...Object.values(grads)]);
    scale?.dispose();
    opt.dispose();
    opt2.dispose();
  });
});

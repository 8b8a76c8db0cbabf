import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { causalLmLoss, IGNORE_INDEX, maskTokens, mlmLoss } from '../../src/models/losses.js';
import { maxAbsDiff, useBackend } from './helpers.js';

/** logits [1, 3, 3]; ids [0, 2, 1]. */
const LOGITS = [0, 0, 0, 1, 2, 3, 5, -5, 0];
const IDS = [0, 2, 1];
/** ((log 3) + (logsumexp(1, 2, 3) - 2)) / 2: position 0 predicts 2, position 1 predicts 1. */
const HAND_LOSS = 1.2531091265562453;

function lossAndGrad(): { loss: number; grad: Float32Array } {
  return tf.tidy(() => {
    const ids = tf.tensor2d([IDS], [1, 3], 'int32');
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => causalLmLoss(x as tf.Tensor3D, ids))(tf.tensor3d(LOGITS, [1, 3, 3]));
    return { loss: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  });
}

/** Plain autodiff reference: logSoftmax and a one-hot product, fine at this size. */
function referenceGrad(logits: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor {
  return tf.grad((x: tf.Tensor) => {
    const [B, T, V] = x.shape;
    const lp = tf.logSoftmax(tf.slice(x, [0, 0, 0], [B, T - 1, V]));
    const onehot = tf.oneHot(tf.slice(ids, [0, 1], [B, T - 1]) as tf.Tensor2D, V, 1, 0, 'float32');
    return tf.neg(tf.mean(tf.sum(tf.mul(lp, onehot), -1)));
  })(logits);
}

describe('causalLmLoss', () => {
  it('equals the hand-computed value, with a finite gradient on wasm matching cpu', async () => {
    await useBackend('cpu');
    const cpu = lossAndGrad();
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const wasm = lossAndGrad();
    expect(tf.memory().numTensors).toBe(before);

    expect(Math.abs(wasm.loss - HAND_LOSS)).toBeLessThan(1e-6);
    expect(Math.abs(cpu.loss - HAND_LOSS)).toBeLessThan(1e-6);
    expect(wasm.grad.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(wasm.grad, cpu.grad)).toBeLessThan(1e-6);
    // The last position predicts nothing, so its logits get no gradient.
    expect(Array.from(wasm.grad.slice(6))).toEqual([0, 0, 0]);
    // Position 0: (softmax - onehot(2)) / 2 = (1/3, 1/3, -2/3) / 2.
    expect(maxAbsDiff(wasm.grad.slice(0, 3), [1 / 6, 1 / 6, -1 / 3])).toBeLessThan(1e-6);
  });

  it('gradient matches plain autodiff of logSoftmax on a random batch (cpu reference)', async () => {
    await useBackend('cpu');
    const logits = tf.randomNormal([2, 5, 7], 0, 2, 'float32', 11) as tf.Tensor3D;
    const ids = tf.randomUniform([2, 5], 0, 7, 'int32', 12) as tf.Tensor2D;
    const ref = tf.tidy(() => referenceGrad(logits, ids).dataSync());
    await useBackend('wasm');
    // Tensors made on cpu move to wasm on first use.
    const ours = tf.tidy(() => tf.grad((x: tf.Tensor) => causalLmLoss(x as tf.Tensor3D, ids))(logits).dataSync());
    expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-6);
    tf.dispose([logits, ids]);
  });
});

describe('mlmLoss', () => {
  it('averages only over labels that are not -100', async () => {
    await useBackend('wasm');
    const [only, none] = tf.tidy(() => {
      const logits = tf.tensor3d(LOGITS, [1, 3, 3]);
      // Only position 1 counts, with target 2: logsumexp(1, 2, 3) - 3.
      const one = mlmLoss(logits, tf.tensor2d([[IGNORE_INDEX, 2, IGNORE_INDEX]], [1, 3], 'int32'));
      const all = mlmLoss(logits, tf.fill([1, 3], IGNORE_INDEX, 'int32') as tf.Tensor2D);
      return [one.dataSync()[0], all.dataSync()[0]];
    });
    expect(Math.abs(only - (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3))).toBeLessThan(1e-6);
    expect(none).toBe(0);
  });
});

describe('maskTokens', () => {
  const V = 1000;
  const MASK = 3;
  const ids = (): tf.Tensor2D => tf.tensor2d(Int32Array.from({ length: 64 * 128 }, (_, i) => 10 + (i % 900)), [64, 128], 'int32');

  it('is deterministic for a seed and differs across seeds', async () => {
    await useBackend('wasm');
    const x = ids();
    const a = maskTokens(x, { vocabSize: V, maskTokenId: MASK, seed: 1 });
    const b = maskTokens(x, { vocabSize: V, maskTokenId: MASK, seed: 1 });
    const c = maskTokens(x, { vocabSize: V, maskTokenId: MASK, seed: 2 });
    expect(Array.from(a.inputIds.dataSync())).toEqual(Array.from(b.inputIds.dataSync()));
    expect(Array.from(a.labels.dataSync())).toEqual(Array.from(b.labels.dataSync()));
    expect(Array.from(a.labels.dataSync())).not.toEqual(Array.from(c.labels.dataSync()));
    tf.dispose([x, a.inputIds, a.labels, b.inputIds, b.labels, c.inputIds, c.labels]);
  });

  it('selects ~15%, then 80% [MASK] / 10% random / 10% kept; labels hold originals', async () => {
    await useBackend('wasm');
    const x = ids();
    const { inputIds, labels } = maskTokens(x, { vocabSize: V, maskTokenId: MASK, seed: 7 });
    const src = x.dataSync();
    const inp = inputIds.dataSync();
    const lab = labels.dataSync();
    let selected = 0;
    let masked = 0;
    let kept = 0;
    for (let i = 0; i < src.length; i++) {
      if (lab[i] === IGNORE_INDEX) {
        expect(inp[i]).toBe(src[i]);
        continue;
      }
      expect(lab[i]).toBe(src[i]);
      selected++;
      if (inp[i] === MASK) masked++;
      else if (inp[i] === src[i]) kept++;
    }
    const n = src.length;
    expect(Math.abs(selected / n - 0.15)).toBeLessThan(0.015);
    expect(Math.abs(masked / selected - 0.8)).toBeLessThan(0.03);
    // "kept" also catches random draws that happen to equal the original (1 in 1000).
    expect(Math.abs(kept / selected - 0.1)).toBeLessThan(0.03);
    tf.dispose([x, inputIds, labels]);
  });

  it('never selects special ids', async () => {
    await useBackend('wasm');
    const x = tf.tensor2d(Int32Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? 1 : 50)), [32, 128], 'int32');
    const { inputIds, labels } = maskTokens(x, { vocabSize: V, maskTokenId: MASK, specialIds: [1], seed: 3, prob: 0.5 });
    const src = x.dataSync();
    const lab = labels.dataSync();
    for (let i = 0; i < src.length; i++) if (src[i] === 1) expect(lab[i]).toBe(IGNORE_INDEX);
    expect(lab.some((l) => l === 50)).toBe(true);
    tf.dispose([x, inputIds, labels]);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { forward } from '../../src/models/index.js';
import { causalLmLoss, mlmLoss } from '../../src/models/losses.js';
import { loadGolden, maxAbsDiff, useBackend, weightsFrom, type GoldenCase } from './helpers.js';

/** The BERT pooler feeds no MLM logit, so it has no gradient to take. */
const UNUSED = /^bert\.pooler\./;

/**
 * Gradients of the family's loss w.r.t. every weight it uses, flattened per name. Embedding
 * lookups go through tf.gather, whose gradient runs UnsortedSegmentSum: on wasm that kernel comes
 * from src/backend (initBackend), so this also checks that registration.
 */
function lossGrads(c: GoldenCase): Map<string, Float32Array> {
  const names = [...c.weights.keys()].filter((n) => !UNUSED.test(n));
  const f = (...xs: tf.Tensor[]): tf.Scalar => {
    const map = new Map(c.weights);
    names.forEach((n, i) => map.set(n, xs[i]));
    const logits = forward(c.dims, weightsFrom(map), { ids: c.ids });
    return c.dims.family === 'bert' ? mlmLoss(logits, c.ids) : causalLmLoss(logits, c.ids);
  };
  const grads = tf.tidy(() => tf.grads(f)(names.map((n) => c.weights.get(n) as tf.Tensor)));
  const out = new Map(names.map((n, i) => [n, grads[i].dataSync() as Float32Array]));
  tf.dispose(grads);
  return out;
}

describe('gradients through whole forward passes', () => {
  for (const name of ['gpt2-prefixed', 'bert-mlm', 'qwen2-bias-f16', 'mistral-headdim']) {
    it(`${name}: finite on wasm and equal to cpu`, async () => {
      await useBackend('cpu');
      const cpuCase = await loadGolden(name);
      const cpu = lossGrads(cpuCase);
      cpuCase.dispose();
      await useBackend('wasm');
      const c = await loadGolden(name);
      const before = tf.memory().numTensors;
      const wasm = lossGrads(c);
      expect(tf.memory().numTensors).toBe(before);
      c.dispose();
      let worst = 0;
      for (const [n, g] of wasm) {
        expect(g.every(Number.isFinite), n).toBe(true);
        worst = Math.max(worst, maxAbsDiff(g, cpu.get(n) ?? new Float32Array()));
      }
      expect(worst).toBeLessThan(1e-4);
    });
  }
});

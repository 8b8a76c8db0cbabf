import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture, tensorSpecs } from '../../src/arch/index.js';
import { initBackend } from '../../src/backend/select.js';
import { freshTensor } from '../../src/growth/random_init.js';
import { recommendedSchedule } from '../../src/train/downstream.js';
import { evalSteps, toVariables, trainModel } from '../../src/train/full.js';
import { learningRate } from '../../src/train/schedule.js';

describe('full-model trainer', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('measures at step 0, every N steps and at the end', () => {
    expect(evalSteps(10, 4)).toEqual([0, 4, 8, 10]);
    expect(evalSteps(8, 4)).toEqual([0, 4, 8]);
    expect(evalSteps(0, 4)).toEqual([0]);
  });

  it('warms up linearly, decays by cosine, and the grown-model schedule only warms up longer', () => {
    const s = { lr: 1, warmup: 4, steps: 20 };
    expect([0, 1, 3].map((t) => learningRate(t, s))).toEqual([0.25, 0.5, 1]);
    expect(learningRate(19, s)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * 15) / 16)));
    expect(recommendedSchedule({ lr: 2e-3, warmup: 15, steps: 150 })).toEqual({ lr: 2e-3, warmup: 50, steps: 150 });
    expect(recommendedSchedule({ lr: 1, warmup: 80, steps: 150 }).warmup).toBe(80); // never shorter than asked
  });

  it('trains every weight, lowers the loss on a repeated batch, and keeps the tensor count flat', async () => {
    const { description, dims } = resolveArchitecture({ model_type: 'gpt2', vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2, tie_word_embeddings: true });
    const init = new Map(tensorSpecs(description, dims).map((s, i) => [s.name, freshTensor(s.template.init, s.shape, i + 1)]));
    const vars = toVariables(init);
    tf.dispose([...init.values()]);
    const ids = tf.tensor2d([Array.from({ length: 16 }, (_, t) => (t * 5) % 32), Array.from({ length: 16 }, (_, t) => (t * 3) % 32)], [2, 16], 'int32');
    const counts: number[] = [];
    const result = await trainModel({
      dims,
      weights: vars,
      nextBatch: () => tf.clone(ids),
      options: { steps: 12, lr: 1e-2, warmup: 2, weightDecay: 0, clip: 1 },
      evalEvery: 6,
      evaluate: async () => {
        counts.push(tf.memory().numTensors);
        return 0;
      },
    });
    expect(result.curve.map((p) => p.step)).toEqual([0, 6, 12]);
    expect(result.losses).toHaveLength(12);
    expect(result.losses[11]).toBeLessThan(result.losses[0] - 0.5);
    expect(new Set(counts).size).toBe(1);
    tf.dispose([ids, ...vars.values()]);
  });
});

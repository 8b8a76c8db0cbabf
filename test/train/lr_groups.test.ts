import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveArchitecture, tensorSpecs } from '../../src/arch/index.js';
import { initBackend } from '../../src/backend/select.js';
import type { NewParameters } from '../../src/growth/index.js';
import { freshTensor } from '../../src/growth/random_init.js';
import { AdamW } from '../../src/train/adamw.js';
import { toVariables, trainModel } from '../../src/train/full.js';
import { DEFAULT_SOURCE_LR_FRACTION, GroupedRates, newMask, recipeRates } from '../../src/train/lr_groups.js';
import { learningRate } from '../../src/train/schedule.js';

const BASE = { lr: 1e-2, warmup: 1, steps: 12 };

describe('per-group learning rates', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('split: new weights re-warm over the first third to the peak; inherited ones are held at the source rate, never above the new rate', () => {
    const r = recipeRates('split', BASE, 1e-3);
    // A partly new tensor's new entries train at the new rate; the bench's variant holds them with the inherited entries.
    expect(r.partlyNew).toBe('new');
    expect(recipeRates('split', BASE, 1e-3, { partlyNew: 'inherited' }).partlyNew).toBe('inherited');
    // Warmup round(12 / 3) = 4 steps: 2.5e-3, 5e-3, 7.5e-3, 1e-2, then cosine.
    expect([0, 1, 2, 3].map(r.newLr)).toEqual([2.5e-3, 5e-3, 7.5e-3, 1e-2]);
    expect(r.newLr(11)).toBeCloseTo(learningRate(11, { lr: 1e-2, warmup: 4, steps: 12 }), 12);
    expect([0, 3, 6, 11].map(r.inheritedLr)).toEqual([1e-3, 1e-3, 1e-3, 1e-3]);
    const low = recipeRates('split', BASE, 5e-3);
    expect([0, 1, 2].map(low.inheritedLr)).toEqual([2.5e-3, 5e-3, 5e-3]);
    // Unknown source rate: a tenth of the peak.
    expect(recipeRates('split', BASE).inheritedLr(5)).toBeCloseTo(BASE.lr * DEFAULT_SOURCE_LR_FRACTION, 12);
  });

  it('lemon decays to the end of its cosine by half the steps and holds there; single is one schedule for both groups', () => {
    const lemon = recipeRates('lemon', BASE);
    expect(lemon.newLr(0)).toBe(1e-2);
    expect(lemon.newLr(6)).toBeCloseTo(1e-3, 12);
    expect(lemon.newLr(11)).toBeCloseTo(1e-3, 12);
    expect(lemon.inheritedLr(3)).toBe(lemon.newLr(3));
    const single = recipeRates('single', BASE);
    for (const step of [0, 2, 5, 11]) {
      expect(single.newLr(step)).toBe(learningRate(step, { lr: 1e-2, warmup: 4, steps: 12 }));
      expect(single.inheritedLr(step)).toBe(single.newLr(step));
    }
  });

  it('a mask of new entries: any index in its axis\'s new ranges', () => {
    const mask = newMask([3, 4], [[[2, 3]], [[0, 1], [3, 4]]]);
    expect(mask.arraySync()).toEqual([
      [1, 0, 0, 1],
      [1, 0, 0, 1],
      [1, 1, 1, 1],
    ]);
    mask.dispose();
  });

  it('AdamW moves each entry of a partly new tensor by its group\'s rate at every step', () => {
    const rates = recipeRates('split', BASE, 1e-3);
    const listing: NewParameters = { newLayers: [], parameters: { total: 12, new: 6 }, tensors: { x: { status: 'partly new', shape: [3, 4], new: [[[2, 3]], [[0, 1], [3, 4]]] } } };
    const grouped = new GroupedRates(rates, listing);
    const x = tf.variable(tf.zeros([3, 4]), true, `lr_groups_x_${Date.now()}`);
    const opt = new AdamW([x], { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0 });
    const isNew = (i: number, j: number): boolean => i === 2 || j === 0 || j === 3;
    const grads = { [x.name]: tf.ones([3, 4]) };
    for (let step = 0; step < BASE.steps; step++) {
      const before = x.arraySync() as number[][];
      // A constant gradient: Adam's bias-corrected update is exactly 1 / (1 + eps), so each entry moves by its rate.
      tf.tidy(() => opt.step(grads, () => grouped.rate('x', step)));
      const after = x.arraySync() as number[][];
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 4; j++) {
          const expected = isNew(i, j) ? rates.newLr(step) : rates.inheritedLr(step);
          expect(before[i][j] - after[i][j]).toBeCloseTo(expected, 7);
        }
      }
    }
    tf.dispose([x, ...Object.values(grads)]);
    opt.dispose();
    grouped.dispose();
  });

  it('partly new tensors held with their inherited entries: the inherited rate, a new tensor the new rate, and no mask is held', () => {
    const rates = recipeRates('split', BASE, 1e-3, { partlyNew: 'inherited' });
    const listing: NewParameters = {
      newLayers: [1],
      parameters: { total: 24, new: 18 },
      tensors: { part: { status: 'partly new', shape: [3, 4], new: [[[2, 3]], [[0, 1], [3, 4]]] }, fresh: { status: 'new', shape: [3, 4] }, kept: { status: 'inherited', shape: [3, 4] } },
    };
    const before = tf.memory().numTensors;
    const grouped = new GroupedRates(rates, listing);
    expect(tf.memory().numTensors).toBe(before);
    for (const step of [0, 2, 5, 11]) {
      expect(grouped.rate('part', step)).toBe(rates.inheritedLr(step));
      expect(grouped.rate('kept', step)).toBe(rates.inheritedLr(step));
      expect(grouped.rate('fresh', step)).toBe(rates.newLr(step));
      expect(grouped.rate('unlisted', step)).toBe(rates.newLr(step));
    }
    expect(rates.newLr(5)).toBeGreaterThan(rates.inheritedLr(5));
    grouped.dispose();
  });

  it('split shapes: a geometric peak between the inherited rate and the peak, a fraction of the peak, a longer warmup', () => {
    expect(recipeRates('split', BASE, 1e-4, { newPeak: 'geometric' }).newLr(3)).toBeCloseTo(1e-3, 12); // sqrt(1e-4 * 1e-2)
    expect(recipeRates('split', BASE, 1e-4, { newPeak: 0.5 }).newLr(3)).toBeCloseTo(5e-3, 12);
    const long = recipeRates('split', BASE, 1e-4, { newWarmupFraction: 0.5 });
    expect(long.newLr(5)).toBeCloseTo(1e-2, 12); // warmup round(12 / 2) = 6 steps
    expect(long.newLr(2)).toBeCloseTo(5e-3, 12);
  });

  it('trainModel: after one step every weight moved by its group\'s rate (fresh optimizer state: nothing carried in)', async () => {
    const { description, dims } = resolveArchitecture({ model_type: 'gpt2', vocab_size: 32, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2, tie_word_embeddings: true });
    const specs = tensorSpecs(description, dims);
    const init = new Map(specs.map((s, i) => [s.name, freshTensor('normal', s.shape, i + 1)]));
    const start = new Map([...init].map(([n, t]) => [n, t.arraySync()]));
    const vars = toVariables(init);
    tf.dispose([...init.values()]);
    const tensors: NewParameters['tensors'] = {};
    for (const s of specs) tensors[s.name] = { status: 'inherited', shape: s.shape };
    tensors['transformer.wte.weight'] = { status: 'partly new', shape: [32, 16], new: [[], [[8, 16]]] };
    tensors['transformer.h.0.attn.c_attn.weight'] = { status: 'new', shape: [16, 48] };
    const listing: NewParameters = { newLayers: [], parameters: { total: 0, new: 0 }, tensors };
    const rates = { newLr: () => 1e-2, inheritedLr: () => 1e-3, partlyNew: 'new' as const };
    const ids = tf.tensor2d([Array.from({ length: 16 }, (_, t) => (t * 5) % 32)], [1, 16], 'int32');
    await trainModel({ dims, weights: vars, nextBatch: () => tf.clone(ids), options: { steps: 1, lr: 1, warmup: 0, weightDecay: 0, clip: 1 }, evalEvery: 1, evaluate: async () => 0, groups: { rates, listing } });
    const moved = (name: string): number[] => {
      const a = (start.get(name) as number[][]).flat();
      const b = (vars.get(name)?.arraySync() as number[][]).flat();
      return a.map((v, i) => Math.abs(v - b[i]));
    };
    // Adam's first step from zero moments moves an entry by lr * |g| / (|g| + eps): its rate where
    // the gradient is well above eps, less where it is tiny (attention's keys at a random start). Never more.
    const byRate = (moves: number[], lr: (k: number) => number): void => {
      expect(moves.every((d, k) => d <= lr(k) * (1 + 1e-4))).toBe(true);
      expect(Math.max(...moves.map((d, k) => d / lr(k)))).toBeGreaterThan(0.99);
    };
    const wte = moved('transformer.wte.weight');
    byRate(wte, (k) => (k % 16 >= 8 ? 1e-2 : 1e-3));
    byRate(wte.filter((_, k) => k % 16 >= 8), () => 1e-2);
    byRate(wte.filter((_, k) => k % 16 < 8), () => 1e-3);
    byRate(moved('transformer.h.0.attn.c_attn.weight'), () => 1e-2);
    byRate(moved('transformer.h.0.mlp.c_fc.weight'), () => 1e-3);
    tf.dispose([ids, ...vars.values()]);
  });
});

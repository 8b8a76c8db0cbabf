import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { GrowthOperator, isDepthParameter } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { bestPoint, learnOperator } from '../../src/train/learn.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

const TEXT = 'the quick brown fox jumps over the lazy dog. ';
const batch = (offset: number): tf.Tensor2D =>
  tf.tensor2d(Array.from({ length: 2 }, (_, b) => Array.from({ length: 12 }, (_, t) => TEXT.charCodeAt((offset + b * 7 + t) % TEXT.length))), [2, 12], 'int32');

async function values(op: GrowthOperator): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all([...op.params].map(async ([n, v]) => [n, (await v.data()) as Float32Array] as const)));
}

describe('learning-phase selection and per-part learning rates', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('the best point is the lowest loss, the earliest on ties', () => {
    expect(bestPoint([{ step: 0, loss: 2 }, { step: 5, loss: 2 }, { step: 10, loss: 2.1 }])?.step).toBe(0);
    expect(bestPoint([{ step: 0, loss: 2 }, { step: 5, loss: 1.9 }])?.step).toBe(5);
  });

  it('keeps the initial operator when learning makes held-out loss worse, and depth lr 0 freezes depth', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'gpt2-prefixed'));
    const target = resolveTarget(model.dims, { hiddenSize: 96, layers: 3 }, model.description);
    const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: model.match.optionalPresent });
    const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, random: () => 0.5 });
    const start = await values(op);
    const losses = [1, 3, 2];
    let call = 0;
    const result = await learnOperator({
      plan,
      operator: op,
      small: weightsFrom(model.weights),
      nextBatch: () => batch(call++),
      maskTokenId: 0,
      options: { steps: 4, lr: 1e-2, depthLr: 0, warmup: 0, weightDecay: 0, clip: 1, gradAccum: 1, distill: 0, seed: 0, selectEvery: 2 },
      validate: async () => losses.shift() ?? 9,
    });
    expect(result.selection.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(result.keptStep).toBe(0);
    const end = await values(op);
    for (const [name, v] of start) expect(Array.from(end.get(name) ?? [])).toEqual(Array.from(v));
    op.dispose();

    // Without selection the width matrices move and the depth coefficients (lr 0) do not.
    const free = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, random: () => 0.5 });
    await learnOperator({
      plan,
      operator: free,
      small: weightsFrom(model.weights),
      nextBatch: () => batch(call++),
      maskTokenId: 0,
      options: { steps: 2, lr: 1e-2, depthLr: 0, warmup: 0, weightDecay: 0, clip: 1, gradAccum: 1, distill: 0, seed: 0 },
    });
    const moved = await values(free);
    const unchanged = (name: string, v: Float32Array): boolean => Array.from(moved.get(name) ?? []).every((x, i) => x === v[i]);
    const parts = [...start].map(([name, v]) => ({ depth: isDepthParameter(name), same: unchanged(name, v) }));
    expect(parts.filter((p) => p.depth).every((p) => p.same)).toBe(true);
    expect(parts.filter((p) => !p.depth).some((p) => !p.same)).toBe(true);
    free.dispose();
    model.dispose();
  });
});

import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { operatorParameter } from '../../src/growth/layout.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { clearGain, learnOperator, pairedGain, SELECTION_CONFIDENCE, type SelectionScore } from '../../src/train/learn.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

const TEXT = 'the quick brown fox jumps over the lazy dog. ';
const batch = (offset: number): tf.Tensor2D =>
  tf.tensor2d(Array.from({ length: 2 }, (_, b) => Array.from({ length: 12 }, (_, t) => TEXT.charCodeAt((offset + b * 7 + t) % TEXT.length))), [2, 12], 'int32');

async function values(op: GrowthOperator): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all([...op.params].map(async ([n, v]) => [n, (await v.data()) as Float32Array] as const)));
}

/** A selection score whose windows all have the same loss. */
const flat = (loss: number): SelectionScore => ({ loss, windows: [loss, loss, loss, loss] });
const score = (windows: number[]): SelectionScore => ({ loss: windows.reduce((a, b) => a + b, 0) / windows.length, windows });

async function ligoSetup() {
  const model = await loadModel(path.join(GOLDEN_DIR, 'gpt2-prefixed'));
  const target = resolveTarget(model.dims, { hiddenSize: 96, layers: 3 }, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: model.match.optionalPresent });
  const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, random: () => 0.5 });
  return { model, plan, op };
}

/** Four learning steps measured every two, as --keep-best measures them, with scripted selection scores. */
async function learnFour(setup: Awaited<ReturnType<typeof ligoSetup>>, depthLr: number, validate: () => Promise<SelectionScore>, startScore?: () => Promise<SelectionScore>) {
  let call = 0;
  return learnOperator({
    plan: setup.plan,
    operator: setup.op,
    small: weightsFrom(setup.model.weights),
    nextBatch: () => batch(call++),
    maskTokenId: 0,
    options: { steps: 4, lr: 1e-2, depthLr, warmup: 0, weightDecay: 0, clip: 1, gradAccum: 1, distill: 0, seed: 0, selectEvery: 2 },
    validate,
    startScore,
  });
}

describe('learning-phase selection and per-part learning rates', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('measures the gain over the start window by window, with its standard error', () => {
    // differences 0.1, 0.2, 0: mean 0.1, sample variance 0.01, standard error sqrt(0.01 / 3)
    const g = pairedGain([1, 2, 3], [0.9, 1.8, 3]);
    expect(g.mean).toBeCloseTo(0.1, 12);
    expect(g.se).toBeCloseTo(Math.sqrt(0.01 / 3), 12);
    // 0.1 is 1.73 standard errors: not clear at SELECTION_CONFIDENCE 2.
    expect(SELECTION_CONFIDENCE).toBe(2);
    expect(clearGain(g)).toBe(false);
    // differences 0.1, 0.15, 0.1, 0.12: mean 0.1175, standard error 0.0118, so clear.
    expect(clearGain(pairedGain([1, 2, 3, 4], [0.9, 1.85, 2.9, 3.88]))).toBe(true);
    expect(clearGain(pairedGain([1, 1, 1], [0.5, 1.4, 0.9]))).toBe(false);
    // One window or none: no spread to judge by, so never clear.
    expect(clearGain(pairedGain([2], [1]))).toBe(false);
    expect(clearGain(pairedGain([], []))).toBe(false);
    expect(clearGain(pairedGain([1, 1], [1.1, 1.1]))).toBe(false);
    expect(() => pairedGain([1, 2], [1])).toThrow(/2 windows with 1/);
  });

  it('keeps a learned operator only when its gain over the start is clear of the windows\' noise', async () => {
    const run = async (scores: SelectionScore[]): Promise<number> => {
      const setup = await ligoSetup();
      const result = await learnFour(setup, 1e-2, async () => scores.shift() ?? flat(9));
      setup.op.dispose();
      setup.model.dispose();
      return result.keptStep;
    };
    const start = [2, 2.5, 1.5, 3];
    // Lower on average (by 0.05) but worse on half the windows: noise, so the start stays.
    expect(await run([score(start), score([1.6, 2.9, 1.1, 3.2]), flat(9)])).toBe(0);
    // Lower by 0.05 on every window: kept; a later, lower but noisy point does not displace it.
    expect(await run([score(start), score(start.map((x) => x - 0.05)), score([1.5, 2.9, 1.2, 2.9])])).toBe(2);
    // Both clear: the lower wins.
    expect(await run([score(start), score(start.map((x) => x - 0.05)), score(start.map((x) => x - 0.07))])).toBe(4);
  });

  it('keeps the initial operator when learning makes held-out loss worse, and depth lr 0 freezes depth', async () => {
    const setup = await ligoSetup();
    const { model, plan, op } = setup;
    const start = await values(op);
    const losses = [1, 3, 2];
    const result = await learnFour(setup, 0, async () => flat(losses.shift() ?? 9));
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
      nextBatch: () => batch(7),
      maskTokenId: 0,
      options: { steps: 2, lr: 1e-2, depthLr: 0, warmup: 0, weightDecay: 0, clip: 1, gradAccum: 1, distill: 0, seed: 0 },
    });
    const moved = await values(free);
    const unchanged = (name: string, v: Float32Array): boolean => Array.from(moved.get(name) ?? []).every((x, i) => x === v[i]);
    const parts = [...start].map(([name, v]) => ({ depth: operatorParameter(plan, name)?.role === 'depth', same: unchanged(name, v) }));
    expect(parts.filter((p) => p.depth).every((p) => p.same)).toBe(true);
    expect(parts.filter((p) => !p.depth).some((p) => !p.same)).toBe(true);
    free.dispose();
    model.dispose();
  });

  it('a phase whose loss stops being finite stops there and keeps the best operator measured before it', async () => {
    const setup = await ligoSetup();
    const start = await values(setup.op);
    let call = 0;
    const result = await learnOperator({
      plan: setup.plan,
      operator: setup.op,
      small: weightsFrom(setup.model.weights),
      nextBatch: () => batch(call++),
      maskTokenId: 0,
      // No clipping and an absurd rate: the first update overflows the operator, so step 2's loss is not finite.
      options: { steps: 6, lr: 1e30, depthLr: 1e30, warmup: 0, weightDecay: 0, clip: 0, gradAccum: 1, distill: 0, seed: 0, selectEvery: 2 },
      validate: async () => flat(1),
    });
    expect(result.divergedAt).toBeDefined();
    expect(result.divergedAt).toBeLessThan(6);
    expect(result.keptStep).toBe(0);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    const end = await values(setup.op);
    for (const [name, v] of start) expect(Array.from(end.get(name) ?? [])).toEqual(Array.from(v));
    setup.op.dispose();
    setup.model.dispose();
  });

  it('without --keep-best a non-finite loss is an error naming --lr', async () => {
    const setup = await ligoSetup();
    await expect(
      learnOperator({
        plan: setup.plan,
        operator: setup.op,
        small: weightsFrom(setup.model.weights),
        nextBatch: () => batch(0),
        maskTokenId: 0,
        options: { steps: 4, lr: 1e30, depthLr: 1e30, warmup: 0, weightDecay: 0, clip: 0, gradAccum: 1, distill: 0, seed: 0 },
      }),
    ).rejects.toThrow(/--lr/);
    setup.op.dispose();
    setup.model.dispose();
  });

  it('--heads-lr 0 freezes the attention operators\' head mixing and head_dim factors, and nothing else', async () => {
    const setup = await ligoSetup();
    const start = await values(setup.op);
    await learnOperator({
      plan: setup.plan,
      operator: setup.op,
      small: weightsFrom(setup.model.weights),
      nextBatch: () => batch(3),
      maskTokenId: 0,
      options: { steps: 2, lr: 1e-2, depthLr: 1e-2, headsLr: 0, warmup: 0, weightDecay: 0, clip: 1, gradAccum: 1, distill: 0, seed: 0 },
    });
    const moved = await values(setup.op);
    const heads = (name: string): boolean => {
      const p = operatorParameter(setup.plan, name);
      return p !== undefined && setup.plan.width.some((w) => w.id === p.operator && w.heads !== undefined);
    };
    const same = (name: string, v: Float32Array): boolean => Array.from(moved.get(name) ?? []).every((x, i) => x === v[i]);
    const parts = [...start].map(([name, v]) => ({ heads: heads(name), same: same(name, v) }));
    expect(parts.some((p) => p.heads)).toBe(true);
    expect(parts.filter((p) => p.heads).every((p) => p.same)).toBe(true);
    expect(parts.filter((p) => !p.heads).some((p) => !p.same)).toBe(true);
    setup.op.dispose();
    setup.model.dispose();
  });

  it("scores the start with startScore where given (the source's score, no grown model built) and later steps against it", async () => {
    const setup = await ligoSetup();
    const grownScores: number[] = [];
    const start = [2, 2.5, 1.5, 3];
    const validate = async () => {
      grownScores.push(grownScores.length);
      // every window 0.1 lower than the start's: a clear gain at step 2, none better after
      return grownScores.length === 1 ? score(start.map((w) => w - 0.1)) : flat(9);
    };
    const result = await learnFour(setup, 1e-2, validate, async () => score(start));
    // The grown model is scored at steps 2 and 4 only; step 0 came from startScore.
    expect(grownScores).toHaveLength(2);
    expect(result.selection.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(result.selection[0].loss).toBeCloseTo(2.25, 12);
    expect(result.selection[1].gain?.mean).toBeCloseTo(0.1, 12);
    expect(result.keptStep).toBe(2);
    setup.op.dispose();
    setup.model.dispose();
  });
});

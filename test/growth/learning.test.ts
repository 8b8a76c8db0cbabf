import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { causalLmLoss, forward } from '../../src/models/index.js';
import { learnOperator } from '../../src/train/learn.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

const TEXT = 'the quick brown fox jumps over the lazy dog. ';
const ids = (batch: number, seqLen: number, offset: number): number[][] =>
  Array.from({ length: batch }, (_, b) => Array.from({ length: seqLen }, (_, t) => TEXT.charCodeAt((offset + b * 7 + t) % TEXT.length)));

async function setup(name: string, target: TargetOptions): Promise<{ model: LoadedModel; plan: GrowthPlan; op: GrowthOperator }> {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent });
  let state = 1;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 1e-2, random });
  return { model, plan, op };
}

describe('the LiGO operator is trainable', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('autodiff gradients of the loss w.r.t. operator entries match central finite differences', async () => {
    const { model, plan, op } = await setup('llama-gqa-untied', { hiddenSize: 128, layers: 3 });
    const batch = tf.tensor2d(ids(2, 12, 0), [2, 12], 'int32');
    const small = weightsFrom(model.weights);
    const loss = (): tf.Scalar => {
      const large = materializeAll(plan.tensors, small, op);
      return causalLmLoss(forward(plan.target, weightsFrom(large), { ids: batch }), batch);
    };
    const { grads } = tf.variableGrads(loss, op.variables);
    // One entry from each kind of operator: residual, attention heads, FFN, depth.
    const probes: [string, number][] = [['width.out', 5], ['q.1.out', 3], ['ffn.2.in', 17], ['depth.attn', 2], ['depth.mlp', 4]];
    const eps = 1e-2;
    for (const [name, index] of probes) {
      const variable = op.params.get(name);
      if (!variable) throw new Error(name);
      const original = (await variable.data()) as Float32Array;
      const at = async (delta: number): Promise<number> => {
        const shifted = original.slice();
        shifted[index] += delta;
        variable.assign(tf.tensor(shifted, variable.shape));
        const value = tf.tidy(loss);
        const v = (await value.data())[0];
        value.dispose();
        return v;
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      variable.assign(tf.tensor(original, variable.shape));
      const analytic = (await grads[variable.name].data())[index];
      console.log(`d loss / d ${name}[${index}]: autodiff ${analytic.toExponential(3)}, finite difference ${numeric.toExponential(3)}`);
      expect(Math.abs(analytic - numeric)).toBeLessThan(0.03 * Math.abs(numeric) + 2e-4);
    }
    tf.dispose([batch, ...Object.values(grads)]);
    op.dispose();
    model.dispose();
  });

  it('a short learning phase lowers the loss and leaks no tensors', async () => {
    const { model, plan, op } = await setup('gpt2-prefixed', { hiddenSize: 96, layers: 3 });
    let call = 0;
    const counts: number[] = [];
    const result = await learnOperator({
      plan,
      operator: op,
      small: weightsFrom(model.weights),
      nextBatch: () => tf.tensor2d(ids(2, 24, call++ * 5), [2, 24], 'int32'),
      maskTokenId: 0,
      options: { steps: 12, lr: 1e-2, warmup: 2, weightDecay: 0, clip: 1, gradAccum: 2, distill: 0.5, seed: 0 },
      onStep: () => counts.push(tf.memory().numTensors),
    });
    expect(result.losses).toHaveLength(12);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(result.losses.slice(-3))).toBeLessThan(mean(result.losses.slice(0, 3)));
    // Optimizer state is created up front, so the live tensor count is flat from the first step on.
    expect(new Set(counts).size).toBe(1);
    op.dispose();
    model.dispose();
  });

  it('gradient accumulation over two micro-batches equals one step on both batches at once', async () => {
    const run = async (gradAccum: number, batchSize: number): Promise<{ loss: number; gradNorm: number }> => {
      const { model, plan, op } = await setup('gpt2-prefixed', { hiddenSize: 96, layers: 3 });
      const rows = ids(2, 16, 3);
      let call = 0;
      let seen = { loss: NaN, gradNorm: NaN };
      await learnOperator({
        plan,
        operator: op,
        small: weightsFrom(model.weights),
        nextBatch: () => tf.tensor2d(batchSize === 2 ? rows : [rows[call++]], [batchSize, 16], 'int32'),
        maskTokenId: 0,
        options: { steps: 1, lr: 1e-3, warmup: 0, weightDecay: 0, clip: 0, gradAccum, distill: 0, seed: 0 },
        onStep: (e) => (seen = { loss: e.loss, gradNorm: e.gradNorm }),
      });
      op.dispose();
      model.dispose();
      return seen;
    };
    const whole = await run(1, 2);
    const accumulated = await run(2, 1);
    expect(accumulated.loss).toBeCloseTo(whole.loss, 5);
    expect(Math.abs(accumulated.gradNorm - whole.gradNorm) / whole.gradNorm).toBeLessThan(1e-4);
    expect(whole.gradNorm).toBeGreaterThan(0);
  });

  it('an operator and a learning run leave no tensors behind once disposed', async () => {
    const before = tf.memory().numTensors;
    const { model, plan, op } = await setup('llama-gqa-untied', { hiddenSize: 128, layers: 3 });
    await learnOperator({
      plan,
      operator: op,
      small: weightsFrom(model.weights),
      nextBatch: () => tf.tensor2d(ids(2, 12, 0), [2, 12], 'int32'),
      maskTokenId: 0,
      options: { steps: 2, lr: 1e-3, warmup: 0, weightDecay: 0.1, clip: 1, gradAccum: 1, distill: 0, seed: 0 },
    });
    op.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { forward } from '../../src/models/index.js';
import { causalLmLoss } from '../../src/models/losses.js';
import { GOLDEN_DIR, maxAbsDiff, weightsFrom } from '../models/helpers.js';
import { logitsBeforeAndAfter } from './preservation_helpers.js';

/** Float32 through the scaled norms and a few more matmuls: the integer-width cases' bar. */
const EXACT_TOLERANCE = 1e-5;

describe('the exact start keeps the function at non-integer widths', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it.each([
    ['gpt2-prefixed', { hiddenSize: 72, layers: 3 }],
    ['gpt2-prefixed', { hiddenSize: 60 }],
    ['gpt2-prefixed', { hiddenSize: 120, layers: 4 }],
    ['gpt2-bare-bf16', { hiddenSize: 48 }],
    ['gpt-neox-pythia', { hiddenSize: 96, layers: 3 }],
    ['gpt-neox-pythia', { hiddenSize: 80 }],
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }],
    ['llama-gqa-untied', { hiddenSize: 160 }],
    ['mistral-headdim', { hiddenSize: 96, layers: 3 }],
    ['llama3-rope-scaling', { hiddenSize: 96, layers: 4 }],
    ['qwen2-bias-f16', { hiddenSize: 80, layers: 3 }],
    ['qwen3-qknorm', { hiddenSize: 96, layers: 3 }],
    ['phi3-fused', { hiddenSize: 96, layers: 3 }],
    ['gemma-scaled', { hiddenSize: 64, layers: 3 }],
    ['gemma-scaled', { hiddenSize: 72 }],
  ] as const)('%s grown to %o', async (name, target) => {
    for (const split of ['first', 'even'] as const) {
      const exact = await logitsBeforeAndAfter(name, target, { method: 'ligo', start: 'exact', split });
      const copy = await logitsBeforeAndAfter(name, target, { method: 'ligo', start: 'copy', split });
      console.log(`${name} -> ${JSON.stringify(target)} ${split}: exact ${maxAbsDiff(exact.grown, exact.small).toExponential(2)}, copy ${maxAbsDiff(copy.grown, copy.small).toExponential(2)}`);
      expect(exact.plan.start?.exact).toBe(true);
      expect(maxAbsDiff(exact.grown, exact.small)).toBeLessThan(EXACT_TOLERANCE);
    }
  });
});

describe('the exact start keeps the function when head_dim grows by an integer factor', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it.each([
    ['gpt2-prefixed', { hiddenSize: 96, heads: 4 }], // head_dim 12 -> 24
    ['gpt2-prefixed', { hiddenSize: 144, heads: 4, layers: 3 }], // 12 -> 36, depth too
    ['gpt-neox-pythia', { hiddenSize: 128, heads: 4 }], // partial rotary: 4 of 16 -> 8 of 32
    ['llama-gqa-untied', { hiddenSize: 128, heads: 4, kvHeads: 2, headDim: 32, layers: 3 }], // RoPE pairs 8 -> 16
    ['mistral-headdim', { headDim: 48, heads: 4, kvHeads: 2 }], // explicit head_dim, width kept
    ['llama3-rope-scaling', { hiddenSize: 96, headDim: 32, heads: 4, kvHeads: 2 }], // llama3 frequency scaling, non-integer width too
    ['gemma-scaled', { headDim: 32, heads: 4, kvHeads: 1, layers: 3 }],
    ['phi3-fused', { hiddenSize: 128, heads: 4, kvHeads: 2, headDim: 32 }],
    ['qwen2-bias-f16', { hiddenSize: 128, heads: 4, kvHeads: 1, headDim: 32 }], // q/k biases scale with them
  ] as const)('%s grown to %o', async (name, target) => {
    const exact = await logitsBeforeAndAfter(name, target, { method: 'ligo', start: 'exact', split: 'first' });
    const copy = await logitsBeforeAndAfter(name, target, { method: 'ligo', start: 'copy', split: 'first' });
    const [e, c] = [maxAbsDiff(exact.grown, exact.small), maxAbsDiff(copy.grown, copy.small)];
    console.log(`${name} -> ${JSON.stringify(target)}: head_dim ${exact.plan.source.headDim} -> ${exact.plan.target.headDim}, exact ${e.toExponential(2)}, copy ${c.toExponential(2)}`);
    expect(exact.plan.target.headDim % exact.plan.source.headDim).toBe(0);
    expect(exact.plan.start?.headDim?.factor).toBe(exact.plan.target.headDim / exact.plan.source.headDim);
    expect(exact.plan.start?.exact).toBe(true);
    expect(e).toBeLessThan(EXACT_TOLERANCE);
    // The copy start changes every attention score: what the exact start repairs.
    expect(copy.plan.start?.exact).toBe(false);
    expect(c).toBeGreaterThan(100 * EXACT_TOLERANCE);
  });

  it('says why where it cannot: a non-multiple, and a per-head query/key norm', async () => {
    const odd = await logitsBeforeAndAfter('mistral-headdim', { headDim: 32, heads: 4, kvHeads: 2 }, { method: 'ligo', start: 'exact', split: 'first' });
    expect(odd.plan.start?.exact).toBe(false);
    expect(odd.plan.start?.notes.join('; ')).toMatch(/head_dim 24 -> 32: .*32 is not a multiple of 24/);
    const qk = await logitsBeforeAndAfter('qwen3-qknorm', { headDim: 48, heads: 4, kvHeads: 2 }, { method: 'ligo', start: 'exact', split: 'first' });
    expect(qk.plan.start?.notes.join('; ')).toMatch(/per-head query\/key norm/);
  });
});

/** Gradients of the causal LM loss w.r.t. every grown tensor, at the exact start. */
async function gradientsAtStart(name: string, target: TargetOptions): Promise<{ plan: GrowthPlan; grads: Map<string, Float32Array>; values: Map<string, Float32Array> }> {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const plan = planGrowth({
    description: model.description,
    source: model.dims,
    target: resolveTarget(model.dims, target, model.description),
    method: 'ligo',
    optionalPresent: model.match.optionalPresent,
  });
  const operator = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, random: Math.random, split: 'first' });
  const grown = materializeAll(plan.tensors, weightsFrom(model.weights), operator);
  const names = [...grown.keys()];
  const ids = tf.tensor2d([[1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 10, 200, 255]], [1, 16], 'int32');
  const loss = (...xs: tf.Tensor[]): tf.Scalar => causalLmLoss(forward(plan.target, weightsFrom(new Map(names.map((n, i) => [n, xs[i]]))), { ids }), ids);
  const g = tf.tidy(() => tf.grads(loss)(names.map((n) => grown.get(n) as tf.Tensor)));
  const grads = new Map(names.map((n, i) => [n, g[i].dataSync() as Float32Array]));
  const values = new Map(names.map((n) => [n, (grown.get(n) as tf.Tensor).dataSync() as Float32Array]));
  tf.dispose([...g, ids, ...grown.values()]);
  operator.dispose();
  model.dispose();
  return { plan, grads, values };
}

/** Entries of a row-major tensor whose index along `axis` is at least `from`. */
function sliceFrom(data: Float32Array, shape: number[], axis: number, from: number): number[] {
  const cols = shape.length === 2 ? shape[1] : shape[0];
  return [...data].filter((_, i) => (shape.length === 1 || axis === 1 ? i % cols : Math.floor(i / cols)) >= from);
}

describe('the filled residual dims train from the first step', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // Producers of the filled dims (embeddings, output projections, LayerNorm biases) get gradients;
  // their readers (the consuming side) start nonzero, which is what carries those gradients.
  it.each([
    ['gpt2-prefixed', { hiddenSize: 72 }],
    ['llama-gqa-untied', { hiddenSize: 96 }],
  ] as const)('%s grown to %o', async (name, target) => {
    const { plan, grads, values } = await gradientsAtStart(name, target);
    const whole = (plan.start?.residual?.copies ?? 0) * plan.source.hiddenSize;
    expect(whole).toBe(plan.source.hiddenSize);
    let producers = 0;
    let readers = 0;
    for (const t of plan.tensors) {
      t.axes.forEach((segments, axis) => {
        const seg = segments.find((s) => s.operator === 'width' || s.operator === 'width.bias');
        if (!seg || segments.length > 1) return;
        if (seg.side === 'out') {
          producers++;
          expect(Math.max(...sliceFrom(grads.get(t.name) ?? new Float32Array(), t.shape, axis, whole).map(Math.abs)), `${t.name} gradient`).toBeGreaterThan(0);
        } else if (seg.operator === 'width') {
          readers++;
          expect(Math.max(...sliceFrom(values.get(t.name) ?? new Float32Array(), t.shape, axis, whole).map(Math.abs)), `${t.name} value`).toBeGreaterThan(0);
        }
      });
    }
    expect(producers).toBeGreaterThan(2);
    expect(readers).toBeGreaterThan(2);
  });
});

describe('what the plan says about its start', () => {
  it('ligo starts exact, the fixed methods copy; either says what keeps it from exact', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'llama-gqa-untied'));
    const plan = (method: 'ligo' | 'net2net' | 'stack', target: TargetOptions): GrowthPlan =>
      planGrowth({ description: model.description, source: model.dims, target: resolveTarget(model.dims, target, model.description), method, optionalPresent: model.match.optionalPresent });
    try {
      expect(plan('ligo', { hiddenSize: 96 }).start).toMatchObject({ rule: 'exact', exact: true, residual: { copies: 1, fill: 'zero' } });
      expect(plan('ligo', { hiddenSize: 96 }).target.normEps).toBeCloseTo(1e-6 * (64 / 96), 15);
      // Integer factors: the exact start is the copy start (no operators of its own, the epsilon kept).
      const twice = plan('ligo', { hiddenSize: 128 });
      expect(twice.start?.residual).toBeUndefined();
      expect(twice.width.map((w) => w.id)).not.toContain('width.gain');
      expect(twice.target.normEps).toBe(1e-6);
      expect(plan('net2net', { hiddenSize: 96 }).start?.rule).toBe('copy');
      expect(plan('stack', { layers: 3 }).start?.notes).toEqual(['stack repeats layers as plain copies, which add to the residual stream again']);
      // Key/value groups of another size: a copied query head would read another key/value head.
      const regrouped = plan('ligo', { hiddenSize: 128, kvHeads: 8 });
      expect(regrouped.start?.exact).toBe(false);
      expect(regrouped.start?.notes[0]).toMatch(/4 -> 8 query heads over 2 -> 8 key\/value heads/);
    } finally {
      model.dispose();
    }
    const { small, grown } = await logitsBeforeAndAfter('llama-gqa-untied', { hiddenSize: 128, kvHeads: 8 });
    expect(maxAbsDiff(grown, small)).toBeGreaterThan(1e-3);
  });
});

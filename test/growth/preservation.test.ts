import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { methodRecipe } from '../../src/growth/methods.js';
import { forward } from '../../src/models/index.js';
import { GOLDEN_DIR, maxAbsDiff, weightsFrom } from '../models/helpers.js';

/** float32 through a few more matmuls than the source: a little more rounding, nothing more. */
const TOLERANCE = 2e-4;

async function logitsBeforeAndAfter(
  name: string,
  target: TargetOptions,
  { plainCopies = false } = {},
): Promise<{ small: Float32Array; grown: Float32Array; shape: number[] }> {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'net2net', optionalPresent: model.match.optionalPresent });
  // The control: stored values grown as they are, as if the forward pass used them unchanged.
  if (plainCopies) for (const t of plan.tensors) delete t.transform;
  const recipe = methodRecipe('net2net', model.description, 'stack');
  const operator = GrowthOperator.initialize(plan, { depth: recipe.depth ?? { pattern: 'stack', preserve: true }, noise: 0, random: Math.random });
  const ids = tf.tensor2d([[1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 10, 200, 255]], [1, 16], 'int32');
  try {
    const grown = materializeAll(plan.tensors, weightsFrom(model.weights), operator);
    for (const t of plan.tensors) expect(grown.get(t.name)?.shape).toEqual(t.shape);
    const small = tf.tidy(() => forward(model.dims, weightsFrom(model.weights), { ids }));
    const large = tf.tidy(() => forward(dims, weightsFrom(grown), { ids }));
    const result = { small: (await small.data()) as Float32Array, grown: (await large.data()) as Float32Array, shape: large.shape };
    tf.dispose([small, large, ...grown.values()]);
    return result;
  } finally {
    ids.dispose();
    operator.dispose();
    model.dispose();
  }
}

describe('net2net growth preserves the function where it can be exact', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // Untied heads + integer width multiples + heads and KV heads scaled together: exact.
  it.each([
    ['llama-gqa-untied', { hiddenSize: 128, layers: 4 }],
    ['mistral-headdim', { hiddenSize: 128, layers: 3 }],
    ['llama-gqa-untied', { hiddenSize: 192, intermediateSize: 288 }],
  ] as const)('%s grown to %o', async (name, target) => {
    const { small, grown } = await logitsBeforeAndAfter(name, target);
    const diff = maxAbsDiff(grown, small);
    console.log(`net2net ${name} -> ${JSON.stringify(target)}: max |logit diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  // Tied embeddings: depth growth (zero layers in a pre-norm stack) is exact.
  it.each([
    ['gpt2-prefixed', { layers: 5 }],
    ['qwen2-bias-f16', { layers: 3 }],
  ] as const)('%s grown in depth to %o', async (name, target) => {
    const { small, grown } = await logitsBeforeAndAfter(name, target);
    expect(maxAbsDiff(grown, small)).toBeLessThan(TOLERANCE);
  });

  // 2x width and 2x depth, tied heads: Llama 3 RoPE scaling (frequencies kept with head_dim),
  // Qwen3's per-head q/k norms (head_dim kept, so their gains are kept), Gemma's 1 + w gains and
  // sqrt(hidden) embedding scale (the embedding copy is divided by sqrt(2), the split final norm
  // gain multiplied by it).
  it.each([
    ['llama3-rope-scaling', { hiddenSize: 128, layers: 4 }],
    ['qwen3-qknorm', { hiddenSize: 128, layers: 4 }],
    ['gemma-scaled', { hiddenSize: 96, layers: 4 }],
  ] as const)('%s grown 2x in width and depth to %o', async (name, target) => {
    const { small, grown } = await logitsBeforeAndAfter(name, target);
    const diff = maxAbsDiff(grown, small);
    console.log(`net2net ${name} -> ${JSON.stringify(target)}: max |logit diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('gemma: growing the stored w and the unscaled embedding instead would not preserve the function', async () => {
    const { small, grown } = await logitsBeforeAndAfter('gemma-scaled', { hiddenSize: 96, layers: 4 }, { plainCopies: true });
    expect(maxAbsDiff(grown, small)).toBeGreaterThan(1e-2);
  });

  // Tied heads: the final norm feeding the head is split rather than copied, so the head's sum over
  // the k copies of each embedding column is the small model's sum.
  it.each([
    ['gpt2-prefixed', { hiddenSize: 96, layers: 3 }],
    ['qwen2-bias-f16', { hiddenSize: 128, layers: 3 }],
    ['gpt2-bare-bf16', { hiddenSize: 64, intermediateSize: 512 }],
    ['bert-mlm', { hiddenSize: 96 }],
  ] as const)('%s with a tied head grown to %o', async (name, target) => {
    const { small, grown } = await logitsBeforeAndAfter(name, target);
    expect(maxAbsDiff(grown, small)).toBeLessThan(TOLERANCE);
  });
});

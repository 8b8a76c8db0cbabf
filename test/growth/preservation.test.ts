import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { maxAbsDiff } from '../models/helpers.js';
import { logitsBeforeAndAfter, TOLERANCE } from './preservation_helpers.js';

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

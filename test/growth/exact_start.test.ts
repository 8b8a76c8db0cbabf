import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { maxAbsDiff } from '../models/helpers.js';
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

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../src/models/index.js';
import { CPU_BACKENDS } from '../backend/blas_available.js';
import { GOLDEN_CASES, loadGolden, maxAbsDiff, useBackend, weightsFrom } from './helpers.js';

/** The parity bar of test/data/golden/README.md: float32 logits within 1e-4 of Hugging Face. */
const TOLERANCE = 1e-4;

describe.each(CPU_BACKENDS)('golden parity with Hugging Face logits (%s)', (backend) => {
  const diffs: Record<string, number> = {};
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => {
    const lines = Object.entries(diffs).map(([name, d]) => `  ${name.padEnd(20)} ${d.toExponential(2)}`);
    console.log(`max |logit diff| vs Hugging Face on ${backend} (tolerance ${TOLERANCE}):\n${lines.join('\n')}`);
  });

  for (const name of GOLDEN_CASES) {
    it(name, async () => {
      const c = await loadGolden(name);
      try {
        const before = tf.memory().numTensors;
        const logits = tf.tidy(() => forward(c.dims, weightsFrom(c.weights), { ids: c.ids }));
        expect(logits.shape).toEqual([2, 16, c.dims.vocabSize]);
        const diff = maxAbsDiff(await logits.data(), c.expected);
        logits.dispose();
        expect(tf.memory().numTensors).toBe(before);
        diffs[name] = diff;
        expect(diff).toBeLessThan(TOLERANCE);
      } finally {
        c.dispose();
      }
    });
  }
});

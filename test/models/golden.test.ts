import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../src/models/index.js';
import { BLAS_UNAVAILABLE } from '../backend/blas_available.js';
import { webGpuAvailability } from '../backend/webgpu_helpers.js';
import { GOLDEN_CASES, loadGolden, maxAbsDiff, useBackend, weightsFrom } from './helpers.js';

/** The parity bar of test/data/golden/README.md: float32 logits within 1e-4 of Hugging Face. */
const TOLERANCE = 1e-4;

const gpu = await webGpuAvailability();
const BACKENDS = [
  { backend: 'wasm', skip: false, label: 'wasm' },
  { backend: 'cpu', skip: false, label: 'cpu' },
  // Wherever a BLAS library loads (scripts/setup-blas.sh installs OpenBLAS in CI).
  { backend: 'blas', skip: BLAS_UNAVAILABLE !== undefined, label: BLAS_UNAVAILABLE === undefined ? 'blas' : `blas, skipped: ${BLAS_UNAVAILABLE}` },
  // CI runs it on Mesa's lavapipe (scripts/setup-lavapipe.sh); skipped, with the reason, without an adapter.
  { backend: 'webgpu', skip: !gpu.ok, label: `webgpu, ${gpu.reason}` },
] as const;

describe.each(BACKENDS.map((b) => [b.label, b] as const))('golden parity with Hugging Face logits (%s)', (_label, { backend, skip }) => {
  const diffs: Record<string, number> = {};
  beforeAll(async () => {
    if (!skip) await useBackend(backend);
  });
  afterAll(() => {
    if (skip) return;
    const lines = Object.entries(diffs).map(([name, d]) => `  ${name.padEnd(20)} ${d.toExponential(2)}`);
    console.log(`max |logit diff| vs Hugging Face on ${backend} (tolerance ${TOLERANCE}):\n${lines.join('\n')}`);
  });

  for (const name of GOLDEN_CASES) {
    it.skipIf(skip)(name, async () => {
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

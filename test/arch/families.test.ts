/**
 * The checklist of docs/EXTENDING.md for a new family, as a test: what the compiler cannot see
 * (a description's facts agreeing with its readDims, a golden case per model type) fails here.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHITECTURES, FAMILIES, resolveArchitecture } from '../../src/arch/index.js';
import { readConfig } from '../../src/checkpoint/index.js';
import { initBackend } from '../../src/backend/index.js';
import { forwardFor } from '../../src/models/index.js';
import { logitsBeforeAndAfter, TOLERANCE } from '../growth/preservation_helpers.js';
import { GOLDEN_CASES, GOLDEN_DIR, maxAbsDiff } from '../models/helpers.js';

const index = JSON.parse(await readFile(path.join(GOLDEN_DIR, 'index.json'), 'utf8')) as Record<string, { model_type: string }>;

it('every family has exactly one description in ARCHITECTURES (arch/resolve.ts)', () => {
  for (const family of FAMILIES) expect(ARCHITECTURES.filter((a) => a.family === family), family).toHaveLength(1);
  expect(ARCHITECTURES).toHaveLength(FAMILIES.length);
});

describe.each(ARCHITECTURES.map((a) => [a.family, a] as const))('family %s', (family, description) => {
  it('is described once, with a forward pass', () => {
    expect(ARCHITECTURES.filter((a) => a.family === family)).toHaveLength(1);
    expect(typeof forwardFor(family)).toBe('function');
  });

  it.each(description.modelTypes.map((t) => [t]))('model type %s has a golden case in GOLDEN_CASES (test/models/helpers.ts)', (modelType) => {
    expect(GOLDEN_CASES.filter((name) => index[name]?.model_type === modelType)).not.toHaveLength(0);
  });

  it('states capabilities that agree with its config fields and readDims', async () => {
    const c = description.capabilities;
    expect(c.headDim).toBe(description.configFields.headDim !== undefined);
    expect(c.gqa).toBe(description.configFields.numKvHeads !== undefined);
    const cases = GOLDEN_CASES.filter((name) => description.modelTypes.includes(index[name]?.model_type ?? ''));
    for (const name of cases) {
      const { dims } = resolveArchitecture(await readConfig(path.join(GOLDEN_DIR, name)));
      expect(dims.rotary, name).toBe(c.rotary);
      if (c.bias === 'always') expect([dims.qkvBias, dims.oBias, dims.mlpBias], name).toEqual([true, true, true]);
    }
  });

  it('has positive activation costs and a Hub task', () => {
    const a = description.activationCost;
    expect(Math.min(a.hidden, a.ffn, a.scores)).toBeGreaterThan(0);
    expect(description.pipelineTag).toMatch(/^[a-z-]+$/);
  });
});

describe('function preservation, as each family states it', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // A family whose repeats start as identities (Preservation.identityRepeats) must compute the
  // small model's function after net2net depth growth, on its first golden case.
  it.each(ARCHITECTURES.filter((a) => a.preservation.identityRepeats).map((a) => [a.family, a] as const))('%s: net2net depth growth is exact', async (_family, description) => {
    const name = GOLDEN_CASES.find((c) => description.modelTypes.includes(index[c]?.model_type ?? ''));
    expect(name).toBeDefined();
    const { small, grown } = await logitsBeforeAndAfter(name ?? '', { layers: 3 });
    expect(maxAbsDiff(grown, small)).toBeLessThan(TOLERANCE);
  });

  // A pre-norm family's exact start (growth/exact_start.ts) keeps its function at 1.5x width: its
  // norm gains and LayerNorm biases are marked (normGain, normBias) and its epsilon field named.
  it.each(ARCHITECTURES.filter((a) => a.preNorm).map((a) => [a.family, a] as const))('%s: the exact start keeps the function at 1.5x width', async (_family, description) => {
    expect(description.configFields.normEps).toBeDefined();
    const name = GOLDEN_CASES.find((c) => description.modelTypes.includes(index[c]?.model_type ?? '')) ?? '';
    const { dims } = resolveArchitecture(await readConfig(path.join(GOLDEN_DIR, name)));
    const { small, grown, plan } = await logitsBeforeAndAfter(name, { hiddenSize: (dims.hiddenSize * 3) / 2, layers: 3 }, { method: 'ligo', split: 'first' });
    expect(plan.start?.exact).toBe(true);
    expect(maxAbsDiff(grown, small)).toBeLessThan(TOLERANCE);
  });
});

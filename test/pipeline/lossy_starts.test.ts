import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { BUNDLED_FIXTURE } from '../../src/fixture.js';
import { OPERATOR_FILE } from '../../src/output/files.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import type { GrowOptions } from '../../src/pipeline/options.js';
import { planGrow } from '../../src/pipeline/plan.js';
import { REPAIR_STEPS } from '../../src/pipeline/repair.js';
import { GOLDEN_DIR, maxAbsDiff } from '../models/helpers.js';

// The bundled fixture is pretrained on its text, so a lossy start has a real gap to repair.
const FIXTURE: GrowOptions = { source: BUNDLED_FIXTURE.model, out: '', backend: 'wasm', seqLen: 64, maxTokens: 20_000 };
/** Each test grows the fixture two or three times: about 20 s on an idle machine, ten minutes on a shared one. */
const GROWS_TIMEOUT_MS = 900_000;
const DATA = BUNDLED_FIXTURE.data;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-lossy-starts-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const out = (name: string): string => path.join(work, name);

describe('plain stacking for depth (--depth-start copy)', () => {
  it("streams without --data: every new layer's tensors equal its source layer's, and the start says it is lossy", async () => {
    const r = await grow({ ...FIXTURE, out: out('stacked'), layers: 4, depthStart: 'copy' });
    expect(r.start).toMatchObject({ exact: false, depth: 'copy' });
    const [small, grown] = [await loadModel(BUNDLED_FIXTURE.model), await loadModel(r.out)];
    try {
      let layered = 0;
      for (const [name, t] of grown.weights) {
        const layer = /\.h\.(\d+)\./.exec(name);
        const from = layer ? name.replace(`.h.${layer[1]}.`, `.h.${Number(layer[1]) % small.dims.numLayers}.`) : name;
        const source = small.weights.get(from);
        expect(source?.shape, name).toEqual(t.shape);
        expect(maxAbsDiff(t.dataSync(), source?.dataSync() ?? []), name).toBe(0);
        if (layer && Number(layer[1]) >= small.dims.numLayers) layered += 1;
      }
      expect(layered).toBe(24);
    } finally {
      small.dispose();
      grown.dispose();
    }
  });
});

describe("the paper's start (--start ligo-paper)", () => {
  const paper = (name: string, seed: number): Promise<Awaited<ReturnType<typeof grow>>> =>
    grow({ ...FIXTURE, out: out(name), layers: 3, hiddenSize: 80, heads: 5, start: 'ligo-paper', data: DATA, steps: 0, seed });

  // Another seed drawing other matrices is checked where they are drawn (test/growth/paper_start.test.ts).
  it('is seeded: the same --seed writes the same operator bytes; apply rebuilds the model from the file', async () => {
    const [a, b] = [await paper('paper-a', 3), await paper('paper-b', 3)];
    const bytes = (r: { out: string }): Promise<Buffer> => readFile(path.join(r.out, OPERATOR_FILE));
    expect((await bytes(a)).equals(await bytes(b))).toBe(true);
    expect(a.start).toMatchObject({ rule: 'ligo-paper', exact: false, depth: 'noisy' });
    expect(a.heldOut.grownAtInit ?? 0).toBeGreaterThan((a.heldOut.source ?? 0) + 0.1);
    // The streamed apply (a dense operator goes through tfjs tensor by tensor) gives the grown model back.
    const applied = await apply({ source: BUNDLED_FIXTURE.model, operator: a.out, out: out('paper-applied'), backend: 'wasm' });
    expect(applied.start).toMatchObject({ rule: 'ligo-paper', depth: 'noisy' });
    const [x, y] = [await loadModel(a.out), await loadModel(applied.out)];
    try {
      for (const [name, t] of x.weights) expect(maxAbsDiff(t.dataSync(), y.weights.get(name)?.dataSync() ?? []), name).toBeLessThan(1e-6);
    } finally {
      x.dispose();
      y.dispose();
    }
  }, GROWS_TIMEOUT_MS);
});

describe('each lossy start learns by default with --data', () => {
  it.each([
    // Most of its gap is the new layer, a noisy stack of the first (without one, 1.25x loses 0.04 nats).
    ['ligo-paper', { layers: 3, hiddenSize: 80, heads: 5, start: 'ligo-paper' }],
    ['depth copies', { layers: 4, depthStart: 'copy' }],
  ] as const)(`%s: ${REPAIR_STEPS} learning steps, ending below the start`, async (name, target) => {
    const r = await grow({ ...FIXTURE, ...target, out: out(`learns-${name}`), data: DATA });
    expect(r.steps).toBe(REPAIR_STEPS);
    expect(r.start?.exact).toBe(false);
    const { source, grownAtInit, grown } = r.heldOut;
    expect(grown ?? Infinity).toBeLessThan((grownAtInit ?? 0) - 0.05);
    expect(grown ?? 0).toBeGreaterThan((source ?? 0) - 0.05);
  }, GROWS_TIMEOUT_MS);
});

describe('bad combinations are refused in one line naming the flag', () => {
  it.each([
    ['--start', { start: 'ligo-paper', method: 'net2net', data: DATA }],
    ['--operator', { start: 'ligo-paper', operator: 'lowrank', data: DATA }],
    ['--data', { start: 'ligo-paper' }],
    ['--data', { depthStart: 'noisy' }],
    ['--split', { start: 'ligo-paper', split: 'first', data: DATA }],
    ['--copy-noise', { start: 'ligo-paper', copyNoise: 0.1, data: DATA }],
    ['--depth-start', { depthStart: 'copy', method: 'stack' }],
    ['--depth-start', { source: path.join(GOLDEN_DIR, 'bert-mlm'), depthStart: 'identity' }],
  ] as const)('%s: %j', async (flag, options) => {
    const error = (await planGrow({ ...FIXTURE, out: out('refused'), layers: 3, hiddenSize: 96, heads: 6, ...options }).catch((e: unknown) => e)) as { flag?: string; message?: string };
    expect(error.flag).toBe(flag);
    expect(error.message).toMatch(new RegExp(`^${flag.replace(/-/g, '\\-')}`));
    expect(error.message).not.toContain('\n');
  });
});

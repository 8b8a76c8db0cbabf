import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { planGrow } from '../../src/pipeline/plan.js';
import type { GrowOptions } from '../../src/pipeline/options.js';
import { GOLDEN_DIR, maxAbsDiff } from '../models/helpers.js';

let work: string;
let tokens: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-exact-start-'));
  tokens = path.join(work, 'tokens.bin');
  await writeFile(tokens, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 7) % 90).buffer));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The largest |difference| between the tensors of two grown directories (same names and shapes). */
async function maxTensorDiff(a: string, b: string): Promise<number> {
  const [x, y] = [await loadModel(a), await loadModel(b)];
  try {
    let worst = 0;
    for (const [name, t] of x.weights) {
      const u = y.weights.get(name);
      expect(u?.shape, name).toEqual(t.shape);
      worst = Math.max(worst, maxAbsDiff(t.dataSync(), u?.dataSync() ?? []));
    }
    return worst;
  } finally {
    x.dispose();
    y.dispose();
  }
}

const weightBytes = async (dir: string): Promise<Buffer> => readFile(path.join(dir, 'model.safetensors'));

describe('--start exact at a non-integer width', () => {
  // LayerNorm (mean rows: the float32 gather) and RMSNorm (zero rows: bit-identical), F32 and BF16.
  it.each([
    ['gpt-neox-pythia', { hiddenSize: 96, layers: 3 }, 'layer_norm_eps', 1e-5 * (64 / 96)],
    ['gpt2-bare-bf16', { hiddenSize: 48, layers: 3 }, 'layer_norm_epsilon', 1e-5 * (32 / 48)],
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }, 'rms_norm_eps', 1e-6 * (64 / 96)],
    ['phi3-fused', { hiddenSize: 96, layers: 3 }, 'rms_norm_eps', 1e-5 * (64 / 96)],
  ] as const)('net2net %s to %j: streamed, in memory and applied agree, the function is kept, the epsilon written', async (model, target, epsField, eps) => {
    const name = `${model}-${target.hiddenSize}`;
    const common: GrowOptions = { source: path.join(GOLDEN_DIR, model), out: '', method: 'net2net', start: 'exact', backend: 'wasm', ...target };
    const streamed = await grow({ ...common, out: path.join(work, `${name}-streamed`) });
    const inMemory = await grow({ ...common, out: path.join(work, `${name}-memory`), data: tokens, batchSize: 2, seqLen: 16 });
    // Before rounding to the output dtype: a BF16 model stores the rescaled gains to BF16's precision.
    expect(Math.abs((inMemory.heldOut.grownAtInit ?? 0) - (inMemory.heldOut.source ?? 1))).toBeLessThan(1e-5);
    expect(streamed.start).toMatchObject({ rule: 'exact', exact: true });
    const config = JSON.parse(await readFile(path.join(streamed.out, 'config.json'), 'utf8')) as Record<string, number>;
    expect(config[epsField]).toBeCloseTo(eps, 12);
    const card = await readFile(path.join(streamed.out, 'README.md'), 'utf8');
    expect(card).toContain("- start: exact (keeps the source's function): residual dims past 1 whole copy start as");
    // Only LayerNorm's mean rows are sums, equal to float32 rounding; the rest is bit-identical.
    const layerNorm = model.startsWith('gpt');
    if (layerNorm) expect(await maxTensorDiff(streamed.out, inMemory.out)).toBeLessThan(1e-6);
    else expect(Buffer.compare(await weightBytes(streamed.out), await weightBytes(inMemory.out))).toBe(0);
    const applied = await apply({ source: common.source, operator: streamed.out, out: path.join(work, `${name}-applied`), backend: 'wasm' });
    expect(Buffer.compare(await weightBytes(applied.out), await weightBytes(streamed.out))).toBe(0);
  });

  it('ligo starts exact by default and keeps the source at --steps 0; net2net keeps its copies by default', async () => {
    const common: GrowOptions = { source: path.join(GOLDEN_DIR, 'gpt2-bare-bf16'), out: '', hiddenSize: 48, layers: 3, backend: 'wasm', data: tokens, batchSize: 2, seqLen: 16 };
    const ligo = await grow({ ...common, out: path.join(work, 'ligo-0'), steps: 0 });
    expect(ligo.start).toMatchObject({ rule: 'exact', exact: true });
    expect(Math.abs((ligo.heldOut.grownAtInit ?? 0) - (ligo.heldOut.source ?? 1))).toBeLessThan(1e-5);
    const net2net = await grow({ ...common, out: path.join(work, 'net2net-copy'), method: 'net2net' });
    expect(net2net.start?.rule).toBe('copy');
    expect(net2net.start?.exact).toBe(false);
    expect(Math.abs((net2net.heldOut.grown ?? 0) - (net2net.heldOut.source ?? 1))).toBeGreaterThan(1e-3);
    const report = JSON.parse(await readFile(path.join(net2net.out, 'growth.json'), 'utf8')) as { start: { notes: string[] } };
    expect(report.start.notes.join(' ')).toMatch(/hidden size 32 -> 48 is not a multiple/);
  });

  it('ligo learns from the exact start (low-rank and dense) and apply rebuilds what it wrote', async () => {
    for (const operator of ['lowrank', 'dense'] as const) {
      const source = path.join(GOLDEN_DIR, 'llama-gqa-untied');
      const grown = await grow({ source, out: path.join(work, `ligo-${operator}`), hiddenSize: 96, backend: 'wasm', data: tokens, batchSize: 2, seqLen: 16, steps: 4, selectEvery: 2, operator });
      expect(grown.start?.exact).toBe(true);
      expect(Number.isFinite(grown.heldOut.grown)).toBe(true);
      expect(grown.heldOut.grown ?? Infinity).toBeLessThanOrEqual((grown.heldOut.grownAtInit ?? 0) + 1e-6);
      const applied = await apply({ source, operator: grown.out, out: path.join(work, `ligo-${operator}-applied`), backend: 'wasm' });
      expect(await maxTensorDiff(applied.out, grown.out)).toBeLessThan(1e-6);
    }
  });

  it('--dry-run says where no start is exact; --start exact is refused there in one line', async () => {
    const bert = path.join(GOLDEN_DIR, 'bert-mlm');
    const plan = await planGrow({ source: bert, out: path.join(work, 'never'), method: 'net2net', hiddenSize: 72 });
    expect(plan.start).toMatchObject({ rule: 'copy', exact: false });
    expect(plan.start?.notes[0]).toMatch(/\(post-norm\): at hidden size 48 -> 72, not a multiple, no start keeps its function/);
    await expect(planGrow({ source: bert, out: path.join(work, 'never'), method: 'net2net', hiddenSize: 72, start: 'exact' })).rejects.toThrow(/^--start exact: bert normalizes after each residual add/);
    const headDim = await planGrow({ source: path.join(GOLDEN_DIR, 'mistral-headdim'), out: path.join(work, 'never'), method: 'net2net', start: 'exact', hiddenSize: 96, headDim: 32, heads: 4 });
    expect(headDim.start?.exact).toBe(false);
    expect(headDim.start?.notes.join(' ')).toMatch(/head_dim 24 -> 32: the attention scale 1\/sqrt\(head_dim\) and the RoPE frequencies change/);
    // --data must exist: a dry run checks the inputs grow would.
    await writeFile(path.join(work, 'text.txt'), 'some text');
    await expect(planGrow({ source: path.join(GOLDEN_DIR, 'llama-gqa-untied'), out: path.join(work, 'never'), hiddenSize: 96, splitNoise: 0.1, data: path.join(work, 'text.txt') })).rejects.toThrow(/^--split-noise: not function-preserving with --start exact/);
    await expect(planGrow({ source: bert, out: path.join(work, 'never'), hiddenSize: 96, start: 'half' as 'exact' })).rejects.toThrow(/--start: expected one of exact, copy, ligo-paper, got "half"/);
    expect(await readdir(work)).not.toContain('never');
  });
});

import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../../src/arch/load.js';
import { heldOutSplit, loadTokenizer, loadTokens } from '../../src/data/index.js';
import { evaluate } from '../../src/eval/index.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import type { GrowOptions } from '../../src/pipeline/options.js';
import type { GrowthReport } from '../../src/output/report.js';
import { GOLDEN_DIR } from '../models/helpers.js';

const CORPUS = path.resolve('fixtures/text/corpus.txt');
let work: string;
let data: string;

async function weightBytes(dir: string): Promise<Map<string, Buffer>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors') || f.endsWith('.index.json'));
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(path.join(dir, f))] as const)));
}

const base = (out: string, overrides: Partial<GrowOptions> = {}): GrowOptions => ({
  source: path.join(GOLDEN_DIR, 'gpt2-bare-bf16'),
  out: path.join(work, out),
  data,
  hiddenSize: 64,
  layers: 3,
  steps: 6,
  batchSize: 2,
  seqLen: 32,
  lr: 1e-2,
  warmup: 1,
  seed: 3,
  backend: 'wasm',
  ...overrides,
});

describe('grow and apply end to end', () => {
  let report: GrowthReport;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ligo-grow-'));
    data = path.join(work, 'train.txt');
    await writeFile(data, (await readFile(CORPUS, 'utf8')).slice(0, 12_000));
    report = await grow(base('grown'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes a Hugging Face model directory whose every tensor has the target shape and is finite', async () => {
    const files = await readdir(report.out);
    expect(files.sort()).toEqual(['README.md', 'config.json', 'growth.json', 'ligo_new_parameters.json', 'ligo_operator.safetensors', 'model.safetensors', 'tokenizer.json']);
    const config = JSON.parse(await readFile(path.join(report.out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ n_embd: 64, n_layer: 3, n_head: 4, torch_dtype: 'bfloat16', bos_token_id: 10 });
    // openModel checks every tensor's name and shape against config.json.
    const model = await openModel(report.out);
    expect(model.storageDtype).toBe('BF16');
    for (const spec of model.match.specs) {
      const values = await model.readFloat32(spec.name);
      expect(values.every(Number.isFinite), spec.name).toBe(true);
    }
    await model.close();
  });

  it('records the learning phase, and the learned operator beats its own initialization on held-out text', () => {
    expect(report.method).toBe('ligo');
    expect(report.steps).toBe(6);
    expect(report.heldOut.source).toBeGreaterThan(0);
    expect(report.heldOut.grown).not.toBeNull();
    expect(report.heldOut.grown ?? Infinity).toBeLessThan(report.heldOut.grownAtInit ?? -Infinity);
    expect(report.parameters.target).toBeGreaterThan(report.parameters.source);
  });

  it('ligo eval on the written checkpoint gives the held-out loss recorded in growth.json', async () => {
    const tokenizer = await loadTokenizer(report.out);
    const tokens = await loadTokens({ file: data, tokenizer });
    const { heldOut } = heldOutSplit(tokens, 0.1, 32);
    // The fixture tokenizer maps bytes to ids, so the held-out ids are exactly these bytes.
    const heldOutFile = path.join(work, 'held-out.txt');
    await writeFile(heldOutFile, Buffer.from(Uint8Array.from(heldOut)));
    const result = await evaluate({ model: report.out, data: heldOutFile, seqLen: 32, batchSize: 2 });
    expect(Math.abs(result.loss - (report.heldOut.grown ?? NaN))).toBeLessThan(1e-4);
  });

  it('apply with the saved operator reproduces grow\'s weights byte for byte', async () => {
    const applied = await apply({ source: base('x').source, operator: report.out, out: path.join(work, 'applied'), backend: 'wasm' });
    const a = await weightBytes(report.out);
    const b = await weightBytes(applied.out);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
  });

  it('is deterministic for a seed, and the seed matters', async () => {
    const again = await grow(base('again'));
    const other = await grow(base('other', { seed: 4 }));
    const first = (await weightBytes(report.out)).get('model.safetensors');
    expect((await weightBytes(again.out)).get('model.safetensors')?.equals(first ?? Buffer.alloc(0))).toBe(true);
    expect((await weightBytes(other.out)).get('model.safetensors')?.equals(first ?? Buffer.alloc(0))).toBe(false);
  });

  it('grows in depth only (global tensors pass through unchanged) without touching the source tensors', async () => {
    const report = await grow(base('depth-only', { hiddenSize: undefined, layers: 4, steps: 2 }));
    expect(report.targetDims.numLayers).toBe(4);
    expect(report.heldOut.grown).not.toBeNull();
  });

  it('grows BERT with the masked-LM objective (post-norm, pooler kept)', async () => {
    const bert = path.join(work, 'bert-src');
    await cp(path.join(GOLDEN_DIR, 'bert-mlm'), bert, { recursive: true });
    const config = JSON.parse(await readFile(path.join(bert, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(bert, 'config.json'), JSON.stringify({ ...config, mask_token_id: 4 }));
    const report = await grow(base('bert-grown', { source: bert, hiddenSize: 96, layers: 3, steps: 3 }));
    expect(report.family).toBe('bert');
    expect(report.lossFirstStep).not.toBeNull();
    const model = await openModel(report.out);
    expect(model.match.optionalPresent.has('bert.pooler.dense.weight')).toBe(true);
    await model.close();
  });

  it('refuses an existing --out without --overwrite and leaves it untouched', async () => {
    const before = await weightBytes(report.out);
    await expect(grow(base('grown'))).rejects.toThrow(/--out: .* already exists and is not empty/);
    expect((await weightBytes(report.out)).get('model.safetensors')?.equals(before.get('model.safetensors') ?? Buffer.alloc(0))).toBe(true);
  });

  it('leaves no output and no staging directory when a run fails', async () => {
    await expect(grow(base('failed', { data: path.join(work, 'missing.txt') }))).rejects.toThrow(/missing\.txt/);
    const left = (await readdir(work)).filter((f) => f.includes('failed'));
    expect(left).toEqual([]);
  });
});

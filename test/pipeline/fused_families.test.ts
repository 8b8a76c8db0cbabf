/**
 * The fused-tensor families end to end: GPT-NeoX (per-head interleaved query_key_value, partial
 * rotary, parallel residual) and Phi-3 (concatenated qkv_proj and gate_up_proj). LiGO learns a
 * dense operator, so its grown tensors and `apply`'s go through tfjs (materialize.ts and
 * LazyOperator), not the gathers the baselines use (grow_streamed.test.ts).
 */
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../../src/arch/load.js';
import { SafetensorsFile, serializeSafetensors } from '../../src/checkpoint/index.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { storedPositions } from '../../src/growth/interleave.js';
import { inspectModel } from '../../src/inspect/index.js';
import { GOLDEN_DIR } from '../models/helpers.js';

let work: string;
let tokens: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-fused-'));
  tokens = path.join(work, 'tokens.bin');
  await writeFile(tokens, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 11) % 200).buffer));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const readJson = async (file: string): Promise<Record<string, unknown>> => JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;

async function copyGolden(name: string, config: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(work, `${name}-${Object.keys(config).join('-') || 'copy'}`);
  await cp(path.join(GOLDEN_DIR, name), dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...(await readJson(path.join(dir, 'config.json'))), ...config }));
  return dir;
}

describe('interleaved axes', () => {
  it('map the logical order [q | k | v] to Hugging Face\'s per-head rows [heads, 3, head_dim]', () => {
    // 2 heads, head_dim 2: logical q0 q0 q1 q1 k0 k0 k1 k1 v0 v0 v1 v1, stored q0 q0 k0 k0 v0 v0 q1 q1 ...
    expect([...storedPositions([4, 4, 4], 2)]).toEqual([0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11]);
    expect([...storedPositions([2, 4], 1)]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe.each([
  ['gpt-neox-pythia', {}, { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 8, intermediate_size: 512 }],
  // head_dim 16 -> 32: the rotated and passed-through dims of each head grow apart.
  ['gpt-neox-pythia', { heads: 4 }, { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512 }],
  ['phi3-fused', {}, { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 4, intermediate_size: 192 }],
] as const)('%s %j: ligo end to end', (name, extra, grownFields) => {
  let out: string;

  beforeAll(async () => {
    const report = await grow({
      source: path.join(GOLDEN_DIR, name),
      out: path.join(work, `${name}-ligo-${Object.keys(extra).join('-')}`),
      data: tokens,
      ...extra,
      hiddenSize: 128,
      layers: 4,
      steps: 3,
      batchSize: 2,
      seqLen: 16,
      lr: 1e-2,
      warmup: 1,
      seed: 2,
      backend: 'wasm',
    });
    expect(Number.isFinite(report.lossLastStep)).toBe(true);
    expect(Number.isFinite(report.heldOut.grown)).toBe(true);
    out = report.out;
  });

  it('writes a checkpoint of the same family whose config keeps every source field, with the grown sizes', async () => {
    const source = await readJson(path.join(GOLDEN_DIR, name, 'config.json'));
    const grown = await readJson(path.join(out, 'config.json'));
    for (const key of Object.keys(source)) expect(Object.keys(grown), key).toContain(key);
    expect(grown).toMatchObject(grownFields);
    const unchanged = Object.entries(source).filter(([key]) => !(key in grownFields) && key !== 'torch_dtype');
    for (const [key, value] of unchanged) expect(grown[key], key).toEqual(value);
    // openModel checks every tensor's name and shape against the grown config.json.
    const model = await openModel(out);
    try {
      for (const spec of model.match.specs) expect((await model.readFloat32(spec.name)).every(Number.isFinite), spec.name).toBe(true);
    } finally {
      await model.close();
    }
  });

  it('apply with the learned (dense) operator writes the same bytes', async () => {
    const applied = await apply({ source: path.join(GOLDEN_DIR, name), operator: out, out: `${out}-applied`, backend: 'wasm' });
    const a = await readFile(path.join(out, 'model.safetensors'));
    expect((await readFile(path.join(applied.out, 'model.safetensors'))).equals(a)).toBe(true);
    expect(await readdir(applied.out)).toContain('config.json');
  });
});

describe('fused families: loading and refusals', () => {
  it('old Pythia files: attention.bias, attention.masked_bias and rotary_emb.inv_freq are ignored like GPT-2\'s mask buffers', async () => {
    const dir = await copyGolden('gpt-neox-pythia');
    const st = await SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    const tensors = [];
    for (const [name, entry] of st.entries) tensors.push({ name, dtype: entry.dtype, shape: entry.shape, data: await st.readBytes(name) });
    await st.close();
    const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
    const buffers = [0, 1].flatMap((i) => [
      { name: `gpt_neox.layers.${i}.attention.bias`, dtype: 'BOOL' as const, shape: [1, 1, 4, 4], data: new Uint8Array(16).fill(1) },
      { name: `gpt_neox.layers.${i}.attention.masked_bias`, dtype: 'F32' as const, shape: [], data: f32([-1e9]) },
      { name: `gpt_neox.layers.${i}.attention.rotary_emb.inv_freq`, dtype: 'F32' as const, shape: [2], data: f32([1, 0.01]) },
    ]);
    await writeFile(path.join(dir, 'model.safetensors'), serializeSafetensors([...tensors, ...buffers]));
    const inspection = await inspectModel(dir);
    expect(inspection.family).toBe('gpt_neox');
    expect(inspection.ignoredTensors.sort()).toEqual(buffers.map((b) => b.name).sort());
    expect(inspection.dims).toMatchObject({ partialRotary: 0.25, parallelResidual: true, headDim: 16, tiedEmbeddings: false });
  });

  it('GPT-NeoX: a head_dim whose rotated share is odd is refused with one line', async () => {
    // hidden 80 / 4 heads = head_dim 20, of which 0.25 is 5 dims: rotate_half needs pairs.
    await expect(grow({ source: path.join(GOLDEN_DIR, 'gpt-neox-pythia'), out: path.join(work, 'never'), hiddenSize: 80, heads: 4, method: 'net2net', backend: 'wasm' })).rejects.toThrow(
      /^--heads: head_dim 20 would rotate 5 dims \(0.25 of each head\); RoPE needs an even number$/,
    );
  });

  it.each([
    ['phi3-fused', { rope_scaling: { type: 'longrope', short_factor: [1], long_factor: [1] } }, /rope_scaling type "longrope" is not supported for phi3/],
    ['phi3-fused', { hidden_act: 'gelu' }, /hidden_act "gelu" is not supported for phi3 \(supported: silu\)/],
    ['gpt-neox-pythia', { hidden_act: 'gelu_fast' }, /hidden_act "gelu_fast" is not supported for gpt_neox \(supported: gelu, gelu_new, relu, silu\)/],
    ['gpt-neox-pythia', { rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling .* is not supported for gpt_neox/],
    ['gpt-neox-pythia', { rotary_pct: 0.1 }, /RoPE would rotate 1 of head_dim 16/],
  ] as const)('%s with %j is refused, naming the option', async (name, config, message) => {
    const dir = await copyGolden(name, config);
    await expect(inspectModel(dir)).rejects.toThrow(message);
  });
});

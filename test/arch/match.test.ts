import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel, resolveArchitecture, SUPPORTED_MODEL_TYPES } from '../../src/arch/index.js';
import { SafetensorsFile, serializeSafetensors, type DType } from '../../src/checkpoint/index.js';
import { CheckpointError, UnsupportedError } from '../../src/errors.js';
import { GOLDEN_DIR } from '../models/helpers.js';

interface Stored {
  name: string;
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-match-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function readAll(golden: string): Promise<Stored[]> {
  const file = await SafetensorsFile.open(path.join(GOLDEN_DIR, golden, 'model.safetensors'));
  const out: Stored[] = [];
  for (const [name, e] of file.entries) out.push({ name, dtype: e.dtype, shape: e.shape, data: await file.readBytes(name) });
  await file.close();
  return out;
}

/** A copy of a golden case whose tensors went through `edit` (renamed, dropped, added, reshaped). */
async function variant(golden: string, label: string, edit: (tensors: Stored[]) => Stored[]): Promise<string> {
  const dir = path.join(work, `${golden}-${label}`);
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  await copyFile(path.join(GOLDEN_DIR, golden, 'config.json'), path.join(dir, 'config.json'));
  await writeFile(path.join(dir, 'model.safetensors'), serializeSafetensors(edit(await readAll(golden))));
  return dir;
}

const CASES = [
  ['gpt2-prefixed', 'transformer.h.1.mlp.c_fc.weight'],
  ['bert-mlm', 'bert.encoder.layer.0.intermediate.dense.weight'],
  ['llama-gqa-untied', 'model.layers.1.self_attn.k_proj.weight'],
] as const;

describe.each(CASES)('loading %s checks every tensor against config.json', (golden, victim) => {
  it('names a missing tensor', async () => {
    const dir = await variant(golden, 'missing', (ts) => ts.filter((t) => t.name !== victim));
    await expect(openModel(dir)).rejects.toThrow(CheckpointError);
    await expect(openModel(dir)).rejects.toThrow(new RegExp(`missing 1 tensor\\(s\\) .*"${victim.replace(/\./g, '\\.')}"`));
  });

  it('names an unexpected tensor', async () => {
    const dir = await variant(golden, 'extra', (ts) => [...ts, { name: 'surprise.weight', dtype: 'F32', shape: [2], data: new Uint8Array(8) }]);
    await expect(openModel(dir)).rejects.toThrow(/1 unexpected tensor\(s\) .*"surprise\.weight"/);
  });

  it('names a mis-shaped tensor with both shapes', async () => {
    const dir = await variant(golden, 'shape', (ts) =>
      ts.map((t) => (t.name === victim ? { ...t, shape: [t.shape[1], t.shape[0]] } : t)),
    );
    const original = (await readAll(golden)).find((t) => t.name === victim);
    const expected = `[${original?.shape.join(', ')}]`;
    await expect(openModel(dir)).rejects.toThrow(new RegExp(`wrong shape .*${victim.replace(/\./g, '\\.')} is \\[.*\\], expected ${expected.replace(/[[\]]/g, '\\$&')}`));
  });
});

describe('legacy names and buffers', () => {
  it('BERT gamma/beta LayerNorm names and position_ids buffers load', async () => {
    const dir = await variant('bert-mlm', 'legacy', (ts) => [
      ...ts.map((t) => ({ ...t, name: t.name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta') })),
      { name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 64], data: new Uint8Array(64 * 8) },
    ]);
    const model = await openModel(dir);
    expect(model.match.sourceNames.get('bert.embeddings.LayerNorm.weight')).toBe('bert.embeddings.LayerNorm.gamma');
    expect(model.match.ignored).toEqual(['bert.embeddings.position_ids']);
    await model.close();
  });

  it('GPT-2 without the transformer. prefix loads and its attn.bias buffers are ignored', async () => {
    const model = await openModel(path.join(GOLDEN_DIR, 'gpt2-bare-bf16'));
    expect(model.match.sourceNames.get('transformer.wte.weight')).toBe('wte.weight');
    expect(model.match.ignored.sort()).toEqual(['h.0.attn.bias', 'h.1.attn.bias']);
    await model.close();
  });
});

describe('config.json problems', () => {
  it('rope_scaling types ligo does not compute are refused, naming the type and the supported ones', () => {
    const llama = { model_type: 'llama', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 96, vocab_size: 256 };
    expect(() => resolveArchitecture({ ...llama, rope_scaling: { rope_type: 'yarn', factor: 2 } })).toThrow(UnsupportedError);
    expect(() => resolveArchitecture({ ...llama, rope_scaling: { type: 'dynamic', factor: 2 } })).toThrow(/rope_scaling type "dynamic" is not supported \(supported: default, linear, llama3\)/);
    expect(resolveArchitecture({ ...llama, rope_scaling: { type: 'linear', factor: 2 } }).dims.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(resolveArchitecture({ ...llama, rope_scaling: { rope_type: 'default' } }).dims.ropeScaling).toBeUndefined();
  });
  it('an unknown model_type lists the supported ones', () => {
    expect(SUPPORTED_MODEL_TYPES).toEqual(expect.arrayContaining(['gpt2', 'bert', 'llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gpt_neox', 'phi3']));
    expect(() => resolveArchitecture({ model_type: 't5' })).toThrow(`model_type "t5" is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  });
  it('heads that do not divide the width name both numbers', () => {
    expect(() => resolveArchitecture({ model_type: 'gpt2', n_embd: 50, n_layer: 1, n_head: 4, n_positions: 8, vocab_size: 10 })).toThrow(/hidden size 50 is not divisible by 4 attention heads/);
  });
});

import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, openModel } from '../../src/arch/load.js';
import { OPERATOR_FILE } from '../../src/output/files.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import type { GrowOptions } from '../../src/pipeline/options.js';
import type { GrowthMethod } from '../../src/growth/plan.js';
import { GOLDEN_DIR } from '../models/helpers.js';

let work: string;
let tokens: string;
let bert: string;

/** Every file of a grown directory but the ones that record the run (time, data) or describe it. */
async function grownBytes(dir: string): Promise<Map<string, Buffer>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors') || f.endsWith('.index.json') || f === 'config.json');
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(path.join(dir, f))] as const)));
}

/** Float32 bytes of each tensor in a grown directory. */
async function largestTensorBytes(dir: string): Promise<number[]> {
  const model = await openModel(dir);
  try {
    return model.match.specs.map((spec) => 4 * spec.shape.reduce((a, b) => a * b, 1));
  } finally {
    await model.close();
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-grow-streamed-'));
  // Pre-tokenized ids (nanoGPT .bin) below every golden model's vocabulary.
  tokens = path.join(work, 'tokens.bin');
  await writeFile(tokens, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 7) % 90).buffer));
  // The masked-LM loss of the reference run needs a mask token id.
  bert = path.join(work, 'bert-mlm');
  await cp(path.join(GOLDEN_DIR, 'bert-mlm'), bert, { recursive: true });
  const config = JSON.parse(await readFile(path.join(bert, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(bert, 'config.json'), JSON.stringify({ ...config, mask_token_id: 4 }));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// BF16 and F16 sources take the 16-bit gather, F32 ones the float32 gather; BERT is post-norm.
const CASES: [string, GrowthMethod, Partial<GrowOptions>][] = [
  ['gpt2-bare-bf16', 'net2net', { hiddenSize: 64, layers: 3 }],
  ['gpt2-bare-bf16', 'interlace', { hiddenSize: 48, layers: 4 }],
  ['qwen2-bias-f16', 'net2net', { hiddenSize: 128, layers: 3, intermediateSize: 160 }],
  ['llama-gqa-untied', 'stack', { hiddenSize: 96, layers: 3 }],
  ['mistral-headdim', 'net2net', { hiddenSize: 128, layers: 3, headDim: 32 }],
  ['bert-mlm', 'net2net', { hiddenSize: 96, layers: 3 }],
  ['llama-gqa-untied', 'random', { hiddenSize: 96, layers: 3 }],
  ['gpt2-bare-bf16', 'net2net', { hiddenSize: 64, layers: 3, dtype: 'F32', maxShardSize: 20_000 }],
  // Gemma's stored transforms (1 + w gains, embedding scale) on the float32 gather, and on the
  // generic float path when written as BF16; Qwen3's q/k norm gains under a head_dim change.
  ['gemma-scaled', 'net2net', { hiddenSize: 96, layers: 4 }],
  ['gemma-scaled', 'interlace', { hiddenSize: 96, layers: 3, dtype: 'BF16' }],
  ['qwen3-qknorm', 'net2net', { hiddenSize: 128, layers: 3, headDim: 48, heads: 4, kvHeads: 2 }],
  ['llama3-rope-scaling', 'stack', { hiddenSize: 128, layers: 3 }],
  // Fused tensors: Phi-3 (BF16, the 16-bit gather) and GPT-NeoX (F32, per-head interleaved q|k|v).
  ['phi3-fused', 'net2net', { hiddenSize: 128, layers: 4 }],
  ['phi3-fused', 'stack', { hiddenSize: 96, layers: 3, intermediateSize: 144 }],
  ['phi3-fused', 'interlace', { hiddenSize: 128, layers: 3 }],
  ['phi3-fused', 'net2net', { hiddenSize: 128, layers: 3, headDim: 32 }],
  ['phi3-fused', 'random', { hiddenSize: 96, layers: 3 }],
  ['gpt-neox-pythia', 'net2net', { hiddenSize: 128, layers: 4 }],
  ['gpt-neox-pythia', 'interlace', { hiddenSize: 96, layers: 3 }],
  ['gpt-neox-pythia', 'net2net', { hiddenSize: 128, heads: 4, layers: 3 }],
  ['gpt-neox-pythia', 'stack', { hiddenSize: 128, layers: 3, intermediateSize: 320 }],
  ['gpt-neox-pythia', 'random', { hiddenSize: 96, layers: 4 }],
  ['gpt-neox-pythia', 'net2net', { hiddenSize: 96, layers: 3, dtype: 'BF16' }],
  // The first-copy split (later copies' consuming weights are zeros): 16-bit, float32, fused.
  ['gpt2-bare-bf16', 'net2net', { hiddenSize: 64, layers: 3, split: 'first' }],
  ['llama-gqa-untied', 'stack', { hiddenSize: 96, layers: 3, split: 'first' }],
  ['phi3-fused', 'net2net', { hiddenSize: 128, layers: 4, split: 'first' }],
  ['gpt-neox-pythia', 'net2net', { hiddenSize: 128, layers: 4, split: 'first' }],
  // ligo without a learning phase is its exact start, a selection: at 2x, and at 1.5x with the
  // residual stream's new dims at zero (RMSNorm; the LayerNorm mean fill is tested below).
  ['gpt2-bare-bf16', 'ligo', { hiddenSize: 64, layers: 3 }],
  ['llama-gqa-untied', 'ligo', { hiddenSize: 96, layers: 3 }],
];

describe('grow without --data streams the grown model from the source', () => {
  for (const [model, method, target] of CASES) {
    it(`${model} ${method} ${JSON.stringify(target)}: same bytes as the in-memory path, and no tensors left in tfjs`, async () => {
      const name = `${model}-${method}-${Object.values(target).join('-')}`;
      const source = model === 'bert-mlm' ? bert : path.join(GOLDEN_DIR, model);
      const common: GrowOptions = { source, out: '', method, seed: 5, backend: 'wasm', ...target };
      const before = tf.memory();
      let peakBytes = 0;
      const onProgress = (): void => void (peakBytes = Math.max(peakBytes, tf.memory().numBytes - before.numBytes));
      let streamed: Awaited<ReturnType<typeof grow>> | undefined;
      const profile = await tf.profile(async () => {
        streamed = await grow({ ...common, out: path.join(work, `${name}-streamed`), onProgress });
      });
      if (!streamed) throw new Error('grow returned nothing');
      expect(tf.memory().numTensors).toBe(before.numTensors);
      // Copies and scalings are gathered in plain JS (no tfjs kernel at all); `random` holds a fresh
      // tensor or two at a time, never the model.
      if (method === 'random') {
        expect(peakBytes).toBeGreaterThan(0);
        expect(peakBytes).toBeLessThanOrEqual(2 * Math.max(...(await largestTensorBytes(streamed.out))));
      } else expect(profile.kernels.map((k) => k.name)).toEqual([]);
      expect(streamed.heldOut.grown).toBeNull();
      // With --data the model is materialized in tfjs to measure held-out loss: the reference.
      const inMemory = await grow({ ...common, out: path.join(work, `${name}-memory`), data: tokens, batchSize: 2, seqLen: 16 });
      expect(inMemory.heldOut.grown).not.toBeNull();
      const a = await grownBytes(streamed.out);
      const b = await grownBytes(inMemory.out);
      if (method === 'ligo') {
        // In memory ligo keeps its low-rank form (a zero correction); streamed, the selections
        // alone. Both rebuild the same model.
        const applied = await apply({ source, operator: streamed.out, out: path.join(work, `${name}-applied`), backend: 'wasm' });
        a.set('applied.safetensors', (await grownBytes(applied.out)).get('model.safetensors') as Buffer);
        b.set('applied.safetensors', b.get('model.safetensors') as Buffer);
        for (const m of [a, b]) m.delete(OPERATOR_FILE);
      }
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      if (target.maxShardSize) expect(a.has('model.safetensors.index.json')).toBe(true);
      for (const [file, bytes] of a) expect(Buffer.compare(bytes, b.get(file) as Buffer), `${name}: ${file}`).toBe(0);
      expect(streamed.files).toEqual(inMemory.files);
    });
  }

  it('net2net --split first preserves the function, differs from the even split, and ligo defaults to it', async () => {
    const source = path.join(GOLDEN_DIR, 'llama-gqa-untied');
    const common: GrowOptions = { source, out: '', method: 'net2net', hiddenSize: 128, layers: 4, backend: 'wasm', data: tokens, batchSize: 2, seqLen: 16 };
    const first = await grow({ ...common, out: path.join(work, 'split-first'), split: 'first' });
    const even = await grow({ ...common, out: path.join(work, 'split-even') });
    expect(Math.abs((first.heldOut.grown ?? 0) - (first.heldOut.source ?? 1))).toBeLessThan(1e-5);
    expect(first.init).toContain('copies split onto the first');
    expect(even.init).not.toContain('first');
    const [a, b] = [await grownBytes(first.out), await grownBytes(even.out)];
    expect(Buffer.compare(a.get('model.safetensors') as Buffer, b.get('model.safetensors') as Buffer)).not.toBe(0);
    await expect(grow({ ...common, out: path.join(work, 'split-bad'), split: 'half' as 'even' })).rejects.toThrow(/--split: expected one of even, first, got "half"/);
    // Its saved operator rebuilds the same model.
    const applied = await apply({ source, operator: first.out, out: path.join(work, 'split-first-applied'), backend: 'wasm' });
    const c = await grownBytes(applied.out);
    expect(Buffer.compare(c.get('model.safetensors') as Buffer, a.get('model.safetensors') as Buffer)).toBe(0);
  });

  it('ligo streams its LayerNorm mean-filled start equal to the in-memory one to float32 rounding', async () => {
    const common: GrowOptions = { source: path.join(GOLDEN_DIR, 'gpt-neox-pythia'), out: '', hiddenSize: 96, layers: 4, backend: 'wasm' };
    const streamed = await grow({ ...common, out: path.join(work, 'neox-ligo-streamed') });
    const inMemory = await grow({ ...common, out: path.join(work, 'neox-ligo-memory'), data: tokens, batchSize: 2, seqLen: 16 });
    const [a, b] = [await loadModel(streamed.out), await loadModel(inMemory.out)];
    try {
      for (const [name, t] of a.weights) {
        const other = b.weights.get(name);
        if (!other) throw new Error(`in-memory model has no ${name}`);
        expect(tf.tidy(() => tf.max(tf.abs(tf.sub(t, other))).dataSync()[0]), name).toBeLessThan(1e-6);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('random is reproducible for every seed, 0 included (tfjs would take seed 0 as no seed)', async () => {
    const run = async (out: string): Promise<Map<string, Buffer>> =>
      grownBytes((await grow({ source: path.join(GOLDEN_DIR, 'llama-gqa-untied'), out: path.join(work, out), method: 'random', seed: 0, hiddenSize: 96, backend: 'wasm' })).out);
    const [a, b] = [await run('random-seed0-a'), await run('random-seed0-b')];
    for (const [file, bytes] of a) expect(Buffer.compare(bytes, b.get(file) as Buffer), file).toBe(0);
  });

  it('refuses a learning phase or a random start without --data, naming the flag, before reading any weights', async () => {
    const common: GrowOptions = { source: path.join(GOLDEN_DIR, 'gpt2-bare-bf16'), out: path.join(work, 'no-data'), hiddenSize: 64, backend: 'wasm' };
    await expect(grow({ ...common, steps: 5 })).rejects.toThrow(/--data: --steps 5 learns the operator on text/);
    await expect(grow({ ...common, noise: 1e-3 })).rejects.toThrow(/--noise: a noisy start is drawn and measured in memory/);
    await expect(readdir(work)).resolves.not.toContain('no-data');
  });
});

import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/index.js';
import { initBackend } from '../../src/backend/index.js';
import { DataError, UsageError } from '../../src/errors.js';
import { evaluateTokens, maskTokenIdFor, resolveSeqLen } from '../../src/eval/index.js';
import { GOLDEN, GPT2_DIR, SAMPLE_TEXT } from '../cli/helpers.js';

const tokens = new Int32Array(Buffer.from(SAMPLE_TEXT, 'utf8'));

function lookup(model: LoadedModel, name: string): tf.Tensor {
  const t = model.weights.get(name);
  if (t === undefined) throw new Error(`no weight ${name}`);
  return t;
}

describe('evaluateTokens', () => {
  let gpt2: LoadedModel;
  let bert: LoadedModel;

  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    gpt2 = await loadModel(GPT2_DIR);
    bert = await loadModel(path.join(GOLDEN, 'bert-mlm'));
  });
  afterAll(() => {
    gpt2.dispose();
    bert.dispose();
  });

  it('gives the same loss for any batch size and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const one = await evaluateTokens({ dims: gpt2.dims, weights: gpt2.weights, tokens, seqLen: 20, batchSize: 1 });
    const many = await evaluateTokens({ dims: gpt2.dims, weights: (n) => lookup(gpt2, n), tokens, seqLen: 20, batchSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
    expect(one.windows).toBe(Math.floor(tokens.length / 20));
    expect(one.tokens).toBe(one.windows * 19);
    expect(Math.abs(one.loss - many.loss)).toBeLessThan(1e-5);
    expect(one.perplexity).toBeCloseTo(Math.exp(one.loss), 8);
  });

  it('gives each window its own loss on request, matching that window evaluated alone', async () => {
    const seqLen = 20;
    const before = tf.memory().numTensors;
    const all = await evaluateTokens({ dims: gpt2.dims, weights: gpt2.weights, tokens, seqLen, batchSize: 3, perWindow: true });
    expect(tf.memory().numTensors).toBe(before);
    const losses = all.windowLosses ?? [];
    expect(losses).toHaveLength(all.windows);
    for (const i of [0, 1, all.windows - 1]) {
      const alone = await evaluateTokens({ dims: gpt2.dims, weights: gpt2.weights, tokens: tokens.subarray(i * seqLen, (i + 1) * seqLen), seqLen });
      expect(Math.abs(losses[i] - alone.loss)).toBeLessThan(1e-5);
    }
    // Causal windows predict equally many tokens: the loss is their plain mean.
    expect(Math.abs(losses.reduce((a, b) => a + b, 0) / losses.length - all.loss)).toBeLessThan(1e-5);
    expect((await evaluateTokens({ dims: gpt2.dims, weights: gpt2.weights, tokens, seqLen })).windowLosses).toBeUndefined();
  });

  it('rejects bad window settings and foreign token ids with typed errors', async () => {
    const base = { dims: gpt2.dims, weights: gpt2.weights, tokens };
    await expect(evaluateTokens({ ...base, seqLen: 1 })).rejects.toThrow(UsageError);
    await expect(evaluateTokens({ ...base, seqLen: 65 })).rejects.toThrow(/seqLen 65 exceeds the model's 64 positions/);
    await expect(evaluateTokens({ ...base, seqLen: 16, batchSize: 0 })).rejects.toThrow(/--batch-size/);
    await expect(evaluateTokens({ ...base, tokens: tokens.subarray(0, 10), seqLen: 16 })).rejects.toThrow(DataError);
    await expect(evaluateTokens({ ...base, tokens: Int32Array.from([1, 2, 300, 4]), seqLen: 2 })).rejects.toThrow(/id 300/);
  });

  it('scores BERT with a seeded masked-LM loss that does not depend on the batch size', async () => {
    const maskTokenId = 4;
    const base = { dims: bert.dims, weights: bert.weights, tokens, seqLen: 32, maskTokenId };
    const a = await evaluateTokens({ ...base, batchSize: 2 });
    const b = await evaluateTokens({ ...base, batchSize: 5 });
    const reseeded = await evaluateTokens({ ...base, maskSeed: 1 });
    expect(a.objective).toBe('mlm');
    expect(a.tokens).toBe(b.tokens);
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    // about 15% of the positions are predicted
    expect(a.tokens / (a.windows * 32)).toBeGreaterThan(0.08);
    expect(a.tokens / (a.windows * 32)).toBeLessThan(0.25);
    expect(reseeded.loss).not.toBe(a.loss);
    await expect(evaluateTokens({ ...base, maskTokenId: undefined })).rejects.toThrow(/MASK/);
  });

  it('finds BERT\'s [MASK] id in config.json, else fails naming tokenizer.json', async () => {
    const dir = path.join(GOLDEN, 'bert-mlm');
    expect(await maskTokenIdFor(dir, { mask_token_id: 103 })).toBe(103);
    await expect(maskTokenIdFor(dir, {})).rejects.toThrow(/tokenizer\.json: no \[MASK\] token/);
  });
});

describe('resolveSeqLen: one rule for grow, compare and eval', () => {
  const dims = { maxPositions: 64 } as Parameters<typeof resolveSeqLen>[2];
  it('caps a default at the positions silently, and a requested length with one line naming the config field', () => {
    const lines: string[] = [];
    expect(resolveSeqLen(undefined, 128, dims, 'n_positions', (l) => lines.push(l))).toBe(64);
    expect(lines).toEqual([]);
    expect(resolveSeqLen(100, 128, dims, 'n_positions', (l) => lines.push(l))).toBe(64);
    expect(lines).toEqual(["--seq-len 100 is more than the model's 64 positions (n_positions in config.json): using 64"]);
    expect(resolveSeqLen(32, 128, dims, 'n_positions', (l) => lines.push(l))).toBe(32);
    expect(lines).toHaveLength(1);
  });
  it('refuses a length that is not an integer of at least 2, naming --seq-len', () => {
    for (const bad of [1, 0, -3, 2.5]) expect(() => resolveSeqLen(bad, 128, dims, undefined)).toThrow(/--seq-len must be an integer >= 2/);
  });
});

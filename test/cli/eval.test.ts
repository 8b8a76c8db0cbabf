import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/index.js';
import { initBackend } from '../../src/backend/index.js';
import { forward } from '../../src/models/index.js';
import { errorLines, GOLDEN, GPT2_DIR, LLAMA_DIR, NEOX_DIR, PHI3_DIR, lastJson, ligo, ligoProcess, SAMPLE_TEXT, tempDir, type TempDir } from './helpers.js';

/**
 * The eval contract computed by hand: windows of T bytes (the golden tokenizers map bytes to
 * ids), each predicting tokens 1..T-1, loss = mean of logsumexp(logits) - logit[target] in float64.
 */
async function referenceLoss(dir: string, ids: Int32Array, seqLen: number): Promise<{ loss: number; predicted: number }> {
  const model = await loadModel(dir);
  try {
    const windows = Math.floor(ids.length / seqLen);
    const V = model.dims.vocabSize;
    const logits = tf.tidy(() => {
      const input = tf.tensor2d(ids.subarray(0, windows * seqLen), [windows, seqLen], 'int32');
      return forward(model.dims, (name) => {
        const t = model.weights.get(name);
        if (t === undefined) throw new Error(`no weight ${name}`);
        return t;
      }, { ids: input });
    });
    const values = await logits.data();
    logits.dispose();
    let sum = 0;
    let predicted = 0;
    for (let w = 0; w < windows; w++) {
      for (let t = 0; t < seqLen - 1; t++) {
        const row = values.subarray((w * seqLen + t) * V, (w * seqLen + t + 1) * V);
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let total = 0;
        for (const x of row) total += Math.exp(x - max);
        const target = ids[w * seqLen + t + 1];
        sum += max + Math.log(total) - row[target];
        predicted++;
      }
    }
    return { loss: sum / predicted, predicted };
  } finally {
    model.dispose();
  }
}

describe('ligo eval', () => {
  let tmp: TempDir;
  let textFile: string;
  const bytes = new Int32Array(Buffer.from(SAMPLE_TEXT, 'utf8'));

  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    tmp = await tempDir();
    textFile = await tmp.file('sample.txt', SAMPLE_TEXT);
  });
  afterAll(() => tmp.remove());

  const families = [
    ['gpt2', GPT2_DIR],
    ['llama', LLAMA_DIR],
    ['llama3 rope scaling', path.join(GOLDEN, 'llama3-rope-scaling')],
    ['qwen3', path.join(GOLDEN, 'qwen3-qknorm')],
    ['gemma', path.join(GOLDEN, 'gemma-scaled')],
    ['gpt_neox', NEOX_DIR],
    ['phi3', PHI3_DIR],
  ] as const;
  for (const [name, dir] of families) {
    it(`${name}: --json loss equals a hand-computed mean cross-entropy`, async () => {
      const seqLen = 32;
      const maxTokens = 300;
      // One family runs as a real process: the JSON line must survive stdout as a pipe.
      const run = await (name === 'gpt2' ? ligoProcess : ligo)(['eval', dir, '--data', textFile, '--seq-len', `${seqLen}`, '--max-tokens', `${maxTokens}`, '--batch-size', '3', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const result = lastJson(run);
      const reference = await referenceLoss(dir, bytes.subarray(0, maxTokens), seqLen);
      expect(result.windows).toBe(Math.floor(maxTokens / seqLen));
      expect(result.tokens).toBe(reference.predicted);
      expect(result.seqLen).toBe(seqLen);
      expect(result.backend).toBe('wasm');
      expect(result.objective).toBe('causal');
      expect(Math.abs(Number(result.loss) - reference.loss)).toBeLessThan(1e-5);
      expect(Number(result.perplexity)).toBeCloseTo(Math.exp(reference.loss), 3);
      expect(Number(result.tokensPerSecond)).toBeGreaterThan(0);
    });
  }

  it('defaults --seq-len to the model positions (64) and keeps stdout to the result', async () => {
    const run = await ligo(['eval', GPT2_DIR, '--data', textFile]);
    expect(run.code, run.stderr).toBe(0);
    const windows = Math.floor(bytes.length / 64);
    expect(run.stdout).toMatch(new RegExp(`^tokens +${windows * 63} predicted \\(${windows} windows of 64\\)$`, 'm'));
    expect(run.stdout).toMatch(/^loss +\d+\.\d{4}$/m);
    expect(run.stdout).toMatch(/^perplexity +\d+\.\d{2}$/m);
    expect(run.stdout).toMatch(/^backend +wasm$/m);
    expect(run.stdout).toMatch(/^throughput +[\d,]+ tokens\/s/m);
    // Not a terminal, so progress is a plain line on stderr, never on stdout.
    expect(run.stderr).toMatch(new RegExp(`^eval: ${windows}/${windows} windows$`, 'm'));
  });

  it('--quiet --json prints exactly one JSON line and nothing on stderr', async () => {
    const run = await ligo(['eval', GPT2_DIR, '--data', textFile, '--seq-len', '16', '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(lastJson(run).windows).toBe(Math.floor(bytes.length / 16));
  });

  it('--seq-len beyond the model positions runs at the positions and says so in one line, as grow and compare do', async () => {
    const run = await ligo(['eval', GPT2_DIR, '--data', textFile, '--seq-len', '65', '--json']);
    expect(run.code).toBe(0);
    const said = run.stderr.split('\n').filter((l) => l.includes('--seq-len'));
    expect(said).toEqual([expect.stringMatching(/^--seq-len 65 is more than the model's 64 positions \(n_positions in config\.json\): using 64$/)]);
    expect(JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}').seqLen).toBe(64);
  });

  it('a non-numeric --batch-size exits 2 quoting the value', async () => {
    const run = await ligo(['eval', GPT2_DIR, '--data', textFile, '--batch-size', 'many']);
    expect(run.code).toBe(2);
    expect(errorLines(run)[0]).toBe('ligo: --batch-size expects a number, got "many"');
  });

  it('--threads must be a positive integer (exit 2); --threads 1 runs', async () => {
    const bad = await ligo(['eval', GPT2_DIR, '--data', textFile, '--threads', '0']);
    expect(bad.code).toBe(2);
    expect(errorLines(bad)[0]).toBe('ligo: --threads: expected a positive integer, got 0');
    const one = await ligoProcess(['eval', GPT2_DIR, '--data', textFile, '--seq-len', '16', '--threads', '1', '--json']);
    expect(one.code).toBe(0);
    expect(lastJson(one).windows).toBeGreaterThan(0);
  });

  it('data shorter than one window exits 1', async () => {
    const short = await tmp.file('short.txt', 'too short');
    const run = await ligo(['eval', GPT2_DIR, '--data', short, '--seq-len', '32']);
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toMatch(/9 tokens, fewer than one window of --seq-len 32/);
  });

  it('a missing data file exits 1 naming it', async () => {
    const run = await ligo(['eval', LLAMA_DIR, '--data', `${tmp.dir}/absent.txt`]);
    expect(run.code).toBe(1);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toContain(`${tmp.dir}/absent.txt`);
  });

  it('a missing model directory exits 1 naming it', async () => {
    const run = await ligo(['eval', `${tmp.dir}/no-model`, '--data', textFile]);
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toContain(`${tmp.dir}/no-model`);
  });

  it('--data is required (exit 2)', async () => {
    const run = await ligo(['eval', GPT2_DIR]);
    expect(run.code).toBe(2);
    expect(errorLines(run)[0]).toMatch(/data/);
  });
});

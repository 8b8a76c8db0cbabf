import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorLines, GOLDEN, GPT2_DIR, LLAMA_DIR, lastJson, ligo, ligoProcess } from './helpers.js';

type Config = Record<string, number | boolean | null | undefined>;

async function config(dir: string): Promise<Config> {
  return JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Config;
}

const num = (c: Config, key: string): number => {
  const v = c[key];
  if (typeof v !== 'number') throw new Error(`config.json: ${key} is not a number`);
  return v;
};

/** GPT-2 parameters from config.json alone: embeddings, per layer 2 LayerNorms + attention + MLP with biases, final LN; lm_head tied. */
function gpt2Parameters(c: Config): number {
  const C = num(c, 'n_embd');
  const I = typeof c.n_inner === 'number' ? c.n_inner : 4 * C;
  const perLayer = 4 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * I + I) + (I * C + C);
  return num(c, 'vocab_size') * C + num(c, 'n_positions') * C + num(c, 'n_layer') * perLayer + 2 * C;
}

/** Llama parameters: no biases, 2 RMSNorm gains per layer, q/k/v/o, gate/up/down, final norm, untied head. */
function llamaParameters(c: Config): number {
  const C = num(c, 'hidden_size');
  const H = num(c, 'num_attention_heads');
  const hd = typeof c.head_dim === 'number' ? c.head_dim : C / H;
  const kv = num(c, 'num_key_value_heads');
  const I = num(c, 'intermediate_size');
  const V = num(c, 'vocab_size');
  const perLayer = 2 * C + C * H * hd + 2 * C * kv * hd + H * hd * C + 3 * C * I;
  return V * C + num(c, 'num_hidden_layers') * perLayer + C + (c.tie_word_embeddings === true ? 0 : V * C);
}

describe('ligo inspect', () => {
  it('--json reports GPT-2 dims and a parameter count that matches the formula', async () => {
    const run = await ligo(['inspect', GPT2_DIR, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run);
    const c = await config(GPT2_DIR);
    expect(report.parameters).toBe(gpt2Parameters(c));
    expect(report).toMatchObject({
      family: 'gpt2',
      modelType: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      tiedEmbeddings: true,
      dtypes: { F32: expect.any(Number) },
      dims: { hiddenSize: c.n_embd, numLayers: c.n_layer, numHeads: c.n_head, intermediateSize: c.n_inner },
    });
    const files = report.files as { file: string; bytes: number }[];
    expect(files.map((f) => f.file)).toEqual(['model.safetensors']);
    expect(report.totalBytes).toBe(files[0].bytes);
  });

  it('--json reports Llama GQA, untied head, and the formula parameter count', async () => {
    const run = await ligo(['inspect', LLAMA_DIR, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run);
    expect(report.parameters).toBe(llamaParameters(await config(LLAMA_DIR)));
    expect(report).toMatchObject({ family: 'llama', tiedEmbeddings: false, dims: { numHeads: 4, numKvHeads: 2 } });
  });

  it('shows GPT-NeoX\'s partial rotary and parallel residual, and Phi-3\'s fused checkpoint as phi3', async () => {
    const neox = await ligo(['inspect', path.join(GOLDEN, 'gpt-neox-pythia')]);
    expect(neox.code, neox.stderr).toBe(0);
    expect(neox.stdout).toMatch(/family\s+gpt_neox \(GPTNeoXForCausalLM\)/);
    expect(neox.stdout).toMatch(/rotary\s+first 4 of 16 dims per head \(0.25\)/);
    expect(neox.stdout).toMatch(/residual\s+parallel/);
    const phi3 = lastJson(await ligo(['inspect', path.join(GOLDEN, 'phi3-fused'), '--json']));
    expect(phi3).toMatchObject({ family: 'phi3', tiedEmbeddings: false, dims: { numHeads: 4, numKvHeads: 2, intermediateSize: 96 }, dtypes: { BF16: 15 } });
    // embed + lm_head + norm, and per layer 2 norms, qkv [H*hd + 2*KV*hd, C], o [C, C], gate_up [2F, C], down [C, F]
    const [C, F, V, L] = [64, 96, 256, 2];
    expect(phi3.parameters).toBe(2 * V * C + C + L * (2 * C + (64 + 2 * 32) * C + C * C + 2 * F * C + C * F));
  });

  it('lists ignored legacy buffers and BF16 storage', async () => {
    const report = lastJson(await ligo(['inspect', path.join(GOLDEN, 'gpt2-bare-bf16'), '--json']));
    expect(report.ignoredTensors).toEqual(['h.0.attn.bias', 'h.1.attn.bias']);
    expect(Object.keys(report.dtypes as object)).toEqual(['BF16']);
  });

  it('prints an aligned table for humans, with thousands separators', async () => {
    const run = await ligo(['inspect', GPT2_DIR, '--tensors']);
    expect(run.code, run.stderr).toBe(0);
    const expected = gpt2Parameters(await config(GPT2_DIR)).toLocaleString('en-US');
    expect(run.stdout).toMatch(new RegExp(`^parameters +${expected}$`, 'm'));
    expect(run.stdout).toMatch(/^family +gpt2 \(GPT2LMHeadModel\)$/m);
    expect(run.stdout).toMatch(/^tied embeddings +yes$/m);
    expect(run.stdout).toMatch(/^transformer\.h\.1\.mlp\.c_fc\.weight +F32 +\[48, 80\] +model\.safetensors$/m);
    const valueColumn = run.stdout
      .split('\n')
      .slice(0, 6)
      .map((l) => /^.*?\S\s{2,}/.exec(l)?.[0].length);
    expect(new Set(valueColumn).size).toBe(1);
  });

  it('a missing directory exits 1 with one error line naming the path', async () => {
    const missing = path.join(GOLDEN, 'no-such-model');
    const run = await ligoProcess(['inspect', missing]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const errors = errorLines(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(missing);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag exits 2', async () => {
    const run = await ligoProcess(['inspect', GPT2_DIR, '--no-such-flag', '--bogus=3']);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual(['ligo: unknown arguments: --no-such-flag, --bogus']);
    expect(run.stderr).toMatch(/^hint: see ligo inspect --help$/m);
  });
});

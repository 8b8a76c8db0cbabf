import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, GOLDEN, LLAMA_DIR, lastJson, ligo, ligoProcess } from './helpers.js';

let work: string;
let data: string;

describe('ligo grow / apply', () => {
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ligo-cli-grow-'));
    data = path.join(work, 'text.txt');
    await writeFile(data, (await readFile('fixtures/text/corpus.txt', 'utf8')).slice(0, 8000));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('grows with --json: one summary object on the last stdout line, files on disk, loss recorded', async () => {
    const out = path.join(work, 'llama-grown');
    const run = await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--layers', '3', '--data', data, '--steps', '3',
      '--batch-size', '2', '--seq-len', '32', '--out', out, '--json', '--backend', 'wasm']);
    expect(run.code, run.stderr).toBe(0);
    const report = lastJson(run);
    expect(report).toMatchObject({ method: 'ligo', steps: 3, out, backend: 'wasm' });
    expect((report.targetDims as Record<string, unknown>).numKvHeads).toBe(4);
    expect(await readdir(out)).toContain('ligo_operator.safetensors');
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ hidden_size: 128, num_hidden_layers: 3, num_attention_heads: 8, num_key_value_heads: 4, rope_theta: 500000 });
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const out = path.join(work, 'dry');
    const run = await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--data', data, '--steps', '20', '--dry-run', '--out', out, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const plan = lastJson(run);
    expect((plan.parameters as Record<string, number>).target).toBeGreaterThan((plan.parameters as Record<string, number>).source);
    expect((plan.learningMemory as Record<string, number>).totalBytes).toBeGreaterThan(0);
    await expect(readdir(out)).rejects.toThrow();
    // By default ligo writes its start: no learning phase to fit.
    const start = lastJson(await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--dry-run', '--out', out, '--json']));
    expect(start.learningMemory).toBeUndefined();
    expect(start.method).toBe('ligo');
    // What grow would refuse, the plan refuses: a learning phase needs --data.
    const refused = await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--steps', '20', '--dry-run', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--data: --steps 20 learns the operator on text/);
  });

  it('--target-config takes the dimensions from a config.json, flags override it', async () => {
    const target = path.join(work, 'target.json');
    await writeFile(target, JSON.stringify({ model_type: 'llama', hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 4, intermediate_size: 192, vocab_size: 256 }));
    const run = await ligo(['grow', LLAMA_DIR, '--target-config', target, '--layers', '5', '--dry-run', '--out', path.join(work, 'x'), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run).target).toMatchObject({ hiddenSize: 128, numLayers: 5, numHeads: 8, numKvHeads: 4, intermediateSize: 192 });
    await writeFile(target, '[1, 2]');
    const bad = await ligo(['grow', LLAMA_DIR, '--target-config', target, '--dry-run', '--out', path.join(work, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--target-config: .*target\.json is not a JSON object/);
  });

  it('apply rebuilds a grown model from its operator', async () => {
    const grown = path.join(work, 'llama-grown');
    const again = path.join(work, 'applied');
    const run = await ligo(['apply', LLAMA_DIR, '--operator', grown, '--out', again, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const a = await readFile(path.join(grown, 'model.safetensors'));
    const b = await readFile(path.join(again, 'model.safetensors'));
    expect(a.equals(b)).toBe(true);
  });

  it.each([
    [['--layers', '1'], /--layers: target 1 is smaller than the source's 2/],
    [['--hidden-size', '128', '--heads', '8', '--kv-heads', '3'], /--kv-heads: 3 KV heads do not divide 8/],
    [['--layers', '4', '--method', 'magic'], /method/],
    [['--layers', '4', '--steps', '5'], /--data: --steps 5 learns the operator on text/],
    [[], /give the target size/],
  ])('usage errors exit 2 with one line: %s', async (flags, message) => {
    const run = await ligo(['grow', LLAMA_DIR, '--out', path.join(work, 'never'), ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n').filter((l) => l.startsWith('ligo:'))).toHaveLength(1);
    await expect(readdir(path.join(work, 'never'))).rejects.toThrow();
  });

  it('GPT-2 heads must divide the width (exit 2)', async () => {
    const run = await ligo(['grow', path.join(GOLDEN, 'gpt2-prefixed'), '--hidden-size', '100', '--heads', '8', '--out', path.join(work, 'never')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--heads: 8 heads do not divide --hidden-size 100/);
  });

  it('GPT-NeoX: --heads giving a head_dim whose rotated share is odd exits 2 with one line', async () => {
    const run = await ligo(['grow', path.join(GOLDEN, 'gpt-neox-pythia'), '--hidden-size', '80', '--heads', '4', '--method', 'net2net', '--out', path.join(work, 'never')]);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual(['ligo: --heads: head_dim 20 would rotate 5 dims (0.25 of each head); RoPE needs an even number']);
    expect(run.stderr).toMatch(/hint: keep head_dim 16/);
  });

  it('a learning phase that cannot fit fails before it starts, with the estimate and a hint (exit 1)', async () => {
    const run = await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--data', data, '--steps', '20', '--batch-size', '20000', '--seq-len', '64',
      '--out', path.join(work, 'never'), '--backend', 'wasm']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ligo: the learning phase needs about [\d.]+ GiB \(source .*activations .*\), more than 4\.0 GiB \(the wasm backend heap limit\)/);
    // Recomputation was chosen by itself (one line says so) and did not make it fit either.
    expect(run.stderr).toMatch(/without recomputation the learning phase needs about [\d.]+ GiB, more than 4\.0 GiB .*: recomputing each layer in backpropagation/);
    expect(run.stderr).toMatch(/hint: lower --batch-size \(20000\)/);
    const refused = await ligo(['grow', LLAMA_DIR, '--hidden-size', '128', '--data', data, '--steps', '20', '--batch-size', '20000', '--seq-len', '64',
      '--out', path.join(work, 'never'), '--backend', 'wasm', '--no-recompute']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).not.toMatch(/recomputing each layer/);
    expect(refused.stderr).toMatch(/hint: allow --recompute \(activations of one layer at a time\), lower --batch-size \(20000\)/);
  });

  it('recomputation is chosen only where the learning phase would not fit without it', async () => {
    const run = await ligo(['grow', LLAMA_DIR, '--layers', '3', '--data', data, '--steps', '1', '--seq-len', '16', '--out', path.join(work, 'fits'), '--backend', 'wasm']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/recomputing each layer/);
  });

  it('--recompute lowers the estimate (activations of one layer at a time) and drops the --recompute hint', async () => {
    const args = ['grow', LLAMA_DIR, '--hidden-size', '128', '--layers', '6', '--data', data, '--steps', '20', '--batch-size', '20000', '--seq-len', '64', '--out', path.join(work, 'never'), '--backend', 'wasm'];
    const plain = await ligo([...args, '--no-recompute']);
    const recomputed = await ligo([...args, '--recompute']);
    expect(recomputed.code).toBe(1);
    const activations = (run: { stderr: string }): number => Number(/activations ([\d.]+) GiB/.exec(run.stderr)?.[1]);
    expect(activations(recomputed)).toBeLessThan(activations(plain) / 2);
    expect(recomputed.stderr).toMatch(/hint: lower --batch-size \(20000\)/);
  });

  it('a .bin with ids outside the vocabulary is refused before training (exit 1)', async () => {
    const bin = path.join(work, 'ids.bin');
    const ids = new Uint16Array(200).fill(7);
    ids[150] = 300; // the golden models have 256 tokens
    await writeFile(bin, Buffer.from(ids.buffer));
    const run = await ligo(['grow', LLAMA_DIR, '--layers', '3', '--data', bin, '--seq-len', '16', '--out', path.join(work, 'never')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ids\.bin: token 150 of the data has id 300, outside the model's vocabulary of 256/);
  });

  it('a non-empty --out is refused (exit 2) unless --overwrite', async () => {
    const run = await ligo(['grow', LLAMA_DIR, '--layers', '3', '--method', 'stack', '--out', path.join(work, 'llama-grown')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/already exists/);
    expect(run.stderr).toMatch(/--overwrite/);
  });

  it('data shorter than one window is a clear runtime error (exit 1) and leaves nothing behind', async () => {
    const tiny = path.join(work, 'tiny.txt');
    await writeFile(tiny, 'too short');
    const run = await ligoProcess(['grow', path.join(GOLDEN, 'gpt2-prefixed'), '--layers', '3', '--data', tiny, '--seq-len', '32', '--out', path.join(work, 'short')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/tiny\.txt/);
    expect((await readdir(work)).filter((f) => f.includes('short'))).toEqual([]);
  });
});

import { cp, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, GOLDEN, lastJson, ligo, tempDir, type TempDir } from './helpers.js';

const LLAMA3 = path.join(GOLDEN, 'llama3-rope-scaling');
const QWEN3 = path.join(GOLDEN, 'qwen3-qknorm');
const GEMMA = path.join(GOLDEN, 'gemma-scaled');

type Config = Record<string, unknown>;

async function config(dir: string): Promise<Config> {
  return JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Config;
}

/** Llama-layout parameters: 2 norm gains, q/k/v/o, gate/up/down per layer, final norm, tied head; plus Qwen3's q/k norm gains. */
function parameters(c: Config, qkNorm: boolean): number {
  const n = (key: string): number => c[key] as number;
  const [C, hd, I] = [n('hidden_size'), n('head_dim'), n('intermediate_size')];
  const perLayer = 2 * C + C * n('num_attention_heads') * hd * 2 + 2 * C * n('num_key_value_heads') * hd + 3 * C * I + (qkNorm ? 2 * hd : 0);
  return n('vocab_size') * C + n('num_hidden_layers') * perLayer + C;
}

describe('Llama 3 RoPE scaling, Qwen3 and Gemma in the CLI', () => {
  let tmp: TempDir;

  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(() => tmp.remove());

  /** A copy of a golden case with config.json fields replaced (undefined deletes). */
  async function variant(dir: string, name: string, changes: Config): Promise<string> {
    const out = path.join(tmp.dir, name);
    await cp(dir, out, { recursive: true });
    const c = { ...(await config(dir)), ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === undefined) delete c[key];
    await writeFile(path.join(out, 'config.json'), JSON.stringify(c));
    return out;
  }

  it.each([
    [LLAMA3, 'llama', 'llama', false, /^rope +theta 500000, llama3 scaling x8 \(original 256 positions\)$/m],
    [QWEN3, 'llama', 'qwen3', true, /^rope +theta 1000000, q\/k RMSNorm per head$/m],
    [GEMMA, 'gemma', 'gemma', false, /^scaling +embeddings x sqrt\(48\), norm gains applied as 1 \+ w$/m],
  ] as const)('inspect %s: family, parameters from the formula, and what the forward pass does', async (dir, family, modelType, qkNorm, line) => {
    const report = lastJson(await ligo(['inspect', dir, '--json']));
    expect(report).toMatchObject({ family, modelType, tiedEmbeddings: true });
    expect(report.parameters).toBe(parameters(await config(dir), qkNorm));
    const run = await ligo(['inspect', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(line);
  });

  it('inspect shows the activation Gemma runs when hidden_act names another', async () => {
    const dir = await variant(GEMMA, 'gemma-old-config', { hidden_act: 'gelu', hidden_activation: undefined });
    const run = await ligo(['inspect', dir]);
    expect(run.stdout).toMatch(/^activation +gelu_pytorch_tanh \(config\.json hidden_act "gelu" is not used\)$/m);
    expect(lastJson(await ligo(['inspect', dir, '--json']))).toMatchObject({ dims: { activation: 'gelu_pytorch_tanh' }, configActivation: 'gelu' });
  });

  it.each([
    ['rope_scaling yarn', LLAMA3, { rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported \(supported: default, linear, llama3\)/],
    ['legacy rope_scaling type dynamic', QWEN3, { rope_scaling: { type: 'dynamic', factor: 2 } }, /rope_scaling type "dynamic" is not supported \(supported: default, linear, llama3\)/],
    ['llama3 scaling without its fields', LLAMA3, { rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling "llama3" needs a positive number "low_freq_factor"/],
    ['an unknown family', LLAMA3, { model_type: 'falcon' }, /model_type "falcon" is not supported \(supported: .*qwen3.*gemma/],
    ['a Gemma activation ligo does not compute', GEMMA, { hidden_activation: 'relu' }, /hidden_activation "relu" is not supported \(supported: gelu_pytorch_tanh, gelu_new, gelu\)/],
  ])('refuses %s with one line naming it (exit 1)', async (name, dir, changes, message) => {
    const bad = await variant(dir, name.replace(/\W+/g, '-'), changes);
    const run = await ligo(['inspect', bad]);
    expect(run.code).toBe(1);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(message);
  });

  it.each([LLAMA3, QWEN3, GEMMA])('ligo grow --method net2net and ligo apply on %s write the same weights', async (dir) => {
    const name = path.basename(dir);
    const grown = path.join(tmp.dir, `${name}-grown`);
    const run = await ligo(['grow', dir, '--method', 'net2net', '--hidden-size', String(2 * ((await config(dir)).hidden_size as number)), '--layers', '4', '--out', grown, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(lastJson(run)).toMatchObject({ method: 'net2net', targetDims: { numLayers: 4 } });
    const applied = path.join(tmp.dir, `${name}-applied`);
    const again = await ligo(['apply', dir, '--operator', grown, '--out', applied, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const bytes = (d: string): Promise<Buffer> => readFile(path.join(d, 'model.safetensors'));
    expect((await bytes(applied)).equals(await bytes(grown))).toBe(true);
  });

  it('accepts rope_scaling default and linear', async () => {
    for (const scaling of [{ rope_type: 'default' }, { type: 'linear', factor: 2 }]) {
      const dir = await variant(LLAMA3, `rope-${String(Object.values(scaling)[0])}`, { rope_scaling: scaling });
      expect((await ligo(['inspect', dir])).code).toBe(0);
    }
  });
});

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { GROWTH_METHODS, type GrowthMethod } from '../../src/growth/plan.js';
import type { TargetOptions } from '../../src/growth/target.js';
import { forward } from '../../src/models/index.js';
import { GOLDEN_DIR, maxAbsDiff, weightsFrom } from '../models/helpers.js';

/** The families of issue 11 without fused tensors, each grown 2x in width and depth. */
const FAMILIES: [string, TargetOptions][] = [
  ['llama3-rope-scaling', { hiddenSize: 128, layers: 4 }],
  ['qwen3-qknorm', { hiddenSize: 128, layers: 4 }],
  ['gemma-scaled', { hiddenSize: 96, layers: 4 }],
];

let work: string;
let data: string;
const IDS = [[1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 10, 200, 255]];

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

async function logits(dir: string): Promise<Float32Array> {
  const model = await loadModel(dir);
  const ids = tf.tensor2d(IDS, [1, 16], 'int32');
  try {
    const out = tf.tidy(() => forward(model.dims, weightsFrom(model.weights), { ids }));
    const values = (await out.data()) as Float32Array;
    out.dispose();
    return values;
  } finally {
    ids.dispose();
    model.dispose();
  }
}

async function weights(dir: string): Promise<Buffer> {
  return readFile(path.join(dir, 'model.safetensors'));
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ligo-families-'));
  data = path.join(work, 'text.txt');
  await writeFile(data, (await readFile('fixtures/text/corpus.txt', 'utf8')).slice(0, 6000));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(FAMILIES)('%s grows with every method', (name, target) => {
  const source = path.join(GOLDEN_DIR, name);
  const outs = new Map<GrowthMethod, string>();

  it.each([...GROWTH_METHODS])('%s: a loadable model with the target sizes, finite logits, every source config field kept', async (method) => {
    const learns = method === 'ligo';
    const report = await grow({
      source,
      out: path.join(work, `${name}-${method}`),
      method,
      ...target,
      ...(learns ? { data, steps: 2, batchSize: 2, seqLen: 16 } : {}),
      seed: 1,
      backend: 'wasm',
    });
    outs.set(method, report.out);
    const before = await json(path.join(source, 'config.json'));
    const after = await json(path.join(report.out, 'config.json'));
    for (const key of Object.keys(before)) expect(Object.keys(after), key).toContain(key);
    expect(after).toMatchObject({ model_type: before.model_type, hidden_size: target.hiddenSize, num_hidden_layers: target.layers });
    expect(after.rope_scaling).toEqual(before.rope_scaling);
    const values = await logits(report.out);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it('net2net preserves the logits through the written files', async () => {
    const dir = outs.get('net2net');
    if (!dir) throw new Error('net2net did not run');
    const diff = maxAbsDiff(await logits(dir), await logits(source));
    console.log(`${name} net2net ${JSON.stringify(target)} from disk: max |logit diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it.each(['ligo', 'net2net'] as const)('apply with the operator %s saved rebuilds its weights byte for byte', async (method) => {
    const grown = outs.get(method);
    if (!grown) throw new Error(`${method} did not run`);
    const applied = await apply({ source, operator: grown, out: path.join(work, `${name}-${method}-applied`), backend: 'wasm' });
    expect((await weights(applied.out)).equals(await weights(grown))).toBe(true);
    expect(await readdir(applied.out)).toContain('config.json');
  });
});

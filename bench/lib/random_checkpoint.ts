/**
 * Checkpoints of real shapes with random weights, written with the project's own checkpoint
 * writer: what the benchmarks at real sizes grow (time and memory do not depend on the values,
 * and no pretrained weights can be downloaded here).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { resolveArchitecture, tensorSpecs } from '../../src/arch/index.js';
import { createCheckpointWriter } from '../../src/checkpoint/index.js';

const BF16_ONE = 0x3f80;

/**
 * Random BF16 weights without a float pass: random sign and mantissa, exponent 2^-9..2^-4, so
 * values look like a trained model's (|w| ~ 0.002-0.06). xorshift32, seeded per tensor.
 */
function randomBf16(count: number, seed: number): Uint8Array {
  const out = new Uint16Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r = s >>> 0;
    const exponent = 118 + (r % 6); // biased: 2^-9 .. 2^-4
    out[i] = ((r >>> 31) << 15) | (exponent << 7) | ((r >>> 8) & 0x7f);
  }
  return new Uint8Array(out.buffer);
}

/** Writes config.json and BF16 safetensors of `config`'s shapes into `dir`; returns the parameter count. */
export async function writeRandomCheckpoint(dir: string, config: Record<string, unknown>): Promise<number> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const { description, dims } = resolveArchitecture(config);
  const specs = tensorSpecs(description, dims);
  const writer = await createCheckpointWriter(dir, specs.map((s) => ({ name: s.name, dtype: 'BF16' as const, shape: s.shape })));
  let parameters = 0;
  for (const [i, spec] of specs.entries()) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    const data = spec.template.init === 'ones' ? new Uint8Array(new Uint16Array(n).fill(BF16_ONE).buffer) : randomBf16(n, 0x9e3779b9 ^ (i * 2654435761));
    await writer.write(spec.name, data);
  }
  await writer.close();
  return parameters;
}

/** Whether `dir` already holds a checkpoint (the benchmarks reuse what an earlier run wrote). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.includes('config.json') && files.some((f) => f.endsWith('.safetensors'));
}

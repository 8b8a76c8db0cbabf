import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { decodeToInt32 } from '../../src/checkpoint/dtypes.js';
import { SafetensorsFile } from '../../src/checkpoint/safetensors.js';

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../data/golden');
const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
const index = JSON.parse(await readFile(path.join(GOLDEN, 'index.json'), 'utf8')) as Record<string, { dtype: string }>;

/** Tensor count straight from the header JSON, independent of our parser. */
async function headerTensorCount(file: string): Promise<number> {
  const raw = await readFile(file);
  const header = JSON.parse(raw.subarray(8, 8 + Number(raw.readBigUInt64LE(0))).toString('utf8')) as object;
  return Object.keys(header).filter((k) => k !== '__metadata__').length;
}

describe('golden checkpoints', () => {
  it('are all present', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(new Set(Object.values(index).map((c) => c.dtype))).toEqual(new Set(['F32', 'F16', 'BF16']));
  });

  it.each(cases)('%s: every tensor decodes to finite numbers', async (name) => {
    const dir = path.join(GOLDEN, name);
    const ckpt = await openCheckpoint(dir);
    try {
      expect(ckpt.files).toEqual(['model.safetensors']);
      expect(ckpt.entries.size).toBe(await headerTensorCount(path.join(dir, 'model.safetensors')));
      const dtypes = new Set([...ckpt.entries.values()].map((e) => e.dtype));
      expect(dtypes).toEqual(new Set([index[name].dtype]));
      let total = 0;
      for (const [tensor, e] of ckpt.entries) {
        const v = await ckpt.readFloat32(tensor);
        expect(v.length, tensor).toBe(e.shape.reduce((a, b) => a * b, 1));
        const bad = v.findIndex((x) => !Number.isFinite(x));
        expect(bad, `${tensor}[${bad}] = ${v[bad]}`).toBe(-1);
        total += v.length;
      }
      expect(total).toBeGreaterThan(1000);
    } finally {
      await ckpt.close();
    }
  });

  it.each(cases)('%s: expected.safetensors holds I64 ids and F32 logits', async (name) => {
    const st = await SafetensorsFile.open(path.join(GOLDEN, name, 'expected.safetensors'));
    try {
      expect(st.entries.get('input_ids')).toMatchObject({ dtype: 'I64', shape: [2, 16] });
      expect(st.entries.get('logits')).toMatchObject({ dtype: 'F32', shape: [2, 16, 256] });
      const ids = decodeToInt32(await st.readBytes('input_ids'), 'I64');
      expect(ids.every((id) => id >= 0 && id < 256)).toBe(true);
      expect((await st.readFloat32('logits')).every(Number.isFinite)).toBe(true);
    } finally {
      await st.close();
    }
  });
});

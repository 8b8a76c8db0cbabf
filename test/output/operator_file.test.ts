import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { SafetensorsFile, serializeSafetensors } from '../../src/checkpoint/index.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { OPERATOR_FILE } from '../../src/output/files.js';
import { readOperator, SELECTIONS_KEY, writeOperator } from '../../src/output/operator_file.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { GOLDEN_DIR } from '../models/helpers.js';

let work: string;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function operatorFor(noise: number): Promise<GrowthOperator> {
  const model = await loadModel(path.join(GOLDEN_DIR, 'mistral-headdim'));
  try {
    const dims = resolveTarget(model.dims, { hiddenSize: 128, layers: 3, headDim: 32 }, model.description);
    const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent });
    return GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise, random: rng(1) });
  } finally {
    model.dispose();
  }
}

describe('ligo_operator.safetensors', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    work = await mkdtemp(path.join(tmpdir(), 'ligo-opfile-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['copy/split (selection form)', 0, true],
    ['noisy (dense)', 0.01, false],
  ])('round-trips a %s operator exactly', async (label, noise, compact) => {
    const op = await operatorFor(noise);
    const dir = await mkdtemp(path.join(work, 'rt-'));
    try {
      await writeOperator(dir, op, ['x']);
      const st = await SafetensorsFile.open(path.join(dir, OPERATOR_FILE));
      expect(st.metadata?.[SELECTIONS_KEY] !== undefined, label).toBe(compact);
      await st.close();
      const saved = await readOperator(dir);
      expect(saved.metadata.optionalPresent).toEqual(['x']);
      const arrays = await op.toArrays();
      expect([...saved.tensors.keys()].sort()).toEqual(arrays.map((a) => a.name).sort());
      for (const a of arrays) {
        const got = saved.tensors.get(a.name);
        expect(got?.shape).toEqual(a.shape);
        expect(Buffer.from(got?.data.buffer ?? new ArrayBuffer(0)).equals(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)), a.name).toBe(true);
      }
    } finally {
      op.dispose();
    }
  });

  it.each([
    ['llama-gqa-untied', { hiddenSize: 128, layers: 4 }],
    ['mistral-headdim', { hiddenSize: 128, layers: 3, headDim: 32 }],
    ['gpt2-bare-bf16', { hiddenSize: 64, layers: 3 }],
    ['gpt-neox-pythia', { hiddenSize: 128, layers: 4 }],
    ['phi3-fused', { hiddenSize: 128, layers: 4 }],
  ])('grow (net2net) -> apply is byte-identical for %s, from the compact file and from an old dense one', async (name, target) => {
    const source = path.join(GOLDEN_DIR, name);
    const grown = await grow({ source, out: path.join(work, `${name}-grown`), method: 'net2net', steps: 0, backend: 'wasm', seed: 1, ...target });
    const opFile = path.join(grown.out, OPERATOR_FILE);
    const bytes = (await stat(opFile)).size;
    const st = await SafetensorsFile.open(opFile);
    expect(st.metadata?.[SELECTIONS_KEY]).toBeDefined();
    // The operator in dense form, as files written before the compact form look.
    const saved = await readOperator(opFile);
    const meta = { ...(st.metadata ?? {}) };
    delete meta[SELECTIONS_KEY];
    await st.close();
    const oldFile = path.join(work, `${name}-old.safetensors`);
    await writeFile(
      oldFile,
      serializeSafetensors(
        [...saved.tensors].map(([n, t]) => ({ name: n, dtype: 'F32', shape: t.shape, data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) })),
        meta,
      ),
    );
    expect(bytes).toBeLessThan((await stat(oldFile)).size);
    const weights = await readFile(path.join(grown.out, 'model.safetensors'));
    for (const [label, operator] of [['compact', grown.out], ['old dense', oldFile]] as const) {
      const applied = await apply({ source, operator, out: path.join(work, `${name}-applied-${label.replace(' ', '-')}`), backend: 'wasm' });
      expect((await readFile(path.join(applied.out, 'model.safetensors'))).equals(weights), label).toBe(true);
      expect((await readFile(path.join(applied.out, OPERATOR_FILE))).equals(await readFile(label === 'compact' ? opFile : oldFile)), label).toBe(true);
    }
  });
});

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { LazyOperator } from '../../src/growth/lazy_operator.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { operatorShapes } from '../../src/growth/layout.js';
import { operatorReads } from '../../src/growth/operator_matrices.js';
import { openOperator } from '../../src/output/operator_file.js';
import { GOLDEN_DIR } from '../models/helpers.js';

let work: string;
let learned: string;

beforeAll(async () => {
  await (await import('../../src/backend/index.js')).initBackend({ backend: 'wasm' });
  work = await mkdtemp(path.join(tmpdir(), 'ligo-lazy-'));
  const tokens = path.join(work, 'tokens.bin');
  await writeFile(tokens, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 11) % 90).buffer));
  // A learned (dense) operator with an FFN and a head operator per large layer: most of its bytes are per layer.
  const report = await grow({
    source: path.join(GOLDEN_DIR, 'gpt2-bare-bf16'),
    out: path.join(work, 'learned'),
    data: tokens,
    hiddenSize: 64,
    layers: 6,
    steps: 2,
    batchSize: 2,
    seqLen: 16,
    seed: 1,
    backend: 'wasm',
    operator: 'dense',
  });
  learned = report.out;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('apply of a learned operator holds only the parameters of the tensor being built', () => {
  it('reads each tensor\'s parameters on demand, frees the others, and builds the same matrices as the whole operator', async () => {
    const saved = await openOperator(learned);
    const { planForOperator } = await import('../../src/output/operator_file.js');
    const { openModel } = await import('../../src/arch/load.js');
    const source = await openModel(path.join(GOLDEN_DIR, 'gpt2-bare-bf16'));
    const plan = planForOperator(source, saved.metadata);
    const baseline = tf.memory().numTensors;
    const whole = GrowthOperator.fromTensors(plan, await saved.readAll());
    const reads: string[] = [];
    const lazy = new LazyOperator(plan, (name) => {
      reads.push(name);
      return saved.read(name);
    });
    const before = tf.memory().numTensors;
    try {
      for (const t of plan.tensors) {
        const params = operatorReads(plan, t);
        await lazy.hold(params);
        expect(tf.memory().numTensors - before, t.name).toBe(params.length);
        for (const segments of t.axes) {
          for (const s of segments) {
            if (s.operator === null) continue;
            const id = s.operator;
            tf.tidy(() => {
              const a = lazy.widthMatrix(id, s.side).dataSync();
              const b = whole.widthMatrix(id, s.side).dataSync();
              expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)), `${t.name} ${id}.${s.side}`).toBe(0);
            });
          }
        }
      }
      // Parameters shared by consecutive tensors are not read again; per-layer ones are read per tensor kind.
      const used = new Set(plan.tensors.flatMap((t) => operatorReads(plan, t).map((p) => p.name)));
      expect(new Set(reads)).toEqual(used);
      expect([...used].every((name) => operatorShapes(plan).has(name))).toBe(true);
      expect(reads.length).toBeLessThan(plan.tensors.length * 3);
    } finally {
      lazy.dispose();
      whole.dispose();
      await source.close();
      await saved.file.close();
    }
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('apply keeps far less than the whole operator in tfjs and writes grow\'s bytes', async () => {
    const saved = await openOperator(learned);
    const shapes = [...saved.file.entries.values()].map((e) => e.end - e.start);
    await saved.file.close();
    const operatorBytes = shapes.reduce((a, b) => a + b, 0);
    const base = tf.memory().numBytes;
    let peak = 0;
    const report = await apply({
      source: path.join(GOLDEN_DIR, 'gpt2-bare-bf16'),
      operator: learned,
      out: path.join(work, 'applied'),
      backend: 'wasm',
      onProgress: () => void (peak = Math.max(peak, tf.memory().numBytes - base)),
    });
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(operatorBytes / 2);
    for (const f of (await readdir(report.out)).filter((name) => name.startsWith('model'))) {
      expect(Buffer.compare(await readFile(path.join(report.out, f)), await readFile(path.join(learned, f))), f).toBe(0);
    }
  });
});

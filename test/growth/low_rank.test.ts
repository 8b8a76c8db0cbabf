import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { applyLowRank, selectionTensors } from '../../src/growth/low_rank.js';
import { materializeAll, materializeEach } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { operatorShapes, trainableShapes } from '../../src/growth/layout.js';
import { DENSE_FORM, planGrowth, type GrowthPlan, type OperatorForm } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { causalLmLoss, forward } from '../../src/models/index.js';
import { openOperator } from '../../src/output/operator_file.js';
import { apply } from '../../src/pipeline/apply.js';
import { grow } from '../../src/pipeline/grow.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

const LOW_RANK: OperatorForm = { kind: 'lowrank', rank: 4 };

function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

function planFor(model: LoadedModel, target: TargetOptions, operator: OperatorForm): GrowthPlan {
  const dims = resolveTarget(model.dims, target, model.description);
  return planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent, operator });
}

const start = (plan: GrowthPlan): GrowthOperator =>
  GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, split: 'first', random: lcg(3) });

async function bytesOf(tensors: Map<string, tf.Tensor>): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const [name, t] of tensors) out.set(name, Buffer.from(((await t.data()) as Float32Array).buffer));
  return out;
}

describe('the low-rank operator: the starting selection plus a learned U V^T', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('applies S x + U (V^T x) on either axis, equal to the dense B = S + U V^T', () => {
    tf.tidy(() => {
      // S: large unit r copies small unit index[r] times scale[r]; unit 2 of 3 is copied twice, the last row averages.
      const sel = { index: Int32Array.from([0, 1, 2, 2, 3]), scale: Float32Array.from([1, 1, 1, 0, 0.5]), cols: 3 };
      const u = tf.tensor2d([1, 0, 0, 2, 1, 1, 0, 0, -1, 3], [5, 2]);
      const v = tf.tensor2d([0.5, 1, -1, 0, 2, 1], [3, 2]);
      const f = { start: selectionTensors(sel), u, v };
      const mean = [1 / 3, 1 / 3, 1 / 3];
      const s = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], mean.map((m) => 0.5 * m)]);
      const b = tf.add(s, tf.matMul(u, v, false, true)) as tf.Tensor2D; // [5, 3]
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [3, 4]);
      const rows = applyLowRank(x, 0, f).arraySync();
      const cols = applyLowRank(tf.transpose(x) as tf.Tensor2D, 1, f).arraySync();
      const expected = tf.matMul(b, x).arraySync() as number[][];
      rows.forEach((row, i) => row.forEach((value, j) => expect(value).toBeCloseTo(expected[i][j], 4)));
      cols.forEach((row, j) => row.forEach((value, i) => expect(value).toBeCloseTo(expected[i][j], 4)));
    });
  });

  it('trains a few MB where the dense operator trains more than the model it builds', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'gpt2-prefixed'));
    try {
      const dense = planFor(model, { hiddenSize: 192, layers: 4 }, DENSE_FORM);
      const lowRank = planFor(model, { hiddenSize: 192, layers: 4 }, LOW_RANK);
      const count = (shapes: Map<string, [number, number]>): number => [...shapes.values()].reduce((n, [r, c]) => n + r * c, 0);
      expect(lowRank.parameters.operator).toBe(count(trainableShapes(lowRank)));
      expect(dense.parameters.operator).toBe(count(trainableShapes(dense)));
      expect(lowRank.parameters.operator * 10).toBeLessThan(dense.parameters.operator);
      // The starts are in the file but do not train.
      expect(operatorShapes(lowRank).has('width.out')).toBe(true);
      expect(trainableShapes(lowRank).has('width.out')).toBe(false);
      expect(trainableShapes(lowRank).get('width.out.u')).toEqual([192, 4]);
    } finally {
      model.dispose();
    }
  });

  it.each([
    ['gpt2-prefixed', { hiddenSize: 96, layers: 3 }],
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }],
    ['gpt-neox-pythia', { hiddenSize: 128, layers: 3 }],
  ] as const)('%s: starts bit-identical to the dense operator\'s start', async (name, target) => {
    const model = await loadModel(path.join(GOLDEN_DIR, name));
    const lowRank = start(planFor(model, target, LOW_RANK));
    const dense = start(planFor(model, target, DENSE_FORM));
    try {
      const a = await bytesOf(materializeAll(lowRank.plan.tensors, weightsFrom(model.weights), lowRank));
      const b = await bytesOf(materializeAll(dense.plan.tensors, weightsFrom(model.weights), dense));
      for (const [tensor, bytes] of a) expect(Buffer.compare(bytes, b.get(tensor) ?? Buffer.alloc(0)), tensor).toBe(0);
    } finally {
      lowRank.dispose();
      dense.dispose();
      model.dispose();
    }
  });

  it.each([DENSE_FORM, LOW_RANK])('materializeEach builds materializeAll\'s bytes one tensor at a time, and frees all but them (%o)', async (form) => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'llama-gqa-untied'));
    const op = start(planFor(model, { hiddenSize: 96, layers: 3 }, form));
    try {
      const before = tf.memory().numTensors;
      const each = materializeEach(op.plan.tensors, weightsFrom(model.weights), op);
      expect(tf.memory().numTensors - before).toBe(each.size);
      const all = materializeAll(op.plan.tensors, weightsFrom(model.weights), op);
      const a = await bytesOf(each);
      const b = await bytesOf(all);
      for (const [tensor, bytes] of a) expect(Buffer.compare(bytes, b.get(tensor) ?? Buffer.alloc(0)), tensor).toBe(0);
      tf.dispose([...each.values(), ...all.values()]);
      expect(tf.memory().numTensors).toBe(before);
      // The operator's variables were read, not freed.
      expect(op.variables.every((v) => !v.isDisposed)).toBe(true);
    } finally {
      op.dispose();
      model.dispose();
    }
  });

  it('autodiff gradients w.r.t. U and V match central finite differences', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'llama-gqa-untied'));
    const plan = planFor(model, { hiddenSize: 96, layers: 3 }, LOW_RANK);
    const op = start(plan);
    // Away from U = 0, where V's gradient is exactly zero and would check nothing.
    for (const [name, v] of op.params) if (name.endsWith('.u')) v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.05, 'float32', 7)));
    const batch = tf.tensor2d(Array.from({ length: 24 }, (_, i) => (i * 37) % 200), [2, 12], 'int32');
    const small = weightsFrom(model.weights);
    const loss = (): tf.Scalar => causalLmLoss(forward(plan.target, weightsFrom(materializeAll(plan.tensors, small, op)), { ids: batch }), batch);
    const { grads } = tf.variableGrads(loss, op.variables);
    const eps = 1e-2;
    for (const [name, index] of [['width.out.u', 7], ['width.in.v', 3], ['ffn.1.out.u', 11], ['ffn.2.in.v', 5], ['depth.mlp', 4]] as const) {
      const variable = op.params.get(name);
      if (!variable) throw new Error(name);
      const original = (await variable.data()) as Float32Array;
      const at = (delta: number): number => {
        const shifted = original.slice();
        shifted[index] += delta;
        variable.assign(tf.tensor(shifted, variable.shape));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      variable.assign(tf.tensor(original, variable.shape));
      const analytic = (await grads[variable.name].data())[index];
      expect(Math.abs(analytic - numeric), name).toBeLessThan(0.03 * Math.abs(numeric) + 2e-4);
    }
    tf.dispose([batch, ...Object.values(grads)]);
    op.dispose();
    model.dispose();
  });
});

describe('a learned low-rank operator in files', () => {
  let work: string;
  let grown: string;
  const source = path.join(GOLDEN_DIR, 'gpt2-bare-bf16');

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ligo-lowrank-'));
    const tokens = path.join(work, 'tokens.bin');
    await writeFile(tokens, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 11) % 90).buffer));
    // A large learning rate and no best-of selection: the correction surely moves away from zero.
    const report = await grow({ source, out: path.join(work, 'grown'), data: tokens, hiddenSize: 64, layers: 4, steps: 3, lr: 1e-2, keepBest: false, batchSize: 2, seqLen: 16, seed: 1, backend: 'wasm', rank: 3 });
    grown = report.out;
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('saves the starts as selections and U, V dense, with the form in the metadata', async () => {
    const saved = await openOperator(grown);
    try {
      expect(saved.metadata.operator).toEqual({ kind: 'lowrank', rank: 3 });
      expect(await saved.readSelection('width.out')).toHaveProperty('index');
      expect(saved.shape('width.out.u')).toEqual([64, 3]);
      expect(saved.shape('ffn.0.in.v')).toEqual([saved.metadata.source.intermediateSize, 3]);
      const u = await saved.read('ffn.1.out.u');
      expect(u.data.some((x) => x !== 0)).toBe(true);
    } finally {
      await saved.file.close();
    }
  });

  it('growth.json says how the operator was made and what a step cost, by phase', async () => {
    const report = JSON.parse(await readFile(path.join(grown, 'growth.json'), 'utf8')) as { learning: Record<string, unknown> };
    expect(report.learning.operator).toEqual({ kind: 'lowrank', rank: 3 });
    expect(report.learning.recompute).toBe(false);
    expect(report.learning.secondsPerStep).toBeGreaterThan(0);
    const phases = report.learning.phases as Record<string, number>;
    expect(Object.keys(phases).sort()).toEqual(['backward', 'forward', 'materialize', 'optimizer', 'other', 'recompute']);
    expect(phases.forward).toBeGreaterThan(0);
    expect(phases.materialize).toBeGreaterThan(0);
    expect(phases.recompute).toBe(0);
  });

  it('apply rebuilds grow\'s bytes from the saved low-rank operator', async () => {
    const report = await apply({ source, operator: grown, out: path.join(work, 'applied'), backend: 'wasm' });
    const files = (await readdir(report.out)).filter((name) => name.startsWith('model'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(Buffer.compare(await readFile(path.join(report.out, f)), await readFile(path.join(grown, f))), f).toBe(0);
  });
});

import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { encodeFromFloat32 } from '../../src/checkpoint/dtypes.js';
import { denseMatrix } from '../../src/growth/init.js';
import { materializeTensor } from '../../src/growth/materialize.js';
import { methodRecipe } from '../../src/growth/methods.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { operatorShapes } from '../../src/growth/layout.js';
import { planGrowth, type GrowthMethod, type GrowthPlan } from '../../src/growth/plan.js';
import { BufferPool } from '../../src/checkpoint/chunks.js';
import { rowChunks } from '../../src/growth/stream/row_chunks.js';
import { materializeBySelection, planFloatGather, SelectionOperator, tensorGather } from '../../src/growth/stream/selection.js';
import { asSelection } from '../../src/growth/selection.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { GOLDEN_DIR, maxAbsDiff } from '../models/helpers.js';

/** A mean of a few dozen float32 weights of order 0.1, summed in another order: a few ulps. */
const MEAN_TOLERANCE = 1e-6;

/** Deterministic uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Compares the selection path with materializeTensor on every planned tensor; returns how many took the fast path. */
async function compare(plan: GrowthPlan, operator: GrowthOperator, small: Map<string, tf.Tensor>): Promise<number> {
  const arrays = new Map((await operator.toArrays()).map((a) => [a.name, a]));
  const selection = new SelectionOperator(plan, async (name) => {
    const a = arrays.get(name);
    if (!a) throw new Error(`no operator tensor ${name}`);
    return { data: a.data.slice(), shape: a.shape };
  });
  const get = (name: string): tf.Tensor => {
    const t = small.get(name);
    if (!t) throw new Error(`no source tensor ${name}`);
    return t;
  };
  let fast = 0;
  for (const t of plan.tensors) {
    const viaSelection = await materializeBySelection(t, selection, async (name) => ((await get(name).data()) as Float32Array).slice());
    if (!viaSelection) continue;
    fast++;
    const dense = materializeTensor(t, get, operator);
    const viaMatMul = (await dense.data()) as Float32Array;
    dense.dispose();
    // A mean row (the exact start's filled residual dims under LayerNorm) is a sum: equal to float32 rounding.
    if ((await tensorGather(t, selection))?.gathers.some((g) => g?.means)) {
      expect(maxAbsDiff(viaSelection, viaMatMul), `${t.name} float32 with means`).toBeLessThan(MEAN_TOLERANCE);
    } else {
      expect(bitsEqual(viaSelection, viaMatMul), `${t.name} float32 bits`).toBe(true);
      for (const dtype of ['BF16', 'F16'] as const) {
        expect(bytesEqual(encodeFromFloat32(viaSelection, dtype), encodeFromFloat32(viaMatMul, dtype)), `${t.name} ${dtype}`).toBe(true);
      }
    }
    // Streamed in blocks of rows of odd sizes (repeated blocks written at each of their places): the same bytes.
    const rows = await planFloatGather(t, selection, async (name) => ((await get(name).data()) as Float32Array).slice());
    if (!rows) throw new Error(`${t.name}: no float gather plan`);
    const chunkBytes = rows.rowBytes * (1 + (fast % 5)) + 4;
    const assembled = new Uint8Array(viaSelection.byteLength);
    for await (const chunk of rowChunks(rows, new BufferPool(2, chunkBytes), chunkBytes)) {
      for (const at of chunk.offsets ?? []) assembled.set(chunk.bytes, at);
      chunk.release?.();
    }
    expect(bytesEqual(assembled, new Uint8Array(viaSelection.buffer)), `${t.name} streamed float32`).toBe(true);
  }
  return fast;
}

async function grownFromGolden(
  name: string,
  target: TargetOptions,
  method: GrowthMethod,
  depth: 'stack' | 'interlace',
): Promise<{ model: LoadedModel; plan: GrowthPlan; operator: GrowthOperator }> {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method, optionalPresent: model.match.optionalPresent });
  const recipe = methodRecipe(method, model.description, depth);
  const operator = GrowthOperator.initialize(plan, { depth: recipe.depth ?? { pattern: depth, preserve: true }, noise: 0, random: Math.random });
  return { model, plan, operator };
}

describe('selection materialization is bit-identical to the matMul path', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('recognizes selections and rejects rows with two nonzeros', () => {
    expect(asSelection(new Float32Array([0, 2, 0, 0, 0, 0]), 2, 3)).toEqual({ index: Int32Array.from([1, 0]), scale: Float32Array.from([2, 0]), cols: 3 });
    expect(asSelection(new Float32Array([1, 2, 0, 0]), 2, 2)).toBeUndefined();
  });

  it('reads a row of equal entries as a mean row (index === cols), and back', () => {
    const mean = { index: Int32Array.from([3, 1, 0]), scale: Float32Array.from([1.5, 2, 0]), cols: 3 };
    const dense = denseMatrix(mean);
    expect([...dense.subarray(0, 3)]).toEqual([0.5, 0.5, 0.5]);
    expect(asSelection(dense, 3, 3)).toEqual(mean);
    // Equal entries that scale / cols does not reproduce in float32 stay dense.
    expect(asSelection(new Float32Array(13).fill(0.1), 1, 13)).toBeUndefined();
    expect(asSelection(Float32Array.from([0.1, 0.2]), 1, 2)).toBeUndefined();
  });

  const cases: [string, TargetOptions, GrowthMethod, 'stack' | 'interlace'][] = [
    ['llama-gqa-untied', { hiddenSize: 128, layers: 4 }, 'net2net', 'stack'],
    ['mistral-headdim', { hiddenSize: 128, layers: 3, headDim: 32 }, 'net2net', 'interlace'],
    ['llama-gqa-untied', { hiddenSize: 192, intermediateSize: 288 }, 'net2net', 'stack'],
    ['gpt2-prefixed', { hiddenSize: 96, layers: 3 }, 'ligo', 'stack'],
    ['qwen2-bias-f16', { hiddenSize: 128, layers: 3 }, 'stack', 'stack'],
    ['gpt2-bare-bf16', { hiddenSize: 64, intermediateSize: 512 }, 'net2net', 'stack'],
    ['bert-mlm', { hiddenSize: 96, layers: 3 }, 'net2net', 'interlace'],
    ['gpt-neox-pythia', { hiddenSize: 128, layers: 4 }, 'net2net', 'stack'],
    ['gpt-neox-pythia', { hiddenSize: 96, layers: 3, intermediateSize: 320 }, 'ligo', 'interlace'],
    ['gpt-neox-pythia', { hiddenSize: 128, heads: 4, layers: 3 }, 'net2net', 'stack'],
    ['phi3-fused', { hiddenSize: 128, layers: 3, intermediateSize: 160 }, 'net2net', 'interlace'],
  ];
  it.each(cases)('%s grown to %j (%s, %s)', async (name, target, method, depth) => {
    const { model, plan, operator } = await grownFromGolden(name, target, method, depth);
    try {
      const fast = await compare(plan, operator, model.weights);
      expect(fast).toBeGreaterThan(0);
    } finally {
      operator.dispose();
      model.dispose();
    }
  });

  it('random weights (with -0, subnormal and large values) and random selection operators with arbitrary scales', async () => {
    const { model, plan, operator: base } = await grownFromGolden('llama-gqa-untied', { hiddenSize: 96, layers: 3, intermediateSize: 200 }, 'net2net', 'stack');
    base.dispose();
    const random = rng(7);
    // Finite values only: the matMul turns an Inf anywhere in a row into NaN (0 * Inf), a gather does not.
    const special = [-0, 0, 1e-40, -1e-38, 1e30, -2.5e-45];
    const small = new Map<string, tf.Tensor>();
    for (const [name, t] of model.weights) {
      const data = new Float32Array(t.size);
      for (let i = 0; i < data.length; i++) data[i] = random() < 0.05 ? special[Math.floor(random() * special.length)] : (random() - 0.5) * 4;
      small.set(name, tf.tensor(data, t.shape, 'float32'));
    }
    const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const [name, [rows, cols]] of operatorShapes(plan)) {
      const data = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        if (random() < 0.05) continue; // a zero row
        data[r * cols + Math.floor(random() * cols)] = random() < 0.3 ? 1 : (random() - 0.5) * 3;
      }
      tensors.set(name, { data, shape: [rows, cols] });
    }
    const operator = GrowthOperator.fromTensors(plan, tensors);
    try {
      const fast = await compare(plan, operator, small);
      expect(fast).toBe(plan.tensors.length);
    } finally {
      operator.dispose();
      tf.dispose([...small.values()]);
      model.dispose();
    }
  });

  it('falls back (undefined) for a dense operator', async () => {
    const { model, plan, operator } = await grownFromGolden('llama-gqa-untied', { hiddenSize: 128 }, 'ligo', 'stack');
    const arrays = new Map((await operator.toArrays()).map((a) => [a.name, a]));
    const selection = new SelectionOperator(plan, async (name) => {
      const a = arrays.get(name);
      if (!a) throw new Error(name);
      return { data: a.data.map((v) => v + 0.01), shape: a.shape }; // every entry nonzero
    });
    try {
      const grownAxis = plan.tensors.find((t) => t.axes.some((segments) => segments.some((s) => s.operator !== null)));
      expect(grownAxis).toBeDefined();
      if (grownAxis) expect(await materializeBySelection(grownAxis, selection, async () => new Float32Array(0))).toBeUndefined();
    } finally {
      operator.dispose();
      model.dispose();
    }
  });
});

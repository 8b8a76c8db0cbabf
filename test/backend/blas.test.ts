import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { broadcastBatchIndex } from '../../src/backend/blas_matmul.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { applyLowRank, selectionTensors } from '../../src/growth/low_rank.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { causalLmLoss, forward, mlmLoss } from '../../src/models/index.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';
import { BLAS_UNAVAILABLE } from './blas_available.js';

const unavailable = BLAS_UNAVAILABLE;

/** Values of `make()` computed on `backend`. */
async function on(backend: string, make: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = make();
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(list);
  return values;
}

/** Max |a - b| over max(|b|, 1): relative where values are large, absolute near zero. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Float64 reference of a broadcasting batched product, from the operands' values and shapes. */
function referenceMatMul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): Float64Array {
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const [m, k] = ta ? [ac, ar] : [ar, ac];
  const n = tb ? br : bc;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
  const ai = broadcastBatchIndex(outer, aShape.slice(0, -2));
  const bi = broadcastBatchIndex(outer, bShape.slice(0, -2));
  const out = new Float64Array(ai.length * m * n);
  for (let batch = 0; batch < ai.length; batch++) {
    const A = (i: number, p: number) => a[ai[batch] * m * k + (ta ? p * m + i : i * k + p)];
    const B = (p: number, j: number) => b[bi[batch] * k * n + (tb ? j * k + p : p * n + j)];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += A(i, p) * B(p, j);
        out[(batch * m + i) * n + j] = sum;
      }
    }
  }
  return out;
}

describe.skipIf(unavailable !== undefined)('blas backend: BatchMatMul through cblas_sgemm', () => {
  const shapes: [string, number[], number[]][] = [
    ['2-D', [5, 7], [7, 4]],
    ['batched', [3, 5, 7], [3, 7, 4]],
    ['batched A against one B (one product of all rows)', [2, 3, 5, 7], [7, 4]],
    ['one A against batched B', [5, 7], [3, 7, 4]],
    ['batch of one broadcast', [1, 5, 7], [3, 7, 4]],
    ['broadcast on both sides', [2, 1, 5, 7], [3, 7, 4]],
  ];
  for (const [label, aShape, bShape] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${label}, transposeA=${ta} transposeB=${tb}: equals a float64 reference`, async () => {
        await tf.setBackend('blas');
        const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
        const a = tf.randomNormal(swap(aShape, ta), 0, 1, 'float32', 1);
        const b = tf.randomNormal(swap(bShape, tb), 0, 1, 'float32', 2);
        const before = tf.memory().numTensors;
        const product = tf.matMul(a, b, ta, tb);
        const expected = referenceMatMul(a.dataSync() as Float32Array, a.shape, b.dataSync() as Float32Array, b.shape, ta, tb);
        expect(product.size).toBe(expected.length);
        expect(maxRelDiff(product.dataSync(), expected)).toBeLessThan(1e-6);
        product.dispose();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([a, b]);
      });
    }
  }

  it('an empty inner dimension gives zeros; int32 operands fall back to the cpu kernel', async () => {
    await tf.setBackend('blas');
    expect(Array.from(tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    const ints = tf.matMul(tf.tensor2d([[1, 2]], [1, 2], 'int32'), tf.tensor2d([[3], [4]], [2, 1], 'int32'));
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([11]);
  });
});

describe.skipIf(unavailable !== undefined)('blas backend: JS kernels equal tfjs-backend-cpu', () => {
  const x = () => tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 3);
  const positive = () => tf.add(tf.abs(x()), 0.5);
  const binaryShapes: [number[], number[]][] = [
    [[2, 3, 4, 5], [2, 3, 4, 5]],
    [[2, 3, 4, 5], [5]],
    [[2, 3, 4, 5], [2, 3, 4, 1]],
    [[2, 3, 4, 5], []],
    [[], [2, 3, 4, 5]],
    [[2, 1, 4, 1], [1, 3, 1, 5]],
    [[3, 1, 5], [2, 3, 4, 5]],
  ];
  const binaryOps: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
    ['pow', (a, b) => tf.pow(tf.abs(a), b)],
  ];
  for (const [name, op] of binaryOps) {
    it(`${name} with broadcasting`, async () => {
      for (const [aShape, bShape] of binaryShapes) {
        const make = () => op(tf.randomNormal(aShape, 0, 1, 'float32', 4), tf.randomNormal(bShape, 0, 1, 'float32', 5));
        const [expected] = await on('cpu', make);
        const [actual] = await on('blas', make);
        expect(maxRelDiff(actual, expected), `${aShape} ${bShape}`).toBe(0);
      }
    });
  }

  const unaryOps: [string, () => tf.Tensor][] = [
    ['neg', () => tf.neg(x())],
    ['square', () => tf.square(x())],
    ['sqrt', () => tf.sqrt(positive())],
    ['rsqrt', () => tf.rsqrt(positive())],
    ['reciprocal', () => tf.reciprocal(positive())],
    ['exp', () => tf.exp(x())],
    ['log', () => tf.log(positive())],
    ['tanh', () => tf.tanh(x())],
    ['abs', () => tf.abs(x())],
  ];
  for (const [name, make] of unaryOps) {
    it(name, async () => {
      const [expected] = await on('cpu', make);
      const [actual] = await on('blas', make);
      expect(maxRelDiff(actual, expected)).toBe(0);
    });
  }

  const reductions: [string, () => tf.Tensor][] = [
    ['sum of the last axis', () => tf.sum(x(), -1)],
    ['sum of the leading axes', () => tf.sum(x(), [0, 1])],
    ['sum of middle axes, keepDims', () => tf.sum(x(), [1, 2], true)],
    ['sum of non-adjacent axes (falls back)', () => tf.sum(x(), [0, 2])],
    ['sum of everything', () => tf.sum(x())],
    ['mean of the last axis, keepDims', () => tf.mean(x(), -1, true)],
    ['mean of the leading axis', () => tf.mean(x(), 0)],
    ['max of the last axis', () => tf.max(x(), -1)],
    ['max of axis 1', () => tf.max(x(), 1)],
    ['min of axis 2', () => tf.min(x(), 2)],
    ['int32 sum (falls back)', () => tf.sum(tf.tensor1d([1, 2, 3], 'int32'))],
    ['softmax', () => tf.softmax(x())],
    ['logSoftmax', () => tf.logSoftmax(x())],
  ];
  for (const [name, make] of reductions) {
    it(name, async () => {
      const [expected] = await on('cpu', make);
      const [actual] = await on('blas', make);
      expect(maxRelDiff(actual, expected)).toBeLessThan(1e-6);
    });
  }

  const copies: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['transpose of heads', () => tf.transpose(x(), [0, 2, 1, 3])],
    ['transpose reversed', () => tf.transpose(x(), [3, 2, 1, 0])],
    ['2-D transpose', () => tf.transpose(tf.reshape(x(), [6, 20]))],
    ['slice', () => tf.slice(x(), [1, 0, 1, 2], [1, 3, 2, 3])],
    ['slice of the last axis', () => tf.slice(x(), [0, 0, 0, 1], [-1, -1, -1, 2])],
    ['split along the last axis', () => tf.split(x(), [1, 3, 1], -1)],
    ['split along axis 1', () => tf.split(x(), 3, 1)],
    ['pad', () => tf.pad(x(), [[0, 1], [1, 0], [0, 0], [2, 1]])],
    ['pad with a constant', () => tf.pad(x(), [[1, 1], [0, 0], [0, 0], [0, 0]], 2.5)],
    ['int32 transpose (falls back)', () => tf.transpose(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'))],
    ['unsortedSegmentSum (the gather gradient)', () => tf.unsortedSegmentSum(x(), tf.tensor1d([4, 1], 'int32'), 5)],
    ['gather of rows', () => tf.gather(tf.reshape(x(), [6, 20]), tf.tensor1d([5, 0, 0, 3], 'int32'))],
    ['gather along the last axis', () => tf.gather(x(), tf.tensor1d([4, 4, 1, 0, 2, 3], 'int32'), 3)],
    ['gather along a middle axis with 2-D indices', () => tf.gather(x(), tf.tensor2d([[2, 0], [1, 1]], [2, 2], 'int32'), 1)],
    ['int32 gather (falls back)', () => tf.gather(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), tf.tensor1d([1, 1], 'int32'))],
    ['gather gradient', () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([3, 1, 3, 0], 'int32')), tf.range(0, 4 * 6).reshape([4, 6]))))(tf.randomNormal([5, 6], 0, 1, 'float32', 6))],
  ];
  for (const [name, make] of copies) {
    it(name, async () => {
      const expected = await on('cpu', make);
      const actual = await on('blas', make);
      expect(actual.length).toBe(expected.length);
      actual.forEach((a, i) => expect(maxRelDiff(a, expected[i])).toBe(0));
    });
  }
});

describe.skipIf(unavailable !== undefined)('blas backend: the fused low-rank start plus correction', () => {
  // The correction's matrix products differ from tfjs-backend-cpu's in rounding, so close, not equal.
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['the low-rank start plus correction, rows', () => {
      const x = tf.reshape(tf.range(0, 12), [4, 3]);
      const f = { start: selectionTensors({ index: Int32Array.from([3, 0, 0, 2, 1]), scale: Float32Array.from([1, 0.5, 0, -2, 1]), cols: 4 }), u: tf.randomNormal([5, 2], 0, 1, 'float32', 3) as tf.Tensor2D, v: tf.randomNormal([4, 2], 0, 1, 'float32', 4) as tf.Tensor2D };
      return [applyLowRank(x as tf.Tensor2D, 0, f), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyLowRank(t as tf.Tensor2D, 0, f), tf.range(0, 15).reshape([5, 3]))))(x)];
    }],
    ['the low-rank start plus correction, mean units on either axis', () => {
      const x = tf.reshape(tf.range(0, 12), [4, 3]);
      const f = { start: selectionTensors({ index: Int32Array.from([3, 4, 0, 4]), scale: Float32Array.from([1, 0.5, 1, 2]), cols: 4 }), u: tf.randomNormal([4, 2], 0, 1, 'float32', 3) as tf.Tensor2D, v: tf.randomNormal([4, 2], 0, 1, 'float32', 4) as tf.Tensor2D };
      const w = tf.range(0, 12).reshape([4, 3]);
      const rows = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyLowRank(t as tf.Tensor2D, 0, f), w)))(x);
      const cols = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyLowRank(t as tf.Tensor2D, 1, f), tf.transpose(w))))(tf.transpose(x));
      return [applyLowRank(x as tf.Tensor2D, 0, f), applyLowRank(tf.transpose(x) as tf.Tensor2D, 1, f), rows, cols];
    }],
    ['the low-rank start plus correction, columns', () => {
      const x = tf.reshape(tf.range(0, 12), [3, 4]);
      const f = { start: selectionTensors({ index: Int32Array.from([3, 0, 0, 2, 1]), scale: Float32Array.from([1, 0.5, 0, -2, 1]), cols: 4 }), u: tf.randomNormal([5, 2], 0, 1, 'float32', 3) as tf.Tensor2D, v: tf.randomNormal([4, 2], 0, 1, 'float32', 4) as tf.Tensor2D };
      return [applyLowRank(x as tf.Tensor2D, 1, f), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyLowRank(t as tf.Tensor2D, 1, f), tf.range(0, 15).reshape([3, 5]))))(x)];
    }],
  ];
  for (const [name, make] of cases) {
    it(`${name}: value and gradient equal the composed gather, scale and add`, async () => {
      const expected = await on('cpu', make);
      const actual = await on('blas', make);
      actual.forEach((a, i) => expect(maxRelDiff(a, expected[i])).toBeLessThan(1e-6));
    });
  }
});

/** Loss and operator gradients of one batch on `backend`. */
async function operatorGradients(backend: string, name: string, target: TargetOptions) {
  await initBackend({ backend });
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent });
  let state = 7;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 1e-2, random });
  const ids = tf.tensor2d(Array.from({ length: 2 * 32 }, (_, i) => (i * 31 + 7) % 200), [2, 32], 'int32');
  const small = weightsFrom(model.weights);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward(plan.target, weightsFrom(materializeAll(plan.tensors, small, op)), { ids });
    return plan.target.objective === 'masked' ? mlmLoss(logits, ids) : causalLmLoss(logits, ids);
  }, op.variables);
  const loss = (await value.data())[0];
  const gradients = new Map(await Promise.all(Object.entries(grads).map(async ([k, g]) => [k.replace(/^ligo\d+\//, ''), Float32Array.from(await g.data())] as const)));
  tf.dispose([value, ...Object.values(grads)]);
  const leaked = tf.memory().numTensors - before;
  ids.dispose();
  op.dispose();
  model.dispose();
  return { loss, gradients, leaked };
}

describe.skipIf(unavailable !== undefined)('blas backend: a learning step equals wasm', () => {
  const cases: [string, TargetOptions][] = [
    ['gpt2-prefixed', { hiddenSize: 96, layers: 4 }],
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }],
    ['bert-mlm', { hiddenSize: 96, layers: 3 }],
  ];
  for (const [name, target] of cases) {
    it(`${name}: the same loss and LiGO operator gradients (1e-4 relative), no leaked tensors`, async () => {
      const wasm = await operatorGradients('wasm', name, target);
      const blas = await operatorGradients('blas', name, target);
      expect(Math.abs(blas.loss - wasm.loss)).toBeLessThan(1e-5 * Math.abs(wasm.loss));
      expect(blas.leaked).toBe(0);
      expect([...blas.gradients.keys()].sort()).toEqual([...wasm.gradients.keys()].sort());
      for (const [param, g] of wasm.gradients) {
        const b = blas.gradients.get(param);
        if (!b) throw new Error(`no blas gradient for ${param}`);
        expect(maxRelDiff(b, g), param).toBeLessThan(1e-4);
      }
    });
  }
});

describe.skipIf(unavailable !== undefined)('blas backend: reused output arrays', () => {
  const big = (seed: number) => tf.randomNormal([64, 128], 0, 1, 'float32', seed); // above the pool's minimum size

  it('values read before a dispose stay intact when the array is reused', async () => {
    await tf.setBackend('blas');
    const a = big(1);
    const sum = tf.add(a, a); // a pooled output
    const read = sum.dataSync();
    const copy = Float32Array.from(read);
    sum.dispose();
    const next = tf.mul(a, 3); // same length: reuses sum's array
    expect(Array.from(read)).toEqual(Array.from(copy));
    expect(next.dataSync()[0]).toBeCloseTo(3 * a.dataSync()[0], 5);
    tf.dispose([a, next]);
  });

  it("a tfjs-backend-cpu kernel's view into a pooled array (unstack's slices) keeps its values after the array is reused", async () => {
    await tf.setBackend('blas');
    const a = big(2);
    const doubled = tf.mul(a, 2); // pooled
    const rows = tf.unstack(doubled); // cpu Unpack: contiguous slices
    const expected = Array.from(rows[5].dataSync());
    doubled.dispose();
    const filler = tf.mul(a, -7); // reuses doubled's array
    expect(Array.from(rows[5].dataSync())).toEqual(expected);
    tf.dispose([a, filler, ...rows]);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import { registerFastWasmMatMul } from '../../src/backend/wasm_matmul.js';

/** Reference product computed in plain JS: [.., m, k] x [.., k, n] with optional transposes, float64. */
function reference(a: number[][][], b: number[][][], ta: boolean, tb: boolean): number[][][] {
  return a.map((A, batch) => {
    const B = b[batch];
    const m = ta ? A[0].length : A.length;
    const k = ta ? A.length : A[0].length;
    const n = tb ? B.length : B[0].length;
    return Array.from({ length: m }, (_, i) =>
      Array.from({ length: n }, (_, j) => {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += (ta ? A[p][i] : A[i][p]) * (tb ? B[j][p] : B[p][j]);
        return sum;
      }),
    );
  });
}

describe('transpose-first BatchMatMul on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('is installed once and stays installed', () => {
    expect(registerFastWasmMatMul()).toBe(false);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('matches a float64 reference for transposeA=%s transposeB=%s on batched operands', async (ta, tb) => {
    const a = tf.randomNormal(ta ? [3, 7, 5] : [3, 5, 7], 0, 1, 'float32', 1);
    const b = tf.randomNormal(tb ? [3, 4, 7] : [3, 7, 4], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const product = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, ta, tb);
    expect(product.shape).toEqual([3, 5, 4]);
    const expected = reference((await a.array()) as number[][][], (await b.array()) as number[][][], ta, tb).flat(2);
    const actual = Array.from(await product.data());
    actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    product.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });

  it('broadcasts a batch of one against a batch of three, as before', async () => {
    const a = tf.randomNormal([1, 5, 7], 0, 1, 'float32', 5);
    const b = tf.randomNormal([3, 7, 4], 0, 1, 'float32', 6);
    const product = tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
    const aa = (await a.array()) as number[][][];
    const expected = reference([aa[0], aa[0], aa[0]], (await b.array()) as number[][][], false, false).flat(2);
    Array.from(await product.data()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
    tf.dispose([a, b, product]);
  });

  it('leaves matMul gradients (which use the transpose flags) correct', async () => {
    const a = tf.variable(tf.randomNormal([4, 6], 0, 1, 'float32', 3));
    const b = tf.randomNormal([6, 3], 0, 1, 'float32', 4);
    const { grads } = tf.variableGrads(() => tf.sum(tf.matMul(a, b)), [a]);
    // d sum(A B) / dA[i, p] = sum_j B[p, j]
    const rowSums = (await tf.sum(b, 1).data()) as Float32Array;
    const g = await grads[a.name].data();
    for (let i = 0; i < 4; i++) for (let p = 0; p < 6; p++) expect(g[i * 6 + p]).toBeCloseTo(rowSums[p], 4);
    tf.dispose([a, b, ...Object.values(grads)]);
  });
});

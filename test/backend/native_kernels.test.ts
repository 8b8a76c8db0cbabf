import { describe, expect, it } from 'vitest';
import { JS_GELU } from '../../src/backend/js_kernels/gelu.js';
import { JS_LAYER_NORM } from '../../src/backend/js_kernels/layer_norm.js';
import { JS_MASKED_SOFTMAX } from '../../src/backend/js_kernels/masked_softmax.js';
import { loadNativeKernels, NATIVE_BINARY_OPS, NATIVE_KERNELS_ENV_VAR, type NativeKernels } from '../../src/backend/native_kernels.js';
import { stridedCopy, stridesOf } from '../../src/backend/js_kernels/strided.js';
import { createRng } from '../../src/data/random.js';

/**
 * The native kernels against their JavaScript twins (the reference), on random inputs of sizes
 * that cross the C loops' vector width and the one-thread threshold (65,536 elements), rows of one,
 * odd row lengths and the inputs' extremes. CI builds the library (npm install): there a missing
 * build fails here instead of skipping.
 */
const loaded = await loadNativeKernels({});
const unavailable = 'unavailable' in loaded ? loaded.unavailable : undefined;
const native = loaded as NativeKernels;
if (unavailable !== undefined && process.env.CI === 'true') throw new Error(`native kernels not built in CI: ${unavailable}`);

function random(n: number, seed: number, spread = 6): Float32Array {
  const rand = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (rand() * 2 - 1) * spread;
  return x;
}

/** Max |a - b| over max(|b|, 1): relative where values are large, absolute near zero. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) {
      expect(Number.isNaN(a[i])).toBe(true);
      continue;
    }
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Float32 rounding of the same double expression: a few ulp apart at most. */
const TOLERANCE = 1e-6;

/** [rows, row length] pairs: one row, odd lengths, and past the one-thread threshold. */
const SHAPES: readonly [number, number][] = [
  [1, 1],
  [1, 7],
  [3, 33],
  [17, 64],
  [513, 130],
  [1024, 256],
];

describe.skipIf(unavailable !== undefined)(`native kernels${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  it('gelu_new forward and backward equal the JavaScript kernels', () => {
    for (const [rows, c] of SHAPES) {
      const x = random(rows * c, rows + c, 12);
      x.set([0, -0, 1e-8, 50, -50, 7.9, -7.9, 3.99, -4.01].slice(0, x.length));
      const dy = random(x.length, 7);
      const [a, b] = [new Float32Array(x.length), new Float32Array(x.length)];
      native.gelu.forward(x, a);
      JS_GELU.forward(x, b);
      expect(maxRelDiff(a, b)).toBeLessThan(TOLERANCE);
      native.gelu.backward(dy, x, a);
      JS_GELU.backward(dy, x, b);
      expect(maxRelDiff(a, b)).toBeLessThan(TOLERANCE);
    }
  });

  it('reads and writes views of larger arrays (a subarray is its own first element)', () => {
    const whole = random(1000, 3);
    const view = whole.subarray(101, 901);
    const [a, b] = [new Float32Array(1000), new Float32Array(800)];
    native.gelu.forward(view, a.subarray(200, 1000));
    JS_GELU.forward(view, b);
    expect(a.subarray(0, 200).every((v) => v === 0)).toBe(true);
    expect(maxRelDiff(a.subarray(200), b)).toBeLessThan(TOLERANCE);
  });

  it('masked softmax and its gradient equal the JavaScript kernels, the mask broadcast over batch and heads', () => {
    for (const [t, s] of [[1, 1], [5, 5], [33, 33], [128, 128]] as const) {
      const batch = 6; // [B * heads, t, s] over one [t, s] mask
      const x = random(batch * t * s, t * 31 + s, 4);
      const mask = new Float32Array(t * s).map((_, i) => (i % s > Math.floor(i / s) ? -1e9 : 0));
      const dy = random(x.length, 11);
      const [a, b] = [new Float32Array(x.length), new Float32Array(x.length)];
      native.maskedSoftmax.forward(x, mask, a, t, s, 0.125);
      JS_MASKED_SOFTMAX.forward(x, mask, b, t, s, 0.125);
      expect(maxRelDiff(a, b)).toBeLessThan(TOLERANCE);
      const [ga, gb] = [new Float32Array(x.length), new Float32Array(x.length)];
      native.maskedSoftmax.backward(dy, b, ga, s, 0.125);
      JS_MASKED_SOFTMAX.backward(dy, b, gb, s, 0.125);
      expect(maxRelDiff(ga, gb)).toBeLessThan(TOLERANCE);
    }
  });

  it('masked softmax keeps a NaN score as NaN in its row, as the JavaScript kernel does', () => {
    const x = random(8, 5);
    x[2] = Number.NaN;
    const mask = new Float32Array(4);
    const [a, b] = [new Float32Array(8), new Float32Array(8)];
    native.maskedSoftmax.forward(x, mask, a, 1, 4, 1);
    JS_MASKED_SOFTMAX.forward(x, mask, b, 1, 4, 1);
    expect(Array.from(a.subarray(0, 4)).every(Number.isNaN)).toBe(true);
    expect(maxRelDiff(a, b)).toBeLessThan(TOLERANCE);
  });

  it('LayerNorm forward and backward (dx, dweight, dbias summed over rows on every thread) equal the JavaScript kernels', () => {
    for (const [rows, c] of SHAPES) {
      const x = random(rows * c, rows * 3 + c, 3);
      const w = random(c, 21, 1);
      const bias = random(c, 22, 1);
      const dy = random(x.length, 23);
      const [a, b] = [new Float32Array(x.length), new Float32Array(x.length)];
      native.layerNorm.forward(x, w, bias, 1e-5, a);
      JS_LAYER_NORM.forward(x, w, bias, 1e-5, b);
      expect(maxRelDiff(a, b)).toBeLessThan(TOLERANCE);
      const grads = () => [new Float32Array(x.length), new Float32Array(c), new Float32Array(c)] as const;
      const [dxa, dwa, dba] = grads();
      const [dxb, dwb, dbb] = grads();
      native.layerNorm.backward(dy, x, w, 1e-5, dxa, dwa, dba);
      JS_LAYER_NORM.backward(dy, x, w, 1e-5, dxb, dwb, dbb);
      expect(maxRelDiff(dxa, dxb)).toBeLessThan(TOLERANCE);
      expect(maxRelDiff(dwa, dwb)).toBeLessThan(TOLERANCE);
      expect(maxRelDiff(dba, dbb)).toBeLessThan(TOLERANCE);
    }
  });
});

/** The first index where two arrays differ (NaN equal to NaN), or -1 (a loop: toEqual on long arrays is slow). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

/** The JavaScript twin of ligo_binary: the same 2-D strided walk, each result rounded once. */
const JS_OPS: Record<string, (a: number, b: number) => number> = { Add: (a, b) => a + b, Sub: (a, b) => a - b, Multiply: (a, b) => a * b, RealDiv: (a, b) => a / b };

describe.skipIf(unavailable !== undefined)('native data movement and elementwise kernels', () => {
  it('binary ops over same shapes, a row broadcast, a column broadcast, a scalar and one long row equal float32 arithmetic exactly', () => {
    // [rows, n, x row stride, x col stride, y row stride, y col stride]
    const walks: [number, number, number, number, number, number][] = [
      [1, 100_000, 0, 1, 0, 1], // one long row, split across threads
      [300, 257, 257, 1, 0, 1], // + bias [257]
      [300, 257, 257, 1, 1, 0], // + column [300, 1]
      [64, 2048, 2048, 1, 0, 0], // + scalar
      [40, 33, 1, 40, 33, 1], // x read transposed
    ];
    for (const [rows, n, xr, xc, yr, yc] of walks) {
      const x = random(Math.max(1, (rows - 1) * xr + (n - 1) * xc + 1), rows + n, 3);
      const y = random(Math.max(1, (rows - 1) * yr + (n - 1) * yc + 1), n + 5, 3).map((v) => (v === 0 ? 0.5 : v));
      for (const op of NATIVE_BINARY_OPS) {
        const out = new Float32Array(rows * n);
        native.binary[op](x, xr, xc, y, yr, yc, out, rows, n);
        const want = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) want[r * n + j] = JS_OPS[op](x[r * xr + j * xc], y[r * yr + j * yc]);
        expect(firstDifference(out, want)).toBe(-1);
      }
    }
  });

  it('sums over the middle of [outer, reduced, inner] (rows, columns as bias gradients, a mean) equal the JavaScript sums', () => {
    for (const [outer, reduced, inner] of [[1, 2048, 1024], [300, 257, 1], [7, 33, 513], [1, 5, 3]] as const) {
      const x = random(outer * reduced * inner, outer + reduced + inner);
      for (const scale of [1, 1 / reduced]) {
        const out = new Float32Array(outer * inner);
        native.sum(x, outer, reduced, inner, out, scale);
        const want = new Float32Array(outer * inner);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            let acc = 0;
            for (let r = 0; r < reduced; r++) acc += x[(o * reduced + r) * inner + i];
            want[o * inner + i] = scale === 1 ? acc : Math.fround(acc) * scale;
          }
        }
        expect(maxRelDiff(out, want)).toBeLessThan(TOLERANCE);
      }
    }
  });

  it('strided copies (a head transpose, a slice at an offset, a concatenation into a strided output) equal stridedCopy', () => {
    const x = random(16 * 12 * 8 * 4, 9); // [16, 12, 8, 4]
    const own = stridesOf([16, 12, 8, 4]);
    const perm = [0, 2, 1, 3];
    const dims = perm.map((p) => [16, 12, 8, 4][p]);
    const a = new Float32Array(x.length);
    const b = new Float32Array(x.length);
    expect(native.stridedCopy(x, 0, perm.map((p) => own[p]), a, 0, stridesOf(dims), dims)).toBe(true);
    stridedCopy(x, 0, dims, perm.map((p) => own[p]), b);
    expect(firstDifference(a, b)).toBe(-1);
    // the block [2:14, 3:11, :, 1:3] of x
    const size = [12, 8, 8, 2];
    const offset = 2 * own[0] + 3 * own[1] + 1;
    const [c, d] = [new Float32Array(12 * 8 * 8 * 2), new Float32Array(12 * 8 * 8 * 2)];
    expect(native.stridedCopy(x, offset, own, c, 0, stridesOf(size), size)).toBe(true);
    stridedCopy(x, offset, size, own, d);
    expect(firstDifference(c, d)).toBe(-1);
    // x [6144, 1] written as column 2 of a [6144, 3] output: strided on the output side
    const col = random(6144, 4);
    const out = new Float32Array(6144 * 3);
    expect(native.stridedCopy(col, 0, [1, 1], out, 2, [3, 1], [6144, 1])).toBe(true);
    for (let r = 0; r < 6144; r += 997) expect([out[r * 3], out[r * 3 + 1], out[r * 3 + 2]]).toEqual([0, 0, col[r]]);
    // a rank past the library's limit is declined, for the caller to copy in JavaScript
    expect(native.stridedCopy(x, 0, new Array(9).fill(1), a, 0, new Array(9).fill(1), new Array(9).fill(1))).toBe(false);
  });
});

describe('loading the native kernels', () => {
  it(`${NATIVE_KERNELS_ENV_VAR}=0 keeps the JavaScript kernels and says why`, async () => {
    expect(await loadNativeKernels({ [NATIVE_KERNELS_ENV_VAR]: '0' })).toEqual({ unavailable: `${NATIVE_KERNELS_ENV_VAR}=0` });
  });
});

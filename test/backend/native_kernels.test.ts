import { describe, expect, it } from 'vitest';
import { JS_GELU } from '../../src/backend/js_kernels/gelu.js';
import { JS_LAYER_NORM } from '../../src/backend/js_kernels/layer_norm.js';
import { JS_MASKED_SOFTMAX } from '../../src/backend/js_kernels/masked_softmax.js';
import { loadNativeKernels, NATIVE_KERNELS_ENV_VAR, type NativeKernels } from '../../src/backend/native_kernels.js';
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

describe('loading the native kernels', () => {
  it(`${NATIVE_KERNELS_ENV_VAR}=0 keeps the JavaScript kernels and says why`, async () => {
    expect(await loadNativeKernels({ [NATIVE_KERNELS_ENV_VAR]: '0' })).toEqual({ unavailable: `${NATIVE_KERNELS_ENV_VAR}=0` });
  });
});

/**
 * Index arithmetic shared by the JS kernels: every kernel here walks its output in order, and
 * reads each input at a per-dimension stride (0 where the input is broadcast). Adjacent dimensions
 * that every operand walks contiguously are merged first, so the innermost loop is as long as it
 * can be and the outer odometer runs rarely (tfjs-backend-cpu instead converts every flat index to
 * coordinates and back, which is what made its broadcasting ops slow).
 */

import { NATIVE_MIN_ELEMENTS, type StridedCopy } from '../native_types.js';

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape (elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Merges adjacent dims d-1, d whenever, for every operand, stride[d-1] = stride[d] * dims[d]
 * (walking them together is one longer contiguous walk); drops size-1 dims. Always returns at
 * least one dim.
 */
export function collapse(dims: readonly number[], strides: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < dims.length; d++) {
    if (dims[d] === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && strides.every((s, i) => outStrides[i][last] === s[d] * dims[d])) {
      outDims[last] *= dims[d];
      strides.forEach((s, i) => (outStrides[i][last] = s[d]));
      continue;
    }
    outDims.push(dims[d]);
    strides.forEach((s, i) => outStrides[i].push(s[d]));
  }
  if (outDims.length === 0) return { dims: [1], strides: strides.map(() => [0]) };
  return { dims: outDims, strides: outStrides };
}

/**
 * Calls `row(offsets, n)` once per innermost row of an output of shape `dims`, with each operand's
 * starting offset; the caller walks the row itself with the operand's innermost stride.
 */
export function forEachRow(dims: readonly number[], strides: readonly (readonly number[])[], row: (offsets: readonly number[], n: number) => void): void {
  const rank = dims.length;
  const n = dims[rank - 1];
  const offsets = strides.map(() => 0);
  const counter = new Array<number>(rank).fill(0);
  const rows = sizeOf(dims) / n;
  for (let r = 0; r < rows; r++) {
    row(offsets, n);
    // Advance the odometer over dims [0, rank - 1).
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++;
      for (let i = 0; i < offsets.length; i++) offsets[i] += strides[i][d];
      if (counter[d] < dims[d]) break;
      for (let i = 0; i < offsets.length; i++) offsets[i] -= strides[i][d] * dims[d];
      counter[d] = 0;
    }
  }
}

/** Strides of `shape` over the dims of `outShape` (aligned right), 0 where `shape` broadcasts. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = stridesOf(shape);
  const pad = outShape.length - shape.length;
  return outShape.map((_, d) => (d < pad || shape[d - pad] === 1 ? 0 : own[d - pad]));
}

/**
 * Copies `x`, read at `strides` over `dims`, into `out` in row-major order from `outOffset`; with
 * `native`, a large copy runs in the native library (on every core).
 */
export function copyRows(native: StridedCopy | undefined, x: Float32Array, xOffset: number, dims: readonly number[], strides: readonly number[], out: Float32Array, outOffset = 0): void {
  if (native !== undefined && sizeOf(dims) >= NATIVE_MIN_ELEMENTS && native(x, xOffset, strides, out, outOffset, stridesOf(dims), dims)) return;
  stridedCopy(x, xOffset, dims, strides, out, outOffset);
}

/** Copies `x`, read at `strides` over `dims`, into `out` in row-major order from `outOffset`. */
export function stridedCopy(x: Float32Array, xOffset: number, dims: readonly number[], strides: readonly number[], out: Float32Array, outOffset = 0): void {
  const { dims: d, strides: s } = collapse(dims, [strides, stridesOf(dims)]);
  const step = s[0][d.length - 1];
  forEachRow(d, s, (offsets, n) => {
    const from = xOffset + offsets[0];
    const to = outOffset + offsets[1];
    if (step === 1) {
      out.set(x.subarray(from, from + n), to);
    } else {
      for (let j = 0; j < n; j++) out[to + j] = x[from + j * step];
    }
  });
}

import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { cpuValues, outputArray, type CpuBackend } from '../cpu_data.js';
import { NATIVE_MIN_ELEMENTS, type StridedCopy } from '../native_types.js';
import { copyRows, sizeOf, stridesOf } from './strided.js';

/**
 * Float32 data movement as strided row copies (see strided.ts); tfjs-backend-cpu's versions of
 * these compute coordinates per element outside their contiguous special cases. Other dtypes go to
 * `fallback`.
 */

function inputValues(args: Parameters<KernelFunc>[0], name: string): { x: TensorInfo; values: Float32Array | undefined; backend: CpuBackend } {
  const x = args.inputs[name];
  if (x === undefined) throw new Error(`kernel: expected input ${name}`);
  const backend = args.backend as unknown as CpuBackend;
  return { x, values: cpuValues(backend, x), backend };
}

export function transposeKernel(fallback: KernelFunc, native?: StridedCopy): KernelFunc {
  return (args) => {
    const { x, values, backend } = inputValues(args, 'x');
    if (values === undefined) return fallback(args);
    const perm = args.attrs?.perm as number[];
    const own = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]);
    const out = outputArray(backend, values.length);
    if (out.length > 0) copyRows(native, values, 0, outShape, perm.map((p) => own[p]), out);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/** The block of x at `begin` with extent `size`, as a new row-major array. */
function sliceValues(backend: CpuBackend, x: TensorInfo, values: Float32Array, begin: readonly number[], size: readonly number[], native: StridedCopy | undefined): Float32Array {
  const own = stridesOf(x.shape);
  const out = outputArray(backend, sizeOf(size));
  if (out.length > 0) copyRows(native, values, begin.reduce((o, b, d) => o + b * own[d], 0), size, own, out);
  return out;
}

export function sliceKernel(fallback: KernelFunc, native?: StridedCopy): KernelFunc {
  return (args) => {
    const { x, values, backend } = inputValues(args, 'x');
    if (values === undefined) return fallback(args);
    const [begin, size] = backend_util.slice_util.parseSliceParams(x, args.attrs?.begin as number[], args.attrs?.size as number[]);
    return backend.makeTensorInfo(size, 'float32', sliceValues(backend, x, values, begin, size, native));
  };
}

export function splitVKernel(fallback: KernelFunc, native?: StridedCopy): KernelFunc {
  return (args) => {
    const { x, values, backend } = inputValues(args, 'x');
    if (values === undefined) return fallback(args);
    const axis = util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x, args.attrs?.numOrSizeSplits as number[] | number, axis);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.map((d, i) => (i === axis ? s : d));
      const part = backend.makeTensorInfo(size, 'float32', sliceValues(backend, x, values, begin, size, native));
      begin[axis] += s;
      return part;
    });
  };
}

export function padKernel(fallback: KernelFunc, native?: StridedCopy): KernelFunc {
  return (args) => {
    const { x, values, backend } = inputValues(args, 'x');
    if (values === undefined) return fallback(args);
    const paddings = args.attrs?.paddings as [number, number][];
    const constant = (args.attrs?.constantValue as number | undefined) ?? 0;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const out = outputArray(backend, sizeOf(outShape)).fill(constant);
    if (values.length > 0) {
      // Write x into the interior: walk x in order, land at the output's strides.
      const outStrides = stridesOf(outShape);
      const start = paddings.reduce((o, [before], d) => o + before * outStrides[d], 0);
      scatterInto(native, values, x.shape, out, start, outStrides);
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/** scatterRows, in the native library where given and the copy is large. */
function scatterInto(native: StridedCopy | undefined, x: Float32Array, dims: readonly number[], out: Float32Array, offset: number, strides: readonly number[]): void {
  if (native !== undefined && x.length >= NATIVE_MIN_ELEMENTS && native(x, 0, stridesOf(dims), out, offset, strides, dims)) return;
  scatterRows(x, dims, out, offset, strides);
}

/**
 * Float32 concatenation along one axis: each input written into its block of the output at the
 * output's strides (tfjs-backend-cpu's concat goes through 2-D reshapes and per-element copies).
 */
export function concatKernel(fallback: KernelFunc, native?: StridedCopy): KernelFunc {
  return (args) => {
    const inputs = Object.values(args.inputs) as TensorInfo[];
    const backend = args.backend as unknown as CpuBackend;
    const values = inputs.map((t) => cpuValues(backend, t));
    if (inputs.length === 0 || values.some((v) => v === undefined)) return fallback(args);
    const axis = util.parseAxisParam(args.attrs?.axis as number, inputs[0].shape)[0];
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    const out = outputArray(backend, sizeOf(outShape));
    const outStrides = stridesOf(outShape);
    let at = 0;
    inputs.forEach((t, i) => {
      const v = values[i] as Float32Array;
      if (v.length > 0) scatterInto(native, v, t.shape, out, at * outStrides[axis], outStrides);
      at += t.shape[axis];
    });
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

/** Writes row-major `x` of shape `dims` into `out` at `offset` with `strides` (the inverse of stridedCopy). */
function scatterRows(x: Float32Array, dims: readonly number[], out: Float32Array, offset: number, strides: readonly number[]): void {
  const rank = dims.length;
  const n = dims[rank - 1];
  const rows = x.length / n;
  const counter = new Array<number>(rank).fill(0);
  let at = offset;
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(r * n, (r + 1) * n), at);
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++;
      at += strides[d];
      if (counter[d] < dims[d]) break;
      at -= strides[d] * dims[d];
      counter[d] = 0;
    }
  }
}

import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { cpuValues, outputArray, type CpuBackend } from '../cpu_data.js';
import { NATIVE_MIN_ELEMENTS, type SumRows } from '../native_types.js';
import { sizeOf } from './strided.js';

type Reduction = 'sum' | 'mean' | 'max' | 'min';

/**
 * Float32 reductions over one block of adjacent axes, read in place as [outer, reduced, inner]:
 * the last axes (softmax, LayerNorm statistics) and the leading ones (bias gradients, the sums
 * that undo broadcasting) are both that shape. tfjs-backend-cpu transposes the reduced axes to
 * the end first, a full copy. Sums accumulate in double precision as tfjs-backend-cpu's do; max and
 * min let NaN win as it does. Other axis sets and dtypes go to `fallback`. With `nativeSum`, large
 * sums run in the native library (native_kernels.ts), on every core.
 */
export function reduceKernel(reduction: Reduction, axisAttr: 'axis' | 'reductionIndices', fallback: KernelFunc, nativeSum?: SumRows): KernelFunc {
  return (args) => {
    const { x } = args.inputs;
    if (x === undefined) throw new Error(`${reduction} kernel: expected input x`);
    const backend = args.backend as unknown as CpuBackend;
    const values = cpuValues(backend, x);
    const axes = util.parseAxisParam(args.attrs?.[axisAttr] as number | number[], x.shape).sort((a, b) => a - b);
    const contiguous = axes.every((axis, i) => i === 0 || axis === axes[i - 1] + 1);
    if (values === undefined || !contiguous || axes.length === 0 || values.length === 0) return fallback(args);
    const outer = sizeOf(x.shape.slice(0, axes[0]));
    const reduced = sizeOf(axes.map((a) => x.shape[a]));
    const inner = sizeOf(x.shape.slice(axes[axes.length - 1] + 1));
    const out = outputArray(backend, outer * inner);
    if (reduction === 'sum' || reduction === 'mean') {
      const scale = reduction === 'mean' ? 1 / reduced : 1;
      if (nativeSum !== undefined && values.length >= NATIVE_MIN_ELEMENTS) nativeSum(values, outer, reduced, inner, out, scale);
      else sumInto(values, outer, reduced, inner, out, scale);
    } else {
      extremeInto(values, outer, reduced, inner, out, reduction === 'max');
    }
    const outShape = x.shape.filter((_, d) => !axes.includes(d));
    const shape = args.attrs?.keepDims === true ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape;
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

function sumInto(x: Float32Array, outer: number, reduced: number, inner: number, out: Float32Array, scale: number): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let sum = 0;
      const base = o * reduced;
      for (let r = 0; r < reduced; r++) sum += x[base + r];
      // mean: the float32 sum over the count (tfjs-backend-cpu divides each value first; equal to rounding).
      out[o] = scale === 1 ? sum : Math.fround(sum) * scale;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < reduced; r++) {
      const base = (o * reduced + r) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[base + i];
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = scale === 1 ? acc[i] : Math.fround(acc[i]) * scale;
  }
}

function extremeInto(x: Float32Array, outer: number, reduced: number, inner: number, out: Float32Array, max: boolean): void {
  for (let o = 0; o < outer; o++) {
    const base = o * reduced * inner;
    for (let i = 0; i < inner; i++) out[o * inner + i] = x[base + i];
    for (let r = 1; r < reduced; r++) {
      const row = base + r * inner;
      for (let i = 0; i < inner; i++) {
        const v = x[row + i];
        const cur = out[o * inner + i];
        if (Number.isNaN(v) || (max ? v > cur : v < cur)) out[o * inner + i] = v;
      }
    }
  }
}

/** Softmax over the last axis in one pass per row (tfjs-backend-cpu runs five kernels). */
export function softmaxKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { logits } = args.inputs;
    if (logits === undefined) throw new Error('Softmax kernel: expected input logits');
    const backend = args.backend as unknown as CpuBackend;
    const x = cpuValues(backend, logits);
    const rank = logits.shape.length;
    const dim = args.attrs?.dim as number;
    if (x === undefined || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(args);
    const n = logits.shape[rank - 1];
    const out = outputArray(backend, x.length);
    for (let base = 0; base < x.length; base += n) {
      let max = x[base];
      for (let j = 1; j < n; j++) if (Number.isNaN(x[base + j]) || x[base + j] > max) max = x[base + j];
      let sum = 0;
      for (let j = 0; j < n; j++) {
        // Rounded to float32 at each step as tfjs-backend-cpu's separate kernels store them.
        const e = Math.fround(Math.exp(Math.fround(x[base + j] - max)));
        out[base + j] = e;
        sum += e;
      }
      const total = Math.fround(sum);
      for (let j = 0; j < n; j++) out[base + j] /= total;
    }
    return backend.makeTensorInfo([...logits.shape], 'float32', out);
  };
}

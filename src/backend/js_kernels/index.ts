import type { KernelFunc } from '@tensorflow/tfjs-core';
import type { NativeKernels } from '../native_kernels.js';
import { NATIVE_BINARY_OPS, type NativeBinaryOp } from '../native_types.js';
import { concatKernel, padKernel, sliceKernel, splitVKernel, transposeKernel } from './copy.js';
import { BINARY_EXPRESSIONS, binaryKernel, UNARY_EXPRESSIONS, unaryKernel } from './elementwise.js';
import { reduceKernel, softmaxKernel } from './reduce.js';
import { gatherKernel } from './gather.js';
import { unsortedSegmentSumKernel } from './segment_sum.js';

/**
 * Replacements for tfjs-backend-cpu kernels that dominated a CPU profile of the learning phase
 * (bench/learn.ts on the blas backend: broadcasting binary ops, UnsortedSegmentSum, SplitV, Softmax,
 * reductions, Transpose, Slice, PadV2; bench:real: GatherV2). Each takes the cpu kernel it replaces as a fallback for the
 * dtypes and layouts it does not handle, and the native kernels (native_kernels.ts), where loaded,
 * for its large tensors. Name -> factory.
 */
type Factory = (fallback: KernelFunc, native?: NativeKernels) => KernelFunc;

const nativeBinary = (name: string, native: NativeKernels | undefined) =>
  (NATIVE_BINARY_OPS as readonly string[]).includes(name) ? native?.binary[name as NativeBinaryOp] : undefined;

export const JS_KERNELS: Readonly<Record<string, Factory>> = {
  ...Object.fromEntries(
    Object.entries(BINARY_EXPRESSIONS).map(([name, expression]): [string, Factory] => [name, (fallback, native) => binaryKernel(expression, fallback, nativeBinary(name, native))]),
  ),
  ...Object.fromEntries(Object.entries(UNARY_EXPRESSIONS).map(([name, expression]) => [name, (fallback: KernelFunc) => unaryKernel(expression, fallback)])),
  Sum: (fallback, native) => reduceKernel('sum', 'axis', fallback, native?.sum),
  Mean: (fallback, native) => reduceKernel('mean', 'axis', fallback, native?.sum),
  Max: (fallback) => reduceKernel('max', 'reductionIndices', fallback),
  Min: (fallback) => reduceKernel('min', 'axis', fallback),
  Softmax: softmaxKernel,
  Transpose: (fallback, native) => transposeKernel(fallback, native?.stridedCopy),
  Slice: (fallback, native) => sliceKernel(fallback, native?.stridedCopy),
  SplitV: (fallback, native) => splitVKernel(fallback, native?.stridedCopy),
  PadV2: (fallback, native) => padKernel(fallback, native?.stridedCopy),
  Concat: (fallback, native) => concatKernel(fallback, native?.stridedCopy),
  UnsortedSegmentSum: unsortedSegmentSumKernel,
  GatherV2: gatherKernel,
};

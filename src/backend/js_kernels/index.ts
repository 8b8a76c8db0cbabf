import type { KernelFunc } from '@tensorflow/tfjs-core';
import { padKernel, sliceKernel, splitVKernel, transposeKernel } from './copy.js';
import { BINARY_EXPRESSIONS, binaryKernel, UNARY_EXPRESSIONS, unaryKernel } from './elementwise.js';
import { reduceKernel, softmaxKernel } from './reduce.js';
import { gatherKernel } from './gather.js';
import { unsortedSegmentSumKernel } from './segment_sum.js';

/**
 * Replacements for tfjs-backend-cpu kernels that dominated a CPU profile of the learning phase
 * (bench/learn.ts on the blas backend: broadcasting binary ops, UnsortedSegmentSum, SplitV, Softmax,
 * reductions, Transpose, Slice, PadV2; bench:real: GatherV2). Each takes the cpu kernel it replaces as a fallback for the
 * dtypes and layouts it does not handle. Name -> factory.
 */
export const JS_KERNELS: Readonly<Record<string, (fallback: KernelFunc) => KernelFunc>> = {
  ...Object.fromEntries(Object.entries(BINARY_EXPRESSIONS).map(([name, expression]) => [name, (fallback: KernelFunc) => binaryKernel(expression, fallback)])),
  ...Object.fromEntries(Object.entries(UNARY_EXPRESSIONS).map(([name, expression]) => [name, (fallback: KernelFunc) => unaryKernel(expression, fallback)])),
  Sum: (fallback) => reduceKernel('sum', 'axis', fallback),
  Mean: (fallback) => reduceKernel('mean', 'axis', fallback),
  Max: (fallback) => reduceKernel('max', 'reductionIndices', fallback),
  Min: (fallback) => reduceKernel('min', 'axis', fallback),
  Softmax: softmaxKernel,
  Transpose: transposeKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  PadV2: padKernel,
  UnsortedSegmentSum: unsortedSegmentSumKernel,
  GatherV2: gatherKernel,
};

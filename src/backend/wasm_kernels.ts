import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';
import { segmentSumInto } from './js_kernels/segment_sum.js';

/** The slice of BackendWasm a JS kernel needs (structural, so this file needs no runtime import of it). */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): TypedArray;
}

function isWasmHeapBackend(backend: unknown): backend is WasmHeapBackend {
  return (
    typeof backend === 'object' &&
    backend !== null &&
    'makeOutput' in backend &&
    'typedArrayFromHeap' in backend
  );
}

/**
 * out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] = s (segmentSumInto);
 * segmentIds covers the leading dims of x. tf.gather's gradient is built on this kernel, so
 * without it embedding lookups cannot train on wasm.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs;
  const numSegments = attrs?.numSegments;
  if (x === undefined || segmentIds === undefined || typeof numSegments !== 'number') {
    throw new Error('UnsortedSegmentSum (wasm): expected inputs x, segmentIds and attr numSegments');
  }
  if (!isWasmHeapBackend(backend)) throw new Error('UnsortedSegmentSum (wasm): not a wasm backend');
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum (wasm): dtype ${x.dtype} is not supported`);
  }
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken only after makeOutput: an allocation may grow wasm memory and detach older views.
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = backend.typedArrayFromHeap(out);
  sums.fill(0); // malloc'd heap memory is not zeroed
  segmentSumInto(xs, ids, inner, numSegments, sums);
  return out;
};

const WASM_KERNELS: KernelConfig[] = [
  { kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum },
];

/** The kernels tfjs-backend-wasm 4.22 lacks and ligo adds (its profile's missingKernels). */
export const WASM_ADDED_KERNELS: readonly string[] = WASM_KERNELS.map((k) => k.kernelName);

/** Registers the kernels that tfjs-backend-wasm 4.22 lacks; skips any a later version provides. Idempotent. */
export function registerWasmKernels(): string[] {
  const added: string[] = [];
  for (const config of WASM_KERNELS) {
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) continue;
    tf.registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}

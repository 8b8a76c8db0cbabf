import type { KernelFunc } from '@tensorflow/tfjs-core';
import { zeroArray, type CpuBackend } from '../cpu_data.js';

type Values = Float32Array | Int32Array | Uint8Array;

/**
 * sums[s, ...] += x[i, ...] for every i with ids[i] = s; ids outside [0, numSegments) are
 * dropped, as tfjs-backend-cpu does. `inner` is the size of one x row. `sums` must start zeroed.
 * tf.gather's gradient is built on this, so it is what embedding lookups train through.
 */
export function segmentSumInto(x: ArrayLike<number>, ids: ArrayLike<number>, inner: number, numSegments: number, sums: Values): void {
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) sums[dst + j] += x[src + j];
  }
}

/**
 * UnsortedSegmentSum on a cpu-family backend in one pass. tfjs-backend-cpu builds a mask and a
 * product the size of x for every segment: for an embedding gradient, vocabulary x x's size.
 */
export function unsortedSegmentSumKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, segmentIds } = args.inputs;
    const numSegments = args.attrs?.numSegments;
    if (x === undefined || segmentIds === undefined || typeof numSegments !== 'number') {
      throw new Error('UnsortedSegmentSum: expected inputs x, segmentIds and attr numSegments');
    }
    const backend = args.backend as unknown as CpuBackend;
    const xs = backend.data.get(x.dataId)?.values;
    const ids = backend.data.get(segmentIds.dataId)?.values;
    if (!(xs instanceof Float32Array) || !(ids instanceof Int32Array)) return fallback(args);
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = innerShape.reduce((a, b) => a * b, 1);
    const sums = zeroArray(backend, numSegments * inner);
    segmentSumInto(xs, ids, inner, numSegments, sums);
    return backend.makeTensorInfo([numSegments, ...innerShape], 'float32', sums);
  };
}

import type { KernelFunc } from '@tensorflow/tfjs-core';
import { cpuValues, outputArray, type CpuBackend } from '../cpu_data.js';

/**
 * GatherV2 on float32 as block copies: x viewed as [outer, n, inner] around `axis`, each output
 * block [outer, i, :] is x's block [outer, indices[i], :]. tfjs-backend-cpu computes coordinates
 * per element, which made the low-rank operator's gathers (every grown weight, twice a step) the
 * slowest part of a learning step. Indices outside [0, n) throw, as tfjs does; batch_dims other
 * than 0 and other dtypes go to `fallback`.
 */
export function gatherKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as CpuBackend;
    const { x, indices } = args.inputs;
    if (x === undefined || indices === undefined) throw new Error('GatherV2: expected inputs x and indices');
    const values = cpuValues(backend, x);
    const ids = backend.data.get(indices.dataId)?.values;
    const batchDims = (args.attrs?.batchDims as number | undefined) ?? 0;
    if (values === undefined || !(ids instanceof Int32Array) || batchDims !== 0) return fallback(args);
    const rank = x.shape.length;
    const axis = (((args.attrs?.axis as number | undefined) ?? 0) + rank) % rank;
    const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const n = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    for (const i of ids) if (i < 0 || i >= n) throw new Error(`GatherV2: index ${i} is not in [0, ${n})`);
    const out = outputArray(backend, outer * ids.length * inner);
    for (let o = 0; o < outer; o++) {
      const src = o * n * inner;
      const dst = o * ids.length * inner;
      if (inner === 1) {
        for (let i = 0; i < ids.length; i++) out[dst + i] = values[src + ids[i]];
      } else {
        for (let i = 0; i < ids.length; i++) out.set(values.subarray(src + ids[i] * inner, src + (ids[i] + 1) * inner), dst + i * inner);
      }
    }
    return backend.makeTensorInfo([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], 'float32', out);
  };
}

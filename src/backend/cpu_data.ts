import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The slice of tfjs-backend-cpu's MathBackendCPU that JS kernels use (structural: the class keeps
 * these members public). Its tensors are ordinary typed arrays, garbage-collected, with no size
 * ceiling besides the machine's memory.
 */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): TensorInfo;
}

/** The float32 values of a tensor on a cpu-family backend, or undefined for other dtypes. */
export function cpuValues(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

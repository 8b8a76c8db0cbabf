import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { FloatPool } from './js_kernels/pool.js';

/**
 * The slice of tfjs-backend-cpu's MathBackendCPU that JS kernels use (structural: the class keeps
 * these members public). Its tensors are ordinary typed arrays, garbage-collected, with no size
 * ceiling besides the machine's memory.
 */
export interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): TensorInfo;
  /** The blas backend's reusable output arrays (absent on plain tfjs-backend-cpu). */
  pool?: FloatPool;
}

/** An output array of `length` floats with arbitrary contents: the kernel writes every element. */
export function outputArray(backend: CpuBackend, length: number): Float32Array {
  return backend.pool?.take(length) ?? new Float32Array(length);
}

/** An output array of `length` zeros. */
export function zeroArray(backend: CpuBackend, length: number): Float32Array {
  return backend.pool?.zeros(length) ?? new Float32Array(length);
}

/** The float32 values of a tensor on a cpu-family backend, or undefined for other dtypes. */
export function cpuValues(backend: CpuBackend, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== 'float32') return undefined;
  const values = backend.data.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : undefined;
}

/** The float32 values of a kernel's input; throws (naming the kernel) for a missing or other-dtype input. */
export function floatInput(backend: CpuBackend, t: TensorInfo | undefined, kernel: string): Float32Array {
  const values = t === undefined ? undefined : cpuValues(backend, t);
  if (values === undefined) throw new Error(`${kernel}: expected a float32 input`);
  return values;
}

import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The slice of WebGPUBackend these kernels need (structural: the package is optional). */
interface WebGpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): boolean;
}

function isWebGpuBackend(backend: unknown): backend is WebGpuBackendLike {
  return typeof backend === 'object' && backend !== null && 'device' in backend && 'disposeData' in backend;
}

/** Marks the AddN kernel registered here, so registering twice does not wrap the wrapper. */
const CHUNKED = Symbol.for('ligo.webgpu.chunkedAddN');

/**
 * tfjs-backend-webgpu 4.22's AddN binds every input in one shader, and WebGPU allows 8 storage
 * buffers per shader stage by default (tfjs does not ask for more): with 8 or more inputs the
 * pipeline is invalid, Dawn prints a validation error and the result is garbage, not an exception.
 * The gradient-accumulation step sums one product per grown tensor through tf.addN. Summed here in
 * chunks of what one shader may bind (its output takes one buffer), partial sums included.
 */
function chunkedAddN(original: KernelFunc): KernelFunc {
  const kernel: KernelFunc = (args) => {
    const { backend } = args;
    // AddN's inputs are an array (tfjs passes the tensor list itself as the inputs map).
    const inputs = Object.values(args.inputs) as TensorInfo[];
    const asInputs = (list: TensorInfo[]) => list as unknown as NamedTensorInfoMap;
    if (!isWebGpuBackend(backend)) return original(args);
    const perShader = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
    if (inputs.length <= perShader) return original(args);
    const partials: TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += perShader) {
      const chunk = inputs.slice(i, i + perShader);
      partials.push(chunk.length === 1 ? chunk[0] : (original({ ...args, inputs: asInputs(chunk) }) as TensorInfo));
    }
    const sum = kernel({ ...args, inputs: asInputs(partials) }) as TensorInfo;
    // Dispose only the partial sums made here, never an input passed through alone.
    for (const t of partials) if (!inputs.includes(t)) backend.disposeData(t.dataId);
    return sum;
  };
  return Object.assign(kernel, { [CHUNKED]: true });
}

/**
 * Registers ligo's fixes to tfjs-backend-webgpu's kernels (call after the package registered its
 * own). Idempotent; returns the kernels it replaced.
 */
export function registerWebGpuKernels(): string[] {
  const replaced: string[] = [];
  const addN = tf.getKernel('AddN', 'webgpu');
  if (addN !== undefined && !(CHUNKED in addN.kernelFunc)) {
    const config: KernelConfig = { ...addN, kernelFunc: chunkedAddN(addN.kernelFunc) };
    tf.unregisterKernel('AddN', 'webgpu');
    tf.registerKernel(config);
    replaced.push('AddN');
  }
  return replaced;
}

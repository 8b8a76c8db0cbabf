/**
 * The 'blas' backend: tfjs-backend-cpu (tensors are ordinary typed arrays, so no 4 GiB heap
 * ceiling as on wasm) with its matrix products sent to a native BLAS library's sgemm, and the
 * other kernels that the learning phase spends its time in replaced by faster JS (BLAS_KERNELS).
 * Every other kernel is tfjs-backend-cpu's own, registered again under this backend's name, so
 * 'cpu' itself stays the untouched reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadBlas, type BlasLibrary } from './blas_library.js';
import { blasBatchMatMul } from './blas_matmul.js';
import { JS_KERNELS } from './js_kernels/index.js';

export const BLAS_BACKEND_NAME = 'blas';

let loaded: Promise<BlasLibrary> | undefined;

/**
 * Loads the BLAS library and registers the 'blas' backend and its kernels. Throws (and registers
 * nothing) when no library loads. Idempotent: later calls return the first library.
 */
export async function registerBlasBackend(env: Record<string, string | undefined> = process.env): Promise<BlasLibrary> {
  loaded ??= loadBlas(env).then((blas) => {
    install(blas);
    return blas;
  });
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

function install(blas: BlasLibrary): void {
  if (!tf.findBackendFactory(BLAS_BACKEND_NAME)) {
    // Priority 0: never tfjs's own default pick; ligo selects backends explicitly.
    tf.registerBackend(
      BLAS_BACKEND_NAME,
      () => {
        const backend = new MathBackendCPU();
        // Its first write prints a banner urging tfjs-node ("to speed things up dramatically"): not advice for this backend.
        Object.assign(backend, { firstUse: false });
        return backend;
      },
      0,
    );
  }
  const cpuKernel = (name: string): KernelFunc => {
    const kernel = tf.getKernel(name, 'cpu');
    if (kernel === undefined) throw new Error(`tfjs-backend-cpu has no ${name} kernel`);
    return kernel.kernelFunc;
  };
  const replacements: KernelConfig[] = [
    { kernelName: 'BatchMatMul', backendName: BLAS_BACKEND_NAME, kernelFunc: blasBatchMatMul(blas.sgemm, cpuKernel('BatchMatMul')) },
    ...Object.entries(JS_KERNELS).map(([kernelName, make]) => ({ kernelName, backendName: BLAS_BACKEND_NAME, kernelFunc: make(cpuKernel(kernelName)) })),
  ];
  const replaced = new Set(replacements.map((k) => k.kernelName));
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (replaced.has(config.kernelName)) continue;
    if (tf.getKernel(config.kernelName, BLAS_BACKEND_NAME) !== undefined) continue;
    tf.registerKernel({ ...config, backendName: BLAS_BACKEND_NAME });
  }
  for (const config of replacements) {
    if (tf.getKernel(config.kernelName, BLAS_BACKEND_NAME) !== undefined) tf.unregisterKernel(config.kernelName, BLAS_BACKEND_NAME);
    tf.registerKernel(config);
  }
}

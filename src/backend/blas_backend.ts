/**
 * The 'blas' backend: tfjs-backend-cpu (tensors are ordinary typed arrays, so no 4 GiB heap
 * ceiling as on wasm) with its matrix products sent to a native BLAS library's sgemm, and the
 * other kernels that the learning phase spends its time in replaced by faster JS (BLAS_KERNELS).
 * Every other kernel is tfjs-backend-cpu's own, registered again under this backend's name, so
 * 'cpu' itself stays the untouched reference.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { backend_util, KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BLAS_LIBRARY_ENV_VAR, loadBlas, type BlasLibrary } from './blas_library.js';
import { blasBatchMatMul } from './blas_matmul.js';
import { JS_KERNELS } from './js_kernels/index.js';
import { FloatPool } from './js_kernels/pool.js';
import { BLAS_FUSED_ENV_VAR, backendProfile } from './profile.js';
import { activate, type BackendStarter } from './start.js';
import { geluNewGradKernel, geluNewKernel, JS_GELU } from './js_kernels/gelu.js';
import { JS_LAYER_NORM, layerNormGradKernel, layerNormKernel } from './js_kernels/layer_norm.js';
import {
  GELU_NEW_GRAD_KERNEL,
  GELU_NEW_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  MASKED_SOFTMAX_GRAD_KERNEL,
  MASKED_SOFTMAX_KERNEL,
  registerFusedGradients,
  registerMaskedSoftmaxGradient,
  registerSelectAddGradient,
  SELECT_ADD_GRAD_KERNEL,
  SELECT_ADD_KERNEL,
} from './fused_ops.js';
import { JS_MASKED_SOFTMAX, maskedSoftmaxGradKernel, maskedSoftmaxKernel } from './js_kernels/masked_softmax.js';
import { loadNativeKernels, type NativeKernels } from './native_kernels.js';
import { selectAddGradKernel, selectAddKernel } from './js_kernels/select_add.js';

export const BLAS_BACKEND_NAME = 'blas';

/** The npm package that calls the BLAS library: koffi (a foreign-function interface). */
const KOFFI_PACKAGE = 'koffi';

/**
 * How much faster the learning phase runs on blas than on wasm at the same batch: bench:learn-cpu
 * (bench/results/learn_cpu.json: GPT-2 4 x 128 -> 8 x 256 on 2 cores, batch 4 x grad-accum 4,
 * paired runs 2.44, 2.53 and 3.44 times wasm's tokens/s); the median, rounded.
 */
export const BLAS_SPEEDUP_OVER_WASM = 2.5;

/** The one command that gives Debian and Ubuntu a BLAS (what scripts/setup-blas.sh runs). */
export const BLAS_INSTALL_COMMAND = 'sudo apt-get install libopenblas0-pthread';

export const BLAS_BACKEND: BackendStarter = {
  name: BLAS_BACKEND_NAME,
  package: KOFFI_PACKAGE,
  async start({ threads, env, log }) {
    const blas = await registerBlasBackend(env, threads);
    if (threads !== undefined && !blas.setThreads(threads)) log(`--threads: ${blas.library} has no thread setting; using its default`);
    await activate(BLAS_BACKEND_NAME, KOFFI_PACKAGE);
    return {
      description: `blas (tfjs-backend-cpu memory, matrix products in ${blas.library} through ${KOFFI_PACKAGE}; ${blas.kernels})`,
      profile: backendProfile(BLAS_BACKEND_NAME, env),
    };
  },
  hint: `install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread; macOS has Accelerate) or point ${BLAS_LIBRARY_ENV_VAR} at a BLAS library with cblas_sgemm; --backend wasm needs neither`,
  // Said once, when auto mode falls back: what the user loses, and the one command that fixes it.
  skipped: (error) =>
    `blas backend unavailable (${error}); falling back to wasm, which runs the learning phase about ` +
    `${BLAS_SPEEDUP_OVER_WASM}x slower than blas and holds at most 4 GiB of tensors. To install blas: ` +
    `${BLAS_INSTALL_COMMAND} (Debian/Ubuntu), or point ${BLAS_LIBRARY_ENV_VAR} at a library with cblas_sgemm`,
};

/** The BLAS library the backend runs on, and which kernels it runs besides: native, or JavaScript and why. */
export type RegisteredBlas = BlasLibrary & { kernels: string };

let loaded: Promise<RegisteredBlas> | undefined;

/**
 * Loads the BLAS library (and the native kernels where built) and registers the 'blas' backend
 * and its kernels. Throws (and registers nothing) when no BLAS library loads. Idempotent: later
 * calls return the first library.
 */
export async function registerBlasBackend(env: Record<string, string | undefined> = process.env, threads?: number): Promise<RegisteredBlas> {
  loaded ??= Promise.all([loadBlas(env), loadNativeKernels(env, threads)]).then(([blas, native]) => {
    const nativeKernels = 'unavailable' in native ? undefined : native;
    install(blas, env[BLAS_FUSED_ENV_VAR] !== '0', nativeKernels);
    return { ...blas, kernels: nativeKernels?.description ?? `JavaScript kernels: ${(native as { unavailable: string }).unavailable}` };
  });
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/**
 * Bytes of freed output arrays the blas backend keeps for reuse by default (see js_kernels/pool.ts):
 * a quarter of the machine's memory, at most 8 GiB. Measured on bench:learn-cpu's batch 16 (about
 * 3 GiB of live tensors at the peak): a 4 GiB pool ran 1.4-1.7x faster than a 1 GiB one, paired,
 * since a step's arrays then come back from the pool instead of fresh memory. The pool adds at
 * most this much to the process's memory on top of the live tensors.
 */
export const POOL_LIMIT_BYTES = Math.min(8 * 1024 ** 3, Math.floor(os.totalmem() / 4));

/** Overrides POOL_LIMIT_BYTES, in MiB (0 turns reuse off). */
export const BLAS_POOL_ENV_VAR = 'LIGO_BLAS_POOL_MIB';

function poolLimit(env: Record<string, string | undefined>): number {
  const value = env[BLAS_POOL_ENV_VAR];
  if (value === undefined || value === '') return POOL_LIMIT_BYTES;
  const mib = Number(value);
  if (!Number.isFinite(mib) || mib < 0) throw new Error(`${BLAS_POOL_ENV_VAR} must be a number of MiB, got "${value}"`);
  return mib * 1024 ** 2;
}

export { BLAS_FUSED_ENV_VAR };

/** tfjs-backend-cpu's backend, with output arrays reused through a pool. */
class BlasBackend extends MathBackendCPU {
  readonly pool = new FloatPool(poolLimit(process.env));

  constructor() {
    super();
    // Its first write prints a banner urging tfjs-node ("to speed things up dramatically"): not advice for this backend.
    Object.assign(this, { firstUse: false });
  }

  /** A copy when the array is pooled: the caller may keep it after the tensor is freed and the array reused. */
  override readSync(dataId: object): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return values instanceof Float32Array && this.pool.owns(values) ? values.slice() : values;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const result = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) this.pool.give(values);
    return result;
  }
}

/**
 * Wraps a tfjs-backend-cpu kernel so that an output which views a pooled array (its contiguous
 * slices are subarrays of the input) gets its own copy: the pool may hand the input's array out
 * again once the input is freed. Outputs that share an input's dataId (reshape) are the same tensor data and stay.
 */
function dealiasing(kernel: KernelFunc): KernelFunc {
  return (args) => {
    const result = kernel(args);
    const backend = args.backend as unknown as BlasBackend;
    if (!(backend.pool instanceof FloatPool)) return result;
    const inputs = new Set(Object.values(args.inputs).map((t) => t?.dataId));
    for (const out of Array.isArray(result) ? result : [result]) {
      if (inputs.has(out.dataId)) continue;
      const entry = backend.data.get(out.dataId);
      if (entry !== undefined && entry.values instanceof Float32Array && backend.pool.owns(entry.values)) entry.values = entry.values.slice();
    }
    return result;
  };
}

function install(blas: BlasLibrary, fused: boolean, native: NativeKernels | undefined): void {
  if (!tf.findBackendFactory(BLAS_BACKEND_NAME)) {
    // Priority 0: never tfjs's own default pick; ligo selects backends explicitly.
    tf.registerBackend(BLAS_BACKEND_NAME, () => new BlasBackend(), 0);
  }
  const cpuKernel = (name: string): KernelFunc => {
    const kernel = tf.getKernel(name, 'cpu');
    if (kernel === undefined) throw new Error(`tfjs-backend-cpu has no ${name} kernel`);
    return dealiasing(kernel.kernelFunc);
  };
  const replacements: KernelConfig[] = [
    { kernelName: 'BatchMatMul', backendName: BLAS_BACKEND_NAME, kernelFunc: blasBatchMatMul(blas, cpuKernel('BatchMatMul')) },
    ...Object.entries(JS_KERNELS).map(([kernelName, make]) => ({ kernelName, backendName: BLAS_BACKEND_NAME, kernelFunc: make(cpuKernel(kernelName), native) })),
  ];
  if (fused) {
    const gelu = native?.gelu ?? JS_GELU;
    const norm = native?.layerNorm ?? JS_LAYER_NORM;
    const softmax = native?.maskedSoftmax ?? JS_MASKED_SOFTMAX;
    registerFusedGradients();
    registerSelectAddGradient();
    registerMaskedSoftmaxGradient();
    replacements.push(
      { kernelName: MASKED_SOFTMAX_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: maskedSoftmaxKernel(softmax) },
      { kernelName: MASKED_SOFTMAX_GRAD_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: maskedSoftmaxGradKernel(softmax) },
      { kernelName: SELECT_ADD_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: selectAddKernel },
      { kernelName: SELECT_ADD_GRAD_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: selectAddGradKernel },
      { kernelName: GELU_NEW_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: geluNewKernel(gelu) },
      { kernelName: GELU_NEW_GRAD_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: geluNewGradKernel(gelu) },
      { kernelName: LAYER_NORM_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: layerNormKernel(norm) },
      { kernelName: LAYER_NORM_GRAD_KERNEL, backendName: BLAS_BACKEND_NAME, kernelFunc: layerNormGradKernel(norm) },
    );
  }
  const replaced = new Set(replacements.map((k) => k.kernelName));
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (replaced.has(config.kernelName)) continue;
    if (tf.getKernel(config.kernelName, BLAS_BACKEND_NAME) !== undefined) continue;
    tf.registerKernel({ ...config, backendName: BLAS_BACKEND_NAME, kernelFunc: dealiasing(config.kernelFunc) });
  }
  for (const config of replacements) {
    if (tf.getKernel(config.kernelName, BLAS_BACKEND_NAME) !== undefined) tf.unregisterKernel(config.kernelName, BLAS_BACKEND_NAME);
    tf.registerKernel(config);
  }
}

/**
 * What ligo knows about each tfjs backend, in one place: how much tensor memory it can hold, the
 * kernels stock tfjs lacks on it (ligo registers its own), and whether it computes on a software
 * device (the CPU) or hardware (a GPU). The rest of the code asks backendProfile(name) instead of
 * comparing backend names.
 */
import type { WebGpuAdapter } from './webgpu.js';
import { WASM_ADDED_KERNELS } from './wasm_kernels.js';

/** The tfjs backends ligo can start (select.ts maps --backend choices and npm packages onto them). */
export type BackendName = 'tensorflow' | 'wasm' | 'blas' | 'cpu' | 'webgpu';

/**
 * Set to 0 to leave the fused ops (fused_ops.ts) off the blas backend, so that models compose them
 * from stock ops as on every other backend (bench:learn-cpu measures both in one run).
 */
export const BLAS_FUSED_ENV_VAR = 'LIGO_BLAS_FUSED';

/**
 * The wasm backend's heap cannot grow past 4 GiB (wasm32; emscripten's getHeapMax is 4 GiB minus
 * one 64 KiB page). Past it, tfjs 4.22's wasm allocator returns offset 0 and tfjs writes there
 * anyway: tensors silently overwrite each other rather than fail, so the learning phase's estimate
 * is checked against it before the run, and wasm_heap_guard.ts turns a failed allocation into an error.
 */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3 - 64 * 1024;

/**
 * Ops models/ composes from stock tfjs ops that a backend may run as one fused kernel instead
 * (fused_ops.ts): 'geluNew' (gelu_new / gelu_pytorch_tanh), 'layerNorm' (LayerNorm over the last axis).
 */
export type FusedOp = 'geluNew' | 'layerNorm';

export interface BackendProfile {
  name: BackendName;
  /** Live tensor bytes the backend can hold, when less than the machine's memory (a wasm32 heap). */
  memoryLimit?: { bytes: number; reason: string };
  /**
   * Kernels stock tfjs lacks on this backend; ligo registers its own when the backend starts. Read
   * from the list that registers them (wasm_kernels.ts), so the two cannot disagree.
   */
  missingKernels: readonly string[];
  /**
   * Ops this backend runs as one fused kernel (fused_ops.ts registers them): they keep fewer
   * tensors for backprop than the composed form, and the learning-memory estimate counts that.
   */
  fusedOps: readonly FusedOp[];
  /** 'software': computes on the CPU (slow for large models); 'hardware': on a GPU or accelerator. */
  device: 'software' | 'hardware';
  /**
   * Set where tensors live in a device's own memory that the OS does not report and the backend
   * cannot tell (WebGPU has no query for it): the total is then not checked, only `tensorLimit`.
   */
  deviceMemory?: { reason: string };
  /** Largest single tensor, where the backend bounds it (webgpu: one tensor is one GPU buffer). */
  tensorLimit?: { bytes: number; reason: string };
}

/** One profile per backend ligo can start: a backend added to BackendName fails to compile until it has one. */
export const BACKEND_PROFILES: Readonly<Record<BackendName, BackendProfile>> = {
  tensorflow: { name: 'tensorflow', missingKernels: [], fusedOps: [], device: 'hardware' },
  wasm: {
    name: 'wasm',
    memoryLimit: { bytes: WASM_HEAP_LIMIT_BYTES, reason: 'the wasm backend heap limit' },
    missingKernels: WASM_ADDED_KERNELS,
    fusedOps: [],
    device: 'software',
  },
  // tfjs-backend-cpu's kernels and memory (ordinary JS typed arrays: no ceiling below the machine's
  // memory), matrix products in a native BLAS library (blas_backend.ts), GELU and LayerNorm fused
  // (js_kernels/gelu.ts, layer_norm.ts).
  blas: { name: 'blas', missingKernels: [], fusedOps: ['geluNew', 'layerNorm'], device: 'software' },
  cpu: { name: 'cpu', missingKernels: [], fusedOps: [], device: 'software' },
  // Refined by webGpuProfile once an adapter is known (initBackend does it).
  webgpu: { name: 'webgpu', missingKernels: [], fusedOps: [], device: 'hardware' },
};

/**
 * webgpu's profile depends on its adapter: the per-buffer limit bounds one tensor; a software
 * adapter (lavapipe, SwiftShader) keeps its buffers in host memory, a GPU in its own, unreported.
 */
export function webGpuProfile(adapter: Pick<WebGpuAdapter, 'software' | 'limits'>): BackendProfile {
  const tensorLimit = {
    bytes: Math.min(adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize),
    reason: "the WebGPU adapter's largest storage buffer",
  };
  const kernels = { missingKernels: [], fusedOps: [] };
  if (adapter.software) return { name: 'webgpu', ...kernels, device: 'software', tensorLimit };
  return {
    name: 'webgpu',
    ...kernels,
    device: 'hardware',
    deviceMemory: { reason: 'GPU memory, which WebGPU does not report' },
    tensorLimit,
  };
}

/**
 * The profile of a backend by its tfjs name; an unknown backend gets no limits and no known gaps.
 * blas with LIGO_BLAS_FUSED=0 (blas_backend.ts) registers no fused ops, and its profile says so.
 */
export function backendProfile(name: string, env: Record<string, string | undefined> = process.env): BackendProfile {
  if (!(name in BACKEND_PROFILES)) return { name: name as BackendName, missingKernels: [], fusedOps: [], device: 'hardware' };
  const profile = BACKEND_PROFILES[name as BackendName];
  return name === 'blas' && env[BLAS_FUSED_ENV_VAR] === '0' ? { ...profile, fusedOps: [] } : profile;
}

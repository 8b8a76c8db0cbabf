/**
 * What ligo knows about each tfjs backend, in one place: how much tensor memory it can hold, the
 * kernels stock tfjs lacks on it (ligo registers its own), and whether it computes on a software
 * device (the CPU) or hardware (a GPU). The rest of the code asks backendProfile(name) instead of
 * comparing backend names.
 */
import type { BackendName } from './select.js';

/**
 * The wasm backend's heap cannot grow past 4 GiB (wasm32; emscripten's getHeapMax is 4 GiB minus
 * one 64 KiB page). Past it, tfjs 4.22's wasm allocator returns offset 0 and tfjs writes there
 * anyway: tensors silently overwrite each other rather than fail, so the learning phase's estimate
 * is checked against it before the run, and wasm_heap_guard.ts turns a failed allocation into an error.
 */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3 - 64 * 1024;

export interface BackendProfile {
  name: BackendName;
  /** Live tensor bytes the backend can hold, when less than the machine's memory (a wasm32 heap). */
  memoryLimit?: { bytes: number; reason: string };
  /** Kernels stock tfjs lacks on this backend; ligo registers its own (see wasm_kernels.ts). */
  missingKernels: readonly string[];
  /** 'software': computes on the CPU (slow for large models); 'hardware': on a GPU or accelerator. */
  device: 'software' | 'hardware';
}

/** One profile per backend ligo can start: a backend added to BackendName fails to compile until it has one. */
export const BACKEND_PROFILES: Readonly<Record<BackendName, BackendProfile>> = {
  tensorflow: { name: 'tensorflow', missingKernels: [], device: 'hardware' },
  wasm: {
    name: 'wasm',
    memoryLimit: { bytes: WASM_HEAP_LIMIT_BYTES, reason: 'the wasm backend heap limit' },
    // tf.gather's gradient needs it: without it embeddings cannot train on wasm.
    missingKernels: ['UnsortedSegmentSum'],
    device: 'software',
  },
  // tfjs-backend-cpu's kernels and memory (ordinary JS typed arrays: no ceiling below the machine's
  // memory), matrix products in a native BLAS library (blas_backend.ts).
  blas: { name: 'blas', missingKernels: [], device: 'software' },
  cpu: { name: 'cpu', missingKernels: [], device: 'software' },
  webgpu: { name: 'webgpu', missingKernels: [], device: 'hardware' },
};

/** The profile of a backend by its tfjs name; an unknown backend gets no limits and no known gaps. */
export function backendProfile(name: string): BackendProfile {
  return name in BACKEND_PROFILES ? BACKEND_PROFILES[name as BackendName] : { name: name as BackendName, missingKernels: [], device: 'hardware' };
}

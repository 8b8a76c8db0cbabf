export { initBackend, currentBackend, BACKEND_CHOICES, BACKEND_ENV_VAR } from './select.js';
export type { BackendName, BackendChoice, BackendInfo, InitBackendOptions } from './select.js';
export { registerWasmKernels } from './wasm_kernels.js';
export { registerMissingGradients } from './gradients.js';
export { registerFastWasmMatMul } from './wasm_matmul.js';
export { WASM_THREADS_ENV_VAR } from './wasm_threads.js';
export { BACKEND_PROFILES, WASM_HEAP_LIMIT_BYTES, backendProfile, webGpuProfile, type BackendProfile } from './profile.js';
export { BLAS_LIBRARY_ENV_VAR } from './blas_library.js';
export { registerBlasBackend, BLAS_BACKEND_NAME, BLAS_FUSED_ENV_VAR } from './blas_backend.js';

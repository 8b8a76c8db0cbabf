import { registerBlasBackend } from '../../src/backend/blas_backend.js';

/**
 * Why the blas backend cannot start on this machine (no koffi, no BLAS library), or undefined when
 * it can. Tests that need it skip with this reason (scripts/setup-blas.sh installs OpenBLAS in CI).
 */
export const BLAS_UNAVAILABLE: string | undefined = await registerBlasBackend().then(
  () => undefined,
  (err: unknown) => (err instanceof Error ? err.message : String(err)),
);
if (BLAS_UNAVAILABLE !== undefined) console.warn(`skipping the blas backend tests: ${BLAS_UNAVAILABLE}`);

/** The CPU backends the parity tests run on: blas too when it starts. */
export const CPU_BACKENDS: readonly ('wasm' | 'cpu' | 'blas')[] = BLAS_UNAVAILABLE === undefined ? ['wasm', 'cpu', 'blas'] : ['wasm', 'cpu'];

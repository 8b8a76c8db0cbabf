/**
 * A native BLAS library's single-precision matrix product, called from JS through koffi
 * (koffi.ts). The typed arrays are passed as pointers, not copied, so a product costs the
 * library's time plus about a microsecond.
 */
import * as os from 'node:os';
import { importKoffi, optionalFunc, type Koffi, type KoffiLibrary } from './koffi.js';
import { firstLine } from './start.js';

/** Points ligo at one BLAS library (a path or a name the dynamic linker finds) instead of the defaults. */
export const BLAS_LIBRARY_ENV_VAR = 'LIGO_BLAS_LIBRARY';

/**
 * Libraries tried in order when LIGO_BLAS_LIBRARY is unset: optimized BLAS with the CBLAS
 * interface. The reference BLAS (Debian's libblas3) is left out on purpose: it also exports
 * cblas_sgemm but runs it slower than tfjs-backend-wasm.
 */
export const DEFAULT_BLAS_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  linux: ['libopenblas.so.0', 'libopenblas.so', 'libmkl_rt.so.2', 'libmkl_rt.so'],
  darwin: ['/System/Library/Frameworks/Accelerate.framework/Accelerate', 'libopenblas.dylib'],
  win32: ['libopenblas.dll', 'mkl_rt.2.dll'],
};

/** CBLAS enum values (cblas.h): row-major storage and the transpose flags. */
const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/**
 * C[m, n] = op(A)[m, k] · op(B)[k, n] in row-major storage, where op transposes when asked.
 * Views (subarrays) are fine: the pointer starts at the view's first element. lda, ldb and ldc are
 * the row strides of A, B and C as stored.
 */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface BlasLibrary {
  /** What was loaded: the name or path given to the dynamic linker. */
  library: string;
  sgemm: Sgemm;
  /** Sets the library's thread count where it exports a way to (OpenBLAS, MKL); false otherwise. */
  setThreads(threads: number): boolean;
  /**
   * Runs `f` with the library on one thread (OpenBLAS), then restores its count; elsewhere just
   * runs `f`. For many small products (attention's per-head ones) the threads' hand-offs cost more
   * than the work: 128 products of 128 x 32 x 128 took 1.6-2.9 ms on one thread against 3.5-10 ms
   * on two, on the shared 2-core machine.
   */
  singleThreaded<T>(f: () => T): T;
}

/** Candidates for this platform, LIGO_BLAS_LIBRARY alone when set. */
export function blasCandidates(env: Record<string, string | undefined> = process.env, platform: string = os.platform()): string[] {
  const forced = env[BLAS_LIBRARY_ENV_VAR];
  if (forced !== undefined && forced !== '') return [forced];
  return [...(DEFAULT_BLAS_LIBRARIES[platform] ?? [])];
}

/**
 * Loads the first candidate library that exports cblas_sgemm. Throws one error naming every
 * candidate and why it failed (koffi missing, library not found, symbol missing).
 */
export async function loadBlas(env: Record<string, string | undefined> = process.env): Promise<BlasLibrary> {
  let koffi: Koffi;
  try {
    koffi = await importKoffi();
  } catch (err) {
    throw new Error(`the koffi package (FFI) did not load: ${firstLine(err)}`);
  }
  const candidates = blasCandidates(env);
  if (candidates.length === 0) throw new Error(`no default BLAS library for ${os.platform()}; set ${BLAS_LIBRARY_ENV_VAR}`);
  const failures: string[] = [];
  for (const library of candidates) {
    let lib: KoffiLibrary;
    try {
      lib = koffi.load(library);
    } catch (err) {
      failures.push(`${library}: ${firstLine(err)}`);
      continue;
    }
    const raw = optionalFunc(
      lib,
      'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)',
    );
    if (raw === undefined) {
      failures.push(`${library}: no cblas_sgemm`);
      continue;
    }
    const setThreads =
      optionalFunc(lib, 'void openblas_set_num_threads(int n)') ?? optionalFunc(lib, 'void MKL_Set_Num_Threads(int n)');
    const getThreads = optionalFunc(lib, 'int openblas_get_num_threads()');
    return {
      library,
      sgemm: (transA, transB, m, n, k, a, lda, b, ldb, c, ldc) => {
        raw(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
      },
      setThreads: (threads) => {
        if (setThreads === undefined) return false;
        setThreads(threads);
        return true;
      },
      singleThreaded: (f) => {
        const threads = getThreads?.();
        if (setThreads === undefined || typeof threads !== 'number' || threads <= 1) return f();
        setThreads(1);
        try {
          return f();
        } finally {
          setThreads(threads);
        }
      },
    };
  }
  throw new Error(`no BLAS library loaded (${failures.join('; ')})`);
}

/**
 * The blas backend's native kernels (native/ligo_kernels.c, built at install by
 * scripts/build-native.mjs into build/native/): GELU, attention's masked softmax and LayerNorm, each
 * way, in C on every core. Each implements the same interface as its JavaScript twin in
 * js_kernels/, which stays the reference and the fallback when no library was built (no C
 * compiler) or LIGO_NATIVE_KERNELS=0 turns them off.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { importKoffi, type KoffiLibrary } from './koffi.js';
import { firstLine } from './start.js';
import type { GeluImpl } from './js_kernels/gelu.js';
import { JS_LAYER_NORM, type LayerNormImpl } from './js_kernels/layer_norm.js';
import type { MaskedSoftmaxImpl } from './js_kernels/masked_softmax.js';
import { NATIVE_BINARY_OPS, type BinaryRows, type NativeBinaryOp, type StridedCopy, type SumRows } from './native_types.js';

export { NATIVE_BINARY_OPS, NATIVE_MIN_ELEMENTS, type BinaryRows, type NativeBinaryOp, type StridedCopy, type SumRows } from './native_types.js';

/** Set to 0 to run the JavaScript kernels even where the native library is built (benchmarks compare both). */
export const NATIVE_KERNELS_ENV_VAR = 'LIGO_NATIVE_KERNELS';

/** The kernels' ABI version (ligo_kernels_version in the C file): a stale build is refused, not misused. */
const NATIVE_KERNELS_VERSION = 2;

/** Where the build puts the library: build/native/, two folders up from src/backend/ and dist/backend/ alike. */
export function nativeLibraryPath(platform: string = process.platform): string {
  const extension = platform === 'darwin' ? 'dylib' : platform === 'win32' ? 'dll' : 'so';
  return fileURLToPath(new URL(`../../build/native/libligo_kernels.${extension}`, import.meta.url));
}

export interface NativeKernels {
  /** What was loaded, for the backend's description. */
  description: string;
  gelu: GeluImpl;
  layerNorm: LayerNormImpl;
  maskedSoftmax: MaskedSoftmaxImpl;
  binary: Readonly<Record<NativeBinaryOp, BinaryRows>>;
  /** Sets the kernels' thread count (OpenMP; ignored by a build without it). */
  setThreads: (threads: number) => void;
  sum: SumRows;
  stridedCopy: StridedCopy;
}



type NativeFunc = (...args: unknown[]) => unknown;

/** The library takes strides and dims as int32; larger ones are copied in JavaScript. */
const INT32_MAX = 2 ** 31 - 1;

/** The library's kernels, on `threads` threads where given (else OpenMP's default, every core). */
function kernels(lib: KoffiLibrary, threads?: number): NativeKernels {
  const fn = (signature: string): NativeFunc => lib.func(signature);
  const geluForward = fn('void ligo_gelu_new(const float *x, float *out, int64_t n)');
  const geluBackward = fn('void ligo_gelu_new_grad(const float *dy, const float *x, float *out, int64_t n)');
  const softmax = fn('void ligo_masked_softmax(const float *x, const float *mask, float *out, int64_t rows, int64_t t, int64_t s, float scale)');
  const softmaxGrad = fn('void ligo_masked_softmax_grad(const float *dy, const float *y, float *dx, int64_t rows, int64_t s, float scale)');
  const norm = fn('void ligo_layer_norm(const float *x, const float *w, const float *b, float *out, int64_t rows, int64_t c, double eps)');
  const normGrad = fn(
    'int ligo_layer_norm_grad(const float *dy, const float *x, const float *w, float *dx, float *dw, float *db, int64_t rows, int64_t c, double eps)',
  );
  const binary = fn('int ligo_binary(int op, const float *x, int64_t xr, int64_t xc, const float *y, int64_t yr, int64_t yc, float *out, int64_t rows, int64_t n)');
  const sum = fn('void ligo_sum(const float *x, int64_t outer, int64_t reduced, int64_t inner, float *out, double scale)');
  const copy = fn('int ligo_strided_copy(const float *x, int64_t xOffset, const int32_t *xStrides, float *out, int64_t outOffset, const int32_t *outStrides, int rank, const int32_t *dims)');
  const setThreads = fn('void ligo_set_threads(int threads)');
  if (threads !== undefined) setThreads(threads);
  const running = fn('int ligo_threads()')() as number;
  const rows =
    (op: number): BinaryRows =>
    (x, xr, xc, y, yr, yc, out, count, n) =>
      void binary(op, x, xr, xc, y, yr, yc, out, count, n);
  const openmp = fn('int ligo_openmp()')() === 1;
  return {
    description: `native kernels${openmp ? `, ${running} threads` : ', one thread'}`,
    gelu: {
      forward: (x, out) => void geluForward(x, out, x.length),
      backward: (dy, x, out) => void geluBackward(dy, x, out, x.length),
    },
    layerNorm: {
      forward: (x, w, b, eps, out) => void norm(x, w, b, out, x.length / w.length, w.length, eps),
      backward: (dy, x, w, eps, dx, dw, db) => {
        // -1: the library could not allocate its per-thread row sums; the JavaScript kernel needs none.
        if (normGrad(dy, x, w, dx, dw, db, x.length / w.length, w.length, eps) !== 0) JS_LAYER_NORM.backward(dy, x, w, eps, dx, dw, db);
      },
    },
    maskedSoftmax: {
      forward: (x, mask, out, t, s, scale) => void softmax(x, mask, out, x.length / s, t, s, scale),
      backward: (dy, y, dx, s, scale) => void softmaxGrad(dy, y, dx, y.length / s, s, scale),
    },
    binary: Object.fromEntries(NATIVE_BINARY_OPS.map((op, code) => [op, rows(code)])) as Record<NativeBinaryOp, BinaryRows>,
    sum: (x, outer, reduced, inner, out, scale) => void sum(x, outer, reduced, inner, out, scale),
    setThreads: (n) => void setThreads(n),
    stridedCopy: (x, xOffset, xStrides, out, outOffset, outStrides, dims) =>
      [...xStrides, ...outStrides, ...dims].every((v) => Math.abs(v) <= INT32_MAX) &&
      copy(x, xOffset, Int32Array.from(xStrides), out, outOffset, Int32Array.from(outStrides), dims.length, Int32Array.from(dims)) === 0,
  };
}

/**
 * Loads the native kernels, or says in one line why not (the caller keeps the JavaScript ones).
 * `threads` sets their thread count (OpenMP), as --threads does BLAS's.
 */
export async function loadNativeKernels(
  env: Record<string, string | undefined> = process.env,
  threads?: number,
): Promise<NativeKernels | { unavailable: string }> {
  if (env[NATIVE_KERNELS_ENV_VAR] === '0') return { unavailable: `${NATIVE_KERNELS_ENV_VAR}=0` };
  const file = nativeLibraryPath();
  if (!existsSync(file)) return { unavailable: `${file} is not built (npm install builds it where a C compiler is found)` };
  // OpenMP's idle threads would otherwise spin between kernels, on the cores BLAS is using.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    const koffi = await importKoffi();
    const lib = koffi.load(file);
    const version = lib.func('int ligo_kernels_version()')() as number;
    if (version !== NATIVE_KERNELS_VERSION) return { unavailable: `${file} is version ${version}, ligo needs ${NATIVE_KERNELS_VERSION}: run npm install again` };
    return kernels(lib, threads);
  } catch (err) {
    return { unavailable: `${file}: ${firstLine(err)}` };
  }
}

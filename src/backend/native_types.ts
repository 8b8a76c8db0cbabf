/**
 * The shapes of the native kernels that the JavaScript kernels dispatch to per call (binary ops,
 * sums, copies), apart from their loader (native_kernels.ts), so js_kernels/ can take them without
 * importing the loader.
 */

/** The binary ops the native library runs (ligo_binary's op codes, in this order). */
export const NATIVE_BINARY_OPS = ['Add', 'Sub', 'Multiply', 'RealDiv'] as const;
export type NativeBinaryOp = (typeof NATIVE_BINARY_OPS)[number];

/** out[r n + j] = x[r xr + j xc] op y[r yr + j yc] for r < rows, j < n (a broadcast collapsed to 2-D). */
export type BinaryRows = (x: Float32Array, xr: number, xc: number, y: Float32Array, yr: number, yc: number, out: Float32Array, rows: number, n: number) => void;

/** x read as [outer, reduced, inner] summed over the middle axis, times scale, into out [outer, inner]. */
export type SumRows = (x: Float32Array, outer: number, reduced: number, inner: number, out: Float32Array, scale: number) => void;

/**
 * Copies x read at xOffset with xStrides over dims to out at outOffset with outStrides; false
 * where the rank is past the library's limit (the caller copies in JavaScript).
 */
export type StridedCopy = (
  x: Float32Array,
  xOffset: number,
  xStrides: readonly number[],
  out: Float32Array,
  outOffset: number,
  outStrides: readonly number[],
  dims: readonly number[],
) => boolean;

/**
 * Below this many elements the JavaScript loops are as fast as a call into the library (its fixed
 * cost is about a microsecond): the kernels that dispatch per call (binary ops, sums, copies) keep
 * small tensors in JavaScript.
 */
export const NATIVE_MIN_ELEMENTS = 4096;

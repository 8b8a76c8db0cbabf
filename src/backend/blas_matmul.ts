import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BlasLibrary } from './blas_library.js';
import { cpuValues, outputArray, zeroArray, type CpuBackend } from './cpu_data.js';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Batched products with fewer multiply-adds than this each run on one BLAS thread (see singleThreaded). */
const SMALL_PRODUCT = 2 ** 21;

/**
 * For each batch of the broadcast output (outer dims `out`), the batch of an operand with outer
 * dims `dims` that feeds it: numpy broadcasting, dims aligned from the right, size-1 dims repeated.
 */
export function broadcastBatchIndex(out: readonly number[], dims: readonly number[]): Int32Array {
  const count = size(out);
  const index = new Int32Array(count);
  const padded = [...Array<number>(out.length - dims.length).fill(1), ...dims];
  for (let i = 0; i < count; i++) {
    let rest = i;
    let source = 0;
    let stride = 1;
    for (let d = out.length - 1; d >= 0; d--) {
      const at = rest % out[d];
      rest = Math.floor(rest / out[d]);
      if (padded[d] !== 1) source += at * stride;
      stride *= padded[d];
    }
    index[i] = source;
  }
  return index;
}

/**
 * tfjs's BatchMatMul through the BLAS library's sgemm: transposes are sgemm's flags (no
 * transposed copies), batches are a loop of products on views into the operands, and a batched A
 * against one B (x · W over [B, T] rows) is a single product with B·T rows. Results are float32
 * sums of the same products as tfjs-backend-cpu's, in the library's order. Non-float32 operands go
 * to `fallback` (tfjs-backend-cpu's kernel).
 */
export function blasBatchMatMul(blas: BlasLibrary, fallback: KernelFunc): KernelFunc {
  const { sgemm } = blas;
  return (args) => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined) throw new Error('BatchMatMul (blas): expected inputs a and b');
    const backend = args.backend as unknown as CpuBackend;
    const aValues = cpuValues(backend, a);
    const bValues = cpuValues(backend, b);
    if (aValues === undefined || bValues === undefined) return fallback(args);
    const transA = args.attrs?.transposeA === true;
    const transB = args.attrs?.transposeB === true;
    const [aRows, aCols] = a.shape.slice(-2);
    const [bRows, bCols] = b.shape.slice(-2);
    const [m, k] = transA ? [aCols, aRows] : [aRows, aCols];
    const [kB, n] = transB ? [bCols, bRows] : [bRows, bCols];
    if (k !== kB) {
      throw new Error(`Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transA} and transposeB=${transB} must match.`);
    }
    const aOuter = a.shape.slice(0, -2);
    const bOuter = b.shape.slice(0, -2);
    const outer = backend_util.assertAndGetBroadcastShape(aOuter, bOuter);
    const batches = size(outer);
    // sgemm with beta = 0 writes every element; with k = 0 the product is zeros.
    const out = k === 0 ? zeroArray(backend, batches * m * n) : outputArray(backend, batches * m * n);
    const result = (): TensorInfo => backend.makeTensorInfo([...outer, m, n], 'float32', out);
    if (out.length === 0 || k === 0) return result();
    const lda = transA ? m : k;
    const ldb = transB ? k : n;
    if (size(bOuter) === 1 && !transA) {
      // A's batches are consecutive rows: one product of batches·m rows.
      sgemm(false, transB, batches * m, n, k, aValues, lda, bValues, ldb, out, n);
      return result();
    }
    const aIndex = broadcastBatchIndex(outer, aOuter);
    const bIndex = broadcastBatchIndex(outer, bOuter);
    const loop = (): void => {
      for (let i = 0; i < batches; i++) {
        const aView = aValues.subarray(aIndex[i] * m * k);
        const bView = bValues.subarray(bIndex[i] * k * n);
        sgemm(transA, transB, m, n, k, aView, lda, bView, ldb, out.subarray(i * m * n), n);
      }
    };
    if (m * n * k < SMALL_PRODUCT) blas.singleThreaded(loop);
    else loop();
    return result();
  };
}

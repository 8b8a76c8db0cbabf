import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/** The slice of BackendWasm used here (structural, so no runtime import of the backend). */
interface WasmBackend {
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.TypedArray;
}

const WRAPPED = Symbol('ligo.fastMatMul');

interface Kernels {
  matMul: KernelFunc;
  transpose: KernelFunc;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul through XNNPACK only for a single, untransposed
 * product; transposed operands and batches (attention: one product per batch x head) take a
 * naive loop about 10x slower (measured: 1024x64 @ (256x64)^T at 1.9 GFLOP/s vs 20 GFLOP/s,
 * 32 x [128x128 @ 128x16] at 2.1 GFLOP/s vs 6.8 as 32 single products). So: transpose
 * explicitly, and split same-shaped batches into single products, calling kernels directly to
 * skip the engine's per-op overhead. Results are the same sums of the same products.
 */
function fastMatMul(k: Kernels): KernelFunc {
  const wrapped: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs;
    if (a === undefined || b === undefined) throw new Error('BatchMatMul (wasm): expected inputs a and b');
    const transposeA = attrs?.transposeA === true;
    const transposeB = attrs?.transposeB === true;
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const sameBatch = batchA === batchB && a.shape.length === b.shape.length && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
    if (!transposeA && !transposeB && (batchA <= 1 || !sameBatch)) return k.matMul(args);

    const temporaries: TensorInfo[] = [];
    const keep = (t: TensorInfo): TensorInfo => {
      temporaries.push(t);
      return t;
    };
    const run = (f: KernelFunc, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Record<string, unknown>): TensorInfo =>
      f({ inputs: inputs as Record<string, TensorInfo>, backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    const swapLastTwo = (x: TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
      return keep(run(k.transpose, { x }, { perm }));
    };
    try {
      const a2 = transposeA ? swapLastTwo(a) : a;
      const b2 = transposeB ? swapLastTwo(b) : b;
      const plain = { ...attrs, transposeA: false, transposeB: false };
      if (batchA <= 1 || !sameBatch) return k.matMul({ inputs: { a: a2, b: b2 }, backend, attrs: plain });
      const [m, kk] = a2.shape.slice(-2);
      const n = b2.shape[b2.shape.length - 1];
      const heap = backend as unknown as WasmBackend;
      // Batches are contiguous, so each one is a plain copy out of the heap (wasm's Slice kernel
      // is slower than the products themselves).
      const part = (x: TensorInfo, i: number, rows: number, cols: number): TensorInfo => {
        const piece = keep(heap.makeOutput([rows, cols], x.dtype));
        const count = rows * cols;
        heap.typedArrayFromHeap(piece).set(heap.typedArrayFromHeap(x).subarray(i * count, (i + 1) * count));
        return piece;
      };
      const result = heap.makeOutput([...a.shape.slice(0, -2), m, n], a.dtype);
      for (let i = 0; i < batchA; i++) {
        const product = keep(k.matMul({ inputs: { a: part(a2, i, m, kk), b: part(b2, i, kk, n) }, backend, attrs: plain }) as TensorInfo);
        // Views are taken after every allocation: growing wasm memory detaches older views.
        heap.typedArrayFromHeap(result).set(heap.typedArrayFromHeap(product), i * m * n);
      }
      return result;
    } finally {
      for (const t of temporaries) (backend as unknown as WasmBackend).disposeData(t.dataId);
    }
  };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped;
}

/** Replaces wasm's BatchMatMul with the fast version. Idempotent. */
export function registerFastWasmMatMul(): boolean {
  const get = (name: string): KernelFunc | undefined => tf.getKernel(name, 'wasm')?.kernelFunc;
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = get('Transpose');
  if (!matMul || !transpose || WRAPPED in matMul.kernelFunc) return false;
  const config: KernelConfig = { ...matMul, kernelFunc: fastMatMul({ matMul: matMul.kernelFunc, transpose }) };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(config);
  return true;
}

import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface DisposingBackend {
  disposeData(dataId: object): boolean;
}

const WRAPPED = Symbol('ligo.transposeFirst');

/**
 * tfjs-backend-wasm 4.22 multiplies with transposeA/transposeB an order of magnitude slower than
 * without (measured: 1024x64 @ (256x64)^T at 1.9 GFLOP/s vs 20 GFLOP/s untransposed), and every
 * matMul gradient uses those flags. Transposing explicitly first, then multiplying plainly, is
 * exact (same products and sums) and recovers the fast path.
 */
function transposeFirst(original: KernelFunc, transpose: KernelFunc): KernelFunc {
  const wrapped: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const transposeA = attrs?.transposeA === true;
    const transposeB = attrs?.transposeB === true;
    if (!transposeA && !transposeB) return original(args);
    const temporaries: TensorInfo[] = [];
    const swapLastTwo = (x: TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
      const out = transpose({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
      temporaries.push(out);
      return out;
    };
    const { a, b } = inputs;
    if (a === undefined || b === undefined) throw new Error('BatchMatMul (wasm): expected inputs a and b');
    try {
      return original({
        inputs: { a: transposeA ? swapLastTwo(a) : a, b: transposeB ? swapLastTwo(b) : b },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      for (const t of temporaries) (backend as unknown as DisposingBackend).disposeData(t.dataId);
    }
  };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped;
}

/** Replaces wasm's BatchMatMul with the transpose-first version. Idempotent. */
export function registerFastWasmMatMul(): boolean {
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matMul || !transpose || WRAPPED in matMul.kernelFunc) return false;
  const config: KernelConfig = { ...matMul, kernelFunc: transposeFirst(matMul.kernelFunc, transpose.kernelFunc) };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(config);
  return true;
}

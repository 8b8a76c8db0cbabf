/**
 * Wall time per tfjs kernel, by wrapping every kernel registered for a backend. On wasm, kernels run
 * synchronously, so the time inside kernelFunc is the kernel's compute (a kernel that calls another
 * directly, like the transpose-first BatchMatMul, is charged with both). What the step takes beyond
 * the sum is tfjs's own bookkeeping (engine, tape, tidy) and JS between kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';

export interface KernelTimer {
  /** Milliseconds and calls per kernel name since start or the last reset. */
  totals(): Map<string, { ms: number; calls: number }>;
  reset(): void;
  stop(): void;
}

/** `byShape`: totals per kernel and input shapes (e.g. `Add [2048,1024] [1024]`) instead of per kernel. */
export function startKernelTimer(backend: string, byShape = false): KernelTimer {
  const totals = new Map<string, { ms: number; calls: number }>();
  const originals: KernelConfig[] = [];
  for (const config of tf.getKernelsForBackend(backend)) {
    const original: KernelFunc = config.kernelFunc;
    const name = config.kernelName;
    const timed: KernelFunc = (args) => {
      const start = performance.now();
      try {
        return original(args);
      } finally {
        const key = byShape ? `${name} ${Object.values(args.inputs).map((x) => JSON.stringify(x?.shape)).join(' ')}` : name;
        const t = totals.get(key) ?? { ms: 0, calls: 0 };
        t.ms += performance.now() - start;
        t.calls += 1;
        totals.set(key, t);
      }
    };
    originals.push(config);
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  return {
    totals: () => new Map(totals),
    reset: () => totals.clear(),
    stop: () => {
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, backend);
        tf.registerKernel(config);
      }
    },
  };
}

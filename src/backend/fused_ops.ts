/**
 * Fused ops: one kernel for what models/ composes from several tfjs ops, registered only on the
 * backends that have a kernel for it (blas: js_kernels/gelu.ts). Model code asks for the fused op
 * and gets undefined where the active backend has none, and then composes it as before, so every
 * other backend runs the tested composition, and no model code names a backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** Kernel names (tfjs's registry is global: prefixed so they never meet a stock kernel). */
export const GELU_NEW_KERNEL = 'LigoGeluNew';
export const GELU_NEW_GRAD_KERNEL = 'LigoGeluNewGrad';

/** Registers the fused ops' gradients (backend-independent: each calls its gradient kernel). Idempotent. */
export function registerFusedGradients(): void {
  if (tf.getGradient(GELU_NEW_KERNEL) !== undefined) return;
  tf.registerGradient({
    kernelName: GELU_NEW_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.engine().runKernel(GELU_NEW_GRAD_KERNEL, { dy: dy as Tensor, x: saved[0] }) as Tensor }),
  });
}

/** gelu_new of a float32 x in one kernel, or undefined when the active backend has no such kernel. */
export function fusedGeluNew(x: Tensor): Tensor | undefined {
  if (x.dtype !== 'float32' || tf.getKernel(GELU_NEW_KERNEL, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(GELU_NEW_KERNEL, { x }) as Tensor;
}

/**
 * Fused ops: one kernel for what models/ composes from several tfjs ops, registered only on the
 * backends that have a kernel for it (blas: js_kernels/gelu.ts). Model code asks for the fused op
 * and gets undefined where the active backend has none, and then composes it as before, so every
 * other backend runs the tested composition, and no model code names a backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import type { FusedOp } from './profile.js';

/**
 * Tensors the size of an op's input that one use keeps alive through a forward+backward pass
 * (tfjs keeps every forward output until the forward ends and every gradient until the backward
 * ends), not counting the input itself. Fused, from the gradient registrations below: GELU saves
 * only x and LayerNorm x and its [C] weight (inputs, alive anyway), so each keeps its output and
 * the gradient of its input: 2 (LayerNorm's dweight and dbias are [C], negligible). Composed
 * (models/layers.ts geluNewComposed, layerNormComposed), measured on tfjs-backend-cpu as the peak of
 * live buffers of tf.grad through one use, less the fused form's peak in the same harness plus 2:
 * GELU's nine forward outputs and their gradients, 19; LayerNorm's moments, centred and scaled
 * tensors and their broadcast gradients, 14.
 */
export const FUSED_OP_KEPT: Readonly<Record<FusedOp, { composed: number; fused: number }>> = {
  geluNew: { composed: 19, fused: 2 },
  layerNorm: { composed: 14, fused: 2 },
};

/** Kernel names (tfjs's registry is global: prefixed so they never meet a stock kernel). */
export const GELU_NEW_KERNEL = 'LigoGeluNew';
export const GELU_NEW_GRAD_KERNEL = 'LigoGeluNewGrad';
export const LAYER_NORM_KERNEL = 'LigoLayerNorm';
export const LAYER_NORM_GRAD_KERNEL = 'LigoLayerNormGrad';
export const SELECT_ADD_KERNEL = 'LigoSelectAdd';
export const MASKED_SOFTMAX_KERNEL = 'LigoMaskedSoftmax';
export const MASKED_SOFTMAX_GRAD_KERNEL = 'LigoMaskedSoftmaxGrad';
export const SELECT_ADD_GRAD_KERNEL = 'LigoSelectAddGrad';

/** Registers the fused ops' gradients (backend-independent: each calls its gradient kernel). Idempotent. */
export function registerFusedGradients(): void {
  if (tf.getGradient(GELU_NEW_KERNEL) !== undefined) return;
  tf.registerGradient({
    kernelName: GELU_NEW_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.engine().runKernel(GELU_NEW_GRAD_KERNEL, { dy: dy as Tensor, x: saved[0] }) as Tensor }),
  });
  tf.registerGradient({
    kernelName: LAYER_NORM_KERNEL,
    inputsToSave: ['x', 'weight'],
    gradFunc: (dy, saved, attrs) => {
      // One kernel computes all three; each input's closure takes its own.
      const [dx, dw, db] = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy: dy as Tensor, x: saved[0], weight: saved[1] }, attrs as unknown as NamedAttrMap) as Tensor[];
      return { x: () => dx, weight: () => dw, bias: () => db };
    },
  });
}

/** The masked softmax's gradient (from its output alone; the mask is a constant). Idempotent. */
export function registerMaskedSoftmaxGradient(): void {
  if (tf.getGradient(MASKED_SOFTMAX_KERNEL) !== undefined) return;
  tf.registerGradient({
    kernelName: MASKED_SOFTMAX_KERNEL,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => ({
      x: () => tf.engine().runKernel(MASKED_SOFTMAX_GRAD_KERNEL, { dy: dy as Tensor, y: saved[0] }, attrs as unknown as NamedAttrMap) as Tensor,
      mask: () => tf.zerosLike(saved[0]),
    }),
  });
}

/**
 * softmax(scale * scores + mask) over the last axis (scores [..., T, S] float32, mask [T, S]) in
 * one kernel, or undefined when the active backend has none.
 */
export function fusedMaskedSoftmax(scores: Tensor, mask: Tensor, scale: number): Tensor | undefined {
  const [t, s] = scores.shape.slice(-2);
  const plain = scores.dtype === 'float32' && mask.dtype === 'float32' && mask.rank === 2 && mask.shape[0] === t && mask.shape[1] === s;
  if (!plain || tf.getKernel(MASKED_SOFTMAX_KERNEL, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(MASKED_SOFTMAX_KERNEL, { x: scores, mask }, { scale } as unknown as NamedAttrMap) as Tensor;
}

/** The select-and-add gradient (backend-independent: it calls its gradient kernel). Idempotent. */
export function registerSelectAddGradient(): void {
  if (tf.getGradient(SELECT_ADD_KERNEL) !== undefined) return;
  tf.registerGradient({
    kernelName: SELECT_ADD_KERNEL,
    inputsToSave: ['x', 'index', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, index, scale] = saved;
      const a = attrs as unknown as { axis: 0 | 1 };
      return {
        x: () => tf.engine().runKernel(SELECT_ADD_GRAD_KERNEL, { dy: dy as Tensor, index, scale }, { axis: a.axis, xShape: x.shape } as unknown as NamedAttrMap) as Tensor,
        c: () => dy as Tensor,
        // Constants of the operator's start: never on a path from what trains.
        index: () => tf.zerosLike(index),
        scale: () => tf.zerosLike(scale),
      };
    },
  });
}

/**
 * scale[r] * x[index[r]] + c[r] along `axis` of a 2-D x (growth/low_rank.ts's start plus
 * correction) in one kernel, or undefined when the active backend has none.
 */
export function fusedSelectAdd(x: Tensor, index: Tensor, scale: Tensor, c: Tensor, axis: 0 | 1): Tensor | undefined {
  if (x.dtype !== 'float32' || x.rank !== 2 || tf.getKernel(SELECT_ADD_KERNEL, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(SELECT_ADD_KERNEL, { x, index, scale, c }, { axis } as unknown as NamedAttrMap) as Tensor;
}

/** gelu_new of a float32 x in one kernel, or undefined when the active backend has no such kernel. */
export function fusedGeluNew(x: Tensor): Tensor | undefined {
  if (x.dtype !== 'float32' || tf.getKernel(GELU_NEW_KERNEL, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(GELU_NEW_KERNEL, { x }) as Tensor;
}

/**
 * LayerNorm over the last axis of a float32 x with [C] weight and bias in one kernel, or undefined
 * when the active backend has no such kernel (or the operands are not of that form).
 */
export function fusedLayerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor | undefined {
  const c = x.shape[x.rank - 1];
  const plain = [x, weight, bias].every((t) => t.dtype === 'float32') && weight.rank === 1 && bias.rank === 1 && weight.shape[0] === c && bias.shape[0] === c;
  if (!plain || c === 0 || tf.getKernel(LAYER_NORM_KERNEL, tf.getBackend()) === undefined) return undefined;
  return tf.engine().runKernel(LAYER_NORM_KERNEL, { x, weight, bias }, { eps }) as Tensor;
}

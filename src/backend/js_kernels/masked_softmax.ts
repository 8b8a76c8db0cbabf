import type { KernelFunc } from '@tensorflow/tfjs-core';
import { floatInput, outputArray, type CpuBackend } from '../cpu_data.js';

/**
 * Attention's softmax(scale * scores + mask) over the last axis in one pass per row
 * (scores [..., T, S], mask [T, S]), and its gradient from the probabilities alone,
 * dx = scale * y * (dy - sum(dy * y)): what models/attention.ts composes from a scaling, a
 * masked add, the softmax and the softmax's composed gradient, five or more passes over the
 * largest activations of a layer. Each scaled and masked score is rounded to float32 as the
 * composed ops store it.
 */
export function maskedSoftmaxForward(x: Float32Array, mask: Float32Array, out: Float32Array, t: number, s: number, scale: number): void {
  for (let base = 0, row = 0; base < x.length; base += s, row = (row + 1) % t) {
    const m = row * s;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < s; j++) {
      const v = Math.fround(Math.fround(x[base + j] * scale) + mask[m + j]);
      out[base + j] = v;
      if (v > max || Number.isNaN(v)) max = v;
    }
    let sum = 0;
    for (let j = 0; j < s; j++) {
      const e = Math.fround(Math.exp(Math.fround(out[base + j] - max)));
      out[base + j] = e;
      sum += e;
    }
    const total = Math.fround(sum);
    for (let j = 0; j < s; j++) out[base + j] /= total;
  }
}

export function maskedSoftmaxBackward(dy: Float32Array, y: Float32Array, dx: Float32Array, s: number, scale: number): void {
  for (let base = 0; base < y.length; base += s) {
    let dot = 0;
    for (let j = 0; j < s; j++) dot += dy[base + j] * y[base + j];
    for (let j = 0; j < s; j++) dx[base + j] = scale * y[base + j] * (dy[base + j] - dot);
  }
}

/**
 * The masked softmax each way on whole arrays, rows of s (x [..., t, s], mask [t, s]): this file's
 * JavaScript, or the native kernels (native_kernels.ts).
 */
export interface MaskedSoftmaxImpl {
  forward(x: Float32Array, mask: Float32Array, out: Float32Array, t: number, s: number, scale: number): void;
  backward(dy: Float32Array, y: Float32Array, dx: Float32Array, s: number, scale: number): void;
}

export const JS_MASKED_SOFTMAX: MaskedSoftmaxImpl = { forward: maskedSoftmaxForward, backward: maskedSoftmaxBackward };

export function maskedSoftmaxKernel(impl: MaskedSoftmaxImpl = JS_MASKED_SOFTMAX): KernelFunc {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as CpuBackend;
    const x = floatInput(backend, inputs.x, 'LigoMaskedSoftmax');
    const mask = floatInput(backend, inputs.mask, 'LigoMaskedSoftmax');
    const shape = inputs.x?.shape ?? [];
    const out = outputArray(backend, x.length);
    impl.forward(x, mask, out, shape[shape.length - 2], shape[shape.length - 1], attrs?.scale as number);
    return backend.makeTensorInfo([...shape], 'float32', out);
  };
}

export function maskedSoftmaxGradKernel(impl: MaskedSoftmaxImpl = JS_MASKED_SOFTMAX): KernelFunc {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as CpuBackend;
    const dy = floatInput(backend, inputs.dy, 'LigoMaskedSoftmaxGrad');
    const y = floatInput(backend, inputs.y, 'LigoMaskedSoftmaxGrad');
    const shape = inputs.y?.shape ?? [];
    const dx = outputArray(backend, y.length);
    impl.backward(dy, y, dx, shape[shape.length - 1], attrs?.scale as number);
    return backend.makeTensorInfo([...shape], 'float32', dx);
  };
}

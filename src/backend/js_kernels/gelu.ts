import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { floatInput, outputArray, type CpuBackend } from '../cpu_data.js';

/**
 * gelu_new (HF NewGELUActivation) in one pass forward and one backward, where the composed form
 * (models/layers.ts) makes nine passes over [B, T, 4C] forward, more for their gradients, and keeps
 * their intermediates for backprop; the fused form keeps only x.
 *   y  = 0.5 x (1 + t),  t = tanh(u),  u = k (x + c x^3)
 *   dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)
 */
const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

/**
 * tanh to float32 accuracy without Math.tanh (V8's is a libm call per element, the cost of the
 * whole GELU): Eigen's rational approximation for float (generic_fast_tanh_float), a degree-13/6
 * odd/even polynomial ratio, exact to a few float32 ulp; past |u| = 7.9 tanh rounds to +-1 in float32.
 */
const TANH_CLAMP = 7.90531110763549805;
export function tanhFloat(u: number): number {
  if (u >= TANH_CLAMP) return 1;
  if (u <= -TANH_CLAMP) return -1;
  const x = u;
  if (Math.abs(x) < 0.0004) return x;
  const x2 = x * x;
  let p = -2.76076847742355e-16;
  p = p * x2 + 2.00018790482477e-13;
  p = p * x2 - 8.60467152213735e-11;
  p = p * x2 + 5.12229709037114e-8;
  p = p * x2 + 1.48572235717979e-5;
  p = p * x2 + 6.37261928875436e-4;
  p = p * x2 + 4.89352455891786e-3;
  let q = 1.19825839466702e-6;
  q = q * x2 + 1.18534705686654e-4;
  q = q * x2 + 2.2684346324390e-3;
  q = q * x2 + 4.89352518554385e-3;
  return (x * p) / q;
}

export function geluNewForward(x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    out[i] = 0.5 * a * (1 + tanhFloat(K * (a + C * a * a * a)));
  }
}

/**
 * Past |u| = 4, 1 - t^2 (about 1e-3 and falling) would keep mostly the approximation's error, which
 * x (1 + 3 c x^2) then multiplies: there both come from e = exp(-2|u|), exactly in double.
 */
const EXACT_TAIL = 4;

export function geluNewBackward(dy: Float32Array, x: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const a2 = a * a;
    const u = K * (a + C * a2 * a);
    let t: number;
    let sech2: number;
    if (u < EXACT_TAIL && u > -EXACT_TAIL) {
      t = tanhFloat(u);
      sech2 = 1 - t * t;
    } else {
      const e = Math.exp(-2 * Math.abs(u));
      t = u > 0 ? (1 - e) / (1 + e) : (e - 1) / (1 + e);
      sech2 = (4 * e) / ((1 + e) * (1 + e));
    }
    out[i] = dy[i] * (0.5 * (1 + t) + 0.5 * a * sech2 * K * (1 + 3 * C * a2));
  }
}


/** gelu_new each way on whole arrays: this file's JavaScript, or the native kernels (native_kernels.ts). */
export interface GeluImpl {
  forward(x: Float32Array, out: Float32Array): void;
  backward(dy: Float32Array, x: Float32Array, out: Float32Array): void;
}

export const JS_GELU: GeluImpl = { forward: geluNewForward, backward: geluNewBackward };

/** The forward kernel: inputs { x }. */
export function geluNewKernel(impl: GeluImpl = JS_GELU): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as CpuBackend;
    const { x } = args.inputs;
    const values = floatInput(backend, x, 'GeluNew');
    const out = outputArray(backend, values.length);
    impl.forward(values, out);
    return backend.makeTensorInfo([...(x as TensorInfo).shape], 'float32', out);
  };
}

/** The gradient kernel: inputs { dy, x }, output dL/dx. */
export function geluNewGradKernel(impl: GeluImpl = JS_GELU): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as CpuBackend;
    const { dy, x } = args.inputs;
    const g = floatInput(backend, dy, 'GeluNewGrad');
    const values = floatInput(backend, x, 'GeluNewGrad');
    if (g.length !== values.length) throw new Error('GeluNewGrad: dy and x differ in size');
    const out = outputArray(backend, values.length);
    impl.backward(g, values, out);
    return backend.makeTensorInfo([...(x as TensorInfo).shape], 'float32', out);
  };
}

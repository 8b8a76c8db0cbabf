import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { floatInput, outputArray, type CpuBackend } from '../cpu_data.js';

/**
 * LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm) in one kernel each way,
 * where models/layers.ts composes moments, sub, rsqrt, mul, mul, add (and their gradients, which
 * broadcast and reduce again). Per row of C values, in double precision:
 *   xhat = (x - mean) rstd,  rstd = 1 / sqrt(var + eps),  y = xhat w + b
 *   g = dy w:  dx = rstd (g - mean(g) - xhat mean(g xhat)),  dw = sum_rows dy xhat,  db = sum_rows dy
 * The backward pass recomputes mean and rstd from x (one more pass over a row it reads anyway)
 * rather than keeping them as tensors.
 */
function rowStats(x: Float32Array, o: number, c: number, eps: number): { mean: number; rstd: number } {
  let sum = 0;
  for (let j = 0; j < c; j++) sum += x[o + j];
  const mean = sum / c;
  let sq = 0;
  for (let j = 0; j < c; j++) {
    const d = x[o + j] - mean;
    sq += d * d;
  }
  return { mean, rstd: 1 / Math.sqrt(sq / c + eps) };
}

export function layerNormForward(x: Float32Array, w: Float32Array, b: Float32Array, eps: number, out: Float32Array): void {
  const c = w.length;
  for (let o = 0; o < x.length; o += c) {
    const { mean, rstd } = rowStats(x, o, c, eps);
    for (let j = 0; j < c; j++) out[o + j] = (x[o + j] - mean) * rstd * w[j] + b[j];
  }
}

export function layerNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, eps: number, dx: Float32Array, dw: Float32Array, db: Float32Array): void {
  const c = w.length;
  const dwSum = new Float64Array(c);
  const dbSum = new Float64Array(c);
  for (let o = 0; o < x.length; o += c) {
    const { mean, rstd } = rowStats(x, o, c, eps);
    let gMean = 0;
    let gxMean = 0;
    for (let j = 0; j < c; j++) {
      const xhat = (x[o + j] - mean) * rstd;
      const d = dy[o + j];
      const g = d * w[j];
      gMean += g;
      gxMean += g * xhat;
      dwSum[j] += d * xhat;
      dbSum[j] += d;
    }
    gMean /= c;
    gxMean /= c;
    for (let j = 0; j < c; j++) {
      const xhat = (x[o + j] - mean) * rstd;
      dx[o + j] = rstd * (dy[o + j] * w[j] - gMean - xhat * gxMean);
    }
  }
  dw.set(dwSum);
  db.set(dbSum);
}


function epsilon(attrs: unknown): number {
  const eps = (attrs as { eps?: unknown } | undefined)?.eps;
  if (typeof eps !== 'number') throw new Error('LayerNorm: expected a numeric eps attribute');
  return eps;
}

/** LayerNorm each way on whole arrays: this file's JavaScript, or the native kernels (native_kernels.ts). */
export interface LayerNormImpl {
  forward(x: Float32Array, w: Float32Array, b: Float32Array, eps: number, out: Float32Array): void;
  backward(dy: Float32Array, x: Float32Array, w: Float32Array, eps: number, dx: Float32Array, dw: Float32Array, db: Float32Array): void;
}

export const JS_LAYER_NORM: LayerNormImpl = { forward: layerNormForward, backward: layerNormBackward };

/** The forward kernel: inputs { x [..., C], weight [C], bias [C] }, attrs { eps }. */
export function layerNormKernel(impl: LayerNormImpl = JS_LAYER_NORM): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as CpuBackend;
    const { x, weight, bias } = args.inputs;
    const xs = floatInput(backend, x, 'LayerNorm');
    const out = outputArray(backend, xs.length);
    impl.forward(xs, floatInput(backend, weight, 'LayerNorm'), floatInput(backend, bias, 'LayerNorm'), epsilon(args.attrs), out);
    return backend.makeTensorInfo([...(x as TensorInfo).shape], 'float32', out);
  };
}

/** The gradient kernel: inputs { dy, x, weight }, attrs { eps }; outputs [dx, dweight, dbias]. */
export function layerNormGradKernel(impl: LayerNormImpl = JS_LAYER_NORM): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as CpuBackend;
    const { dy, x, weight } = args.inputs;
    const xs = floatInput(backend, x, 'LayerNormGrad');
    const w = floatInput(backend, weight, 'LayerNormGrad');
    const dx = outputArray(backend, xs.length);
    const dw = new Float32Array(w.length);
    const db = new Float32Array(w.length);
    impl.backward(floatInput(backend, dy, 'LayerNormGrad'), xs, w, epsilon(args.attrs), dx, dw, db);
    const wShape = [...(weight as TensorInfo).shape];
    return [backend.makeTensorInfo([...(x as TensorInfo).shape], 'float32', dx), backend.makeTensorInfo(wShape, 'float32', dw), backend.makeTensorInfo(wShape, 'float32', db)];
  };
}

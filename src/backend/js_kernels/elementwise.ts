import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import { cpuValues, outputArray, type CpuBackend } from '../cpu_data.js';
import { NATIVE_MIN_ELEMENTS, type BinaryRows } from '../native_types.js';
import { broadcastStrides, collapse, forEachRow, sizeOf } from './strided.js';

/**
 * Float32 binary ops with numpy broadcasting. Each op gets its own loops, generated from the
 * expression below: V8 inlines `a + b` into a loop written for it, but not an `op(a, b)` callback
 * shared by eight ops (measured: the shared loop is several times slower). Values are the same as
 * tfjs-backend-cpu's: the expression in double precision, rounded once on store.
 */
export const BINARY_EXPRESSIONS: Readonly<Record<string, string>> = {
  Add: 'a + b',
  Sub: 'a - b',
  Multiply: 'a * b',
  RealDiv: 'a / b',
  Maximum: 'Math.max(a, b)',
  Minimum: 'Math.min(a, b)',
  Pow: 'Math.pow(a, b)',
  SquaredDifference: '(a - b) * (a - b)',
};

/** Float32 unary ops, generated the same way (tfjs-backend-cpu calls an `op(x)` callback per element). */
export const UNARY_EXPRESSIONS: Readonly<Record<string, string>> = {
  Neg: '-a',
  Square: 'a * a',
  Sqrt: 'Math.sqrt(a)',
  Rsqrt: '1 / Math.sqrt(a)',
  Reciprocal: '1 / a',
  Exp: 'Math.exp(a)',
  Log: 'Math.log(a)',
  Tanh: 'Math.tanh(a)',
  Abs: 'Math.abs(a)',
};

/** row(x, xi, xs, y, yi, ys, out, o, n): out[o + j] = f(x[xi + j*xs], y[yi + j*ys]) for j < n. */
type Row = (x: Float32Array, xi: number, xs: number, y: Float32Array, yi: number, ys: number, out: Float32Array, o: number, n: number) => void;

function compileRow(expression: string): Row {
  // Three loops: both operands walk (the common case), or one of them stays on one value.
  const body = `
    if (xs === 1 && ys === 1) { for (let j = 0; j < n; j++) { const a = x[xi + j], b = y[yi + j]; out[o + j] = ${expression}; } return; }
    if (ys === 0) { const b = y[yi]; for (let j = 0; j < n; j++) { const a = x[xi + j * xs]; out[o + j] = ${expression}; } return; }
    if (xs === 0) { const a = x[xi]; for (let j = 0; j < n; j++) { const b = y[yi + j * ys]; out[o + j] = ${expression}; } return; }
    for (let j = 0; j < n; j++) { const a = x[xi + j * xs], b = y[yi + j * ys]; out[o + j] = ${expression}; }`;
  return new Function('x', 'xi', 'xs', 'y', 'yi', 'ys', 'out', 'o', 'n', body) as Row;
}

/** `fallback` (tfjs-backend-cpu's kernel) takes anything but a float32 input. */
export function unaryKernel(expression: string, fallback: KernelFunc): KernelFunc {
  const map = new Function('x', 'out', `for (let j = 0; j < x.length; j++) { const a = x[j]; out[j] = ${expression}; }`) as (x: Float32Array, out: Float32Array) => void;
  return (args) => {
    const { x } = args.inputs;
    if (x === undefined) throw new Error('unary kernel: expected input x');
    const backend = args.backend as unknown as CpuBackend;
    const values = cpuValues(backend, x);
    if (values === undefined) return fallback(args);
    const out = outputArray(backend, values.length);
    map(values, out);
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  };
}

/**
 * `fallback` (tfjs-backend-cpu's kernel) takes anything but two float32 operands. With `native`
 * (the op in native_kernels.ts), a large output whose broadcast collapses to at most two dims (same
 * shapes, a bias over rows, a scalar) is computed there, on every core.
 */
export function binaryKernel(expression: string, fallback: KernelFunc, native?: BinaryRows): KernelFunc {
  const row = compileRow(expression);
  return (args) => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined) throw new Error('binary kernel: expected inputs a and b');
    const backend = args.backend as unknown as CpuBackend;
    const x = cpuValues(backend, a);
    const y = cpuValues(backend, b);
    if (x === undefined || y === undefined) return fallback(args);
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outputArray(backend, sizeOf(outShape));
    if (out.length > 0) {
      const { dims, strides } = collapse(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
      const [xs, ys] = strides.map((s) => s[s.length - 1]);
      if (native !== undefined && out.length >= NATIVE_MIN_ELEMENTS && dims.length <= 2) {
        const [xr, yr] = strides.map((s) => (dims.length === 2 ? s[0] : 0));
        native(x, xr, xs, y, yr, ys, out, dims.length === 2 ? dims[0] : 1, dims[dims.length - 1]);
        return backend.makeTensorInfo(outShape, 'float32', out);
      }
      let o = 0;
      forEachRow(dims, strides, (offsets, n) => {
        row(x, offsets[0], xs, y, offsets[1], ys, out, o, n);
        o += n;
      });
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { floatInput, outputArray, zeroArray, type CpuBackend } from '../cpu_data.js';

/**
 * The low-rank operator's start plus its correction in one pass (growth/low_rank.ts):
 *   axis 0: y[r, :] = scale[r] * x[index[r], :] + c[r, :]   (x [n, m], c and y [R, m])
 *   axis 1: y[:, r] = scale[r] * x[:, index[r]] + c[:, r]   (x [m, n], c and y [m, R])
 * and its gradient with respect to x, dx[index[r], :] += scale[r] * dy[r, :] (or the column
 * form), without the gather's transposes and segment sum. Each product is rounded to float32
 * before it is added, as tf.mul then tf.add (or the segment sum) round: the composed ops' bytes.
 */

function indexInput(backend: CpuBackend, t: TensorInfo | undefined, kernel: string): Int32Array {
  const values = t === undefined ? undefined : backend.data.get(t.dataId)?.values;
  if (!(values instanceof Int32Array)) throw new Error(`${kernel}: expected an int32 index`);
  return values;
}

export const selectAddKernel: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as CpuBackend;
  const x = floatInput(backend, inputs.x, 'LigoSelectAdd');
  const index = indexInput(backend, inputs.index, 'LigoSelectAdd');
  const scale = floatInput(backend, inputs.scale, 'LigoSelectAdd');
  const c = floatInput(backend, inputs.c, 'LigoSelectAdd');
  const [rows, cols] = inputs.x?.shape ?? [0, 0];
  const outShape = inputs.c?.shape ?? [];
  const out = outputArray(backend, c.length);
  const large = index.length;
  if (attrs?.axis === 0) {
    for (let r = 0; r < large; r++) {
      const src = index[r] * cols;
      const dst = r * cols;
      const s = scale[r];
      for (let j = 0; j < cols; j++) out[dst + j] = Math.fround(s * x[src + j]) + c[dst + j];
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const src = i * cols;
      const dst = i * large;
      for (let r = 0; r < large; r++) out[dst + r] = Math.fround(scale[r] * x[src + index[r]]) + c[dst + r];
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out);
};

export const selectAddGradKernel: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as CpuBackend;
  const dy = floatInput(backend, inputs.dy, 'LigoSelectAddGrad');
  const index = indexInput(backend, inputs.index, 'LigoSelectAddGrad');
  const scale = floatInput(backend, inputs.scale, 'LigoSelectAddGrad');
  const shape = attrs?.xShape as [number, number];
  const [rows, cols] = shape;
  const dx = zeroArray(backend, rows * cols);
  const large = index.length;
  if (attrs?.axis === 0) {
    for (let r = 0; r < large; r++) {
      const dst = index[r] * cols;
      const src = r * cols;
      const s = scale[r];
      for (let j = 0; j < cols; j++) dx[dst + j] += Math.fround(s * dy[src + j]);
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const src = i * large;
      const dst = i * cols;
      for (let r = 0; r < large; r++) dx[dst + index[r]] += Math.fround(scale[r] * dy[src + r]);
    }
  }
  return backend.makeTensorInfo([rows, cols], 'float32', dx);
};

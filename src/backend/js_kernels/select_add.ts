import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { floatInput, outputArray, zeroArray, type CpuBackend } from '../cpu_data.js';

/**
 * The low-rank operator's start plus its correction in one pass (growth/low_rank.ts):
 *   axis 0: y[r, :] = scale[r] * x[index[r], :] + c[r, :]   (x [n, m], c and y [R, m])
 *   axis 1: y[:, r] = scale[r] * x[:, index[r]] + c[:, r]   (x [m, n], c and y [m, R])
 * where an index of n stands for the mean of the n units (Selection's mean rows), and
 * and its gradient with respect to x, dx[index[r], :] += scale[r] * dy[r, :] (or the column
 * form), without the gather's transposes and segment sum. Each product is rounded to float32
 * before it is added, as tf.mul then tf.add (or the segment sum) round: the composed ops' bytes.
 */

function indexInput(backend: CpuBackend, t: TensorInfo | undefined, kernel: string): Int32Array {
  const values = t === undefined ? undefined : backend.data.get(t.dataId)?.values;
  if (!(values instanceof Int32Array)) throw new Error(`${kernel}: expected an int32 index`);
  return values;
}

/** x [rows, cols]'s mean along `axis` (of the units an index of `n` names), or undefined when no index names it. */
function unitMean(x: Float32Array, rows: number, cols: number, axis: number, index: Int32Array): Float64Array | undefined {
  const n = axis === 0 ? rows : cols;
  if (!index.some((i) => i === n)) return undefined;
  const mean = new Float64Array(axis === 0 ? cols : rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mean[axis === 0 ? j : i] += x[i * cols + j];
  for (let k = 0; k < mean.length; k++) mean[k] = Math.fround(mean[k] / n);
  return mean;
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
  const mean = unitMean(x, rows, cols, attrs?.axis as number, index);
  if (attrs?.axis === 0) {
    for (let r = 0; r < large; r++) {
      const dst = r * cols;
      const s = scale[r];
      if (index[r] === rows && mean) {
        for (let j = 0; j < cols; j++) out[dst + j] = Math.fround(s * mean[j]) + c[dst + j];
        continue;
      }
      const src = index[r] * cols;
      for (let j = 0; j < cols; j++) out[dst + j] = Math.fround(s * x[src + j]) + c[dst + j];
    }
  } else {
    for (let i = 0; i < rows; i++) {
      const src = i * cols;
      const dst = i * large;
      const m = mean ? mean[i] : 0;
      for (let r = 0; r < large; r++) {
        const k = index[r];
        out[dst + r] = Math.fround(scale[r] * (k === cols ? m : x[src + k])) + c[dst + r];
      }
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
    // Mean rows spread their gradient evenly over every unit: summed first, added to each row once.
    const spread = new Float64Array(cols);
    let meanRows = false;
    for (let r = 0; r < large; r++) {
      const src = r * cols;
      const s = scale[r];
      if (index[r] === rows) {
        meanRows = true;
        for (let j = 0; j < cols; j++) spread[j] += Math.fround(s * dy[src + j]);
        continue;
      }
      const dst = index[r] * cols;
      for (let j = 0; j < cols; j++) dx[dst + j] += Math.fround(s * dy[src + j]);
    }
    if (meanRows) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dx[i * cols + j] += spread[j] / rows;
  } else {
    for (let i = 0; i < rows; i++) {
      const src = i * large;
      const dst = i * cols;
      let spread = 0;
      for (let r = 0; r < large; r++) {
        const k = index[r];
        const g = Math.fround(scale[r] * dy[src + r]);
        if (k === cols) spread += g;
        else dx[dst + k] += g;
      }
      if (spread !== 0) for (let j = 0; j < cols; j++) dx[dst + j] += spread / cols;
    }
  }
  return backend.makeTensorInfo([rows, cols], 'float32', dx);
};

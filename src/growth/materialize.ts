import * as tf from '@tensorflow/tfjs-core';
import type { GrowthOperator } from './operator.js';
import type { PlannedSegment, PlannedTensor } from './plan.js';

/** Small-model tensors by canonical name (float32). */
export type SmallWeights = (name: string) => tf.Tensor;

/** Applies the width operators of one axis (possibly several concatenated segments). */
function growAxis(x: tf.Tensor, axis: number, segments: PlannedSegment[], op: GrowthOperator): tf.Tensor {
  if (segments.every((s) => s.operator === null)) return x;
  const parts = segments.length === 1 ? [x] : tf.split(x, segments.map((s) => s.small), axis);
  const grown = parts.map((part, i) => {
    const seg = segments[i];
    if (seg.operator === null) return part;
    const b = op.widthMatrix(seg.operator, seg.side); // [large, small]
    if (part.rank === 1) return tf.reshape(tf.matMul(b, tf.reshape(part, [seg.small, 1])), [seg.large]);
    if (part.rank !== 2) throw new Error(`width growth supports tensors of rank 1 and 2, got rank ${part.rank}`);
    return axis === 0 ? tf.matMul(b, part as tf.Tensor2D) : tf.matMul(part as tf.Tensor2D, b, false, true);
  });
  return grown.length === 1 ? grown[0] : tf.concat(grown, axis);
}

/** Depth: the large layer's tensor is a learned combination of the small layers' tensors of its kind. */
function mixDepth(tensor: PlannedTensor, small: SmallWeights, op: GrowthOperator): tf.Tensor {
  // A clone, even when nothing grows: the caller disposes what we return, never the small model's own tensor.
  if (tensor.layer === undefined || tensor.group === undefined) return tf.clone(small(tensor.sources[0]));
  const count = tensor.smallShape.reduce((a, b) => a * b, 1);
  const stacked = tf.stack(tensor.sources.map((name) => tf.reshape(small(name), [count]))); // [L_small, N]
  const row = tf.slice(op.depthMatrix(tensor.group), [tensor.layer, 0], [1, tensor.sources.length]); // [1, L_small]
  return tf.reshape(tf.matMul(row, stacked), tensor.smallShape);
}

/**
 * The grown tensor W_l = B_out (sum_j w_lj W_j) B_in^T: depth mixing at the small width first
 * (cheap), then width expansion per axis with that large layer's operators.
 */
export function materializeTensor(tensor: PlannedTensor, small: SmallWeights, op: GrowthOperator): tf.Tensor {
  return tf.tidy(() => {
    let x = mixDepth(tensor, small, op);
    tensor.axes.forEach((segments, axis) => {
      x = growAxis(x, axis, segments, op);
    });
    return x;
  });
}

/** Every tensor of the grown model; the caller owns (and disposes) the result. */
export function materializeAll(tensors: readonly PlannedTensor[], small: SmallWeights, op: GrowthOperator): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const t of tensors) out.set(t.name, materializeTensor(t, small, op));
  return out;
}

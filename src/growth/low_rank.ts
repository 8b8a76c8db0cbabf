/**
 * The low-rank width operator: B = S + U V^T, with S the starting selection (each large unit is a
 * scaled copy of one small unit, or a scaled mean of them all) held fixed, and U [large, r],
 * V [small, r] trained. Materialization never builds B: S x is a gather and a scale, U (V^T x) two
 * thin GEMMs, so a step costs O(large x N x r) instead of O(large x small x N), and what trains
 * grows with the widths, not with their product.
 *
 * U starts at zero, so the operator starts exactly at S (function-preserving where S is) and
 * U (V^T x) adds exact zeros; V starts random, so U receives gradients from the first step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fusedSelectAdd } from '../backend/fused_ops.js';
import type { Selection } from './selection.js';

/**
 * Standard deviation of V's entries: 1/sqrt(r) makes one Adam step on U (about lr per entry)
 * move a row of B by about lr * sqrt(small), as it moves a row of a dense operator.
 */
export const lowRankVStd = (rank: number): number => 1 / Math.sqrt(rank);

/** A selection as tfjs tensors, for gathers inside the learning phase's tape. */
export interface SelectionTensors {
  index: tf.Tensor1D; // [large] int32; `cols` stands for the mean of all units
  scale: tf.Tensor1D; // [large]
  /** Some row is the mean of all units (Selection's index === cols). */
  mean: boolean;
  /** Every scale is 1 (a copy side): the scaling pass is skipped, x * 1 being x. */
  unit: boolean;
}

export function selectionTensors(sel: Selection): SelectionTensors {
  return {
    index: tf.tensor1d(sel.index, 'int32'),
    scale: tf.tensor1d(sel.scale, 'float32'),
    mean: sel.index.some((i) => i === sel.cols),
    unit: sel.scale.every((s) => s === 1),
  };
}

export interface LowRankFactor {
  start: SelectionTensors;
  u: tf.Tensor2D; // [large, r]
  v: tf.Tensor2D; // [small, r]
}

/**
 * B x for axis 0 (x [small, N] -> [large, N]) or x B^T for axis 1 (x [N, small] -> [N, large]).
 * The start's products are single float32 products, as a matMul's single nonzero term is, so at
 * U = 0 the result equals the dense operator's bit for bit.
 */
export function applyLowRank(x: tf.Tensor2D, axis: 0 | 1, f: LowRankFactor): tf.Tensor2D {
  const large = f.start.index.shape[0];
  const correction =
    axis === 0
      ? tf.matMul(f.u, tf.matMul(f.v, x, true, false)) // [large, r] @ [r, N]
      : tf.matMul(tf.matMul(x, f.v), f.u, false, true); // [N, r] @ [r, large]
  // One pass where the backend has the fused kernel (mean units and the gradient included).
  const fused = fusedSelectAdd(x, f.start.index, f.start.scale, correction, axis);
  if (fused) return fused as tf.Tensor2D;
  const source = f.start.mean ? tf.concat([x, tf.mean(x, axis, true)], axis) : x; // a mean unit appended
  const picked = tf.gather(source, f.start.index, axis); // [large, N] or [N, large]
  const start = f.start.unit ? picked : tf.mul(picked, tf.reshape(f.start.scale, axis === 0 ? [large, 1] : [1, large]));
  return tf.add(start, correction) as tf.Tensor2D;
}

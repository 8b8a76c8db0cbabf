import * as tf from '@tensorflow/tfjs-core';
import { applyHeads } from './heads_apply.js';
import { applyLowRank } from './low_rank.js';
import type { OperatorMatrices } from './operator_matrices.js';
import type { InterleavePlan, PlannedSegment, PlannedTensor } from './plan.js';

/** Small-model tensors by canonical name (float32). */
export type SmallWeights = (name: string) => tf.Tensor;

/**
 * Tensors shared by several grown tensors within one materialization: each width matrix (a
 * Kronecker product for attention) and each kind's depth mix of the small layers.
 */
type Memo = Map<string, tf.Tensor>;

function memoized<T extends tf.Tensor>(memo: Memo, key: string, build: () => T): T {
  const hit = memo.get(key);
  if (hit) return hit as T;
  const value = build();
  memo.set(key, value);
  return value;
}

/** x with `axis` split into [groups, size / groups]. */
const grouped = (x: tf.Tensor, axis: number, groups: number): tf.Tensor =>
  tf.reshape(x, [...x.shape.slice(0, axis), groups, x.shape[axis] / groups, ...x.shape.slice(axis + 1)]);

/** x with axes `axis` and `axis + 1` merged back into one. */
const merged = (x: tf.Tensor, axis: number): tf.Tensor =>
  tf.reshape(x, [...x.shape.slice(0, axis), x.shape[axis] * x.shape[axis + 1], ...x.shape.slice(axis + 2)]);

/**
 * The segments of one axis in logical order: split where concatenated, taken apart per group
 * where interleaved ([groups, part sizes / groups] -> each part [groups * its size / groups]).
 */
function segmentParts(x: tf.Tensor, axis: number, segments: PlannedSegment[], interleave: InterleavePlan | undefined): tf.Tensor[] {
  if (interleave) {
    const perGroup = segments.map((s) => s.small / interleave.small);
    return tf.split(grouped(x, axis, interleave.small), perGroup, axis + 1).map((part) => merged(part, axis));
  }
  return segments.length === 1 ? [x] : tf.split(x, segments.map((s) => s.small), axis);
}

/** The grown segments put together again: concatenated, or interleaved per group at the target's group count. */
function joinParts(parts: tf.Tensor[], axis: number, interleave: InterleavePlan | undefined): tf.Tensor {
  if (interleave) return merged(tf.concat(parts.map((part) => grouped(part, axis, interleave.large)), axis + 1), axis);
  return parts.length === 1 ? parts[0] : tf.concat(parts, axis);
}

/** Applies the width operators of one axis (possibly several concatenated or interleaved segments). */
function growAxis(x: tf.Tensor, axis: number, segments: PlannedSegment[], op: OperatorMatrices, memo: Memo, interleave?: InterleavePlan): tf.Tensor {
  if (segments.every((s) => s.operator === null)) return x;
  const parts = segmentParts(x, axis, segments, interleave);
  const grown = parts.map((part, i) => {
    const seg = segments[i];
    const id = seg.operator;
    if (id === null) return part;
    if (part.rank !== 1 && part.rank !== 2) throw new Error(`width growth supports tensors of rank 1 and 2, got rank ${part.rank}`);
    const asMatrix = (): tf.Tensor2D => (part.rank === 1 ? tf.reshape(part, [seg.small, 1]) : (part as tf.Tensor2D));
    const asPart = (y: tf.Tensor2D): tf.Tensor => (part.rank === 1 ? tf.reshape(y, [seg.large]) : y);
    const side = part.rank === 1 || axis === 0 ? 0 : 1;
    const lowRank = seg.part ? undefined : op.lowRank(id, seg.side);
    if (lowRank) return asPart(applyLowRank(asMatrix(), side, lowRank));
    const heads = seg.part ? undefined : op.headFactors(id, seg.side);
    if (heads) return asPart(applyHeads(asMatrix(), side, heads));
    const b = memoized(memo, `width:${id}:${seg.side}:${seg.part ?? ''}`, () => op.widthMatrix(id, seg.side, seg.part)); // [large, small]
    if (part.rank === 1) return tf.reshape(tf.matMul(b, tf.reshape(part, [seg.small, 1])), [seg.large]);
    return axis === 0 ? tf.matMul(b, part as tf.Tensor2D) : tf.matMul(part as tf.Tensor2D, b, false, true);
  });
  return joinParts(grown, axis, interleave);
}

/**
 * The small layers' tensors of one kind stacked [L_small, N], kept across materializeTensor calls
 * by their owner (the learning phase's recomputed layers): the small model is frozen, so a stack
 * built once serves every large layer and step instead of being copied again for each.
 */
export type DepthStacks = Map<string, tf.Tensor2D>;

function stackOf(tensor: PlannedTensor, small: SmallWeights, count: number, stacks: DepthStacks | undefined): tf.Tensor2D {
  const build = (): tf.Tensor2D => tf.stack(tensor.sources.map((name) => tf.reshape(small(name), [count]))) as tf.Tensor2D; // [L_small, N]
  if (!stacks) return build();
  const key = tensor.sources[0];
  let hit = stacks.get(key);
  if (!hit) {
    hit = tf.keep(build());
    stacks.set(key, hit);
  }
  return hit;
}

/**
 * Depth: the large layer's tensor is a learned combination of the small layers' tensors of its
 * kind, its row of the depth matrix times their stack. One row at a time, whether one tensor is
 * built (apply, recomputed layers) or all (the stack then shared through the memo), so every
 * path computes the same products and writes the same bytes.
 */
function mixDepth(tensor: PlannedTensor, small: SmallWeights, op: OperatorMatrices, memo: Memo, stacks?: DepthStacks): tf.Tensor {
  // A clone, even when nothing grows: the caller disposes what we return, never the small model's own tensor.
  if (tensor.layer === undefined || tensor.group === undefined) return tf.clone(small(tensor.sources[0]));
  const count = tensor.smallShape.reduce((a, b) => a * b, 1);
  const stacked = stacks ? stackOf(tensor, small, count, stacks) : memoized(memo, `stack:${tensor.sources[0]}`, () => stackOf(tensor, small, count, undefined));
  const row = tf.slice(op.depthMatrix(tensor.group), [tensor.layer, 0], [1, tensor.sources.length]); // [1, L_small]
  return tf.reshape(tf.matMul(row, stacked), tensor.smallShape);
}

/**
 * The grown tensor W_l = B_out (sum_j w_lj W_j) B_in^T: depth mixing at the small width first
 * (cheap), then width expansion per axis with that large layer's operators.
 */
function grow(tensor: PlannedTensor, small: SmallWeights, op: OperatorMatrices, memo: Memo, stacks?: DepthStacks): tf.Tensor {
  let x = mixDepth(tensor, small, op, memo, stacks);
  tensor.axes.forEach((segments, axis) => {
    x = growAxis(x, axis, segments, op, memo, tensor.interleave?.axis === axis ? tensor.interleave : undefined);
  });
  return x;
}

/**
 * As stored (arch/types.ts StoredTransform, the family's rule): factor * B(W + offset) - offset, computed as
 * factor * B(W) + (factor * B(1) - 1) * offset so an exact copy of w stays w (1 + w then - 1
 * would round small gains away). selection.ts repeats these float32 steps.
 */
function build(tensor: PlannedTensor, small: SmallWeights, op: OperatorMatrices, memo: Memo, stacks?: DepthStacks): tf.Tensor {
  const x = grow(tensor, small, op, memo, stacks);
  const t = tensor.transform;
  if (!t) return x;
  const scaled = t.factor === 1 ? x : tf.mul(x, t.factor);
  if (t.offset === 0) return scaled;
  // B(1): the same depth mix and width operators on ones (own memo and no kept stacks: the depth mixes differ).
  const ones = grow(tensor, (name) => tf.onesLike(small(name)), op, new Map());
  const onesScaled = t.factor === 1 ? ones : tf.mul(ones, t.factor);
  return tf.add(scaled, tf.mul(tf.sub(onesScaled, 1), t.offset));
}

/** One grown tensor, on its own (streaming writers, recomputed layers, with their kept stacks); the caller disposes it. */
export function materializeTensor(tensor: PlannedTensor, small: SmallWeights, op: OperatorMatrices, stacks?: DepthStacks): tf.Tensor {
  return tf.tidy(() => build(tensor, small, op, new Map(), stacks));
}

/** A memo whose entries outlive the tidy they were built in (materializeEach's per-tensor tidies). */
class KeptMemo extends Map<string, tf.Tensor> {
  override set(key: string, value: tf.Tensor): this {
    return super.set(key, tf.keep(value));
  }
}

/**
 * Every tensor of the grown model, each built in its own tidy so its intermediates are freed
 * before the next: the peak is the grown model plus one tensor's work, where materializeAll holds
 * every intermediate to the end. For measuring and writing, never inside a gradient tape (the
 * tape needs the intermediates); the caller disposes the tensors.
 */
export function materializeEach(tensors: readonly PlannedTensor[], small: SmallWeights, op: OperatorMatrices): Map<string, tf.Tensor> {
  const memo = new KeptMemo();
  const out = new Map<string, tf.Tensor>();
  try {
    for (const t of tensors) out.set(t.name, tf.tidy(() => build(t, small, op, memo)));
  } catch (error) {
    tf.dispose([...out.values()]);
    throw error;
  } finally {
    // A memoized width matrix can be the operator's own variable (an unstructured dense operator): not ours to free.
    tf.dispose([...memo.values()].filter((t) => !(t instanceof tf.Variable)));
  }
  return out;
}

/** Every tensor of the grown model, sharing width matrices and depth mixes; the caller disposes them. */
export function materializeAll(tensors: readonly PlannedTensor[], small: SmallWeights, op: OperatorMatrices): Map<string, tf.Tensor> {
  const built = tf.tidy(() => {
    const memo: Memo = new Map();
    const out: Record<string, tf.Tensor> = {};
    for (const t of tensors) out[t.name] = build(t, small, op, memo);
    return out;
  });
  return new Map(tensors.map((t) => [t.name, built[t.name]]));
}

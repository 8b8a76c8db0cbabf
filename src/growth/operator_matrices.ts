/**
 * The tfjs executor of the plan's assemblies (assembly.ts): what materialization reads of an
 * operator, built from its parameters looked up by name, whether they are the learning phase's
 * variables, a recomputed layer's inputs or a saved operator's tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AxisSide, LayerGroup } from '../arch/types.js';
import { widthMatrix, headDimMatrix, type MatrixAlgebra } from './assembly.js';
import type { HeadFactors } from './heads_apply.js';
import { kron } from './kron.js';
import { assemblyOf, assemblyParameters, operatorParameter } from './layout.js';
import type { LowRankFactor, SelectionTensors } from './low_rank.js';
import type { GrowthPlan, OperatorParameter, PlannedTensor } from './plan_types.js';

/**
 * What materialization reads of an operator: the full width matrices (or, with part 'headDim', an
 * attention operator's head_dim factor alone) and the depth matrices.
 */
export interface OperatorMatrices {
  widthMatrix(id: string, side: AxisSide, part?: 'headDim'): tf.Tensor2D;
  /** The operator's selection and correction when it is low-rank (then widthMatrix is never asked for it). */
  lowRank(id: string, side: AxisSide): LowRankFactor | undefined;
  /** An attention operator's factors (B = M kron H), applied without building B; undefined for other operators. */
  headFactors(id: string, side: AxisSide): HeadFactors | undefined;
  depthMatrix(group: LayerGroup): tf.Tensor2D;
}

/** [[a, 0], [0, b]]: the rotated dims of a head first, the passed-through ones after. */
function blockDiagonal(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const top = tf.pad(a, [[0, 0], [0, b.shape[1]]]);
  const bottom = tf.pad(b, [[0, 0], [a.shape[1], 0]]);
  return tf.concat([top, bottom], 0);
}

function tensorAlgebra(param: (name: string) => tf.Tensor2D): MatrixAlgebra<tf.Tensor2D> {
  return {
    parameter: param,
    identity: (n) => tf.eye(n) as tf.Tensor2D,
    kron,
    blockDiagonal,
    lowRank: (a) => {
      throw new Error(`low-rank operator "${a.selection}" is applied factored (S x + U (V^T x)), never built`);
    },
  };
}

/** The matrices materialization reads, from operator parameters looked up by name (`start`: a low-rank operator's selections). */
export function operatorMatrices(plan: GrowthPlan, param: (name: string) => tf.Tensor2D, start?: (name: string) => SelectionTensors): OperatorMatrices {
  const algebra = tensorAlgebra(param);
  return {
    headFactors(id, side) {
      const a = assemblyOf(plan, id, side);
      if (a.kind !== 'heads') return undefined;
      return { heads: param(a.heads), ...(a.headDim.kind === 'identity' ? {} : { headDim: headDimMatrix(a.headDim, algebra) }) };
    },
    lowRank(id, side) {
      const a = assemblyOf(plan, id, side);
      if (a.kind !== 'lowRank') return undefined;
      if (!start) throw new Error(`low-rank operator "${id}" needs its starting selection`);
      return { start: start(a.selection), u: param(a.u), v: param(a.v) };
    },
    widthMatrix: (id, side, part) => widthMatrix(assemblyOf(plan, id, side), algebra, part),
    depthMatrix: (group) => param(depthParameter(plan, group)),
  };
}

function depthParameter(plan: GrowthPlan, group: LayerGroup): string {
  const d = plan.depth.find((x) => x.group === group);
  if (!d) throw new Error(`growth plan has no depth operator for "${group}"`);
  return d.parameter;
}

/**
 * Every operator parameter that building grown tensor `t` reads, in the order it reads them: per
 * grown segment its main factor (a low-rank operator's selection and correction) unless only the
 * head_dim factor acts, and its head_dim factors; then the depth matrix.
 */
export function operatorReads(plan: GrowthPlan, t: PlannedTensor): OperatorParameter[] {
  const names = new Set<string>();
  for (const segments of t.axes) {
    for (const s of segments) {
      if (s.operator === null) continue;
      for (const n of assemblyParameters(assemblyOf(plan, s.operator, s.side), s.part)) names.add(n);
    }
  }
  if (t.layer !== undefined && t.group !== undefined) names.add(depthParameter(plan, t.group));
  return [...names].map((n) => {
    const p = operatorParameter(plan, n);
    if (!p) throw new Error(`growth plan has no operator parameter "${n}"`);
    return p;
  });
}

/** The trained operator parameters that building grown tensor `t` reads (its selections are fixed). */
export const parametersFor = (plan: GrowthPlan, t: PlannedTensor): string[] => operatorReads(plan, t).filter((p) => p.trains).map((p) => p.name);

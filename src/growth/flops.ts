/**
 * Floating-point operation counts (multiply and add counted separately, so a [m,k]x[k,n] matMul is
 * 2mkn) of what growth and the training after it cost. Elementwise ops, norms and softmax are left
 * out: next to the matrix products they are a few percent of the FLOPs, though not of the time on
 * wasm. A training step counts 3 forward passes (forward, and backward at twice the forward).
 */
import { assemblyOf, widthOperator } from './layout.js';
import type { GrowthPlan, PlannedSegment, PlannedTensor } from './plan_types.js';

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Backward costs about twice the forward: a training step is 3 forwards. */
export const TRAIN_STEP_FORWARDS = 3;

/** FLOPs of one operator use on a [small, others] tensor: how materialize.ts applies it. */
export type UseFlops = (s: PlannedSegment, others: number) => number;

const denseUse: UseFlops = (s, others) => 2 * s.large * s.small * others;

/**
 * One materializeTensor call as src/growth/materialize.ts does it: the depth mix
 * [1, L_small] x [L_small, N], then per grown axis each operator use on the tensor with that
 * axis at its small size and the axes before it already grown (`use`: a dense B by default).
 */
export function materializeTensorFlops(t: PlannedTensor, use: UseFlops = denseUse): number {
  let flops = 0;
  const shape = [...t.smallShape];
  if (t.layer !== undefined && t.group !== undefined) flops += 2 * t.sources.length * product(shape);
  t.axes.forEach((segments, axis) => {
    const others = product(shape) / shape[axis];
    for (const s of segments) if (s.operator !== null) flops += use(s, others);
    shape[axis] = segments.reduce((sum, s) => sum + s.large, 0);
  });
  return flops;
}

/**
 * An operator use as materialize.ts runs it: a low-rank operator's gather is free and U (V^T x)
 * costs 2 r (small + large) per column; an attention operator mixes whole heads (M) and then
 * head dims (H, when head_dim grows); a head_dim factor alone or a dense B is a full product.
 */
function planUse(plan: GrowthPlan): UseFlops {
  return (s, others) => {
    if (s.operator === null || s.part) return denseUse(s, others);
    const a = assemblyOf(plan, s.operator, s.side);
    if (a.kind === 'lowRank') return 2 * a.rank * (s.small + s.large) * others;
    const heads = widthOperator(plan, s.operator).heads;
    if (a.kind === 'matrix' || !heads) return denseUse(s, others);
    const { small: hs, large: hl, headDimSmall, headDimLarge } = heads;
    return 2 * hl * hs * headDimSmall * others + (a.headDim.kind === 'identity' ? 0 : 2 * headDimLarge * headDimSmall * hl * others);
  };
}

/** Forward materialization of the whole large model, as the plan's operators are applied. */
export function materializeFlops(plan: GrowthPlan): number {
  const use = planUse(plan);
  return plan.tensors.reduce((sum, t) => sum + materializeTensorFlops(t, use), 0);
}

/**
 * Forward FLOPs per token of the large model (or, with `which: 'source'`, the small one) at
 * sequence length T: 2 per weight of every per-layer matrix and of the LM head (V x C; embedding
 * lookups are gathers, not products), plus attention's two [T, T] products, 4 * T * H * hd per
 * layer (the full square: the causal mask does not skip work).
 */
export function forwardFlopsPerToken(plan: GrowthPlan, seqLen: number, which: 'target' | 'source' = 'target'): number {
  const dims = plan[which];
  const { numLayers: L, numHeads: H, headDim: hd, vocabSize: V, hiddenSize: C } = dims;
  const layerTensors = plan.tensors.filter((t) => t.layer !== undefined && t.shape.length === 2);
  // Every layer of a model has the same matrices; the plan lists the target's, each with its small shape.
  const layerMatrices =
    which === 'target'
      ? layerTensors.reduce((s, t) => s + product(t.shape), 0)
      : L * layerTensors.filter((t) => t.layer === 0).reduce((s, t) => s + product(t.smallShape), 0);
  return 2 * (layerMatrices + V * C) + 4 * L * seqLen * H * hd;
}

/** FLOPs of one full-model training step of the grown model on `batchSize` x `seqLen` tokens. */
export function trainStepFlops(plan: GrowthPlan, batchSize: number, seqLen: number): number {
  return TRAIN_STEP_FORWARDS * forwardFlopsPerToken(plan, seqLen) * batchSize * seqLen;
}

/** What a learning phase did, for its FLOPs. */
export interface LearningPhaseWork {
  steps: number;
  /** Sequences per step, micro-batches included. */
  batchSize: number;
  seqLen: number;
  /** With a distillation term the small model runs a forward on every batch too. */
  distill: boolean;
  /** Held-out measurements made to select the operator (--keep-best), each over `selectionTokens`. */
  selections: number;
  selectionTokens: number;
}

/**
 * The learning phase of LiGO: every step trains through the materialization (3 x (forward of the
 * grown model + materialization)), plus the teacher's forward with distillation and one
 * materialization and forward per selection measurement.
 */
export function learningPhaseFlops(plan: GrowthPlan, work: LearningPhaseWork): number {
  const tokens = work.batchSize * work.seqLen;
  const teacher = work.distill ? forwardFlopsPerToken(plan, work.seqLen, 'source') * tokens : 0;
  const step = TRAIN_STEP_FORWARDS * (forwardFlopsPerToken(plan, work.seqLen) * tokens + materializeFlops(plan)) + teacher;
  const selection = materializeFlops(plan) + forwardFlopsPerToken(plan, work.seqLen) * work.selectionTokens;
  return work.steps * step + work.selections * selection;
}

import { forwardFlopsPerToken, materializeFlops, TRAIN_STEP_FORWARDS } from '../growth/flops.js';
import type { GrowthPlan } from '../growth/plan.js';
import type { LearningShape } from './estimate.js';

/**
 * Share of the measured matrix-product rate a learning step reaches: the step also runs
 * elementwise kernels, softmax, norms, gathers and the optimizer, which count no FLOPs here.
 * Measured by bench:real (achieved / sgemm rate: 0.20 for GPT-2 124M -> 355M, 0.15 at the small
 * size, blas on 2 cores) and taken at the lower, so the estimate errs long.
 */
export const STEP_EFFICIENCY = 0.15;

/**
 * FLOPs of one learning step: forward and backward of the grown model over every micro-batch
 * (a recomputed forward more with recompute), and materialization of the grown weights as
 * often: once per micro-batch and pass with recompute (layers build their own weights), else
 * once per step (accumulated gradients are backpropagated through the operator once).
 */
export function learningStepFlops(plan: GrowthPlan, shape: LearningShape): number {
  const passes = TRAIN_STEP_FORWARDS + (shape.recompute ? 1 : 0);
  const tokens = shape.batchSize * shape.seqLen * shape.gradAccum;
  const builds = shape.recompute ? shape.gradAccum : 1;
  return passes * (forwardFlopsPerToken(plan, shape.seqLen) * tokens + materializeFlops(plan) * builds);
}

/** Seconds a learning step should take at `rate` FLOP/s of matrix products (measureMatmulRate). */
export function estimateStepSeconds(plan: GrowthPlan, shape: LearningShape, rate: number): number {
  return learningStepFlops(plan, shape) / (rate * STEP_EFFICIENCY);
}

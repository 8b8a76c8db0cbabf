import type { BackendProfile } from '../backend/index.js';
import { LigoError } from '../errors.js';
import type { GrowthPlan } from '../growth/plan.js';
import { estimateLearningMemory, formatBytes, learningMemoryLimit, type LearningShape, type MemoryEstimate, type MemoryLimit } from '../train/estimate.js';
import { estimateStepSeconds, learningStepFlops } from '../train/step_cost.js';
import type { GrowEvent } from './options.js';

/** "about N s per step (F GFLOP at R GFLOP/s measured)": what a user waits for, and why. */
export function stepTime(plan: GrowthPlan, shape: LearningShape, rate: number): string {
  const seconds = estimateStepSeconds(plan, shape, rate);
  const shown = seconds < 10 ? seconds.toFixed(1) : String(Math.round(seconds));
  return `about ${shown} s per step (${Math.round(learningStepFlops(plan, shape) / 1e9)} GFLOP at ${Math.round(rate / 1e9)} GFLOP/s of matrix products measured)`;
}

/** The learning phase's memory as planned: the estimate, the limit, and whether layers are recomputed. */
export interface MemoryChoice {
  recompute: boolean;
  estimate: MemoryEstimate;
  /** The limit the choice was made against (one reading of the available memory, used to refuse too). */
  limit: MemoryLimit;
  /** Set when recomputation was switched on because the plan would not fit without it. */
  reason?: string;
}

const parts = (e: MemoryEstimate): string =>
  `source ${formatBytes(e.sourceBytes)}, operator ${formatBytes(e.operatorBytes)}, optimizer ${formatBytes(e.optimizerBytes)}, grown model ${formatBytes(e.grownBytes)}, activations ${formatBytes(e.activationBytes)}`;

/**
 * Whether to recompute layers in backpropagation: as asked, or with 'auto' only when the plan
 * would not fit without it (recomputation costs about a third more compute). Pure: nothing is
 * checked against the limit beyond the choice (checkLearningMemory refuses).
 */
export function chooseRecompute(plan: GrowthPlan, shape: Omit<LearningShape, 'recompute'>, setting: boolean | 'auto', backend: string | BackendProfile, availableBytes?: number): MemoryChoice {
  const limit = learningMemoryLimit(backend, availableBytes);
  const kept = estimateLearningMemory(plan, { ...shape, recompute: false }, backend);
  if (setting !== 'auto' || kept.totalBytes <= limit.bytes) {
    const recompute = setting === true;
    return { recompute, estimate: recompute ? estimateLearningMemory(plan, { ...shape, recompute }, backend) : kept, limit };
  }
  const reason = `without recomputation the learning phase needs about ${formatBytes(kept.totalBytes)}, more than ${formatBytes(limit.bytes)} (${limit.reason}): recomputing each layer in backpropagation (about 1/3 more compute; --no-recompute refuses instead)`;
  return { recompute: true, estimate: estimateLearningMemory(plan, { ...shape, recompute: true }, backend), limit, reason };
}

/**
 * Says what the learning phase will need, chooses recomputation where asked to ('auto') and
 * refuses, in one line with what to change, a run that cannot fit even so. Returns the choice.
 */
export function checkLearningMemory(
  plan: GrowthPlan,
  shape: Omit<LearningShape, 'recompute'> & { recompute: boolean | 'auto' },
  backend: string | BackendProfile,
  progress: (e: GrowEvent) => void,
  /** The backend's measured matrix-product FLOP/s (measureMatmulRate), for the time per step. */
  rate?: number,
): MemoryChoice {
  const choice = chooseRecompute(plan, shape, shape.recompute, backend);
  const { estimate, limit } = choice;
  if (choice.reason) progress({ phase: 'load', message: choice.reason });
  const time = rate === undefined ? '' : `, ${stepTime(plan, { ...shape, recompute: choice.recompute }, rate)}`;
  progress({ phase: 'load', message: `learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts(estimate)})${time}` });
  const hint = `${choice.recompute ? '' : 'allow --recompute (activations of one layer at a time), '}lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) and raise --grad-accum to keep tokens per step${plan.operator.kind === 'dense' ? ', or use --operator lowrank' : ''}`;
  if (estimate.totalBytes > limit.bytes) {
    throw new LigoError(`the learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts(estimate)}), more than ${formatBytes(limit.bytes)} (${limit.reason})`, { hint });
  }
  if (limit.tensor !== undefined && estimate.largestTensorBytes > limit.tensor.bytes) {
    throw new LigoError(
      `the learning phase needs a ${formatBytes(estimate.largestTensorBytes)} tensor, more than ${formatBytes(limit.tensor.bytes)} (${limit.tensor.reason})`,
      { hint: `lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) (the logits are batch x seq x vocabulary), or use --backend wasm` },
    );
  }
  return choice;
}

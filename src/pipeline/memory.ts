import type { BackendProfile } from '../backend/index.js';
import { LigoError } from '../errors.js';
import type { GrowthPlan } from '../growth/plan.js';
import { estimateLearningMemory, formatBytes, learningMemoryLimit, type LearningShape } from '../train/estimate.js';
import type { GrowEvent } from './options.js';

/** Says what the learning phase will need and refuses to start one that cannot fit. */
export function checkLearningMemory(plan: GrowthPlan, shape: LearningShape, backend: string | BackendProfile, progress: (e: GrowEvent) => void): void {
  const estimate = estimateLearningMemory(plan, shape, backend);
  const limit = learningMemoryLimit(backend);
  const parts = `source ${formatBytes(estimate.sourceBytes)}, operator ${formatBytes(estimate.operatorBytes)}, optimizer ${formatBytes(estimate.optimizerBytes)}, grown model ${formatBytes(estimate.grownBytes)}, activations ${formatBytes(estimate.activationBytes)}`;
  progress({ phase: 'load', message: `learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts})` });
  const hint = `${shape.recompute ? '' : 'add --recompute (activations of one layer at a time), '}lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) and raise --grad-accum to keep tokens per step, or use the tensorflow backend`;
  if (estimate.totalBytes > limit.bytes) {
    throw new LigoError(
      `the learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts}), more than ${formatBytes(limit.bytes)} (${limit.reason})`,
      { hint },
    );
  }
  if (limit.tensor !== undefined && estimate.largestTensorBytes > limit.tensor.bytes) {
    throw new LigoError(
      `the learning phase needs a ${formatBytes(estimate.largestTensorBytes)} tensor, more than ${formatBytes(limit.tensor.bytes)} (${limit.tensor.reason})`,
      { hint: `lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) (the logits are batch x seq x vocabulary), or use --backend wasm` },
    );
  }
}

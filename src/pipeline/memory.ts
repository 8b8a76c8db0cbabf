import { LigoError } from '../errors.js';
import type { GrowthPlan } from '../growth/plan.js';
import { estimateLearningMemory, formatBytes, learningMemoryLimit, type LearningShape } from '../train/estimate.js';
import type { GrowEvent } from './options.js';

/** Says what the learning phase will need and refuses to start one that cannot fit. */
export function checkLearningMemory(plan: GrowthPlan, shape: LearningShape, backend: string, progress: (e: GrowEvent) => void): void {
  const estimate = estimateLearningMemory(plan, shape);
  const limit = learningMemoryLimit(backend);
  const parts = `source ${formatBytes(estimate.sourceBytes)}, operator ${formatBytes(estimate.operatorBytes)}, optimizer ${formatBytes(estimate.optimizerBytes)}, grown model ${formatBytes(estimate.grownBytes)}, activations ${formatBytes(estimate.activationBytes)}`;
  progress({ phase: 'load', message: `learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts})` });
  if (estimate.totalBytes > limit.bytes) {
    throw new LigoError(
      `the learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts}), more than ${formatBytes(limit.bytes)} (${limit.reason})`,
      {
        hint: `${shape.recompute ? '' : 'add --recompute (activations of one layer at a time), '}lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) and raise --grad-accum to keep tokens per step, or use the tensorflow backend`,
      },
    );
  }
}

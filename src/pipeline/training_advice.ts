import type { GrowthPlan, NewParameters } from '../growth/index.js';
import type { GroupAdvice } from '../output/report.js';
import { groupAdvice, sourceLearningRate } from './source_lr.js';
import type { ResolvedGrowOptions } from './options.js';

/**
 * What a grown directory says about training it further: which weights are new, and the
 * per-group recipe (absent where nothing is inherited: a `random` model trains from scratch).
 */
export async function trainingAdvice(
  o: Pick<ResolvedGrowOptions, 'source' | 'sourceLr'>,
  plan: GrowthPlan,
  listing: NewParameters,
  log: (message: string) => void,
): Promise<{ newParameters: NewParameters; groups?: GroupAdvice }> {
  if (listing.parameters.new === listing.parameters.total) return { newParameters: listing };
  return { newParameters: listing, groups: groupAdvice(plan.target.hiddenSize, await sourceLearningRate(o.source, o.sourceLr, log)) };
}

/**
 * A lossy start's held-out gap to the source, measured before any learning: what `--dry-run` says
 * where --data is given and the grown model is small enough to build in a dry run. It is the
 * run's own measurement (the same held-out tokens, the same seeded start), so the dry run's number
 * is the report's "grown at init" minus its "source".
 */
import { loadModel } from '../arch/load.js';
import type { GrowthPlan } from '../growth/plan.js';
import { formatBytes } from '../util/bytes.js';
import { modelSize } from '../arch/limits.js';
import { heldOutLoss, loadRunData, loadSourceTokenizer } from './data.js';
import { GrownWeights } from './grown_weights.js';
import type { ResolvedGrowOptions } from './options.js';
import type { RunSettings } from './run_settings.js';

/**
 * Largest grown model (float32 bytes) a dry run builds in memory to measure its start: a dry run
 * should answer in seconds, and past this size building the start is most of a run's own cost.
 */
export const DRY_RUN_GAP_MAX_BYTES = 512 * 2 ** 20;

export type StartGap = { source: number; start: number; tokens: number } | { unmeasured: string };

/** The start's gap (or why it is not measured), for a plan whose start is lossy. */
export async function measureStartGap(o: ResolvedGrowOptions, settings: RunSettings, plan: GrowthPlan, description: Parameters<typeof modelSize>[0]): Promise<StartGap> {
  if (!o.data) return { unmeasured: "pass --data to measure it: the start's held-out loss against the source's" };
  const bytes = modelSize(description, plan.target).bytes;
  if (bytes > DRY_RUN_GAP_MAX_BYTES) {
    return { unmeasured: `not measured by a dry run: the grown model is ${formatBytes(bytes)}, more than the ${formatBytes(DRY_RUN_GAP_MAX_BYTES)} a dry run builds; the run measures it before learning` };
  }
  const small = await loadModel(o.source);
  const grown = new GrownWeights(plan, settings.recipe, small, o.seed, o);
  try {
    const text = await loadRunData({ ...o, data: o.data }, small, await loadSourceTokenizer(o, small), settings.seqLen);
    const evaluate = heldOutLoss(text, settings.seqLen, o.batchSize);
    const source = await evaluate(small.dims, small.weights);
    const start = await evaluate(plan.target, grown.materialize());
    return { source, start, tokens: text.heldOut.length };
  } finally {
    grown.dispose();
    small.dispose();
  }
}

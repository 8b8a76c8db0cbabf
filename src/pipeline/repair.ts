import type { GrowthPlan } from '../growth/plan.js';
import type { ResolvedGrowOptions } from './options.js';
import { resolveRun, type RunSettings } from './run_settings.js';
import type { ArchitectureDescription } from '../arch/types.js';
import type { ModelDims } from '../arch/dims.js';

/**
 * Learning steps a lossy start gets by default when there is text to learn on. From the bundled
 * model grown 1.5x from the copy start, 5 / 10 / 20 / 60 steps recover 38% / 50% / 62% / 81% of
 * the held-out gap to the source on its own text (docs/BENCHMARKS.md, the repair rows): 20 is most
 * of what a short phase buys at under a tenth of a minute on small models.
 */
export const REPAIR_STEPS = 20;

/**
 * The depth operator's learning rate in a lossy start's learning phase where added layers start as copies of source
 * layers (--depth-start copy or noisy) rather than identities, unless --depth-lr is given: ten
 * times the default. A copied layer's error sits in a few depth coefficients per layer, which the
 * default rate barely moves in 20 steps. bench:repair, 20 steps, seeds 0-2: plain stacking 2 -> 4
 * layers recovers 95 / 95 / 95% of the gap at 5e-2 against 36% (mean) at 5e-3, the paper's start
 * 91 / 92 / 91% against 89% (docs/BENCHMARKS.md, the repair rows).
 */
export const REPAIR_DEPTH_LR = 5e-2;

/** Whether the grown model adds layers that start as copies (not identities) of source layers. */
const copiesLayers = (plan: GrowthPlan): boolean => plan.target.numLayers > plan.source.numLayers && plan.start?.depth !== undefined && plan.start.depth !== 'identity';

/** Why the start is lossy, in one clause. */
const reasons = (plan: GrowthPlan): string => plan.start?.notes.join('; ') ?? 'it does not keep the source\'s function';

/**
 * A learning method whose start is lossy learns REPAIR_STEPS steps when --data is given and
 * --steps is not, and says so in one line; where it adds layers as copies, its depth coefficients
 * learn at REPAIR_DEPTH_LR however many steps are asked, unless --depth-lr is given.
 */
export function withRepair(
  o: ResolvedGrowOptions,
  settings: RunSettings,
  plan: GrowthPlan,
  source: { description: ArchitectureDescription; dims: ModelDims },
  log: (line: string) => void,
): { o: ResolvedGrowOptions; settings: RunSettings } {
  if (!settings.recipe.learns || plan.start?.exact !== false || !o.data) return { o, settings };
  const depthLr = copiesLayers(plan) && !o.given.has('depthLr') ? REPAIR_DEPTH_LR : o.depthLr;
  const depthNote = depthLr === o.depthLr ? '' : `, the depth coefficients at --depth-lr ${REPAIR_DEPTH_LR} (added layers start as copies)`;
  if (o.given.has('steps')) return o.steps > 0 && depthLr !== o.depthLr ? { o: { ...o, depthLr }, settings } : { o, settings };
  log(`the start is lossy (${reasons(plan)}): learning the operator for ${REPAIR_STEPS} steps on --data to repair it${depthNote} (--steps 0 writes the start as it is)`);
  const repaired = { ...o, steps: REPAIR_STEPS, depthLr };
  return { o: repaired, settings: resolveRun(repaired, source) };
}

/** Without --data, a lossy start of a learning method is written as it is: one line says how to repair it. */
export function repairHint(o: ResolvedGrowOptions, settings: RunSettings, plan: GrowthPlan): string | undefined {
  if (!settings.recipe.learns || o.steps > 0 || plan.start?.exact !== false) return undefined;
  return `the start is lossy (${reasons(plan)}): --data FILE learns the operator for ${REPAIR_STEPS} steps to repair it`;
}

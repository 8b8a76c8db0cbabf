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

/** Why the start is lossy, in one clause. */
const reasons = (plan: GrowthPlan): string => plan.start?.notes.join('; ') ?? 'it does not keep the source\'s function';

/**
 * A learning method whose start is lossy learns REPAIR_STEPS steps when --data is given and
 * --steps is not, and says so in one line; anything else is left as asked.
 */
export function withRepair(
  o: ResolvedGrowOptions,
  settings: RunSettings,
  plan: GrowthPlan,
  source: { description: ArchitectureDescription; dims: ModelDims },
  log: (line: string) => void,
): { o: ResolvedGrowOptions; settings: RunSettings } {
  if (!settings.recipe.learns || o.given.has('steps') || plan.start?.exact !== false || !o.data) return { o, settings };
  log(`the start is lossy (${reasons(plan)}): learning the operator for ${REPAIR_STEPS} steps on --data to repair it (--steps 0 writes the start as it is)`);
  const repaired = { ...o, steps: REPAIR_STEPS };
  return { o: repaired, settings: resolveRun(repaired, source) };
}

/** Without --data, a lossy start of a learning method is written as it is: one line says how to repair it. */
export function repairHint(o: ResolvedGrowOptions, settings: RunSettings, plan: GrowthPlan): string | undefined {
  if (!settings.recipe.learns || o.steps > 0 || plan.start?.exact !== false) return undefined;
  return `the start is lossy (${reasons(plan)}): --data FILE learns the operator for ${REPAIR_STEPS} steps to repair it`;
}

export { grow } from './grow.js';
export { planGrow, planFromOptions, type GrowthDryRun } from './plan.js';
export { apply, type ApplyOptions } from './apply.js';
export { compare } from './compare.js';
export { COMPARE_DEFAULTS, type CompareEvent, type CompareMethodResult, type CompareOptions, type CompareResult } from './compare_options.js';
export { GROW_DEFAULTS, resolveGrowOptions, type GrowOptions, type GrowEvent, type GrownOutputOptions, type ResolvedGrowOptions } from './options.js';
export { pushToHub } from './push.js';
export { resolveModelSource, fetchModelSnapshot } from './source.js';
export { runReport, type RunFacts } from './report.js';

export { grow, planGrow } from './grow.js';
export { apply, type ApplyOptions } from './apply.js';
export { GROW_DEFAULTS, type GrowOptions, type GrowEvent } from './options.js';
export { GROWTH_METHODS, planGrowth, type GrowthMethod, type GrowthPlan, type PlannedTensor, type WidthOperatorSpec } from './plan.js';
export { resolveTarget, targetConfig, type TargetOptions } from './target.js';
export { GrowthOperator } from './operator.js';
export { materializeTensor, materializeAll } from './materialize.js';
export { OPERATOR_FILE, readOperator } from './operator_file.js';
export { REPORT_FILE, type GrowthReport } from './write.js';

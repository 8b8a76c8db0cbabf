export { GROWTH_METHODS, planGrowth, type GrowthMethod, type GrowthPlan, type PlannedTensor, type WidthOperatorSpec } from './plan.js';
export { resolveTarget, targetConfig, targetOptionsFromDims, type TargetOptions } from './target.js';
export { GrowthOperator } from './operator.js';
export { materializeTensor, materializeAll } from './materialize.js';
export { methodRecipe, type MethodRecipe } from './methods.js';
export { DEPTH_PATTERNS, SPLIT_MODES, type DepthPattern, type SplitMode } from './init.js';

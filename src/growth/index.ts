export { DENSE_FORM, GROWTH_METHODS, OPERATOR_KINDS, planGrowth, type GrowthMethod, type GrowthPlan, type OperatorForm, type OperatorKind, type PlannedTensor, type WidthOperatorSpec } from './plan.js';
export { checkTargetOptions, resolveTarget, targetConfig, targetOptionsFromDims, type TargetOptions } from './target.js';
export { GrowthOperator } from './operator.js';
export { materializeTensor, materializeAll } from './materialize.js';
export { methodRecipe, type MethodRecipe } from './methods.js';
export { DEPTH_PATTERNS, SPLIT_MODES, type DepthPattern, type SplitMode } from './init.js';
export { describeStart, START_RULES, type StartPlan, type StartRule } from './exact_start.js';
export { DEPTH_STARTS, type DepthStart } from './depth_start.js';
export { newParameters, startNewParameters, statusCounts, toRanges, type IndexRanges, type NewParameters, type NewStatus, type TensorNewParts } from './new_parameters.js';

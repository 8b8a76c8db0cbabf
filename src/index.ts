/**
 * The public API of ligo: what the CLI does, importable. Everything else under src/ is internal
 * and may change without notice.
 */

// Errors: every failure ligo expects is one of these, with context fields (file, tensor, flag, hint).
export { LigoError, UsageError, CheckpointError, UnsupportedError, DataError, HubError, type LigoErrorContext } from './errors.js';

// Compute backend.
export { initBackend, currentBackend, BACKEND_CHOICES, type BackendChoice, type BackendInfo, type InitBackendOptions } from './backend/index.js';

// Checkpoints and architectures.
export {
  openModel,
  loadModel,
  resolveArchitecture,
  parameterCount,
  SUPPORTED_MODEL_TYPES,
  SUPPORTED_ROPE_SCALING,
  type OpenedModel,
  type LoadedModel,
  type ModelDims,
  type RopeScaling,
  type Family,
  type ArchitectureDescription,
  type TensorSpec,
} from './arch/index.js';
export { openCheckpoint, createCheckpointWriter, parseSize, type CheckpointReader, type CheckpointWriter, type DType } from './checkpoint/index.js';

// Forward passes and losses.
export { forward, causalLmLoss, mlmLoss, maskTokens, type Weights, type ForwardInput } from './models/index.js';

// Tokenizer and data.
export { loadTokenizer, loadTokens, type TextTokenizer, type LoadTokensOptions } from './data/index.js';

// Evaluation and inspection.
export {
  evaluate,
  evaluateTokens,
  maskTokenIdFor,
  type EvalResult,
  type EvaluateOptions,
  type EvalModel,
  type EvaluateTokensOptions,
  type TokenEvalResult,
} from './eval/index.js';
export { inspectModel, type ModelInspection, type InspectOptions, type ShardInfo, type TensorInfo } from './inspect/index.js';

// Growth: the LiGO operator and the baselines, planned, learned, applied and written.
export { grow, planGrow, apply, GROW_DEFAULTS, type GrowOptions, type GrowEvent, type ApplyOptions } from './pipeline/index.js';
export { planGrowth, resolveTarget, GrowthOperator, GROWTH_METHODS, type GrowthMethod, type GrowthPlan, type TargetOptions } from './growth/index.js';
export { newParameters, startNewParameters, type NewParameters, type TensorNewParts } from './growth/index.js';
export { DOWNSTREAM_RECIPES, recipeRates, type DownstreamRecipe, type GroupRates } from './train/lr_groups.js';
export { compare, COMPARE_DEFAULTS, type CompareOptions, type CompareResult, type CompareMethodResult, type CompareEvent } from './pipeline/index.js';
export { OPERATOR_FILE, REPORT_FILE, COMPARE_FILE, COMPARE_PLOT_FILE, type GrowthReport } from './output/index.js';
export { BUNDLED_FIXTURE } from './fixture.js';

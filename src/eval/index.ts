export { evaluate, type EvalResult, type EvaluateOptions } from './evaluate.js';
export {
  evaluateTokens,
  checkTokenIds,
  resolveSeqLen,
  defaultBatchSize,
  DEFAULT_SEQ_LEN,
  DEFAULT_BATCH_SIZE,
  MAX_BATCH_LOGITS,
  type EvalModel,
  type EvaluateTokensOptions,
  type TokenEvalResult,
} from './evaluate_tokens.js';
export { maskTokenIdFor } from './mask_token.js';

import type { ModelDims } from './dims.js';
import { activeTemplates, templateShape } from './spec.js';
import type { ArchitectureDescription } from './types.js';

/**
 * The largest model ligo plans for. A typo (--layers 1000000000) or a hostile config.json must be
 * refused in one line before anything is built from it: plans list every layer's tensors, and
 * memory and disk estimates multiply the dimensions. Each limit is well above published
 * checkpoints (Llama 3.1 405B: 126 layers, width 16,384, FFN 53,248, 128 heads; Gemma: a
 * 262,144-token vocabulary) and well below what breaks the arithmetic.
 */
export const MAX_LAYERS = 1_024;
/** Residual-stream width (hidden_size), units. */
export const MAX_HIDDEN_SIZE = 131_072;
/** FFN width (intermediate_size), units. */
export const MAX_INTERMEDIATE_SIZE = 1_048_576;
/** Attention heads (query or key/value), heads. */
export const MAX_HEADS = 4_096;
/** Per-head size, units. */
export const MAX_HEAD_DIM = 4_096;
/** Vocabulary (and BERT's token types), tokens. */
export const MAX_VOCAB_SIZE = 4_194_304;
/** Positions (a learned table has one row each; RoPE models only cap windows by it), tokens. */
export const MAX_POSITIONS = 16_777_216;
/** Weights of one model at float32, bytes: 64 TiB, more than any disk ligo would write to. */
export const MAX_MODEL_BYTES = 64 * 2 ** 40;
/**
 * Threads for matrix products (--threads), threads: more than any machine's cores, fewer than would
 * exhaust the process starting them. Not a model dimension, but a limit of the same kind.
 */
export const MAX_THREADS = 1_024;
/** Bytes per parameter ligo computes in; the model limit is said at this size. */
const FLOAT32_BYTES = 4;

/** A dimension's limit and the unit it is counted in. */
export interface DimLimit {
  max: number;
  unit: string;
}

/** The limit of each dimension a config or a target sets. */
export const DIM_LIMITS: Partial<Record<keyof ModelDims, DimLimit>> = {
  numLayers: { max: MAX_LAYERS, unit: 'layers' },
  hiddenSize: { max: MAX_HIDDEN_SIZE, unit: 'units' },
  intermediateSize: { max: MAX_INTERMEDIATE_SIZE, unit: 'units' },
  numHeads: { max: MAX_HEADS, unit: 'heads' },
  numKvHeads: { max: MAX_HEADS, unit: 'heads' },
  headDim: { max: MAX_HEAD_DIM, unit: 'units' },
  vocabSize: { max: MAX_VOCAB_SIZE, unit: 'tokens' },
  typeVocabSize: { max: MAX_VOCAB_SIZE, unit: 'tokens' },
  maxPositions: { max: MAX_POSITIONS, unit: 'positions' },
};

/** "1,024 layers": a limit as the refusal says it. */
export const formatLimit = (limit: DimLimit): string => `${limit.max.toLocaleString('en-US')} ${limit.unit}`;

/** The first dimension over its limit, or undefined: the caller names the field or flag that set it. */
export function dimOverLimit(dims: Partial<Pick<ModelDims, keyof typeof DIM_LIMITS>>): { key: keyof ModelDims; value: number; limit: DimLimit } | undefined {
  for (const [key, limit] of Object.entries(DIM_LIMITS) as [keyof ModelDims, DimLimit][]) {
    const value = dims[key as keyof typeof dims];
    if (typeof value === 'number' && value > limit.max) return { key, value, limit };
  }
  return undefined;
}

/** A model's size from its dimensions alone, without listing its tensors. */
export interface ModelSize {
  tensors: number;
  parameters: number;
  /** At float32 (what MAX_MODEL_BYTES limits). */
  bytes: number;
}

/**
 * Tensor and parameter counts by arithmetic: each template's shape once, times the layers for
 * per-layer ones. Equals tensorSpecs' counts (test/arch/limits.test.ts checks), at any depth, in
 * time and memory independent of it.
 */
export function modelSize(description: ArchitectureDescription, dims: ModelDims, optionalPresent: ReadonlySet<string> = new Set()): ModelSize {
  let tensors = 0;
  let parameters = 0;
  for (const t of activeTemplates(description, dims, optionalPresent)) {
    const copies = t.group ? dims.numLayers : 1;
    tensors += copies;
    parameters += copies * templateShape(t, dims).reduce((a, b) => a * b, 1);
  }
  return { tensors, parameters, bytes: parameters * FLOAT32_BYTES };
}

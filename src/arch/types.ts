import type { ModelDims, Family } from './dims.js';

/**
 * What an axis of a tensor means. Sizes come from ModelDims:
 * width = hidden size (residual stream), q = heads x head_dim, k / v = KV heads x head_dim,
 * ffn = intermediate size, vocab, positions, types = token types; a number is a fixed size.
 * qHeadDim / kHeadDim = head_dim of the query / key heads (Qwen3's per-head q_norm, k_norm): it
 * grows with the head_dim factor of the q / k operator, and is left as is when head_dim is kept.
 */
export type AxisRole = 'width' | 'q' | 'k' | 'v' | 'ffn' | 'vocab' | 'positions' | 'types' | 'qHeadDim' | 'kHeadDim';

/**
 * `out`: the axis produces this dimension (rows of nn.Linear, biases, norm gains, embeddings):
 * growing it copies. `in`: the axis consumes it (columns of nn.Linear): growing it splits,
 * so that sums over it are unchanged.
 */
export type AxisSide = 'out' | 'in';

export interface AxisSegment {
  role: AxisRole;
  side: AxisSide;
}

/**
 * Several roles fused along one axis and stored per head: the axis is [groups, parts] with each
 * part contributing size / groups entries to every group, groups being the attention heads (or KV
 * heads). GPT-NeoX's query_key_value rows are [heads, 3 (q, k, v), head_dim]. Growth takes the
 * parts apart, grows each with its own role's operator (so the heads grow as q, k and v grow),
 * and stores them per head again at the target's head count.
 */
export interface InterleavedAxis {
  interleave: AxisSegment[];
  groups: 'heads' | 'kvHeads';
}

/**
 * One axis: a single role, several roles concatenated (GPT-2's and Phi-3's fused q|k|v, Phi-3's
 * gate|up), several roles interleaved per head (GPT-NeoX), or a fixed size.
 */
export type Axis = AxisSegment | AxisSegment[] | InterleavedAxis | number;

export const isInterleaved = (axis: Axis): axis is InterleavedAxis => typeof axis === 'object' && !Array.isArray(axis) && 'interleave' in axis;

/** The segments of an axis in logical (concatenated) order; [] for a fixed size. */
export function axisSegments(axis: Axis): AxisSegment[] {
  if (typeof axis === 'number') return [];
  if (isInterleaved(axis)) return axis.interleave;
  return Array.isArray(axis) ? axis : [axis];
}

/** Which depth operator mixes a per-layer tensor across layers. */
/**
 * `attn_out` / `mlp_out` are the projections writing back into the residual stream; they get
 * their own depth coefficients so a new layer can start as an exact identity (outputs zeroed)
 * while its other weights are copies that still receive gradient.
 */
export type LayerGroup = 'attn' | 'attn_out' | 'mlp' | 'mlp_out' | 'norm';

export interface TensorTemplate {
  /** Canonical name; per-layer names contain `{i}`. */
  name: string;
  axes: Axis[];
  /** Per-layer tensors have a depth group; global tensors have none. */
  group?: LayerGroup;
  /** Present only when this returns true (biases that depend on config switches, untied heads). */
  when?: (dims: ModelDims) => boolean;
  /**
   * The final norm whose output feeds a tied LM head. With tied embeddings its width axis grows
   * like an `in` axis (split, not copied), so the head's sum over the copied embedding columns
   * is unchanged and the logits are preserved.
   */
  feedsTiedHead?: boolean;
  /** Kept when the source checkpoint has it (BERT pooler, NSP head), not required. */
  optional?: boolean;
  /**
   * A norm gain, which the forward pass applies as (ModelDims.normGainOffset + w): w itself for
   * most families; Gemma stores w and uses 1 + w (its Preservation.storedTransform grows 1 + w).
   * Over the residual stream, the exact start (growth/exact_start.ts) scales it with the statistics.
   */
  normGain?: boolean;
  /** A LayerNorm bias: over the residual stream the exact start keeps it at 0 on new dimensions. */
  normBias?: boolean;
  /**
   * The token embedding the forward pass multiplies by embeddingMultiplier(dims) (Gemma's
   * sqrt(hidden_size), made up for by its Preservation.storedTransform).
   */
  inputEmbedding?: boolean;
  /** How a fresh tensor is initialized by the `random` method and for norms. */
  init: 'normal' | 'zeros' | 'ones';
}

/** A rewrite from names found in checkpoints to canonical names, tried in order. */
export interface NameAlias {
  from: RegExp;
  to: string;
}

/**
 * What a family can do, stated rather than guessed from which config fields exist. Growth checks
 * the target options against it (growth/target.ts); test/arch/families.test.ts checks it against
 * configFields and readDims.
 */
export interface FamilyCapabilities {
  /** head_dim is a config field of its own, so it may differ from hidden size / heads (--head-dim). */
  headDim: boolean;
  /** Grouped-query attention: fewer key/value heads than query heads (--kv-heads). */
  gqa: boolean;
  /** Positions enter through RoPE on q and k (readDims sets ModelDims.rotary to this). */
  rotary: boolean;
  /** Linear layers carry biases always (GPT-2, BERT) or as config.json says (ModelDims.qkvBias, oBias, mlpBias). */
  bias: 'always' | 'config';
}

/**
 * Floats alive at the peak of one layer's forward+backward, per token, in units of the width C,
 * the FFN width F and H*T (attention scores), for the learning-phase memory estimate
 * (train/estimate.ts). Fitted on the wasm backend; bench/estimate_check.ts measures them again.
 */
export interface ActivationCost {
  hidden: number;
  ffn: number;
  scores: number;
  /**
   * Uses per layer of ops a backend may fuse (backend/profile.ts fusedOps): LayerNorms over
   * [B,T,C], and gelu_new over [B,T,F] (counted only when the model's activation is gelu_new or
   * gelu_pytorch_tanh). hidden/ffn count them composed; on a backend that fuses them the
   * estimate subtracts what fusion saves (backend/fused_ops.ts FUSED_OP_KEPT).
   */
  fusable?: { layerNorm?: number; geluNew?: number };
}

/**
 * How growth keeps the small model's function for this family (growth/methods.ts reads it). The
 * default, for a family that adds each sublayer to a residual stream: `defaultPreservation`.
 * A family whose function depends on the width in another way (Gemma scales embeddings by
 * sqrt(hidden size); its norms multiply by 1 + w) adds the field its rule needs here and the
 * growth code that honours it, so no family `if` lands in growth/.
 */
export interface Preservation {
  /**
   * Repeated layers start as identities (their attn_out and mlp_out zeroed): exact only when each
   * sublayer adds to a residual stream that is normalized later (pre-norm). Post-norm BERT keeps
   * plain copies.
   */
  identityRepeats: boolean;
  /**
   * Where the forward pass does not use a stored tensor as it is, how its grown values are stored
   * (growth/plan.ts applies it to every method's operator); absent or undefined: as grown. Gemma:
   * 1 + w norm gains and embeddings scaled by sqrt(hidden size) (arch/gemma.ts).
   */
  storedTransform?: (template: TensorTemplate, source: ModelDims, target: ModelDims) => StoredTransform | undefined;
}

/**
 * stored = factor * B(small + offset) - offset, B being the growth (depth mix and width operators).
 * offset: the forward pass adds it to the stored value (Gemma's 1 + w gains), and growth must copy
 * or split 1 + w, not w. factor: makes up for a width-dependent constant the forward pass applies.
 */
export interface StoredTransform {
  factor: number;
  offset: number;
}

/** Today's rule: repeats start as identities exactly when the family is pre-norm. */
export const defaultPreservation = (preNorm: boolean): Preservation => ({ identityRepeats: preNorm });

/**
 * The Hub's task for a family's checkpoints (pipeline_tag in a grown model's card, which drives
 * the Hub widget and search).
 */
export type PipelineTag = 'text-generation' | 'fill-mask';

export interface ArchitectureDescription {
  family: Family;
  /** config.json `model_type` values served by this description. */
  modelTypes: readonly string[];
  /** config.json field names of each dimension, for writing a grown config. */
  configFields: Partial<Record<keyof ModelDims, string>>;
  /**
   * config.json fields holding one entry per layer (`layer_types`, which recent transformers
   * writes for Qwen2/Qwen3 and checks against num_hidden_layers): a grown config repeats their
   * one value for every grown layer.
   */
  perLayerConfigFields?: readonly string[];
  /** Residual stream normalized before each sublayer (GPT-2, Llama) or after (BERT). */
  preNorm: boolean;
  /**
   * What normalizes the residual stream: LayerNorm (subtracts the mean, divides by the standard
   * deviation) or RMSNorm (divides by the root mean square). Growth's exact start fills new
   * residual dimensions with what keeps those statistics proportional (growth/exact_start.ts).
   */
  norm: NormKind;
  capabilities: FamilyCapabilities;
  activationCost: ActivationCost;
  pipelineTag: PipelineTag;
  preservation: Preservation;
  tensors: readonly TensorTemplate[];
  aliases: readonly NameAlias[];
  /** Names of buffers that checkpoints may carry and we ignore (causal masks, position ids). */
  ignored: readonly RegExp[];
  /** Tied copies that may appear in a file and equal another tensor; ignored on load, not written. */
  tiedAliases: readonly string[];
  readDims(config: Record<string, unknown>, file: string): ModelDims;
}

export type NormKind = 'layerNorm' | 'rmsNorm';

/** A template made concrete for one model size and layer. */
export interface TensorSpec {
  name: string;
  shape: number[];
  template: TensorTemplate;
  /** Layer index for per-layer tensors. */
  layer?: number;
}

/** Per-head interleaving of parts (see InterleavedAxis). */
export const interleaved = (groups: InterleavedAxis['groups'], ...parts: AxisSegment[]): InterleavedAxis => ({ interleave: parts, groups });

export const out = (role: AxisRole): AxisSegment => ({ role, side: 'out' });
export const inp = (role: AxisRole): AxisSegment => ({ role, side: 'in' });

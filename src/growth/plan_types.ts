/**
 * The growth plan's types: what growth will do, with no tensors in it (printable, serializable,
 * testable). planGrowth (plan.ts) builds it; every other stage reads it. The operator's parameters
 * (their names, shapes, roles, whether they train) and how each width matrix is assembled from
 * them are part of it, worked out once by layout.ts.
 */
import type { ModelDims } from '../arch/dims.js';
import type { AxisRole, AxisSide, LayerGroup, StoredTransform } from '../arch/types.js';
import type { ResidualUse, StartPlan } from './exact_start.js';
import type { GrowthMethod } from './methods.js';

/**
 * How a width operator that is not head-structured is parameterized. `dense`: one trainable
 * [large, small] matrix per side, as in the paper; it outgrows the model it builds at real sizes
 * (an FFN operator of 6144 x 3072 per layer and side). `lowrank`: the fixed starting selection (a
 * gather, nothing to train) plus a trainable correction U V^T of rank `rank` (growth/low_rank.ts),
 * so what trains grows with the widths, not with their product. Attention operators act on whole
 * heads (a heads x heads matrix) and stay dense in both forms: they are small.
 */
export const OPERATOR_KINDS = ['lowrank', 'dense'] as const;
export type OperatorKind = (typeof OPERATOR_KINDS)[number];
export interface OperatorForm {
  kind: OperatorKind;
  /** Rank of the low-rank correction (lowrank only), capped at the operator's smaller side. */
  rank: number;
}
/** Fixed methods and operator files written before the low-rank form: every matrix dense. */
export const DENSE_FORM: OperatorForm = { kind: 'dense', rank: 0 };

/**
 * One width operator: a (D_large x D_small) expansion used on `out` axes and a split matrix used
 * on `in` axes. Attention operators act on whole heads: B = M (heads) kron H (head_dim), where H
 * is the identity when head_dim is unchanged and keeps rotate_half pairs together under RoPE.
 */
export interface WidthOperatorSpec {
  id: string;
  role: AxisRole;
  layer?: number;
  small: number;
  large: number;
  heads?: {
    small: number;
    large: number;
    headDimSmall: number;
    headDimLarge: number;
    rotary: boolean;
    /** Under partial rotary, the dims of each head RoPE passes through (the last ones). */
    pass?: { small: number; large: number };
  };
  /** A residual-stream operator of the exact start's own, for norm gains or biases (growth/exact_start.ts). */
  use?: ResidualUse;
  /** How each side's matrix is assembled from the operator's parameters (layout.ts). */
  assembly: Record<AxisSide, WidthAssembly>;
}

export interface DepthOperatorSpec {
  group: LayerGroup;
  small: number;
  large: number;
  /** Its parameter's name. */
  parameter: string;
}

/** An axis segment of a target tensor and the operator (if any) that grows it. */
export interface PlannedSegment {
  operator: string | null;
  side: AxisSide;
  small: number;
  large: number;
  /** Only the head_dim factor of the operator acts (Qwen3's per-head q/k norm gains). */
  part?: 'headDim';
}

export interface PlannedTensor {
  name: string;
  shape: number[];
  smallShape: number[];
  layer?: number;
  group?: LayerGroup;
  /** How the `random` baseline initializes it. */
  init: 'normal' | 'zeros' | 'ones';
  /** Small tensors it is computed from: one global tensor, or the same template in every small layer. */
  sources: string[];
  /** Per axis, its segments in logical (concatenated) order. */
  axes: PlannedSegment[][];
  /** How the grown values are stored (the family's Preservation.storedTransform); absent: as grown. */
  transform?: StoredTransform;
  /**
   * The axis whose segments are stored interleaved per head (GPT-NeoX's query_key_value): stored
   * as [groups, segments] with each segment giving size / groups entries to each group, `small`
   * groups in the source and `large` in the target. Growth takes the segments apart, grows them
   * as if concatenated and interleaves them again.
   */
  interleave?: InterleavePlan;
}

export interface InterleavePlan {
  axis: number;
  small: number;
  large: number;
}

/** What growth will do, with no tensors in it: printable, serializable, testable. */
export interface GrowthPlan {
  family: string;
  method: GrowthMethod;
  source: ModelDims;
  target: ModelDims;
  /** How the width operators are parameterized (dense for every method but a learning ligo). */
  operator: OperatorForm;
  /** Which start the operator begins from and whether it keeps the source's function (planGrowth always says; absent reads as copy). */
  start?: StartPlan;
  width: WidthOperatorSpec[];
  depth: DepthOperatorSpec[];
  tensors: PlannedTensor[];
  /** Every operator parameter, in the order an operator file stores them (layout.ts). */
  operatorParameters: OperatorParameter[];
  /** `operator`: the trainable operator parameters (a low-rank operator's fixed selections are not counted). */
  parameters: { source: number; target: number; operator: number };
}

/**
 * What an operator parameter is. `selection`: a low-rank operator's fixed start S (B = S + U V^T),
 * a gather that never trains; `matrix`: a dense width matrix B, or an attention operator's head
 * mixing M (B = M kron H); `correctionU` / `correctionV`: the low-rank correction's U [large, r]
 * and V [small, r]; `headDim`: H, or under RoPE its factor P on half the rotated dims;
 * `headDimPass`: under partial rotary, the factor on the passed-through dims; `depth`: the
 * [L_large, L_small] coefficients of one layer group.
 */
export type ParameterRole = 'selection' | 'matrix' | 'correctionU' | 'correctionV' | 'headDim' | 'headDimPass' | 'depth';

export interface OperatorParameter {
  name: string;
  shape: [number, number];
  role: ParameterRole;
  /** Trained by the learning phase (with optimizer state); a selection is fixed. */
  trains: boolean;
  /** The width operator's id, or the depth group. */
  operator: string;
  /** The width matrix side it builds (absent for depth). */
  side?: AxisSide;
}

/**
 * How an attention operator's head_dim matrix H is built from its parameters: the identity when
 * head_dim is unchanged; one factor, H itself, without RoPE; under RoPE H = kron(I2, P), so dims i
 * and i + rotated/2 (rotate_half's pairs) move together; under partial rotary
 * H = blockdiag(kron(I2, P), P_pass), so rotated dims stay the first ones.
 */
export type HeadDimAssembly =
  | { kind: 'identity'; size: number }
  | { kind: 'factor'; factor: string }
  | { kind: 'rotary'; factor: string; pass?: string };

/**
 * How one side of a width operator's [large, small] matrix B is assembled: one dense matrix; a
 * low-rank operator's S + U V^T (applied factored, never built); or heads, M kron H.
 */
export type WidthAssembly =
  | { kind: 'matrix'; matrix: string }
  | { kind: 'lowRank'; selection: string; u: string; v: string; rank: number }
  | { kind: 'heads'; heads: string; headDim: HeadDimAssembly };

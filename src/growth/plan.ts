import { rotaryDims, type ModelDims } from '../arch/dims.js';
import { axisSize, groupCount, roleSize, tensorSpecs, parameterCount } from '../arch/spec.js';
import { planStart, residualOperatorId, residualUse, startTarget, type ResidualUse, type StartPlan, type StartRule } from './exact_start.js';
import {
  axisSegments,
  isInterleaved,
  type ArchitectureDescription,
  type Axis,
  type AxisRole,
  type AxisSide,
  type LayerGroup,
  type StoredTransform,
} from '../arch/types.js';

export type { StoredTransform } from '../arch/types.js';
export { START_RULES, type StartPlan, type StartRule } from './exact_start.js';

export const GROWTH_METHODS = ['ligo', 'net2net', 'stack', 'interlace', 'random'] as const;
export type GrowthMethod = (typeof GROWTH_METHODS)[number];

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

/** The rank of an operator's low-rank correction, or 0 when the operator is a dense matrix. */
export function lowRankOf(form: OperatorForm, op: WidthOperatorSpec): number {
  if (form.kind !== 'lowrank' || op.heads) return 0;
  return Math.max(1, Math.min(form.rank, op.small, op.large));
}

/** Roles whose size can change; vocab, positions and token types stay as they are. */
const GROWABLE: readonly AxisRole[] = ['width', 'q', 'k', 'v', 'ffn', 'qHeadDim', 'kHeadDim'];

/** Axes that are the head_dim of an attention operator's heads, and that operator's role. */
const HEAD_DIM_OF: Partial<Record<AxisRole, AxisRole>> = { qHeadDim: 'q', kHeadDim: 'k' };

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
}

/** A head_dim factor of an attention operator: its parameter name suffix and [large, small] shape. */
export interface HeadDimFactor {
  suffix: 'head_dim' | 'head_dim.pass';
  shape: [number, number];
}

/**
 * The head_dim factors of an attention operator, from which its head_dim matrix H is built
 * (B = M kron H): none when head_dim is unchanged (H is the identity); without RoPE one factor,
 * H itself; under RoPE one factor P on half the rotated dims, H = kron(I2, P), so dims i and
 * i + rotated/2 (rotate_half's pairs) move together; under partial rotary also a factor on the
 * passed-through dims, H = blockdiag(kron(I2, P), P_pass), so rotated dims stay the first ones.
 */
export function headDimFactors(op: WidthOperatorSpec): HeadDimFactor[] {
  if (!op.heads || op.heads.headDimSmall === op.heads.headDimLarge) return [];
  const { headDimSmall, headDimLarge, rotary, pass } = op.heads;
  if (!rotary) return [{ suffix: 'head_dim', shape: [headDimLarge, headDimSmall] }];
  const passSmall = pass?.small ?? 0;
  const passLarge = pass?.large ?? 0;
  const rotated: HeadDimFactor = { suffix: 'head_dim', shape: [(headDimLarge - passLarge) / 2, (headDimSmall - passSmall) / 2] };
  return pass ? [rotated, { suffix: 'head_dim.pass', shape: [passLarge, passSmall] }] : [rotated];
}

export interface DepthOperatorSpec {
  group: LayerGroup;
  small: number;
  large: number;
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
  /** `operator`: the trainable operator parameters (a low-rank operator's fixed selections are not counted). */
  parameters: { source: number; target: number; operator: number };
}

/** The grown tensors of each large layer (tensors outside the layers are left out). */
export function tensorsByLayer(tensors: readonly PlannedTensor[]): Map<number, PlannedTensor[]> {
  const byLayer = new Map<number, PlannedTensor[]>();
  for (const t of tensors) {
    if (t.layer === undefined) continue;
    const list = byLayer.get(t.layer);
    if (list) list.push(t);
    else byLayer.set(t.layer, [t]);
  }
  return byLayer;
}

export function operatorId(role: AxisRole, layer: number | undefined): string {
  return role === 'width' || layer === undefined ? role : `${role}.${layer}`;
}

function segmentsOf(axis: Axis, splitWidth: boolean): { role: AxisRole | null; side: AxisSide; fixed?: number }[] {
  if (typeof axis === 'number') return [{ role: null, side: 'out', fixed: axis }];
  return axisSegments(axis).map((s) => ({ role: s.role, side: splitWidth && s.role === 'width' ? 'in' : s.side }));
}

/** The interleaved axis of a template, with its group counts in source and target. */
function interleavePlan(axes: readonly Axis[], source: ModelDims, target: ModelDims): InterleavePlan | undefined {
  const axis = axes.findIndex(isInterleaved);
  if (axis < 0) return undefined;
  const fused = axes[axis];
  if (!isInterleaved(fused)) return undefined;
  if (axes.filter(isInterleaved).length > 1) throw new Error('a tensor may have at most one interleaved axis');
  return { axis, small: groupCount(fused.groups, source), large: groupCount(fused.groups, target) };
}

function widthOperatorParams(op: WidthOperatorSpec, form: OperatorForm): number {
  const rank = lowRankOf(form, op);
  if (rank > 0) return 2 * rank * (op.small + op.large);
  if (!op.heads) return 2 * op.small * op.large;
  const dim = headDimFactors(op).reduce((sum, f) => sum + f.shape[0] * f.shape[1], 0);
  return 2 * (op.heads.small * op.heads.large + dim);
}

/** The dims RoPE passes through in each head of source and target, when it rotates only some. */
function passedDims(source: ModelDims, target: ModelDims): { small: number; large: number } | undefined {
  const small = source.headDim - rotaryDims(source);
  return source.rotary && small > 0 ? { small, large: target.headDim - rotaryDims(target) } : undefined;
}

/** The width operators a plan names, made on first use: one per role and large layer (the residual stream's per use). */
function widthOperators(source: ModelDims, target: ModelDims) {
  const width = new Map<string, WidthOperatorSpec>();
  const pass = passedDims(source, target);
  const operatorFor = (role: AxisRole, layer: number | undefined, use?: ResidualUse): string => {
    const id = use ? residualOperatorId(use) : operatorId(role, layer);
    if (width.has(id)) return id;
    const attention = role === 'q' || role === 'k' || role === 'v';
    const headsSmall = role === 'q' ? source.numHeads : source.numKvHeads;
    const headsLarge = role === 'q' ? target.numHeads : target.numKvHeads;
    width.set(id, {
      id,
      role,
      layer: role === 'width' ? undefined : layer,
      small: roleSize(role, source),
      large: roleSize(role, target),
      heads: attention
        ? { small: headsSmall, large: headsLarge, headDimSmall: source.headDim, headDimLarge: target.headDim, rotary: source.rotary, ...(pass ? { pass } : {}) }
        : undefined,
      ...(use ? { use } : {}),
    });
    return id;
  };
  return { operatorFor, list: (): WidthOperatorSpec[] => [...width.values()] };
}

type TensorSpec = ReturnType<typeof tensorSpecs>[number];

/** One grown tensor: its axes' segments and the operators that grow them, its sources and storage. */
function planTensor(
  spec: TensorSpec,
  c: { description: ArchitectureDescription; source: ModelDims; target: ModelDims; start: StartPlan; operatorFor: ReturnType<typeof widthOperators>['operatorFor'] },
): PlannedTensor {
  const { source, target } = c;
  const template = spec.template;
  const splitWidth = template.feedsTiedHead === true && target.tiedEmbeddings;
  const axes = template.axes.map((axis) =>
    segmentsOf(axis, splitWidth).map((seg): PlannedSegment => {
      if (seg.role === null) return { operator: null, side: seg.side, small: seg.fixed ?? 0, large: seg.fixed ?? 0 };
      const small = roleSize(seg.role, source);
      const large = roleSize(seg.role, target);
      if (!GROWABLE.includes(seg.role) || small === large) return { operator: null, side: seg.side, small, large };
      const headsRole = HEAD_DIM_OF[seg.role];
      if (headsRole) return { operator: c.operatorFor(headsRole, spec.layer), side: seg.side, small, large, part: 'headDim' };
      return { operator: c.operatorFor(seg.role, spec.layer, residualUse(template, seg.role, c.start)), side: seg.side, small, large };
    }),
  );
  const transform = c.description.preservation.storedTransform?.(template, source, target);
  const sources = spec.layer === undefined ? [spec.name] : Array.from({ length: source.numLayers }, (_, j) => template.name.replace('{i}', String(j)));
  const interleave = interleavePlan(template.axes, source, target);
  return {
    name: spec.name,
    shape: spec.shape,
    smallShape: template.axes.map((a) => axisSize(a, source)),
    layer: spec.layer,
    group: template.group,
    init: template.init,
    sources,
    axes,
    ...(transform ? { transform } : {}),
    ...(interleave ? { interleave } : {}),
  };
}

/**
 * Template-major order (every layer of one kind, then the next kind): streaming writers then
 * need the small model's tensors of only one kind at a time.
 */
function templateMajor(tensors: readonly PlannedTensor[], specs: readonly TensorSpec[]): PlannedTensor[] {
  const byTemplate = new Map<string, PlannedTensor[]>();
  for (const [i, t] of tensors.entries()) {
    const key = specs[i].template.name;
    byTemplate.set(key, [...(byTemplate.get(key) ?? []), t]);
  }
  return [...byTemplate.values()].flat();
}

export function planGrowth(options: {
  description: ArchitectureDescription;
  source: ModelDims;
  target: ModelDims;
  method: GrowthMethod;
  optionalPresent: ReadonlySet<string>;
  /** Default: dense. */
  operator?: OperatorForm;
  /** Default: the method's (exact_start.ts defaultStart). */
  start?: StartRule;
}): GrowthPlan {
  const { description, source, method, optionalPresent } = options;
  const start = planStart(options);
  const target = startTarget(options.target, source, start);
  const form = options.operator ?? DENSE_FORM;
  const sourceSpecs = tensorSpecs(description, source, optionalPresent);
  const targetSpecs = tensorSpecs(description, target, optionalPresent);
  const width = widthOperators(source, target);
  const tensors = targetSpecs.map((spec) => planTensor(spec, { description, source, target, start, operatorFor: width.operatorFor }));
  const groups = [...new Set(targetSpecs.flatMap((s) => (s.template.group ? [s.template.group] : [])))];
  const depth = groups.map((group) => ({ group, small: source.numLayers, large: target.numLayers }));
  const operatorParams = width.list().reduce((sum, op) => sum + widthOperatorParams(op, form), 0) + depth.reduce((sum, d) => sum + d.small * d.large, 0);
  return {
    family: description.family,
    method,
    source,
    target,
    operator: form,
    start,
    width: width.list(),
    depth,
    tensors: templateMajor(tensors, targetSpecs),
    parameters: { source: parameterCount(sourceSpecs), target: parameterCount(targetSpecs), operator: operatorParams },
  };
}

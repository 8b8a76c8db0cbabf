import type { ModelDims } from '../arch/dims.js';
import { axisSize, roleSize, tensorSpecs, parameterCount } from '../arch/spec.js';
import type { ArchitectureDescription, Axis, AxisRole, AxisSide, LayerGroup, StoredTransform } from '../arch/types.js';

export type { StoredTransform } from '../arch/types.js';

export const GROWTH_METHODS = ['ligo', 'net2net', 'stack', 'interlace', 'random'] as const;
export type GrowthMethod = (typeof GROWTH_METHODS)[number];

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
  heads?: { small: number; large: number; headDimSmall: number; headDimLarge: number; rotary: boolean };
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
  axes: PlannedSegment[][];
  /** How the grown values are stored (the family's Preservation.storedTransform); absent: as grown. */
  transform?: StoredTransform;
}

/** What growth will do, with no tensors in it: printable, serializable, testable. */
export interface GrowthPlan {
  family: string;
  method: GrowthMethod;
  source: ModelDims;
  target: ModelDims;
  width: WidthOperatorSpec[];
  depth: DepthOperatorSpec[];
  tensors: PlannedTensor[];
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
  return (Array.isArray(axis) ? axis : [axis]).map((s) => ({ role: s.role, side: splitWidth && s.role === 'width' ? 'in' : s.side }));
}

function widthOperatorParams(op: WidthOperatorSpec): number {
  if (!op.heads) return 2 * op.small * op.large;
  const { small, large, headDimSmall, headDimLarge, rotary } = op.heads;
  const dim = headDimSmall === headDimLarge ? 0 : rotary ? (headDimSmall * headDimLarge) / 4 : headDimSmall * headDimLarge;
  return 2 * (small * large + dim);
}

export function planGrowth(options: {
  description: ArchitectureDescription;
  source: ModelDims;
  target: ModelDims;
  method: GrowthMethod;
  optionalPresent: ReadonlySet<string>;
}): GrowthPlan {
  const { description, source, target, method, optionalPresent } = options;
  const sourceSpecs = tensorSpecs(description, source, optionalPresent);
  const targetSpecs = tensorSpecs(description, target, optionalPresent);
  const width = new Map<string, WidthOperatorSpec>();
  const rotary = source.rotary;

  const operatorFor = (role: AxisRole, layer: number | undefined): string => {
    const id = operatorId(role, layer);
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
      heads: attention ? { small: headsSmall, large: headsLarge, headDimSmall: source.headDim, headDimLarge: target.headDim, rotary } : undefined,
    });
    return id;
  };

  const tensors = targetSpecs.map((spec): PlannedTensor => {
    const template = spec.template;
    const splitWidth = template.feedsTiedHead === true && target.tiedEmbeddings;
    const axes = template.axes.map((axis) =>
      segmentsOf(axis, splitWidth).map((seg): PlannedSegment => {
        if (seg.role === null) return { operator: null, side: seg.side, small: seg.fixed ?? 0, large: seg.fixed ?? 0 };
        const small = roleSize(seg.role, source);
        const large = roleSize(seg.role, target);
        if (!GROWABLE.includes(seg.role) || small === large) return { operator: null, side: seg.side, small, large };
        const headsRole = HEAD_DIM_OF[seg.role];
        if (headsRole) return { operator: operatorFor(headsRole, spec.layer), side: seg.side, small, large, part: 'headDim' };
        return { operator: operatorFor(seg.role, spec.layer), side: seg.side, small, large };
      }),
    );
    const transform = description.preservation.storedTransform?.(template, source, target);
    const smallShape = template.axes.map((a) => axisSize(a, source));
    const sources =
      spec.layer === undefined
        ? [spec.name]
        : Array.from({ length: source.numLayers }, (_, j) => template.name.replace('{i}', String(j)));
    return { name: spec.name, shape: spec.shape, smallShape, layer: spec.layer, group: template.group, init: template.init, sources, axes, ...(transform ? { transform } : {}) };
  });

  // Template-major order (every layer of one kind, then the next kind): streaming writers then
  // need the small model's tensors of only one kind at a time.
  const byTemplate = new Map<string, PlannedTensor[]>();
  for (const [i, t] of tensors.entries()) {
    const key = targetSpecs[i].template.name;
    byTemplate.set(key, [...(byTemplate.get(key) ?? []), t]);
  }
  const ordered = [...byTemplate.values()].flat();

  const groups = [...new Set(targetSpecs.flatMap((s) => (s.template.group ? [s.template.group] : [])))];
  const depth = groups.map((group) => ({ group, small: source.numLayers, large: target.numLayers }));
  const operatorParams =
    [...width.values()].reduce((sum, op) => sum + widthOperatorParams(op), 0) + depth.reduce((sum, d) => sum + d.small * d.large, 0);
  return {
    family: description.family,
    method,
    source,
    target,
    width: [...width.values()],
    depth,
    tensors: ordered,
    parameters: { source: parameterCount(sourceSpecs), target: parameterCount(targetSpecs), operator: operatorParams },
  };
}

import { rotaryDims, type ModelDims } from '../arch/dims.js';
import { axisSize, groupCount, roleSize, tensorSpecs, parameterCount } from '../arch/spec.js';
import { axisSegments, isInterleaved, type ArchitectureDescription, type Axis, type AxisRole, type AxisSide } from '../arch/types.js';
import { planStart, residualOperatorId, residualUse, startTarget, type ResidualUse, type StartPlan, type StartRule } from './exact_start.js';
import type { DepthStart } from './depth_start.js';
import { operatorLayout } from './layout.js';
import type { GrowthMethod } from './methods.js';
import { DENSE_FORM, type DepthOperatorSpec, type GrowthPlan, type InterleavePlan, type OperatorForm, type PlannedSegment, type PlannedTensor, type WidthOperatorSpec } from './plan_types.js';

export type { StoredTransform } from '../arch/types.js';
export { START_RULES, type StartPlan, type StartRule } from './exact_start.js';
export { GROWTH_METHODS, type GrowthMethod } from './methods.js';
export * from './plan_types.js';


/** Roles whose size can change; vocab, positions and token types stay as they are. */
const GROWABLE: readonly AxisRole[] = ['width', 'q', 'k', 'v', 'ffn', 'qHeadDim', 'kHeadDim'];

/** Axes that are the head_dim of an attention operator's heads, and that operator's role. */
const HEAD_DIM_OF: Partial<Record<AxisRole, AxisRole>> = { qHeadDim: 'q', kHeadDim: 'k' };

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

/** The dims RoPE passes through in each head of source and target, when it rotates only some. */
function passedDims(source: ModelDims, target: ModelDims): { small: number; large: number } | undefined {
  const small = source.headDim - rotaryDims(source);
  return source.rotary && small > 0 ? { small, large: target.headDim - rotaryDims(target) } : undefined;
}

/** The width operators a plan names, made on first use: one per role and large layer (the residual stream's per use). */
function widthOperators(source: ModelDims, target: ModelDims) {
  const width = new Map<string, Omit<WidthOperatorSpec, 'assembly'>>();
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
  return { operatorFor, list: (): Omit<WidthOperatorSpec, 'assembly'>[] => [...width.values()] };
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
  /** ligo's depth start (depth_start.ts); default: the method's. */
  depthStart?: DepthStart;
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
  const layout = withLayout(width.list(), depth, form);
  return {
    family: description.family,
    method,
    source,
    target,
    start,
    ...layout,
    tensors: templateMajor(tensors, targetSpecs),
    parameters: { source: parameterCount(sourceSpecs), target: parameterCount(targetSpecs), operator: trainedCount(layout) },
  };
}

type Layout = Pick<GrowthPlan, 'operator' | 'width' | 'depth' | 'operatorParameters'>;

function withLayout(width: readonly Omit<WidthOperatorSpec, 'assembly'>[], depth: readonly Omit<DepthOperatorSpec, 'parameter'>[], form: OperatorForm): Layout {
  const layout = operatorLayout(width, depth, form);
  return { operator: form, width: layout.width, depth: layout.depth, operatorParameters: layout.parameters };
}

/** The trainable operator parameters (a low-rank operator's fixed selections are not counted). */
const trainedCount = (layout: Layout): number => layout.operatorParameters.reduce((sum, p) => sum + (p.trains ? p.shape[0] * p.shape[1] : 0), 0);

/**
 * The same growth with its width operators parameterized as `form` says (layout and operator
 * parameter count anew): the dense form of a low-rank plan is its start alone, what a run that
 * learns nothing streams and saves.
 */
export function withOperatorForm(plan: GrowthPlan, form: OperatorForm): GrowthPlan {
  const layout = withLayout(plan.width, plan.depth, form);
  return { ...plan, ...layout, parameters: { ...plan.parameters, operator: trainedCount(layout) } };
}

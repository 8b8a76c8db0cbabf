/**
 * The operator's parameter layout, worked out once by planGrowth: every parameter's name, shape,
 * role and whether it trains, and how each width matrix is assembled from them. Everything that
 * builds, applies, saves, counts or prints an operator reads this; nothing derives it again.
 */
import type { AxisSide, LayerGroup } from '../arch/types.js';
import { CheckpointError } from '../errors.js';
import type {
  DepthOperatorSpec,
  GrowthPlan,
  HeadDimAssembly,
  OperatorForm,
  OperatorParameter,
  ParameterRole,
  WidthAssembly,
  WidthOperatorSpec,
} from './plan_types.js';

const SIDES: readonly AxisSide[] = ['out', 'in'];

/** Which parameter of an operator a name is for. */
export type ParameterKey =
  | { operator: string; side: AxisSide; part: 'main' | 'u' | 'v' | 'headDim' | 'headDimPass' }
  | { group: LayerGroup };

const SUFFIX = { main: '', u: '.u', v: '.v', headDim: '.head_dim', headDimPass: '.head_dim.pass' } as const;

/**
 * The one place parameter names are made: `<op>.<side>` for the main factor (a low-rank
 * operator's fixed selection), `.u` / `.v` after it for its correction, `.head_dim` and
 * `.head_dim.pass` for the head_dim factors, `depth.<group>` for depth. Operator files use them.
 */
export function parameterName(key: ParameterKey): string {
  return 'group' in key ? `depth.${key.group}` : `${key.operator}.${key.side}${SUFFIX[key.part]}`;
}

/** The rank of an operator's low-rank correction, or 0 when its main factor is a dense matrix (attention operators always are). */
function lowRankOf(form: OperatorForm, op: Omit<WidthOperatorSpec, 'assembly'>): number {
  if (form.kind !== 'lowrank' || op.heads) return 0;
  return Math.max(1, Math.min(form.rank, op.small, op.large));
}

type Spec = Omit<WidthOperatorSpec, 'assembly'>;

/** The head_dim matrix's assembly and its factors' [large, small] shapes (plan_types.ts HeadDimAssembly). */
function headDimAssembly(op: Spec, side: AxisSide): { assembly: HeadDimAssembly; factors: { part: 'headDim' | 'headDimPass'; shape: [number, number] }[] } {
  const heads = op.heads;
  if (!heads) throw new Error(`width operator "${op.id}" has no heads`);
  const { headDimSmall, headDimLarge, rotary, pass } = heads;
  if (headDimSmall === headDimLarge) return { assembly: { kind: 'identity', size: headDimSmall }, factors: [] };
  const factor = parameterName({ operator: op.id, side, part: 'headDim' });
  if (!rotary) return { assembly: { kind: 'factor', factor }, factors: [{ part: 'headDim', shape: [headDimLarge, headDimSmall] }] };
  const rotated: [number, number] = [(headDimLarge - (pass?.large ?? 0)) / 2, (headDimSmall - (pass?.small ?? 0)) / 2];
  if (!pass) return { assembly: { kind: 'rotary', factor }, factors: [{ part: 'headDim', shape: rotated }] };
  const passName = parameterName({ operator: op.id, side, part: 'headDimPass' });
  return {
    assembly: { kind: 'rotary', factor, pass: passName },
    factors: [
      { part: 'headDim', shape: rotated },
      { part: 'headDimPass', shape: [pass.large, pass.small] },
    ],
  };
}

/** One side's assembly and the main factor's parameters (start or matrix, then the correction). */
function sideLayout(op: Spec, side: AxisSide, form: OperatorForm): { assembly: WidthAssembly; params: OperatorParameter[] } {
  const name = (part: 'main' | 'u' | 'v'): string => parameterName({ operator: op.id, side, part });
  const param = (n: string, shape: [number, number], role: ParameterRole): OperatorParameter => ({ name: n, shape, role, trains: role !== 'selection', operator: op.id, side });
  if (op.heads) {
    const { assembly: headDim } = headDimAssembly(op, side);
    return { assembly: { kind: 'heads', heads: name('main'), headDim }, params: [param(name('main'), [op.heads.large, op.heads.small], 'matrix')] };
  }
  const rank = lowRankOf(form, op);
  if (rank === 0) return { assembly: { kind: 'matrix', matrix: name('main') }, params: [param(name('main'), [op.large, op.small], 'matrix')] };
  return {
    assembly: { kind: 'lowRank', selection: name('main'), u: name('u'), v: name('v'), rank },
    params: [param(name('main'), [op.large, op.small], 'selection'), param(name('u'), [op.large, rank], 'correctionU'), param(name('v'), [op.small, rank], 'correctionV')],
  };
}

/**
 * Each width operator with its assemblies, and every parameter in operator-file order: per
 * operator its out side, its in side, then its head_dim factors (out, in each); depth last.
 */
export function operatorLayout(width: readonly Spec[], depth: readonly Omit<DepthOperatorSpec, 'parameter'>[], form: OperatorForm): {
  width: WidthOperatorSpec[];
  depth: DepthOperatorSpec[];
  parameters: OperatorParameter[];
} {
  const parameters: OperatorParameter[] = [];
  const grown = width.map((op): WidthOperatorSpec => {
    const sides = SIDES.map((side) => sideLayout(op, side, form));
    for (const s of sides) parameters.push(...s.params);
    if (op.heads) {
      const [out, inSide] = SIDES.map((side) => headDimAssembly(op, side).factors);
      out.forEach((f, i) => {
        for (const [side, factor] of [['out', f], ['in', inSide[i]]] as const) {
          parameters.push({ name: parameterName({ operator: op.id, side, part: factor.part }), shape: factor.shape, role: factor.part, trains: true, operator: op.id, side });
        }
      });
    }
    return { ...op, assembly: { out: sides[0].assembly, in: sides[1].assembly } };
  });
  const depthOps = depth.map((d): DepthOperatorSpec => ({ ...d, parameter: parameterName({ group: d.group }) }));
  for (const d of depthOps) parameters.push({ name: d.parameter, shape: [d.large, d.small], role: 'depth', trains: true, operator: d.group });
  return { width: grown, depth: depthOps, parameters };
}

/** Lookups over a plan's layout, built once per plan object. */
interface Index {
  byName: Map<string, OperatorParameter>;
  byId: Map<string, WidthOperatorSpec>;
}
const indexes = new WeakMap<GrowthPlan, Index>();

function indexOf(plan: GrowthPlan): Index {
  let hit = indexes.get(plan);
  if (!hit) {
    hit = { byName: new Map(plan.operatorParameters.map((p) => [p.name, p])), byId: new Map(plan.width.map((w) => [w.id, w])) };
    indexes.set(plan, hit);
  }
  return hit;
}

/** The plan's width operator `id`; throws when it has none. */
export function widthOperator(plan: GrowthPlan, id: string): WidthOperatorSpec {
  const op = indexOf(plan).byId.get(id);
  if (!op) throw new Error(`growth plan has no width operator "${id}"`);
  return op;
}

/** How width operator `id`'s matrix on `side` is assembled. */
export const assemblyOf = (plan: GrowthPlan, id: string, side: AxisSide): WidthAssembly => widthOperator(plan, id).assembly[side];

/** The plan's operator parameter of that name, or undefined. */
export const operatorParameter = (plan: GrowthPlan, name: string): OperatorParameter | undefined => indexOf(plan).byName.get(name);

/** Every operator parameter's [rows, cols] by name, from the plan alone: what an operator file holds. */
export function operatorShapes(plan: GrowthPlan): Map<string, [number, number]> {
  return new Map(plan.operatorParameters.map((p) => [p.name, p.shape]));
}

/** The operator parameters that train (and take optimizer state), with their shapes. */
export function trainableShapes(plan: GrowthPlan): Map<string, [number, number]> {
  return new Map(plan.operatorParameters.filter((p) => p.trains).map((p) => [p.name, p.shape]));
}

/** The main factor of one side: a dense matrix, a low-rank operator's selection, or an attention operator's head mixing. */
export const mainParameter = (a: WidthAssembly): string => (a.kind === 'matrix' ? a.matrix : a.kind === 'lowRank' ? a.selection : a.heads);

/** The parameters one side of a width matrix reads: its head_dim factors alone with part 'headDim', else all of them. */
export function assemblyParameters(a: WidthAssembly, part?: 'headDim'): string[] {
  const headDim = (h: HeadDimAssembly): string[] => (h.kind === 'identity' ? [] : h.kind === 'factor' ? [h.factor] : [h.factor, ...(h.pass ? [h.pass] : [])]);
  if (a.kind === 'heads') return part ? headDim(a.headDim) : [a.heads, ...headDim(a.headDim)];
  if (part) throw new Error(`width operator "${a.kind === 'matrix' ? a.matrix : a.selection}" has no head_dim factor`);
  return a.kind === 'matrix' ? [a.matrix] : [a.selection, a.u, a.v];
}

/** Throws unless every parameter the plan needs is present (shapeOf) with its shape; returns the expected shapes. */
export function checkOperatorShapes(plan: GrowthPlan, shapeOf: (name: string) => readonly number[] | undefined): Map<string, [number, number]> {
  const expected = operatorShapes(plan);
  for (const [name, shape] of expected) {
    const saved = shapeOf(name);
    if (!saved || saved.length !== 2 || saved.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`operator tensor "${name}" is ${saved ? `[${saved.join(', ')}]` : 'missing'}, expected [${shape.join(', ')}]`, {
        tensor: name,
      });
    }
  }
  return expected;
}

/**
 * Which weights of a grown model are new: what a trainer needs to treat inherited and new
 * parameters differently (a learning rate per group, fresh optimizer state for the new ones).
 *
 * Read off the starting operator's selections (start_selections.ts initialSelections), pure, no tensors:
 *   - a large unit (row of a width selection) is inherited when it is the first copy of its small
 *     unit, new otherwise: a later copy, a filled residual dim past the whole copies (a mean or a
 *     zero row, exact_start.ts), a zero row (the 'first' split's later copies on the consuming side);
 *   - an attention unit (head h, dim d) is new when its head or its head_dim dim is;
 *   - a large layer is new when it is not the first large layer that takes its small layer (a
 *     repeat, whether it starts as an identity or as a copy): all its tensors are new.
 * An element of a tensor is new when any of its indices is a new unit of its axis. A learned
 * operator mixes units, but which units it added is still the start's.
 */
import type { LayerGroup } from '../arch/types.js';
import type { DepthInit, SplitMode } from './init.js';
import { assemblyParameters, mainParameter, widthOperator } from './layout.js';
import type { GrowthPlan, PlannedSegment, PlannedTensor, WidthOperatorSpec } from './plan_types.js';
import { initialSelections } from './start_selections.js';
import { storedPositions } from './interleave.js';
import type { Selection } from './selection.js';

export type NewStatus = 'inherited' | 'new' | 'partly new';

/** Half-open [start, end) runs of indices. */
export type IndexRanges = [number, number][];

export interface TensorNewParts {
  status: NewStatus;
  shape: number[];
  /** Per axis, the new indices (partly new tensors only): an element is new when any of its indices is. */
  new?: IndexRanges[];
}

export interface NewParameters {
  /** Large layers whose every tensor is new (repeats of a small layer). */
  newLayers: number[];
  parameters: { total: number; new: number };
  /** Per written tensor, by name. */
  tensors: Record<string, TensorNewParts>;
}

/** Per row of a selection: 1 where the unit is new (not the first nonzero copy of a small unit). */
export function newUnits(sel: Selection): Uint8Array {
  const seen = new Set<number>();
  return Uint8Array.from(sel.index, (j, r) => {
    if (sel.scale[r] === 0 || j === sel.cols || seen.has(j)) return 1;
    seen.add(j);
    return 0;
  });
}

/** Index lists as [start, end) runs. */
export function toRanges(flags: ArrayLike<number>): IndexRanges {
  const ranges: IndexRanges = [];
  for (let i = 0; i < flags.length; i++) {
    if (!flags[i]) continue;
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last[1] === i) last[1] = i + 1;
    else ranges.push([i, i + 1]);
  }
  return ranges;
}

const rangeCount = (ranges: IndexRanges): number => ranges.reduce((n, [a, b]) => n + b - a, 0);

/** A starting selection by operator parameter name. */
type Lookup = (name: string) => Selection;

/** New units on either side of an operator parameter (the two agree for every start; either one is enough to count). */
function newOnEitherSide(get: Lookup, name: (side: 'out' | 'in') => string): Uint8Array {
  const out = newUnits(get(name('out')));
  const inn = newUnits(get(name('in')));
  return out.map((x, i) => x | inn[i]);
}

/** New dims of one head (head_dim factors; the identity when head_dim is kept; rotate_half's pairs share a factor). */
function headDimNew(op: WidthOperatorSpec, get: Lookup): Uint8Array {
  const heads = op.heads;
  if (!heads) return new Uint8Array(0);
  const factorNames = (side: 'out' | 'in'): string[] => assemblyParameters(op.assembly[side], 'headDim');
  const factors = factorNames('out').map((_, i) => newOnEitherSide(get, (side) => factorNames(side)[i]));
  if (factors.length === 0) return new Uint8Array(heads.headDimLarge);
  if (!heads.rotary) return factors[0];
  const [rotated, pass = new Uint8Array(0)] = factors;
  return Uint8Array.from([...rotated, ...rotated, ...pass]);
}

/** New units along one segment of an axis: none without an operator. */
function segmentNew(seg: PlannedSegment, plan: GrowthPlan, get: Lookup): Uint8Array {
  if (seg.operator === null) return new Uint8Array(seg.large);
  const op = widthOperator(plan, seg.operator);
  const main = (side: 'out' | 'in'): string => mainParameter(op.assembly[side]);
  if (!op.heads) return newOnEitherSide(get, main);
  const dims = headDimNew(op, get);
  if (seg.part === 'headDim') return dims;
  const heads = newOnEitherSide(get, main);
  const units = new Uint8Array(heads.length * dims.length); // [heads, head_dim]
  heads.forEach((h, i) => dims.forEach((d, j) => (units[i * dims.length + j] = h | d)));
  return units;
}

/** New units of a tensor axis, in stored order (an interleaved axis stores its parts per head). */
function axisNew(t: PlannedTensor, axis: number, plan: GrowthPlan, get: Lookup): Uint8Array {
  const segments = t.axes[axis];
  const logical = Uint8Array.from(segments.flatMap((s) => [...segmentNew(s, plan, get)]));
  if (t.interleave?.axis !== axis) return logical;
  const positions = storedPositions(segments.map((s) => s.large), t.interleave.large);
  const stored = new Uint8Array(logical.length);
  logical.forEach((x, i) => (stored[positions[i]] = x));
  return stored;
}

/** Per depth group, which large layers are new. */
function newLayersByGroup(plan: GrowthPlan, get: Lookup): Map<LayerGroup, Uint8Array> {
  return new Map(plan.depth.map((d) => [d.group, newUnits(get(d.parameter))]));
}

const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** One tensor's status: new with its layer, else from its axes' new units. */
function tensorParts(t: PlannedTensor, plan: GrowthPlan, get: Lookup, layerNew: boolean): { parts: TensorNewParts; newCount: number } {
  const total = elements(t.shape);
  if (layerNew) return { parts: { status: 'new', shape: t.shape }, newCount: total };
  const ranges = t.axes.map((_, a) => toRanges(axisNew(t, a, plan, get)));
  const kept = elements(t.shape.map((n, a) => n - rangeCount(ranges[a])));
  const newCount = total - kept;
  if (newCount === 0) return { parts: { status: 'inherited', shape: t.shape }, newCount };
  if (kept === 0) return { parts: { status: 'new', shape: t.shape }, newCount };
  return { parts: { status: 'partly new', shape: t.shape, new: ranges }, newCount };
}

/**
 * What is new in a grown model, from its plan and its starting operator's selections (by
 * parameter name); without selections (the `random` method: fresh tensors) everything is new.
 */
export function newParameters(plan: GrowthPlan, selections: ReadonlyMap<string, Selection> | undefined): NewParameters {
  const tensors: Record<string, TensorNewParts> = {};
  let total = 0;
  let fresh = 0;
  if (!selections) {
    for (const t of plan.tensors) {
      tensors[t.name] = { status: 'new', shape: t.shape };
      total += elements(t.shape);
    }
    return { newLayers: Array.from({ length: plan.target.numLayers }, (_, l) => l), parameters: { total, new: total }, tensors };
  }
  const get: Lookup = (name) => {
    const sel = selections.get(name);
    if (!sel) throw new Error(`starting operator has no selection "${name}"`);
    return sel;
  };
  const byGroup = newLayersByGroup(plan, get);
  for (const t of plan.tensors) {
    const layerNew = t.layer !== undefined && t.group !== undefined && (byGroup.get(t.group)?.[t.layer] ?? 0) === 1;
    const { parts, newCount } = tensorParts(t, plan, get, layerNew);
    tensors[t.name] = parts;
    total += elements(t.shape);
    fresh += newCount;
  }
  const groups = [...byGroup.values()];
  const newLayers = Array.from({ length: plan.target.numLayers }, (_, l) => l).filter((l) => groups.length > 0 && groups.every((g) => g[l] === 1));
  return { newLayers, parameters: { total, new: fresh }, tensors };
}

/** Counts per status, for a summary line. */
export function statusCounts(np: NewParameters): Record<NewStatus, number> {
  const counts: Record<NewStatus, number> = { inherited: 0, new: 0, 'partly new': 0 };
  for (const t of Object.values(np.tensors)) counts[t.status] += 1;
  return counts;
}

/** What is new in a model grown by a method's start (depth init and split as grow ran it; undefined depth: `random`). */
export function startNewParameters(plan: GrowthPlan, depth: DepthInit | undefined, split: SplitMode): NewParameters {
  return newParameters(plan, depth ? initialSelections(plan, depth, split) : undefined);
}

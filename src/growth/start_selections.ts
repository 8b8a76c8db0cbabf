/**
 * The starting operator in selection form, by parameter name: copy/split width matrices, the
 * exact start's where it differs from copying, and the depth matrices. Every method's start is
 * built here, whether it is then learned (initial_operator.ts), streamed or saved as is.
 */
import { copySelection, depthSelection, firstSplit, OUTPUT_GROUPS, splitSelection, type DepthInit, type SplitMode } from './init.js';
import { widthOperator } from './layout.js';
import type { GrowthPlan, OperatorParameter, WidthOperatorSpec } from './plan_types.js';
import type { Selection } from './selection.js';

/** The rows of `sel` (the whole copies' part), then `extra` more rows, each [index, scale] from `rest`. */
function copiesThen(sel: Selection, extra: number, rest: (i: number) => [index: number, scale: number]): Selection {
  const rows = sel.index.length + extra;
  const index = new Int32Array(rows);
  const scale = new Float32Array(rows);
  index.set(sel.index);
  scale.set(sel.scale);
  for (let i = 0; i < extra; i++) [index[sel.index.length + i], scale[sel.index.length + i]] = rest(i);
  return { index, scale, cols: sel.cols };
}

const scaled = (sel: Selection, by: number): Selection => ({ index: sel.index, scale: sel.scale.map((x) => x * by), cols: sel.cols });

/**
 * The exact start's selections of one width operator where they differ from the copy start:
 * the residual stream's (producing, norm gain and norm bias; out and in sides) under a filled
 * start, and the query/key heads' producing side where the heads are RMS-normalized with the
 * model's epsilon (Qwen3): q and k times sqrt(s), so their norm sees its epsilon's scale too.
 * A side left out starts as the copy start says.
 */
export function exactStartSelections(plan: GrowthPlan, op: WidthOperatorSpec, split: SplitMode): { out?: Selection; in?: Selection } {
  const residual = plan.start?.residual;
  if (!residual) return {};
  const gainScale = Math.fround(Math.sqrt(residual.statScale));
  if (op.role !== 'width') {
    if (!(plan.target.qkNorm && (op.role === 'q' || op.role === 'k')) || !op.heads) return {};
    return { out: scaled(copySelection(op.heads.large, op.heads.small), gainScale) };
  }
  const { small, large } = op;
  const whole = residual.copies * small;
  const filled = large - whole;
  const copies = copySelection(whole, small);
  const evenSplit = splitSelection(whole, small);
  const shares = split === 'first' ? firstSplit(evenSplit) : evenSplit;
  const zero = (): [number, number] => [0, 0];
  // A filled dim's consuming weights start as a copy of small unit i's: nonzero, and different per dim.
  const reader = (i: number): [number, number] => [i % small, 1];
  const consumed = copiesThen(shares, filled, reader);
  switch (op.use) {
    case 'normGain':
      return { out: scaled(copySelection(large, small), gainScale), in: scaled(consumed, gainScale) };
    case 'normBias':
      return { out: copiesThen(copies, filled, zero), in: copiesThen(shares, filled, zero) };
    default: {
      // `index === cols` is the mean of all units (selection.ts).
      const fill = residual.fill === 'mean' ? (): [number, number] => [small, 1] : zero;
      return { out: copiesThen(copies, filled, fill), in: consumed };
    }
  }
}

/**
 * The exact start's head_dim factor of a query or key operator's producing side at an integer
 * head_dim factor f (exact_start.ts HeadDimStart): old dim d (under RoPE, old pair i at new pair
 * i f, on the rotated factor) times sqrt(f) in queries and 1 in keys; the other new dims are zero
 * in keys and copies in queries (nothing reads them yet, and they give the keys' new dims a
 * gradient). Undefined where the copy start applies.
 */
function headDimSelection(plan: GrowthPlan, p: OperatorParameter): Selection | undefined {
  const f = plan.start?.headDim?.factor;
  const op = widthOperator(plan, p.operator);
  if (f === undefined || p.side !== 'out' || (op.role !== 'q' && op.role !== 'k')) return undefined;
  const [rows, cols] = p.shape;
  const query = op.role === 'q';
  const scaleOld = query ? Math.fround(Math.sqrt(f)) : 1;
  const rotated = p.role === 'headDim' && op.heads?.rotary === true;
  const at = (i: number): number => (rotated ? i * f : i);
  // Each old dim's first row is where it moves to (what new_parameters.ts reads as inherited); the rest copy it.
  const index = Int32Array.from({ length: rows }, (_, j) => (rotated ? Math.floor(j / f) : j % cols));
  const scale = new Float32Array(rows).fill(query ? scaleOld : 0);
  for (let i = 0; i < cols; i++) {
    index[at(i)] = i;
    scale[at(i)] = scaleOld;
  }
  return { index, scale, cols };
}

/**
 * The initial operator by parameter name, in selection form: copy/split width matrices (the
 * main factors' consuming side shared as `split` says; a head_dim factor's copies sit inside one
 * head and always split evenly) and the depth matrices. A low-rank operator's correction factors
 * have no selection: they start in initial_operator.ts.
 */
export function initialSelections(plan: GrowthPlan, depth: DepthInit, split: SplitMode = 'even'): Map<string, Selection> {
  const values = new Map<string, Selection>();
  const exact = new Map(plan.width.map((op) => [op.id, exactStartSelections(plan, op, split)])); // where the exact start differs from copying
  for (const p of plan.operatorParameters) {
    const [rows, cols] = p.shape;
    const shared = (): Selection => (split === 'first' ? firstSplit(splitSelection(rows, cols)) : splitSelection(rows, cols));
    if (p.role === 'selection' || p.role === 'matrix') {
      const fromExact = p.side === undefined ? undefined : exact.get(p.operator)?.[p.side];
      values.set(p.name, fromExact ?? (p.side === 'in' ? shared() : copySelection(rows, cols)));
    } else if (p.role === 'headDim' || p.role === 'headDimPass') {
      const fromExact = headDimSelection(plan, p);
      values.set(p.name, fromExact ?? (p.side === 'in' ? splitSelection(rows, cols) : copySelection(rows, cols)));
    }
  }
  for (const d of plan.depth) {
    const zeroRepeats = depth.preserve && OUTPUT_GROUPS.includes(d.group);
    values.set(d.parameter, depthSelection(depth.pattern, d.large, d.small, zeroRepeats));
  }
  return values;
}

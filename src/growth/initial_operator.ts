/**
 * The starting values of a learnable operator: its start in selection form (start_selections.ts)
 * made dense where it trains, with the symmetry-breaking knobs a learning run may ask for, and a
 * low-rank operator's correction started at zero (U) and random (V).
 */
import type { AxisSide } from '../arch/types.js';
import { denseMatrix, jitterSplit, type DepthInit, type SplitMode } from './init.js';
import { lowRankVStd } from './low_rank.js';
import { operatorId } from './plan.js';
import type { GrowthPlan, OperatorParameter } from './plan_types.js';
import type { Selection } from './selection.js';
import { initialSelections } from './start_selections.js';
import { noisyDepthMatrix, paperWidthMatrices } from './paper_start.js';

export interface OperatorInit {
  depth: DepthInit;
  /** Standard deviation of Gaussian noise added to every operator entry (breaks symmetry for learning). */
  noise: number;
  /** Uniform numbers in [0, 1) for the noise; a seeded generator makes output reproducible. */
  random: () => number;
  /** Relative zero-sum jitter of each copy's share on the consuming (split) side; see jitterSplit. */
  splitNoise?: number;
  /** How copies share the consuming weights (init.ts SplitMode); default even. */
  split?: SplitMode;
  /**
   * Each later copy of a unit starts as the unit plus copyNoise times a random mixture of all the
   * small model's units (of about one unit's norm), so new units start as new features instead of
   * duplicates; function-preserving with split 'first' only (see mixNewCopies).
   */
  copyNoise?: number;
}

/** One operator parameter's values, row-major, with its [rows, cols]. */
export type OperatorMatrix = { data: Float32Array; shape: number[] };

export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * The residual stream's width operator (the global `width` axis role). Its copies are left exact
 * by copyNoise: every norm over the residual stream averages over all of them, so a changed copy
 * would change the function.
 */
const RESIDUAL_OPERATOR = operatorId('width', undefined);

/**
 * Adds to every later copy's row of a producing-side (copy) matrix Gaussian entries of std
 * sigma / sqrt(small units): the copy then produces its unit's feature plus sigma times a random
 * mixture of all the small model's features. Under the first-copy split nothing reads a later
 * copy yet, so the function is unchanged; the new units start different, not as duplicates that
 * must drift apart. In place on the dense [rows, cols] matrix.
 */
function mixNewCopies(data: Float32Array, sel: Selection, sigma: number, gaussian: () => number): void {
  const std = sigma / Math.sqrt(sel.cols);
  const seen = new Set<number>();
  sel.index.forEach((j, r) => {
    if (!seen.has(j)) {
      seen.add(j);
      return;
    }
    for (let c = 0; c < sel.cols; c++) data[r * sel.cols + c] += std * gaussian();
  });
}

/** The main factors of a width operator (not head_dim factors, whose copies sit inside one head) on one side. */
const isMainOn = (p: OperatorParameter, side: AxisSide): boolean => (p.role === 'matrix' || p.role === 'selection') && p.side === side;

export type InitialValues = { values: Map<string, OperatorMatrix>; starts: Map<string, Selection> };

/**
 * Every parameter's starting values, in the plan's order: trained ones dense in `values` (with the
 * noise knobs), a low-rank operator's fixed selections in `starts`, its U zero (the operator
 * starts at its selection) and its V random, so U receives gradients from the first step. The
 * paper's start (paper_start.ts) draws its width matrices first, then any noisy depth rows.
 */
export function initialValues(plan: GrowthPlan, init: OperatorInit): InitialValues {
  const values = new Map<string, OperatorMatrix>();
  const starts = new Map<string, Selection>();
  const selections = initialSelections(plan, init.depth, init.split);
  const paper = plan.start?.rule === 'ligo-paper' ? paperWidthMatrices(plan.operatorParameters, init.random) : undefined;
  const depthNoise = init.depth.noise ?? 0;
  const splitNoise = init.splitNoise ?? 0;
  const copyNoise = init.copyNoise ?? 0;
  for (const p of plan.operatorParameters) {
    const [rows, cols] = p.shape;
    if (p.role === 'correctionU') {
      values.set(p.name, { data: new Float32Array(rows * cols), shape: [rows, cols] });
      continue;
    }
    if (p.role === 'correctionV') {
      const v = new Float32Array(rows * cols);
      for (let i = 0; i < v.length; i++) v[i] = lowRankVStd(cols) * gaussian(init.random);
      values.set(p.name, { data: v, shape: [rows, cols] });
      continue;
    }
    const drawn = paper?.get(p.name);
    if (drawn) {
      values.set(p.name, { data: drawn, shape: [rows, cols] });
      continue;
    }
    if (paper && p.role === 'selection') throw new Error(`the paper's start draws dense width matrices: "${p.name}" must be a dense matrix`);
    const initial = selections.get(p.name);
    if (!initial) throw new Error(`no starting selection for operator parameter "${p.name}"`);
    if (p.role === 'depth' && depthNoise > 0) {
      values.set(p.name, { data: noisyDepthMatrix(initial, depthNoise, init.random), shape: [rows, cols] });
      continue;
    }
    const sel = splitNoise > 0 && isMainOn(p, 'in') ? jitterSplit(initial, splitNoise, () => gaussian(init.random)) : initial;
    if (p.role === 'selection') {
      if (copyNoise > 0) throw new Error('copy noise changes the starting matrices, which a low-rank operator keeps as selections: use the dense operator');
      starts.set(p.name, sel);
      continue;
    }
    const data = denseMatrix(sel);
    if (copyNoise > 0 && isMainOn(p, 'out') && p.operator !== RESIDUAL_OPERATOR) mixNewCopies(data, sel, copyNoise, () => gaussian(init.random));
    values.set(p.name, { data, shape: [rows, cols] });
  }
  return { values, starts };
}

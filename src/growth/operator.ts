import * as tf from '@tensorflow/tfjs-core';
import { mapGetter } from '../util/map_getter.js';
import type { LayerGroup } from '../arch/types.js';
import { copySelection, denseMatrix, depthSelection, firstSplit, jitterSplit, OUTPUT_GROUPS, splitSelection, type DepthInit, type SplitMode } from './init.js';
import { asSelection, type Selection } from './stream/selection.js';
import { exactStartSelections } from './exact_start.js';
import type { HeadFactors } from './heads_apply.js';
import { kron } from './kron.js';
import { lowRankU, lowRankV, lowRankVStd, selectionTensors, type LowRankFactor, type SelectionTensors } from './low_rank.js';
import type { MethodRecipe } from './methods.js';
import { headDimFactors, lowRankOf, operatorId, type GrowthPlan, type HeadDimFactor, type PlannedTensor, type WidthOperatorSpec } from './plan.js';
import type { AxisSide } from '../arch/types.js';
import { CheckpointError } from '../errors.js';

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

/** Parameter names: `<op>.<side>` for the main factor, `<op>.<side>.<suffix>` for the head_dim factors (plan.ts headDimFactors). */
export const mainName = (id: string, side: AxisSide): string => `${id}.${side}`;
export const factorName = (id: string, side: AxisSide, factor: HeadDimFactor): string => `${id}.${side}.${factor.suffix}`;
export const depthName = (group: LayerGroup): string => `depth.${group}`;
/** Depth coefficients (a few per layer) as opposed to width matrices (one entry per unit pair). */
export const isDepthParameter = (name: string): boolean => name.startsWith('depth.');

/** [[a, 0], [0, b]]: the rotated dims of a head first, the passed-through ones after. */
function blockDiagonal(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const top = tf.pad(a, [[0, 0], [0, b.shape[1]]]);
  const bottom = tf.pad(b, [[0, 0], [a.shape[1], 0]]);
  return tf.concat([top, bottom], 0);
}

function mainShape(op: WidthOperatorSpec): [number, number] {
  return op.heads ? [op.heads.large, op.heads.small] : [op.large, op.small];
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One operator parameter's values, row-major, with its [rows, cols]. */
export type OperatorMatrix = { data: Float32Array; shape: number[] };

let instances = 0;

/**
 * Every operator matrix's name and [rows, cols], from the plan alone (no values built): what an
 * operator file holds. A low-rank operator's start `<op>.<side>` is among them, saved as a
 * selection; it does not train (trainableShapes leaves it out).
 */
export function operatorShapes(plan: GrowthPlan): Map<string, [number, number]> {
  const shapes = new Map<string, [number, number]>();
  for (const op of plan.width) {
    const main = mainShape(op);
    for (const side of ['out', 'in'] as const) {
      shapes.set(mainName(op.id, side), main);
      const rank = lowRankOf(plan.operator, op);
      if (rank === 0) continue;
      shapes.set(lowRankU(mainName(op.id, side)), [op.large, rank]);
      shapes.set(lowRankV(mainName(op.id, side)), [op.small, rank]);
    }
    for (const f of headDimFactors(op)) {
      shapes.set(factorName(op.id, 'out', f), f.shape);
      shapes.set(factorName(op.id, 'in', f), f.shape);
    }
  }
  for (const d of plan.depth) shapes.set(depthName(d.group), [d.large, d.small]);
  return shapes;
}

/** The low-rank correction's rank when `<op>.<side>` is a low-rank operator's fixed start, else 0. */
function lowRankStartRank(plan: GrowthPlan, name: string): number {
  const op = plan.width.find((w) => name === mainName(w.id, 'out') || name === mainName(w.id, 'in'));
  return op === undefined ? 0 : lowRankOf(plan.operator, op);
}
const isLowRankStart = (plan: GrowthPlan, name: string): boolean => lowRankStartRank(plan, name) > 0;

/** The operator parameters that train (and take optimizer state), with their shapes. */
export function trainableShapes(plan: GrowthPlan): Map<string, [number, number]> {
  return new Map([...operatorShapes(plan)].filter(([name]) => !isLowRankStart(plan, name)));
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

/**
 * The initial operator by parameter name, in selection form: copy/split width matrices (the main
 * factors' consuming side shared as `split` says; a head_dim factor's copies sit inside one head
 * and always split evenly) and the depth matrices.
 */
export function initialSelections(plan: GrowthPlan, depth: DepthInit, split: SplitMode = 'even'): Map<string, Selection> {
  const values = new Map<string, Selection>();
  for (const op of plan.width) {
    const [rows, cols] = mainShape(op);
    const exact = exactStartSelections(plan, op, split); // where the exact start differs from copying (exact_start.ts)
    values.set(mainName(op.id, 'out'), exact.out ?? copySelection(rows, cols));
    values.set(mainName(op.id, 'in'), exact.in ?? (split === 'first' ? firstSplit(splitSelection(rows, cols)) : splitSelection(rows, cols)));
    for (const f of headDimFactors(op)) {
      values.set(factorName(op.id, 'out', f), copySelection(f.shape[0], f.shape[1]));
      values.set(factorName(op.id, 'in', f), splitSelection(f.shape[0], f.shape[1]));
    }
  }
  for (const d of plan.depth) {
    const zeroRepeats = depth.preserve && OUTPUT_GROUPS.includes(d.group);
    values.set(depthName(d.group), depthSelection(depth.pattern, d.large, d.small, zeroRepeats));
  }
  return values;
}

type InitialValues = { values: Map<string, { data: Float32Array; shape: [number, number] }>; starts: Map<string, Selection> };

/** A low-rank correction's starting factors: U zero (the operator starts at its selection), V random. */
function lowRankStart(name: string, shape: [number, number], rank: number, init: OperatorInit, values: InitialValues['values']): void {
  values.set(lowRankU(name), { data: new Float32Array(shape[0] * rank), shape: [shape[0], rank] });
  const v = new Float32Array(shape[1] * rank);
  for (let i = 0; i < v.length; i++) v[i] = lowRankVStd(rank) * gaussian(init.random);
  values.set(lowRankV(name), { data: v, shape: [shape[1], rank] });
}

function initialValues(plan: GrowthPlan, init: OperatorInit): InitialValues {
  const values = new Map<string, { data: Float32Array; shape: [number, number] }>();
  const starts = new Map<string, Selection>();
  const splitNoise = init.splitNoise ?? 0;
  for (const [name, initial] of initialSelections(plan, init.depth, init.split)) {
    // Main `in` factors only: the head_dim factor's copies sit inside one head.
    const sel = splitNoise > 0 && name.endsWith('.in') ? jitterSplit(initial, splitNoise, () => gaussian(init.random)) : initial;
    if (isLowRankStart(plan, name)) {
      if ((init.copyNoise ?? 0) > 0) throw new Error('copy noise changes the starting matrices, which a low-rank operator keeps as selections: use the dense operator');
      starts.set(name, sel);
      lowRankStart(name, [sel.index.length, sel.cols], lowRankStartRank(plan, name), init, values);
      continue;
    }
    const data = denseMatrix(sel);
    if ((init.copyNoise ?? 0) > 0 && name.endsWith('.out') && name !== mainName(RESIDUAL_OPERATOR, 'out')) {
      mixNewCopies(data, sel, init.copyNoise ?? 0, () => gaussian(init.random));
    }
    values.set(name, { data, shape: [sel.index.length, sel.cols] });
  }
  return { values, starts };
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

/** How a method's starting operator is set up (the grow options of the same names). */
export interface StartOptions {
  noise: number;
  splitNoise: number;
  split: SplitMode;
  copyNoise: number;
}

/**
 * A method's starting operator (undefined for `random`, which has none). The split applies to
 * every operator method; noise, split noise and copy noise only to a method that learns, since
 * they are there for learning to start from. The one place grow and bench:downstream build it.
 */
export function startingOperator(plan: GrowthPlan, recipe: MethodRecipe, start: StartOptions, random: () => number): GrowthOperator | undefined {
  if (!recipe.depth) return undefined;
  const learns = recipe.learns;
  return GrowthOperator.initialize(plan, {
    depth: recipe.depth,
    noise: learns ? start.noise : 0,
    splitNoise: learns ? start.splitNoise : 0,
    split: start.split,
    copyNoise: learns ? start.copyNoise : 0,
    random,
  });
}

/**
 * What materialization reads of an operator: the full width matrices (or, with part 'headDim', an
 * attention operator's head_dim factor alone) and the depth matrices.
 */
export interface OperatorMatrices {
  widthMatrix(id: string, side: AxisSide, part?: 'headDim'): tf.Tensor2D;
  /** The operator's selection and correction when it is low-rank (then widthMatrix is never asked for it). */
  lowRank(id: string, side: AxisSide): LowRankFactor | undefined;
  /** An attention operator's factors (B = M kron H), applied without building B; undefined for other operators. */
  headFactors(id: string, side: AxisSide): HeadFactors | undefined;
  depthMatrix(group: LayerGroup): tf.Tensor2D;
}

/**
 * The matrices materialization reads, built from operator parameters looked up by name: a width
 * matrix is its main factor, Kronecker'd with the head_dim factor (or the identity) for attention.
 */
export function operatorMatrices(plan: GrowthPlan, param: (name: string) => tf.Tensor2D, start?: (name: string) => SelectionTensors): OperatorMatrices {
  return {
    headFactors(id, side) {
      const op = plan.width.find((w) => w.id === id);
      if (!op?.heads) return undefined;
      const headDim = headDimFactors(op).length > 0 ? this.widthMatrix(id, side, 'headDim') : undefined;
      return { heads: param(mainName(id, side)), ...(headDim ? { headDim } : {}) };
    },
    lowRank(id, side) {
      const op = plan.width.find((w) => w.id === id);
      if (!op || lowRankOf(plan.operator, op) === 0) return undefined;
      if (!start) throw new Error(`low-rank operator "${id}" needs its starting selection`);
      const name = mainName(id, side);
      return { start: start(name), u: param(lowRankU(name)), v: param(lowRankV(name)) };
    },
    widthMatrix(id, side, part) {
      const op = plan.width.find((w) => w.id === id);
      if (!op) throw new Error(`growth plan has no width operator "${id}"`);
      if (!op.heads) {
        if (part) throw new Error(`width operator "${id}" has no head_dim factor`);
        return param(mainName(id, side));
      }
      const [factor, pass] = headDimFactors(op).map((f) => param(factorName(id, side, f)));
      let headDimMatrix: tf.Tensor2D;
      if (!factor) headDimMatrix = tf.eye(op.heads.headDimSmall) as tf.Tensor2D;
      else if (!op.heads.rotary) headDimMatrix = factor;
      else {
        const rotated = kron(tf.eye(2) as tf.Tensor2D, factor); // keeps rotate_half's (i, i + rotated/2) pairs
        headDimMatrix = pass ? blockDiagonal(rotated, pass) : rotated;
      }
      return part ? headDimMatrix : kron(param(mainName(id, side)), headDimMatrix);
    },
    depthMatrix: (group) => param(depthName(group)),
  };
}

/** The operator parameters that building grown tensor `t` reads. */
export function parametersFor(plan: GrowthPlan, t: PlannedTensor): string[] {
  const names = new Set<string>();
  for (const segments of t.axes) {
    for (const s of segments) {
      if (s.operator === null) continue;
      const op = plan.width.find((w) => w.id === s.operator);
      const main = mainName(s.operator, s.side);
      if (!s.part && op && lowRankOf(plan.operator, op) > 0) [lowRankU(main), lowRankV(main)].forEach((n) => names.add(n));
      else if (!s.part) names.add(main);
      for (const f of op ? headDimFactors(op) : []) names.add(factorName(s.operator, s.side, f));
    }
  }
  if (t.layer !== undefined && t.group !== undefined) names.add(depthName(t.group));
  return [...names];
}

/**
 * The LiGO operator: width expansions per growth dimension and depth mixing per layer group,
 * held as tf.Variables so autodiff can train them.
 */
export class GrowthOperator implements OperatorMatrices {
  private readonly matrices: OperatorMatrices;

  private readonly startTensors: Map<string, SelectionTensors>;
  /** A low-rank operator's fixed start as tensors (materialization's gathers read it). */
  readonly start: (name: string) => SelectionTensors;
  private readonly param: (name: string) => tf.Variable;

  /** `params`: what trains; `starts`: a low-rank operator's fixed selections, by `<op>.<side>`. */
  private constructor(
    readonly plan: GrowthPlan,
    readonly params: Map<string, tf.Variable>,
    readonly starts: ReadonlyMap<string, Selection>,
  ) {
    this.startTensors = new Map([...starts].map(([name, sel]) => [name, selectionTensors(sel)]));
    this.start = mapGetter(this.startTensors, (name) => new Error(`growth operator has no starting selection "${name}"`));
    this.param = mapGetter(params, (name) => new Error(`growth operator has no parameter "${name}"`));
    this.matrices = operatorMatrices(plan, (name) => this.param(name) as tf.Tensor2D, this.start);
  }

  static initialize(plan: GrowthPlan, init: OperatorInit): GrowthOperator {
    const { values, starts } = initialValues(plan, init);
    for (const [name, { data }] of values) {
      // V is random already; noise on it would not move the function, only its scale.
      if (init.noise > 0 && !name.endsWith('.v')) for (let i = 0; i < data.length; i++) data[i] += init.noise * gaussian(init.random);
    }
    return GrowthOperator.fromValues(plan, values, starts);
  }

  /** Rebuilds an operator from saved tensors; every expected parameter must be present with its shape. */
  static fromTensors(plan: GrowthPlan, tensors: ReadonlyMap<string, { data: Float32Array; shape: number[] }>): GrowthOperator {
    const expected = checkOperatorShapes(plan, (name) => tensors.get(name)?.shape);
    const values = new Map<string, { data: Float32Array; shape: number[] }>();
    const starts = new Map<string, Selection>();
    for (const [name, [rows, cols]] of expected) {
      const saved = tensors.get(name) ?? { data: new Float32Array(), shape: [] };
      if (!isLowRankStart(plan, name)) values.set(name, saved);
      else {
        const sel = asSelection(saved.data, rows, cols);
        if (!sel) throw new CheckpointError(`operator tensor "${name}" is the start of a low-rank operator, so it must have one nonzero per row`, { tensor: name });
        starts.set(name, sel);
      }
    }
    return GrowthOperator.fromValues(plan, values, starts);
  }

  private static fromValues(plan: GrowthPlan, values: ReadonlyMap<string, { data: Float32Array; shape: number[] }>, starts: ReadonlyMap<string, Selection>): GrowthOperator {
    // tfjs variable names are global; a per-instance prefix lets several operators coexist.
    const prefix = `ligo${++instances}`;
    const params = new Map<string, tf.Variable>();
    // tidy frees the tensors the variables are made from; variables survive it.
    tf.tidy(() => {
      for (const [name, { data, shape }] of values) {
        params.set(name, tf.variable(tf.tensor2d(data, shape as [number, number]), true, `${prefix}/${name}`));
      }
    });
    return new GrowthOperator(plan, params, starts);
  }


  get variables(): tf.Variable[] {
    return [...this.params.values()];
  }



  /** The full (D_large x D_small) matrix of a width operator on one side (or its head_dim factor). */
  widthMatrix(id: string, side: AxisSide, part?: 'headDim'): tf.Tensor2D {
    return this.matrices.widthMatrix(id, side, part);
  }

  lowRank(id: string, side: AxisSide): LowRankFactor | undefined {
    return this.matrices.lowRank(id, side);
  }

  headFactors(id: string, side: AxisSide): HeadFactors | undefined {
    return this.matrices.headFactors(id, side);
  }

  depthMatrix(group: LayerGroup): tf.Tensor2D {
    return this.matrices.depthMatrix(group);
  }

  /** Parameters as plain arrays, for writing ligo_operator.safetensors. */
  async toArrays(): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
    const out: { name: string; shape: number[]; data: Float32Array }[] = [];
    for (const [name, v] of this.params) out.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const t of this.startTensors.values()) tf.dispose([t.index, t.scale]);
  }
}

/**
 * The LiGO operator held as tf.Variables so autodiff can train it: its parameters (the plan's
 * layout) started by initial_operator.ts or read from a saved file, and the matrices
 * materialization reads, assembled by operator_matrices.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mapGetter } from '../util/map_getter.js';
import type { AxisSide, LayerGroup } from '../arch/types.js';
import { CheckpointError } from '../errors.js';
import type { HeadFactors } from './heads_apply.js';
import { gaussian, initialValues, type OperatorInit } from './initial_operator.js';
import { checkOperatorShapes, operatorParameter } from './layout.js';
import { selectionTensors, type LowRankFactor, type SelectionTensors } from './low_rank.js';
import type { MethodRecipe } from './methods.js';
import { operatorMatrices, type OperatorMatrices } from './operator_matrices.js';
import type { GrowthPlan } from './plan_types.js';
import { asSelection, type Selection } from './selection.js';
import type { SplitMode } from './init.js';

export type { OperatorInit, OperatorMatrix } from './initial_operator.js';
export type { OperatorMatrices } from './operator_matrices.js';

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
 * The LiGO operator: width expansions per growth dimension and depth mixing per layer group,
 * held as tf.Variables so autodiff can train them.
 */
/** tfjs variable names are global; a per-instance prefix lets several operators coexist. */
let instances = 0;

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
      if (init.noise > 0 && operatorParameter(plan, name)?.role !== 'correctionV') for (let i = 0; i < data.length; i++) data[i] += init.noise * gaussian(init.random);
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
      if (operatorParameter(plan, name)?.role !== 'selection') values.set(name, saved);
      else {
        const sel = asSelection(saved.data, rows, cols);
        if (!sel) throw new CheckpointError(`operator tensor "${name}" is the start of a low-rank operator, so it must have one nonzero per row`, { tensor: name });
        starts.set(name, sel);
      }
    }
    return GrowthOperator.fromValues(plan, values, starts);
  }

  private static fromValues(plan: GrowthPlan, values: ReadonlyMap<string, { data: Float32Array; shape: number[] }>, starts: ReadonlyMap<string, Selection>): GrowthOperator {
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

import * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from '../arch/load.js';
import { createRng } from '../data/index.js';
import { materializeEach } from '../growth/materialize.js';
import type { MethodRecipe } from '../growth/methods.js';
import { startingOperator, type GrowthOperator, type StartOptions } from '../growth/operator.js';
import type { GrowthPlan } from '../growth/plan.js';
import { freshTensor, tensorSeed } from '../growth/random_init.js';
import { roundToDtype } from '../output/write.js';

/** The grown model's weights: the operator applied to the small model, or fresh tensors for `random`. */
export class GrownWeights {
  readonly operator: GrowthOperator | undefined;
  private current: Map<string, tf.Tensor> | undefined;

  constructor(
    private readonly plan: GrowthPlan,
    recipe: MethodRecipe,
    private readonly small: LoadedModel,
    private readonly seed: number,
    start: StartOptions,
  ) {
    this.operator = startingOperator(plan, recipe, start, createRng(seed));
  }

  /** Builds (again) every grown tensor from the small model and the operator as it is now. */
  materialize(): Map<string, tf.Tensor> {
    this.release();
    this.current = this.operator
      ? materializeEach(this.plan.tensors, this.small.weight, this.operator)
      : new Map(this.plan.tensors.map((t, i) => [t.name, freshTensor(t.init, t.shape, tensorSeed(this.seed, i))]));
    return this.current;
  }

  /** The grown tensors as last materialized (this object owns them). */
  tensors(): Map<string, tf.Tensor> {
    if (!this.current) throw new Error('grown weights were not materialized');
    return this.current;
  }

  /** Rounds the grown tensors to what the output dtype can hold, so what is measured is what is written. */
  async round(dtype: Parameters<typeof roundToDtype>[1]): Promise<Map<string, tf.Tensor>> {
    if (!this.current) throw new Error('grown weights were not materialized');
    this.current = await roundToDtype(this.current, dtype);
    return this.current;
  }

  /** Frees the grown tensors (the learning phase materializes its own). */
  release(): void {
    if (this.current) tf.dispose([...this.current.values()]);
    this.current = undefined;
  }

  dispose(): void {
    this.release();
    this.operator?.dispose();
  }
}

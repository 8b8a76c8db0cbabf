import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/load.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type GrowthMethod, type GrowthPlan, type OperatorForm, type StartRule } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { methodRecipe } from '../../src/growth/methods.js';
import type { SplitMode } from '../../src/growth/init.js';
import { forward } from '../../src/models/index.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

/** float32 through a few more matmuls than the source: a little more rounding, nothing more. */
export const TOLERANCE = 2e-4;

/** A golden case (or a model directory by absolute path) loaded, and its growth planned. */
export async function goldenPlan(name: string, target: TargetOptions, options: { method: GrowthMethod; start?: StartRule; form?: OperatorForm }): Promise<{ model: LoadedModel; plan: GrowthPlan }> {
  const model = await loadModel(path.isAbsolute(name) ? name : path.join(GOLDEN_DIR, name));
  const plan = planGrowth({
    description: model.description,
    source: model.dims,
    target: resolveTarget(model.dims, target, model.description),
    method: options.method,
    optionalPresent: model.match.optionalPresent,
    start: options.start,
    operator: options.form,
  });
  return { model, plan };
}

/**
 * Logits of a golden case (or a model directory by absolute path) and of its grown model (net2net
 * unless `method` says, at its start: no learning) on the same ids (plainCopies: without the
 * family's stored transforms; splitNoise: the consuming side's copies get unequal shares, see
 * jitterSplit; split: how copies share, see SplitMode; start: exact_start.ts's rule).
 */
export async function logitsBeforeAndAfter(
  name: string,
  target: TargetOptions,
  {
    plainCopies = false,
    splitNoise = 0,
    split = 'even' as SplitMode,
    copyNoise = 0,
    method = 'net2net' as GrowthMethod,
    start = undefined as StartRule | undefined,
    form = undefined as OperatorForm | undefined,
  } = {},
): Promise<{ small: Float32Array; grown: Float32Array; shape: number[]; plan: GrowthPlan }> {
  const { model, plan } = await goldenPlan(name, target, { method, start, form });
  // The plan's target: the exact start scales the norms' epsilon (exact_start.ts).
  const dims = plan.target;
  // A control: stored values grown as they are, as if the forward pass used them unchanged.
  if (plainCopies) for (const t of plan.tensors) delete t.transform;
  const recipe = methodRecipe(method, model.description, 'stack');
  const operator = GrowthOperator.initialize(plan, { depth: recipe.depth ?? { pattern: 'stack', preserve: true }, noise: 0, random: Math.random, splitNoise, split, copyNoise });
  const ids = tf.tensor2d([[1, 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100, 33, 10, 200, 255]], [1, 16], 'int32');
  try {
    const grown = materializeAll(plan.tensors, weightsFrom(model.weights), operator);
    for (const t of plan.tensors) expect(grown.get(t.name)?.shape).toEqual(t.shape);
    const small = tf.tidy(() => forward(model.dims, weightsFrom(model.weights), { ids }));
    const large = tf.tidy(() => forward(dims, weightsFrom(grown), { ids }));
    const result = { small: (await small.data()) as Float32Array, grown: (await large.data()) as Float32Array, shape: large.shape, plan };
    tf.dispose([small, large, ...grown.values()]);
    return result;
  } finally {
    ids.dispose();
    operator.dispose();
    model.dispose();
  }
}

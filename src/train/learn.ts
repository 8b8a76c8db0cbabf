import * as tf from '@tensorflow/tfjs-core';
import type { GrowthOperator } from '../growth/operator.js';
import { materializeAll, type SmallWeights } from '../growth/materialize.js';
import type { GrowthPlan } from '../growth/plan.js';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { distillationLoss, logits, objectiveFor } from './objective.js';
import { learningRate } from './schedule.js';

export interface LearnOptions {
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Max global gradient norm; 0 disables clipping. */
  clip: number;
  gradAccum: number;
  /** Weight of the KL term to the small model's next-token distribution; 0 disables it. */
  distill: number;
  seed: number;
}

export interface StepEvent {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
}

export interface LearnResult {
  losses: number[];
  seconds: number;
  tokensPerSecond: number;
}

/**
 * Trains only the operator: each step materializes the large model from the frozen small one,
 * runs it on a batch and backpropagates into the width and depth matrices.
 */
export async function learnOperator(args: {
  plan: GrowthPlan;
  operator: GrowthOperator;
  small: SmallWeights;
  nextBatch: () => tf.Tensor2D;
  maskTokenId: number;
  options: LearnOptions;
  onStep?: (event: StepEvent) => void;
}): Promise<LearnResult> {
  const { plan, operator, small, nextBatch, options } = args;
  const objective = objectiveFor(plan.target, args.maskTokenId);
  const optimizer = new AdamW(operator.variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: options.weightDecay });
  const losses: number[] = [];
  const start = performance.now();
  let tokens = 0;
  try {
    for (let step = 0; step < options.steps; step++) {
      const lr = learningRate(step, options);
      let accumulated: Record<string, tf.Tensor> = {};
      let stepLoss = 0;
      for (let micro = 0; micro < options.gradAccum; micro++) {
        const ids = nextBatch();
        tokens += ids.size;
        const batch = objective.prepare(ids, options.seed * 1_000_003 + step * 97 + micro);
        const teacher =
          options.distill > 0 ? tf.tidy(() => logits(plan.source, small, batch.inputIds)) : undefined;
        const { value, grads } = tf.variableGrads(() => {
          const large = materializeAll(plan.tensors, small, operator);
          const weight = (name: string): tf.Tensor => {
            const t = large.get(name);
            if (!t) throw new Error(`grown model has no tensor "${name}"`);
            return t;
          };
          const out = logits(plan.target, weight, batch.inputIds);
          let loss = batch.loss(out);
          if (teacher) loss = tf.add(loss, tf.mul(distillationLoss(out, teacher), options.distill));
          return tf.div(loss, options.gradAccum) as tf.Scalar;
        }, operator.variables);
        stepLoss += (await value.data())[0];
        const previous = accumulated;
        accumulated = tf.tidy(() => {
          const sum: Record<string, tf.Tensor> = {};
          for (const name of Object.keys(grads)) sum[name] = previous[name] ? tf.add(previous[name], grads[name]) : tf.clone(grads[name]);
          return sum;
        });
        tf.dispose([value, ...Object.values(grads), ...Object.values(previous)]);
        teacher?.dispose();
        batch.dispose();
        ids.dispose();
      }
      const gradNorm = tf.tidy(() => {
        const { grads, norm } = clipByGlobalNorm(accumulated, options.clip);
        optimizer.step(grads, lr);
        return norm;
      });
      const normValue = (await gradNorm.data())[0];
      tf.dispose([gradNorm, ...Object.values(accumulated)]);
      if (!Number.isFinite(stepLoss)) throw new Error(`loss became ${stepLoss} at step ${step + 1}; try a smaller --lr`);
      losses.push(stepLoss);
      const elapsedMs = performance.now() - start;
      args.onStep?.({
        step: step + 1,
        steps: options.steps,
        loss: stepLoss,
        lr,
        gradNorm: normValue,
        tokensPerSecond: tokens / (elapsedMs / 1000),
        elapsedMs,
        etaMs: (elapsedMs / (step + 1)) * (options.steps - step - 1),
      });
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return { losses, seconds, tokensPerSecond: seconds > 0 ? tokens / seconds : 0 };
}

import * as tf from '@tensorflow/tfjs-core';
import { mapGetter } from '../util/map_getter.js';
import type { ModelDims } from '../arch/dims.js';
import type { Weights } from '../models/index.js';
import { AdamW, globalNormClip } from './adamw.js';
import type { NewParameters } from '../growth/index.js';
import { GroupedRates, type GroupRates } from './lr_groups.js';
import { logits, objectiveFor } from './objective.js';
import { learningRate } from './schedule.js';

/**
 * Full-model training: every weight of a model is a variable, AdamW, linear warmup then cosine
 * decay (schedule.ts), global-norm clipping. `ligo compare` and bench:downstream train grown
 * models and a scratch model with it, all with the same options and the same batches.
 */
export interface TrainOptions {
  steps: number;
  /** Peak learning rate. */
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Max global gradient norm; 0 disables clipping. */
  clip: number;
  /** Adam's second-moment decay (0.95 as in nanoGPT / GPT-3 pretraining). */
  beta2?: number;
  /** Masking seed for BERT's objective; causal LMs ignore it. */
  seed?: number;
}

export interface CurvePoint {
  /** Optimizer steps taken before the measurement (0: the model as handed in). */
  step: number;
  loss: number;
}

export interface TrainResult {
  /** Held-out loss at step 0, every evalEvery steps, and after the last step. */
  curve: CurvePoint[];
  /** Training loss of every step. */
  losses: number[];
  seconds: number;
}

/** The steps at which train measures held-out loss: 0, every `every` steps, and the last. */
export function evalSteps(steps: number, every: number): number[] {
  const out = [0];
  for (let s = every; s < steps; s += every) out.push(s);
  if (steps > 0) out.push(steps);
  return out;
}

/** Weights as trainable variables (copies; the caller disposes the inputs and, later, the result). */
export function toVariables(weights: ReadonlyMap<string, tf.Tensor>): Map<string, tf.Variable> {
  let id = 0;
  const prefix = `train${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
  return new Map([...weights].map(([name, t]) => [name, tf.variable(t, true, `${prefix}/${id++}/${name}`)]));
}

export async function trainModel(args: {
  dims: ModelDims;
  weights: ReadonlyMap<string, tf.Variable>;
  nextBatch: () => tf.Tensor2D;
  options: TrainOptions;
  evalEvery: number;
  evaluate: (weights: Weights) => Promise<number>;
  maskTokenId?: number;
  onEval?: (point: CurvePoint) => void;
  /** After every step: the steps taken and the step's training loss. */
  onStep?: (step: number, loss: number) => void;
  /** A learning rate per group (lr_groups.ts) over what the listing says is new; absent: options' one schedule for every weight. */
  groups?: { rates: GroupRates; listing: NewParameters };
}): Promise<TrainResult> {
  const { dims, weights, options } = args;
  const w: Weights = mapGetter(weights, (name) => new Error(`model has no tensor "${name}"`));
  const objective = objectiveFor(dims, args.maskTokenId ?? 0);
  const variables = [...weights.values()];
  const optimizer = new AdamW(variables, { beta1: 0.9, beta2: options.beta2 ?? 0.95, epsilon: 1e-8, weightDecay: options.weightDecay });
  const grouped = args.groups ? new GroupedRates(args.groups.rates, args.groups.listing) : undefined;
  const tensorOf = new Map([...weights].map(([name, v]) => [v.name, name]));
  const rateAt = (step: number) => (grouped ? (variable: string) => grouped.rate(tensorOf.get(variable) ?? variable, step) : learningRate(step, options));
  const measureAt = new Set(evalSteps(options.steps, args.evalEvery));
  const curve: CurvePoint[] = [];
  const losses: number[] = [];
  const measure = async (step: number): Promise<void> => {
    if (!measureAt.has(step)) return;
    const point = { step, loss: await args.evaluate(w) };
    curve.push(point);
    args.onEval?.(point);
  };
  const start = performance.now();
  try {
    await measure(0);
    for (let step = 0; step < options.steps; step++) {
      const ids = args.nextBatch();
      const batch = objective.prepare(ids, (options.seed ?? 0) * 1_000_003 + step);
      const { value, grads } = tf.variableGrads(() => batch.loss(logits(dims, w, batch.inputIds)), variables);
      const loss = (await value.data())[0];
      tf.tidy(() => {
        const { scale } = globalNormClip(grads, options.clip);
        optimizer.step(grads, rateAt(step), scale);
      });
      tf.dispose([value, ...Object.values(grads)]);
      batch.dispose();
      ids.dispose();
      if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${step + 1}; try a smaller lr`);
      losses.push(loss);
      args.onStep?.(step + 1, loss);
      await measure(step + 1);
    }
  } finally {
    optimizer.dispose();
    grouped?.dispose();
  }
  return { curve, losses, seconds: (performance.now() - start) / 1000 };
}

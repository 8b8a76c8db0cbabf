/**
 * Learning rates per parameter group for training a grown model: what keeps growth's head start.
 *
 * A source checkpoint finished its training at a decayed learning rate. Re-warming the whole grown
 * model to a from-scratch peak moves the inherited weights far from where the source left them,
 * and held-out loss rises above the grown model's start before it falls (the re-warm bump); on a
 * converged source it ends no better than a plain copy. The recipes (SPARKLING, arXiv 2602.02472;
 * LEMON, Wang et al. 2024):
 *   - `split`: new parameters (growth/new_parameters.ts) re-warmed to the peak; inherited ones
 *     held at the rate the source ended at (never above the new parameters' rate, so they warm up
 *     with them). A partly new tensor gets a rate per element. Optimizer state is fresh for every
 *     parameter (a checkpoint carries none), new ones included.
 *   - `lemon`: one schedule, the same peak, but cosine decay over the first LEMON_DECAY_FRACTION of
 *     the steps, then held at its end.
 *   - `single`: one schedule for everything (downstream.ts recommendedSchedule), as before.
 *
 * SplitShape varies split for bench:downstream (docs/BENCHMARKS.md, "Flattening the rest of the
 * rise"): a lower or geometric peak for the new parameters, a longer warmup, or partly new
 * tensors held whole with their inherited entries. Each lowered the rise above the start on a
 * converged source, and each lost ligo's lead over net2net by the end, so none is the default.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NewParameters } from '../growth/index.js';
import { recommendedSchedule, type Schedule } from './downstream.js';
import { learningRate } from './schedule.js';

export const DOWNSTREAM_RECIPES = ['split', 'lemon', 'single'] as const;
export type DownstreamRecipe = (typeof DOWNSTREAM_RECIPES)[number];

/** LEMON's faster decay: cosine decay reaches its end after this fraction of the steps. */
export const LEMON_DECAY_FRACTION = 0.5;

/**
 * The inherited parameters' rate when the source's own is unknown, as a fraction of the peak: the
 * end of a cosine schedule (schedule.ts MIN_LR_FRACTION) of a source trained at about this peak,
 * safe for a converged source, which is what users hold.
 */
export const DEFAULT_SOURCE_LR_FRACTION = 0.1;

/** Where the new entries of a partly new tensor train: with the new parameters (split), or held with the tensor's inherited entries. */
export type PartlyNewRate = 'new' | 'inherited';

/** Learning rate of each group at a step (0-based). */
export interface GroupRates {
  newLr: (step: number) => number;
  inheritedLr: (step: number) => number;
  partlyNew: PartlyNewRate;
}

/**
 * Variations of split's new-parameter schedule, for bench:downstream's comparisons: the peak (a
 * fraction of the scratch peak, or the geometric mean of it and the inherited rate), the warmup
 * (a fraction of the steps), and where partly new tensors' new entries train (default `new`).
 */
export interface SplitShape {
  newPeak?: number | 'geometric';
  newWarmupFraction?: number;
  partlyNew?: PartlyNewRate;
}

/**
 * The groups' rates under a recipe, from the schedule a scratch model of the grown shape would use
 * (its peak and steps) and the rate the source ended at (split only; default a fraction of the peak).
 */
export function recipeRates(recipe: DownstreamRecipe, scratch: Schedule, sourceLr?: number, shape: SplitShape = {}): GroupRates {
  const rewarm = recommendedSchedule(scratch);
  if (recipe === 'single') {
    const lr = (step: number) => learningRate(step, rewarm);
    return { newLr: lr, inheritedLr: lr, partlyNew: 'new' };
  }
  if (recipe === 'lemon') {
    const fast = { ...scratch, steps: Math.max(scratch.warmup + 1, Math.round(scratch.steps * LEMON_DECAY_FRACTION)) };
    const lr = (step: number) => learningRate(step, fast);
    return { newLr: lr, inheritedLr: lr, partlyNew: 'new' };
  }
  const held = sourceLr ?? scratch.lr * DEFAULT_SOURCE_LR_FRACTION;
  const peak = shape.newPeak === 'geometric' ? Math.sqrt(held * scratch.lr) : scratch.lr * (shape.newPeak ?? 1);
  const warmup = shape.newWarmupFraction === undefined ? rewarm.warmup : Math.max(scratch.warmup, Math.round(scratch.steps * shape.newWarmupFraction));
  const schedule = { ...rewarm, lr: peak, warmup };
  const newLr = (step: number) => learningRate(step, schedule);
  return { newLr, inheritedLr: (step) => Math.min(held, newLr(step)), partlyNew: shape.partlyNew ?? 'new' };
}

/**
 * Per trained tensor, its learning rate at a step: a number for a tensor that is wholly new or
 * inherited, and for a partly new one unless its new entries have their own rate; then a tensor
 * of rates (inherited + (new - inherited) * mask, mask 1 on new entries). Tensors the listing does
 * not name train as new. Dispose the masks when done.
 */
export class GroupedRates {
  private readonly masks = new Map<string, tf.Tensor>();

  constructor(
    private readonly rates: GroupRates,
    private readonly listing: NewParameters,
  ) {
    if (rates.partlyNew === 'inherited') return; // no per-element rates, no masks held
    for (const [name, t] of Object.entries(listing.tensors)) {
      if (t.status === 'partly new' && t.new) this.masks.set(name, newMask(t.shape, t.new));
    }
  }

  /** Call inside a tidy: a partly new tensor's rates may be a temporary tensor. */
  rate(name: string, step: number): number | tf.Tensor {
    const newLr = this.rates.newLr(step);
    const inheritedLr = this.rates.inheritedLr(step);
    const status = this.listing.tensors[name]?.status ?? 'new';
    if (status === 'inherited') return inheritedLr;
    if (status === 'new') return newLr;
    const mask = this.masks.get(name);
    if (!mask) return this.rates.partlyNew === 'inherited' ? inheritedLr : newLr;
    if (newLr === inheritedLr) return newLr;
    return tf.add(inheritedLr, tf.mul(mask, newLr - inheritedLr)); // [shape]
  }

  dispose(): void {
    tf.dispose([...this.masks.values()]);
  }
}

/** A float mask of a tensor's new entries: 1 where any index falls in its axis's new ranges. */
export function newMask(shape: readonly number[], ranges: readonly (readonly [number, number][])[]): tf.Tensor {
  return tf.tidy(() => {
    let mask = tf.zeros([...shape]);
    for (const [axis, runs] of ranges.entries()) {
      const flags = new Float32Array(shape[axis]);
      for (const [start, end] of runs) flags.fill(1, start, end);
      const broadcast = shape.map((n, a) => (a === axis ? n : 1));
      mask = tf.maximum(mask, tf.tensor(flags, broadcast));
    }
    return mask;
  });
}

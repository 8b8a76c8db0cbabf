import * as tf from '@tensorflow/tfjs-core';
import { operatorParameter, widthOperator } from '../growth/layout.js';
import type { GrowthOperator } from '../growth/operator.js';
import { materializeAll, type DepthStacks, type SmallWeights } from '../growth/materialize.js';
import type { GrowthPlan, PlannedTensor } from '../growth/plan.js';
import { AdamW, globalNormClip } from './adamw.js';
import { distillationLoss, logits, objectiveFor } from './objective.js';
import { materializingLayers, reportingLayers } from './recompute.js';
import { learningRate } from './schedule.js';
import { StepProfile, timed, type PhaseSeconds } from './step_profile.js';
import { BestOperator, type SelectionPoint, type SelectionScore } from './best_operator.js';
import type { LayerRunner } from '../models/index.js';
import { mapGetter } from '../util/map_getter.js';

export interface LearnOptions {
  steps: number;
  lr: number;
  warmup: number;
  weightDecay: number;
  /** Max global gradient norm; 0 disables clipping. */
  clip: number;
  gradAccum: number;
  /** Recompute each layer's intermediates in backpropagation instead of keeping them (see recompute.ts). */
  recompute?: boolean;
  /** Weight of the KL term to the small model's next-token distribution; 0 disables it. */
  distill: number;
  seed: number;
  /**
   * Learning rate of the depth coefficients (default: lr). Adam moves every entry by about the
   * learning rate per step whatever its scale, and a depth coefficient (a few per layer, of size
   * ~1) needs far larger moves than a width entry (one per unit pair) to change the function as much.
   */
  depthLr?: number;
  /**
   * Learning rate of the attention operators' head mixing M and head_dim factors H (default: lr):
   * like depth coefficients, a few entries of size ~1 each, where a changed attention temperature
   * or head mix needs moves of ~0.1 that width entries at lr would take hundreds of steps to make.
   */
  headsLr?: number;
  /**
   * With a `validate` callback: held-out loss of the operator at the start, every selectEvery
   * steps (0: only at the start and the end) and at the end; the best of them is kept, so learning
   * never ends worse than its function-preserving start.
   */
  selectEvery?: number;
}

export { clearGain, pairedGain, SELECTION_CONFIDENCE, type SelectionPoint, type SelectionScore } from './best_operator.js';

export interface StepEvent {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedMs: number;
  etaMs: number;
  /** Seconds this step took. */
  stepSeconds: number;
}

/** A layer starting its forward or backward pass inside learning step `step` (progress inside a long step). */
export interface LayerEvent {
  step: number;
  steps: number;
  layer: number;
  layers: number;
  pass: 'forward' | 'backward';
}

export interface LearnResult {
  losses: number[];
  seconds: number;
  tokensPerSecond: number;
  /** Held-out losses measured for selection (empty without validate). */
  selection: SelectionPoint[];
  /** The step whose operator was kept (options.steps without validate). */
  keptStep: number;
  /** Seconds per learning step (the selection evaluations between steps not counted). */
  secondsPerStep: number;
  /** Where the steps' time went, summed over the steps (train/step_profile.ts). */
  phases: PhaseSeconds;
  /** The step whose loss was not finite, when the phase stopped there and kept the best operator so far (with --keep-best). */
  divergedAt?: number;
}

/**
 * Trains only the operator: each step materializes the large model from the frozen small one,
 * runs it on a batch and backpropagates into the width and depth matrices.
 */
interface MicroBatch {
  /** The micro-batch's share of the step loss for the grown model's weights. */
  loss: (weight: (name: string) => tf.Tensor) => tf.Scalar;
  dispose(): void;
}

const lookup = (tensors: ReadonlyMap<string, tf.Tensor>): ((name: string) => tf.Tensor) => mapGetter(tensors, (name) => new Error(`grown model has no tensor "${name}"`));

/** One micro-batch: materialize and backpropagate through model and operator in one tape. */
async function directGradients(
  tensors: readonly PlannedTensor[],
  small: SmallWeights,
  operator: GrowthOperator,
  batch: MicroBatch,
  profile?: StepProfile,
): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  // The backward phase is what variableGrads spends outside the forward function it calls.
  const forward = (): tf.Scalar => timed(profile, 'forward', () => batch.loss(lookup(timed(profile, 'materialize', () => materializeAll(tensors, small, operator)))));
  const { value, grads } = timed(profile, 'backward', () => tf.variableGrads(forward, operator.variables));
  const loss = (await value.data())[0];
  value.dispose();
  batch.dispose();
  return { loss, grads };
}

/**
 * Several micro-batches: materialize once, sum the gradients with respect to the grown weights
 * over the micro-batches, then backpropagate that sum through the operator once, instead of
 * materializing and backpropagating through the operator for every micro-batch.
 */
async function accumulatedGradients(
  plan: GrowthPlan,
  small: SmallWeights,
  operator: GrowthOperator,
  count: number,
  micro: (index: number) => MicroBatch,
): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  const names = plan.tensors.map((t) => t.name);
  const grown = tf.tidy(() => {
    const all = materializeAll(plan.tensors, small, operator);
    return names.map((n) => lookup(all)(n));
  });
  let sums: tf.Tensor[] | undefined;
  let loss = 0;
  try {
    for (let index = 0; index < count; index++) {
      const batch = micro(index);
      const { value, grads } = tf.valueAndGrads((...weights: tf.Tensor[]) => batch.loss(lookup(new Map(names.map((n, i) => [n, weights[i]])))))(grown);
      loss += (await value.data())[0];
      const previous = sums;
      sums = previous ? grads.map((g, i) => tf.tidy(() => tf.add(previous[i], g))) : grads.map((g) => tf.clone(g));
      tf.dispose([value, ...grads, ...(previous ?? [])]);
      batch.dispose();
    }
  } finally {
    tf.dispose(grown);
  }
  const upstream = sums ?? [];
  // d/d(operator) of sum(grown * upstream) is the operator's share of the summed gradient.
  const { value, grads } = tf.variableGrads(() => {
    const all = materializeAll(plan.tensors, small, operator);
    return tf.addN(names.map((n, i) => tf.sum(tf.mul(lookup(all)(n), upstream[i])))) as tf.Scalar;
  }, operator.variables);
  tf.dispose([value, ...upstream]);
  return { loss, grads };
}

/** Micro-batch gradients (each a full pass through materialization) summed, for --recompute with --grad-accum. */
async function summedGradients(
  count: number,
  one: (index: number) => Promise<{ loss: number; grads: Record<string, tf.Tensor> }>,
): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  let loss = 0;
  let sums: Record<string, tf.Tensor> = {};
  for (let index = 0; index < count; index++) {
    const next = await one(index);
    loss += next.loss;
    const previous = sums;
    sums = Object.fromEntries(Object.entries(next.grads).map(([k, g]) => [k, previous[k] ? tf.tidy(() => tf.add(previous[k], g)) : g]));
    tf.dispose([...Object.values(previous), ...Object.entries(next.grads).filter(([k]) => previous[k]).map(([, g]) => g)]);
  }
  return { loss, grads: sums };
}

/** What one learning step needs to build its micro-batches' losses. */
interface StepContext {
  plan: GrowthPlan;
  small: SmallWeights;
  options: LearnOptions;
  objective: ReturnType<typeof objectiveFor>;
  nextBatch: () => tf.Tensor2D;
  runLayer: LayerRunner | undefined;
  /** Counts the tokens each micro-batch trains on. */
  onTokens: (count: number) => void;
}

/** Micro-batch `index` of step `step`: its share of the loss (with distillation), and what frees it. */
function microBatch(c: StepContext, step: number, index: number): MicroBatch {
  const { plan, small, options } = c;
  const ids = c.nextBatch();
  c.onTokens(ids.size);
  const batch = c.objective.prepare(ids, options.seed * 1_000_003 + step * 97 + index);
  const teacher = options.distill > 0 ? tf.tidy(() => logits(plan.source, small, batch.inputIds)) : undefined;
  const loss = (weight: (name: string) => tf.Tensor): tf.Scalar => {
    const out = logits(plan.target, weight, batch.inputIds, c.runLayer);
    let value = batch.loss(out);
    if (teacher) value = tf.add(value, tf.mul(distillationLoss(out, teacher), options.distill));
    return tf.div(value, options.gradAccum) as tf.Scalar;
  };
  const dispose = (): void => {
    teacher?.dispose();
    batch.dispose();
    ids.dispose();
  };
  return { loss, dispose };
}

/**
 * One step's loss and operator gradients: one pass through materialization and model, or, with
 * --grad-accum, the micro-batches' gradients summed (recomputed layers: a full pass each; else the
 * grown model's gradients summed, then backpropagated through the operator once).
 */
async function stepGradients(c: StepContext, operator: GrowthOperator, step: number, profile: StepProfile): Promise<{ loss: number; grads: Record<string, tf.Tensor> }> {
  const { options, plan, small } = c;
  const micro = (index: number): MicroBatch => microBatch(c, step, index);
  // --recompute: layers materialize their own grown weights inside their recomputed blocks; only
  // the tensors outside the layers are materialized for the whole step.
  const upFront = options.recompute ? plan.tensors.filter((t) => t.layer === undefined) : plan.tensors;
  if (options.gradAccum === 1) return directGradients(upFront, small, operator, micro(0), profile);
  if (options.recompute) return summedGradients(options.gradAccum, (index) => directGradients(upFront, small, operator, micro(index), profile));
  return accumulatedGradients(plan, small, operator, options.gradAccum, micro);
}

/** The parameters of the attention operators' heads: their head mixing M and head_dim factors. */
function isHeads(operator: GrowthOperator, name: string): boolean {
  const p = operatorParameter(operator.plan, name);
  if (!p) return false;
  return p.role === 'headDim' || p.role === 'headDimPass' || (p.role === 'matrix' && widthOperator(operator.plan, p.operator).heads !== undefined);
}

/** AdamW with the depth coefficients' and the heads' own learning rates (LearnOptions.depthLr, headsLr), over what trains. */
function operatorOptimizer(operator: GrowthOperator, options: LearnOptions): AdamW {
  const relative = (lr: number | undefined): number => (lr !== undefined && options.lr > 0 ? lr / options.lr : 1);
  const scaleOf = (name: string): number =>
    operatorParameter(operator.plan, name)?.role === 'depth' ? relative(options.depthLr) : isHeads(operator, name) ? relative(options.headsLr) : 1;
  const lrScale = new Map([...operator.params].map(([name, v]) => [v.name, scaleOf(name)] as const).filter(([, scale]) => scale !== 1));
  return new AdamW(operator.variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: options.weightDecay, lrScale });
}

/** Clips and applies the step's gradients (freeing them); returns the gradient norm before clipping. */
async function optimizerStep(optimizer: AdamW, grads: Record<string, tf.Tensor>, lr: number, clip: number, profile: StepProfile): Promise<number> {
  const norm = profile.time('optimizer', () =>
    tf.tidy(() => {
      const clipped = globalNormClip(grads, clip);
      optimizer.step(grads, lr, clipped.scale);
      return clipped.norm;
    }),
  );
  const value = (await norm.data())[0];
  tf.dispose([norm, ...Object.values(grads)]);
  return value;
}

export async function learnOperator(args: {
  plan: GrowthPlan;
  operator: GrowthOperator;
  small: SmallWeights;
  nextBatch: () => tf.Tensor2D;
  maskTokenId: number;
  options: LearnOptions;
  onStep?: (event: StepEvent) => void;
  /** Held-out loss of a grown model, for keeping the best operator (see LearnOptions.selectEvery). */
  validate?: (weight: (name: string) => tf.Tensor) => Promise<SelectionScore>;
  /** The start's selection score without building the grown model, where the caller knows it (the source's, for a start that keeps its function). */
  startScore?: () => Promise<SelectionScore>;
  onSelect?: (point: SelectionPoint) => void;
  /** Each layer's forward and backward start, inside a step. */
  onLayer?: (event: LayerEvent) => void;
}): Promise<LearnResult> {
  const { plan, operator, small, options } = args;
  const best = args.validate ? new BestOperator(plan, small, operator, args.validate, { steps: options.steps, every: options.selectEvery ?? 0 }, args.onSelect, args.startScore) : undefined;
  const profile = new StepProfile();
  let current = 0;
  const onLayer = args.onLayer ? (layer: number, pass: 'forward' | 'backward') => args.onLayer?.({ step: current, steps: options.steps, layer, layers: plan.target.numLayers, pass }) : undefined;
  // The small layers stacked once per kind for the whole phase (freed at its end), not per layer and step.
  const stacks: DepthStacks = new Map();
  const runLayer = options.recompute ? materializingLayers(plan, small, operator, { onLayer, profile }, stacks) : onLayer ? reportingLayers(onLayer) : undefined;
  let tokens = 0;
  const context: StepContext = { plan, small, options, objective: objectiveFor(plan.target, args.maskTokenId), nextBatch: args.nextBatch, runLayer, onTokens: (n) => void (tokens += n) };
  const optimizer = operatorOptimizer(operator, options);
  const losses: number[] = [];
  const start = performance.now();
  let stepsMs = 0;
  let keptStep = options.steps;
  let divergedAt: number | undefined;
  try {
    await best?.consider(0);
    for (let step = 0; step < options.steps; step++) {
      const stepStart = performance.now();
      current = step + 1;
      const lr = learningRate(step, options);
      const { loss, grads } = await stepGradients(context, operator, step, profile);
      const gradNorm = await optimizerStep(optimizer, grads, lr, options.clip, profile);
      if (!Number.isFinite(loss)) {
        // The update of a non-finite step is not kept: the best operator measured so far is put back below.
        if (!best) throw new Error(`loss became ${loss} at step ${step + 1}; try a smaller --lr`);
        divergedAt = step + 1;
        break;
      }
      losses.push(loss);
      const stepMs = performance.now() - stepStart;
      stepsMs += stepMs;
      const elapsedMs = performance.now() - start;
      const tokensPerSecond = tokens / (elapsedMs / 1000);
      const etaMs = (elapsedMs / (step + 1)) * (options.steps - step - 1);
      args.onStep?.({ step: step + 1, steps: options.steps, loss, lr, gradNorm, tokensPerSecond, elapsedMs, etaMs, stepSeconds: stepMs / 1000 });
      await best?.consider(step + 1);
    }
    if (best) keptStep = best.restore();
  } finally {
    tf.dispose([...stacks.values()]);
    optimizer.dispose();
    best?.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    losses,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : 0,
    selection: best?.points ?? [],
    keptStep,
    secondsPerStep: options.steps > 0 ? stepsMs / 1000 / options.steps : 0,
    phases: profile.seconds(stepsMs),
    ...(divergedAt === undefined ? {} : { divergedAt }),
  };
}

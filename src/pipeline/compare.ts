import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type LoadedModel } from '../arch/load.js';
import { initBackend, type BackendInfo } from '../backend/index.js';
import { BatchSampler } from '../data/index.js';
import { learningPhaseFlops, trainStepFlops } from '../growth/flops.js';
import type { MethodRecipe } from '../growth/methods.js';
import { startNewParameters } from '../growth/index.js';
import type { GrowthMethod, GrowthPlan } from '../growth/plan.js';
import { writeCompareFiles } from '../output/compare_files.js';
import { recommendedSchedule, scratchPeakLr, scratchSchedule } from '../train/downstream.js';
import { toVariables, trainModel, type CurvePoint, type TrainResult } from '../train/full.js';
import { DEFAULT_SOURCE_LR_FRACTION, recipeRates } from '../train/lr_groups.js';
import type { LearnResult } from '../train/learn.js';
import { computeSaved } from '../train/savings.js';
import {
  COMPARE_HELD_OUT_TOKENS,
  curvePairs,
  resolveCompareOptions,
  type CompareEvent,
  type CompareMethodResult,
  type CompareOptions,
  type CompareResult,
  type ResolvedCompareOptions,
} from './compare_options.js';
import { heldOutLoss, loadRunData, loadSourceTokenizer, SELECTION_BATCH, type RunData } from './data.js';
import { growInMemory } from './grow.js';
import { resolveGrowOptions, type GrowOptions, type ResolvedGrowOptions } from './options.js';
import { checkInputs } from './inputs.js';
import { withRepair } from './repair.js';
import { resolveRun } from './run_settings.js';
import { planFromOptions } from './plan.js';
import { sourceLearningRate, type SourceLr } from './source_lr.js';

/** Batches of the training after growth start from this seed offset, so they are not the learning phase's. */
const TRAIN_SEED_OFFSET = 1_000;

/** What every method of a compare run shares: the source, the data and its held-out tokens. */
interface Session {
  o: ResolvedCompareOptions;
  backend: BackendInfo;
  small: LoadedModel;
  text: RunData;
  seqLen: number;
  /** Held-out tokens every point of every curve is measured on. */
  heldOutTokens: number;
  evaluate: ReturnType<typeof heldOutLoss>;
  progress: (event: CompareEvent) => void;
  /** The rate the source ended its training at, where known (--source-lr or its trainer_state.json). */
  sourceLr: SourceLr | undefined;
}

/** A method's run: its curve with the FLOPs that made it. */
interface MethodRun {
  result: CompareMethodResult;
  curve: CurvePoint[];
  plan: GrowthPlan;
}

/** grow's options for one method: compare's own options left out, the learning phase's steps under grow's name. */
function growOptionsFor(o: ResolvedCompareOptions, method: GrowthMethod): GrowOptions {
  const { methods: _m, steps: _s, learnSteps, trainBatchSize: _b, trainLr: _l, trainRecipe: _r, evalEvery: _e, out: _o, onProgress: _p, ...grow } = o;
  return { ...grow, method, steps: learnSteps, out: '' };
}

/** Options checked, the backend started, the source and the data loaded once for every method. */
async function openSession(options: CompareOptions): Promise<Session> {
  const o = resolveCompareOptions(options);
  const base = resolveGrowOptions(growOptionsFor(o, o.methods[0]));
  await checkInputs({ data: o.data, targetConfig: o.targetConfig, out: o.out });
  const progress = o.onProgress ?? (() => undefined);
  const backend = await initBackend({ backend: o.backend, threads: o.threads, log: (message) => progress({ phase: 'load', message }) });
  progress({ phase: 'load', message: `loading ${o.source}` });
  const small = await loadModel(o.source);
  try {
    const { seqLen } = resolveRun(base, small, (message) => progress({ phase: 'load', message }));
    const text = await loadRunData({ ...base, data: o.data }, small, await loadSourceTokenizer(base, small), seqLen);
    const heldOut = text.heldOut.subarray(0, Math.max(seqLen, Math.floor(COMPARE_HELD_OUT_TOKENS / seqLen) * seqLen));
    const sourceLr = await sourceLearningRate(o.source, base.sourceLr, (message) => progress({ phase: 'load', message }));
    return { o, backend, small, text, seqLen, heldOutTokens: heldOut.length, evaluate: heldOutLoss(text, seqLen, SELECTION_BATCH, heldOut), progress, sourceLr };
  } catch (error) {
    small.dispose();
    throw error;
  }
}

/** FLOPs of a learning phase as grow ran it (0 for methods without one). */
function learnFlopsOf(s: Session, plan: GrowthPlan, o: ResolvedGrowOptions, learned: LearnResult | undefined): number {
  if (!learned) return 0;
  // grow selects on the selection tokens, or the held-out ones when the data is too short for them.
  const selectionTokens = s.text.selection.length >= s.seqLen ? s.text.selection.length : s.text.heldOut.length;
  const work = { steps: o.steps, batchSize: o.batchSize * o.gradAccum, seqLen: s.seqLen, distill: o.distill > 0, selections: learned.selection.length, selectionTokens };
  return learningPhaseFlops(plan, work);
}

/**
 * The training after growth (it disposes `vars`): every method on the same batches; `random` with
 * the scratch schedule, grown models with the recipe (lr_groups.ts: by default new weights
 * re-warmed to the peak, inherited ones held at the source's rate).
 */
async function train(s: Session, grown: { method: GrowthMethod; plan: GrowthPlan; recipe: MethodRecipe; split: ResolvedGrowOptions['split'] }, vars: Map<string, tf.Variable>): Promise<TrainResult> {
  const { o, seqLen } = s;
  const { method, plan } = grown;
  const scratch = { ...scratchSchedule(o.steps, o.trainLr ?? scratchPeakLr(plan.target.hiddenSize)), seed: o.seed };
  const groups = method === 'random' ? undefined : { rates: recipeRates(o.trainRecipe, scratch, s.sourceLr?.lr), listing: startNewParameters(plan, grown.recipe.depth, grown.split) };
  const sampler = new BatchSampler(s.text.train, { batchSize: o.trainBatchSize, seqLen, seed: (o.seed ?? 0) + TRAIN_SEED_OFFSET });
  try {
    return await trainModel({
      dims: plan.target,
      weights: vars,
      nextBatch: () => tf.tensor2d(sampler.next(), [o.trainBatchSize, seqLen], 'int32'),
      options: method === 'random' ? scratch : recommendedSchedule(scratch),
      groups,
      evalEvery: o.evalEvery,
      evaluate: (w) => s.evaluate(plan.target, w),
      maskTokenId: s.text.maskTokenId,
      onEval: (p) => s.progress({ phase: 'heldOut', method, ...p }),
      onStep: (step, loss) => s.progress({ phase: 'train', method, step, steps: o.steps, loss }),
    });
  } finally {
    tf.dispose([...vars.values()]);
  }
}

/** Grows the source with one method exactly as grow does, then trains the grown model. */
async function runMethod(s: Session, method: GrowthMethod, index: number): Promise<MethodRun> {
  s.progress({ phase: 'method', method, index, count: s.o.methods.length });
  const o = resolveGrowOptions(growOptionsFor(s.o, method));
  // The session's sequence length (said once when capped); each method's own recipe and form.
  const asked = { ...resolveRun(o, s.small), seqLen: s.seqLen };
  const plan = await planFromOptions(o, asked, s.small);
  const repaired = withRepair(o, asked, plan, s.small, (message) => s.progress({ phase: 'load', message }));
  const settings = { ...repaired.settings, seqLen: s.seqLen };
  const run = { o: repaired.o, backend: s.backend, progress: s.progress };
  const { grown, heldOutInit, learned } = await growInMemory(run, { plan, settings, small: s.small, text: s.text, evaluate: s.evaluate });
  let vars: Map<string, tf.Variable>;
  try {
    vars = toVariables(grown.tensors());
  } finally {
    // The grown model lives on as the variables only: never held twice.
    grown.dispose();
  }
  const trained = await train(s, { method, plan, recipe: settings.recipe, split: repaired.o.split }, vars);
  const learnFlops = learnFlopsOf(s, plan, repaired.o, learned);
  const stepFlops = trainStepFlops(plan, s.o.trainBatchSize, s.seqLen);
  return {
    plan,
    curve: trained.curve,
    result: {
      name: method,
      curve: curvePairs(trained.curve),
      flops: learnFlops + s.o.steps * stepFlops,
      learnFlops,
      stepFlops,
      grownAtInit: heldOutInit,
      seconds: { learn: learned?.seconds ?? 0, train: trained.seconds },
    },
  };
}

/** saved[a][b] for every pair of methods (computeSaved: learning phase counted). */
function savings(runs: readonly MethodRun[]): CompareResult['saved'] {
  const costed = (r: MethodRun) => ({ learnFlops: r.result.learnFlops, stepFlops: r.result.stepFlops, curve: r.curve });
  return Object.fromEntries(
    runs.map((a) => [a.result.name, Object.fromEntries(runs.filter((b) => b !== a).map((b) => [b.result.name, computeSaved(costed(a), costed(b)) ?? null]))]),
  );
}

/**
 * Does growth pay on this data? Grows the source with each method as `grow` does (ligo with a
 * learning phase when learnSteps > 0), trains every grown model and a scratch model of the target shape (`random`)
 * for the same steps on the same batches, measures held-out loss along the way, and reports the
 * compute each method saves against the others, the learning phase counted. With `out`, writes
 * compare.json and compare.svg there.
 */
export async function compare(options: CompareOptions): Promise<CompareResult> {
  const startedAt = performance.now();
  const s = await openSession(options);
  try {
    s.progress({ phase: 'evaluate', message: 'held-out loss of the source model' });
    const sourceLoss = await s.evaluate(s.small.dims, s.small.weights);
    const runs: MethodRun[] = [];
    for (const [i, method] of s.o.methods.entries()) runs.push(await runMethod(s, method, i));
    const { target } = runs[0].plan;
    const lr = s.o.trainLr ?? scratchPeakLr(target.hiddenSize);
    const schedule = scratchSchedule(s.o.steps, lr);
    const result: CompareResult = {
      source: { path: s.o.sourceLabel ?? s.o.source, heldOut: sourceLoss, layers: s.small.dims.numLayers, hiddenSize: s.small.dims.hiddenSize },
      target: { layers: target.numLayers, hiddenSize: target.hiddenSize },
      data: s.o.data,
      heldOutTokens: s.heldOutTokens,
      training: {
        steps: s.o.steps,
        batchSize: s.o.trainBatchSize,
        seqLen: s.seqLen,
        lr,
        warmup: { scratch: schedule.warmup, grown: recommendedSchedule(schedule).warmup },
        evalEvery: s.o.evalEvery,
        recipe: s.o.trainRecipe,
        ...(s.o.trainRecipe === 'split' ? { sourceLr: s.sourceLr ?? { lr: lr * DEFAULT_SOURCE_LR_FRACTION, from: 'default' } } : {}),
      },
      backend: s.backend.name,
      methods: runs.map((r) => r.result),
      saved: savings(runs),
      seconds: (performance.now() - startedAt) / 1000,
    };
    if (s.o.out) await writeCompareFiles(s.o.out, result);
    return result;
  } finally {
    s.small.dispose();
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { loadModel, openModel, type LoadedModel } from '../arch/load.js';
import { initBackend, measureMatmulRate, type BackendInfo } from '../backend/index.js';
import { BatchSampler } from '../data/index.js';
import { describeDepthInit } from '../growth/init.js';
import { startNewParameters } from '../growth/index.js';
import type { GrowthPlan } from '../growth/plan.js';
import { targetConfig } from '../growth/target.js';
import { writeOperator } from '../output/operator_file.js';
import type { GrowthReport } from '../output/report.js';
import { outputDtype, writeGrownModel } from '../output/write.js';
import type { DType } from '../checkpoint/dtypes.js';
import { learnOperator, type LearnResult } from '../train/learn.js';
import { heldOutLoss, loadRunData, loadSourceTokenizer, SELECTION_BATCH, selectionScore, weightGetter, type RunData } from './data.js';
import { growStreamed } from './grow_streamed.js';
import { GrownWeights } from './grown_weights.js';
import { checkLearningMemory, type MemoryChoice } from './memory.js';
import { resolveGrowOptions, type GrowEvent, type GrowOptions, type ResolvedGrowOptions } from './options.js';
import { planRun, type PlannedRun } from './plan.js';
import type { RunSettings } from './run_settings.js';
import { checkInputs } from './inputs.js';
import { checkOutputRoom, prepareOutputDir } from './output_dir.js';
import { runReport } from './report.js';
import { trainingAdvice } from './training_advice.js';

/** What every step of a run shares. */
export interface Run {
  o: ResolvedGrowOptions;
  backend: BackendInfo;
  /** performance.now() when the run began. */
  startedAt: number;
  progress: (event: GrowEvent) => void;
}

/** A one-line note of the run's, as a load-phase progress message. */
const logLine = (run: Pick<Run, 'progress'>) => (message: string): void => run.progress({ phase: 'load', message });

/** Step 1: options resolved, the inputs checked, the backend started and --out checked (stale staging removed), before any long work. */
async function startRun(options: GrowOptions): Promise<Run> {
  const o = resolveGrowOptions(options);
  await checkInputs({ data: o.data, targetConfig: o.targetConfig, out: o.out });
  const startedAt = performance.now();
  const progress = o.onProgress ?? (() => undefined);
  const backend = await initBackend({ backend: o.backend, threads: o.threads, log: logLine({ progress }) });
  await prepareOutputDir(o.out, o.overwrite, progress);
  return { o, backend, startedAt, progress };
}

/**
 * Without --data there is nothing to learn or measure: stream the grown model from the source,
 * never holding it whole (ligo's start too: a selection, like the fixed methods').
 */
async function growWithoutData(run: Run): Promise<GrowthReport> {
  const opened = await openModel(run.o.source);
  try {
    const { settings, plan } = await planRun(run.o, opened, logLine(run));
    await checkOutputRoom(run.o.out, plan, outputDtype(run.o.dtype, opened.storageDtype));
    return await growStreamed({ options: run.o, settings, source: opened, plan, backend: run.backend.name, startedAt: run.startedAt, progress: run.progress });
  } finally {
    await opened.close();
  }
}

/** What the learning phase works on. */
interface LearningInputs {
  plan: GrowthPlan;
  settings: RunSettings;
  grown: GrownWeights;
  small: LoadedModel;
  data: RunData;
  /** Layers recomputed in backpropagation, as checkLearningMemory chose. */
  recompute: boolean;
  /** The grown model at initialization computes the source's function, as measured on held-out text. */
  startKeepsSource: boolean;
}

/**
 * A start whose held-out loss is within this many nats of the source's computes the source's
 * function (an exact start differs by float32 rounding, about 1e-6; the lossy starts by 1e-3 and
 * more): its selection score is the source model's, at a fraction of the grown model's cost.
 */
export const KEEPS_SOURCE_NATS = 1e-4;

/** The learning phase: LiGO trains its operator on the training tokens; other methods skip it. */
async function learn(run: GrowingRun, inputs: LearningInputs): Promise<LearnResult | undefined> {
  const { o } = run;
  const { plan, grown, small, data, recompute, startKeepsSource } = inputs;
  const seqLen = inputs.settings.seqLen;
  if (!inputs.settings.learningPhase || !grown.operator) return undefined;
  grown.release();
  const sampler = new BatchSampler(data.train, { batchSize: o.batchSize, seqLen, seed: o.seed });
  // Forward passes only: a larger batch than training's is as cheap in memory as one training step.
  const select = selectionScore(data, seqLen, Math.max(o.batchSize, SELECTION_BATCH), data.selection.length >= seqLen ? data.selection : data.heldOut);
  const result = await learnOperator({
    plan,
    operator: grown.operator,
    small: small.weight,
    nextBatch: () => tf.tensor2d(sampler.next(), [o.batchSize, seqLen], 'int32'),
    maskTokenId: data.maskTokenId ?? 0,
    options: { ...o, recompute },
    onStep: (e) => run.progress({ phase: 'learn', ...e }),
    onLayer: (e) => run.progress({ phase: 'learn-layer', ...e }),
    validate: o.keepBest ? (w) => select(plan.target, w) : undefined,
    // The start's score needs no grown model where the start keeps the source's function.
    startScore: o.keepBest && startKeepsSource ? () => select(small.dims, small.weight) : undefined,
  });
  if (result.divergedAt !== undefined) {
    run.progress({ phase: 'load', message: `learning stopped at step ${result.divergedAt}: the loss was not finite; kept the operator of step ${result.keptStep} (try a smaller --lr)` });
  }
  grown.materialize();
  return result;
}

/** What growing in memory needs of a run: its options, backend and progress. */
export type GrowingRun = Pick<Run, 'o' | 'backend' | 'progress'>;

/**
 * The learning phase's memory and time per step for this run: said in one line, recomputation
 * chosen, refused if it cannot fit.
 */
async function learningMemory(run: GrowingRun, plan: GrowthPlan, settings: RunSettings): Promise<MemoryChoice> {
  const shape = { batchSize: run.o.batchSize, seqLen: settings.seqLen, gradAccum: run.o.gradAccum, recompute: run.o.recompute };
  return checkLearningMemory(plan, shape, run.backend.profile, run.progress, await measureMatmulRate());
}

/** A grown model in memory, before it is rounded and written. */
export interface GrownInMemory {
  grown: GrownWeights;
  /** Held-out loss of the grown model at initialization (before any learning phase). */
  heldOutInit: number;
  learned: LearnResult | undefined;
}

/**
 * The grown model as `grow` makes it, in memory: the method's starting operator (or fresh tensors
 * for `random`), measured, then the learning phase. grow writes it; compare and bench:downstream
 * train it further, so all three run the same code.
 */
export async function growInMemory(
  run: GrowingRun,
  args: {
    plan: GrowthPlan;
    settings: RunSettings;
    small: LoadedModel;
    text: RunData;
    evaluate: ReturnType<typeof heldOutLoss>;
    /** Whether the learning phase recomputes layers, as checkLearningMemory chose; checked here when absent. */
    recompute?: boolean;
    /** The source's held-out loss, where measured: a start that matches it is scored on the source (KEEPS_SOURCE_NATS). */
    sourceHeldOut?: number;
  },
): Promise<GrownInMemory> {
  const { plan, settings, small, text } = args;
  const recompute = args.recompute ?? (settings.learningPhase ? (await learningMemory(run, plan, settings)).recompute : false);
  const grown = new GrownWeights(plan, settings.recipe, small, run.o.seed, run.o);
  try {
    run.progress({ phase: 'evaluate', message: 'held-out loss of the grown model at initialization' });
    const heldOutInit = await args.evaluate(plan.target, grown.materialize());
    const startKeepsSource = args.sourceHeldOut !== undefined && Math.abs(heldOutInit - args.sourceHeldOut) <= KEEPS_SOURCE_NATS;
    const learned = await learn(run, { plan, settings, grown, small, data: text, recompute, startKeepsSource });
    return { grown, heldOutInit, learned };
  } catch (error) {
    grown.dispose();
    throw error;
  }
}

/** A grown model in memory, measured and rounded to the output dtype: what grow writes. */
interface Measured {
  plan: GrowthPlan;
  settings: RunSettings;
  small: LoadedModel;
  text: RunData;
  grown: GrownWeights;
  learned: LearnResult | undefined;
  recompute: boolean | undefined;
  dtype: DType;
  heldOut: { source: number; grownAtInit: number; grown: number };
}

/** What an in-memory run decided from config.json and the headers alone. */
type PlannedInMemory = PlannedRun & { memory: MemoryChoice | undefined };

/** Step 2 with --data: the plan, its disk space and its learning phase's memory checked before the weights are loaded: a run that cannot fit fails in a second. */
async function planInMemoryRun(run: Run): Promise<PlannedInMemory> {
  const opened = await openModel(run.o.source);
  try {
    const { o, settings, plan } = await planRun(run.o, opened, logLine(run));
    await checkOutputRoom(run.o.out, plan, outputDtype(run.o.dtype, opened.storageDtype));
    const memory = settings.learningPhase ? await learningMemory({ ...run, o }, plan, settings) : undefined;
    return { o, settings, plan, memory };
  } finally {
    await opened.close();
  }
}

/** Steps 3-4: the text read, the source measured, grown, learned, rounded and measured as written. */
async function growAndMeasure(run: Run, planned: PlannedInMemory, small: LoadedModel, data: string): Promise<Measured> {
  const { o, progress } = run;
  const { settings, plan, memory } = planned;
  const tokenizer = await loadSourceTokenizer(o, small);
  const text = await loadRunData({ ...o, data }, small, tokenizer, settings.seqLen);
  const evaluate = heldOutLoss(text, settings.seqLen, o.batchSize);
  progress({ phase: 'evaluate', message: 'held-out loss of the source model' });
  const source = await evaluate(small.dims, small.weights);
  const { grown, heldOutInit, learned } = await growInMemory(run, { plan, settings, small, text, evaluate, recompute: memory?.recompute, sourceHeldOut: source });
  try {
    const dtype = outputDtype(o.dtype, small.storageDtype);
    const written = await grown.round(dtype);
    progress({ phase: 'evaluate', message: 'held-out loss of the grown model as written' });
    const heldOutGrown = learned || dtype !== 'F32' ? await evaluate(plan.target, written) : heldOutInit;
    return { plan, settings, small, text, grown, learned, recompute: memory?.recompute, dtype, heldOut: { source, grownAtInit: heldOutInit, grown: heldOutGrown } };
  } catch (error) {
    grown.dispose();
    throw error;
  }
}

/** The run report of an in-memory grow (report.ts runReport), with the recipe's groups for training it further. */
function measuredReport(run: Run, m: Measured, data: string, groups: Awaited<ReturnType<typeof trainingAdvice>>['groups']): ReturnType<typeof runReport> {
  const { o } = run;
  const { recipe, seqLen } = m.settings;
  const learned = m.learned && { steps: o.steps, result: m.learned, depthLr: o.depthLr, keepBest: o.keepBest, split: o.split, copyNoise: o.copyNoise, operator: m.plan.operator, recompute: m.recompute };
  return runReport({
    source: o.sourceLabel ?? o.source,
    method: o.method,
    init: recipe.depth ? describeDepthInit(recipe.depth, o.split) : 'random',
    backend: run.backend.name,
    seed: o.seed,
    seqLen,
    batchSize: o.batchSize,
    lr: o.lr,
    data,
    tokens: m.text.tokens.length,
    learned,
    heldOut: { ...m.heldOut, tokens: m.text.heldOut.length },
    groups,
  });
}

/** Step 5: the measured model written (its operator beside it) with its report. */
async function writeMeasured(run: Run, m: Measured, data: string): Promise<GrowthReport> {
  const { o, progress } = run;
  const weight = weightGetter(m.grown.tensors());
  const operator = m.grown.operator;
  const advice = await trainingAdvice(o, m.plan, startNewParameters(m.plan, m.settings.recipe.depth, o.split), logLine(run));
  return writeGrownModel({
    out: o.out,
    overwrite: o.overwrite,
    source: o.source,
    plan: m.plan,
    config: targetConfig(m.small.config, m.small.dims, m.plan.target, m.small.description),
    tensor: async (t) => tf.clone(weight(t.name)),
    saveOperator: operator ? (dir) => writeOperator(dir, operator, [...m.small.match.optionalPresent]) : undefined,
    sourceDtype: m.small.storageDtype,
    newParameters: advice.newParameters,
    dtype: m.dtype,
    maxShardSize: o.maxShardSize,
    command: o.command,
    onProgress: (tensor, done, total) => progress({ phase: 'write', tensor, done, total }),
    startedAt: run.startedAt,
    report: measuredReport(run, m, data, advice.groups),
  });
}

/**
 * Grows a checkpoint: plan, initialize the operator for the method, learn it on data (LiGO),
 * measure held-out loss before and after, and write the grown model in Hugging Face layout.
 */
export async function grow(options: GrowOptions): Promise<GrowthReport> {
  const run = await startRun(options);
  const data = run.o.data;
  if (!data) return growWithoutData(run);
  const planned = await planInMemoryRun(run);
  const repaired: Run = { ...run, o: planned.o };
  run.progress({ phase: 'load', message: `loading ${run.o.source}` });
  const small = await loadModel(run.o.source);
  try {
    const measured = await growAndMeasure(repaired, planned, small, data);
    try {
      return await writeMeasured(repaired, measured, data);
    } finally {
      measured.grown.dispose();
    }
  } finally {
    small.dispose();
  }
}

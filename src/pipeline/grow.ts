import * as tf from '@tensorflow/tfjs-core';
import { loadModel, openModel, type LoadedModel } from '../arch/load.js';
import { initBackend, measureMatmulRate, type BackendInfo } from '../backend/index.js';
import { BatchSampler, createRng } from '../data/index.js';
import { describeDepthInit } from '../growth/init.js';
import { materializeEach } from '../growth/materialize.js';
import { startNewParameters } from '../growth/index.js';
import { methodRecipe, type MethodRecipe } from '../growth/methods.js';
import { startingOperator, type GrowthOperator, type StartOptions } from '../growth/operator.js';
import type { GrowthPlan } from '../growth/plan.js';
import { freshTensor, tensorSeed } from '../growth/random_init.js';
import { targetConfig } from '../growth/target.js';
import { writeOperator } from '../output/operator_file.js';
import type { GrowthReport } from '../output/report.js';
import { outputDtype, roundToDtype, writeGrownModel } from '../output/write.js';
import { learnOperator, type LearnResult } from '../train/learn.js';
import { heldOutLoss, loadRunData, loadSourceTokenizer, SELECTION_BATCH, selectionScore, weightGetter, type RunData } from './data.js';
import { growStreamed } from './grow_streamed.js';
import { checkLearningMemory, type MemoryChoice } from './memory.js';
import { resolveGrowOptions, type GrowEvent, type GrowOptions, type ResolvedGrowOptions } from './options.js';
import { learnsInRun, planFromOptions, refuseWhatNeedsData } from './plan.js';
import { prepareOutputDir } from './output_dir.js';
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

/** Step 1: options resolved, the backend started and --out checked (stale staging removed), before any long work. */
async function startRun(options: GrowOptions): Promise<Run> {
  const o = resolveGrowOptions(options);
  const startedAt = performance.now();
  const progress = o.onProgress ?? (() => undefined);
  const backend = await initBackend({ backend: o.backend, threads: o.threads, log: (message) => progress({ phase: 'load', message }) });
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
    refuseWhatNeedsData(run.o, opened.description);
    const plan = await planFromOptions(run.o, opened);
    const recipe = methodRecipe(run.o.method, opened.description, run.o.init);
    return await growStreamed({ options: run.o, source: opened, plan, recipe, backend: run.backend.name, startedAt: run.startedAt, progress: run.progress });
  } finally {
    await opened.close();
  }
}

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

/** The learning phase: LiGO trains its operator on the training tokens; other methods skip it. */
async function learn(
  run: GrowingRun,
  plan: GrowthPlan,
  grown: GrownWeights,
  small: LoadedModel,
  data: RunData,
  seqLen: number,
  recompute: boolean,
): Promise<LearnResult | undefined> {
  const { o } = run;
  if (!learnsInRun(o, small.description) || !grown.operator) return undefined;
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
  });
  grown.materialize();
  return result;
}

/** What growing in memory needs of a run: its options, backend and progress. */
export type GrowingRun = Pick<Run, 'o' | 'backend' | 'progress'>;

/**
 * The learning phase's memory and time per step for this run: said in one line, recomputation
 * chosen, refused if it cannot fit.
 */
async function learningMemory(run: GrowingRun, plan: GrowthPlan, seqLen: number): Promise<MemoryChoice> {
  const shape = { batchSize: run.o.batchSize, seqLen, gradAccum: run.o.gradAccum, recompute: run.o.recompute };
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
    recipe: MethodRecipe;
    small: LoadedModel;
    text: RunData;
    seqLen: number;
    evaluate: ReturnType<typeof heldOutLoss>;
    /** Whether the learning phase recomputes layers, as checkLearningMemory chose; checked here when absent. */
    recompute?: boolean;
  },
): Promise<GrownInMemory> {
  const { plan, recipe, small, text, seqLen } = args;
  const recompute = args.recompute ?? (learnsInRun(run.o, small.description) ? (await learningMemory(run, plan, seqLen)).recompute : false);
  const grown = new GrownWeights(plan, recipe, small, run.o.seed, run.o);
  try {
    run.progress({ phase: 'evaluate', message: 'held-out loss of the grown model at initialization' });
    const heldOutInit = await args.evaluate(plan.target, grown.materialize());
    const learned = await learn(run, plan, grown, small, text, seqLen, recompute);
    return { grown, heldOutInit, learned };
  } catch (error) {
    grown.dispose();
    throw error;
  }
}

/**
 * Grows a checkpoint: plan, initialize the operator for the method, learn it on data (LiGO),
 * measure held-out loss before and after, and write the grown model in Hugging Face layout.
 */
export async function grow(options: GrowOptions): Promise<GrowthReport> {
  const run = await startRun(options);
  const { o, progress } = run;
  if (!o.data) return growWithoutData(run);
  const data = o.data;
  progress({ phase: 'load', message: `loading ${o.source}` });
  const small = await loadModel(o.source);
  let grown: GrownWeights | undefined;
  try {
    const plan = await planFromOptions(o, small);
    const recipe = methodRecipe(o.method, small.description, o.init);
    const tokenizer = await loadSourceTokenizer(o, small);
    const seqLen = Math.min(o.seqLen, small.dims.maxPositions);
    // Before the data is read: a run that cannot fit fails in a second.
    const memory = learnsInRun(o, small.description) ? await learningMemory(run, plan, seqLen) : undefined;
    const text = await loadRunData({ ...o, data }, small, tokenizer, seqLen);
    const evaluate = heldOutLoss(text, seqLen, o.batchSize);

    progress({ phase: 'evaluate', message: 'held-out loss of the source model' });
    const heldOutSource = await evaluate(small.dims, small.weights);
    const inMemory = await growInMemory(run, { plan, recipe, small, text, seqLen, evaluate, recompute: memory?.recompute });
    grown = inMemory.grown;
    const { heldOutInit, learned } = inMemory;
    const dtype = outputDtype(o.dtype, small.storageDtype);
    const written = await grown.round(dtype);
    progress({ phase: 'evaluate', message: 'held-out loss of the grown model as written' });
    const heldOutGrown = learned || dtype !== 'F32' ? await evaluate(plan.target, written) : heldOutInit;

    const weight = weightGetter(written);
    const operator = grown.operator;
    const advice = await trainingAdvice(o, plan, startNewParameters(plan, recipe.depth, o.split), (message) => progress({ phase: 'load', message }));
    return await writeGrownModel({
      out: o.out,
      overwrite: o.overwrite,
      source: o.source,
      plan,
      config: targetConfig(small.config, small.dims, plan.target, small.description),
      tensor: async (t) => tf.clone(weight(t.name)),
      saveOperator: operator ? (dir) => writeOperator(dir, operator, [...small.match.optionalPresent]) : undefined,
      sourceDtype: small.storageDtype,
      newParameters: advice.newParameters,
      dtype,
      maxShardSize: o.maxShardSize,
      command: o.command,
      onProgress: (tensor, done, total) => progress({ phase: 'write', tensor, done, total }),
      startedAt: run.startedAt,
      report: runReport({
        source: o.sourceLabel ?? o.source,
        method: o.method,
        init: recipe.depth ? describeDepthInit(recipe.depth, o.split) : 'random',
        backend: run.backend.name,
        seed: o.seed,
        seqLen,
        batchSize: o.batchSize,
        lr: o.lr,
        data,
        tokens: text.tokens.length,
        learned: learned
          ? { steps: o.steps, result: learned, depthLr: o.depthLr, keepBest: o.keepBest, split: o.split, copyNoise: o.copyNoise, operator: plan.operator, recompute: memory?.recompute }
          : undefined,
        heldOut: { source: heldOutSource, grownAtInit: heldOutInit, grown: heldOutGrown, tokens: text.heldOut.length },
        groups: advice.groups,
      }),
    });
  } finally {
    grown?.dispose();
    small.dispose();
  }
}

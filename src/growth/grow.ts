import { readFile, stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, openModel, type LoadedModel } from '../arch/load.js';
import { resolveArchitecture } from '../arch/resolve.js';
import { initBackend, type BackendInfo } from '../backend/index.js';
import { readConfig } from '../checkpoint/index.js';
import { LigoError, UsageError } from '../errors.js';
import { estimateLearningMemory, formatBytes, learningMemoryLimit, type LearningShape, type MemoryEstimate } from './estimate.js';
import { evaluateTokens, maskTokenIdFor } from '../eval/index.js';
import { checkTokenIds } from '../eval/evaluate_tokens.js';
import { BatchSampler, createRng, heldOutSplit, loadTokenizer, loadTokens } from '../data/index.js';
import { learnOperator } from '../train/learn.js';
import { materializeAll } from './materialize.js';
import { methodRecipe, LIGO_INIT_NOISE } from './methods.js';
import { describeDepthInit } from './init.js';
import { GrowthOperator } from './operator.js';
import { writeOperator } from './operator_file.js';
import { growStreamed } from './grow_streamed.js';
import { GROW_DEFAULTS, type GrowEvent, type GrowOptions } from './options.js';
import { checkOutputDir } from './output_dir.js';
import { GROWTH_METHODS, planGrowth, type GrowthPlan } from './plan.js';
import { freshTensor } from './random_init.js';
import { resolveTarget, targetConfig, targetOptionsFromDims } from './target.js';
import { outputDtype, roundToDtype, writeGrownModel, type GrowthReport } from './write.js';

type Resolved = Required<Omit<GrowOptions, 'targetConfig' | 'data' | 'maxTokens' | 'dtype' | 'maxShardSize' | 'backend' | 'threads' | 'onProgress' | keyof import('./target.js').TargetOptions>> & GrowOptions;

function withDefaults(options: GrowOptions): Resolved {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...GROW_DEFAULTS, overwrite: false, ...defined } as Resolved;
  if (!GROWTH_METHODS.includes(o.method)) {
    throw new UsageError(`--method: unknown method "${o.method}" (expected one of ${GROWTH_METHODS.join(', ')})`, { flag: '--method' });
  }
  const positive: [keyof Resolved, string][] = [['batchSize', '--batch-size'], ['seqLen', '--seq-len'], ['gradAccum', '--grad-accum']];
  for (const [key, flag] of positive) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new UsageError(`${flag}: expected a positive integer, got ${String(v)}`, { flag });
  }
  if (!Number.isInteger(o.steps) || o.steps < 0) throw new UsageError(`--steps: expected a non-negative integer, got ${o.steps}`, { flag: '--steps' });
  if (!(o.heldOut > 0 && o.heldOut < 1)) throw new UsageError(`--held-out: expected a fraction between 0 and 1, got ${o.heldOut}`, { flag: '--held-out' });
  return o;
}

/** --target-config: a config.json file, or a model directory holding one. */
async function readTargetConfig(file: string): Promise<Record<string, unknown>> {
  if ((await stat(file).catch(() => undefined))?.isDirectory()) return readConfig(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--target-config: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { flag: '--target-config', file });
  }
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`--target-config: ${file} is not a JSON object (expected a config.json)`, { flag: '--target-config', file });
}

/** The source, target and plan of a growth run; no data is read and nothing is written. */
export async function planFromOptions(options: GrowOptions, source: Pick<LoadedModel, 'description' | 'dims' | 'match'>): Promise<GrowthPlan> {
  const o = withDefaults(options);
  let targetOptions: import('./target.js').TargetOptions = options;
  if (o.targetConfig) {
    const file = o.targetConfig;
    const config = await readTargetConfig(file);
    const resolved = resolveArchitecture(config, file);
    if (resolved.description !== source.description) {
      throw new UsageError(`--target-config: ${file} is a ${resolved.dims.modelType} config but the source is ${source.dims.modelType}`, { flag: '--target-config' });
    }
    targetOptions = { ...targetOptionsFromDims(resolved.dims), ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  }
  const target = resolveTarget(source.dims, targetOptions, source.description);
  return planGrowth({ description: source.description, source: source.dims, target, method: o.method, optionalPresent: source.match.optionalPresent });
}

/** Held-out loss is measured three times per run; this many tokens give a stable number quickly. */
export const MAX_HELD_OUT_TOKENS = 16_384;

function capHeldOut(split: { train: Int32Array; heldOut: Int32Array }, seqLen: number): { train: Int32Array; heldOut: Int32Array } {
  const limit = Math.max(seqLen, Math.floor(MAX_HELD_OUT_TOKENS / seqLen) * seqLen);
  return { train: split.train, heldOut: split.heldOut.subarray(0, Math.min(split.heldOut.length, limit)) };
}

const getter = (weights: ReadonlyMap<string, tf.Tensor>) => (name: string): tf.Tensor => {
  const t = weights.get(name);
  if (!t) throw new Error(`no tensor "${name}"`);
  return t;
};

/** Says what the learning phase will need and refuses to start one that cannot fit. */
function checkLearningMemory(plan: GrowthPlan, shape: LearningShape, backend: BackendInfo, progress: (e: GrowEvent) => void): void {
  const estimate = estimateLearningMemory(plan, shape);
  const limit = learningMemoryLimit(backend.name, undefined, backend.adapter);
  const parts = `source ${formatBytes(estimate.sourceBytes)}, operator ${formatBytes(estimate.operatorBytes)}, optimizer ${formatBytes(estimate.optimizerBytes)}, grown model ${formatBytes(estimate.grownBytes)}, activations ${formatBytes(estimate.activationBytes)}`;
  progress({ phase: 'load', message: `learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts})` });
  const hint = `${shape.recompute ? '' : 'add --recompute (activations of one layer at a time), '}lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) and raise --grad-accum to keep tokens per step, or use the tensorflow backend`;
  if (estimate.totalBytes > limit.bytes) {
    throw new LigoError(
      `the learning phase needs about ${formatBytes(estimate.totalBytes)} (${parts}), more than ${formatBytes(limit.bytes)} (${limit.reason})`,
      { hint },
    );
  }
  if (limit.tensorBytes !== undefined && estimate.largestTensorBytes > limit.tensorBytes) {
    throw new LigoError(
      `the learning phase needs a ${formatBytes(estimate.largestTensorBytes)} tensor, more than ${formatBytes(limit.tensorBytes)} (${limit.tensorReason})`,
      { hint: `lower --batch-size (${shape.batchSize}) or --seq-len (${shape.seqLen}) (logits are batch x seq x vocabulary), or use --backend wasm` },
    );
  }
}

/** The plan, plus for LiGO what its learning phase needs in memory. */
export type GrowthDryRun = GrowthPlan & { learningMemory?: MemoryEstimate };

/** What `grow` would do (`--dry-run`): the plan, from config.json and tensor headers only. */
export async function planGrow(options: GrowOptions): Promise<GrowthDryRun> {
  const o = withDefaults(options);
  const source = await openModel(options.source);
  try {
    const plan = await planFromOptions(options, source);
    if (!methodRecipe(o.method, source.description, o.init).learns) return plan;
    const shape = { batchSize: o.batchSize, seqLen: Math.min(o.seqLen, source.dims.maxPositions), gradAccum: o.gradAccum, recompute: o.recompute };
    return { ...plan, learningMemory: estimateLearningMemory(plan, shape) };
  } finally {
    await source.close();
  }
}

const missingDataError = (): UsageError =>
  new UsageError('--data: the ligo method learns its operator on text; pass --data <file> (.txt, .jsonl or .bin)', { flag: '--data' });

/**
 * Grows a checkpoint: plan, initialize the operator for the method, learn it on data (LiGO),
 * measure held-out loss before and after, and write the grown model in Hugging Face layout.
 */
export async function grow(options: GrowOptions): Promise<GrowthReport> {
  const o = withDefaults(options);
  const started = performance.now();
  const progress = o.onProgress ?? (() => undefined);
  const backend = await initBackend({ backend: o.backend, threads: o.threads, log: (message) => progress({ phase: 'load', message }) });
  await checkOutputDir(o.out, o.overwrite);
  if (!o.data) {
    // Nothing to learn or measure: stream the grown model from the source, never holding it whole.
    const opened = await openModel(o.source);
    try {
      const plan = await planFromOptions(o, opened);
      const recipe = methodRecipe(o.method, opened.description, o.init);
      if (recipe.learns) throw missingDataError();
      return await growStreamed({ options: o, source: opened, plan, recipe, backend: backend.name, startedAt: started, progress });
    } finally {
      await opened.close();
    }
  }
  progress({ phase: 'load', message: `loading ${o.source}` });
  const small = await loadModel(o.source);
  let operator: GrowthOperator | undefined;
  let grown: Map<string, tf.Tensor> | undefined;
  try {
    const plan = await planFromOptions(o, small);
    const recipe = methodRecipe(o.method, small.description, o.init);
    const tokenizer = o.data && !o.data.endsWith('.bin') ? await loadTokenizer(o.source) : undefined;
    if (tokenizer && tokenizer.vocabSize > small.dims.vocabSize) {
      throw new UsageError(`${o.source}: tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${small.dims.vocabSize}`, { file: o.source });
    }
    const seqLen = Math.min(o.seqLen, small.dims.maxPositions);
    if (recipe.learns) checkLearningMemory(plan, { batchSize: o.batchSize, seqLen, gradAccum: o.gradAccum, recompute: o.recompute }, backend, progress);
    const tokens = o.data ? await loadTokens({ file: o.data, tokenizer, maxTokens: o.maxTokens }) : undefined;
    if (tokens && o.data) checkTokenIds(tokens, small.dims.vocabSize, o.data);
    const split = tokens ? capHeldOut(heldOutSplit(tokens, o.heldOut, seqLen, { file: o.data }), seqLen) : undefined;
    const maskTokenId = small.dims.objective === 'masked' ? await maskTokenIdFor(o.source, small.config, tokenizer) : undefined;
    const evaluate = async (dims: typeof small.dims, weights: ReadonlyMap<string, tf.Tensor>): Promise<number | undefined> =>
      split ? (await evaluateTokens({ dims, weights: getter(weights), tokens: split.heldOut, seqLen, batchSize: o.batchSize, maskTokenId })).loss : undefined;

    progress({ phase: 'evaluate', message: 'held-out loss of the source model' });
    const heldOutSource = await evaluate(small.dims, small.weights);
    const random = createRng(o.seed);
    const smallWeights = small.weight;
    operator = recipe.depth ? GrowthOperator.initialize(plan, { depth: recipe.depth, noise: recipe.learns ? LIGO_INIT_NOISE : 0, random }) : undefined;
    const materialize = (): Map<string, tf.Tensor> =>
      operator
        ? materializeAll(plan.tensors, smallWeights, operator)
        : new Map(plan.tensors.map((t, i) => [t.name, freshTensor(t.init, t.shape, o.seed * 7919 + i)]));

    grown = materialize();
    progress({ phase: 'evaluate', message: 'held-out loss of the grown model at initialization' });
    const heldOutInit = await evaluate(plan.target, grown);
    let learned: Awaited<ReturnType<typeof learnOperator>> | undefined;
    if (recipe.learns && operator && split && o.steps > 0) {
      tf.dispose([...grown.values()]);
      grown = undefined;
      const sampler = new BatchSampler(split.train, { batchSize: o.batchSize, seqLen, seed: o.seed });
      learned = await learnOperator({
        plan,
        operator,
        small: smallWeights,
        nextBatch: () => tf.tensor2d(sampler.next(), [o.batchSize, seqLen], 'int32'),
        maskTokenId: maskTokenId ?? 0,
        options: { ...o, seed: o.seed },
        onStep: (e) => progress({ phase: 'learn', ...e }),
      });
      grown = materialize();
    }
    const dtype = outputDtype(o.dtype, small.storageDtype);
    grown = await roundToDtype(grown, dtype);
    progress({ phase: 'evaluate', message: 'held-out loss of the grown model as written' });
    const heldOutGrown = learned || dtype !== 'F32' ? await evaluate(plan.target, grown) : heldOutInit;
    const sourceConfig = small.config;
    const config = targetConfig(sourceConfig, small.dims, plan.target, small.description);
    const grownWeight = getter(grown);
    const learnedOperator = operator;
    return await writeGrownModel({
      out: o.out,
      overwrite: o.overwrite,
      source: o.source,
      plan,
      config,
      tensor: async (t) => tf.clone(grownWeight(t.name)),
      saveOperator: learnedOperator ? (dir) => writeOperator(dir, learnedOperator, [...small.match.optionalPresent]) : undefined,
      sourceDtype: small.storageDtype,
      dtype,
      maxShardSize: o.maxShardSize,
      command: o.command,
      onProgress: (tensor, done, total) => progress({ phase: 'write', tensor, done, total }),
      startedAt: started,
      report: {
        source: o.sourceLabel ?? o.source,
        method: o.method,
        init: recipe.depth ? describeDepthInit(recipe.depth) : 'random',
        steps: learned ? o.steps : 0,
        data: o.data ?? null,
        tokens: tokens?.length ?? 0,
        seed: o.seed,
        backend: backend.name,
        seqLen,
        batchSize: o.batchSize,
        lr: o.lr,
        lossFirstStep: learned?.losses[0] ?? null,
        lossLastStep: learned?.losses[learned.losses.length - 1] ?? null,
        heldOut: { source: heldOutSource ?? null, grownAtInit: heldOutInit ?? null, grown: heldOutGrown ?? null, tokens: split?.heldOut.length ?? 0 },
        learnTokensPerSecond: learned?.tokensPerSecond ?? null,
      },
    });
  } finally {
    if (grown) tf.dispose([...grown.values()]);
    operator?.dispose();
    small.dispose();
  }
}

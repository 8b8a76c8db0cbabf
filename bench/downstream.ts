/**
 * Downstream benchmark (`npm run bench:downstream`): does growth, and LiGO's learned operator in
 * particular, save compute when the grown model is trained further?
 *
 * Corpus: nlp-corpus (npm devDependency, ~9 MB of English sentences from many sources, not the
 * fixture text), byte-level (token = UTF-8 byte, the fixture tokenizer's ids). Documents 0-89
 * train; the learning phase selects its operator on windows of documents 90-94 and every loss
 * reported is on windows of documents 95-99.
 *
 * 1. A source model is pretrained by the benchmark (seeded; cached under bench/.cache/) for a few
 *    hundred steps: useful but far from converged.
 * 2. It is grown with every method at an integer (2x) and a non-integer (1.5x) width factor, depth
 *    doubled; `ligo` learns its operator with the `ligo grow` defaults ("ligo"), and with the
 *    defaults before issue 12 ("ligo-v0") in the same run.
 * 3. Every grown model and a scratch model of the target shape are trained by the same full-model
 *    trainer (src/train/full.ts: all weights, AdamW, warmup + cosine, same steps, same batches),
 *    with held-out loss every EVAL_EVERY steps. net2net and ligo are also trained with the
 *    schedule recommended for grown models (src/train/downstream.ts: "/recommended" rows).
 *
 * Reported per run: held-out loss right after growth, the curve, the re-warm bump (largest rise
 * above the start in the first BUMP_WINDOW steps), the step reaching scratch's final loss and the
 * compute saved against scratch (the paper's metric, learning phase counted), and the same against
 * net2net's final loss and compute. FLOPs: bench/lib/flops.ts (training step = 3 x forward;
 * learning step = 3 x (forward + materialization) plus the teacher's forward with --distill, plus
 * every selection evaluation).
 *
 * Flags: --quick (smoke run, minutes), --families gpt2,llama, --threads N (wasm threads, default
 * 1: on a busy 2-core machine one thread per process is fastest), --steps N (downstream steps).
 * Prints a table and writes bench/results/downstream.json (downstream-quick.json with --quick).
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, resolveArchitecture, tensorSpecs, type ModelDims } from '../src/arch/index.js';
import { initBackend } from '../src/backend/index.js';
import { createCheckpointWriter } from '../src/checkpoint/index.js';
import { BatchSampler, createRng } from '../src/data/index.js';
import { evaluateTokens } from '../src/eval/index.js';
import { materializeAll } from '../src/growth/materialize.js';
import { methodRecipe } from '../src/growth/methods.js';
import { startingOperator } from '../src/growth/operator.js';
import { GROW_DEFAULTS, LIGO_V0_DEFAULTS, type LigoRecipe } from '../src/pipeline/options.js';
import { planGrowth, type GrowthMethod, type GrowthPlan } from '../src/growth/plan.js';
import { freshTensor } from '../src/growth/random_init.js';
import { resolveTarget } from '../src/growth/target.js';
import type { Weights } from '../src/models/index.js';
import { recommendedSchedule } from '../src/train/downstream.js';
import { toVariables, trainModel, type TrainOptions } from '../src/train/full.js';
import { learnOperator, type LearnOptions } from '../src/train/learn.js';
import { computeSaved, rewarmBump, stepToReach, type CurvePoint } from './lib/downstream.js';
import { forwardFlopsPerToken, materializeFlops } from './lib/flops.js';
import { argValue, fmt, hasFlag, machine, median, printTable, writeResult } from './lib/report.js';

const QUICK = hasFlag('--quick');
process.env.LIGO_WASM_THREADS ??= argValue('--threads', '1');
const FAMILIES = argValue('--families', 'gpt2').split(',') as Family[];
const ONLY = argValue('--only', '');
/**
 * --seed N: a replicate. Shifts every seed after the source's (scratch init, operator noise, the
 * learning phase's and the downstream trainer's batches); runs of several seeds are merged with
 * --merge and compared within their seed.
 */
const SEED = Number(argValue('--seed', '0'));

const CACHE = path.join('bench', '.cache', 'downstream');
const SEQ = 64;
const BATCH = 8;
const SOURCE_STEPS = Number(argValue('--source-steps', QUICK ? '60' : '250'));
const SOURCE_SCHEDULE: TrainOptions = { steps: SOURCE_STEPS, lr: 3e-3, warmup: Math.round(SOURCE_STEPS / 10), weightDecay: 0, clip: 1, seed: 1 };
const STEPS = Number(argValue('--steps', QUICK ? '24' : '150'));
const EVAL_EVERY = QUICK ? 6 : 15;
/** The scratch schedule, also used for every grown model in the main rows (the re-warm). */
const SCHEDULE: TrainOptions = { steps: STEPS, lr: 2e-3, warmup: Math.round(STEPS / 10), weightDecay: 0, clip: 1, seed: 2 };
/**
 * Downstream schedules of grown models: the scratch one (rewarm: the same peak and short warmup),
 * the recommended one (src/train/downstream.ts: the same peak reached over a third of the run), and
 * lower peaks (0.1x, 0.3x, 0.5x: a converged source needs one), measured with --levers --schedule.
 */
const SCHEDULES = {
  rewarm: SCHEDULE,
  recommended: recommendedSchedule(SCHEDULE),
  'lr0.3x': { ...SCHEDULE, lr: SCHEDULE.lr * 0.3 },
  'lr0.5x': { ...SCHEDULE, lr: SCHEDULE.lr / 2 },
  'lr0.1x': { ...SCHEDULE, lr: SCHEDULE.lr * 0.1 },
};
/** Names the schedules had in runs made before the recommendation was chosen (merged with --merge). */
const FORMER_NAMES: Record<string, keyof typeof SCHEDULES> = { gentle: 'lr0.3x', half: 'lr0.5x', 'long-warmup': 'recommended' };
const HELD_OUT_TOKENS = QUICK ? 1024 : 3072;
const SELECT_TOKENS = QUICK ? 1024 : 2048;
const LIGO_STEPS = QUICK ? 10 : undefined;
const BUMP_WINDOW = Math.round(STEPS / 2);

type Family = 'gpt2' | 'llama';

const SOURCES: Record<Family, Record<string, unknown>> = {
  // The bundled fixture's architecture (2 x 64, byte-level), pretrained here on a different corpus.
  gpt2: JSON.parse(readFileSync(path.join('fixtures', 'tiny-gpt2', 'config.json'), 'utf8')) as Record<string, unknown>,
  llama: {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: 256,
    max_position_embeddings: 128,
    hidden_size: 64,
    intermediate_size: 176,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 4,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: 10,
    eos_token_id: 10,
    torch_dtype: 'float32',
  },
};

const TARGETS = [
  { label: '2x', hiddenSize: 128, layers: 4 },
  { label: '1.5x', hiddenSize: 96, layers: 4 },
];

const log = (m: string): void => void process.stderr.write(`${m}\n`);

/**
 * Held-out documents of nlp-corpus; every other document trains. Each document lists its
 * sentences grouped by source (film reviews, UN text, lyrics, ...), so held-out and selection
 * windows are spread evenly over their documents, never one contiguous stretch of one source.
 */
const TEST_DOCS = [95, 96, 97, 98, 99];
/** Where the learning phase picks its operator (--keep-best): documents neither trained on nor tested on. */
const SELECT_DOCS = [90, 91, 92, 93, 94];

async function corpus(): Promise<{ train: Int32Array; heldOut: Int32Array; select: Int32Array; bytes: number }> {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('nlp-corpus')), '..', '..', 'builds');
  const train: string[] = [];
  const heldOut: string[] = [];
  const select: string[] = [];
  for (let i = 0; i < 100; i++) {
    const sentences = JSON.parse(await readFile(path.join(dir, `doc-${i}.json`), 'utf8')) as string[];
    (TEST_DOCS.includes(i) ? heldOut : SELECT_DOCS.includes(i) ? select : train).push(sentences.join('\n'));
  }
  // Byte-level: the fixture tokenizer maps each UTF-8 byte to the id of the same value.
  const bytes = (texts: string[]): Int32Array => Int32Array.from(Buffer.from(texts.join('\n'), 'utf8'));
  const [t, h, s] = [bytes(train), bytes(heldOut), bytes(select)];
  return { train: t, heldOut: h, select: s, bytes: t.length + h.length + s.length };
}

/** `limit / SEQ` windows of SEQ tokens at evenly spaced starts over all of `tokens`. */
function spreadWindows(tokens: Int32Array, limit: number): Int32Array {
  const count = Math.floor(limit / SEQ);
  const out = new Int32Array(count * SEQ);
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * (tokens.length - SEQ)) / Math.max(1, count - 1));
    out.set(tokens.subarray(start, start + SEQ), i * SEQ);
  }
  return out;
}

function freshWeights(dims: ModelDims, config: Record<string, unknown>, seed: number): Map<string, tf.Tensor> {
  const { description } = resolveArchitecture(config);
  return new Map(tensorSpecs(description, dims).map((s, i) => [s.name, freshTensor(s.template.init, s.shape, seed * 7919 + i + 1)]));
}

/** Pretrains (or loads the cached) source model; returns its directory. */
async function sourceModel(family: Family, train: Int32Array, evaluate: (dims: ModelDims, w: Weights) => Promise<number>): Promise<{ dir: string; heldOut: number; seconds: number }> {
  const config = SOURCES[family];
  const key = JSON.stringify({ config, SOURCE_SCHEDULE, SEQ, BATCH, version: 1 });
  const dir = path.join(CACHE, `source-${family}${QUICK ? '-quick' : ''}${SOURCE_STEPS === 250 ? '' : `-${SOURCE_STEPS}`}`);
  const meta = path.join(dir, 'training.json');
  if (existsSync(meta)) {
    const saved = JSON.parse(await readFile(meta, 'utf8')) as { key: string; heldOutLoss: number; seconds: number };
    if (saved.key === key) {
      log(`${family}: cached source model ${dir} (held-out ${saved.heldOutLoss.toFixed(4)})`);
      return { dir, heldOut: saved.heldOutLoss, seconds: saved.seconds };
    }
  }
  const { description, dims } = resolveArchitecture(config);
  const init = freshWeights(dims, config, 1);
  const vars = toVariables(init);
  tf.dispose([...init.values()]);
  const sampler = new BatchSampler(train, { batchSize: BATCH, seqLen: SEQ, seed: 11 });
  log(`${family}: pretraining the source model for ${SOURCE_STEPS} steps`);
  const result = await trainModel({
    dims,
    weights: vars,
    nextBatch: () => tf.tensor2d(sampler.next(), [BATCH, SEQ], 'int32'),
    options: SOURCE_SCHEDULE,
    evalEvery: SOURCE_STEPS,
    evaluate: (w) => evaluate(dims, w),
  });
  const heldOutLoss = result.curve[result.curve.length - 1].loss;
  await mkdir(dir, { recursive: true });
  const specs = tensorSpecs(description, dims);
  const writer = await createCheckpointWriter(dir, specs.map((s) => ({ name: s.name, dtype: 'F32' as const, shape: s.shape })));
  for (const s of specs) await writer.write(s.name, (await (vars.get(s.name) as tf.Tensor).data()) as Float32Array);
  await writer.close();
  tf.dispose([...vars.values()]);
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await copyFile(path.join('fixtures', 'tiny-gpt2', 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  await writeFile(meta, `${JSON.stringify({ key, heldOutLoss, seconds: result.seconds }, null, 2)}\n`);
  log(`${family}: source held-out ${heldOutLoss.toFixed(4)} after ${SOURCE_STEPS} steps (${result.seconds.toFixed(0)} s)`);
  return { dir, heldOut: heldOutLoss, seconds: result.seconds };
}

/**
 * How far the grown model's residual-stream dimensions (input embedding columns) are from being
 * copies of one another: per column, the distance to its nearest other column relative to its
 * norm; the median over columns (0: every dimension has an exact twin). A function-preserving
 * width growth duplicates units, and gradient steps keep exact duplicates equal (their gradients
 * are equal), so such a model keeps the source's width however long it trains; measured after
 * downstream training, this shows whether a method's symmetry break survived or grew.
 */
async function twinDistance(description: Parameters<typeof tensorSpecs>[0], dims: ModelDims, weights: ReadonlyMap<string, tf.Tensor>): Promise<number> {
  // The token embedding: the global [vocab, hidden] tensor (every family has one).
  const spec = tensorSpecs(description, dims).find((s) => s.template.group === undefined && s.shape.length === 2 && s.shape[0] === dims.vocabSize && s.shape[1] === dims.hiddenSize);
  const t = spec ? weights.get(spec.name) : undefined;
  if (!t) return Number.NaN;
  const [rows, cols] = t.shape;
  const data = (await t.data()) as Float32Array;
  const nearest: number[] = [];
  for (let i = 0; i < cols; i++) {
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += data[r * cols + i] ** 2;
    let best = Infinity;
    for (let j = 0; j < cols; j++) {
      if (j === i) continue;
      let d = 0;
      for (let r = 0; r < rows; r++) d += (data[r * cols + i] - data[r * cols + j]) ** 2;
      best = Math.min(best, d);
    }
    nearest.push(Math.sqrt(best / Math.max(norm, 1e-30)));
  }
  return median(nearest);
}

/** Forward FLOPs per token of a model of `dims` (what flops.ts counts for a plan's target). */
function forwardFlopsOf(plan: GrowthPlan, which: 'source' | 'target', description: Parameters<typeof planGrowth>[0]['description']): number {
  if (which === 'target') return forwardFlopsPerToken(plan, SEQ);
  const self = planGrowth({ description, source: plan.source, target: plan.source, method: 'net2net', optionalPresent: new Set() });
  return forwardFlopsPerToken(self, SEQ);
}

type Variant = { name: string; method: GrowthMethod | 'scratch'; schedule: Run['schedule']; learn?: LigoRecipe };

/**
 * --levers: the learning phase's levers, each measured by held-out loss right after growth (and,
 * without --no-train, downstream): learning rates of width matrices and depth coefficients,
 * keeping the best operator, distillation, steps.
 */
const LEVERS = hasFlag('--levers') || hasFlag('--recipes');
const LEVER_NAMES = argValue('--levers', '').startsWith('--') ? [] : argValue('--levers', '').split(',').filter((x) => x !== '');
const TRAIN_DOWNSTREAM = !hasFlag('--no-train');
const ONLY_TARGETS = argValue('--targets', '') ? argValue('--targets', '').split(',') : undefined;
function leverVariants(): Variant[] {
  const keep = { ...LIGO_V0_DEFAULTS, keepBest: true, selectEvery: 25 };
  const recipes: [string, LigoRecipe][] = [
    ['ligo', GROW_DEFAULTS],
    ['v0', LIGO_V0_DEFAULTS],
    ['keep', keep],
    ['depth5e-3', { ...keep, depthLr: 5e-3 }],
    ['width3e-4+depth5e-3', { ...keep, lr: 3e-4, depthLr: 5e-3 }],
    ['width1e-3+depth1e-2', { ...keep, lr: 1e-3, depthLr: 1e-2 }],
    ['depth5e-3+distill', { ...keep, depthLr: 5e-3, distill: 1 }],
    ['width3e-4+depth5e-3+distill', { ...keep, lr: 3e-4, depthLr: 5e-3, distill: 1 }],
    ['noise1e-2+depth5e-3', { ...keep, depthLr: 5e-3, noise: 1e-2 }],
    // Short and cheap: 30 steps of 4 x 64 tokens, selection every 10.
    ['short', { ...keep, steps: 30, seqLen: 64, selectEvery: 10, lr: 3e-4, depthLr: 5e-3 }],
    ['short+noise1e-2', { ...keep, steps: 30, seqLen: 64, selectEvery: 10, lr: 3e-4, depthLr: 5e-3, noise: 1e-2 }],
    // Cheap: 20 steps of 4 x 64 tokens, selection every 10 (about 10% of a 100-step downstream run).
    ['tiny', { ...keep, steps: 20, seqLen: 64, selectEvery: 10, warmup: 5, lr: 3e-4, depthLr: 5e-3 }],
    ['tiny+distill', { ...keep, steps: 20, seqLen: 64, selectEvery: 10, warmup: 5, lr: 3e-4, depthLr: 5e-3, distill: 1 }],
    ['tiny+noise1e-2', { ...keep, steps: 20, seqLen: 64, selectEvery: 10, warmup: 5, lr: 3e-4, depthLr: 5e-3, noise: 1e-2 }],
    // The defaults with the width matrices at 5e-5: depth learns, width barely moves.
    ['ligo-w5e-5', { ...GROW_DEFAULTS, lr: 5e-5 }],
    ['fast', { ...keep, steps: 30, seqLen: 64, selectEvery: 10, warmup: 5, lr: 1e-3, depthLr: 2e-2 }],
    ['tiny+split0.2', { ...keep, steps: 20, seqLen: 64, selectEvery: 10, warmup: 5, lr: 3e-4, depthLr: 5e-3, splitNoise: 0.2 }],
    ['split0.2-only', { ...keep, steps: 0, keepBest: false, splitNoise: 0.2 }],
    ['split0.5-only', { ...keep, steps: 0, keepBest: false, splitNoise: 0.5 }],
    // No learning: the starting operator with symmetry-breaking noise (what noise alone does downstream).
    ['noise1e-2-only', { ...keep, steps: 0, keepBest: false, noise: 1e-2 }],
    ['noise3e-2-only', { ...keep, steps: 0, keepBest: false, noise: 3e-2 }],
    ['short+noise3e-2', { ...keep, steps: 30, seqLen: 64, selectEvery: 10, lr: 3e-4, depthLr: 5e-3, noise: 3e-2 }],
    // The defaults with an exact symmetry break of the split (net2net's copies made unequal).
    ['ligo+split0.2', { ...GROW_DEFAULTS, splitNoise: 0.2 }],
    // A longer, faster phase: 50 steps of 4 x 64 tokens at 1e-3 (width) and 1e-2 (depth).
    ['mid', { ...GROW_DEFAULTS, steps: 50, batchSize: 4, seqLen: 64, lr: 1e-3, depthLr: 1e-2 }],
    ['mid+split0.2', { ...GROW_DEFAULTS, steps: 50, batchSize: 4, seqLen: 64, lr: 1e-3, depthLr: 1e-2, splitNoise: 0.2 }],
  ];
  // --recipes 'name:key=value,key=value;name2:...': recipes over the ligo defaults, for sweeps.
  for (const spec of argValue('--recipes', '').split(';').filter((x) => x !== '')) {
    const [name, body = ''] = spec.split(':');
    const recipe: Record<string, unknown> = { ...GROW_DEFAULTS };
    for (const kv of body.split(',').filter((x) => x !== '')) {
      const [k, v] = kv.split('=');
      if (!(k in recipe)) throw new Error(`--recipes ${name}: unknown option "${k}" (one of ${Object.keys(GROW_DEFAULTS).join(', ')})`);
      recipe[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
    }
    recipes.push([name, recipe as unknown as LigoRecipe]);
    LEVER_NAMES.push(name);
  }
  const schedule = argValue('--schedule', 'rewarm') as Run['schedule'];
  if (!(schedule in SCHEDULES)) throw new Error(`--schedule: one of ${Object.keys(SCHEDULES).join(', ')}`);
  const chosen = recipes.filter(([name]) => LEVER_NAMES.length === 0 || LEVER_NAMES.includes(name));
  const suffix = schedule === 'rewarm' ? '' : `/${schedule}`;
  return [
    { name: 'scratch', method: 'scratch', schedule: 'rewarm' },
    { name: `net2net${suffix}`, method: 'net2net', schedule },
    ...chosen.map(([name, learn]): Variant => ({ name: `${name}${suffix}`, method: 'ligo', schedule, learn })),
  ];
}

interface Run {
  family: Family;
  /** The replicate (--seed); absent in runs made before seeds existed (0). */
  seed?: number;
  /** twinDistance() after downstream training. */
  twin?: number;
  target: string;
  name: string;
  method: GrowthMethod | 'scratch';
  schedule: keyof typeof SCHEDULES;
  afterGrowth: number;
  learn?: { steps: number; seconds: number; keptStep: number; selection: CurvePoint[]; options: LearnOptions };
  learnFlops: number;
  stepFlops: number;
  curve: CurvePoint[];
  seconds: number;
}

async function main(): Promise<void> {
  const backend = await initBackend({});
  const data = await corpus();
  const heldOut = spreadWindows(data.heldOut, HELD_OUT_TOKENS);
  const selectTokens = spreadWindows(data.select, SELECT_TOKENS);
  const train = data.train;
  log(`corpus: nlp-corpus, ${fmt(data.bytes / 1e6, 1)} MB; train ${fmt(train.length)} tokens, held-out ${fmt(heldOut.length)} of ${fmt(data.heldOut.length)}; backend ${backend.name}, ${process.env.LIGO_WASM_THREADS} thread(s)`);
  const evaluate = async (dims: ModelDims, w: Weights, tokens = heldOut): Promise<number> => (await evaluateTokens({ dims, weights: w, tokens, seqLen: SEQ, batchSize: 16 })).loss;

  const runs: Run[] = [];
  const sources: Record<string, { heldOut: number; seconds: number }> = {};
  const started = performance.now();
  for (const family of FAMILIES) {
    const pretrained = await sourceModel(family, train, evaluate);
    const small = await loadModel(pretrained.dir);
    // Measured again: the cache may hold a loss on another held-out size.
    const source = { ...pretrained, heldOut: await evaluate(small.dims, small.weight) };
    sources[family] = source;
    try {
      for (const t of TARGETS.filter((x) => !ONLY_TARGETS || ONLY_TARGETS.includes(x.label))) {
        const target = resolveTarget(small.dims, { hiddenSize: t.hiddenSize, layers: t.layers }, small.description);
        const plan = planGrowth({ description: small.description, source: small.dims, target, method: 'ligo', optionalPresent: small.match.optionalPresent });
        const stepFlops = 3 * forwardFlopsOf(plan, 'target', small.description) * BATCH * SEQ;
        const label = `${family} ${t.label} (${small.dims.numLayers}x${small.dims.hiddenSize} -> ${target.numLayers}x${target.hiddenSize})`;
        const variants: Variant[] = LEVERS ? leverVariants() : [
          { name: 'scratch', method: 'scratch', schedule: 'rewarm' },
          { name: 'ligo', method: 'ligo', schedule: 'rewarm', learn: GROW_DEFAULTS },
          { name: 'ligo-v0', method: 'ligo', schedule: 'rewarm', learn: LIGO_V0_DEFAULTS },
          // The defaults with net2net's even split (the default before the first-copy split).
          { name: 'ligo-even', method: 'ligo', schedule: 'rewarm', learn: { ...GROW_DEFAULTS, split: 'even' } },
          // The default start without a learning phase: what the first-copy split alone does.
          { name: 'first-only', method: 'ligo', schedule: 'rewarm', learn: { ...GROW_DEFAULTS, steps: 0, keepBest: false } },
          { name: 'net2net', method: 'net2net', schedule: 'rewarm' },
          { name: 'stack', method: 'stack', schedule: 'rewarm' },
          { name: 'interlace', method: 'interlace', schedule: 'rewarm' },
          { name: 'random', method: 'random', schedule: 'rewarm' },
          { name: 'ligo/recommended', method: 'ligo', schedule: 'recommended', learn: GROW_DEFAULTS },
          { name: 'net2net/recommended', method: 'net2net', schedule: 'recommended' },
        ];
        // ligo's learned operator is shared by its two schedules.
        const learnedCache = new Map<string, { weights: Map<string, tf.Tensor>; run: Pick<Run, 'learn' | 'learnFlops' | 'afterGrowth'> }>();
        for (const v of variants) {
          if (ONLY && !ONLY.split(',').includes(v.name)) continue;
          log(`\n${label}: ${v.name}`);
          let weights: Map<string, tf.Tensor>;
          let learn: Run['learn'];
          let learnFlops = 0;
          let afterGrowth: number;
          const cacheKey = JSON.stringify(v.learn ?? v.method);
          const cached = v.method === 'ligo' ? learnedCache.get(cacheKey) : undefined;
          if (cached) {
            weights = new Map([...cached.weights].map(([k, x]) => [k, tf.clone(x)]));
            ({ learn, learnFlops, afterGrowth } = cached.run);
          } else {
            if (v.method === 'scratch' || v.method === 'random') {
              weights = freshWeights(target, SOURCES[family], (v.method === 'scratch' ? 3 : 4) + 100 * SEED);
            } else {
              const recipe = methodRecipe(v.method, small.description, v.learn?.init ?? 'stack');
              // The fixed rules start from net2net's even split, as `ligo grow --method <rule>` does.
              const operator = startingOperator(plan, recipe, v.learn ?? { ...GROW_DEFAULTS, split: 'even' }, createRng(5 + 100 * SEED));
              if (!operator) throw new Error(`${v.method} has no operator`);
              try {
                if (recipe.learns && v.learn) {
                  const o = v.learn;
                  const options: LearnOptions = { ...o, steps: LIGO_STEPS ?? o.steps, seed: 5 + 100 * SEED };
                  const sampler = new BatchSampler(train, { batchSize: o.batchSize, seqLen: Math.min(o.seqLen, small.dims.maxPositions), seed: 7 + 100 * SEED });
                  const seqLen = sampler.seqLen;
                  let selections = 0;
                  const result = await learnOperator({
                    plan,
                    operator,
                    small: small.weight,
                    nextBatch: () => tf.tensor2d(sampler.next(), [o.batchSize, seqLen], 'int32'),
                    maskTokenId: 0,
                    options,
                    validate: o.keepBest ? async (w) => { selections++; return evaluate(target, w, selectTokens); } : undefined,
                    onSelect: (p) => log(`  select: step ${p.step} loss ${p.loss.toFixed(4)}`),
                    onStep: (e) => {
                      if (e.step % 20 === 0 || e.step === e.steps) log(`  learn step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} (${(e.elapsedMs / 1000).toFixed(0)} s)`);
                    },
                  });
                  const tokens = o.batchSize * seqLen;
                  const perStep = 3 * (forwardFlopsPerToken(plan, seqLen) * tokens + materializeFlops(plan)) + (o.distill > 0 ? forwardFlopsOf(plan, 'source', small.description) * tokens : 0);
                  learnFlops = options.steps * perStep + selections * (materializeFlops(plan) + forwardFlopsPerToken(plan, SEQ) * selectTokens.length);
                  learn = { steps: options.steps, seconds: result.seconds, keptStep: result.keptStep, selection: result.selection, options };
                  log(`  learned ${options.steps} steps in ${result.seconds.toFixed(0)} s; kept the operator of step ${result.keptStep}`);
                }
                weights = materializeAll(plan.tensors, small.weight, operator);
              } finally {
                operator.dispose();
              }
            }
            afterGrowth = await evaluate(target, (n) => weights.get(n) as tf.Tensor);
            if (v.method === 'ligo') learnedCache.set(cacheKey, { weights: new Map([...weights].map(([k, x]) => [k, tf.clone(x)])), run: { learn, learnFlops, afterGrowth } });
          }
          log(`  held-out after growth ${afterGrowth.toFixed(4)} (source ${source.heldOut.toFixed(4)})`);
          const vars = toVariables(weights);
          tf.dispose([...weights.values()]);
          const sampler = new BatchSampler(train, { batchSize: BATCH, seqLen: SEQ, seed: 13 + 100 * SEED });
          const schedule = SCHEDULES[v.schedule];
          const trained = await trainModel({
            dims: target,
            weights: vars,
            nextBatch: () => tf.tensor2d(sampler.next(), [BATCH, SEQ], 'int32'),
            options: TRAIN_DOWNSTREAM ? schedule : { ...schedule, steps: 0 },
            evalEvery: EVAL_EVERY,
            evaluate: (w) => evaluate(target, w),
            onEval: (p) => log(`  step ${p.step} held-out ${p.loss.toFixed(4)}`),
          });
          const twin = await twinDistance(small.description, target, vars);
          log(`  residual-stream dims: median distance to the nearest other dim ${twin.toExponential(2)} of its norm`);
          tf.dispose([...vars.values()]);
          runs.push({ family, seed: SEED, twin, target: t.label, name: v.name, method: v.method, schedule: v.schedule, afterGrowth, learn, learnFlops, stepFlops, curve: trained.curve, seconds: trained.seconds });
          await save(runs, sources, data, started, backend.name);
        }
        for (const { weights } of learnedCache.values()) tf.dispose([...weights.values()]);
      }
    } finally {
      small.dispose();
    }
  }
  report(runs, sources, data, (performance.now() - started) / 1000, backend.name);
  log(`wrote ${await save(runs, sources, data, started, backend.name)}`);
}

/** Writes the result file (also after every run, so a stopped benchmark keeps the runs it finished). */
async function save(runs: readonly Run[], sources: Record<string, { heldOut: number; seconds: number }>, data: { bytes: number }, started: number, backend: string): Promise<string> {
  const part = ONLY_TARGETS ? `-${ONLY_TARGETS.join('-')}` : '';
  const name = argValue('--name', LEVERS ? `ligo-levers${part}` : ONLY ? 'downstream-partial' : QUICK ? `downstream-quick${part}` : `downstream${part}`);
  return writeResult(name, {
    machine: machine(),
    backend,
    threads: Number(process.env.LIGO_WASM_THREADS),
    quick: QUICK,
    corpus: { package: 'nlp-corpus', bytes: data.bytes, heldOutDocs: TEST_DOCS, selectDocs: SELECT_DOCS, heldOutTokens: HELD_OUT_TOKENS, selectTokens: SELECT_TOKENS },
    source: { configs: Object.fromEntries(FAMILIES.map((f) => [f, SOURCES[f]])), schedule: SOURCE_SCHEDULE, batch: [BATCH, SEQ], results: sources },
    targets: TARGETS,
    downstream: { schedule: SCHEDULE, recommended: recommendedSchedule(SCHEDULE), schedules: SCHEDULES, batch: [BATCH, SEQ], evalEvery: EVAL_EVERY, bumpWindow: BUMP_WINDOW },
    ligoDefaults: GROW_DEFAULTS,
    ligoV0Defaults: LIGO_V0_DEFAULTS,
    runs: runs.map((r) => ({ ...r, ...metrics(r, runs) })),
    seconds: (performance.now() - started) / 1000,
  });
}

function metrics(r: Run, runs: readonly Run[]): { vsScratch?: number; vsNet2net?: number; reachScratch?: number; reachNet2net?: number; bump: number; final: number } {
  const same = runs.filter((x) => x.family === r.family && x.target === r.target && (x.seed ?? 0) === (r.seed ?? 0));
  const scratch = same.find((x) => x.method === 'scratch');
  const net2net = same.find((x) => x.method === 'net2net' && x.schedule === r.schedule);
  const finalOf = (x: Run): number => x.curve[x.curve.length - 1].loss;
  return {
    final: finalOf(r),
    bump: rewarmBump(r.curve, BUMP_WINDOW),
    reachScratch: scratch ? stepToReach(r.curve, finalOf(scratch)) : undefined,
    vsScratch: scratch ? computeSaved(r, scratch) : undefined,
    reachNet2net: net2net ? stepToReach(r.curve, finalOf(net2net)) : undefined,
    vsNet2net: net2net && r.method !== 'scratch' ? computeSaved(r, net2net) : undefined,
  };
}

function report(runs: readonly Run[], sources: Record<string, { heldOut: number }>, data: { bytes: number }, seconds: number, backend: string): void {
  const pct = (x: number | undefined): string => (x === undefined ? 'never' : `${fmt(100 * x, 1)}%`);
  const step = (x: number | undefined): string => (x === undefined ? 'never' : fmt(x, 0));
  const rows: string[][] = [
    ['run', 'source', 'after growth', 'learning cost', `bump (<=${BUMP_WINDOW})`, ...evalHeader(runs), 'final', 'step to scratch final', 'saved vs scratch', 'step to net2net final', 'saved vs net2net'],
  ];
  const seeds = new Set(runs.map((r) => r.seed ?? 0));
  for (const r of runs) {
    const m = metrics(r, runs);
    rows.push([
      `${r.family} ${r.target} ${r.name}${seeds.size > 1 ? ` #${r.seed ?? 0}` : ''}`,
      fmt(sources[r.family].heldOut, 3),
      fmt(r.afterGrowth, 3),
      r.learnFlops > 0 ? `${fmt((100 * r.learnFlops) / (r.stepFlops * (r.curve[r.curve.length - 1]?.step ?? STEPS)), 1)}%` : '',
      fmt(m.bump, 3),
      ...evalColumns(r),
      fmt(m.final, 3),
      step(m.reachScratch),
      pct(m.vsScratch),
      r.method === 'scratch' ? '' : step(m.reachNet2net),
      r.method === 'scratch' ? '' : pct(m.vsNet2net),
    ]);
  }
  console.log(`\nDownstream: nlp-corpus (${fmt(data.bytes / 1e6, 1)} MB, byte-level), ${STEPS} steps of ${BATCH} x ${SEQ} tokens, held-out loss (nats/token); ${backend}, ${fmt(seconds, 0)} s\n`);
  printTable(rows);
  // The same table in Markdown, for the README.
  if (seeds.size > 1) seedSummary(runs);
  console.log(['', `| ${rows[0].join(' | ')} |`, `| --- |${rows[0].slice(1).map(() => ' ---: |').join('')}`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n'));
}

/**
 * Several replicates (--seed, merged): per run name, the mean and the spread (min..max) over seeds
 * of the loss after growth, the final loss, and the compute saved against net2net and scratch of
 * the same seed.
 */
function seedSummary(runs: readonly Run[]): void {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.family} ${r.target} ${r.name}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const stat = (xs: (number | undefined)[], scale: number, digits: number): string => {
    if (xs.length === 0) return '';
    const never = xs.filter((x) => x === undefined).length;
    if (never > 0) return `never in ${never} of ${xs.length}`;
    const v = (xs as number[]).map((x) => x * scale);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return v.length === 1 ? `${fmt(mean, digits)} (1 seed)` : `${fmt(mean, digits)} (${fmt(Math.min(...v), digits)}..${fmt(Math.max(...v), digits)})`;
  };
  // A seed counts for "saved vs X" only where X ran with that seed.
  const has = (r: Run, method: Run['method']): boolean => runs.some((x) => x.method === method && x.family === r.family && x.target === r.target && (x.seed ?? 0) === (r.seed ?? 0) && (method !== 'net2net' || x.schedule === r.schedule));
  const rows = [['run', 'seeds', 'after growth', 'final', 'twin distance', 'saved vs scratch %', 'saved vs net2net %']];
  for (const [key, rs] of groups) {
    const m = rs.map((r) => ({ r, ...metrics(r, runs) }));
    rows.push([
      key,
      String(rs.length),
      stat(rs.map((r) => r.afterGrowth), 1, 4),
      stat(m.map((x) => x.final), 1, 4),
      rs.every((r) => r.twin !== undefined) ? stat(rs.map((r) => r.twin), 1, 3) : '',
      rs[0].method === 'scratch' ? '' : stat(m.filter((x) => has(x.r, 'scratch')).map((x) => x.vsScratch), 100, 1),
      rs[0].method === 'net2net' || rs[0].method === 'scratch' ? '' : stat(m.filter((x) => has(x.r, 'net2net')).map((x) => x.vsNet2net), 100, 1),
    ]);
  }
  console.log('\nMean (min..max) over seeds:\n');
  printTable(rows);
  console.log(['', `| ${rows[0].join(' | ')} |`, `| --- |${rows[0].slice(1).map(() => ' ---: |').join('')}`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n'));
}

/** The curve at a few steps (every quarter of the run). */
const CURVE_COLUMNS = [0.1, 0.25, 0.5, 0.75].map((f) => Math.round((STEPS * f) / EVAL_EVERY) * EVAL_EVERY);
const evalHeader = (_: readonly Run[]): string[] => CURVE_COLUMNS.map((s) => `@${s}`);
const evalColumns = (r: Run): string[] => CURVE_COLUMNS.map((s) => fmt(r.curve.find((p) => p.step === s)?.loss ?? Number.NaN, 3));

/**
 * --merge a.json,b.json: one report from runs made by separate processes (--targets 2x and
 * --targets 1.5x side by side on a busy machine, or several --seed replicates): the table is
 * printed again and written to --name (default downstream.json, downstream-quick.json with
 * --quick). --rename old=new renames rows, --drop a,b leaves rows out.
 */
async function merge(files: string[]): Promise<void> {
  type Saved = { runs: Run[]; seconds: number; source: { results: Record<string, { heldOut: number }> }; corpus: { bytes: number }; backend: string };
  const parts = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Saved & Record<string, unknown>));
  const renamed = (r: Run): Run => {
    const now = FORMER_NAMES[r.schedule as string];
    return now ? { ...r, schedule: now, name: r.name.replace(`/${r.schedule}`, `/${now}`) } : r;
  };
  // --rename [file.json:]old=new,...: rows made under another name (an exploratory --recipes
  // sweep, or a default since changed) given the name of the row whose settings they have.
  const renames = argValue('--rename', '').split(',').filter((x) => x.includes('=')).map((x) => {
    const [scope, pair] = x.includes(':') ? x.split(':') : ['', x];
    const [from, to] = pair.split('=');
    return { scope, from, to };
  });
  const drop = argValue('--drop', '').split(',');
  const runs = parts
    .flatMap((p, i) =>
      p.runs.map((r) => {
        const rule = renames.find((x) => x.from === r.name && (x.scope === '' || x.scope === path.basename(files[i])));
        return rule ? { ...r, name: rule.to } : r;
      }),
    )
    .map(renamed)
    .filter((r) => !drop.includes(r.name));
  const seconds = Math.max(...parts.map((p) => p.seconds));
  const sources = Object.assign({}, ...parts.map((p) => p.source.results)) as Record<string, { heldOut: number }>;
  report(runs, sources, parts[0].corpus, seconds, parts[0].backend);
  const file = await writeResult(argValue('--name', QUICK ? 'downstream-quick' : 'downstream'), {
    ...parts[0],
    source: { ...(parts[0].source as object), configs: Object.assign({}, ...parts.map((p) => (p.source as { configs?: object }).configs)), results: sources },
    downstream: { ...(parts[0].downstream as object), recommended: recommendedSchedule(SCHEDULE), schedules: SCHEDULES },
    mergedFrom: files.map((f) => path.basename(f)),
    runs: runs.map((r) => ({ ...r, ...metrics(r, runs) })),
    seconds,
  });
  log(`wrote ${file}`);
}

const MERGE = argValue('--merge', '');
if (MERGE) await merge(MERGE.split(','));
else await main();

/**
 * Downstream benchmark (`npm run bench:downstream`): does growth, and LiGO's learned operator in
 * particular, save compute when the grown model is trained further?
 *
 * Corpus: nlp-corpus (npm devDependency, ~9 MB of English sentences from many sources, not the
 * fixture text), byte-level (token = UTF-8 byte, the fixture tokenizer's ids). Documents 0-89
 * train; the learning phase selects its operator on windows of documents 90-94 and every loss
 * reported is on windows of documents 95-99.
 *
 * 1. A source model is pretrained by the benchmark (seeded; cached under bench/.cache/) for
 *    --source-steps steps: useful but far from converged.
 * 2. It is grown at an integer (2x) and a non-integer (1.5x) width factor, depth doubled, by each
 *    row of bench/lib/downstream_recipes.ts, with exactly the code `ligo grow` runs
 *    (growInMemory: the method's starting operator and, for ligo, its learning phase).
 * 3. Every grown model and a scratch model of the target shape are trained by the full-model
 *    trainer `ligo compare` uses (src/train/full.ts: all weights, AdamW, warmup + cosine, same
 *    steps, same batches), held-out loss every EVAL_EVERY steps; "/recommended" rows train with
 *    the single schedule once recommended for grown models (src/train/downstream.ts),
 *    "/split-default", "/split" and "/lemon" with learning rates per group over the weights the
 *    growth added (src/train/lr_groups.ts: the recipe `ligo compare` trains with).
 *
 * Reported per run (bench/lib/downstream_report.ts): held-out loss right after growth, the curve,
 * the re-warm bump, the step reaching scratch's final loss and the compute saved against scratch
 * (the paper's metric, learning phase counted), and the same against net2net. FLOPs:
 * src/growth/flops.ts.
 *
 * Flags: --quick (smoke run, minutes), --families gpt2,llama[,gpt2-96], --targets 2x,1.5x[,1.33x,1.25x], --steps N
 * (downstream steps), --source-steps N, --seed N (a replicate: shifts every seed after the
 * source's), --only a,b (rows by name), --levers a,b (ligo recipes of LEVERS against scratch and
 * net2net), --recipes 'name:key=value,...;...' (more recipes over grow's defaults), --schedule S
 * (the levers' downstream schedule), --no-train (loss after growth only), --threads N (wasm
 * threads, default 1: on a busy 2-core machine one thread per process is fastest), --name NAME
 * (bench/results/NAME.json), --merge a.json,b.json [--rename [file:]old=new,...] [--drop a,b].
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type LoadedModel, type ModelDims } from '../src/arch/index.js';
import { initBackend, type BackendInfo } from '../src/backend/index.js';
import { BatchSampler } from '../src/data/index.js';
import { learningPhaseFlops, trainStepFlops } from '../src/growth/flops.js';
import { resolveRun } from '../src/pipeline/run_settings.js';
import type { GrowthPlan } from '../src/growth/plan.js';
import { heldOutLoss, type RunData } from '../src/pipeline/data.js';
import { growInMemory } from '../src/pipeline/grow.js';
import { GROW_DEFAULTS, resolveGrowOptions, type GrowOptions, type ResolvedGrowOptions } from '../src/pipeline/options.js';
import { planFromOptions } from '../src/pipeline/plan.js';
import { recommendedSchedule } from '../src/train/downstream.js';
import { recipeRates, type SplitShape } from '../src/train/lr_groups.js';
import { MIN_LR_FRACTION } from '../src/train/schedule.js';
import { startNewParameters, type NewParameters } from '../src/growth/index.js';
import { toVariables, trainModel, type TrainOptions } from '../src/train/full.js';
import { DEFAULT_ROWS, LEVERS, type GrowRecipe, type Row, type ScheduleName } from './lib/downstream_recipes.js';
import { currentScheduleName, metrics, parseRenames, report, type ReportShape, type Run } from './lib/downstream_report.js';
import { BATCH, corpus, SELECT_DOCS, SEQ, SOURCES, sourceModel, sourceSchedule, spreadWindows, TEST_DOCS, type Corpus, type Family } from './lib/downstream_source.js';
import { fmt, machine, writeResult } from './lib/report.js';
import { twinDistance } from './lib/twin.js';

/** Forward batch of held-out measurements. */
const EVAL_BATCH = 16;

/**
 * Width factors (numerator / denominator), depth doubled; --targets picks (default 2x and 1.5x).
 * head_dim is kept, so a factor serves a source only where it gives whole heads: 1.33x needs the
 * 6-head gpt2-96 source, 1.25x the 4-head ones.
 */
const TARGETS = [
  { label: '2x', factor: [2, 1] },
  { label: '1.5x', factor: [3, 2] },
  { label: '1.33x', factor: [4, 3] },
  { label: '1.25x', factor: [5, 4] },
] as const;
const DEFAULT_TARGETS = ['2x', '1.5x'];

interface Target {
  label: string;
  hiddenSize: number;
  layers: number;
}

/** A width factor applied to a source, or undefined where it does not give whole heads. */
function targetFor(t: (typeof TARGETS)[number], dims: ModelDims): Target | undefined {
  const [num, den] = t.factor;
  const hiddenSize = (dims.hiddenSize * num) / den;
  if (!Number.isInteger(hiddenSize) || hiddenSize % dims.headDim !== 0) return undefined;
  return { label: t.label, hiddenSize, layers: 2 * dims.numLayers };
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);

/** Everything the command line sets, read once in main. */
interface Settings {
  quick: boolean;
  families: Family[];
  targets?: string[];
  only?: string[];
  seed: number;
  sourceSteps: number;
  steps: number;
  evalEvery: number;
  heldOutTokens: number;
  selectTokens: number;
  /** --quick caps every learning phase at this many steps. */
  maxLearnSteps?: number;
  rows: Row[];
  train: boolean;
  threads: string;
  name: string;
  merge?: string[];
  rename: string;
  drop: string[];
}

/** A reader of one argv: `value('--x', fallback)` and `flag('--x')`. */
function argReader(argv: readonly string[]) {
  const value = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? argv[i + 1] : undefined;
    return v === undefined || v.startsWith('--') ? fallback : v;
  };
  const list = (name: string): string[] | undefined => (argv.includes(name) ? value(name, '').split(',').filter((x) => x !== '') : undefined);
  return { value, list, flag: (name: string): boolean => argv.includes(name) };
}

/** --recipes 'name:key=value,key=value;name2:...': ligo recipes over grow's defaults, for sweeps. */
function parseRecipes(text: string): Record<string, GrowRecipe> {
  const recipes: Record<string, GrowRecipe> = {};
  for (const spec of text.split(';').filter((x) => x !== '')) {
    const [name, body = ''] = spec.split(':');
    const recipe: Record<string, unknown> = {};
    for (const [k, v] of body.split(',').filter((x) => x !== '').map((kv) => kv.split('='))) {
      if (!(k in GROW_DEFAULTS)) throw new Error(`--recipes ${name}: unknown option "${k}" (one of ${Object.keys(GROW_DEFAULTS).join(', ')})`);
      recipe[k] = v === 'true' ? true : v === 'false' ? false : Number.isNaN(Number(v)) ? v : Number(v);
    }
    recipes[name] = recipe as GrowRecipe;
  }
  return recipes;
}

const SCHEDULE_NAMES: readonly ScheduleName[] = ['rewarm', 'recommended', 'lr0.3x', 'lr0.5x', 'lr0.1x', 'split', 'split-default', 'lemon', 'split-geo', 'split-long', 'split-half', 'split-parts', 'split-parts-long'];

/** --levers/--recipes: scratch, net2net and each chosen ligo recipe, on --schedule. */
function leverRows(names: string[], recipes: Record<string, GrowRecipe>, schedule: ScheduleName): Row[] {
  const all = { ...LEVERS, ...recipes };
  // --levers a,b picks recipes; the --recipes ones always run; neither: every lever.
  const named = [...names, ...Object.keys(recipes).filter((n) => !names.includes(n))];
  const chosen = named.length > 0 ? named : Object.keys(LEVERS);
  const unknown = chosen.find((n) => !(n in all));
  if (unknown !== undefined) throw new Error(`--levers: unknown recipe "${unknown}" (one of ${Object.keys(all).join(', ')})`);
  const suffix = schedule === 'rewarm' ? '' : `/${schedule}`;
  return [
    { name: 'scratch', method: 'scratch', schedule: 'rewarm' },
    { name: `net2net${suffix}`, method: 'net2net', schedule },
    ...chosen.map((name): Row => ({ name: `${name}${suffix}`, method: 'ligo', schedule, grow: all[name] })),
  ];
}

function parseSettings(argv: readonly string[]): Settings {
  const { value, list, flag } = argReader(argv);
  const quick = flag('--quick');
  const steps = Number(value('--steps', quick ? '24' : '150'));
  const schedule = value('--schedule', 'rewarm') as ScheduleName;
  if (!SCHEDULE_NAMES.includes(schedule)) throw new Error(`--schedule: one of ${SCHEDULE_NAMES.join(', ')}`);
  const recipes = parseRecipes(value('--recipes', ''));
  const levers = flag('--levers') || flag('--recipes');
  const targets = list('--targets');
  const only = list('--only');
  const part = targets ? `-${targets.join('-')}` : '';
  const merge = list('--merge');
  return {
    quick,
    families: (list('--families') ?? ['gpt2']) as Family[],
    targets,
    only,
    seed: Number(value('--seed', '0')),
    sourceSteps: Number(value('--source-steps', quick ? '60' : '250')),
    steps,
    evalEvery: quick ? 6 : 15,
    heldOutTokens: quick ? 1024 : 3072,
    selectTokens: quick ? 1024 : 2048,
    maxLearnSteps: quick ? 10 : undefined,
    rows: levers ? leverRows(list('--levers') ?? [], recipes, schedule) : [...DEFAULT_ROWS],
    train: !flag('--no-train'),
    threads: value('--threads', '1'),
    name: value('--name', merge ? (quick ? 'downstream-quick' : 'downstream') : levers ? `ligo-levers${part}` : only ? 'downstream-partial' : quick ? `downstream-quick${part}` : `downstream${part}`),
    merge,
    rename: value('--rename', ''),
    drop: list('--drop') ?? [],
  };
}

/** The schedule every row trains with: scratch's (the re-warm), the recommended one for grown models, and lower peaks. */
function schedules(steps: number): Record<ScheduleName, TrainOptions> {
  const rewarm: TrainOptions = { steps, lr: 2e-3, warmup: Math.round(steps / 10), weightDecay: 0, clip: 1, seed: 2 };
  const recommended = recommendedSchedule(rewarm);
  // The per-group ones: trainModel's `groups` set every rate (groupRates); the entry is their base.
  return { rewarm, recommended, 'lr0.3x': { ...rewarm, lr: rewarm.lr * 0.3 }, 'lr0.5x': { ...rewarm, lr: rewarm.lr / 2 }, 'lr0.1x': { ...rewarm, lr: rewarm.lr * 0.1 }, split: rewarm, 'split-default': rewarm, lemon: rewarm, 'split-geo': rewarm, 'split-long': rewarm, 'split-half': rewarm, 'split-parts': rewarm, 'split-parts-long': rewarm };
}

/** The rate the benchmark's sources end their training at (the end of their cosine schedule), which `ligo compare --source-lr` would be given. */
const SOURCE_FINAL_LR = sourceSchedule(0).lr * MIN_LR_FRACTION;

/**
 * Variations of split with the source's rate unknown (lr_groups.ts SplitShape), each aimed at the
 * rise above the start that split-default still shows from a converged source: the new weights'
 * peak at the geometric mean of the scratch peak and the inherited rate, or at half the peak;
 * their warmup over half the steps; partly new tensors held whole at the inherited rate
 * (`split-parts`: only the added layers re-warmed), also with the longer warmup.
 */
const SPLIT_SHAPES: Partial<Record<ScheduleName, SplitShape>> = {
  'split-geo': { newPeak: 'geometric' },
  'split-long': { newWarmupFraction: 0.5 },
  'split-half': { newPeak: 0.5 },
  'split-parts': { partlyNew: 'inherited' },
  'split-parts-long': { partlyNew: 'inherited', newWarmupFraction: 0.5 },
};

/** A per-group schedule's rates over the grown model's new and inherited weights; undefined for one schedule for all. */
function groupRates(name: ScheduleName, base: TrainOptions, grown: Grown): Parameters<typeof trainModel>[0]['groups'] {
  if (grown.plan.method === 'random') return undefined;
  const recipe = name === 'split' || name === 'split-default' || name in SPLIT_SHAPES ? 'split' : name === 'lemon' ? 'lemon' : undefined;
  if (!recipe) return undefined;
  return { rates: recipeRates(recipe, base, name === 'split' ? SOURCE_FINAL_LR : undefined, SPLIT_SHAPES[name]), listing: grown.listing };
}

/** What every run of one benchmark process shares. */
interface Bench {
  s: Settings;
  backend: BackendInfo;
  data: Corpus;
  /** Held-out windows of SEQ tokens every curve is measured on. */
  heldOut: Int32Array;
  evaluate: ReturnType<typeof heldOutLoss>;
  runs: Run[];
  sources: Record<string, { heldOut: number; seconds: number }>;
  started: number;
}

/**
 * The learning phase reads windows of the length the sources were trained on (SEQ), with grow's
 * default tokens per step. At grow's 128 it would read positions 64-127 that the source never
 * trained, learn mostly to repair them (selection loss 0.15 lower from a converged source) and
 * lose on the 64-token text every curve is measured on (0.14 higher): real sources are trained
 * over their whole context, so that phase measured nothing a user would see.
 */
const LEARN_WINDOWS: GrowRecipe = { seqLen: SEQ, batchSize: (GROW_DEFAULTS.batchSize * GROW_DEFAULTS.seqLen) / SEQ };

/** grow's options for a row, as `ligo grow <source> --layers .. --hidden-size .. --method .. <recipe> --seed N` sets them. */
function rowOptions(b: Bench, dir: string, target: Target, row: Row): ResolvedGrowOptions {
  // A recipe that sets its own window or batch keeps grow's default for the other.
  const own = row.grow?.seqLen !== undefined || row.grow?.batchSize !== undefined;
  const recipe: GrowRecipe = { ...(own ? {} : LEARN_WINDOWS), ...row.grow };
  if (b.s.maxLearnSteps !== undefined) recipe.steps = Math.min(recipe.steps ?? GROW_DEFAULTS.steps, b.s.maxLearnSteps);
  const options: GrowOptions = { source: dir, out: '', layers: target.layers, hiddenSize: target.hiddenSize, method: row.method === 'scratch' ? 'random' : row.method, seed: b.s.seed, ...recipe };
  return resolveGrowOptions(options);
}

/** A row's grown model, made by growInMemory as `ligo grow` makes it, with its learning phase's record and FLOPs. */
interface Grown {
  weights: Map<string, tf.Tensor>;
  plan: GrowthPlan;
  /** Which weights are new (the start's, as grow writes it). */
  listing: NewParameters;
  learn?: Run['learn'];
  learnFlops: number;
}

async function growRow(b: Bench, small: LoadedModel, dir: string, target: Target, row: Row): Promise<Grown> {
  const o = rowOptions(b, dir, target, row);
  const settings = resolveRun(o, small);
  const plan = await planFromOptions(o, settings, small);
  const { seqLen } = settings;
  const text: RunData = { tokens: b.data.train, train: b.data.train, selection: spreadWindows(b.data.select, b.s.selectTokens, seqLen), heldOut: b.heldOut };
  const progress = (e: { phase: string; step?: number; steps?: number; loss?: number }): void => {
    if (e.phase === 'learn' && e.step !== undefined && (e.step % 20 === 0 || e.step === e.steps)) log(`  learn step ${e.step}/${e.steps} loss ${e.loss?.toFixed(4)}`);
  };
  const { grown, learned } = await growInMemory({ o, backend: b.backend, progress }, { plan, settings, small, text, evaluate: b.evaluate });
  const weights = new Map([...grown.tensors()].map(([k, t]) => [k, tf.clone(t)]));
  grown.dispose();
  const listing = startNewParameters(plan, settings.recipe.depth, o.split);
  if (!learned) return { weights, plan, listing, learnFlops: 0 };
  const work = { steps: o.steps, batchSize: o.batchSize * o.gradAccum, seqLen, distill: o.distill > 0, selections: learned.selection.length, selectionTokens: text.selection.length };
  const { init, steps, lr, depthLr, noise, splitNoise, split, copyNoise, warmup, batchSize, distill, keepBest, selectEvery, operator, rank, seed } = o;
  const options = { init, steps, lr, depthLr, noise, splitNoise, split, copyNoise, warmup, batchSize, seqLen, distill, keepBest, selectEvery, operator, rank, seed };
  log(`  learned ${o.steps} steps in ${learned.seconds.toFixed(0)} s; kept the operator of step ${learned.keptStep}`);
  return { weights, plan, listing, learnFlops: learningPhaseFlops(plan, work), learn: { steps: o.steps, seconds: learned.seconds, keptStep: learned.keptStep, selection: learned.selection, options } };
}

/** Trains a grown model downstream and records the run. */
async function trainRow(b: Bench, family: Family, small: LoadedModel, targetLabel: string, row: Row, grown: Grown): Promise<Run> {
  const dims = grown.plan.target;
  const vars = toVariables(grown.weights);
  const sampler = new BatchSampler(b.data.train, { batchSize: BATCH, seqLen: SEQ, seed: 13 + 100 * b.s.seed });
  const schedule = schedules(b.s.steps)[row.schedule];
  try {
    const trained = await trainModel({
      dims,
      weights: vars,
      nextBatch: () => tf.tensor2d(sampler.next(), [BATCH, SEQ], 'int32'),
      options: b.s.train ? schedule : { ...schedule, steps: 0 },
      groups: groupRates(row.schedule, schedule, grown),
      evalEvery: b.s.evalEvery,
      evaluate: (w) => b.evaluate(dims, w),
      onEval: (p) => log(`  step ${p.step} held-out ${p.loss.toFixed(4)}`),
    });
    const twin = await twinDistance(small.description, dims, vars);
    const { name, method } = row;
    const stepFlops = trainStepFlops(grown.plan, BATCH, SEQ);
    return { family, seed: b.s.seed, twin, target: targetLabel, name, method, schedule: row.schedule, afterGrowth: trained.curve[0].loss, learn: grown.learn, learnFlops: grown.learnFlops, stepFlops, curve: trained.curve, seconds: trained.seconds };
  } finally {
    tf.dispose([...vars.values()]);
  }
}

/** Every chosen row at one target; ligo rows with the same recipe (two schedules) share one learning phase. */
async function runTarget(b: Bench, family: Family, small: LoadedModel, dir: string, target: Target): Promise<void> {
  const learned = new Map<string, Grown>();
  try {
    for (const row of b.s.rows.filter((r) => !b.s.only || b.s.only.includes(r.name))) {
      log(`\n${family} ${target.label}: ${row.name}`);
      const key = JSON.stringify([row.method, row.grow ?? {}]);
      const grown = learned.get(key) ?? (await growRow(b, small, dir, target, row));
      if (row.method === 'ligo') learned.set(key, grown);
      b.runs.push(await trainRow(b, family, small, target.label, row, grown));
      if (row.method !== 'ligo') tf.dispose([...grown.weights.values()]);
      await save(b);
    }
  } finally {
    for (const g of learned.values()) tf.dispose([...g.weights.values()]);
  }
}

const shapeOf = (s: Settings): ReportShape => ({ steps: s.steps, evalEvery: s.evalEvery, bumpWindow: Math.round(s.steps / 2), batch: BATCH, seqLen: SEQ });

/** Writes the result file (also after every run, so a stopped benchmark keeps the runs it finished). */
async function save(b: Bench): Promise<string> {
  const { s } = b;
  const shape = shapeOf(s);
  const all = schedules(s.steps);
  return writeResult(s.name, {
    machine: machine(),
    backend: b.backend.name,
    threads: Number(process.env.LIGO_WASM_THREADS),
    quick: s.quick,
    corpus: { package: 'nlp-corpus', bytes: b.data.bytes, heldOutDocs: TEST_DOCS, selectDocs: SELECT_DOCS, heldOutTokens: s.heldOutTokens, selectTokens: s.selectTokens },
    source: { configs: Object.fromEntries(s.families.map((f) => [f, SOURCES[f]])), schedule: sourceSchedule(s.sourceSteps), batch: [BATCH, SEQ], results: b.sources },
    targets: TARGETS,
    downstream: { schedule: all.rewarm, recommended: all.recommended, schedules: all, batch: [BATCH, SEQ], evalEvery: s.evalEvery, bumpWindow: shape.bumpWindow },
    ligoDefaults: GROW_DEFAULTS,
    runs: b.runs.map((r) => ({ ...r, ...metrics(r, b.runs, shape.bumpWindow) })),
    seconds: (performance.now() - b.started) / 1000,
  });
}

/**
 * --merge a.json,b.json: one report from runs made by separate processes (--targets 2x and
 * --targets 1.5x side by side on a busy machine, or several --seed replicates), written to --name.
 */
async function merge(s: Settings, files: string[]): Promise<void> {
  type Saved = { runs: Run[]; seconds: number; source: { results: Record<string, { heldOut: number }>; configs?: object }; corpus: { bytes: number }; backend: string; downstream: object };
  const parts = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as Saved & Record<string, unknown>));
  const renames = parseRenames(s.rename);
  const renamed = (r: Run, file: string): Run => {
    const rule = renames.find((x) => x.from === r.name && (x.scope === '' || x.scope === path.basename(file)));
    return currentScheduleName(rule ? { ...r, name: rule.to } : r);
  };
  const runs = parts.flatMap((p, i) => p.runs.map((r) => renamed(r, files[i]))).filter((r) => !s.drop.includes(r.name));
  const seconds = Math.max(...parts.map((p) => p.seconds));
  const sources = Object.assign({}, ...parts.map((p) => p.source.results)) as Record<string, { heldOut: number }>;
  const shape = shapeOf(s);
  report(runs, sources, parts[0].corpus, seconds, parts[0].backend, shape);
  const all = schedules(s.steps);
  const file = await writeResult(s.name, {
    ...parts[0],
    source: { ...parts[0].source, configs: Object.assign({}, ...parts.map((p) => p.source.configs)) as object, results: sources },
    downstream: { ...parts[0].downstream, recommended: all.recommended, schedules: all },
    mergedFrom: files.map((f) => path.basename(f)),
    runs: runs.map((r) => ({ ...r, ...metrics(r, runs, shape.bumpWindow) })),
    seconds,
  });
  log(`wrote ${file}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const s = parseSettings(argv);
  if (s.merge) return merge(s, s.merge);
  process.env.LIGO_WASM_THREADS ??= s.threads;
  const backend = await initBackend({});
  const data = await corpus();
  const heldOut = spreadWindows(data.heldOut, s.heldOutTokens, SEQ);
  const evaluate = heldOutLoss({ tokens: heldOut, train: data.train, selection: heldOut, heldOut }, SEQ, EVAL_BATCH);
  const b: Bench = { s, backend, data, heldOut, evaluate, runs: [], sources: {}, started: performance.now() };
  log(`corpus: nlp-corpus, ${fmt(data.bytes / 1e6, 1)} MB; train ${fmt(data.train.length)} tokens, held-out ${fmt(heldOut.length)}; backend ${backend.name}, ${process.env.LIGO_WASM_THREADS} thread(s)`);
  for (const family of s.families) {
    const pretrained = await sourceModel({ family, steps: s.sourceSteps, quick: s.quick, train: data.train, evaluate, log });
    const small = await loadModel(pretrained.dir);
    try {
      // Measured again: the cache may hold a loss on another held-out size.
      b.sources[family] = { ...pretrained, heldOut: await evaluate(small.dims, small.weight) };
      log(`${family}: source ${pretrained.dir}, held-out ${b.sources[family].heldOut.toFixed(4)}`);
      for (const t of TARGETS.filter((x) => (s.targets ?? DEFAULT_TARGETS).includes(x.label))) {
        const target = targetFor(t, small.dims);
        if (target) await runTarget(b, family, small, pretrained.dir, target);
        else log(`${family} ${t.label}: skipped (${small.dims.hiddenSize} x ${t.factor.join('/')} is not a whole number of ${small.dims.headDim}-wide heads)`);
      }
    } finally {
      small.dispose();
    }
  }
  report(b.runs, b.sources, data, (performance.now() - b.started) / 1000, backend.name, shapeOf(s));
  log(`wrote ${await save(b)}`);
}

await main(process.argv.slice(2));

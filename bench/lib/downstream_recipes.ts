/**
 * bench:downstream's rows as data: which growth each row runs (a `ligo grow` method and the
 * options it is given, over grow's defaults) and which downstream schedule trains it. A row runs
 * exactly what `ligo grow --method <method> <options>` runs (growInMemory); `scratch` is
 * `--method random` trained with the from-scratch schedule, the baseline of every comparison.
 */
import type { GrowthMethod } from '../../src/growth/plan.js';
import type { GrowOptions } from '../../src/pipeline/options.js';

/**
 * The downstream schedules (bench/downstream.ts SCHEDULES): one for every weight (rewarm,
 * recommended, lower peaks), or per group (src/train/lr_groups.ts): `split` with the source's
 * final rate known, `split-default` as if unknown (a tenth of the peak), `lemon`'s faster decay;
 * `split-geo`, `split-long`, `split-half`, `split-parts`, `split-parts-long`: variations of
 * split-default (bench/downstream.ts SPLIT_SHAPES).
 */
export type ScheduleName = 'rewarm' | 'recommended' | 'lr0.3x' | 'lr0.5x' | 'lr0.1x' | 'split' | 'split-default' | 'lemon' | 'split-geo' | 'split-long' | 'split-half' | 'split-parts' | 'split-parts-long';

/** Learning-phase options a row sets, as `ligo grow` flags set them. */
export type GrowRecipe = Partial<Pick<GrowOptions, 'start' | 'init' | 'steps' | 'lr' | 'depthLr' | 'noise' | 'splitNoise' | 'split' | 'copyNoise' | 'keepBest' | 'selectEvery' | 'warmup' | 'batchSize' | 'seqLen' | 'distill' | 'operator' | 'rank'>>;

export interface Row {
  name: string;
  /** 'scratch': grow's `random`, trained with the scratch schedule whatever --schedule says. */
  method: GrowthMethod | 'scratch';
  schedule: ScheduleName;
  grow?: GrowRecipe;
}

/** The default rows: every method at grow's defaults, ligo's learning phase from its start and from the even split, the former single schedule and the per-group recipe. */
export const DEFAULT_ROWS: readonly Row[] = [
  { name: 'scratch', method: 'scratch', schedule: 'rewarm' },
  { name: 'ligo', method: 'ligo', schedule: 'rewarm' },
  // ligo's 20-step learning phase; with net2net's even split, where copies stay tied.
  { name: 'learn20', method: 'ligo', schedule: 'rewarm', grow: { steps: 20 } },
  { name: 'ligo-even', method: 'ligo', schedule: 'rewarm', grow: { split: 'even', steps: 20 } },
  { name: 'net2net', method: 'net2net', schedule: 'rewarm' },
  { name: 'stack', method: 'stack', schedule: 'rewarm' },
  { name: 'interlace', method: 'interlace', schedule: 'rewarm' },
  { name: 'ligo/recommended', method: 'ligo', schedule: 'recommended' },
  { name: 'net2net/recommended', method: 'net2net', schedule: 'recommended' },
  // What compare and growth.json recommend: learning rates per group, the source's rate unknown.
  { name: 'ligo/split-default', method: 'ligo', schedule: 'split-default' },
  { name: 'net2net/split-default', method: 'net2net', schedule: 'split-default' },
];

/**
 * --levers NAMES: ligo recipes over grow's defaults, measured against scratch and net2net (with
 * --schedule, all on that schedule). --recipes 'name:key=value,...' adds more for a sweep.
 */
export const LEVERS: Readonly<Record<string, GrowRecipe>> = {
  ligo: {},
  // The 20-step learning phase over the start (grow --steps 20): what learning adds, and costs.
  learn20: { steps: 20 },
  'ligo-even': { split: 'even', steps: 20 },
  // The start alone (grow's default since the learning phase became opt-in; older tables name it so).
  'first-only': { steps: 0, keepBest: false },
  // A lossy start: net2net's copies at a non-integer width, written as is, and repaired by grow's 20-step default.
  copy: { start: 'copy', steps: 0, keepBest: false },
  'copy-learn20': { start: 'copy', steps: 20 },
  // The paper's dense width matrices instead of the low-rank correction.
  dense: { operator: 'dense', steps: 20 },
  // Later copies start as their unit plus half a random mixture of units (function-preserving).
  'ligo+copy0.5': { copyNoise: 0.5, steps: 20 },
  // A longer, faster phase: 50 steps of 4 x 64 tokens at 1e-3 (width) and 1e-2 (depth).
  mid: { steps: 50, batchSize: 4, seqLen: 64, lr: 1e-3, depthLr: 1e-2 },
  distill: { distill: 1, steps: 20 },
  // The learning phase's first defaults (net2net's even split, 100 steps of 4 x 128 at 5e-5), and
  // the short phase that replaced them: the rows docs/BENCHMARKS.md measures the choice with.
  v0: { split: 'even', steps: 100, lr: 5e-5, depthLr: 5e-5, warmup: 10, batchSize: 4, seqLen: 128, keepBest: false, selectEvery: 0 },
  tiny: { split: 'even', steps: 20, lr: 3e-4, depthLr: 5e-3, warmup: 5, batchSize: 4, seqLen: 64, keepBest: true, selectEvery: 10 },
};

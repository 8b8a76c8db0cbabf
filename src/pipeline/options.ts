import type { DType } from '../checkpoint/dtypes.js';
import { UsageError } from '../errors.js';
import { SPLIT_MODES, type DepthPattern, type SplitMode } from '../growth/init.js';
import type { DepthStart } from '../growth/depth_start.js';
import type { StartRule } from '../growth/exact_start.js';
import { LIGO_INIT_NOISE } from '../growth/methods.js';
import { GROWTH_METHODS, OPERATOR_KINDS, type GrowthMethod, type OperatorKind } from '../growth/plan.js';
import { checkTargetOptions, type TargetOptions } from '../growth/target.js';
import { isSeed, MAX_SEED } from '../data/random.js';
import type { LayerEvent, StepEvent } from '../train/learn.js';

/** Progress of a grow or apply run, for progress bars and logs. */
export type GrowEvent =
  | { phase: 'load'; message: string }
  | { phase: 'evaluate'; message: string }
  | ({ phase: 'learn' } & StepEvent)
  | ({ phase: 'learn-layer' } & LayerEvent)
  | { phase: 'write'; tensor: string; done: number; total: number };

/** What `grow` and `apply` share: the source, and where and how the grown model is written. */
export interface GrownOutputOptions {
  /** Source model directory. */
  source: string;
  /** Output directory (written atomically). */
  out: string;
  dtype?: DType;
  maxShardSize?: number;
  overwrite?: boolean;
  backend?: string;
  /** wasm backend: threads for matrix products (default LIGO_WASM_THREADS, else every core); set at the first backend start. */
  threads?: number;
  /** How the source is named in growth.json and the model card (a Hub repo id); default `source`. */
  sourceLabel?: string;
  /** The command line that reproduces the run, for the model card. */
  command?: string;
  onProgress?: (event: GrowEvent) => void;
}

/** Options of `grow`; the CLI flags are these, one for one. */
export interface GrowOptions extends TargetOptions, GrownOutputOptions {
  /** A config.json giving the target dimensions instead of the dimension options. */
  targetConfig?: string;
  method?: GrowthMethod;
  /** Depth initialization of the LiGO operator. */
  init?: DepthPattern;
  /** Training text for the learning phase and the held-out losses. */
  data?: string;
  steps?: number;
  lr?: number;
  warmup?: number;
  weightDecay?: number;
  clip?: number;
  batchSize?: number;
  seqLen?: number;
  gradAccum?: number;
  /**
   * Keep only each layer's input for backpropagation and recompute the rest (less memory, about
   * 1/3 more compute). 'auto' (the default): only when the learning phase would not fit without it.
   */
  recompute?: boolean | 'auto';
  /** How ligo's width operators are parameterized (growth/plan.ts OperatorForm). */
  operator?: OperatorKind;
  /** Rank of the low-rank operator's learned correction. */
  rank?: number;
  distill?: number;
  /** Learning rate of the depth coefficients (default: see GROW_DEFAULTS). */
  depthLr?: number;
  /** Learning rate of the attention operators' head and head_dim matrices (default: --lr's; a larger one measured worse, docs/BENCHMARKS.md). */
  headsLr?: number;
  /** Standard deviation of Gaussian noise on the LiGO operator's starting entries. */
  noise?: number;
  /** Function-preserving symmetry breaking: relative jitter of each copy's share on the split side. */
  splitNoise?: number;
  /** How the copies of a unit share its consuming weights at the start (growth/init.ts SplitMode). */
  split?: SplitMode;
  /**
   * The operator's start (growth/exact_start.ts): exact keeps the function at any width, copy is
   * Net2Net's rule. Default: exact for ligo, copy for the fixed methods; the plan resolves it.
   */
  start?: StartRule;
  /**
   * How ligo's depth operator starts new layers (growth/depth_start.ts): identity, copy (G_stack)
   * or noisy (the paper's). Default: identity where the family allows it, noisy with --start ligo-paper.
   */
  depthStart?: DepthStart;
  /** With split first: later copies start as their unit plus this times a random mixture of units (growth/initial_operator.ts OperatorInit). */
  copyNoise?: number;
  /** Keep the operator (initial, every selectEvery steps, final) with the lowest held-out loss. */
  keepBest?: boolean;
  selectEvery?: number;
  seed?: number;
  maxTokens?: number;
  /** Fraction of the tokens held out to measure loss before and after growth. */
  heldOut?: number;
  /**
   * The learning rate the source ended its training at: what the recommended training after
   * growth holds inherited weights at (default: the source's trainer_state.json, else a tenth of the peak).
   */
  sourceLr?: number;
}

/** What the ligo method's learning phase is set up with; GROW_DEFAULTS is one. */
export interface LigoRecipe {
  init: DepthPattern;
  steps: number;
  lr: number;
  depthLr: number;
  noise: number;
  splitNoise: number;
  split: SplitMode;
  copyNoise: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  recompute: boolean | 'auto';
  operator: OperatorKind;
  rank: number;
  distill: number;
  keepBest: boolean;
  selectEvery: number;
}

export const GROW_DEFAULTS = {
  method: 'ligo' as GrowthMethod,
  init: 'stack' as DepthPattern,
  // No learning phase unless asked: the function-preserving start is what saves compute. A
  // learned operator lowers the loss right after growth by about 0.01 nats, but training after
  // growth does not keep the gain and the phase costs 2.5-2.8% of a 600-step run (bench:downstream
  // at 1.33x, 1.5x and 2x: docs/BENCHMARKS.md#any-width). With --steps N
  // the knobs below are a short, cheap phase: 2 x 128 tokens a step (the benchmarks ran 4 x 64,
  // their sources' window), the depth coefficients at 5e-3 and the width matrices at 3e-4, an
  // operator measured every 10 steps and kept only when clearly better than the start.
  steps: 0,
  lr: 3e-4,
  depthLr: 5e-3,
  noise: LIGO_INIT_NOISE,
  splitNoise: 0,
  // The first copy of a unit keeps its consuming weight and later copies start at zero: still
  // function-preserving, and unlike net2net's even split the copies train apart, so the grown
  // model uses its width (bench:downstream: the largest single lever measured).
  split: 'first' as SplitMode,
  copyNoise: 0,
  warmup: 5,
  weightDecay: 0,
  clip: 1,
  batchSize: 2,
  seqLen: 128,
  gradAccum: 1,
  recompute: 'auto' as boolean | 'auto',
  // The starting selection plus a rank-16 correction: its operator stays a few MB at any size,
  // where a dense one outgrows the model it builds (bench:downstream compares the two).
  operator: 'lowrank' as OperatorKind,
  rank: 16,
  distill: 0,
  keepBest: true,
  selectEvery: 10,
  seed: 0,
  heldOut: 0.1,
} satisfies LigoRecipe & Record<string, unknown>;

/** GrowOptions with every default filled in (the options a run actually uses). */
export type ResolvedGrowOptions = Required<
  Omit<GrowOptions, 'targetConfig' | 'data' | 'maxTokens' | 'headsLr' | 'dtype' | 'maxShardSize' | 'backend' | 'threads' | 'onProgress' | 'start' | 'depthStart' | 'sourceLr' | keyof TargetOptions>
> &
  GrowOptions & {
    /**
     * The options the caller gave (the rest are GROW_DEFAULTS): a --seq-len given beyond the model's
     * positions is said when capped, and a lossy start learns by default only where --steps was not given.
     */
    given: ReadonlySet<string>;
  };

/** Fills in GROW_DEFAULTS (an explicit undefined counts as not given) and checks the options the library owns. */
export function resolveGrowOptions(options: GrowOptions): ResolvedGrowOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...GROW_DEFAULTS, overwrite: false, ...defined, given: new Set(Object.keys(defined)) } as unknown as ResolvedGrowOptions;
  if (!GROWTH_METHODS.includes(o.method)) {
    throw new UsageError(`--method: unknown method "${o.method}" (expected one of ${GROWTH_METHODS.join(', ')})`, { flag: '--method' });
  }
  checkTargetOptions(options);
  checkNumbers(o);
  // The fixed rules are defined by net2net's even split; --split first makes them share ligo's start.
  // The paper's start has no copies to split (its new units are mixtures): nothing to say 'first' of.
  o.split = options.split ?? (o.method === 'ligo' && o.start !== 'ligo-paper' ? GROW_DEFAULTS.split : 'even');
  if (!SPLIT_MODES.includes(o.split)) throw new UsageError(`--split: expected one of ${SPLIT_MODES.join(', ')}, got "${String(o.split)}"`, { flag: '--split' });
  if (!OPERATOR_KINDS.includes(o.operator)) throw new UsageError(`--operator: expected one of ${OPERATOR_KINDS.join(', ')}, got "${String(o.operator)}"`, { flag: '--operator' });
  if (o.recompute !== true && o.recompute !== false && o.recompute !== 'auto') {
    throw new UsageError(`--recompute: expected true, false or auto, got ${String(o.recompute)}`, { flag: '--recompute' });
  }
  return o;
}

/** What a numeric option may be; each is checked before any model is opened. */
type NumberDomain = 'positive integer' | 'non-negative integer' | 'positive number' | 'non-negative number' | 'fraction' | 'seed';

const IN_DOMAIN: Record<NumberDomain, (v: number) => boolean> = {
  'positive integer': (v) => Number.isSafeInteger(v) && v > 0,
  'non-negative integer': (v) => Number.isSafeInteger(v) && v >= 0,
  'positive number': (v) => Number.isFinite(v) && v > 0,
  'non-negative number': (v) => Number.isFinite(v) && v >= 0,
  fraction: (v) => v > 0 && v < 1,
  seed: isSeed,
};

const EXPECTED: Record<NumberDomain, string> = {
  'positive integer': 'a positive integer',
  'non-negative integer': 'a non-negative integer',
  'positive number': 'a positive number',
  'non-negative number': 'a non-negative number',
  fraction: 'a fraction between 0 and 1',
  seed: `an integer from 0 to ${MAX_SEED}`,
};

/** Every numeric option of grow (and compare's learning phase), its flag and its domain. */
const NUMBER_OPTIONS: [keyof GrowOptions, string, NumberDomain][] = [
  ['batchSize', '--batch-size', 'positive integer'],
  ['seqLen', '--seq-len', 'positive integer'],
  ['gradAccum', '--grad-accum', 'positive integer'],
  ['rank', '--rank', 'positive integer'],
  ['maxTokens', '--max-tokens', 'positive integer'],
  ['steps', '--steps', 'non-negative integer'],
  ['warmup', '--warmup', 'non-negative integer'],
  ['selectEvery', '--select-every', 'non-negative integer'],
  ['lr', '--lr', 'positive number'],
  ['depthLr', '--depth-lr', 'non-negative number'],
  ['sourceLr', '--source-lr', 'positive number'],
  ['headsLr', '--heads-lr', 'non-negative number'],
  ['noise', '--noise', 'non-negative number'],
  ['splitNoise', '--split-noise', 'non-negative number'],
  ['copyNoise', '--copy-noise', 'non-negative number'],
  ['weightDecay', '--weight-decay', 'non-negative number'],
  ['clip', '--clip', 'non-negative number'],
  ['distill', '--distill', 'non-negative number'],
  ['heldOut', '--held-out', 'fraction'],
  ['seed', '--seed', 'seed'],
];

/** Refuses, naming the flag, the first numeric option outside its domain (undefined: not given). */
export function checkNumbers(o: Partial<Record<keyof GrowOptions, unknown>>): void {
  for (const [key, flag, domain] of NUMBER_OPTIONS) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !IN_DOMAIN[domain](v)) throw new UsageError(`${flag}: expected ${EXPECTED[domain]}, got ${String(v)}`, { flag, expected: EXPECTED[domain] });
  }
}

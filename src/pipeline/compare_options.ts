import { UsageError } from '../errors.js';
import { GROWTH_METHODS, type GrowthMethod } from '../growth/plan.js';
import type { CurvePoint } from '../train/full.js';
import { DOWNSTREAM_RECIPES, type DownstreamRecipe } from '../train/lr_groups.js';
import type { SourceLr } from './source_lr.js';
import type { GrowEvent, GrowOptions } from './options.js';

/** Progress of a compare run: grow's events, which method is running, and its training. */
export type CompareEvent =
  | GrowEvent
  | { phase: 'method'; method: GrowthMethod; index: number; count: number }
  | { phase: 'train'; method: GrowthMethod; step: number; steps: number; loss: number }
  | { phase: 'heldOut'; method: GrowthMethod; step: number; loss: number };

/**
 * Options of `compare`; the CLI flags are these, one for one. The learning-phase options are
 * grow's (`lr`, `batchSize`, `seqLen`, ...), except that its steps are `learnSteps`: `steps` is
 * the training every method gets after growth.
 */
export interface CompareOptions extends Omit<GrowOptions, 'out' | 'method' | 'steps' | 'dtype' | 'maxShardSize' | 'overwrite' | 'command' | 'onProgress'> {
  /** Training text: cut into training, selection and held-out tokens as grow does. */
  data: string;
  /** Methods to grow with; `random` is a model of the target shape trained from scratch. */
  methods?: GrowthMethod[];
  /** Full-model training steps of every method after growth. */
  steps?: number;
  /** Steps of ligo's learning phase (grow's `steps`). */
  learnSteps?: number;
  /** Sequences per training step (of `seqLen` tokens, grow's). */
  trainBatchSize?: number;
  /** Peak learning rate of the training; default the from-scratch peak for the target width. */
  trainLr?: number;
  /**
   * How grown models are trained (train/lr_groups.ts): split (default: new weights re-warmed to
   * the peak, inherited ones held at --source-lr), lemon (one schedule decaying twice as fast) or
   * single (one schedule for every weight, the peak reached over the first third).
   */
  trainRecipe?: DownstreamRecipe;
  /** Steps between held-out measurements; default a tenth of the steps. */
  evalEvery?: number;
  /** Directory for compare.json and compare.svg; nothing is written without it. */
  out?: string;
  onProgress?: (event: CompareEvent) => void;
}

export const COMPARE_DEFAULTS = {
  methods: ['ligo', 'net2net', 'random'] as GrowthMethod[],
  // 200 steps of 4 x 128 tokens (about 100k tokens): a scratch model of the bundled fixture's 2x
  // target is past its first plateau, and the whole default run (three methods, ligo's learning
  // phase, 11 held-out points each) takes about 4 CPU-minutes on wasm or blas.
  steps: 200,
  trainBatchSize: 4,
  trainRecipe: 'split' as DownstreamRecipe,
  /** Measurements along the curve. */
  evalPoints: 10,
};

/** Held-out tokens measured at every point of every curve (a run measures ~10 points per method). */
export const COMPARE_HELD_OUT_TOKENS = 4_096;

export interface CompareMethodResult {
  name: GrowthMethod;
  /** Held-out loss as [step, loss] pairs; step 0 is the model right after growth (and learning). */
  curve: [number, number][];
  /** Compute of the whole run: learning phase plus every training step. */
  flops: number;
  learnFlops: number;
  stepFlops: number;
  /** Held-out loss of the starting operator, before the learning phase (equal to curve[0] without one). */
  grownAtInit: number;
  seconds: { learn: number; train: number };
}

export interface CompareResult {
  source: { path: string; heldOut: number; layers: number; hiddenSize: number };
  target: { layers: number; hiddenSize: number };
  data: string;
  heldOutTokens: number;
  training: {
    steps: number;
    batchSize: number;
    seqLen: number;
    lr: number;
    warmup: { scratch: number; grown: number };
    evalEvery: number;
    recipe: DownstreamRecipe;
    /** The inherited weights' rate under the split recipe, and where it came from. */
    sourceLr?: SourceLr;
  };
  backend: string;
  methods: CompareMethodResult[];
  /** saved[a][b]: the fraction of b's compute a saves to reach b's final loss (negative: costs more; null: never reaches it). */
  saved: Record<string, Record<string, number | null>>;
  seconds: number;
}

/** CompareOptions with every compare default filled in. */
export type ResolvedCompareOptions = CompareOptions & Required<Pick<CompareOptions, 'methods' | 'steps' | 'trainBatchSize' | 'evalEvery' | 'trainRecipe'>>;

const positiveInteger = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value > 0;

function checkMethods(methods: readonly string[]): GrowthMethod[] {
  if (methods.length === 0) throw new UsageError(`--methods: name at least one of ${GROWTH_METHODS.join(', ')}`, { flag: '--methods' });
  for (const m of methods) {
    if (!(GROWTH_METHODS as readonly string[]).includes(m)) {
      throw new UsageError(`--methods: unknown method "${m}" (expected some of ${GROWTH_METHODS.join(', ')})`, { flag: '--methods' });
    }
  }
  const repeated = methods.find((m, i) => methods.indexOf(m) !== i);
  if (repeated !== undefined) throw new UsageError(`--methods: "${repeated}" is named twice`, { flag: '--methods' });
  return methods as GrowthMethod[];
}

/** Fills in COMPARE_DEFAULTS and checks what compare adds to grow's options (grow checks the rest). */
export function resolveCompareOptions(options: CompareOptions): ResolvedCompareOptions {
  const methods = checkMethods(options.methods ?? COMPARE_DEFAULTS.methods);
  const steps = options.steps ?? COMPARE_DEFAULTS.steps;
  const checks: [unknown, string, string][] = [
    [steps, '--steps', 'a positive integer'],
    [options.trainBatchSize ?? 1, '--train-batch-size', 'a positive integer'],
    [options.evalEvery ?? 1, '--eval-every', 'a positive integer'],
  ];
  for (const [value, flag, expected] of checks) {
    if (!positiveInteger(value)) throw new UsageError(`${flag}: expected ${expected}, got ${String(value)}`, { flag });
  }
  const learnSteps = options.learnSteps;
  if (learnSteps !== undefined && !(Number.isInteger(learnSteps) && learnSteps >= 0)) {
    throw new UsageError(`--learn-steps: expected a non-negative integer, got ${learnSteps}`, { flag: '--learn-steps' });
  }
  if (options.trainLr !== undefined && !(options.trainLr > 0)) throw new UsageError(`--train-lr: expected a positive number, got ${options.trainLr}`, { flag: '--train-lr' });
  const trainRecipe = options.trainRecipe ?? COMPARE_DEFAULTS.trainRecipe;
  if (!DOWNSTREAM_RECIPES.includes(trainRecipe)) {
    throw new UsageError(`--train-recipe: expected one of ${DOWNSTREAM_RECIPES.join(', ')}, got "${String(trainRecipe)}"`, { flag: '--train-recipe' });
  }
  return {
    ...options,
    methods,
    steps,
    trainBatchSize: options.trainBatchSize ?? COMPARE_DEFAULTS.trainBatchSize,
    trainRecipe,
    evalEvery: options.evalEvery ?? Math.max(1, Math.round(steps / COMPARE_DEFAULTS.evalPoints)),
  };
}

/** A curve as the [step, loss] pairs compare.json holds. */
export const curvePairs = (curve: readonly CurvePoint[]): [number, number][] => curve.map((p) => [p.step, p.loss]);

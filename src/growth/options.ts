import type { DType } from '../checkpoint/dtypes.js';
import type { DepthPattern } from './init.js';
import type { GrowthMethod } from './plan.js';
import type { TargetOptions } from './target.js';
import type { StepEvent } from '../train/learn.js';

/** Progress of a grow or apply run, for progress bars and logs. */
export type GrowEvent =
  | { phase: 'load'; message: string }
  | { phase: 'evaluate'; message: string }
  | ({ phase: 'learn' } & StepEvent)
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
  /** Keep only each layer's input for backpropagation and recompute the rest (less memory, about 1/3 more compute). */
  recompute?: boolean;
  distill?: number;
  /** Learning rate of the depth coefficients (default: see GROW_DEFAULTS). */
  depthLr?: number;
  /** Keep the operator (initial, every selectEvery steps, final) with the lowest held-out loss. */
  keepBest?: boolean;
  selectEvery?: number;
  seed?: number;
  maxTokens?: number;
  /** Fraction of the tokens held out to measure loss before and after growth. */
  heldOut?: number;
}

/** What the ligo method's learning phase is set up with; GROW_DEFAULTS is one. */
export interface LigoRecipe {
  init: DepthPattern;
  steps: number;
  lr: number;
  depthLr: number;
  warmup: number;
  weightDecay: number;
  clip: number;
  batchSize: number;
  seqLen: number;
  gradAccum: number;
  recompute: boolean;
  distill: number;
  keepBest: boolean;
  selectEvery: number;
}

export const GROW_DEFAULTS = {
  method: 'ligo' as GrowthMethod,
  init: 'stack' as DepthPattern,
  steps: 100,
  lr: 5e-5,
  depthLr: 5e-5,
  warmup: 10,
  weightDecay: 0,
  clip: 1,
  batchSize: 4,
  seqLen: 128,
  gradAccum: 1,
  recompute: false,
  distill: 0,
  keepBest: true,
  selectEvery: 25,
  seed: 0,
  heldOut: 0.1,
} satisfies LigoRecipe & Record<string, unknown>;

/** The learning phase's defaults before issue 12, measured next to the current ones by bench:downstream. */
export const LIGO_V0_DEFAULTS: LigoRecipe = { ...GROW_DEFAULTS, lr: 5e-5, depthLr: 5e-5, keepBest: false, selectEvery: 0 };

import type { ModelDims } from '../arch/dims.js';
import type { DType } from '../checkpoint/dtypes.js';
import type { StartPlan } from '../growth/exact_start.js';
import type { GrowthPlan, OperatorForm } from '../growth/plan.js';
import type { NewParametersSummary } from './new_parameters_file.js';

/** How a grown model was made: what the pipeline knows about the run (see pipeline/report.ts). */
/** The depth init `apply` records: the operator came from a file (the model card says so). */
export const APPLIED_INIT = 'saved operator';

export interface GrowthRunInfo {
  source: string;
  method: string;
  init: string;
  steps: number;
  data: string | null;
  tokens: number;
  seed: number;
  backend: string;
  seqLen: number;
  batchSize: number;
  lr: number;
  lossFirstStep: number | null;
  lossLastStep: number | null;
  heldOut: { source: number | null; grownAtInit: number | null; grown: number | null; tokens: number };
  learnTokensPerSecond: number | null;
  /**
   * The learning phase's operator selection: held-out losses (on selection tokens at the end of the
   * training split) of the function-preserving start (step 0) and later operators; the kept one.
   */
  learning?: {
    depthLr: number | null;
    keepBest: boolean;
    split?: 'even' | 'first';
    copyNoise?: number;
    keptStep: number;
    /** The step whose loss was not finite: the phase stopped there and kept the best operator so far. */
    divergedAt?: number;
    selection: { step: number; loss: number }[];
    /** How the width operators were parameterized (growth/plan.ts OperatorForm). */
    operator?: OperatorForm;
    /** Whether layers were recomputed in backpropagation (chosen where the phase would not fit otherwise). */
    recompute?: boolean;
    /** Seconds per learning step, and where they went (materialize, forward, recompute, backward, optimizer, other). */
    secondsPerStep?: number;
    phases?: Record<string, number>;
    /** Wall time of the whole phase: its steps and its selection passes (--keep-best). */
    phaseSeconds?: number;
  } | null;
  /** How to train the grown model further. */
  downstream?: { peakLrFraction: number; warmupFraction: number; schedule: string; note: string; convergedSource?: string; groups?: GroupAdvice };
  wallSeconds: number;
}

/** The per-group recipe growth.json recommends: new parameters re-warmed to the peak, inherited ones held at the source's rate. */
export interface GroupAdvice {
  /** The new parameters' peak (the from-scratch peak of the grown width). */
  peakLr: number;
  /** The inherited parameters' rate, and where it came from. */
  sourceLr: number;
  sourceLrFrom: 'trainer_state.json' | '--source-lr' | 'default';
  warmupFraction: number;
  minLrFraction: number;
}

/** growth.json: what was grown into what, how, and how well. */
export interface GrowthReport extends GrowthRunInfo {
  out: string;
  family: string;
  sourceDims: ModelDims;
  targetDims: ModelDims;
  parameters: GrowthPlan['parameters'];
  /** Which start the operator began from and whether it kept the source's function (absent in reports before it was recorded). */
  start?: StartPlan;
  /** Which weights are new (the listing is its own file, new_parameters_file.ts); absent in reports before it was recorded. */
  newParameters?: NewParametersSummary;
  dtype: DType;
  files: string[];
}


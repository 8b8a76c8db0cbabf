/**
 * The learning-rate schedule recommended for training a grown model further. Re-warming to the
 * peak learning rate a model of that size would use from scratch, over the usual short warmup,
 * undoes part of what growth inherited: held-out loss rises above the grown model's for the first
 * tens of steps (the re-warm bump, measured by bench:downstream: +0.047 nats for net2net at 2x).
 * Keeping the peak but reaching it over the first third of the run avoids the bump and ends at
 * the same loss; a lower peak (0.3x or 0.5x) avoids it too but ends higher.
 */
export const GROWN_WARMUP_FRACTION = 1 / 3;

export interface Schedule {
  lr: number;
  warmup: number;
  steps: number;
}

/** The schedule for a grown model, from the one a scratch model of its shape would use: same peak, longer warmup. */
export function recommendedSchedule<S extends Schedule>(scratch: S): S {
  return { ...scratch, warmup: Math.max(scratch.warmup, Math.round(scratch.steps * GROWN_WARMUP_FRACTION)) };
}

/** Width at which REFERENCE_PEAK_LR is the from-scratch peak (bench:downstream's 2x targets). */
const REFERENCE_WIDTH = 128;
const REFERENCE_PEAK_LR = 2e-3;
/** How the from-scratch peak falls with the width. */
const PEAK_LR_WIDTH_EXPONENT = 0.8;
/** The warmup of a from-scratch run, as a fraction of its steps. */
export const SCRATCH_WARMUP_FRACTION = 0.1;

/**
 * The peak learning rate a model of this width would train with from scratch: 2e-3 at width 128
 * (bench:downstream's grown models), falling as width^-0.8, which follows GPT-3's table (Brown et
 * al. 2020: 6e-4 at 768, 2e-4 at 2048, 1.2e-4 at 4096) within 20%.
 */
export function scratchPeakLr(hiddenSize: number): number {
  return REFERENCE_PEAK_LR * (REFERENCE_WIDTH / hiddenSize) ** PEAK_LR_WIDTH_EXPONENT;
}

/** The full-model schedule of a model trained from scratch: AdamW to `lr` over a tenth of the steps, cosine decay, clipping at 1. */
export function scratchSchedule(steps: number, lr: number): Schedule & { weightDecay: number; clip: number } {
  return { steps, lr, warmup: Math.round(steps * SCRATCH_WARMUP_FRACTION), weightDecay: 0, clip: 1 };
}

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

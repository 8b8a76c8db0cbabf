/**
 * The learning-rate schedule recommended for training a grown model further. Re-warming to the
 * peak learning rate a model of that size would use from scratch undoes part of what growth
 * inherited (held-out loss rises for the first ~100 steps: the re-warm bump, measured by
 * bench:downstream). A grown model starts where a partly trained one is, so it continues with a
 * lower peak and the same warmup and cosine decay, as continual-pretraining recipes do.
 */
export const GROWN_LR_FRACTION = 0.3;

export interface Schedule {
  lr: number;
  warmup: number;
  steps: number;
}

/** The schedule for a grown model, from the one a scratch model of its shape would use. */
export function recommendedSchedule<S extends Schedule>(scratch: S): S {
  return { ...scratch, lr: scratch.lr * GROWN_LR_FRACTION };
}

/** Fraction of the peak learning rate that cosine decay ends at. */
export const MIN_LR_FRACTION = 0.1;

/** Linear warmup for `warmup` steps, then cosine decay to MIN_LR_FRACTION x lr at the last step. */
export function learningRate(step: number, options: { lr: number; warmup: number; steps: number }): number {
  const { lr, warmup, steps } = options;
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, steps - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return lr * (MIN_LR_FRACTION + (1 - MIN_LR_FRACTION) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * What growth saves when the grown model is trained further, kept pure so it is testable: when a
 * held-out loss curve reaches a target, the compute that took (learning phase included), the
 * fraction saved against a baseline, and the bump after the learning rate is re-warmed. Used by
 * `ligo compare` and bench:downstream.
 */
import type { CurvePoint } from './full.js';

export type { CurvePoint };

/**
 * The first step at which the held-out loss curve reaches `target`, interpolating linearly
 * between measurements (curves are measured every N steps); undefined when it never does.
 */
export function stepToReach(curve: readonly CurvePoint[], target: number): number | undefined {
  for (let i = 0; i < curve.length; i++) {
    const p = curve[i];
    if (p.loss > target) continue;
    if (i === 0) return p.step;
    const q = curve[i - 1];
    const t = (q.loss - target) / (q.loss - p.loss);
    return q.step + t * (p.step - q.step);
  }
  return undefined;
}

/** FLOPs of a run: its learning phase (0 without one) plus `steps` training steps. */
export function runFlops(run: { learnFlops: number; stepFlops: number }, steps: number): number {
  return run.learnFlops + steps * run.stepFlops;
}

/**
 * The paper's metric: 1 - (FLOPs a run needs to reach the baseline's final loss) / (the
 * baseline's FLOPs for all its steps). Learning phase included; source pretraining is not (it is
 * what growth reuses). Negative when the run costs more; undefined when it never gets there.
 */
export function computeSaved(
  run: { learnFlops: number; stepFlops: number; curve: readonly CurvePoint[] },
  baseline: { learnFlops: number; stepFlops: number; curve: readonly CurvePoint[] },
): number | undefined {
  const last = baseline.curve[baseline.curve.length - 1];
  if (!last) return undefined;
  const reach = stepToReach(run.curve, last.loss);
  const total = runFlops(baseline, last.step);
  if (reach === undefined || !(total > 0)) return undefined;
  return 1 - runFlops(run, reach) / total;
}

/**
 * The re-warm bump: how far held-out loss rises above where training started, over the first
 * `window` steps (0 when it never rises).
 */
export function rewarmBump(curve: readonly CurvePoint[], window: number): number {
  const start = curve[0];
  if (!start) return 0;
  const early = curve.filter((p) => p.step > 0 && p.step <= window);
  return Math.max(0, ...early.map((p) => p.loss - start.loss));
}

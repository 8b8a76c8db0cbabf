import * as tf from '@tensorflow/tfjs-core';
import { materializeEach, type SmallWeights } from '../growth/materialize.js';
import type { GrowthOperator } from '../growth/operator.js';
import type { GrowthPlan } from '../growth/plan.js';
import { mapGetter } from '../util/map_getter.js';

/**
 * A learned operator replaces the start only when its gain over the start, window by window on
 * the selection tokens, is this many standard errors above zero. Lower on average is not enough:
 * the selection windows are few, and a gain within their noise is as likely to be a loss on
 * other text, where the start keeps the source's loss exactly.
 */
export const SELECTION_CONFIDENCE = 2;

/** Loss on the selection tokens, and each window's loss (same windows, same order, every time). */
export interface SelectionScore {
  loss: number;
  windows: readonly number[];
}

/** Held-out loss of the operator after `step` learning steps (0: the initial operator). */
export interface SelectionPoint {
  step: number;
  loss: number;
  /** Mean per-window gain over the start and its standard error (absent at step 0). */
  gain?: { mean: number; se: number };
}

/**
 * Mean of (start - candidate) over paired windows and its standard error. With fewer than two
 * windows there is no spread to measure, so no gain is clear: the error is infinite.
 */
export function pairedGain(start: readonly number[], candidate: readonly number[]): { mean: number; se: number } {
  const n = start.length;
  if (candidate.length !== n) throw new Error(`selection compares ${n} windows with ${candidate.length}`);
  const d = start.map((s, i) => s - candidate[i]);
  const mean = n === 0 ? 0 : d.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: Number.POSITIVE_INFINITY };
  const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n) };
}

/** Whether a gain is clear of the selection windows' noise (see SELECTION_CONFIDENCE). */
export const clearGain = (gain: { mean: number; se: number }): boolean => gain.mean > 0 && gain.mean > SELECTION_CONFIDENCE * gain.se;

/**
 * --keep-best: the operator's selection loss at the start, every `every` steps (0: only the start
 * and the end) and at the end, and a copy of the best operator whose gain over the start is clear
 * of noise, put back when learning ends, so learning never ends worse than its function-preserving
 * start by more than chance allows.
 */
export class BestOperator {
  readonly points: SelectionPoint[] = [];
  private start: readonly number[] | undefined;
  private kept: { step: number; loss: number; values: tf.Tensor[] } | undefined;

  constructor(
    private readonly plan: GrowthPlan,
    private readonly small: SmallWeights,
    private readonly operator: GrowthOperator,
    private readonly validate: (weight: (name: string) => tf.Tensor) => Promise<SelectionScore>,
    private readonly schedule: { steps: number; every: number },
    private readonly onSelect?: (point: SelectionPoint) => void,
    private readonly startScore?: () => Promise<SelectionScore>,
  ) {}

  private due(step: number): boolean {
    const { steps, every } = this.schedule;
    return step === 0 || step === steps || (every > 0 && step % every === 0);
  }

  /** Measures the operator after `step` steps when due, and keeps a copy when it is the best clear gain yet. */
  async consider(step: number): Promise<void> {
    if (!this.due(step)) return;
    const score = step === 0 && this.startScore ? await this.startScore() : await this.grownScore();
    const gain = this.start ? pairedGain(this.start, score.windows) : undefined;
    const point: SelectionPoint = { step, loss: score.loss, ...(gain ? { gain } : {}) };
    this.start ??= score.windows;
    this.points.push(point);
    this.onSelect?.(point);
    if (!this.kept || (score.loss < this.kept.loss && gain !== undefined && clearGain(gain))) {
      if (this.kept) tf.dispose(this.kept.values);
      this.kept = { step, loss: score.loss, values: this.operator.variables.map((v) => tf.clone(v)) };
    }
  }

  /** The selection score of the model the operator builds now. */
  private async grownScore(): Promise<SelectionScore> {
    const grown = materializeEach(this.plan.tensors, this.small, this.operator);
    try {
      return await this.validate(mapGetter(grown, (name) => new Error(`grown model has no tensor "${name}"`)));
    } finally {
      tf.dispose([...grown.values()]);
    }
  }

  /** Puts the best operator back; returns its step. */
  restore(): number {
    const kept = this.kept;
    if (!kept) return this.schedule.steps;
    this.operator.variables.forEach((v, i) => v.assign(kept.values[i]));
    return kept.step;
  }

  dispose(): void {
    if (this.kept) tf.dispose(this.kept.values);
    this.kept = undefined;
  }
}

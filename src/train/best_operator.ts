import * as tf from '@tensorflow/tfjs-core';
import { materializeEach, type SmallWeights } from '../growth/materialize.js';
import type { GrowthOperator } from '../growth/operator.js';
import type { GrowthPlan } from '../growth/plan.js';
import { mapGetter } from '../util/map_getter.js';

/** Held-out loss of the operator after `step` learning steps (0: the initial operator). */
export interface SelectionPoint {
  step: number;
  loss: number;
}

/** The point with the lowest loss; the earliest wins ties, so a start that learning never beats is kept. */
export function bestPoint(points: readonly SelectionPoint[]): SelectionPoint | undefined {
  let best: SelectionPoint | undefined;
  for (const p of points) if (!best || p.loss < best.loss) best = p;
  return best;
}

/**
 * --keep-best: the operator's held-out loss at the start, every `every` steps (0: only the start
 * and the end) and at the end, and a copy of the best operator seen, put back when learning ends,
 * so learning never ends worse than its function-preserving start.
 */
export class BestOperator {
  readonly points: SelectionPoint[] = [];
  private kept: { step: number; loss: number; values: tf.Tensor[] } | undefined;

  constructor(
    private readonly plan: GrowthPlan,
    private readonly small: SmallWeights,
    private readonly operator: GrowthOperator,
    private readonly validate: (weight: (name: string) => tf.Tensor) => Promise<number>,
    private readonly schedule: { steps: number; every: number },
    private readonly onSelect?: (point: SelectionPoint) => void,
  ) {}

  private due(step: number): boolean {
    const { steps, every } = this.schedule;
    return step === 0 || step === steps || (every > 0 && step % every === 0);
  }

  /** Measures the operator after `step` steps when due, and keeps a copy when it is the best yet. */
  async consider(step: number): Promise<void> {
    if (!this.due(step)) return;
    const grown = materializeEach(this.plan.tensors, this.small, this.operator);
    let loss: number;
    try {
      loss = await this.validate(mapGetter(grown, (name) => new Error(`grown model has no tensor "${name}"`)));
    } finally {
      tf.dispose([...grown.values()]);
    }
    const point = { step, loss };
    this.points.push(point);
    this.onSelect?.(point);
    if (!this.kept || loss < this.kept.loss) {
      if (this.kept) tf.dispose(this.kept.values);
      this.kept = { step, loss, values: this.operator.variables.map((v) => tf.clone(v)) };
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

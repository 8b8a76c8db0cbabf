/**
 * Where a learning step's time goes, by phase, so the next bottleneck is visible: building the
 * grown weights from the operator, the forward pass, the forward recomputed in backpropagation
 * (--recompute), the backward pass and the optimizer update. Phases nest (materialization runs
 * inside a layer's forward); time is charged to the innermost phase only. tfjs CPU kernels run
 * synchronously, so wall time inside a phase is that phase's compute.
 */
export const STEP_PHASES = ['materialize', 'forward', 'recompute', 'backward', 'optimizer'] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** Seconds per phase, and what no phase claimed (data, bookkeeping, garbage collection). */
export type PhaseSeconds = Record<StepPhase | 'other', number>;

export class StepProfile {
  private readonly totals = new Map<StepPhase, number>();
  /** Open phases, innermost last: each with its start and the time its inner phases took. */
  private readonly open: { phase: StepPhase; start: number; inner: number }[] = [];

  /** `now`: milliseconds of a monotonic clock (tests pass their own). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Runs `f`, charging its time (less nested phases') to `phase`. */
  time<T>(phase: StepPhase, f: () => T): T {
    const frame = { phase, start: this.now(), inner: 0 };
    this.open.push(frame);
    try {
      return f();
    } finally {
      this.open.pop();
      const elapsed = this.now() - frame.start;
      this.totals.set(phase, (this.totals.get(phase) ?? 0) + elapsed - frame.inner);
      const outer = this.open.at(-1);
      if (outer) outer.inner += elapsed;
    }
  }

  /** Seconds per phase since the last reset, with `totalMs` of wall time the rest is measured against. */
  seconds(totalMs: number): PhaseSeconds {
    const out = { other: 0 } as PhaseSeconds;
    let claimed = 0;
    for (const phase of STEP_PHASES) {
      const ms = this.totals.get(phase) ?? 0;
      out[phase] = ms / 1000;
      claimed += ms;
    }
    out.other = Math.max(0, totalMs - claimed) / 1000;
    return out;
  }

  reset(): void {
    this.totals.clear();
  }
}

/** Runs `f` under `phase` when profiling, else just runs it. */
export const timed = <T>(profile: StepProfile | undefined, phase: StepPhase, f: () => T): T => (profile ? profile.time(phase, f) : f());

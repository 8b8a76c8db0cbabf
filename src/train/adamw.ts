import * as tf from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** Per-variable multiplier of the learning rate, by variable name (1 when absent). */
  lrScale?: ReadonlyMap<string, number>;
}

export const DEFAULT_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** AdamW (decoupled weight decay, Loshchilov & Hutter) over a fixed set of variables. */
export class AdamW {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;

  constructor(
    private readonly variables: readonly tf.Variable[],
    private readonly options: AdamWOptions = DEFAULT_ADAMW,
  ) {
    // tidy frees the zeros the variables were made from; variables themselves survive it.
    tf.tidy(() => {
      for (const p of variables) {
        this.m.set(p.name, tf.variable(tf.zerosLike(p), false));
        this.v.set(p.name, tf.variable(tf.zerosLike(p), false));
      }
    });
  }

  /**
   * One update with learning rate `lr` (or a rate per variable name: a number, or a tensor of
   * rates per element, made inside this step's tidy); `grads` by variable name, each multiplied by
   * `gradScale` when given (gradient clipping), one variable at a time so no scaled copy of all
   * gradients exists.
   */
  step(grads: Readonly<Record<string, tf.Tensor>>, lr: number | ((name: string) => number | tf.Tensor), gradScale?: tf.Scalar): void {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const correction1 = 1 - beta1 ** this.t;
    const correction2 = 1 - beta2 ** this.t;
    for (const p of this.variables) {
      // One tidy per variable: temporaries of one update are freed before the next one starts.
      tf.tidy(() => {
        const raw = grads[p.name];
        const m = this.m.get(p.name);
        const v = this.v.get(p.name);
        if (!raw || !m || !v) return;
        const g = gradScale ? tf.mul(raw, gradScale) : raw;
        const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(mNext);
        v.assign(vNext);
        const update = tf.div(tf.div(mNext, correction1), tf.add(tf.sqrt(tf.div(vNext, correction2)), epsilon));
        const base = typeof lr === 'number' ? lr : lr(p.name);
        const scale = this.options.lrScale?.get(p.name) ?? 1;
        const rate = typeof base === 'number' ? base * scale : tf.mul(base, scale);
        const decayed = weightDecay > 0 ? tf.mul(p, typeof rate === 'number' ? 1 - rate * weightDecay : tf.sub(1, tf.mul(rate, weightDecay))) : p;
        p.assign(tf.sub(decayed, tf.mul(update, rate)));
      });
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * The gradients' global L2 norm and the factor that scales it down to maxNorm (undefined when
 * maxNorm <= 0: no clipping). Each gradient's square is freed as soon as it is summed; pass the
 * factor to AdamW.step, which applies it one variable at a time.
 */
export function globalNormClip(grads: Readonly<Record<string, tf.Tensor>>, maxNorm: number): { norm: tf.Scalar; scale: tf.Scalar | undefined } {
  return tf.tidy(() => {
    const sums = Object.values(grads).map((g) => tf.tidy(() => tf.sum(tf.square(g))));
    const norm = tf.sqrt(sums.length > 0 ? tf.addN(sums) : tf.scalar(0)) as tf.Scalar;
    const scale = maxNorm > 0 ? (tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar) : undefined;
    return scale ? { norm, scale } : { norm, scale: undefined };
  });
}

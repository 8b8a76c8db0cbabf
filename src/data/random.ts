import { UsageError } from '../errors.js';

/** The largest seed a user may give: mulberry32's state is 32 bits, so a larger one would alias a smaller. */
export const MAX_SEED = 2 ** 32 - 1;

/** A seed as a user gives it (--seed): an integer the state holds as is. */
export const isSeed = (seed: number): boolean => Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;

/** A seeded source of floats in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32: 32-bit state, passes gjrand/PractRand to 2^32 outputs, and is a few lines, which is
 * all that batch sampling and init noise need. Same seed, same sequence, on every platform.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) {
    throw new UsageError(`--seed must be a finite number, got ${seed}`, { flag: '--seed', actual: String(seed) });
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

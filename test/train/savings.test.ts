import { describe, expect, it } from 'vitest';
import { computeSaved, rewarmBump, runFlops, stepToReach } from '../../src/train/savings.js';

const curve = (losses: number[], every = 10) => losses.map((loss, i) => ({ step: i * every, loss }));

describe('compute saved by growth', () => {
  it('finds the step a curve reaches a loss, interpolating between measurements', () => {
    const c = curve([3, 2.5, 2, 1.8]);
    expect(stepToReach(c, 3.1)).toBe(0);
    expect(stepToReach(c, 2.5)).toBe(10);
    expect(stepToReach(c, 2.25)).toBeCloseTo(15);
    expect(stepToReach(c, 1.9)).toBeCloseTo(25);
    expect(stepToReach(c, 1.7)).toBeUndefined();
  });

  it('counts the learning phase in compute saved against a baseline', () => {
    const baseline = { learnFlops: 0, stepFlops: 10, curve: curve([5, 4, 3, 2]) }; // 30 steps, 300 FLOPs, final 2
    const grown = { learnFlops: 50, stepFlops: 10, curve: curve([2.5, 2.2, 2, 1.9]) }; // reaches 2 at step 20
    expect(runFlops(grown, 20)).toBe(250);
    expect(computeSaved(grown, baseline)).toBeCloseTo(1 - 250 / 300);
    expect(computeSaved({ ...grown, learnFlops: 200 }, baseline)).toBeCloseTo(1 - 400 / 300); // costs more: negative
    expect(computeSaved({ ...grown, curve: curve([2.5, 2.4]) }, baseline)).toBeUndefined();
    expect(computeSaved(baseline, baseline)).toBeCloseTo(0);
  });

  it('measures the re-warm bump as the largest early rise above the start', () => {
    expect(rewarmBump(curve([2, 2.1, 2.3, 2.0, 1.5]), 30)).toBeCloseTo(0.3);
    expect(rewarmBump(curve([2, 1.9, 1.8]), 30)).toBe(0);
    expect(rewarmBump(curve([2, 1.9, 1.8, 2.5]), 20)).toBe(0); // after the window
  });
});

import { describe, expect, it } from 'vitest';
import { formatSeconds, insideStep, LONG_STEP_MS, type Progress } from '../../src/cli/progress.js';

describe('progress inside a long learning step', () => {
  it('names the layer and pass once a step has run LONG_STEP_MS, and stays quiet before', () => {
    const updates: [number, number, string | undefined][] = [];
    const bar: Progress = { update: (done, total, detail) => void updates.push([done, total, detail]), stop: () => undefined };
    let now = 0;
    const inside = insideStep(bar, () => now);
    inside.layer({ step: 1, steps: 20, layer: 0, layers: 24, pass: 'forward' });
    now += LONG_STEP_MS - 1;
    inside.layer({ step: 1, steps: 20, layer: 10, layers: 24, pass: 'forward' });
    expect(updates).toEqual([]);
    now += 1;
    inside.layer({ step: 1, steps: 20, layer: 23, layers: 24, pass: 'backward' });
    expect(updates).toEqual([[0, 20, 'step 1: layer 24/24, backward']]);
    // A new step starts its own clock.
    inside.layer({ step: 2, steps: 20, layer: 0, layers: 24, pass: 'forward' });
    expect(updates).toHaveLength(1);
  });

  it('formats seconds as a user reads them', () => {
    expect(formatSeconds(0.423)).toBe('0.42 s');
    expect(formatSeconds(3.21)).toBe('3.2 s');
    expect(formatSeconds(42.4)).toBe('42 s');
    expect(formatSeconds(275)).toBe('4.6 min');
  });
});

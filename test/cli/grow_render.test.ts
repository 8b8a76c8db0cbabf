import { describe, expect, it } from 'vitest';
import { compareWithStart, learningLine, startGap } from '../../src/cli/commands/grow_render.js';

const heldOut = (grownAtInit: number | null, grown: number | null) => ({ source: 2.5, grownAtInit, grown, tokens: 1024 });

describe('ligo grow: the learned operator next to its start', () => {
  it('says better or worse, by how much, and which operator was kept', () => {
    const learning = { depthLr: 5e-3, keepBest: true, keptStep: 75, selection: [] };
    expect(compareWithStart({ steps: 100, heldOut: heldOut(2.5, 2.48), learning })).toBe(
      '-0.0200 vs its starting operator: the learned operator is better than where learning started; kept the operator of step 75 of 100 (lowest selection loss clear of noise)',
    );
    expect(compareWithStart({ steps: 100, heldOut: heldOut(2.5, 2.5), learning: { ...learning, keptStep: 0 } })).toContain(
      'the same as where learning started; no learned operator beat the start clearly on the selection tokens, so the start was kept',
    );
    expect(compareWithStart({ steps: 100, heldOut: heldOut(2.5, 2.51), learning: null })).toBe('+0.0100 vs its starting operator: the learned operator is worse than where learning started');
  });

  it('says nothing when nothing was learned or measured', () => {
    expect(compareWithStart({ steps: 0, heldOut: heldOut(2.5, 2.5) })).toBeUndefined();
    expect(compareWithStart({ steps: 100, heldOut: heldOut(null, null) })).toBeUndefined();
  });

  it('says how to learn the operator when ligo wrote its start', () => {
    const run = { backend: 'blas', learnTokensPerSecond: null };
    expect(learningLine({ ...run, method: 'ligo', steps: 0 })).toMatch(/^none: the start as written \(--steps N --data FILE learns the operator\)$/);
    expect(learningLine({ ...run, method: 'net2net', steps: 0 })).toBe('-');
    expect(learningLine({ ...run, method: 'ligo', steps: 20, learnTokensPerSecond: 1234.4 })).toBe('1,234 tokens/s on blas');
  });
});

describe("ligo grow: a lossy start's gap", () => {
  const lossy = { rule: 'ligo-paper' as const, exact: false, notes: ['new units start as random mixtures'] };
  it('says the gap at the start, after learning, and the share repaired', () => {
    expect(startGap({ start: lossy, steps: 20, heldOut: heldOut(2.7, 2.55) })).toBe('+0.2000 nats at the start, +0.0500 after 20 steps (75% repaired)');
    expect(startGap({ start: lossy, steps: 0, heldOut: heldOut(2.7, 2.7) })).toBe('+0.2000 nats at the start (--steps N learns the operator to repair it)');
  });
  it('says nothing for an exact start or without text', () => {
    expect(startGap({ start: { rule: 'exact', exact: true, notes: [] }, steps: 20, heldOut: heldOut(2.5, 2.49) })).toBeUndefined();
    expect(startGap({ start: lossy, steps: 20, heldOut: heldOut(null, null) })).toBeUndefined();
  });
});

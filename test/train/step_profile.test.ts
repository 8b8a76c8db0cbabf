import { describe, expect, it } from 'vitest';
import { StepProfile } from '../../src/train/step_profile.js';

/** Busy-waits `ms` milliseconds (phases time wall clock). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // waiting
  }
}

describe('StepProfile: where a learning step\'s time goes', () => {
  it('charges nested time to the innermost phase only, and the rest to other', () => {
    const profile = new StepProfile();
    const start = performance.now();
    profile.time('backward', () => {
      spin(30);
      profile.time('recompute', () => {
        spin(20);
        profile.time('materialize', () => spin(25));
      });
    });
    spin(15);
    const s = profile.seconds(performance.now() - start);
    expect(s.materialize).toBeGreaterThanOrEqual(0.025);
    expect(s.materialize).toBeLessThan(0.04);
    // recompute's own 20 ms, not the 25 ms of materialization inside it.
    expect(s.recompute).toBeGreaterThanOrEqual(0.02);
    expect(s.recompute).toBeLessThan(0.035);
    expect(s.backward).toBeGreaterThanOrEqual(0.03);
    expect(s.backward).toBeLessThan(0.045);
    expect(s.other).toBeGreaterThanOrEqual(0.015);
    expect(s.forward).toBe(0);
  });

  it('returns what the phase returns and still charges a phase that throws', () => {
    const profile = new StepProfile();
    expect(profile.time('forward', () => 42)).toBe(42);
    expect(() => profile.time('optimizer', () => {
      spin(5);
      throw new Error('boom');
    })).toThrow('boom');
    expect(profile.seconds(100).optimizer).toBeGreaterThan(0.004);
    profile.reset();
    expect(profile.seconds(0).optimizer).toBe(0);
  });
});

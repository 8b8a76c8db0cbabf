import { describe, expect, it } from 'vitest';
import { StepProfile } from '../../src/train/step_profile.js';

/** A clock that only moves when told: phases are charged exactly what the test spends in them. */
function fakeClock(): { now: () => number; spend: (ms: number) => void } {
  let t = 0;
  return { now: () => t, spend: (ms) => void (t += ms) };
}

describe('StepProfile: where a learning step\'s time goes', () => {
  it('charges nested time to the innermost phase only, and the rest to other', () => {
    const clock = fakeClock();
    const profile = new StepProfile(clock.now);
    profile.time('backward', () => {
      clock.spend(30);
      profile.time('recompute', () => {
        clock.spend(20);
        profile.time('materialize', () => clock.spend(25));
      });
    });
    clock.spend(15);
    const s = profile.seconds(clock.now());
    expect(s.materialize).toBeCloseTo(0.025, 12);
    // recompute's own 20 ms, not the 25 ms of materialization inside it.
    expect(s.recompute).toBeCloseTo(0.02, 12);
    expect(s.backward).toBeCloseTo(0.03, 12);
    expect(s.other).toBeCloseTo(0.015, 12);
    expect(s.forward).toBe(0);
  });

  it('returns what the phase returns and still charges a phase that throws', () => {
    const clock = fakeClock();
    const profile = new StepProfile(clock.now);
    expect(profile.time('forward', () => 42)).toBe(42);
    expect(() => profile.time('optimizer', () => {
      clock.spend(5);
      throw new Error('boom');
    })).toThrow('boom');
    expect(profile.seconds(100).optimizer).toBeCloseTo(0.005, 12);
    profile.reset();
    expect(profile.seconds(0).optimizer).toBe(0);
  });
});

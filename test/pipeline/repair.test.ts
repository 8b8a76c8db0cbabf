import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/arch/load.js';
import { resolveGrowOptions, type GrowOptions } from '../../src/pipeline/options.js';
import { planFromOptions } from '../../src/pipeline/plan.js';
import { REPAIR_DEPTH_LR, REPAIR_STEPS, repairHint, withRepair } from '../../src/pipeline/repair.js';
import { resolveRun } from '../../src/pipeline/run_settings.js';
import { GPT2_DIR } from '../cli/helpers.js';

describe('a lossy start learns by default where there is text', () => {
  it('learns REPAIR_STEPS steps from a lossy start with --data, and only there, saying so in one line', async () => {
    const source = await openModel(GPT2_DIR);
    try {
      const decide = async (options: Partial<GrowOptions>) => {
        const o = resolveGrowOptions({ source: GPT2_DIR, out: '', layers: 3, hiddenSize: source.dims.hiddenSize * 1.5, ...options });
        const asked = resolveRun(o, source);
        const plan = await planFromOptions(o, asked, source);
        const lines: string[] = [];
        const repaired = withRepair(o, asked, plan, source, (l) => lines.push(l));
        return { o: repaired.o, settings: repaired.settings, lines, hint: repairHint(o, asked, plan), exact: plan.start?.exact };
      };
      const lossy = await decide({ start: 'copy', data: 'text.txt' });
      expect(lossy.exact).toBe(false);
      expect(lossy.o.steps).toBe(REPAIR_STEPS);
      expect(lossy.settings.learningPhase).toBe(true);
      expect(lossy.lines).toEqual([expect.stringMatching(/^the start is lossy \(.*not a multiple.*\): learning the operator for 20 steps on --data to repair it \(--steps 0 writes the start as it is\)$/)]);
      // What the user asked for wins, --steps 0 included.
      for (const steps of [0, 5]) {
        const asked = await decide({ start: 'copy', data: 'text.txt', steps });
        expect(asked.o.steps).toBe(steps);
        expect(asked.lines).toEqual([]);
      }
      // The exact start needs no repair; a fixed method has nothing to learn.
      for (const options of [{ data: 'text.txt' }, { start: 'copy' as const, data: 'text.txt', method: 'net2net' as const }]) {
        const other = await decide(options);
        expect(other.o.steps).toBe(0);
        expect(other.settings.learningPhase).toBe(false);
        expect(other.lines).toEqual([]);
      }
      // Without --data the lossy start is written as it is, and one line says how to repair it.
      const noData = await decide({ start: 'copy' });
      expect(noData.o.steps).toBe(0);
      expect(noData.hint).toMatch(/^the start is lossy \(.*\): --data FILE learns the operator for 20 steps to repair it$/);
      expect((await decide({})).hint).toBeUndefined();
      // Added layers started as copies: their depth coefficients learn at REPAIR_DEPTH_LR, said in the line, unless --depth-lr is given.
      const stacked = await decide({ depthStart: 'copy', data: 'text.txt' });
      expect([stacked.o.steps, stacked.o.depthLr]).toEqual([REPAIR_STEPS, REPAIR_DEPTH_LR]);
      expect(stacked.lines).toEqual([expect.stringMatching(/repair it, the depth coefficients at --depth-lr 0\.05 \(added layers start as copies\) \(--steps 0/)]);
      expect((await decide({ depthStart: 'copy', data: 'text.txt', depthLr: 1e-3 })).o.depthLr).toBe(1e-3);
      // The rate holds for any number of steps asked for, and nothing more is said.
      const asked = await decide({ depthStart: 'copy', data: 'text.txt', steps: 7 });
      expect([asked.o.steps, asked.o.depthLr, asked.lines]).toEqual([7, REPAIR_DEPTH_LR, []]);
      // Identity layers (the copy start's default depth) keep the default rate.
      expect(lossy.o.depthLr).toBe(resolveGrowOptions({ source: GPT2_DIR, out: '' }).depthLr);
    } finally {
      await source.close();
    }
  });
});

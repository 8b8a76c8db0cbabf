import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/arch/load.js';
import { resolveGrowOptions } from '../../src/pipeline/options.js';
import { resolveRun } from '../../src/pipeline/run_settings.js';
import { GPT2_DIR } from '../cli/helpers.js';

describe('resolveRun: what a run does, decided once', () => {
  it('learns only for a learning method given steps; parameterizes only a learning method; caps --seq-len at the positions', async () => {
    const source = await openModel(GPT2_DIR);
    try {
      const settings = (options: Record<string, unknown>, log?: (l: string) => void) => resolveRun(resolveGrowOptions({ source: GPT2_DIR, out: '', ...options }), source, log);
      expect(settings({}).learningPhase).toBe(false); // ligo's default: the start as written
      expect(settings({ steps: 3 }).learningPhase).toBe(true);
      expect(settings({ steps: 3, method: 'net2net' }).learningPhase).toBe(false);
      expect(settings({ steps: 3 }).form).toEqual({ kind: 'lowrank', rank: 16 });
      expect(settings({ steps: 3, operator: 'dense' }).form).toEqual({ kind: 'dense', rank: 0 });
      expect(settings({ method: 'net2net' }).form).toEqual({ kind: 'dense', rank: 0 });
      expect(settings({ method: 'random' }).recipe.depth).toBeUndefined();
      const lines: string[] = [];
      expect(settings({}, (l) => lines.push(l)).seqLen).toBe(Math.min(128, source.dims.maxPositions));
      expect(settings({ seqLen: source.dims.maxPositions + 1 }, (l) => lines.push(l)).seqLen).toBe(source.dims.maxPositions);
      expect(lines).toHaveLength(1);
    } finally {
      await source.close();
    }
  });
});

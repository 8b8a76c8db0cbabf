import { describe, expect, it } from 'vitest';
import { resolveCompareOptions } from '../../src/pipeline/compare_options.js';
import type { DownstreamRecipe } from '../../src/train/lr_groups.js';

const base = { source: 's', data: 'd.txt' };

describe('compare\'s training recipe', () => {
  it('trains grown models per group by default; lemon and single are kept for comparison', () => {
    expect(resolveCompareOptions(base).trainRecipe).toBe('split');
    expect(resolveCompareOptions({ ...base, trainRecipe: 'single' }).trainRecipe).toBe('single');
    expect(resolveCompareOptions({ ...base, trainRecipe: 'lemon' }).trainRecipe).toBe('lemon');
  });

  it('refuses an unknown recipe naming the flag', () => {
    expect(() => resolveCompareOptions({ ...base, trainRecipe: 'fast' as DownstreamRecipe })).toThrow(/^--train-recipe: expected one of split, lemon, single, got "fast"/);
  });
});

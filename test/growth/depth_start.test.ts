import { describe, expect, it } from 'vitest';
import { loadModel, type LoadedModel } from '../../src/arch/load.js';
import { resolveDepthStart } from '../../src/growth/depth_start.js';
import { planStart } from '../../src/growth/exact_start.js';
import { methodRecipe } from '../../src/growth/methods.js';
import { resolveTarget } from '../../src/growth/target.js';
import { GOLDEN_DIR } from '../models/helpers.js';
import { GPT2_DIR } from '../cli/helpers.js';
import * as path from 'node:path';

async function withModel<T>(dir: string, f: (m: LoadedModel) => T): Promise<T> {
  const model = await loadModel(dir);
  try {
    return f(model);
  } finally {
    model.dispose();
  }
}

/** A thrown error's message, for one-line checks. */
function thrown(f: () => unknown): { message: string; flag?: string } {
  try {
    f();
  } catch (error) {
    return error as { message: string; flag?: string };
  }
  throw new Error('expected a throw');
}

describe('--depth-start', () => {
  it('defaults: identity in pre-norm stacks, copy in post-norm ones, noisy with the paper\'s start; the fixed methods keep theirs', async () => {
    await withModel(GPT2_DIR, ({ description }) => {
      expect(resolveDepthStart({ description, method: 'ligo' })).toBe('identity');
      expect(resolveDepthStart({ description, method: 'ligo', start: 'ligo-paper' })).toBe('noisy');
      expect(resolveDepthStart({ description, method: 'net2net' })).toBe('identity');
      expect(resolveDepthStart({ description, method: 'stack' })).toBe('copy');
      expect(methodRecipe('ligo', description, 'stack', 'copy').depth).toEqual({ pattern: 'stack', preserve: false });
      expect(methodRecipe('ligo', description, 'interlace', 'noisy').depth).toEqual({ pattern: 'interlace', preserve: false, noise: 0.03 });
    });
    await withModel(path.join(GOLDEN_DIR, 'bert-mlm'), ({ description }) => expect(resolveDepthStart({ description, method: 'ligo' })).toBe('copy'));
  });

  it('refuses in one line naming the flag: a depth start for a fixed method, identities where the family cannot make them', async () => {
    await withModel(GPT2_DIR, ({ description }) => {
      const fixed = thrown(() => resolveDepthStart({ description, method: 'stack', asked: 'identity' }));
      expect(fixed).toMatchObject({ flag: '--depth-start', message: '--depth-start: only --method ligo takes a depth start (stack starts new layers as copies)' });
    });
    await withModel(path.join(GOLDEN_DIR, 'bert-mlm'), ({ description }) => {
      const postNorm = thrown(() => resolveDepthStart({ description, method: 'ligo', asked: 'identity' }));
      expect(postNorm.flag).toBe('--depth-start');
      expect(postNorm.message).toMatch(/^--depth-start identity: bert normalizes after each residual add \(post-norm\), so a repeated layer cannot start as an identity$/);
    });
  });

  it('copies of layers (G_stack) make the start lossy only where layers are added, and say why', async () => {
    await withModel(GPT2_DIR, ({ description, dims }) => {
      const start = (layers: number) =>
        planStart({ description, source: dims, target: resolveTarget(dims, { layers }, description), method: 'ligo', depthStart: 'copy' });
      expect(start(3)).toMatchObject({ rule: 'exact', exact: false, depth: 'copy', notes: ['new layers start as plain copies of source layers (G_stack), which add to the residual stream again'] });
      expect(start(dims.numLayers)).toMatchObject({ exact: true, notes: [] });
    });
  });
});

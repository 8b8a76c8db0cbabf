import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import type { SplitMode } from '../../src/growth/init.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { methodRecipe } from '../../src/growth/methods.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { toVariables, trainModel } from '../../src/train/full.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

/**
 * The claim behind `--split first` (growth/init.ts SplitMode): with even shares the copies of a
 * unit stay bit-identical under full-model AdamW training, so the grown model never uses its extra
 * width; with the first copy keeping the share they train apart. Checked on the token embedding's columns, whose copies
 * are column i and column i + small width (copy index i mod small).
 */
async function embeddingCopiesAfterTraining(split: SplitMode): Promise<{ identical: number; pairs: number }> {
  const model = await loadModel(path.join(GOLDEN_DIR, 'llama-gqa-untied'));
  const target = resolveTarget(model.dims, { hiddenSize: 2 * model.dims.hiddenSize, layers: model.dims.numLayers }, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: model.match.optionalPresent });
  const recipe = methodRecipe('ligo', model.description, 'stack');
  let seed = 1;
  const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const operator = GrowthOperator.initialize(plan, { depth: recipe.depth ?? { pattern: 'stack', preserve: true }, noise: 0, split, random });
  const grown = materializeAll(plan.tensors, weightsFrom(model.weights), operator);
  operator.dispose();
  const vars = toVariables(grown);
  tf.dispose([...grown.values()]);
  const vocab = target.vocabSize;
  const ids = tf.tensor2d([Array.from({ length: 16 }, (_, t) => (t * 7 + 3) % vocab), Array.from({ length: 16 }, (_, t) => (t * 11 + 1) % vocab)], [2, 16], 'int32');
  await trainModel({ dims: target, weights: vars, nextBatch: () => tf.clone(ids), options: { steps: 4, lr: 1e-2, warmup: 1, weightDecay: 0, clip: 1 }, evalEvery: 4, evaluate: async () => 0 });
  ids.dispose();
  const embedding = [...vars].find(([, v]) => v.shape.length === 2 && v.shape[0] === vocab && v.shape[1] === target.hiddenSize)?.[1];
  if (!embedding) throw new Error('no [vocab, hidden] embedding');
  const data = (await embedding.data()) as Float32Array;
  const small = model.dims.hiddenSize;
  let identical = 0;
  for (let c = 0; c < small; c++) {
    let same = true;
    for (let r = 0; r < vocab && same; r++) same = data[r * target.hiddenSize + c] === data[r * target.hiddenSize + c + small];
    if (same) identical++;
  }
  tf.dispose([...vars.values()]);
  model.dispose();
  return { identical, pairs: small };
}

describe('symmetry of copied units under full-model training', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('even shares keep every copy identical', async () => {
    const even = await embeddingCopiesAfterTraining('even');
    expect(even.identical).toBe(even.pairs);
  });

  it('the first-copy split lets every copy train apart', async () => {
    const first = await embeddingCopiesAfterTraining('first');
    expect(first.identical).toBe(0);
  });
});

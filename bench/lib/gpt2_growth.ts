/**
 * A GPT-2-shaped LiGO growth with a random-initialized source, for the learning benchmarks: the
 * plan, the source weights (on the active backend), a fresh operator and a random-token batch
 * source. Weights are random (N(0, 0.02), LayerNorm gains 1): what the benchmarks measure is
 * time and memory, which do not depend on the values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, tensorSpecs } from '../../src/arch/index.js';
import { createRng } from '../../src/data/index.js';
import { LIGO_INIT_NOISE, methodRecipe } from '../../src/growth/methods.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { mapGetter } from '../../src/util/map_getter.js';

export interface Gpt2GrowthShape {
  source: { layers: number; width: number; heads: number };
  target: { layers: number; width: number };
  vocab: number;
  seqLen: number;
}

/** The source config of a GPT-2 with these sizes (FFN 4x the width, tied head, gelu_new). */
export function gpt2Config(shape: Gpt2GrowthShape): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: shape.vocab,
    n_positions: Math.max(shape.seqLen, 256),
    n_embd: shape.source.width,
    n_layer: shape.source.layers,
    n_head: shape.source.heads,
    n_inner: null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
  };
}

export function gpt2GrowthPlan(shape: Gpt2GrowthShape): GrowthPlan {
  const { description, dims } = resolveArchitecture(gpt2Config(shape));
  const target = resolveTarget(dims, { hiddenSize: shape.target.width, layers: shape.target.layers }, description);
  return planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
}

export interface Gpt2Growth {
  plan: GrowthPlan;
  weights: Map<string, tf.Tensor>;
  small: (name: string) => tf.Tensor;
  operator: GrowthOperator;
  /** A [batchSize, seqLen] batch of random token ids. */
  batch: (batchSize: number) => tf.Tensor2D;
  dispose(): void;
}

/** Builds the growth on the active backend. */
export function gpt2Growth(shape: Gpt2GrowthShape): Gpt2Growth {
  const { description, dims } = resolveArchitecture(gpt2Config(shape));
  const plan = gpt2GrowthPlan(shape);
  const weights = new Map<string, tf.Tensor>();
  tf.tidy(() => {
    for (const s of tensorSpecs(description, dims)) {
      const init = s.template.init;
      const t = init === 'normal' ? tf.mul(tf.randomNormal(s.shape, 0, 1, 'float32', 1), 0.02) : init === 'ones' ? tf.ones(s.shape) : tf.zeros(s.shape);
      weights.set(s.name, tf.keep(t));
    }
  });
  const recipe = methodRecipe('ligo', description, 'stack');
  if (!recipe.depth) throw new Error('ligo has no depth init');
  const operator = GrowthOperator.initialize(plan, { depth: recipe.depth, noise: LIGO_INIT_NOISE, random: createRng(0) });
  const rng = createRng(1);
  return {
    plan,
    weights,
    small: mapGetter(weights),
    operator,
    batch: (batchSize) => tf.tensor2d(Int32Array.from({ length: batchSize * shape.seqLen }, () => Math.floor(rng() * shape.vocab)), [batchSize, shape.seqLen], 'int32'),
    dispose: () => {
      operator.dispose();
      tf.dispose([...weights.values()]);
    },
  };
}

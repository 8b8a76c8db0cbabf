import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, tensorSpecs } from '../src/arch/index.js';
import { initBackend } from '../src/backend/index.js';
import { GrowthOperator } from '../src/growth/operator.js';
import { planGrowth } from '../src/growth/plan.js';
import { resolveTarget } from '../src/growth/target.js';
import { learnOperator } from '../src/train/learn.js';
import { createRng } from '../src/data/index.js';

await initBackend({ backend: 'wasm' });
const configs: Array<{ cfg: Record<string, unknown>; target: Record<string, number>; B: number; T: number; accum?: number }> = [];
const gpt = (C: number, L: number, V: number) => ({ model_type: 'gpt2', n_embd: C, n_layer: L, n_head: C / 32, n_inner: null, n_positions: 512, vocab_size: V });
const llama = (C: number, L: number, V: number) => ({ model_type: 'llama', hidden_size: C, num_hidden_layers: L, num_attention_heads: C / 32, num_key_value_heads: C / 64, intermediate_size: Math.round(C * 8 / 3 / 32) * 32, vocab_size: V, max_position_embeddings: 512 });
const bert = (C: number, L: number, V: number) => ({ model_type: 'bert', hidden_size: C, num_hidden_layers: L, num_attention_heads: C / 32, intermediate_size: 4 * C, vocab_size: V, max_position_embeddings: 512, type_vocab_size: 2 });
for (const f of [gpt, llama]) {
  for (const [B, T] of [[2, 64], [8, 64], [4, 128], [2, 256]]) configs.push({ cfg: f(128, 2, 256), target: { hiddenSize: 256, layers: 4 }, B, T });
  configs.push({ cfg: f(128, 2, 4096), target: { hiddenSize: 256, layers: 4 }, B: 4, T: 64 });
  configs.push({ cfg: f(128, 4, 256), target: { hiddenSize: 256, layers: 8 }, B: 8, T: 128 });
  configs.push({ cfg: f(128, 4, 256), target: { hiddenSize: 256, layers: 8 }, B: 4, T: 128, accum: 2 });
}
configs.push({ cfg: bert(128, 2, 256), target: { hiddenSize: 256, layers: 4 }, B: 4, T: 64 });
for (const c of configs) {
  const { description, dims } = resolveArchitecture(c.cfg);
  const target = resolveTarget(dims, c.target, description);
  const plan = planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
  const weights = new Map<string, tf.Tensor>();
  for (const s of tensorSpecs(description, dims)) weights.set(s.name, tf.tidy(() => tf.mul(tf.randomNormal(s.shape), 0.02)));
  const operator = GrowthOperator.initialize(plan, { depth: 'stack', noise: 1e-3, random: createRng(0) });
  const before = tf.memory().numBytes;
  const rng = createRng(1);
  const prof = await tf.profile(async () => learnOperator({
    plan, operator, small: (n) => { const t = weights.get(n); if (!t) throw new Error(n); return t; },
    nextBatch: () => tf.tensor2d(Array.from({ length: c.B * c.T }, () => Math.floor(rng() * dims.vocabSize)), [c.B, c.T], 'int32'),
    maskTokenId: 1,
    options: { steps: 1, lr: 1e-3, warmup: 0, weightDecay: 0, clip: 1, gradAccum: c.accum ?? 1, distill: 0, seed: 0 },
  }));
  console.log(JSON.stringify({ family: dims.family, V: dims.vocabSize, L: target.numLayers, C: target.hiddenSize, F: target.intermediateSize, H: target.numHeads, B: c.B, T: c.T, accum: c.accum ?? 1, Ps: plan.parameters.source, Pt: plan.parameters.target, Pop: plan.parameters.operator, before, peak: prof.peakBytes }));
  operator.dispose();
  tf.dispose([...weights.values()]);
}

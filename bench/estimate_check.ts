/**
 * Checks src/growth/estimate.ts against measurement (`npm run bench:estimate`): grows random small
 * GPT-2, Llama, Gemma, BERT, GPT-NeoX and Phi-3 plans, runs one learnOperator step on the wasm
 * backend (or --backend) with the tensor meter on, and prints estimate / measured peak of live
 * tensor bytes per family, the estimate for that backend (its fused ops). This is how the
 * coefficients in estimate.ts were fitted; rerun it when the forward passes or the learning loop
 * change. Options: --configs N (default 36), --seed S, --families a,b (default all), --backend B (default wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { resolveArchitecture, tensorSpecs } from '../src/arch/index.js';
import { initBackend } from '../src/backend/index.js';
import { createRng } from '../src/data/index.js';
import { estimateLearningMemory, FLOAT32_BYTES } from '../src/train/estimate.js';
import { GrowthOperator } from '../src/growth/operator.js';
import { planGrowth } from '../src/growth/plan.js';
import { resolveTarget } from '../src/growth/target.js';
import { learnOperator } from '../src/train/learn.js';
import { argValue, fmt, median, printTable, writeResult } from './lib/report.js';
import { startTensorMeter } from './lib/tensor_meter.js';
import { mapGetter } from '../src/util/map_getter.js';

const CONFIGS = Number(argValue('--configs', '36'));
const SEED = Number(argValue('--seed', '11'));
const HEAD_DIM = 16;
const FAMILIES = ['gpt2', 'llama', 'bert', 'gemma', 'gpt_neox', 'phi3'] as const;
const chosen = argValue('--families', FAMILIES.join(',')).split(',');
const families = FAMILIES.filter((f) => chosen.includes(f));

const backend = await initBackend({ backend: argValue('--backend', 'wasm') });
const meter = startTensorMeter();
const r = createRng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const rows: { family: string; B: number; T: number; gradAccum: number; layers: number; width: number; estimate: number; measured: number; ratio: number }[] = [];
for (let i = 0; i < CONFIGS; i++) {
  const family = pick(families);
  const C = pick([64, 96, 128]);
  const L = pick([1, 2, 3, 4]);
  const V = pick([256, 1024, 3000]);
  const F = C * pick([2, 3, 4]);
  const sizes = { hidden_size: C, num_hidden_layers: L, num_attention_heads: C / HEAD_DIM, intermediate_size: F, vocab_size: V, max_position_embeddings: 512 };
  const configs: Record<(typeof FAMILIES)[number], Record<string, unknown>> = {
    gpt2: { model_type: 'gpt2', n_embd: C, n_layer: L, n_head: C / HEAD_DIM, n_inner: F, n_positions: 512, vocab_size: V },
    llama: { model_type: 'llama', ...sizes, num_key_value_heads: C / HEAD_DIM / 2, head_dim: HEAD_DIM },
    gemma: { model_type: 'gemma', ...sizes, num_key_value_heads: C / HEAD_DIM / 2, head_dim: HEAD_DIM },
    bert: { model_type: 'bert', ...sizes, type_vocab_size: 2 },
    gpt_neox: { model_type: 'gpt_neox', ...sizes, rotary_pct: 0.25 },
    phi3: { model_type: 'phi3', ...sizes, num_key_value_heads: C / HEAD_DIM / 2 },
  };
  const config = configs[family];
  const { description, dims } = resolveArchitecture(config);
  const target = resolveTarget(dims, { hiddenSize: C * pick([1.5, 2]), layers: L * pick([1, 2]) }, description);
  const plan = planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
  const B = pick([1, 2, 4, 8]);
  const T = pick([16, 32, 64, 128]);
  const gradAccum = pick([1, 1, 2]);
  const weights = new Map<string, tf.Tensor>();
  for (const s of tensorSpecs(description, dims)) weights.set(s.name, tf.tidy(() => tf.mul(tf.randomNormal(s.shape), 0.02)));
  const operator = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: description.preNorm }, noise: 1e-3, random: createRng(0) });
  const before = meter.live();
  meter.resetPeak();
  const ids = createRng(i);
  await learnOperator({
    plan,
    operator,
    small: mapGetter(weights),
    nextBatch: () => tf.tensor2d(Int32Array.from({ length: B * T }, () => Math.floor(ids() * V)), [B, T], 'int32'),
    maskTokenId: 1,
    options: { steps: 1, lr: 1e-3, warmup: 0, weightDecay: 0, clip: 1, gradAccum, distill: 0, seed: 0 },
  });
  // The source and the operator were live before; the estimate counts them.
  const measured = meter.peak() - before + FLOAT32_BYTES * (plan.parameters.source + plan.parameters.operator);
  const estimate = estimateLearningMemory(plan, { batchSize: B, seqLen: T, gradAccum }, backend.name).totalBytes;
  rows.push({ family, B, T, gradAccum, layers: target.numLayers, width: target.hiddenSize, estimate, measured, ratio: estimate / measured });
  operator.dispose();
  tf.dispose([...weights.values()]);
}
meter.stop();
const measuredFamilies = [...new Set(rows.map((x) => x.family))];
console.log(`estimate / measured peak of live tensor bytes on ${backend.name}, ${rows.length} random plans, one learnOperator step each:`);
printTable([
  ['family', 'plans', 'min', 'median', 'max'],
  ...measuredFamilies.map((f) => {
    const ratios = rows.filter((x) => x.family === f).map((x) => x.ratio);
    return [f, String(ratios.length), fmt(Math.min(...ratios), 2), fmt(median(ratios), 2), fmt(Math.max(...ratios), 2)];
  }),
]);
console.log(`wrote ${await writeResult(backend.name === 'wasm' ? 'estimate' : `estimate_${backend.name}`, { benchmark: 'estimate', date: new Date().toISOString(), backend: backend.name, seed: SEED, rows })}`);

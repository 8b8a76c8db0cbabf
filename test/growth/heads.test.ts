import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelDims } from '../../src/arch/dims.js';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeTensor } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { applyRope, linear, rmsNorm, ropeTables, type Weights } from '../../src/models/index.js';
import { GOLDEN_DIR, maxAbsDiff, weightsFrom } from '../models/helpers.js';

/** Layer-0 attention probabilities [H, T, T] for a residual stream x [1, T, C], computed independently of attention.ts. */
function attentionProbs(dims: ModelDims, w: Weights, x: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const T = x.shape[1];
    const { numHeads: H, numKvHeads: KV, headDim: hd } = dims;
    const a = rmsNorm(x, w('model.layers.0.input_layernorm.weight'), dims.normEps);
    const heads = (t: tf.Tensor, n: number) => tf.transpose(tf.reshape(t, [T, n, hd]), [1, 0, 2]); // [n, T, hd]
    const rope = ropeTables(T, hd, dims.ropeTheta);
    const q = applyRope(heads(linear(a, w('model.layers.0.self_attn.q_proj.weight')), H), rope);
    const k = applyRope(heads(linear(a, w('model.layers.0.self_attn.k_proj.weight')), KV), rope);
    const kPerQuery = tf.gather(k, Array.from({ length: H }, (_, h) => Math.floor(h / (H / KV)))); // [H, T, hd]
    const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
    const scores = tf.add(tf.div(tf.matMul(q, kPerQuery, false, true), Math.sqrt(hd)), tf.mul(tf.sub(1, mask), -1e9));
    return tf.softmax(scores) as tf.Tensor3D;
  });
}

function selection(large: number, small: number, pick: (row: number) => number): Float32Array {
  const m = new Float32Array(large * small);
  for (let r = 0; r < large; r++) m[r * small + pick(r)] = 1;
  return m;
}

describe('head-aware attention growth', () => {
  it('Qwen3 q/k norm gains follow the head_dim factor of their operator, rotate_half halves kept apart', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'qwen3-qknorm')); // hd 24
    const target = resolveTarget(model.dims, { hiddenSize: 128, headDim: 48, heads: 4, kvHeads: 2 }, model.description);
    const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'net2net', optionalPresent: new Set() });
    const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 0, random: Math.random });
    const small = weightsFrom(model.weights);
    for (const name of ['model.layers.1.self_attn.q_norm.weight', 'model.layers.1.self_attn.k_norm.weight']) {
      const planned = plan.tensors.find((t) => t.name === name);
      if (!planned) throw new Error(name);
      expect(planned.axes[0]).toEqual([{ operator: name.includes('q_norm') ? 'q.1' : 'k.1', side: 'out', small: 24, large: 48, part: 'headDim' }]);
      const grown = materializeTensor(planned, small, op);
      const g = Array.from(await small(name).data());
      // Each half of head_dim (the rotate_half pairs i, i + hd/2) is copied within its half.
      const expected = [...g.slice(0, 12), ...g.slice(0, 12), ...g.slice(12), ...g.slice(12)];
      expect(Array.from(await grown.data())).toEqual(expected);
      grown.dispose();
    }
    op.dispose();
    model.dispose();
  });

  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('with selection matrices each large head has exactly the attention pattern of the small head it selects', async () => {
    const model = await loadModel(path.join(GOLDEN_DIR, 'llama-gqa-untied')); // H 4, KV 2, hd 16
    const target = resolveTarget(model.dims, { hiddenSize: 128 }, model.description); // H 8, KV 4, hd 16
    const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: new Set() });
    // KV heads: large g reads small kvPick[g]; query heads follow their group so GQA membership holds.
    const kvPick = [1, 0, 0, 1];
    const qPick = (j: number) => 2 * kvPick[Math.floor(j / 2)] + ((j + 1) % 2);
    const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
    const template = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: false }, noise: 0, random: Math.random });
    for (const [name, v] of template.params) tensors.set(name, { data: (await v.data()) as Float32Array, shape: v.shape });
    template.dispose();
    tensors.set('q.0.out', { data: selection(8, 4, qPick), shape: [8, 4] });
    tensors.set('k.0.out', { data: selection(4, 2, (g) => kvPick[g]), shape: [4, 2] });
    const op = GrowthOperator.fromTensors(plan, tensors);
    const small = weightsFrom(model.weights);
    const names = ['model.layers.0.input_layernorm.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.weight'];
    const grown = new Map(names.map((n) => {
      const planned = plan.tensors.find((t) => t.name === n);
      if (!planned) throw new Error(n);
      return [n, materializeTensor(planned, small, op)] as const;
    }));
    const x = tf.randomNormal([1, 6, 64], 0, 1, 'float32', 7) as tf.Tensor3D;
    const xLarge = tf.tidy(() => tf.concat([x, x], -1)) as tf.Tensor3D; // the width copy of i mod 64
    const probsSmall = attentionProbs(model.dims, small, x);
    const probsLarge = attentionProbs(target, weightsFrom(grown), xLarge);
    const smallData = await probsSmall.array();
    const largeData = await probsLarge.array();
    for (let j = 0; j < 8; j++) {
      expect(maxAbsDiff(Float32Array.from(largeData[j].flat()), Float32Array.from(smallData[qPick(j)].flat()))).toBeLessThan(1e-5);
    }
    // And the patterns differ between small heads, so the check above is not vacuous.
    expect(maxAbsDiff(Float32Array.from(smallData[0].flat()), Float32Array.from(smallData[1].flat()))).toBeGreaterThan(1e-2);
    tf.dispose([x, xLarge, probsSmall, probsLarge, ...grown.values()]);
    op.dispose();
    model.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attention, causalMask, kvHeadFor } from '../../src/models/attention.js';
import { forward } from '../../src/models/index.js';
import { loadGolden, maxAbsDiff, useBackend, weightsFrom, type GoldenCase } from './helpers.js';

describe('attention (wasm)', () => {
  beforeAll(() => useBackend('wasm'));

  it('maps query heads to kv heads in blocks (H=4, KV=2: 0,1 -> 0; 2,3 -> 1)', () => {
    expect([0, 1, 2, 3].map((h) => kvHeadFor(h, 4, 2))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3].map((h) => kvHeadFor(h, 4, 1))).toEqual([0, 0, 0, 0]);
  });

  it('each query head reads the value of its kv head (T=1, so attention is the identity on v)', () => {
    // hd = 2; kv head 0 holds value [1, 1], kv head 1 holds [2, 2].
    const out = tf.tidy(() => {
      const q = tf.randomNormal([1, 1, 8], 0, 1, 'float32', 1);
      const k = tf.randomNormal([1, 1, 4], 0, 1, 'float32', 2);
      const v = tf.tensor3d([[[1, 1, 2, 2]]]);
      return attention(q, k, v, { numHeads: 4, numKvHeads: 2, headDim: 2, causal: true });
    });
    expect(Array.from(out.dataSync())).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    out.dispose();
  });

  it('GQA equals full multi-head attention over explicitly repeated kv heads', () => {
    const diff = tf.tidy(() => {
      const [B, T, hd] = [2, 5, 3];
      const q = tf.randomNormal([B, T, 4 * hd], 0, 1, 'float32', 3);
      const k = tf.randomNormal([B, T, 2 * hd], 0, 1, 'float32', 4);
      const v = tf.randomNormal([B, T, 2 * hd], 0, 1, 'float32', 5);
      // HF repeat_kv order: [kv0, kv0, kv1, kv1].
      const repeat = (x: tf.Tensor): tf.Tensor => {
        const [h0, h1] = tf.split(x, 2, -1);
        return tf.concat([h0, h0, h1, h1], -1);
      };
      const gqa = attention(q, k, v, { numHeads: 4, numKvHeads: 2, headDim: hd, causal: true });
      const mha = attention(q, repeat(k), repeat(v), { numHeads: 4, numKvHeads: 4, headDim: hd, causal: true });
      return tf.max(tf.abs(tf.sub(gqa, mha)));
    });
    expect(diff.dataSync()[0]).toBeLessThan(1e-6);
    diff.dispose();
  });

  it('causal mask is 0 on and below the diagonal and large negative above', () => {
    const m = causalMask(3);
    const d = Array.from(m.dataSync());
    m.dispose();
    expect(d.filter((_, i) => Math.floor(i / 3) >= i % 3)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(d.filter((_, i) => Math.floor(i / 3) < i % 3).every((x) => x <= -1e9)).toBe(true);
  });

  it('a sliding window also masks keys window or more positions back (Hugging Face keeps t - s < window)', () => {
    const m = causalMask(4, 2);
    const kept = Array.from(m.dataSync(), (x) => (x === 0 ? 1 : 0));
    m.dispose();
    expect(kept).toEqual([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1]);
  });
});

describe('causality of whole forward passes (wasm)', () => {
  const cases: Record<string, GoldenCase> = {};
  beforeAll(async () => {
    await useBackend('wasm');
    for (const name of ['gpt2-prefixed', 'llama-gqa-untied', 'bert-mlm', 'gpt-neox-pythia', 'phi3-fused']) cases[name] = await loadGolden(name);
  });
  afterAll(() => Object.values(cases).forEach((c) => c.dispose()));

  /** Max change of the logits at positions <= t when the tokens after t are replaced. */
  function prefixChange(c: GoldenCase, t: number): number {
    const [B, T] = c.ids.shape;
    const [a, b] = tf.tidy(() => {
      const changed = tf.concat([tf.slice(c.ids, [0, 0], [B, t + 1]), tf.fill([B, T - t - 1], 7, 'int32')], 1) as tf.Tensor2D;
      const w = weightsFrom(c.weights);
      const la = tf.slice(forward(c.dims, w, { ids: c.ids }), [0, 0, 0], [B, t + 1, -1]);
      const lb = tf.slice(forward(c.dims, w, { ids: changed }), [0, 0, 0], [B, t + 1, -1]);
      return [la, lb];
    });
    const diff = maxAbsDiff(a.dataSync(), b.dataSync());
    a.dispose();
    b.dispose();
    return diff;
  }

  it('gpt2, llama, gpt_neox and phi3 logits at t do not depend on tokens after t', () => {
    for (const name of ['gpt2-prefixed', 'llama-gqa-untied', 'gpt-neox-pythia', 'phi3-fused']) {
      for (const t of [0, 7, 14]) expect(prefixChange(cases[name], t), `${name} t=${t}`).toBe(0);
    }
  });

  it('phi3 sliding_window: no effect within the window, earlier tokens forgotten beyond it', () => {
    const c = cases['phi3-fused'];
    const w = weightsFrom(c.weights);
    const [full, wide, narrow] = tf.tidy(() => [
      forward(c.dims, w, { ids: c.ids }),
      forward({ ...c.dims, slidingWindow: 16 }, w, { ids: c.ids }),
      forward({ ...c.dims, slidingWindow: 4 }, w, { ids: c.ids }),
    ]);
    const V = c.dims.vocabSize;
    const positions = (t: tf.Tensor, from: number, to: number): Float32Array => tf.tidy(() => tf.slice(t, [0, from, 0], [-1, to - from, V]).dataSync() as Float32Array);
    expect(maxAbsDiff(full.dataSync(), wide.dataSync())).toBe(0);
    expect(maxAbsDiff(positions(full, 0, 4), positions(narrow, 0, 4))).toBe(0);
    expect(maxAbsDiff(positions(full, 4, 16), positions(narrow, 4, 16))).toBeGreaterThan(1e-3);
    tf.dispose([full, wide, narrow]);
  });

  it('bert attends both ways, so later tokens do change earlier logits', () => {
    expect(prefixChange(cases['bert-mlm'], 7)).toBeGreaterThan(1e-3);
  });

  it('bert token_type_ids default to zeros', () => {
    const c = cases['bert-mlm'];
    const w = weightsFrom(c.weights);
    const [dflt, zeros, ones] = tf.tidy(() => [
      forward(c.dims, w, { ids: c.ids }),
      forward(c.dims, w, { ids: c.ids, tokenTypeIds: tf.zerosLike(c.ids) }),
      forward(c.dims, w, { ids: c.ids, tokenTypeIds: tf.onesLike(c.ids) }),
    ]);
    expect(maxAbsDiff(dflt.dataSync(), zeros.dataSync())).toBe(0);
    expect(maxAbsDiff(dflt.dataSync(), ones.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([dflt, zeros, ones]);
  });
});

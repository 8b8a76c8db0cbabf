/**
 * Fused tensors grow part by part: with a different head selection for each of q, k and v, each
 * part of the grown fused tensor must come from its own part of the small one through its own
 * operator (net2net's identical q/k/v copies could not tell the parts apart). The expected
 * tensors are built here with plain loops over Hugging Face's layouts, independently of the plan's
 * interleave arithmetic; the dense (tfjs) and gather paths must both give them exactly.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeTensor } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type PlannedTensor } from '../../src/growth/plan.js';
import { materializeBySelection, SelectionOperator } from '../../src/growth/stream/selection.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { GOLDEN_DIR } from '../models/helpers.js';

/** A [large, small] 0/1 matrix whose row r selects column pick[r]. */
function pickMatrix(pick: readonly number[], small: number): { data: Float32Array; shape: number[] } {
  const data = new Float32Array(pick.length * small);
  pick.forEach((c, r) => (data[r * small + c] = 1));
  return { data, shape: [pick.length, small] };
}

/** The first index where the arrays differ (-1: none), so a failure prints one number, not two arrays. */
function firstMismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((x, i) => !Object.is(x, b[i]));
}

/** Large head -> small head, a different one for each part. */
const PICKS = { q: [3, 1, 0, 2, 2, 0, 1, 3], k: [1, 1, 2, 0, 3, 3, 0, 2], v: [0, 3, 3, 1, 2, 1, 0, 2] };
const KV_PICKS = { q: PICKS.q, k: [1, 0, 0, 1], v: [0, 0, 1, 1] };

async function grownBothWays(
  name: string,
  tensorName: string,
  picks: Record<'q' | 'k' | 'v', number[]>,
  targetOptions: TargetOptions = { hiddenSize: 128 },
): Promise<{ small: Float32Array; smallShape: number[]; dense: Float32Array; gathered: Float32Array | undefined }> {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const target = resolveTarget(model.dims, targetOptions, model.description); // by default heads (and KV heads) x2, head_dim kept
  // The copy rule: every large dim is a copy of a small one, which the expectations below trace (the exact start zeroes new key dims).
  const plan = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: new Set(), start: 'copy' });
  const base = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: false }, noise: 0, random: Math.random });
  const tensors = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [n, v] of base.params) tensors.set(n, { data: (await v.data()) as Float32Array, shape: v.shape });
  base.dispose();
  const smallHeads = { q: model.dims.numHeads, k: model.dims.numKvHeads, v: model.dims.numKvHeads };
  for (const part of ['q', 'k', 'v'] as const) if (tensors.has(`${part}.0.out`)) tensors.set(`${part}.0.out`, pickMatrix(picks[part], smallHeads[part]));
  const op = GrowthOperator.fromTensors(plan, tensors);
  const planned = plan.tensors.find((t) => t.name === tensorName) as PlannedTensor;
  const get = (n: string): tf.Tensor => model.weight(n);
  const denseTensor = materializeTensor(planned, get, op);
  const dense = (await denseTensor.data()) as Float32Array;
  denseTensor.dispose();
  const arrays = new Map((await op.toArrays()).map((a) => [a.name, a]));
  const selection = new SelectionOperator(plan, async (n) => {
    const a = arrays.get(n);
    if (!a) throw new Error(n);
    return { data: a.data.slice(), shape: a.shape };
  });
  const gathered = await materializeBySelection(planned, selection, async (n) => ((await get(n).data()) as Float32Array).slice());
  const small = (await model.weight(tensorName).data()) as Float32Array;
  const smallShape = model.weight(tensorName).shape;
  op.dispose();
  model.dispose();
  return { small, smallShape, dense, gathered };
}

describe('fused tensors grow part by part, each part with its own operator', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('GPT-NeoX query_key_value: rows [heads, q|k|v, head_dim], each part from its own small heads', async () => {
    const { small, dense, gathered } = await grownBothWays('gpt-neox-pythia', 'gpt_neox.layers.0.attention.query_key_value.weight', PICKS);
    const [H, hd, C] = [8, 16, 64];
    const expected = new Float32Array(H * 3 * hd * 2 * C);
    (['q', 'k', 'v'] as const).forEach((part, p) => {
      for (let h = 0; h < H; h++) {
        for (let d = 0; d < hd; d++) {
          const from = (PICKS[part][h] * 3 * hd + p * hd + d) * C;
          const to = (h * 3 * hd + p * hd + d) * 2 * C;
          // Columns: the width split, column c' from small column c' mod C, halved.
          for (let c = 0; c < 2 * C; c++) expected[to + c] = small[from + (c % C)] * 0.5;
        }
      }
    });
    expect(firstMismatch(dense, expected), 'dense').toBe(-1);
    expect(firstMismatch(gathered ?? new Float32Array(), expected), 'gathered').toBe(-1);
  });

  it('GPT-NeoX query_key_value bias too', async () => {
    const { small, dense, gathered } = await grownBothWays('gpt-neox-pythia', 'gpt_neox.layers.0.attention.query_key_value.bias', PICKS);
    const [H, hd] = [8, 16];
    const expected = new Float32Array(H * 3 * hd);
    (['q', 'k', 'v'] as const).forEach((part, p) => {
      for (let h = 0; h < H; h++) for (let d = 0; d < hd; d++) expected[h * 3 * hd + p * hd + d] = small[PICKS[part][h] * 3 * hd + p * hd + d];
    });
    expect(firstMismatch(dense, expected), 'dense').toBe(-1);
    expect(firstMismatch(gathered ?? new Float32Array(), expected), 'gathered').toBe(-1);
  });

  it('Phi-3 qkv_proj: rows [q | k | v] concatenated, GQA (4 -> 8 query heads, 2 -> 4 KV heads)', async () => {
    const { small, dense, gathered } = await grownBothWays('phi3-fused', 'model.layers.0.self_attn.qkv_proj.weight', KV_PICKS);
    const [hd, C] = [16, 64];
    const smallOffsets = { q: 0, k: 4 * hd, v: 6 * hd };
    const largeOffsets = { q: 0, k: 8 * hd, v: 12 * hd };
    const expected = new Float32Array(16 * hd * 2 * C);
    for (const part of ['q', 'k', 'v'] as const) {
      KV_PICKS[part].forEach((from, h) => {
        for (let d = 0; d < hd; d++) {
          const src = (smallOffsets[part] + from * hd + d) * C;
          const dst = (largeOffsets[part] + h * hd + d) * 2 * C;
          for (let c = 0; c < 2 * C; c++) expected[dst + c] = small[src + (c % C)] * 0.5;
        }
      });
    }
    expect(firstMismatch(dense, expected), 'dense').toBe(-1);
    expect(firstMismatch(gathered ?? new Float32Array(), expected), 'gathered').toBe(-1);
  });

  it('Phi-3 gate_up_proj: gate and up each grown by the FFN operator, [gate | up] again', async () => {
    const { small, dense } = await grownBothWays('phi3-fused', 'model.layers.0.mlp.gate_up_proj.weight', KV_PICKS);
    const [F, C] = [96, 64];
    const expected = new Float32Array(2 * 2 * F * 2 * C);
    for (let half = 0; half < 2; half++) {
      for (let f = 0; f < 2 * F; f++) {
        const src = (half * F + (f % F)) * C;
        const dst = (half * 2 * F + f) * 2 * C;
        for (let c = 0; c < 2 * C; c++) expected[dst + c] = small[src + (c % C)] * 0.5;
      }
    }
    expect(firstMismatch(dense, expected), 'dense').toBe(-1);
  });

  it('GPT-NeoX head_dim 16 -> 32 under partial rotary: rotated dims from rotated dims in rotate_half pairs, the rest from the rest', async () => {
    const same = { q: [0, 1, 2, 3], k: [0, 1, 2, 3], v: [0, 1, 2, 3] };
    const { small, dense, gathered } = await grownBothWays('gpt-neox-pythia', 'gpt_neox.layers.0.attention.query_key_value.bias', same, { hiddenSize: 128, heads: 4 });
    // Small head: 4 rotated dims (pairs (0, 2), (1, 3)) and 12 passed; large: 8 rotated ((j, j + 4)) and 24 passed.
    const [H, hdS, hdL, rotS, rotL] = [4, 16, 32, 4, 8];
    const sourceDim = (j: number): number =>
      j < rotL / 2 ? j % (rotS / 2) : j < rotL ? rotS / 2 + ((j - rotL / 2) % (rotS / 2)) : rotS + ((j - rotL) % (hdS - rotS));
    const expected = new Float32Array(H * 3 * hdL);
    for (let h = 0; h < H; h++) for (let p = 0; p < 3; p++) for (let j = 0; j < hdL; j++) expected[(h * 3 + p) * hdL + j] = small[(h * 3 + p) * hdS + sourceDim(j)];
    expect(firstMismatch(dense, expected), 'dense').toBe(-1);
    expect(firstMismatch(gathered ?? new Float32Array(), expected), 'gathered').toBe(-1);
  });
});

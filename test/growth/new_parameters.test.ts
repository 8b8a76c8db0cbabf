import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import type { DepthInit } from '../../src/growth/init.js';
import { materializeEach } from '../../src/growth/materialize.js';
import { newParameters, newUnits, startNewParameters, toRanges, type IndexRanges } from '../../src/growth/new_parameters.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import type { GrowthMethod, GrowthPlan } from '../../src/growth/plan.js';
import type { TargetOptions } from '../../src/growth/target.js';
import type { StartRule } from '../../src/growth/exact_start.js';
import { goldenPlan } from './preservation_helpers.js';

const planFor = (name: string, target: TargetOptions, method: GrowthMethod, start?: StartRule): Promise<{ model: LoadedModel; plan: GrowthPlan }> =>
  goldenPlan(name, target, { method, start });

const IDENTITY_REPEATS: DepthInit = { pattern: 'stack', preserve: true };
const COPIED_REPEATS: DepthInit = { pattern: 'stack', preserve: false };
const INTERLACED: DepthInit = { pattern: 'interlace', preserve: false };

describe('newUnits and toRanges', () => {
  it('a unit is new unless it is the first nonzero copy of its small unit', () => {
    // rows: copy 0, copy 1, copy 0 again, a mean row (index === cols), a zero row, copy 2.
    const sel = { index: Int32Array.from([0, 1, 0, 3, 0, 2]), scale: Float32Array.from([1, 1, 1, 1, 0, 1]), cols: 3 };
    expect([...newUnits(sel)]).toEqual([0, 0, 1, 1, 1, 0]);
  });

  it('compresses index flags to [start, end) runs', () => {
    expect(toRanges([0, 1, 1, 0, 1])).toEqual([[1, 3], [4, 5]]);
    expect(toRanges([0, 0])).toEqual([]);
    expect(toRanges([1, 1])).toEqual([[0, 2]]);
  });
});

describe('newParameters on hand-built growths (gpt2: 48 wide, 4 heads of 12, ffn 80, 2 layers)', () => {
  it('2x width, depth doubled with identity repeats (net2net): rows and columns past the copies, layers 2 and 3', async () => {
    const { model, plan } = await planFor('gpt2-prefixed', { hiddenSize: 96, layers: 4 }, 'net2net');
    model.dispose();
    const np = startNewParameters(plan, IDENTITY_REPEATS, 'first');
    const width: IndexRanges = [[48, 96]];
    expect(np.newLayers).toEqual([2, 3]);
    expect(np.tensors['transformer.wte.weight']).toEqual({ status: 'partly new', shape: [256, 96], new: [[], width] });
    expect(np.tensors['transformer.wpe.weight'].new).toEqual([[], width]);
    // c_attn [in 96, q|k|v 3 x 96]: heads 4..7 of each part are the copies.
    expect(np.tensors['transformer.h.0.attn.c_attn.weight']).toEqual({ status: 'partly new', shape: [96, 288], new: [width, [[48, 96], [144, 192], [240, 288]]] });
    expect(np.tensors['transformer.h.1.attn.c_proj.weight'].new).toEqual([width, width]);
    expect(np.tensors['transformer.h.0.mlp.c_fc.weight'].new).toEqual([width, [[80, 160]]]);
    expect(np.tensors['transformer.h.1.mlp.c_proj.weight'].new).toEqual([[[80, 160]], width]);
    expect(np.tensors['transformer.h.0.ln_1.weight'].new).toEqual([width]);
    expect(np.tensors['transformer.ln_f.bias'].new).toEqual([width]);
    for (const [name, t] of Object.entries(np.tensors)) {
      if (/\.h\.[23]\./.test(name)) expect(t).toEqual({ status: 'new', shape: t.shape });
    }
    // Every small element has exactly one inherited place: the rest is new.
    expect(np.parameters.total).toBe(plan.parameters.target);
    expect(np.parameters.total - np.parameters.new).toBe(plan.parameters.source);
  });

  it('1.5x width under the exact start: the filled residual dims past the whole copy are new; 6 heads, heads 4 and 5 new', async () => {
    const { model, plan } = await planFor('gpt2-prefixed', { hiddenSize: 72, layers: 3 }, 'ligo', 'exact');
    model.dispose();
    expect(plan.start?.residual?.copies).toBe(1);
    const np = startNewParameters(plan, COPIED_REPEATS, 'first');
    const width: IndexRanges = [[48, 72]];
    expect(np.newLayers).toEqual([2]);
    expect(np.tensors['transformer.wte.weight'].new).toEqual([[], width]);
    expect(np.tensors['transformer.h.0.attn.c_attn.weight'].new).toEqual([width, [[48, 72], [120, 144], [192, 216]]]);
    expect(np.tensors['transformer.h.0.attn.c_attn.bias'].new).toEqual([[[48, 72], [120, 144], [192, 216]]]);
    expect(np.tensors['transformer.h.1.mlp.c_fc.weight'].new).toEqual([width, [[80, 120]]]);
    expect(np.tensors['transformer.h.1.ln_2.weight'].new).toEqual([width]);
    expect(np.tensors['transformer.h.2.ln_2.weight'].status).toBe('new');
    expect(np.parameters.total - np.parameters.new).toBe(plan.parameters.source);
  });

  it('depth by copies: stack repeats layers 0 and 1 as layers 2 and 3, interlace as layers 1 and 3', async () => {
    const { model, plan } = await planFor('gpt2-prefixed', { hiddenSize: 48, layers: 4 }, 'stack');
    model.dispose();
    const stacked = startNewParameters(plan, COPIED_REPEATS, 'even');
    expect(stacked.newLayers).toEqual([2, 3]);
    expect(stacked.tensors['transformer.h.1.attn.c_attn.weight']).toEqual({ status: 'inherited', shape: [48, 144] });
    expect(stacked.tensors['transformer.wte.weight'].status).toBe('inherited');
    const interlaced = startNewParameters(plan, INTERLACED, 'even');
    expect(interlaced.newLayers).toEqual([1, 3]);
    expect(interlaced.tensors['transformer.h.2.attn.c_attn.weight'].status).toBe('inherited');
    expect(interlaced.tensors['transformer.h.3.mlp.c_fc.weight'].status).toBe('new');
    expect(interlaced.parameters.total - interlaced.parameters.new).toBe(plan.parameters.source);
  });

  it('random: everything is new', async () => {
    const { model, plan } = await planFor('gpt2-prefixed', { hiddenSize: 96, layers: 4 }, 'random');
    model.dispose();
    const np = newParameters(plan, undefined);
    expect(np.parameters.new).toBe(np.parameters.total);
    expect(np.newLayers).toEqual([0, 1, 2, 3]);
    expect(Object.values(np.tensors).every((t) => t.status === 'new')).toBe(true);
  });
});

/** The flat indices of a tensor's inherited elements (every axis at an index outside its new ranges), row-major. */
function inheritedIndices(shape: readonly number[], ranges: IndexRanges[] | undefined): number[] {
  const kept = shape.map((n, a) => Array.from({ length: n }, (_, i) => i).filter((i) => !(ranges?.[a] ?? []).some(([s, e]) => i >= s && i < e)));
  let flat = [0];
  for (const [a, idx] of kept.entries()) flat = flat.flatMap((base) => idx.map((i) => base * shape[a] + i));
  return flat;
}

describe('the inherited part of every tensor is the source tensor itself (copy start, first split, integer widths)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  // GPT-NeoX's query_key_value is stored interleaved per head; Llama's key/value heads are grouped.
  it.each([
    ['gpt2-prefixed', { hiddenSize: 96, layers: 4 }],
    ['gpt-neox-pythia', { hiddenSize: 128, layers: 4 }],
    ['llama-gqa-untied', { hiddenSize: 128, layers: 4 }],
  ] as const)('%s grown to %o', async (name, target) => {
    const { model, plan } = await planFor(name, target, 'net2net', 'copy');
    const op = GrowthOperator.initialize(plan, { depth: IDENTITY_REPEATS, noise: 0, random: Math.random, split: 'first' });
    const grown = materializeEach(plan.tensors, model.weight, op);
    try {
      const np = startNewParameters(plan, IDENTITY_REPEATS, 'first');
      expect(np.newLayers).toEqual([2, 3]);
      for (const t of plan.tensors) {
        const parts = np.tensors[t.name];
        if (parts.status === 'new') continue;
        const source = t.layer === undefined ? t.sources[0] : t.sources[t.layer];
        const values = grown.get(t.name)?.dataSync() ?? new Float32Array();
        const kept = inheritedIndices(t.shape, parts.new).map((i) => values[i]);
        expect(kept, t.name).toEqual([...model.weight(source).dataSync()]);
      }
    } finally {
      tf.dispose([...grown.values()]);
      op.dispose();
      model.dispose();
    }
  });
});

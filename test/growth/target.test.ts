import { describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../../src/arch/index.js';
import { MAX_HIDDEN_SIZE, MAX_LAYERS } from '../../src/arch/limits.js';
import { checkTargetOptions, resolveTarget, targetConfig } from '../../src/growth/target.js';
import { planGrowth } from '../../src/growth/plan.js';
import { UsageError } from '../../src/errors.js';

const llamaConfig = {
  model_type: 'llama',
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 96,
  vocab_size: 256,
  max_position_embeddings: 64,
};
const gpt2Config = { model_type: 'gpt2', n_embd: 48, n_layer: 2, n_head: 4, n_inner: null, n_positions: 64, vocab_size: 256 };

describe('resolveTarget', () => {
  it('keeps head_dim and scales heads, KV heads and FFN with the hidden size', () => {
    const { description, dims } = resolveArchitecture(llamaConfig);
    const t = resolveTarget(dims, { hiddenSize: 128, layers: 4 }, description);
    expect([t.hiddenSize, t.numLayers, t.numHeads, t.numKvHeads, t.headDim, t.intermediateSize]).toEqual([128, 4, 8, 4, 16, 192]);
  });

  it('derives head_dim from heads for GPT-2 and refuses a conflicting --head-dim', () => {
    const { description, dims } = resolveArchitecture(gpt2Config);
    const t = resolveTarget(dims, { hiddenSize: 96, heads: 4 }, description);
    expect(t.headDim).toBe(24);
    expect(() => resolveTarget(dims, { hiddenSize: 96, heads: 4, headDim: 12 }, description)).toThrow(/--head-dim/);
  });

  it('refuses shrinking, heads that do not divide width and KV heads that do not divide heads', () => {
    const { description, dims } = resolveArchitecture(llamaConfig);
    expect(() => resolveTarget(dims, { layers: 1 }, description)).toThrow(UsageError);
    expect(() => resolveTarget(dims, { layers: 1 }, description)).toThrow(/--layers: target 1 is smaller than the source's 2/);
    expect(() => resolveTarget(dims, { kvHeads: 3, heads: 8, hiddenSize: 128 }, description)).toThrow(/--kv-heads/);
    const gpt = resolveArchitecture(gpt2Config);
    expect(() => resolveTarget(gpt.dims, { hiddenSize: 100, heads: 8 }, gpt.description)).toThrow(/--heads/);
  });

  it('writes the new dimensions under the family\'s own config field names and keeps the rest', () => {
    const { description, dims } = resolveArchitecture(gpt2Config);
    const t = resolveTarget(dims, { hiddenSize: 96, layers: 3 }, description);
    const config = targetConfig({ ...gpt2Config, bos_token_id: 10 }, dims, t, description);
    expect(config).toMatchObject({ n_embd: 96, n_layer: 3, n_head: 8, n_inner: 384, bos_token_id: 10, model_type: 'gpt2' });
  });

  it('keeps rope_scaling and writes one layer_types entry per grown layer (transformers checks the length)', () => {
    const source = {
      ...llamaConfig,
      model_type: 'qwen3',
      head_dim: 16,
      layer_types: ['full_attention', 'full_attention'],
      rope_scaling: { rope_type: 'linear', factor: 2 },
    };
    const { description, dims } = resolveArchitecture(source);
    const config = targetConfig(source, dims, resolveTarget(dims, { layers: 5 }, description), description);
    expect(config).toMatchObject({ num_hidden_layers: 5, layer_types: Array(5).fill('full_attention'), rope_scaling: source.rope_scaling });
    expect(() => resolveArchitecture({ ...source, layer_types: ['full_attention', 'sliding_attention'] })).toThrow(
      /layer_types "sliding_attention" is not supported yet \(supported: full_attention\)/,
    );
  });
});

describe('planGrowth', () => {
  it('ties one residual operator, and per large layer one FFN and one operator per attention projection', () => {
    const { description, dims } = resolveArchitecture(llamaConfig);
    const target = resolveTarget(dims, { hiddenSize: 128, layers: 3 }, description);
    const plan = planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
    const ids = plan.width.map((w) => w.id).sort();
    const expected = ['width', ...[0, 1, 2].flatMap((l) => [`ffn.${l}`, `k.${l}`, `q.${l}`, `v.${l}`])].sort();
    expect(ids).toEqual(expected);
    const q0 = plan.width.find((w) => w.id === 'q.0');
    expect(q0?.heads).toEqual({ small: 4, large: 8, headDimSmall: 16, headDimLarge: 16, rotary: true });
    const o = plan.tensors.find((t) => t.name === 'model.layers.2.self_attn.o_proj.weight');
    expect(o?.axes.map((a) => a.map((s) => `${s.operator}:${s.side}`))).toEqual([['width:out'], ['q.2:in']]);
    expect(o?.sources).toEqual(['model.layers.0.self_attn.o_proj.weight', 'model.layers.1.self_attn.o_proj.weight']);
    expect(plan.depth.map((d) => d.group)).toEqual(['norm', 'attn', 'attn_out', 'mlp', 'mlp_out']);
    expect(plan.depth.every((d) => d.large === 3 && d.small === 2)).toBe(true);
  });

  it('splits GPT-2\'s fused c_attn axis into q, k and v segments', () => {
    const { description, dims } = resolveArchitecture(gpt2Config);
    const target = resolveTarget(dims, { hiddenSize: 96 }, description);
    const plan = planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
    const cAttn = plan.tensors.find((t) => t.name === 'transformer.h.0.attn.c_attn.weight');
    expect(cAttn?.shape).toEqual([96, 288]);
    expect(cAttn?.axes[1].map((s) => [s.operator, s.small, s.large])).toEqual([['q.0', 48, 96], ['k.0', 48, 96], ['v.0', 48, 96]]);
    expect(cAttn?.axes[0].map((s) => s.side)).toEqual(['in']);
  });
});

describe('target limits (arch/limits.ts)', () => {
  it('a target flag past its limit is refused naming the flag and the limit, before any model is needed', () => {
    expect(() => checkTargetOptions({ layers: 1e9 })).toThrow(/^--layers: 1000000000 is more than ligo's limit of 1,024 layers$/);
    expect(() => checkTargetOptions({ hiddenSize: 2 ** 31 })).toThrow(/^--hidden-size: 2147483648 is more than ligo's limit of 131,072 units$/);
    expect(() => checkTargetOptions({ heads: 5000 })).toThrow(/^--heads: 5000 is more than ligo's limit of 4,096 heads$/);
    expect(() => checkTargetOptions({ intermediateSize: 1.5 })).toThrow(/^--intermediate-size: value is 1.5, expected a positive integer$/);
    expect(() => checkTargetOptions({ layers: MAX_LAYERS, hiddenSize: MAX_HIDDEN_SIZE })).not.toThrow();
  });

  it('a size derived from the flags past its limit names the flag that would set it', () => {
    const { description, dims } = resolveArchitecture(llamaConfig);
    // FFN scales with the width: 96 x 2048 = 196,608 is within its limit, heads 4 x 2048 = 8,192 are not.
    expect(() => resolveTarget(dims, { hiddenSize: MAX_HIDDEN_SIZE }, description)).toThrow(/^--heads: the target's 8192 heads are more than ligo's limit of 4,096 heads$/);
  });

  it('a target within every per-dimension limit but too large in all is refused in bytes, arithmetically', () => {
    const { description, dims } = resolveArchitecture(llamaConfig);
    const target = { layers: MAX_LAYERS, hiddenSize: MAX_HIDDEN_SIZE, heads: 1024, kvHeads: 1024, headDim: 128 };
    expect(() => resolveTarget(dims, target, description)).toThrow(/^--layers, --hidden-size: the target \(1024 layers x 131072\) has [\d.]+e\+14 parameters, [\d.]+ TiB at float32, more than ligo's limit of 64\.0 TiB$/);
  });
});

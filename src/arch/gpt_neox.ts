import { UnsupportedError } from '../errors.js';
import { ConfigReader, STANDARD_CONFIG_FIELDS } from './config_fields.js';
import type { Activation } from './dims.js';
import { defaultPreservation, inp, interleaved, out, type ArchitectureDescription } from './types.js';

const layer = (suffix: string): string => `gpt_neox.layers.{i}.${suffix}`;

/** Activations GPT-NeoX checkpoints use that our forward passes compute as Hugging Face does. */
const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'relu', 'silu'];

/**
 * The fused query_key_value rows, as Hugging Face's GPTNeoXAttention views them:
 * [heads, 3 (q, k, v), head_dim], so each part grows with its own head operator.
 */
const qkvRows = interleaved('heads', out('q'), out('k'), out('v'));

/**
 * GPTNeoXForCausalLM (Pythia): LayerNorm with bias, fused per-head q|k|v, partial rotary
 * (`rotary_pct`), parallel residual (`use_parallel_residual`), untied `embed_out` by default.
 */
export const gptNeox: ArchitectureDescription = {
  family: 'gpt_neox',
  modelTypes: ['gpt_neox'],
  configFields: { ...STANDARD_CONFIG_FIELDS, normEps: 'layer_norm_eps' },
  preNorm: true,
  norm: 'layerNorm',
  capabilities: { headDim: false, gqa: false, rotary: true, bias: 'config' },
  // GPT-2's counts plus the fused q|k|v split and the partial-rotary slices and concats, rounded up;
  // bench:estimate --families gpt_neox,phi3 (16 plans): estimate / measured 1.05-1.29, median 1.13.
  activationCost: { hidden: 90, ffn: 32, scores: 11, fusable: { layerNorm: 2, geluNew: 1 } },
  pipelineTag: 'text-generation',
  // Pre-norm, and with a parallel residual a layer adds attn + mlp to its input: zeroing both
  // output projections (attention.dense, mlp.dense_4h_to_h and their biases) still makes a repeat
  // an identity.
  preservation: defaultPreservation(true),
  tensors: [
    { name: 'gpt_neox.embed_in.weight', axes: [out('vocab'), out('width')], init: 'normal' },
    { name: layer('input_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('input_layernorm.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: layer('attention.query_key_value.weight'), axes: [qkvRows, inp('width')], group: 'attn', init: 'normal' },
    { name: layer('attention.query_key_value.bias'), axes: [qkvRows], group: 'attn', init: 'zeros', when: (d) => d.qkvBias },
    { name: layer('attention.dense.weight'), axes: [out('width'), inp('q')], group: 'attn_out', init: 'normal' },
    { name: layer('attention.dense.bias'), axes: [out('width')], group: 'attn_out', init: 'zeros', when: (d) => d.oBias },
    { name: layer('post_attention_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('post_attention_layernorm.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: layer('mlp.dense_h_to_4h.weight'), axes: [out('ffn'), inp('width')], group: 'mlp', init: 'normal' },
    { name: layer('mlp.dense_h_to_4h.bias'), axes: [out('ffn')], group: 'mlp', init: 'zeros' },
    { name: layer('mlp.dense_4h_to_h.weight'), axes: [out('width'), inp('ffn')], group: 'mlp_out', init: 'normal' },
    { name: layer('mlp.dense_4h_to_h.bias'), axes: [out('width')], group: 'mlp_out', init: 'zeros' },
    { name: 'gpt_neox.final_layer_norm.weight', axes: [out('width')], init: 'ones', feedsTiedHead: true, normGain: true },
    { name: 'gpt_neox.final_layer_norm.bias', axes: [out('width')], init: 'zeros', feedsTiedHead: true, normBias: true },
    { name: 'embed_out.weight', axes: [out('vocab'), inp('width')], init: 'normal', when: (d) => !d.tiedEmbeddings },
  ],
  aliases: [],
  // Older Pythia files carry the causal mask, its fill value and the rotary frequencies as buffers.
  ignored: [/^gpt_neox\.layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/],
  tiedAliases: ['embed_out.weight'],
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    if (c.has('rope_scaling')) {
      throw new UnsupportedError(`${file}: rope_scaling ${JSON.stringify(config.rope_scaling)} is not supported for gpt_neox (only plain RoPE)`, { file });
    }
    const act = c.string('hidden_act', 'gelu');
    if (!(ACTIVATIONS as readonly string[]).includes(act)) {
      throw new UnsupportedError(`${file}: hidden_act "${act}" is not supported for gpt_neox (supported: ${ACTIVATIONS.join(', ')})`, { file });
    }
    const sizes = c.standardSizes(2048);
    // Hugging Face's GPTNeoXConfig sets partial_rotary_factor and rope_theta from rotary_pct and
    // rotary_emb_base, so those win when a saved config has both.
    const partialRotary = c.number('rotary_pct', c.number('partial_rotary_factor', 0.25));
    if (!(partialRotary > 0 && partialRotary <= 1)) {
      throw new UnsupportedError(`${file}: rotary_pct ${partialRotary} is outside (0, 1]`, { file });
    }
    const bias = c.bool('attention_bias', true);
    return {
      family: 'gpt_neox',
      modelType: 'gpt_neox',
      ...sizes,
      numKvHeads: sizes.numHeads,
      headDim: sizes.hiddenSize / sizes.numHeads,
      typeVocabSize: 0,
      normEps: c.number('layer_norm_eps', 1e-5),
      activation: act as Activation,
      ropeTheta: c.number('rotary_emb_base', c.number('rope_theta', 10000)),
      tiedEmbeddings: c.bool('tie_word_embeddings', false),
      qkvBias: bias,
      oBias: bias,
      mlpBias: true,
      objective: 'causal',
      rotary: true,
      partialRotary,
      parallelResidual: c.bool('use_parallel_residual', true),
    };
  },
};

import { UnsupportedError } from '../errors.js';
import { ConfigReader, STANDARD_CONFIG_FIELDS } from './config_fields.js';
import { defaultPreservation, inp, out, type ArchitectureDescription } from './types.js';

const layer = (suffix: string): string => `model.layers.{i}.${suffix}`;

/**
 * Phi3ForCausalLM: the Llama graph with fused projections. qkv_proj rows are [q | k | v] and
 * gate_up_proj rows [gate | up] (down(up * silu(gate))), concatenated, so each part is a segment
 * of its own role: q, k and v grow with their head operators, gate and up both with the FFN's.
 */
export const phi3: ArchitectureDescription = {
  family: 'phi3',
  modelTypes: ['phi3'],
  configFields: { ...STANDARD_CONFIG_FIELDS, numKvHeads: 'num_key_value_heads', headDim: 'head_dim', normEps: 'rms_norm_eps' },
  preNorm: true,
  norm: 'rmsNorm',
  capabilities: { headDim: true, gqa: true, rotary: true, bias: 'config' },
  // Llama's counts plus the fused projections' split outputs, rounded up; bench:estimate
  // --families gpt_neox,phi3 (16 plans): estimate / measured 1.12-1.21, median 1.18.
  activationCost: { hidden: 90, ffn: 18, scores: 11 },
  pipelineTag: 'text-generation',
  preservation: defaultPreservation(true),
  tensors: [
    { name: 'model.embed_tokens.weight', axes: [out('vocab'), out('width')], init: 'normal' },
    { name: layer('input_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('self_attn.qkv_proj.weight'), axes: [[out('q'), out('k'), out('v')], inp('width')], group: 'attn', init: 'normal' },
    { name: layer('self_attn.o_proj.weight'), axes: [out('width'), inp('q')], group: 'attn_out', init: 'normal' },
    { name: layer('post_attention_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('mlp.gate_up_proj.weight'), axes: [[out('ffn'), out('ffn')], inp('width')], group: 'mlp', init: 'normal' },
    { name: layer('mlp.down_proj.weight'), axes: [out('width'), inp('ffn')], group: 'mlp_out', init: 'normal' },
    { name: 'model.norm.weight', axes: [out('width')], init: 'ones', feedsTiedHead: true, normGain: true },
    { name: 'lm_head.weight', axes: [out('vocab'), inp('width')], init: 'normal', when: (d) => !d.tiedEmbeddings },
  ],
  aliases: [],
  ignored: [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/],
  tiedAliases: ['lm_head.weight'],
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    if (c.has('rope_scaling')) {
      const scaling = config.rope_scaling as Record<string, unknown>;
      const type = String(scaling.rope_type ?? scaling.type ?? JSON.stringify(scaling));
      throw new UnsupportedError(`${file}: rope_scaling type "${type}" is not supported for phi3 (only plain RoPE: the 4k-context Phi-3 models)`, { file });
    }
    const act = c.string('hidden_act', 'silu');
    if (act !== 'silu') {
      throw new UnsupportedError(`${file}: hidden_act "${act}" is not supported for phi3 (supported: silu)`, { file });
    }
    const partialRotary = c.number('partial_rotary_factor', 1);
    if (!(partialRotary > 0 && partialRotary <= 1)) {
      throw new UnsupportedError(`${file}: partial_rotary_factor ${partialRotary} is outside (0, 1]`, { file });
    }
    const sizes = c.standardSizes(4096);
    return {
      family: 'phi3',
      modelType: 'phi3',
      ...sizes,
      numKvHeads: c.int('num_key_value_heads', sizes.numHeads),
      headDim: c.int('head_dim', sizes.hiddenSize / sizes.numHeads),
      typeVocabSize: 0,
      normEps: c.number('rms_norm_eps', 1e-5),
      activation: 'silu',
      ropeTheta: c.number('rope_theta', 10000),
      tiedEmbeddings: c.bool('tie_word_embeddings', false),
      // Phi-3's projections have no biases whatever attention_bias says.
      qkvBias: false,
      oBias: false,
      mlpBias: false,
      objective: 'causal',
      rotary: true,
      partialRotary,
      slidingWindow: c.has('sliding_window') ? c.int('sliding_window') : undefined,
    };
  },
};

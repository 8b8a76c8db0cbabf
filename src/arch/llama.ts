import { UnsupportedError } from '../errors.js';
import { ConfigReader } from './config_fields.js';
import { readRopeScaling } from './rope_scaling.js';
import { defaultPreservation, inp, out, type ArchitectureDescription } from './types.js';

const layer = (suffix: string): string => `model.layers.{i}.${suffix}`;

/** Qwen3's per-head q/k RMSNorm has no config switch: the model type implies it. */
const QK_NORM_TYPES = ['qwen3'];

/**
 * LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM: RMSNorm, SwiGLU,
 * RoPE (with Llama 3 `rope_scaling`), GQA; Qwen3 adds q_norm / k_norm over head_dim.
 */
export const llama: ArchitectureDescription = {
  family: 'llama',
  modelTypes: ['llama', 'mistral', 'qwen2', 'qwen3'],
  configFields: {
    vocabSize: 'vocab_size',
    hiddenSize: 'hidden_size',
    numLayers: 'num_hidden_layers',
    numHeads: 'num_attention_heads',
    numKvHeads: 'num_key_value_heads',
    headDim: 'head_dim',
    intermediateSize: 'intermediate_size',
    maxPositions: 'max_position_embeddings',
    normEps: 'rms_norm_eps',
  },
  perLayerConfigFields: ['layer_types'],
  preNorm: true,
  norm: 'rmsNorm',
  capabilities: { headDim: true, gqa: true, rotary: true, bias: 'config' },
  // SwiGLU is five elementwise ops on [B,T,F].
  activationCost: { hidden: 80, ffn: 14, scores: 11 },
  pipelineTag: 'text-generation',
  preservation: defaultPreservation(true),
  tensors: [
    { name: 'model.embed_tokens.weight', axes: [out('vocab'), out('width')], init: 'normal', inputEmbedding: true },
    { name: layer('input_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('self_attn.q_proj.weight'), axes: [out('q'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('self_attn.q_proj.bias'), axes: [out('q')], group: 'attn', init: 'zeros', when: (d) => d.qkvBias },
    { name: layer('self_attn.q_norm.weight'), axes: [out('qHeadDim')], group: 'attn', init: 'ones', normGain: true, when: (d) => d.qkNorm === true },
    { name: layer('self_attn.k_proj.weight'), axes: [out('k'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('self_attn.k_proj.bias'), axes: [out('k')], group: 'attn', init: 'zeros', when: (d) => d.qkvBias },
    { name: layer('self_attn.k_norm.weight'), axes: [out('kHeadDim')], group: 'attn', init: 'ones', normGain: true, when: (d) => d.qkNorm === true },
    { name: layer('self_attn.v_proj.weight'), axes: [out('v'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('self_attn.v_proj.bias'), axes: [out('v')], group: 'attn', init: 'zeros', when: (d) => d.qkvBias },
    { name: layer('self_attn.o_proj.weight'), axes: [out('width'), inp('q')], group: 'attn_out', init: 'normal' },
    { name: layer('self_attn.o_proj.bias'), axes: [out('width')], group: 'attn_out', init: 'zeros', when: (d) => d.oBias },
    { name: layer('post_attention_layernorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('mlp.gate_proj.weight'), axes: [out('ffn'), inp('width')], group: 'mlp', init: 'normal' },
    { name: layer('mlp.gate_proj.bias'), axes: [out('ffn')], group: 'mlp', init: 'zeros', when: (d) => d.mlpBias },
    { name: layer('mlp.up_proj.weight'), axes: [out('ffn'), inp('width')], group: 'mlp', init: 'normal' },
    { name: layer('mlp.up_proj.bias'), axes: [out('ffn')], group: 'mlp', init: 'zeros', when: (d) => d.mlpBias },
    { name: layer('mlp.down_proj.weight'), axes: [out('width'), inp('ffn')], group: 'mlp_out', init: 'normal' },
    { name: layer('mlp.down_proj.bias'), axes: [out('width')], group: 'mlp_out', init: 'zeros', when: (d) => d.mlpBias },
    { name: 'model.norm.weight', axes: [out('width')], init: 'ones', feedsTiedHead: true, normGain: true },
    { name: 'lm_head.weight', axes: [out('vocab'), inp('width')], init: 'normal', when: (d) => !d.tiedEmbeddings },
  ],
  aliases: [],
  ignored: [/^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/],
  tiedAliases: ['lm_head.weight'],
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    const modelType = c.string('model_type', 'llama');
    const ropeScaling = readRopeScaling(config, file);
    const qkNorm = QK_NORM_TYPES.includes(modelType);
    const layerTypes = config.layer_types;
    const otherLayer = Array.isArray(layerTypes) ? layerTypes.find((t) => t !== 'full_attention') : undefined;
    if (otherLayer !== undefined) {
      throw new UnsupportedError(`${file}: layer_types ${JSON.stringify(otherLayer)} is not supported yet (supported: full_attention)`, { file });
    }
    if (qkNorm && c.bool('use_sliding_window', false)) {
      throw new UnsupportedError(`${file}: use_sliding_window true is not supported yet (sliding-window attention)`, { file });
    }
    const act = c.string('hidden_act', 'silu');
    if (act !== 'silu') {
      throw new UnsupportedError(`${file}: hidden_act "${act}" is not supported yet (expected silu)`, { file });
    }
    const hiddenSize = c.int('hidden_size');
    const numHeads = c.int('num_attention_heads');
    const isQwen2 = modelType === 'qwen2';
    const attentionBias = c.bool('attention_bias', false);
    return {
      family: 'llama',
      modelType,
      vocabSize: c.int('vocab_size'),
      hiddenSize,
      numLayers: c.int('num_hidden_layers'),
      numHeads,
      numKvHeads: c.int('num_key_value_heads', numHeads),
      // Qwen3Config's head_dim defaults to 128, the others' to hidden / heads.
      headDim: c.int('head_dim', qkNorm ? 128 : hiddenSize / numHeads),
      intermediateSize: c.int('intermediate_size'),
      maxPositions: c.int('max_position_embeddings', 2048),
      typeVocabSize: 0,
      normEps: c.number('rms_norm_eps', 1e-6),
      activation: 'silu',
      ropeTheta: c.number('rope_theta', 10000),
      tiedEmbeddings: c.bool('tie_word_embeddings', false),
      // Qwen2 always has q/k/v biases and never an o_proj bias.
      qkvBias: isQwen2 || attentionBias,
      oBias: !isQwen2 && attentionBias,
      mlpBias: c.bool('mlp_bias', false),
      objective: 'causal',
      rotary: true,
      ...(ropeScaling ? { ropeScaling } : {}),
      ...(qkNorm ? { qkNorm } : {}),
    };
  },
};

import { UnsupportedError } from '../errors.js';
import { ConfigReader } from './config_fields.js';
import type { Activation } from './dims.js';
import { defaultPreservation, inp, out, type ArchitectureDescription } from './types.js';

const layer = (suffix: string): string => `transformer.h.{i}.${suffix}`;

/** GPT2LMHeadModel. Conv1D weights are stored [in, out], so the `in` side is axis 0. */
export const gpt2: ArchitectureDescription = {
  family: 'gpt2',
  modelTypes: ['gpt2'],
  configFields: {
    vocabSize: 'vocab_size',
    hiddenSize: 'n_embd',
    numLayers: 'n_layer',
    numHeads: 'n_head',
    intermediateSize: 'n_inner',
    maxPositions: 'n_positions',
    normEps: 'layer_norm_epsilon',
  },
  preNorm: true,
  norm: 'layerNorm',
  capabilities: { headDim: false, gqa: false, rotary: false, bias: 'always' },
  // gelu_new is nine elementwise ops on [B,T,F].
  activationCost: { hidden: 75, ffn: 32, scores: 11, fusable: { layerNorm: 2, geluNew: 1 } },
  pipelineTag: 'text-generation',
  preservation: defaultPreservation(true),
  tensors: [
    { name: 'transformer.wte.weight', axes: [out('vocab'), out('width')], init: 'normal' },
    { name: 'transformer.wpe.weight', axes: [out('positions'), out('width')], init: 'normal' },
    { name: layer('ln_1.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('ln_1.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: layer('attn.c_attn.weight'), axes: [inp('width'), [out('q'), out('k'), out('v')]], group: 'attn', init: 'normal' },
    { name: layer('attn.c_attn.bias'), axes: [[out('q'), out('k'), out('v')]], group: 'attn', init: 'zeros' },
    { name: layer('attn.c_proj.weight'), axes: [inp('q'), out('width')], group: 'attn_out', init: 'normal' },
    { name: layer('attn.c_proj.bias'), axes: [out('width')], group: 'attn_out', init: 'zeros' },
    { name: layer('ln_2.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('ln_2.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: layer('mlp.c_fc.weight'), axes: [inp('width'), out('ffn')], group: 'mlp', init: 'normal' },
    { name: layer('mlp.c_fc.bias'), axes: [out('ffn')], group: 'mlp', init: 'zeros' },
    { name: layer('mlp.c_proj.weight'), axes: [inp('ffn'), out('width')], group: 'mlp_out', init: 'normal' },
    { name: layer('mlp.c_proj.bias'), axes: [out('width')], group: 'mlp_out', init: 'zeros' },
    { name: 'transformer.ln_f.weight', axes: [out('width')], init: 'ones', feedsTiedHead: true, normGain: true },
    { name: 'transformer.ln_f.bias', axes: [out('width')], init: 'zeros', feedsTiedHead: true, normBias: true },
  ],
  // The original gpt2 repo stores keys without the `transformer.` prefix.
  aliases: [{ from: /^(wte|wpe|h\.\d+|ln_f)\./, to: 'transformer.$1.' }],
  ignored: [/^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/],
  tiedAliases: ['lm_head.weight'],
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    const hiddenSize = c.int('n_embd');
    const numHeads = c.int('n_head');
    const activation = c.string('activation_function', 'gelu_new');
    if (activation !== 'gelu_new') {
      throw new UnsupportedError(`${file}: activation_function "${activation}" is not supported yet (expected gelu_new)`, { file });
    }
    if (!c.bool('tie_word_embeddings', true)) {
      throw new UnsupportedError(`${file}: GPT-2 with untied lm_head is not supported yet`, { file });
    }
    return {
      family: 'gpt2',
      modelType: 'gpt2',
      vocabSize: c.int('vocab_size'),
      hiddenSize,
      numLayers: c.int('n_layer'),
      numHeads,
      numKvHeads: numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: c.int('n_inner', 4 * hiddenSize),
      maxPositions: c.int('n_positions'),
      typeVocabSize: 0,
      normEps: c.number('layer_norm_epsilon', 1e-5),
      activation: activation as Activation,
      ropeTheta: 0,
      tiedEmbeddings: true,
      qkvBias: true,
      oBias: true,
      mlpBias: true,
      objective: 'causal',
      rotary: false,
    };
  },
};

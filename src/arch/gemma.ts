import { UnsupportedError } from '../errors.js';
import { ConfigReader } from './config_fields.js';
import { embeddingMultiplier, type Activation, type ModelDims } from './dims.js';
import { llama } from './llama.js';
import { readRopeScaling } from './rope_scaling.js';
import { defaultPreservation, type ArchitectureDescription, type StoredTransform, type TensorTemplate } from './types.js';

/** `hidden_activation` values Gemma may name, and what ligo computes for each. */
const ACTIVATIONS: Record<string, Activation> = {
  gelu_pytorch_tanh: 'gelu_pytorch_tanh',
  gelu_new: 'gelu_new',
  gelu: 'gelu',
};

/**
 * Growth acts on the values Gemma's forward pass uses. Norm gains: 1 + w is copied or split, not w.
 * Embeddings: the residual stream starts at E * sqrt(C); to start as the small model's, copied,
 * the grown E is divided by sqrt(C_large / C_small), and since the tied head reads that smaller E,
 * the final norm feeding it (split, not copied) is multiplied by as much. Exact at integer widths,
 * and at any width under the exact start (growth/exact_start.ts), whose rescaled gains are 1 + w's.
 */
function storedTransform(template: TensorTemplate, source: ModelDims, target: ModelDims): StoredTransform | undefined {
  const growth = embeddingMultiplier(target) / embeddingMultiplier(source);
  const offset = template.normGain ? (source.normGainOffset ?? 0) : 0;
  const factor = template.inputEmbedding ? 1 / growth : template.feedsTiedHead && target.tiedEmbeddings ? growth : 1;
  return factor !== 1 || offset !== 0 ? { factor, offset } : undefined;
}

/**
 * GemmaForCausalLM (v1): Llama's tensors and graph with three quirks, all data here: embeddings
 * scaled by sqrt(hidden_size), RMSNorm gains stored as w and applied as 1 + w (so a fresh gain is
 * zeros), and a GeGLU MLP whose activation comes from `hidden_activation`. The head is tied.
 */
export const gemma: ArchitectureDescription = {
  ...llama,
  family: 'gemma',
  modelTypes: ['gemma'],
  // GeGLU's tanh gelu is more elementwise ops on [B,T,F] than SwiGLU's SiLU, and the 1 + w gains and
  // the embedding scale add a few [B,T,C]: bench:estimate --families gemma gives 1.00-1.27 (median 1.04).
  activationCost: { ...llama.activationCost, hidden: 84, ffn: 28, fusable: { geluNew: 1 } },
  preservation: { ...defaultPreservation(true), storedTransform },
  tensors: llama.tensors.map((t) => (t.normGain ? { ...t, init: 'zeros' as const } : t)),
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    // Hugging Face's GemmaMLP reads `hidden_activation` and falls back to the tanh approximation
    // whatever `hidden_act` says (early Gemma configs say "gelu" there).
    const name = c.string('hidden_activation', 'gelu_pytorch_tanh');
    const activation = ACTIVATIONS[name];
    if (activation === undefined) {
      throw new UnsupportedError(`${file}: hidden_activation "${name}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`, { file });
    }
    const ropeScaling = readRopeScaling(config, file);
    const numHeads = c.int('num_attention_heads');
    const attentionBias = c.bool('attention_bias', false);
    return {
      family: 'gemma',
      modelType: 'gemma',
      vocabSize: c.int('vocab_size'),
      hiddenSize: c.int('hidden_size'),
      numLayers: c.int('num_hidden_layers'),
      numHeads,
      numKvHeads: c.int('num_key_value_heads', numHeads),
      // GemmaConfig's default; every released config states it.
      headDim: c.int('head_dim', 256),
      intermediateSize: c.int('intermediate_size'),
      maxPositions: c.int('max_position_embeddings', 8192),
      typeVocabSize: 0,
      normEps: c.number('rms_norm_eps', 1e-6),
      activation,
      ropeTheta: c.number('rope_theta', 10000),
      tiedEmbeddings: c.bool('tie_word_embeddings', true),
      qkvBias: attentionBias,
      oBias: attentionBias,
      mlpBias: false,
      objective: 'causal',
      rotary: true,
      ...(ropeScaling ? { ropeScaling } : {}),
      scaleEmbeddings: true,
      normGainOffset: 1,
    };
  },
};

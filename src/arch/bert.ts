import { UnsupportedError } from '../errors.js';
import { ConfigReader, STANDARD_CONFIG_FIELDS } from './config_fields.js';
import { defaultPreservation, inp, out, type ArchitectureDescription } from './types.js';

const layer = (suffix: string): string => `bert.encoder.layer.{i}.${suffix}`;

/** BertForMaskedLM, and BertForPreTraining checkpoints (pooler and NSP head are kept). Post-LN. */
export const bert: ArchitectureDescription = {
  family: 'bert',
  modelTypes: ['bert'],
  configFields: { ...STANDARD_CONFIG_FIELDS, normEps: 'layer_norm_eps' },
  preNorm: false,
  norm: 'layerNorm',
  capabilities: { headDim: false, gqa: false, rotary: false, bias: 'always' },
  // Post-LN blocks carry more LayerNorms and biases on [B,T,C].
  activationCost: { hidden: 115, ffn: 28, scores: 8, fusable: { layerNorm: 2, geluNew: 1 } },
  pipelineTag: 'fill-mask',
  preservation: defaultPreservation(false),
  tensors: [
    { name: 'bert.embeddings.word_embeddings.weight', axes: [out('vocab'), out('width')], init: 'normal' },
    { name: 'bert.embeddings.position_embeddings.weight', axes: [out('positions'), out('width')], init: 'normal' },
    { name: 'bert.embeddings.token_type_embeddings.weight', axes: [out('types'), out('width')], init: 'normal' },
    { name: 'bert.embeddings.LayerNorm.weight', axes: [out('width')], init: 'ones', normGain: true },
    { name: 'bert.embeddings.LayerNorm.bias', axes: [out('width')], init: 'zeros', normBias: true },
    { name: layer('attention.self.query.weight'), axes: [out('q'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('attention.self.query.bias'), axes: [out('q')], group: 'attn', init: 'zeros' },
    { name: layer('attention.self.key.weight'), axes: [out('k'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('attention.self.key.bias'), axes: [out('k')], group: 'attn', init: 'zeros' },
    { name: layer('attention.self.value.weight'), axes: [out('v'), inp('width')], group: 'attn', init: 'normal' },
    { name: layer('attention.self.value.bias'), axes: [out('v')], group: 'attn', init: 'zeros' },
    { name: layer('attention.output.dense.weight'), axes: [out('width'), inp('q')], group: 'attn_out', init: 'normal' },
    { name: layer('attention.output.dense.bias'), axes: [out('width')], group: 'attn_out', init: 'zeros' },
    { name: layer('attention.output.LayerNorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('attention.output.LayerNorm.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: layer('intermediate.dense.weight'), axes: [out('ffn'), inp('width')], group: 'mlp', init: 'normal' },
    { name: layer('intermediate.dense.bias'), axes: [out('ffn')], group: 'mlp', init: 'zeros' },
    { name: layer('output.dense.weight'), axes: [out('width'), inp('ffn')], group: 'mlp_out', init: 'normal' },
    { name: layer('output.dense.bias'), axes: [out('width')], group: 'mlp_out', init: 'zeros' },
    { name: layer('output.LayerNorm.weight'), axes: [out('width')], group: 'norm', init: 'ones', normGain: true },
    { name: layer('output.LayerNorm.bias'), axes: [out('width')], group: 'norm', init: 'zeros', normBias: true },
    { name: 'bert.pooler.dense.weight', axes: [out('width'), inp('width')], init: 'normal', optional: true },
    { name: 'bert.pooler.dense.bias', axes: [out('width')], init: 'zeros', optional: true },
    { name: 'cls.predictions.transform.dense.weight', axes: [out('width'), inp('width')], init: 'normal' },
    { name: 'cls.predictions.transform.dense.bias', axes: [out('width')], init: 'zeros' },
    { name: 'cls.predictions.transform.LayerNorm.weight', axes: [out('width')], init: 'ones', feedsTiedHead: true, normGain: true },
    { name: 'cls.predictions.transform.LayerNorm.bias', axes: [out('width')], init: 'zeros', feedsTiedHead: true, normBias: true },
    { name: 'cls.predictions.bias', axes: [out('vocab')], init: 'zeros' },
    { name: 'cls.seq_relationship.weight', axes: [2, inp('width')], init: 'normal', optional: true },
    { name: 'cls.seq_relationship.bias', axes: [2], init: 'zeros', optional: true },
  ],
  // TF-era checkpoints name LayerNorm parameters gamma/beta.
  aliases: [
    { from: /LayerNorm\.gamma$/, to: 'LayerNorm.weight' },
    { from: /LayerNorm\.beta$/, to: 'LayerNorm.bias' },
  ],
  ignored: [/^bert\.embeddings\.position_ids$/],
  tiedAliases: ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias'],
  readDims(config, file) {
    const c = new ConfigReader(config, file);
    const hiddenSize = c.int('hidden_size');
    const numHeads = c.int('num_attention_heads');
    const act = c.string('hidden_act', 'gelu');
    if (act !== 'gelu') {
      throw new UnsupportedError(`${file}: hidden_act "${act}" is not supported yet for BERT (expected gelu)`, { file });
    }
    const positionType = c.string('position_embedding_type', 'absolute');
    if (positionType !== 'absolute') {
      throw new UnsupportedError(`${file}: position_embedding_type "${positionType}" is not supported yet (expected absolute)`, { file });
    }
    return {
      family: 'bert',
      modelType: 'bert',
      vocabSize: c.int('vocab_size'),
      hiddenSize,
      numLayers: c.int('num_hidden_layers'),
      numHeads,
      numKvHeads: numHeads,
      headDim: hiddenSize / numHeads,
      intermediateSize: c.int('intermediate_size'),
      maxPositions: c.int('max_position_embeddings'),
      typeVocabSize: c.int('type_vocab_size', 2),
      normEps: c.number('layer_norm_eps', 1e-12),
      activation: 'gelu',
      ropeTheta: 0,
      tiedEmbeddings: true,
      qkvBias: true,
      oBias: true,
      mlpBias: true,
      objective: 'masked',
      rotary: false,
    };
  },
};

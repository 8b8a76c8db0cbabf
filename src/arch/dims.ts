/** Every family of forward pass ligo knows; each has one description (arch/) and one forward (models/). */
export const FAMILIES = ['gpt2', 'bert', 'llama'] as const;

/** The family of forward pass a checkpoint uses. */
export type Family = (typeof FAMILIES)[number];

export type Activation = 'gelu_new' | 'gelu' | 'silu' | 'relu';

/**
 * Model dimensions and switches read from config.json, normalized across families.
 * Forward passes and the growth plan use only this, never raw config fields.
 */
export interface ModelDims {
  family: Family;
  /** config.json `model_type`: gpt2, bert, llama, mistral, qwen2. */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  /** BERT token type vocabulary (0 elsewhere). */
  typeVocabSize: number;
  normEps: number;
  activation: Activation;
  /** RoPE base (llama family only). */
  ropeTheta: number;
  tiedEmbeddings: boolean;
  /** q/k/v projections carry a bias (llama attention_bias, qwen2 always). */
  qkvBias: boolean;
  /** attention output projection carries a bias (llama attention_bias). */
  oBias: boolean;
  /** llama mlp_bias. */
  mlpBias: boolean;
  /** What the model is trained and evaluated on: next-token (causal) or masked-token prediction. */
  objective: 'causal' | 'masked';
  /** Positions enter through RoPE on q and k (rotate_half pairs i and i + head_dim/2). */
  rotary: boolean;
}

/** Every family of forward pass ligo knows; each has one description (arch/) and one forward (models/). */
export const FAMILIES = ['gpt2', 'bert', 'llama', 'gemma', 'gpt_neox', 'phi3'] as const;

/** The family of forward pass a checkpoint uses. */
export type Family = (typeof FAMILIES)[number];

/** `gelu_pytorch_tanh` is the tanh approximation, the same formula as `gelu_new`. */
export type Activation = 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu' | 'silu' | 'relu';

/** The tanh-approximated GELU under either config name: what models/ runs as geluNew (fusable on some backends). */
export function isTanhGelu(name: Activation): name is 'gelu_new' | 'gelu_pytorch_tanh' {
  return name === 'gelu_new' || name === 'gelu_pytorch_tanh';
}

/**
 * config.json `rope_scaling`, normalized. `linear` divides every inverse frequency by `factor`;
 * `llama3` (Llama 3.1+) keeps the high frequencies, divides the low ones by `factor` and
 * interpolates in between (wavelengths measured against `originalMaxPositions`).
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

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
  /** RoPE frequency scaling (llama family); absent for plain RoPE (`rope_type` default). */
  ropeScaling?: RopeScaling;
  /** Qwen3: q and k are RMS-normalized per head over head_dim (q_norm, k_norm) before RoPE. */
  qkNorm?: boolean;
  /** Gemma: token embeddings are multiplied by sqrt(hidden_size) (see embeddingMultiplier). */
  scaleEmbeddings?: boolean;
  /** Gemma: RMSNorm gains are stored as w and applied as (normGainOffset + w); absent means 0. */
  normGainOffset?: number;
  /**
   * Fraction of each head's dims that RoPE rotates (GPT-NeoX `rotary_pct`, Phi-3
   * `partial_rotary_factor`): the first floor(head_dim * fraction), rotate_half within them, the
   * rest pass through. Absent means 1 (all of them).
   */
  partialRotary?: number;
  /** Attention and MLP both read the layer's input and add to it (GPT-NeoX `use_parallel_residual`). */
  parallelResidual?: boolean;
  /** Each position attends to at most this many positions, itself included (Phi-3 `sliding_window`); absent: all earlier ones. */
  slidingWindow?: number;
}

/**
 * What the forward pass multiplies token embeddings by: sqrt(hidden_size) rounded to float32 for
 * Gemma (Hugging Face builds it as a tensor in the hidden dtype, float32 here), else 1.
 */
export function embeddingMultiplier(dims: ModelDims): number {
  return dims.scaleEmbeddings ? Math.fround(Math.sqrt(dims.hiddenSize)) : 1;
}

/** How many leading dims of each head RoPE rotates (HF: int(head_dim * partial_rotary_factor)). */
export function rotaryDims(dims: Pick<ModelDims, 'headDim' | 'partialRotary'>): number {
  return Math.floor(dims.headDim * (dims.partialRotary ?? 1));
}

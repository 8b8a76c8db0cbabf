import type { Family } from '../arch/dims.js';
import type { GrowthPlan, PlannedTensor } from './plan.js';

/**
 * Memory of the LiGO learning phase, estimated from the plan before anything is allocated, so a
 * run that cannot fit fails in a second instead of after minutes of loading.
 *
 * Everything in the learning phase is float32 (4 bytes) whatever the checkpoint's dtype:
 *
 *   source     = P_small                              the small model, loaded whole (loadModel)
 *   operator   = P_op                                 width and depth matrices (tf.Variables)
 *   optimizer  = P_op * (2 + G)                       AdamW m and v, plus G gradient buffers:
 *                                                     G = 2 (the step's gradients and the clipped
 *                                                     copy), 3 with --grad-accum > 1 (the running
 *                                                     sum, the new micro-batch's, their sum)
 *   grown      = 2 * P_large + 2 * M                  the materialized large model and its
 *                                                     gradient, plus M floats of materialization
 *                                                     intermediates (depth stacks [L_small, N],
 *                                                     half-grown tensors, Kronecker width
 *                                                     matrices; materializationElements), each
 *                                                     kept for backprop and given a gradient
 *   activations = B*T * (L * (a_C*C + a_F*F + a_S*H*T) + a_V*V)
 *
 * with B = --batch-size (one micro-batch: --grad-accum adds steps, not activations), T = --seq-len,
 * and the large model's L layers, width C, FFN width F, H query heads and vocabulary V. The a_*
 * count [B,T,C]-, [B,T,F]-, [B,H,T,T]- and [B,T,V]-sized tensors alive at the peak of one
 * forward+backward. They are high because tfjs keeps every forward intermediate until the forward
 * ends, and every gradient until the backward ends (engine.gradients runs each half in one tidy),
 * so the peak holds the forward's saved tensors and one gradient per intermediate at once. The
 * values are calibrated against the wasm backend's live buffer bytes (bench/learn.ts prints
 * estimate and measurement side by side) and rounded up.
 */

/** The learning phase computes in float32 whatever the checkpoint's dtype. */
export const FLOAT32_BYTES = 4;

/**
 * Per layer and token, floats alive at the peak of forward+backward in units of C, F and H*T
 * (see the formula above). GPT-2's gelu_new is nine elementwise ops on [B,T,F], hence its larger F
 * term; BERT's post-LN blocks are GPT-2's ops in another order; Llama's SwiGLU is five.
 */
export const ACTIVATION_COEFFICIENTS: Readonly<Record<Family, { hidden: number; ffn: number; scores: number }>> = {
  gpt2: { hidden: 60, ffn: 26, scores: 10 },
  bert: { hidden: 60, ffn: 26, scores: 10 },
  llama: { hidden: 60, ffn: 18, scores: 10 },
};

/** [B,T,V] tensors at the loss: logits, their slice, the gradient's softmax, one-hot (int32 and float), difference, product. */
export const LOGIT_COPIES = 8;

/** Each materialization intermediate is saved for backprop and gets a gradient of its own size. */
export const MATERIALIZE_COPIES = 1;

export interface LearningShape {
  /** Sequences per micro-batch (--batch-size). */
  batchSize: number;
  /** Tokens per sequence (--seq-len). */
  seqLen: number;
  /** Micro-batches per optimizer step (--grad-accum). */
  gradAccum: number;
}

export interface MemoryEstimate {
  sourceBytes: number;
  /** Operator parameters only. */
  operatorBytes: number;
  /** AdamW m and v plus gradient buffers of the operator. */
  optimizerBytes: number;
  /** The materialized large model, its gradient and the materialization intermediates. */
  grownBytes: number;
  activationBytes: number;
  totalBytes: number;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Floats one materializeTensor call leaves alive through backprop, besides the grown tensor and
 * its gradient: the depth stack [L_small, N] (saved for the depth matrix's gradient), the mixed
 * tensor and each half-grown result (saved, plus a gradient each), split parts and concat outputs
 * of fused axes, and per use of a width matrix the gradient of that use ([large, small]; tfjs keeps
 * every partial gradient until the backward pass ends) plus, for attention operators, the
 * Kronecker product built for the use.
 */
function tensorIntermediates(t: PlannedTensor, headOperators: ReadonlySet<string>): number {
  let shape = [...t.smallShape];
  let floats = 0;
  if (t.layer !== undefined && t.group !== undefined) floats += (t.sources.length + 2) * product(shape);
  let grew = false;
  t.axes.forEach((segments, axis) => {
    if (segments.every((s) => s.operator === null)) return;
    const before = product(shape);
    shape = shape.map((d, i) => (i === axis ? segments.reduce((sum, s) => sum + s.large, 0) : d));
    const after = product(shape);
    if (segments.length > 1) floats += 2 * before + 2 * after; // split parts and concat output, each with a gradient
    for (const s of segments) {
      if (s.operator === null) continue;
      floats += (headOperators.has(s.operator) ? 2 : 1) * s.large * s.small;
    }
    floats += 2 * after;
    grew = true;
  });
  // The last grown result is the large tensor and its gradient, counted with the model.
  return grew ? floats - 2 * product(t.shape) : floats;
}

/** Floats of materialization intermediates over the whole plan (M in the formula above). */
export function materializationElements(plan: GrowthPlan): number {
  const headOperators = new Set(plan.width.filter((w) => w.heads !== undefined).map((w) => w.id));
  return plan.tensors.reduce((sum, t) => sum + tensorIntermediates(t, headOperators), 0);
}

/** Peak float32 memory of the learning phase for this plan at B x T (see the formula above). */
export function estimateLearningMemory(plan: GrowthPlan, shape: LearningShape): MemoryEstimate {
  const { batchSize: B, seqLen: T, gradAccum } = shape;
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numLayers: L, vocabSize: V, family } = plan.target;
  const a = ACTIVATION_COEFFICIENTS[family];
  const gradientBuffers = gradAccum > 1 ? 3 : 2;
  const sourceBytes = FLOAT32_BYTES * plan.parameters.source;
  const operatorBytes = FLOAT32_BYTES * plan.parameters.operator;
  const optimizerBytes = FLOAT32_BYTES * plan.parameters.operator * (2 + gradientBuffers);
  const grownBytes = FLOAT32_BYTES * (2 * plan.parameters.target + MATERIALIZE_COPIES * materializationElements(plan));
  const perToken = L * (a.hidden * C + a.ffn * F + a.scores * H * T) + LOGIT_COPIES * V;
  const activationBytes = FLOAT32_BYTES * B * T * perToken;
  return {
    sourceBytes,
    operatorBytes,
    optimizerBytes,
    grownBytes,
    activationBytes,
    totalBytes: sourceBytes + operatorBytes + optimizerBytes + grownBytes + activationBytes,
  };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 -> "1.5 KiB", 3221225472 -> "3.0 GiB" (binary units, one decimal above bytes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

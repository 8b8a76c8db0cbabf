import * as os from 'node:os';
import { isTanhGelu } from '../arch/dims.js';
import { descriptionOf } from '../arch/resolve.js';
import { FUSED_OP_KEPT } from '../backend/fused_ops.js';
import { backendProfile, type BackendProfile } from '../backend/profile.js';
import { trainableShapes } from '../growth/layout.js';
import { tensorsByLayer, type GrowthPlan, type PlannedTensor } from '../growth/plan.js';

/**
 * Memory of the LiGO learning phase, estimated from the plan before anything is allocated, so a
 * run that cannot fit fails in a second instead of after minutes of loading.
 *
 * Everything in the learning phase is float32 (4 bytes) whatever the checkpoint's dtype. In floats:
 *
 *   source      = P_small              the small model, loaded whole (loadModel)
 *   operator    = P_op                 width and depth matrices (tf.Variables)
 *   optimizer   = P_op * (2 + G)       AdamW m and v, plus G gradient buffers: 2 (the step's
 *                                      gradients and their accumulated copy), 3 with
 *                                      --grad-accum > 1 (running sum, new micro-batch, their sum)
 *   grown       = 2 * P_large          the materialized large model and its gradient (3 * P_large with
 *                                      --grad-accum > 1: the micro-batches' summed gradient too),
 *                 + S + 2 * M          the depth stacks S (each large layer stacks its kind's tensor
 *                                      from every small layer: L_large x the small per-layer
 *                                      weights) and M other materialization intermediates
 *                                      (materializationElements), counted twice for the clones and
 *                                      partial sums tfjs keeps besides them
 *   activations = B*T * (L * (a_C*C + a_F*F + a_S*H*T) + a_V*V)
 *                 with --recompute: B*T * (L * k*C + (a_C*C + a_F*F + a_S*H*T) + a_V*V), and
 *                 grown counts the tensors outside the layers plus the largest layer's
 *   update      = P_op + 16 * P_max    clipping and AdamW temporaries: the update runs one variable
 *                                      at a time (its ~13 temporaries, measured; P_max the largest
 *                                      operator parameter), plus one operator-sized buffer (fitted)
 *
 *   total = source + operator + optimizer + max(grown + activations, update)
 *
 * The update runs after the forward/backward has freed the grown model and the activations, hence
 * the max. B = --batch-size (one micro-batch: --grad-accum adds passes, not activations), T =
 * --seq-len, and L, C, F, H, V are the large model's layers, width, FFN width, query heads and
 * vocabulary. The a_* count [B,T,C]-, [B,T,F]-, [B,H,T,T]- and [B,T,V]-sized tensors alive at the
 * peak of one forward+backward. They are large because tfjs keeps every forward intermediate until
 * the forward ends and every partial gradient until the backward ends (engine.gradients runs each
 * half in a single tidy). They were fitted to the wasm backend's live buffer bytes over 71 random
 * GPT-2, Llama and BERT growth plans (1-6 source layers grown up to 2x in depth and 1.5-2x in
 * width, 96-256 wide, B 1-8, T 16-256, V 256-3000) and rounded up: estimate / measured was
 * 0.93-1.22, median 1.07. bench/learn.ts prints both again for its configuration.
 *
 * Those a_* count GELU and LayerNorm composed from stock ops. On a backend whose profile lists them
 * in fusedOps (blas), each use per layer (the family's activationCost.fusable) keeps
 * FUSED_OP_KEPT's fused count of input-sized tensors instead of the composed one, and a_C / a_F
 * drop by the difference: GPT-2 on blas by 2 * 12 for its two LayerNorms and a_F by 17 for gelu_new.
 */

/** The learning phase computes in float32 whatever the checkpoint's dtype. */
export const FLOAT32_BYTES = 4;

/**
 * With --recompute, [B,T,C]-sized tensors per layer that live through the backward pass: the
 * layer's saved input and output and the gradients flowing between layers (upper bound).
 */
export const RECOMPUTE_KEPT = 4;

/** [B,T,V] tensors per token at the loss: logits, their slice, softmax, one-hot, difference, gradients. */
export const LOGIT_COPIES = 12;

/** Materialization intermediates other than depth stacks are counted twice (fitted; tfjs keeps clones and partial sums too). */
export const MATERIALIZE_COPIES = 2;

/** Copies of the largest operator parameter alive during gradient clipping and the AdamW update (13 measured). */
export const UPDATE_TEMPORARIES = 16;

export interface LearningShape {
  /** Sequences per micro-batch (--batch-size). */
  batchSize: number;
  /** Tokens per sequence (--seq-len). */
  seqLen: number;
  /** Micro-batches per optimizer step (--grad-accum). */
  gradAccum: number;
  /** --recompute: layers keep only their inputs; one layer's intermediates exist at a time. */
  recompute?: boolean;
}

export interface MemoryEstimate {
  sourceBytes: number;
  /** Operator parameters only. */
  operatorBytes: number;
  /** AdamW m and v plus the operator's gradient buffers. */
  optimizerBytes: number;
  /** The materialized large model, its gradient and the materialization intermediates. */
  grownBytes: number;
  activationBytes: number;
  /** Temporaries of clipping and the AdamW update; they replace grown + activations at their peak. */
  updateBytes: number;
  /** source + operator + optimizer + max(grown + activations, update). */
  totalBytes: number;
  /**
   * The largest single tensor: logits [B,T,V], attention scores [B,H,T,T], a grown weight, a depth
   * stack or an operator matrix. On webgpu one tensor is one GPU buffer, bounded by the adapter.
   */
  largestTensorBytes: number;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Floats one materializeTensor call leaves alive through backprop, besides the grown tensor and
 * its gradient. `stack`: the depth stack [L_small, N] of a per-layer tensor, saved for the depth
 * matrix's gradient and given none (the small weights are constants). `other`: the mixed tensor and
 * each half-grown result (saved, plus a gradient each), split parts and concat outputs of fused
 * axes, and per use of a width matrix the gradient of that use ([large, small]; tfjs keeps every
 * partial gradient until the backward pass ends) plus, for attention operators, the Kronecker
 * product built for the use.
 */
function tensorIntermediates(t: PlannedTensor, headOperators: ReadonlySet<string>): { stack: number; other: number } {
  let shape = [...t.smallShape];
  let stack = 0;
  let other = 0;
  if (t.layer !== undefined && t.group !== undefined) {
    stack = t.sources.length * product(shape);
    other += 2 * product(shape);
  }
  let grew = false;
  t.axes.forEach((segments, axis) => {
    if (segments.every((s) => s.operator === null)) return;
    const before = product(shape);
    shape = shape.map((d, i) => (i === axis ? segments.reduce((sum, s) => sum + s.large, 0) : d));
    const after = product(shape);
    if (segments.length > 1) other += 2 * before + 2 * after; // split parts and concat output, each with a gradient
    for (const s of segments) {
      if (s.operator === null) continue;
      other += (headOperators.has(s.operator) ? 2 : 1) * s.large * s.small;
    }
    other += 2 * after;
    grew = true;
  });
  // A stored transform (arch/types.ts, Gemma): each product, difference and sum is a grown-sized
  // tensor kept with its gradient, and an offset grows ones as the tensor is grown.
  const transform = t.transform;
  if (transform) {
    const n = product(t.shape);
    if (transform.factor !== 1) other += 2 * n;
    if (transform.offset !== 0) {
      const ones = tensorIntermediates({ ...t, transform: undefined }, headOperators);
      stack += ones.stack;
      other += ones.other + (transform.factor !== 1 ? 10 : 8) * n;
    }
  }
  // The last grown result is the large tensor and its gradient, counted with the model.
  return { stack, other: grew ? other - 2 * product(t.shape) : other };
}

/**
 * Floats of materialization intermediates over the whole plan: the depth stacks (each large
 * layer stacks every small layer of its kind: L_large x the small model's per-layer weights) and
 * everything else materializeTensor keeps for backprop.
 */
export function materializationElements(plan: GrowthPlan): { stack: number; other: number } {
  const headOperators = new Set(plan.width.filter((w) => w.heads !== undefined).map((w) => w.id));
  let stack = 0;
  let other = 0;
  for (const t of plan.tensors) {
    const e = tensorIntermediates(t, headOperators);
    stack += e.stack;
    other += e.other;
  }
  return { stack, other };
}

/** The largest `measure` of one large layer's grown tensors. */
function largestLayer(plan: GrowthPlan, measure: (tensors: readonly PlannedTensor[]) => number): number {
  return Math.max(0, ...[...tensorsByLayer(plan.tensors).values()].map(measure));
}

/**
 * Floats per layer and token that the backend's fused ops save against the composed forms the
 * activation costs count (FUSED_OP_KEPT per use, times the uses per layer).
 */
export function fusedSavings(target: GrowthPlan['target'], profile: BackendProfile): number {
  const uses = descriptionOf(target.family).activationCost.fusable ?? {};
  let floats = 0;
  for (const op of profile.fusedOps) {
    const kept = FUSED_OP_KEPT[op];
    const saved = kept.composed - kept.fused;
    if (op === 'layerNorm') floats += (uses.layerNorm ?? 0) * saved * target.hiddenSize;
    else if (isTanhGelu(target.activation)) floats += (uses.geluNew ?? 0) * saved * target.intermediateSize;
  }
  return floats;
}

/**
 * Peak float32 memory of the learning phase for this plan at B x T (see the formula above), on
 * `backend` (a tfjs name or a profile; its fusedOps lower the activations). Without one: the
 * composed ops every backend without fused kernels runs.
 */
export function estimateLearningMemory(plan: GrowthPlan, shape: LearningShape, backend?: string | BackendProfile): MemoryEstimate {
  const { batchSize: B, seqLen: T, gradAccum } = shape;
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numLayers: L, vocabSize: V, family } = plan.target;
  // Per layer and token, floats alive at the peak of forward+backward in units of C, F and H*T: a family fact.
  const a = descriptionOf(family).activationCost;
  const profile = backend === undefined ? undefined : typeof backend === 'string' ? backendProfile(backend) : backend;
  const gradientBuffers = gradAccum > 1 ? 3 : 2;
  const sourceBytes = FLOAT32_BYTES * plan.parameters.source;
  const operatorBytes = FLOAT32_BYTES * plan.parameters.operator;
  const optimizerBytes = FLOAT32_BYTES * plan.parameters.operator * (2 + gradientBuffers);
  // With --grad-accum the micro-batches' summed gradient w.r.t. the grown model is a third copy.
  const grownCopies = gradAccum > 1 ? 3 : 2;
  const grownOf = (tensors: readonly PlannedTensor[]): number => {
    const m = materializationElements({ ...plan, tensors: [...tensors] });
    const elements = tensors.reduce((n, t) => n + product(t.shape), 0);
    return FLOAT32_BYTES * (grownCopies * elements + m.stack + MATERIALIZE_COPIES * m.other);
  };
  // --recompute: layers materialize their own weights when they run, so besides the tensors
  // outside the layers only one layer's grown weights exist at a time.
  const grownBytes = shape.recompute ? grownOf(plan.tensors.filter((t) => t.layer === undefined)) + largestLayer(plan, grownOf) : grownOf(plan.tensors);
  const perLayer = a.hidden * C + a.ffn * F + a.scores * H * T - (profile === undefined ? 0 : fusedSavings(plan.target, profile));
  const perToken = (shape.recompute ? L * RECOMPUTE_KEPT * C + perLayer : L * perLayer) + LOGIT_COPIES * V;
  const activationBytes = FLOAT32_BYTES * B * T * perToken;
  const largest = Math.max(0, ...[...trainableShapes(plan).values()].map(([rows, cols]) => rows * cols));
  const updateBytes = FLOAT32_BYTES * (plan.parameters.operator + UPDATE_TEMPORARIES * largest);
  const largestWeight = Math.max(0, ...plan.tensors.map((t) => Math.max(product(t.shape), (t.layer === undefined ? 0 : t.sources.length) * product(t.smallShape))));
  const largestTensorBytes = FLOAT32_BYTES * Math.max(B * T * V, B * H * T * T, B * T * F, largestWeight, largest);
  return {
    sourceBytes,
    operatorBytes,
    optimizerBytes,
    grownBytes,
    activationBytes,
    updateBytes,
    totalBytes: sourceBytes + operatorBytes + optimizerBytes + Math.max(grownBytes + activationBytes, updateBytes),
    largestTensorBytes,
  };
}

/** What the learning phase may use in all, and in one tensor where the backend bounds that. */
export interface MemoryLimit {
  bytes: number;
  reason: string;
  /** Largest single tensor (webgpu: the adapter's maxStorageBufferBindingSize); absent when unbounded. */
  tensor?: { bytes: number; reason: string };
}

/**
 * What the learning phase may use: the memory the OS reports available, and no more than the
 * backend's own limit (its profile's memoryLimit: the wasm heap), whichever is smaller. A backend
 * on a device's own memory (webgpu on a GPU) has no total the OS or WebGPU reports: unbounded, and
 * only its largest tensor is checked. `backend` is a tfjs name or a profile (webgpu's depends on its adapter).
 */
export function learningMemoryLimit(backend: string | BackendProfile, availableBytes: number = os.freemem()): MemoryLimit {
  const profile = typeof backend === 'string' ? backendProfile(backend) : backend;
  const tensor = profile.tensorLimit === undefined ? {} : { tensor: profile.tensorLimit };
  if (profile.deviceMemory !== undefined) return { bytes: Number.POSITIVE_INFINITY, reason: profile.deviceMemory.reason, ...tensor };
  const limit = profile.memoryLimit;
  if (limit !== undefined && limit.bytes < availableBytes) return { ...limit, ...tensor };
  return { bytes: availableBytes, reason: 'available memory', ...tensor };
}

export { formatBytes } from '../util/bytes.js';

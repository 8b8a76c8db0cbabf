/**
 * Floating-point operation counts (multiply and add counted separately, so a [m,k]x[k,n] matMul is
 * 2mkn) for what the benchmarks time. Elementwise ops, norms and softmax are left out: next to the
 * matrix products they are a few percent of the FLOPs, though not of the time on wasm.
 */
import type { GrowthPlan, PlannedTensor } from '../../src/growth/plan.js';

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/**
 * One materializeTensor call as src/growth/materialize.ts does it with dense matrices: the depth
 * mix [1, L_small] x [L_small, N], then per grown axis B [large, small] times the tensor with that
 * axis at its small size and the axes before it already grown.
 */
export function materializeTensorFlops(t: PlannedTensor): number {
  let flops = 0;
  const shape = [...t.smallShape];
  if (t.layer !== undefined && t.group !== undefined) flops += 2 * t.sources.length * product(shape);
  t.axes.forEach((segments, axis) => {
    const others = product(shape) / shape[axis];
    for (const s of segments) if (s.operator !== null) flops += 2 * s.large * s.small * others;
    shape[axis] = segments.reduce((sum, s) => sum + s.large, 0);
  });
  return flops;
}

/** Forward materialization of the whole large model. */
export function materializeFlops(plan: GrowthPlan): number {
  return plan.tensors.reduce((sum, t) => sum + materializeTensorFlops(t), 0);
}

/**
 * Forward FLOPs per token of the large model at sequence length T: 2 per weight of every per-layer
 * matrix and of the LM head (V x C; embedding lookups are gathers, not products), plus attention's
 * two [T, T] products, 4 * T * H * hd per layer (the full square: the causal mask does not skip work).
 */
export function forwardFlopsPerToken(plan: GrowthPlan, seqLen: number): number {
  const { numLayers: L, numHeads: H, headDim: hd, vocabSize: V, hiddenSize: C } = plan.target;
  const layerMatrices = plan.tensors.filter((t) => t.layer !== undefined && t.shape.length === 2).reduce((s, t) => s + product(t.shape), 0);
  return 2 * (layerMatrices + V * C) + 4 * L * seqLen * H * hd;
}

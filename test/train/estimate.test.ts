import { describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../../src/arch/index.js';
import {
  estimateLearningMemory,
  formatBytes,
  learningMemoryLimit,
  materializationElements,
} from '../../src/train/estimate.js';
import { backendProfile, WASM_HEAP_LIMIT_BYTES, webGpuProfile } from '../../src/backend/profile.js';
import { operatorLayout, operatorShapes } from '../../src/growth/layout.js';
import { DENSE_FORM, planGrowth, type GrowthPlan, type PlannedSegment } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';

/** A tiny Llama: 1 layer x 4 wide (2 heads of 2, 1 KV head, FFN 6, vocab 10, untied head). */
const { description, dims: small } = resolveArchitecture({
  model_type: 'llama',
  hidden_size: 4,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  intermediate_size: 6,
  vocab_size: 10,
  max_position_embeddings: 16,
});
/** Grown to 2 layers x 8 wide: 4 heads, 2 KV heads, FFN 12. */
const large = resolveTarget(small, { hiddenSize: 8, layers: 2 }, description);

const seg = (operator: string | null, side: 'in' | 'out', s: number, l: number): PlannedSegment[] => [{ operator, side, small: s, large: l }];

/**
 * Written out by hand so the numbers below do not move with the architecture descriptions: one
 * layer's q_proj [4,4] -> [8,8] (heads operator on rows, width on columns) and the embedding
 * [10,4] -> [10,8]. The parameter counts are given, not derived.
 */
/** The plan's operator layout for hand-written operators (layout.ts derives names and assemblies). */
function layoutOf(width: Parameters<typeof operatorLayout>[0], depth: Parameters<typeof operatorLayout>[1]): Pick<GrowthPlan, 'width' | 'depth' | 'operatorParameters'> {
  const layout = operatorLayout(width, depth, DENSE_FORM);
  return { width: layout.width, depth: layout.depth, operatorParameters: layout.parameters };
}

const handPlan: GrowthPlan = {
  family: 'llama',
  method: 'ligo',
  source: small,
  target: large,
  operator: DENSE_FORM,
  ...layoutOf(
    [
      { id: 'width', role: 'width', small: 4, large: 8 },
      { id: 'q.0', role: 'q', layer: 0, small: 4, large: 8, heads: { small: 2, large: 4, headDimSmall: 2, headDimLarge: 2, rotary: true } },
    ],
    [{ group: 'attn', small: 1, large: 2 }],
  ),
  tensors: [
    { name: 'embed', shape: [10, 8], smallShape: [10, 4], init: 'normal', sources: ['embed'], axes: [seg(null, 'out', 10, 10), seg('width', 'out', 4, 8)] },
    { name: 'q0', shape: [8, 8], smallShape: [4, 4], layer: 0, group: 'attn', init: 'normal', sources: ['q0'], axes: [seg('q.0', 'out', 4, 8), seg('width', 'in', 4, 8)] },
  ],
  parameters: { source: 56, target: 144, operator: 82 },
};

describe('materializationElements', () => {
  it('counts what one materialization keeps through backprop, tensor by tensor', () => {
    // embed: no depth mix; columns 4 -> 8: width-matrix gradient 8*4, the result 2*80, less the
    // grown tensor and its gradient 2*80 -> 32.
    // q0: depth stack 1 x 16; mix and its gradient 2*16; rows: Kronecker product and its gradient
    // 2*8*4 = 64, half-grown [8,4] and its gradient 2*32 = 64; columns: width gradient 32, result
    // 2*64 = 128; less 2*64 -> 32 + 64 + 64 + 32 + 128 - 128 = 192.
    expect(materializationElements(handPlan)).toEqual({ stack: 16, other: 32 + 192 });
  });

  it('gives the same per-tensor counts inside a real plan', () => {
    const plan = planGrowth({ description, source: small, target: large, method: 'ligo', optionalPresent: new Set() });
    expect(plan.parameters.source).toBe(212); // embed 40 + layer (4+4 + 16+8+8+16 + 3*24) + norm 4 + lm_head 40
    expect(plan.parameters.target).toBe(1160); // embed 80 + 2 x (8+8 + 64+32+32+64 + 3*96) + norm 8 + lm_head 80
    // Stacks: each large layer stacks the one small layer's tensors, 128 floats.
    // Other: embed, lm_head and the final norm 32 each; per large layer: norms 40 each (2*4 + 32),
    // q and o 192, k and v 96 (2*8 + Kronecker 2*4*2 + 2*16 + 32 + 2*32 - 2*32), gate, up and down
    // 248 (2*24 + ffn 12*6 + width 32 + half-grown 2*48 + 2*96 - 2*96): 1400 per layer.
    expect(materializationElements(plan)).toEqual({ stack: 2 * 128, other: 3 * 32 + 2 * 1400 });
  });
});

describe('estimateLearningMemory', () => {
  it('adds source, operator, optimizer, grown model and activations', () => {
    const e = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    expect(e.sourceBytes).toBe(4 * 56);
    expect(e.operatorBytes).toBe(4 * 82);
    expect(e.optimizerBytes).toBe(4 * 82 * 4); // m, v, gradients, accumulated copy
    expect(e.grownBytes).toBe(4 * (2 * 144 + 16 + 2 * 224)); // model + gradient, stack once, other intermediates twice
    // per token: L=2 x (80*C=8 + 14*F=12 + 11*H=4*T=3) + 12*V=10 = 2 x 940 + 120 = 2000 floats; B*T = 6
    expect(e.activationBytes).toBe(4 * 6 * 2000);
    // One variable at a time: 16 copies of the largest operator matrix.
    expect(e.updateBytes).toBe(4 * (82 + 16 * Math.max(...[...operatorShapes(handPlan).values()].map(([r, c]) => r * c))));
    expect(e.totalBytes).toBe(224 + 328 + 1312 + 3008 + 48000);
  });

  it('keeps a third gradient buffer and the summed gradient of the grown model with gradient accumulation, and no more activations', () => {
    const one = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    const four = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 3, gradAccum: 4 });
    expect(four.optimizerBytes).toBe(4 * 82 * 5);
    expect(four.grownBytes - one.grownBytes).toBe(4 * 144);
    expect(four.activationBytes).toBe(one.activationBytes);
    expect(four.totalBytes - one.totalBytes).toBe(4 * 82 + 4 * 144);
  });

  it('with --recompute counts one layer of the grown model and its input per layer of activations', () => {
    const plain = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    const recompute = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 3, gradAccum: 1, recompute: true });
    // A second large layer like layer 0: the plain estimate grows by it, --recompute's does not.
    const twoLayers: GrowthPlan = { ...handPlan, tensors: [...handPlan.tensors, ...handPlan.tensors.filter((t) => t.layer === 0).map((t) => ({ ...t, name: `${t.name}-1`, layer: 1 }))] };
    const plainTwo = estimateLearningMemory(twoLayers, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    const recomputeTwo = estimateLearningMemory(twoLayers, { batchSize: 2, seqLen: 3, gradAccum: 1, recompute: true });
    expect(plainTwo.grownBytes).toBeGreaterThan(plain.grownBytes);
    expect(recomputeTwo.grownBytes).toBe(recompute.grownBytes);
    expect(recompute.grownBytes).toBe(plain.grownBytes);
    // per token: 2 layers x 4 x C=8 + one layer's 940 + 120 = 1124 floats instead of 2000
    expect(recompute.activationBytes).toBe(4 * 6 * 1124);
  });

  it('takes the optimizer update instead of the forward/backward when that is larger', () => {
    // One 50 x 20 width operator (its out and in matrices: 2000 parameters), nothing to materialize.
    const heavy: GrowthPlan = { ...handPlan, ...layoutOf([{ id: 'width', role: 'width', small: 20, large: 50 }], []), tensors: [], parameters: { source: 0, target: 0, operator: 2000 } };
    const e = estimateLearningMemory(heavy, { batchSize: 1, seqLen: 1, gradAccum: 1 });
    // activations 4 x (2 x (640 + 168 + 44) + 120) = 7296 bytes < update 4 x (2000 + 16 x 1000 (the largest matrix))
    expect(e.activationBytes).toBe(7296);
    expect(e.updateBytes).toBe(72000);
    expect(e.totalBytes).toBe(8000 + 32000 + 72000);
  });

  it('is linear in batch size and superlinear in sequence length (attention scores)', () => {
    const at = (batchSize: number, seqLen: number): number => estimateLearningMemory(handPlan, { batchSize, seqLen, gradAccum: 1 }).activationBytes;
    expect(at(4, 8)).toBe(4 * at(1, 8));
    expect(at(1, 16)).toBeGreaterThan(2 * at(1, 8));
  });
});

describe('learningMemoryLimit', () => {
  it('caps the wasm backend at its 4 GiB heap, other backends at available memory', () => {
    expect(learningMemoryLimit('wasm', 16 * 1024 ** 3)).toEqual({ bytes: WASM_HEAP_LIMIT_BYTES, reason: 'the wasm backend heap limit' });
    expect(learningMemoryLimit('wasm', 1024 ** 3)).toEqual({ bytes: 1024 ** 3, reason: 'available memory' });
    expect(learningMemoryLimit('tensorflow', 16 * 1024 ** 3).bytes).toBe(16 * 1024 ** 3);
  });

  it('on webgpu: no wasm heap limit; one tensor bounded by the adapter; a software adapter uses host memory', () => {
    const limits = { maxBufferSize: 2 ** 32 - 1, maxStorageBufferBindingSize: 2 ** 27 };
    const gpu = learningMemoryLimit(webGpuProfile({ software: false, limits }), 16 * 1024 ** 3);
    expect(gpu.bytes).toBe(Number.POSITIVE_INFINITY);
    expect(gpu.tensor?.bytes).toBe(2 ** 27);
    const software = learningMemoryLimit(webGpuProfile({ software: true, limits }), 16 * 1024 ** 3);
    expect(software).toMatchObject({ bytes: 16 * 1024 ** 3, tensor: { bytes: 2 ** 27 } });
    expect(learningMemoryLimit('webgpu', 16 * 1024 ** 3).bytes).toBe(16 * 1024 ** 3); // adapter unknown
  });

  it('the largest tensor is the logits at a large vocabulary, the attention scores at a long sequence', () => {
    const { hiddenSize: C, vocabSize: V, numHeads: H } = handPlan.target;
    const logits = estimateLearningMemory(handPlan, { batchSize: 2, seqLen: 4, gradAccum: 1 }).largestTensorBytes;
    expect(logits).toBeGreaterThanOrEqual(4 * 2 * 4 * V);
    const long = estimateLearningMemory(handPlan, { batchSize: 1, seqLen: 4096, gradAccum: 1 }).largestTensorBytes;
    expect(long).toBe(4 * Math.max(H * 4096 * 4096, 4096 * V, 4096 * C));
  });
});

describe('estimateLearningMemory on a backend with fused ops', () => {
  // GPT-2 2 x 32 -> 4 x 64 (FFN 4C): two LayerNorms and one gelu_new per layer.
  const gpt2 = resolveArchitecture({ model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 2, n_positions: 64, vocab_size: 50 });
  const target = resolveTarget(gpt2.dims, { hiddenSize: 64, layers: 4 }, gpt2.description);
  const plan = planGrowth({ description: gpt2.description, source: gpt2.dims, target, method: 'ligo', optionalPresent: new Set() });
  const shape = { batchSize: 2, seqLen: 8, gradAccum: 1 };

  it('lowers the activations on blas by what the fused GELU and LayerNorm do not keep', () => {
    const composed = estimateLearningMemory(plan, shape);
    const blas = estimateLearningMemory(plan, shape, 'blas');
    const { hiddenSize: C, intermediateSize: F, numLayers: L } = plan.target;
    // Per layer and token: 2 LayerNorms x (14 composed - 2 fused) x C, gelu_new (19 - 2) x F.
    const saved = 4 * shape.batchSize * shape.seqLen * L * (2 * 12 * C + 17 * F);
    expect(blas.activationBytes).toBe(composed.activationBytes - saved);
    expect(blas.totalBytes).toBe(composed.totalBytes - saved);
    expect(blas.grownBytes).toBe(composed.grownBytes);
  });

  it('leaves wasm, cpu, webgpu, and blas with LIGO_BLAS_FUSED=0, at the composed count', () => {
    const composed = estimateLearningMemory(plan, shape).totalBytes;
    for (const name of ['wasm', 'cpu', 'webgpu', 'tensorflow']) expect(estimateLearningMemory(plan, shape, name).totalBytes).toBe(composed);
    expect(estimateLearningMemory(plan, shape, backendProfile('blas', { LIGO_BLAS_FUSED: '0' })).totalBytes).toBe(composed);
  });

  it('saves nothing for a family whose ops are not fused (Llama: RMSNorm, SiLU)', () => {
    expect(estimateLearningMemory(handPlan, shape, 'blas').totalBytes).toBe(estimateLearningMemory(handPlan, shape).totalBytes);
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
  });
});

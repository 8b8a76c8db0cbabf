import { describe, expect, it } from 'vitest';
import { resolveArchitecture } from '../../src/arch/index.js';
import {
  estimateLearningMemory,
  formatBytes,
  learningMemoryLimit,
  materializationElements,
  WASM_HEAP_LIMIT_BYTES,
} from '../../src/growth/estimate.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';

/**
 * A tiny Llama, 1 layer x 4 wide (2 heads of 2, 1 KV head, FFN 6, vocab 10, untied head), grown
 * to 2 layers x 8 wide (4 heads, 2 KV heads, FFN 12). Every number below is worked out by hand.
 */
function tinyPlan(): GrowthPlan {
  const { description, dims } = resolveArchitecture({
    model_type: 'llama',
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    intermediate_size: 6,
    vocab_size: 10,
    max_position_embeddings: 16,
  });
  const target = resolveTarget(dims, { hiddenSize: 8, layers: 2 }, description);
  return planGrowth({ description, source: dims, target, method: 'ligo', optionalPresent: new Set() });
}

describe('estimateLearningMemory', () => {
  const plan = tinyPlan();

  it('counts parameters as the plan does', () => {
    // source: embed 10x4 + layer (norms 4+4, q 16, k 8, v 8, o 16, gate/up/down 24 each) + norm 4 + lm_head 40
    // target: embed 10x8 + 2 x (norms 8+8, q 64, k 32, v 32, o 64, gate/up/down 96 each) + norm 8 + lm_head 80
    // operator: width 2*8*4 + 2 layers x (q 2*4*2 + k 2*2*1 + v 2*2*1 + ffn 2*12*6) + depth 3 groups x 2x1
    expect(plan.parameters).toEqual({ source: 212, target: 1160, operator: 406 });
  });

  it('counts materialization intermediates tensor by tensor', () => {
    // embed, lm_head: width-matrix gradient 8*4 each; norm: the same 32.
    // Per large layer: norms 44 each (depth 3*4 + 32), q and o 208 (depth 48 + Kronecker 2*8*4 +
    // width 32 + half-grown 2*32), k and v 104, gate/up/down 272 (depth 72 + ffn 72 + width 32 +
    // half-grown 2*48): 1528 per layer, 3056 for two.
    expect(materializationElements(plan)).toBe(32 + 32 + 32 + 2 * 1528);
  });

  it('adds up source, operator, optimizer, grown model and activations', () => {
    const e = estimateLearningMemory(plan, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    expect(e.sourceBytes).toBe(4 * 212);
    expect(e.operatorBytes).toBe(4 * 406);
    expect(e.optimizerBytes).toBe(4 * 406 * 4); // m, v, gradients, accumulated copy
    expect(e.grownBytes).toBe(4 * (2 * 1160 + 2 * 3152));
    // per token: L=2 x (80*C=8 + 14*F=12 + 11*H=4*T=3) + 12*V=10 = 2 x 940 + 120 = 2000 floats; B*T = 6
    expect(e.activationBytes).toBe(4 * 6 * 2000);
    expect(e.updateBytes).toBe(4 * 16 * 406);
    expect(e.totalBytes).toBe(848 + 1624 + 6496 + 34496 + 48000);
  });

  it('keeps a third gradient buffer with gradient accumulation, and no more activations', () => {
    const one = estimateLearningMemory(plan, { batchSize: 2, seqLen: 3, gradAccum: 1 });
    const four = estimateLearningMemory(plan, { batchSize: 2, seqLen: 3, gradAccum: 4 });
    expect(four.optimizerBytes).toBe(4 * 406 * 5);
    expect(four.activationBytes).toBe(one.activationBytes);
    expect(four.totalBytes - one.totalBytes).toBe(4 * 406);
  });

  it('takes the optimizer update instead of the forward/backward when that is larger', () => {
    const heavy: GrowthPlan = { ...plan, tensors: [], parameters: { source: 0, target: 0, operator: 1000 } };
    const e = estimateLearningMemory(heavy, { batchSize: 1, seqLen: 1, gradAccum: 1 });
    // activations 4 x (2 x (640 + 168 + 44) + 120) = 7296 bytes < update 4 x 16 x 1000
    expect(e.activationBytes).toBe(7296);
    expect(e.totalBytes).toBe(4000 + 16000 + 64000);
  });

  it('grows with batch size and quadratically in sequence length through attention scores', () => {
    const base = estimateLearningMemory(plan, { batchSize: 1, seqLen: 8, gradAccum: 1 }).activationBytes;
    expect(estimateLearningMemory(plan, { batchSize: 4, seqLen: 8, gradAccum: 1 }).activationBytes).toBe(4 * base);
    const longer = estimateLearningMemory(plan, { batchSize: 1, seqLen: 16, gradAccum: 1 }).activationBytes;
    expect(longer).toBeGreaterThan(2 * base);
  });
});

describe('learningMemoryLimit', () => {
  it('caps the wasm backend at its 4 GiB heap, other backends at available memory', () => {
    expect(learningMemoryLimit('wasm', 16 * 1024 ** 3).bytes).toBe(WASM_HEAP_LIMIT_BYTES);
    expect(learningMemoryLimit('wasm', 1024 ** 3)).toEqual({ bytes: 1024 ** 3, reason: 'available memory' });
    expect(learningMemoryLimit('tensorflow', 16 * 1024 ** 3).bytes).toBe(16 * 1024 ** 3);
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

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { grow } from '../../src/pipeline/grow.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { causalLmLoss, forward, mlmLoss, type LayerRunner } from '../../src/models/index.js';
import { materializingLayers } from '../../src/train/recompute.js';
import { startTensorMeter } from '../../bench/lib/tensor_meter.js';
import { GOLDEN_DIR, weightsFrom } from '../models/helpers.js';

/** Operator gradients of one batch's loss, with or without recomputation, and the peak live buffer bytes above the end state while computing them. */
async function gradients(name: string, target: TargetOptions, batch: number, seqLen: number, recompute: boolean) {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent });
  let state = 7;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 1e-2, random });
  const ids = tf.tensor2d(Array.from({ length: batch * seqLen }, (_, i) => (i * 31 + 7) % 200), [batch, seqLen], 'int32');
  const small = weightsFrom(model.weights);
  // Recomputing layers materialize their own weights; only the rest is materialized up front.
  const runLayer: LayerRunner | undefined = recompute ? materializingLayers(plan, small, op) : undefined;
  const upFront = recompute ? plan.tensors.filter((t) => t.layer === undefined) : plan.tensors;
  const before = tf.memory().numTensors;
  const meter = startTensorMeter();
  meter.resetPeak();
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward(plan.target, weightsFrom(materializeAll(upFront, small, op)), { ids, runLayer });
    return plan.target.objective === 'masked' ? mlmLoss(logits, ids) : causalLmLoss(logits, ids);
  }, op.variables);
  const peakBytes = meter.peak() - meter.live();
  meter.stop();
  const result = {
    loss: (await value.data())[0],
    grads: new Map(await Promise.all(Object.entries(grads).map(async ([k, g]) => [k.replace(/^ligo\d+\//, ''), (await g.data()) as Float32Array] as const))),
  };
  tf.dispose([value, ...Object.values(grads)]);
  const leaked = tf.memory().numTensors - before;
  ids.dispose();
  op.dispose();
  model.dispose();
  return { ...result, peakBytes, leaked };
}

describe('--recompute: layers keep only their inputs and are recomputed, weights included, in backpropagation', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  const cases: [string, TargetOptions][] = [
    ['gpt2-prefixed', { hiddenSize: 96, layers: 4 }],
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }],
    ['bert-mlm', { hiddenSize: 96, layers: 3 }],
    // head_dim 16 -> 32 under partial rotary: gradients through the block-diagonal head_dim matrix.
    ['gpt-neox-pythia', { hiddenSize: 128, heads: 4, layers: 3 }],
    ['phi3-fused', { hiddenSize: 96, layers: 3 }],
  ];
  for (const [name, target] of cases) {
    it(`${name}: the same loss and operator gradients, no leaked tensors, less peak memory`, async () => {
      const plain = await gradients(name, target, 4, 64, false);
      const recomputed = await gradients(name, target, 4, 64, true);
      expect(recomputed.loss).toBe(plain.loss);
      expect(recomputed.leaked).toBe(0);
      expect(plain.leaked).toBe(0);
      for (const [param, g] of plain.grads) {
        const r = recomputed.grads.get(param);
        if (!r) throw new Error(`no recomputed gradient for ${param}`);
        let maxDiff = 0;
        let scale = 0;
        for (let i = 0; i < g.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(g[i] - r[i]));
          scale = Math.max(scale, Math.abs(g[i]));
        }
        expect(maxDiff, param).toBeLessThanOrEqual(1e-6 * Math.max(scale, 1));
      }
      expect(recomputed.peakBytes).toBeLessThan(plain.peakBytes);
    });
  }

  it('grow --recompute trains through the recomputing layers: the same first-step loss, a finite run', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'ligo-recompute-'));
    try {
      const data = path.join(work, 'tokens.bin');
      await writeFile(data, new Uint8Array(Uint16Array.from({ length: 4096 }, (_, i) => (i * 13) % 200).buffer));
      const options = { source: path.join(GOLDEN_DIR, 'llama-gqa-untied'), data, hiddenSize: 96, layers: 3, steps: 3, batchSize: 2, seqLen: 16, backend: 'wasm' };
      const plain = await grow({ ...options, out: path.join(work, 'plain') });
      const recomputed = await grow({ ...options, out: path.join(work, 'recomputed'), recompute: true });
      expect(recomputed.lossFirstStep).toBe(plain.lossFirstStep);
      expect(Number.isFinite(recomputed.lossLastStep)).toBe(true);
      expect(Math.abs((recomputed.lossLastStep ?? 0) - (plain.lossLastStep ?? 0))).toBeLessThan(1e-4);
      // With --grad-accum each micro-batch is its own pass; the step's loss is the same sum.
      const accumulated = await grow({ ...options, out: path.join(work, 'accumulated'), gradAccum: 2 });
      const both = await grow({ ...options, out: path.join(work, 'both'), gradAccum: 2, recompute: true });
      expect(Math.abs((both.lossFirstStep ?? 0) - (accumulated.lossFirstStep ?? 0))).toBeLessThan(1e-6);
      expect(Math.abs((both.lossLastStep ?? 0) - (accumulated.lossLastStep ?? 0))).toBeLessThan(1e-4);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

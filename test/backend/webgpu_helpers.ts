/**
 * Shared by test/backend/webgpu.test.ts and bench/device_check.ts (the same checks on a real GPU):
 * whether there is an adapter, and operator gradients of one batch on the active backend.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../../src/arch/load.js';
import { describeAdapter, probeWebGpu } from '../../src/backend/webgpu.js';
import { materializeAll } from '../../src/growth/materialize.js';
import { GrowthOperator } from '../../src/growth/operator.js';
import { planGrowth, type GrowthPlan } from '../../src/growth/plan.js';
import { resolveTarget, type TargetOptions } from '../../src/growth/target.js';
import { causalLmLoss, forward, mlmLoss } from '../../src/models/index.js';
import { learnOperator, type LearnOptions } from '../../src/train/learn.js';
import { materializingLayers } from '../../src/train/recompute.js';
import { GOLDEN_CASES, GOLDEN_DIR, loadGolden, maxAbsDiff, weightsFrom } from '../models/helpers.js';

export interface WebGpuAvailability {
  ok: boolean;
  /** The adapter ("llvmpipe: Mesa 25.0.7 ...") or why there is none, for the suite title. */
  reason: string;
}

export async function webGpuAvailability(): Promise<WebGpuAvailability> {
  try {
    const adapter = await probeWebGpu();
    return { ok: true, reason: `${adapter.software ? 'software' : 'hardware'} adapter ${describeAdapter(adapter.info)}` };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { ok: false, reason: `skipped: no WebGPU adapter (${message}); on Debian run scripts/setup-lavapipe.sh` };
  }
}

export const ids = (batch: number, seqLen: number, offset: number): number[][] =>
  Array.from({ length: batch }, (_, b) => Array.from({ length: seqLen }, (_, t) => (offset * 13 + b * 31 + t * 7 + 5) % 250));

export async function setup(name: string, target: TargetOptions) {
  const model = await loadModel(path.join(GOLDEN_DIR, name));
  const dims = resolveTarget(model.dims, target, model.description);
  const plan: GrowthPlan = planGrowth({ description: model.description, source: model.dims, target: dims, method: 'ligo', optionalPresent: model.match.optionalPresent });
  let state = 11;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  const op = GrowthOperator.initialize(plan, { depth: { pattern: 'stack', preserve: true }, noise: 1e-2, random });
  return { model, plan, op, dispose: () => (op.dispose(), model.dispose()) };
}

/** Loss and operator gradients of one batch on the active backend, as plain arrays. */
export async function operatorGradients(name: string, target: TargetOptions, recompute: boolean) {
  const { model, plan, op, dispose } = await setup(name, target);
  const batch = tf.tensor2d(ids(2, 8, 0), [2, 8], 'int32');
  const small = weightsFrom(model.weights);
  const runLayer = recompute ? materializingLayers(plan, small, op) : undefined;
  const upFront = recompute ? plan.tensors.filter((t) => t.layer === undefined) : plan.tensors;
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward(plan.target, weightsFrom(materializeAll(upFront, small, op)), { ids: batch, runLayer });
    return plan.target.objective === 'masked' ? mlmLoss(logits, batch) : causalLmLoss(logits, batch);
  }, op.variables);
  const out = {
    loss: (await value.data())[0],
    grads: new Map<string, Float32Array>(),
  };
  for (const [key, g] of Object.entries(grads)) out.grads.set(key.replace(/^ligo\d+\//, ''), (await g.data()) as Float32Array);
  tf.dispose([value, batch, ...Object.values(grads)]);
  dispose();
  return out;
}

/** Relative max difference: max |a - b| / max |b|. */
export function relativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}


/** Max |logit difference| against Hugging Face for every golden case on the active backend, and tensors left behind. */
export async function goldenDiffs(): Promise<{ name: string; diff: number; leaked: number }[]> {
  const out: { name: string; diff: number; leaked: number }[] = [];
  for (const name of GOLDEN_CASES) {
    const c = await loadGolden(name);
    try {
      const before = tf.memory().numTensors;
      const logits = tf.tidy(() => forward(c.dims, weightsFrom(c.weights), { ids: c.ids }));
      const diff = maxAbsDiff(await logits.data(), c.expected);
      logits.dispose();
      out.push({ name, diff, leaked: tf.memory().numTensors - before });
    } finally {
      c.dispose();
    }
  }
  return out;
}

/** A short learning run of gpt2-prefixed grown to 3 x 96 on the active backend: losses, and live tensors after each step. */
export async function learnSteps(options: LearnOptions): Promise<{ losses: number[]; counts: number[] }> {
  const { model, plan, op, dispose } = await setup('gpt2-prefixed', { hiddenSize: 96, layers: 3 });
  let call = 0;
  const counts: number[] = [];
  try {
    const result = await learnOperator({
      plan,
      operator: op,
      small: weightsFrom(model.weights),
      nextBatch: () => tf.tensor2d(ids(2, 16, call++), [2, 16], 'int32'),
      maskTokenId: 0,
      options,
      onStep: () => counts.push(tf.memory().numTensors),
    });
    return { losses: result.losses, counts };
  } finally {
    dispose();
  }
}

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/arch/load.js';
import { backendProfile } from '../../src/backend/profile.js';
import { planGrowth } from '../../src/growth/plan.js';
import { resolveTarget } from '../../src/growth/target.js';
import { checkLearningMemory, chooseRecompute, stepTime } from '../../src/pipeline/memory.js';
import { estimateLearningMemory } from '../../src/train/estimate.js';
import { learningStepFlops } from '../../src/train/step_cost.js';
import { GOLDEN_DIR } from '../models/helpers.js';

async function plan() {
  const model = await loadModel(path.join(GOLDEN_DIR, 'gpt2-prefixed'));
  const target = resolveTarget(model.dims, { hiddenSize: 96, layers: 4 }, model.description);
  const p = planGrowth({ description: model.description, source: model.dims, target, method: 'ligo', optionalPresent: model.match.optionalPresent, operator: { kind: 'lowrank', rank: 4 } });
  model.dispose();
  return p;
}

const shape = { batchSize: 4, seqLen: 32, gradAccum: 1 };
const blas = backendProfile('blas');

describe('the memory planner chooses recomputation by itself', () => {
  it('keeps layers where the plan fits, recomputes where only that fits, and says why', async () => {
    const p = await plan();
    const kept = estimateLearningMemory(p, { ...shape, recompute: false }, blas).totalBytes;
    const recomputed = estimateLearningMemory(p, { ...shape, recompute: true }, blas).totalBytes;
    expect(recomputed).toBeLessThan(kept);
    const roomy = chooseRecompute(p, shape, 'auto', blas, kept * 2);
    expect(roomy.recompute).toBe(false);
    expect(roomy.reason).toBeUndefined();
    const tight = chooseRecompute(p, shape, 'auto', blas, (kept + recomputed) / 2);
    expect(tight.recompute).toBe(true);
    expect(tight.estimate.totalBytes).toBe(recomputed);
    expect(tight.reason).toMatch(/without recomputation the learning phase needs about .* recomputing each layer/);
  });

  it('does as told when told: --recompute always, --no-recompute never', async () => {
    const p = await plan();
    expect(chooseRecompute(p, shape, true, blas, 1e15).recompute).toBe(true);
    expect(chooseRecompute(p, shape, false, blas, 1).recompute).toBe(false);
  });

  it('checkLearningMemory says the estimate and the time per step in one line, and returns its choice', async () => {
    const p = await plan();
    const lines: string[] = [];
    const choice = checkLearningMemory(p, { ...shape, recompute: 'auto' }, blas, (e) => void ('message' in e && lines.push(e.message)), 50e9);
    expect(choice.recompute).toBe(false);
    expect(lines.at(-1)).toMatch(/^learning phase needs about [\d.]+ [KMG]i?B \(source .*\), about [\d.]+ s per step \(\d+ GFLOP at 50 GFLOP\/s of matrix products measured\)$/);
  });

  it('a step recomputing its layers costs one more forward and its weights built once more', async () => {
    const p = await plan();
    const plain = learningStepFlops(p, { ...shape, recompute: false });
    const recompute = learningStepFlops(p, { ...shape, recompute: true });
    expect(recompute / plain).toBeGreaterThan(1.3);
    expect(recompute / plain).toBeLessThan(1.34);
    expect(stepTime(p, { ...shape, recompute: false }, 1e9)).toMatch(/^about [\d.]+ s per step/);
  });
});

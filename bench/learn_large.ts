/**
 * A GPT-2-small-sized learning phase on CPU (`npm run bench:learn-large`): GPT-2 12 x 768
 * (12 heads, vocab 50,257; random weights) grown to 24 x 1024 (16 heads: GPT-2 medium's shape),
 * T = 512, batch 1, on the blas backend (no 4 GiB heap ceiling), with --recompute unless
 * --no-recompute is given.
 *
 * Prints the memory estimate of src/train/estimate.ts before anything is allocated, runs --steps
 * optimizer steps (the first also warms up), and measures the peak of live tensor bytes
 * (bench/lib/tensor_meter.ts, what the estimate models) and the process's peak RSS (which also
 * holds Node itself, buffers freed but not yet garbage-collected, and the BLAS library's threads).
 *
 * Prints a table and writes bench/results/learn_large.json.
 */
import { formatBytes } from '../src/util/bytes.js';
import { initBackend } from '../src/backend/index.js';
import { estimateLearningMemory, learningMemoryLimit } from '../src/train/estimate.js';
import { learnOperator } from '../src/train/learn.js';
import { gpt2Growth, gpt2GrowthPlan, type Gpt2GrowthShape } from './lib/gpt2_growth.js';
import { argValue, fmt, hasFlag, machine, printTable, writeResult } from './lib/report.js';
import { startTensorMeter } from './lib/tensor_meter.js';

const SHAPE: Gpt2GrowthShape = {
  source: { layers: 12, width: 768, heads: 12 },
  target: { layers: 24, width: 1024 },
  vocab: Number(argValue('--vocab', '50257')),
  seqLen: Number(argValue('--seq-len', '512')),
};
const BATCH = Number(argValue('--batch-size', '1'));
const STEPS = Number(argValue('--steps', '3'));
const RECOMPUTE = !hasFlag('--no-recompute');
const BACKEND = argValue('--backend', 'blas');

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const rss = (): number => process.memoryUsage().rss;

async function bench(): Promise<void> {
  const backend = await initBackend({ backend: BACKEND, log });
  const plan = gpt2GrowthPlan(SHAPE);
  const estimate = estimateLearningMemory(plan, { batchSize: BATCH, seqLen: SHAPE.seqLen, gradAccum: 1, recompute: RECOMPUTE }, backend.name);
  const limit = learningMemoryLimit(backend.name);
  console.log(
    `GPT-2 ${SHAPE.source.layers}x${SHAPE.source.width} -> ${plan.target.numLayers}x${plan.target.hiddenSize} (${fmt(plan.parameters.source / 1e6, 1)}M -> ${fmt(plan.parameters.target / 1e6, 1)}M parameters, ` +
      `operator ${fmt(plan.parameters.operator / 1e6, 1)}M), vocab ${SHAPE.vocab}, B=${BATCH} T=${SHAPE.seqLen}${RECOMPUTE ? ', --recompute' : ''}, backend ${backend.name}`,
  );
  console.log(`estimate before the run: ${formatBytes(estimate.totalBytes)} (limit ${formatBytes(limit.bytes)}: ${limit.reason})`);
  if (estimate.totalBytes > limit.bytes) throw new Error('the estimate exceeds the limit; not running');

  const rssStart = rss();
  const meter = startTensorMeter();
  const growth = gpt2Growth(SHAPE);
  const stepSeconds: number[] = [];
  let last = performance.now();
  const result = await learnOperator({
    plan: growth.plan,
    operator: growth.operator,
    small: growth.small,
    nextBatch: () => growth.batch(BATCH),
    maskTokenId: 0,
    options: { steps: STEPS, lr: 1e-4, warmup: 1, weightDecay: 0, clip: 1, gradAccum: 1, recompute: RECOMPUTE, distill: 0, seed: 0 },
    onStep: (e) => {
      const now = performance.now();
      stepSeconds.push((now - last) / 1000);
      last = now;
      log(`step ${e.step}/${e.steps}: loss ${fmt(e.loss, 3)}, ${fmt(stepSeconds[stepSeconds.length - 1], 1)} s, RSS ${formatBytes(rss())}, live tensors ${formatBytes(meter.live())}`);
    },
  });
  const peakTensorBytes = meter.peak();
  meter.stop();
  growth.dispose();
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  const tokens = BATCH * SHAPE.seqLen;
  const report = {
    benchmark: 'learn_large',
    date: new Date().toISOString(),
    ...machine(),
    backend: backend.name,
    shape: SHAPE,
    batchSize: BATCH,
    recompute: RECOMPUTE,
    parameters: plan.parameters,
    estimate,
    measured: { peakTensorBytes, maxRssBytes, rssBeforeBytes: rssStart },
    ratio: { estimateOverPeakTensorBytes: estimate.totalBytes / peakTensorBytes, estimateOverMaxRss: estimate.totalBytes / maxRssBytes },
    losses: result.losses,
    stepSeconds,
    tokensPerSecondAfterWarmup: stepSeconds.length > 1 ? tokens / (stepSeconds.slice(1).reduce((a, b) => a + b, 0) / (stepSeconds.length - 1)) : tokens / stepSeconds[0],
  };
  printTable([
    ['memory', 'bytes', 'estimate / this'],
    ['estimate (printed before the run)', formatBytes(estimate.totalBytes), ''],
    ['peak of live tensor bytes', formatBytes(peakTensorBytes), fmt(report.ratio.estimateOverPeakTensorBytes, 2)],
    ['peak RSS of the process', formatBytes(maxRssBytes), fmt(report.ratio.estimateOverMaxRss, 2)],
  ]);
  console.log(`steps: ${stepSeconds.map((s) => `${fmt(s, 1)} s`).join(', ')} (first includes warm-up); ${fmt(report.tokensPerSecondAfterWarmup, 1)} tokens/s after it; losses ${result.losses.map((l) => fmt(l, 3)).join(', ')}`);
  console.log(`wrote ${await writeResult('learn_large', report)}`);
}

await bench();

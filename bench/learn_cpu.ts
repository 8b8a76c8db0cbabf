/**
 * The learning phase on CPU, today's path against the blas backend, in one run
 * (`npm run bench:learn-cpu`).
 *
 * The growth is bench/learn.ts's (GPT-2 4 x 128 -> 8 x 256, vocab 256, T = 128, random weights
 * and tokens). Configurations, each in a fresh child process, run in turn (A B C A B C ...) so
 * that a machine whose speed drifts slows them alike:
 *   - wasm, --batch-size 4 --grad-accum 4: today's path (16 x 128 tokens per step does not fit the
 *     4 GiB wasm heap as one batch);
 *   - wasm, --batch-size 16: checked against the memory estimate only (refused, as grow refuses it);
 *   - blas, --batch-size 4 --grad-accum 4: the same work as today's path;
 *   - blas, --batch-size 16, fused kernels off (LIGO_BLAS_FUSED=0): the blas path before fused GELU;
 *   - blas, --batch-size 16: one batch of 16 x 128.
 * Each child runs one warm-up step, then --steps optimizer steps through learnOperator, and reports
 * tokens/s, the peak of live tensor bytes (bench/lib/tensor_meter.ts) and the process's peak RSS.
 *
 * Prints a table and writes bench/results/learn_cpu.json.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend/index.js';
import { estimateLearningMemory, formatBytes, learningMemoryLimit } from '../src/train/estimate.js';
import { learnOperator, type LearnOptions } from '../src/train/learn.js';
import { gpt2Growth, gpt2GrowthPlan, type Gpt2GrowthShape } from './lib/gpt2_growth.js';
import { argValue, fmt, machine, median, printTable, writeResult } from './lib/report.js';
import { startTensorMeter } from './lib/tensor_meter.js';

const SHAPE: Gpt2GrowthShape = { source: { layers: 4, width: 128, heads: 4 }, target: { layers: 8, width: 256 }, vocab: 256, seqLen: 128 };
const STEPS = Number(argValue('--steps', '3'));
const ROUNDS = Number(argValue('--rounds', '2'));

interface Config {
  label: string;
  backend: string;
  batchSize: number;
  gradAccum: number;
  /** Extra environment of the child (LIGO_BLAS_FUSED=0: the ops models compose, without fused kernels). */
  env?: Record<string, string>;
}

const CONFIGS: Config[] = [
  { label: 'today: wasm, batch 4 x grad-accum 4', backend: 'wasm', batchSize: 4, gradAccum: 4 },
  { label: 'wasm, batch 16', backend: 'wasm', batchSize: 16, gradAccum: 1 },
  { label: 'blas, batch 4 x grad-accum 4', backend: 'blas', batchSize: 4, gradAccum: 4 },
  { label: 'blas, batch 16, unfused (before)', backend: 'blas', batchSize: 16, gradAccum: 1, env: { LIGO_BLAS_FUSED: '0' } },
  { label: 'blas, batch 16', backend: 'blas', batchSize: 16, gradAccum: 1 },
];

interface ChildResult {
  backend: string;
  refused?: string;
  estimateBytes: number;
  tokensPerSecond?: number;
  peakTensorBytes?: number;
  maxRssBytes?: number;
}

const learnOptions = (c: Config, steps: number): LearnOptions => ({ steps, lr: 1e-3, warmup: 2, weightDecay: 0, clip: 1, gradAccum: c.gradAccum, recompute: false, distill: 0, seed: 0 });

async function child(c: Config): Promise<ChildResult> {
  const backend = await initBackend({ backend: c.backend });
  const estimate = estimateLearningMemory(gpt2GrowthPlan(SHAPE), { batchSize: c.batchSize, seqLen: SHAPE.seqLen, gradAccum: c.gradAccum }, backend.name);
  const limit = learningMemoryLimit(backend.name);
  if (estimate.totalBytes > limit.bytes) {
    return { backend: backend.name, estimateBytes: estimate.totalBytes, refused: `needs about ${formatBytes(estimate.totalBytes)}, more than ${formatBytes(limit.bytes)} (${limit.reason})` };
  }
  const meter = startTensorMeter();
  const growth = gpt2Growth(SHAPE);
  const args = { plan: growth.plan, operator: growth.operator, small: growth.small, nextBatch: () => growth.batch(c.batchSize), maskTokenId: 0 };
  await learnOperator({ ...args, options: learnOptions(c, 1) }); // warm-up: kernels, buffers
  const before = meter.live();
  meter.resetPeak();
  const result = await learnOperator({ ...args, options: learnOptions(c, STEPS) });
  const peakTensorBytes = meter.peak() - before + 4 * (growth.plan.parameters.source + growth.plan.parameters.operator);
  growth.dispose();
  meter.stop();
  return { backend: backend.name, estimateBytes: estimate.totalBytes, tokensPerSecond: result.tokensPerSecond, peakTensorBytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

function runChild(c: Config): ChildResult {
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(CONFIGS.indexOf(c)), '--steps', String(STEPS)], {
    encoding: 'utf8',
    env: { ...process.env, LIGO_BACKEND: '', ...c.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{')) throw new Error(`${c.label} failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(last) as ChildResult;
}

async function parent(): Promise<void> {
  const runs = new Map<Config, ChildResult[]>(CONFIGS.map((c) => [c, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of CONFIGS) {
      // A refusal does not depend on the machine's speed: once is enough.
      if (round > 0 && runs.get(c)?.[0]?.refused !== undefined) continue;
      process.stderr.write(`round ${round + 1}/${ROUNDS}: ${c.label}...\n`);
      const r = runChild(c);
      runs.get(c)?.push(r);
      process.stderr.write(`  ${r.refused ?? `${fmt(r.tokensPerSecond ?? 0)} tokens/s`}\n`);
    }
  }
  const baseline = median((runs.get(CONFIGS[0]) ?? []).map((r) => r.tokensPerSecond ?? NaN));
  // Ratios to today's path pair each run with the baseline run of the same round.
  const paired = (c: Config): number[] => (runs.get(c) ?? []).map((r, i) => (r.tokensPerSecond ?? NaN) / ((runs.get(CONFIGS[0]) ?? [])[i]?.tokensPerSecond ?? NaN));
  const rows = CONFIGS.map((c) => {
    const rs = runs.get(c) ?? [];
    const tps = rs.map((r) => r.tokensPerSecond ?? NaN);
    return {
      ...c,
      refused: rs[0]?.refused,
      tokensPerSecondRuns: tps,
      tokensPerSecond: median(tps),
      speedupVsToday: median(tps) / baseline,
      pairedSpeedups: paired(c),
      estimateBytes: rs[0]?.estimateBytes,
      peakTensorBytes: median(rs.map((r) => r.peakTensorBytes ?? NaN)),
      maxRssBytes: median(rs.map((r) => r.maxRssBytes ?? NaN)),
    };
  });
  console.log(`learning phase on CPU: GPT-2 4x128 -> 8x256 (vocab ${SHAPE.vocab}, T=${SHAPE.seqLen}, 2048 tokens per optimizer step), median of ${ROUNDS} runs of ${STEPS} steps, configurations run in turn`);
  printTable([
    ['configuration', 'tokens/s', 'x today', 'paired x today', 'estimate', 'peak tensors', 'peak RSS'],
    ...rows.map((r) =>
      r.refused !== undefined
        ? [r.label, 'refused', '', '', formatBytes(r.estimateBytes ?? 0), '', '']
        : [
            r.label,
            fmt(r.tokensPerSecond),
            fmt(r.speedupVsToday, 2),
            r.pairedSpeedups.map((x) => fmt(x, 2)).join(' / '),
            formatBytes(r.estimateBytes ?? 0),
            formatBytes(r.peakTensorBytes),
            formatBytes(r.maxRssBytes),
          ],
    ),
  ]);
  for (const r of rows) if (r.refused !== undefined) console.log(`${r.label}: refused before running, as grow refuses it: ${r.refused}`);
  const written = await writeResult('learn_cpu', { benchmark: 'learn_cpu', date: new Date().toISOString(), ...machine(), shape: SHAPE, steps: STEPS, rounds: ROUNDS, configurations: rows });
  console.log(`wrote ${written}`);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) {
  const c = CONFIGS[Number(process.argv[childIndex + 1])];
  if (c === undefined) throw new Error('--child: no such configuration');
  console.log(JSON.stringify(await child(c)));
} else {
  await parent();
}

/**
 * LiGO learning-phase benchmark (`npm run bench:learn`).
 *
 * A GPT-2-shaped source of 4 layers x 128 (4 heads, FFN 512; random weights) grows to 8 layers x
 * 256 (8 heads, FFN 1024) with the ligo method. Vocabulary 256 (byte-level, like the bundled
 * fixture); --vocab 50257 runs GPT-2's real vocabulary, where the LM head dominates. Batches are
 * random token ids (data loading is not what this measures), B x T = --batch-size x --seq-len
 * (default 4 x 128, the CLI defaults).
 *
 * Reports, all in one run on the same backend (wasm unless LIGO_BACKEND says otherwise):
 *   - the backend's matMul peak: tf.matMul of 512^2, 1024^2 and 2048^2 square matrices (GFLOP/s);
 *   - learnOperator end to end: tokens/s and achieved GFLOP/s (median of repeats);
 *   - one step taken apart, each part timed alone behind a dataSync barrier: materialize (forward),
 *     the large model's forward, its forward+backward (gradients to the grown weights), the full
 *     gradient step (materialize + model + backward into the operator) and the optimizer update;
 *     the operator's backward is what the full step takes beyond the others;
 *   - time per tfjs kernel over one full step;
 *   - tf.memory().numTensors around every part and across steps (leaks);
 *   - the memory estimate of src/growth/estimate.ts next to the measured peak of live tensor bytes.
 *
 * FLOPs counted (bench/lib/flops.ts): forward = 2 x (per-layer matrix weights + V x C head) per
 * token + 4 x L x T x H x hd per token for attention's two T x T products; training = 3 x forward
 * (backward is twice the forward); materialization = its dense matMuls (depth mix and width
 * products) once per step forward, x3 with its backward. GFLOP/s = counted FLOPs / wall time.
 *
 * Prints tables and writes bench/results/learn.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.js';
import { estimateLearningMemory, formatBytes } from '../src/train/estimate.js';
import { materializeAll } from '../src/growth/materialize.js';
import { causalLmLoss, forward } from '../src/models/index.js';
import { AdamW, globalNormClip } from '../src/train/adamw.js';
import { learnOperator, type LearnOptions } from '../src/train/learn.js';
import { forwardFlopsPerToken, materializeFlops } from './lib/flops.js';
import { startKernelTimer } from './lib/kernel_timer.js';
import { argValue, fmt, hasFlag, machine, MB, median, printTable, writeResult } from './lib/report.js';
import { startTensorMeter } from './lib/tensor_meter.js';
import { gpt2Growth, type Gpt2GrowthShape } from './lib/gpt2_growth.js';

const VOCAB = Number(argValue('--vocab', '256'));
const BATCH = Number(argValue('--batch-size', '4'));
const SEQ = Number(argValue('--seq-len', '128'));
/** learnOperator calls timed end to end, and optimizer steps in each. */
const REPEATS = Number(argValue('--repeats', '3'));
const STEPS = Number(argValue('--steps', '8'));
/** --recompute: layers recomputed in backpropagation (the grow flag of the same name). */
const RECOMPUTE = hasFlag('--recompute');
/** Repeats of each part of the step breakdown. */
const PART_REPEATS = 5;
const MATMUL_SIZES = [512, 1024, 2048] as const;
const MATMUL_REPEATS = 5;

const SHAPE: Gpt2GrowthShape = { source: { layers: 4, width: 128, heads: 4 }, target: { layers: 8, width: 256 }, vocab: VOCAB, seqLen: SEQ };
const LEARN: LearnOptions = { steps: STEPS, lr: 1e-3, warmup: 2, weightDecay: 0, clip: 1, gradAccum: 1, recompute: RECOMPUTE, distill: 0, seed: 0 };

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const now = (): number => performance.now();

function matmulPeak(): { size: number; gflops: number; ms: number }[] {
  return MATMUL_SIZES.map((n) => {
    const a = tf.randomNormal([n, n]) as tf.Tensor2D;
    const b = tf.randomNormal([n, n]) as tf.Tensor2D;
    tf.matMul(a, b).dispose(); // warm-up
    const times: number[] = [];
    for (let i = 0; i < MATMUL_REPEATS; i++) {
      const start = now();
      const c = tf.matMul(a, b);
      c.dataSync();
      times.push(now() - start);
      c.dispose();
    }
    tf.dispose([a, b]);
    const ms = median(times);
    return { size: n, ms, gflops: (2 * n ** 3) / (ms / 1000) / 1e9 };
  });
}

const getter =
  (m: ReadonlyMap<string, tf.Tensor>) =>
  (name: string): tf.Tensor => {
    const t = m.get(name);
    if (!t) throw new Error(`no tensor "${name}"`);
    return t;
  };

async function bench(): Promise<void> {
  // wasm unless LIGO_BACKEND says otherwise (the README's numbers); npm run bench:learn-cpu compares the CPU backends.
  const backend = await initBackend({ backend: process.env.LIGO_BACKEND || 'wasm', log });
  // Started before any tensor exists, so it sees every buffer.
  const meter = startTensorMeter();
  log('matMul peak...');
  const peak = matmulPeak();
  const peakGflops = Math.max(...peak.map((p) => p.gflops));

  const growth = gpt2Growth(SHAPE);
  const { plan, small, operator } = growth;
  const batch = (): tf.Tensor2D => growth.batch(BATCH);

  const tokensPerStep = BATCH * SEQ;
  const modelFlopsPerStep = 3 * forwardFlopsPerToken(plan, SEQ) * tokensPerStep;
  const materializeFlopsForward = materializeFlops(plan);
  const flopsPerStep = modelFlopsPerStep + 3 * materializeFlopsForward;

  // 1. End to end, as grow() runs it. The first call also warms up the kernels.
  log(`learnOperator: ${REPEATS + 1} calls of ${STEPS} steps at B=${BATCH}, T=${SEQ}...`);
  const runs: { tokensPerSecond: number; seconds: number; tensorsBefore: number; tensorsAfter: number; tensorsPerStep: number[] }[] = [];
  // Peak live tensor bytes of one learnOperator call above what was live when it started, plus the
  // source and operator (live before, and part of the estimate); the largest over the calls.
  let measuredPeak = 0;
  const bytesBefore: number[] = [];
  for (let r = 0; r <= REPEATS; r++) {
    const tensorsBefore = tf.memory().numTensors;
    bytesBefore.push(meter.live());
    meter.resetPeak();
    const perStep: number[] = [];
    const result = await learnOperator({ plan, operator, small, nextBatch: batch, maskTokenId: 0, options: LEARN, onStep: () => perStep.push(tf.memory().numTensors) });
    measuredPeak = Math.max(measuredPeak, meter.peak() - bytesBefore[r] + FLOAT_BYTES * (plan.parameters.source + plan.parameters.operator));
    if (r > 0) runs.push({ tokensPerSecond: result.tokensPerSecond, seconds: result.seconds, tensorsBefore, tensorsAfter: tf.memory().numTensors, tensorsPerStep: perStep });
  }
  bytesBefore.push(meter.live());
  const tokensPerSecond = median(runs.map((r) => r.tokensPerSecond));
  const stepSeconds = tokensPerStep / tokensPerSecond;
  const estimate = estimateLearningMemory(plan, { batchSize: BATCH, seqLen: SEQ, gradAccum: LEARN.gradAccum, recompute: RECOMPUTE });

  // 2. One step taken apart.
  log('step breakdown...');
  const ids = batch();
  const parts: Record<string, number[]> = { materialize: [], forward: [], modelForwardBackward: [], fullGradient: [], optimizer: [] };
  const tensors: Record<string, { before: number; after: number }> = {};
  const track = (name: string, f: () => void): void => {
    const before = tf.memory().numTensors;
    const start = now();
    f();
    parts[name].push((now() - start) / 1000);
    tensors[name] = { before, after: tf.memory().numTensors };
  };
  const optimizer = new AdamW(operator.variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  for (let i = 0; i < PART_REPEATS; i++) {
    // materializeTensor tidies each tensor itself; the caller owns (and disposes) the results.
    track('materialize', () => {
      const large = materializeAll(plan.tensors, small, operator);
      large.values().next().value?.dataSync();
      tf.dispose([...large.values()]);
    });
    const grown = materializeAll(plan.tensors, small, operator);
    track('forward', () => tf.tidy(() => causalLmLoss(forward(plan.target, getter(grown), { ids }), ids).dataSync()));
    const asVariables = new Map([...grown].map(([name, t]) => [name, tf.variable(t, true, `bench/${i}/${name}`)]));
    track('modelForwardBackward', () => {
      const { value, grads } = tf.variableGrads(() => causalLmLoss(forward(plan.target, getter(asVariables), { ids }), ids), [...asVariables.values()]);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([...asVariables.values(), ...grown.values()]);
    let grads: Record<string, tf.Tensor> = {};
    track('fullGradient', () => {
      const result = tf.variableGrads(() => {
        const large = materializeAll(plan.tensors, small, operator);
        return causalLmLoss(forward(plan.target, getter(large), { ids }), ids);
      }, operator.variables);
      result.value.dataSync();
      result.value.dispose();
      grads = result.grads;
    });
    track('optimizer', () => {
      const norm = tf.tidy(() => {
        const { norm: n, scale } = globalNormClip(grads, LEARN.clip);
        optimizer.step(grads, LEARN.lr, scale);
        return n;
      });
      norm.dataSync();
      norm.dispose();
    });
    tf.dispose(Object.values(grads));
  }
  optimizer.dispose();

  // 3. Kernels of one full step (gradient + update), after the parts above warmed everything up.
  const timer = startKernelTimer(tf.getBackend());
  const kernelStart = now();
  await learnOperator({ plan, operator, small, nextBatch: batch, maskTokenId: 0, options: { ...LEARN, steps: 1 } });
  const kernelStepSeconds = (now() - kernelStart) / 1000;
  const kernels = [...timer.totals()].map(([name, t]) => ({ name, ms: t.ms, calls: t.calls })).sort((a, b) => b.ms - a.ms);
  timer.stop();
  ids.dispose();
  growth.dispose();

  const med = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, median(v)]));
  const operatorBackward = med.fullGradient - med.materialize - med.modelForwardBackward;
  const kernelMs = kernels.reduce((s, k) => s + k.ms, 0);
  const report = {
    benchmark: 'learn',
    recompute: RECOMPUTE,
    date: new Date().toISOString(),
    ...machine(),
    backend: backend.name,
    source: { family: 'gpt2', layers: 4, width: 128, heads: 4, vocab: VOCAB, parameters: plan.parameters.source },
    target: { layers: plan.target.numLayers, width: plan.target.hiddenSize, heads: plan.target.numHeads, ffn: plan.target.intermediateSize, vocab: VOCAB, parameters: plan.parameters.target },
    operatorParameters: plan.parameters.operator,
    batchSize: BATCH,
    seqLen: SEQ,
    matmulPeak: peak,
    learn: {
      repeats: REPEATS,
      stepsPerRepeat: STEPS,
      tokensPerSecond,
      tokensPerSecondRuns: runs.map((r) => r.tokensPerSecond),
      stepSeconds,
      flopsPerStep: { model: modelFlopsPerStep, materialize: 3 * materializeFlopsForward, total: flopsPerStep },
      gflopsPerSecond: flopsPerStep / stepSeconds / 1e9,
      fractionOfMatmulPeak: flopsPerStep / stepSeconds / 1e9 / peakGflops,
      numTensors: runs.map((r) => ({ before: r.tensorsBefore, after: r.tensorsAfter, perStep: r.tensorsPerStep })),
      /** Live tensor bytes before each learnOperator call and after the last: growth is a leak. */
      liveBytesBetweenCalls: bytesBefore,
    },
    breakdownSeconds: { ...med, operatorBackward },
    breakdownRuns: parts,
    breakdownNumTensors: tensors,
    kernels: { stepSeconds: kernelStepSeconds, kernelSeconds: kernelMs / 1000, byKernel: kernels },
    memory: {
      estimate,
      measuredPeakBytes: measuredPeak,
      wasmHeapBytes: meter.heapBytes(),
      ratio: estimate.totalBytes / measuredPeak,
    },
  };
  meter.stop();
  const written = await writeResult(RECOMPUTE ? 'learn_recompute' : 'learn', report);

  const gf = (flops: number, s: number): string => fmt(flops / s / 1e9, 1);
  console.log(
    `learn on ${backend.name}: GPT-2 ${4}x${128} -> ${plan.target.numLayers}x${plan.target.hiddenSize} (${fmt(plan.parameters.target / 1e6, 2)}M parameters, ` +
      `operator ${fmt(plan.parameters.operator / 1e6, 2)}M), vocab ${VOCAB}, B=${BATCH} T=${SEQ}`,
  );
  printTable([
    ['matMul n x n', ...peak.map((p) => String(p.size))],
    ['ms (median of 5)', ...peak.map((p) => fmt(p.ms, 1))],
    ['GFLOP/s', ...peak.map((p) => fmt(p.gflops, 1))],
  ]);
  printTable([
    ['learnOperator', 'tokens/s', 's/step', 'GFLOP/step', 'GFLOP/s', '% of matMul peak'],
    [
      `median of ${REPEATS} x ${STEPS} steps`,
      fmt(tokensPerSecond),
      fmt(stepSeconds, 3),
      fmt(flopsPerStep / 1e9, 1),
      fmt(flopsPerStep / stepSeconds / 1e9, 1),
      fmt((100 * flopsPerStep) / stepSeconds / 1e9 / peakGflops, 1),
    ],
  ]);
  console.log(
    `numTensors around each learnOperator call: ${runs.map((r) => `${r.tensorsBefore} -> ${r.tensorsAfter}`).join(', ')}; ` +
      `step to step within each call: ${runs.map((r) => (new Set(r.tensorsPerStep).size === 1 ? `constant (${r.tensorsPerStep[0]})` : r.tensorsPerStep.join('/'))).join(', ')}`,
  );
  console.log(`live tensor MB between learnOperator calls: ${bytesBefore.map((b) => fmt(b / MB, 1)).join(' -> ')}`);
  console.log(`one step taken apart (median of ${PART_REPEATS}, each behind a dataSync barrier):`);
  const row = (name: string, s: number, flops: number | undefined, t: { before: number; after: number } | undefined): string[] => [
    name,
    fmt(s, 3),
    `${fmt((100 * s) / med.fullGradient + (name === 'optimizer update' ? 0 : 0), 0)}%`,
    flops === undefined ? '' : gf(flops, s),
    t ? `${t.before} -> ${t.after}` : '',
  ];
  printTable([
    ['part', 'seconds', '% of gradient', 'GFLOP/s', 'numTensors'],
    row('materialize (forward)', med.materialize, materializeFlopsForward, tensors.materialize),
    row('model forward', med.forward, modelFlopsPerStep / 3, tensors.forward),
    row('model forward+backward', med.modelForwardBackward, modelFlopsPerStep, tensors.modelForwardBackward),
    row('operator backward (rest)', operatorBackward, 2 * materializeFlopsForward, undefined),
    row('full gradient step', med.fullGradient, flopsPerStep, tensors.fullGradient),
    row('optimizer update', med.optimizer, undefined, tensors.optimizer),
  ]);
  console.log(`kernels over one learnOperator step (${fmt(kernelStepSeconds, 2)} s; kernels ${fmt(kernelMs / 1000, 2)} s, tfjs/JS outside kernels ${fmt(kernelStepSeconds - kernelMs / 1000, 2)} s):`);
  printTable([['kernel', 'calls', 'seconds', '%'], ...kernels.slice(0, 10).map((k) => [k.name, String(k.calls), fmt(k.ms / 1000, 3), fmt((100 * k.ms) / kernelMs, 1)])]);
  console.log(
    `memory: estimate ${formatBytes(estimate.totalBytes)} (source ${formatBytes(estimate.sourceBytes)}, operator ${formatBytes(estimate.operatorBytes)}, ` +
      `optimizer ${formatBytes(estimate.optimizerBytes)}, grown ${formatBytes(estimate.grownBytes)}, activations ${formatBytes(estimate.activationBytes)}); ` +
      `measured peak of live tensor bytes ${formatBytes(measuredPeak)} (estimate / measured ${fmt(estimate.totalBytes / measuredPeak, 2)}); wasm heap ${fmt(meter.heapBytes() / MB)} MB`,
  );
  console.log(`wrote ${written}`);
}

const FLOAT_BYTES = 4;

await bench();

/**
 * LiGO learning-phase benchmark (`npm run bench:learn`).
 *
 * A GPT-2-shaped source of 4 layers x 128 (4 heads, FFN 512; random weights) grows to 8 layers x
 * 256 (8 heads, FFN 1024) with the ligo method. Vocabulary 256 (byte-level, like the bundled
 * fixture); --vocab 50257 runs GPT-2's real vocabulary, where the LM head dominates. Batches are
 * random token ids (data loading is not what this measures), B x T = --batch-size x --seq-len
 * (default 4 x 128, the CLI defaults). --source LxC[xH] and --target LxC change the sizes
 * (GPT-2 small to medium: --source 12x768x12 --target 24x1024 --vocab 50257 --seq-len 512), and
 * --parts N the repeats of the step breakdown (0 skips it and the kernel table), --kernel-shapes
 * the kernel table per input shapes, --kernel-rows N its length.
 * --matmul-sizes and --result NAME (bench/results/NAME.json) keep device runs apart from these.
 * --peak-gflops G adds the share of a device's float32 peak (e.g. 67000 for an H200's non-tensor-core
 * FP32) to the end-to-end line. On a GPU (bench/device.sh): --fit-batch lowers --batch-size to the
 * largest whose tensors fit the adapter's buffer limit, --warmup-steps N shortens the untimed first
 * call, --log-steps prints each step's seconds as it ends.
 *
 * Reports, all in one run on the same backend (wasm unless LIGO_BACKEND says otherwise):
 *   - the backend's matMul peak: tf.matMul of 512^2, 1024^2 and 2048^2 square matrices (GFLOP/s);
 *   - learnOperator end to end: tokens/s and achieved GFLOP/s (median of repeats);
 *   - one step taken apart, each part timed alone behind a read-back barrier: materialize (forward),
 *     the large model's forward, its forward+backward (gradients to the grown weights), the full
 *     gradient step (materialize + model + backward into the operator) and the optimizer update;
 *     the operator's backward is what the full step takes beyond the others;
 *   - time per tfjs kernel over one full step;
 *   - tf.memory().numTensors around every part and across steps (leaks);
 *   - the memory estimate of src/growth/estimate.ts next to the measured peak of live tensor bytes.
 *
 * FLOPs counted (src/growth/flops.ts): forward = 2 x (per-layer matrix weights + V x C head) per
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
import { learnOperator, type LearnOptions, type LearnResult, type StepEvent } from '../src/train/learn.js';
import { forwardFlopsPerToken, materializeFlops } from '../src/growth/flops.js';
import { startKernelTimer } from './lib/kernel_timer.js';
import { barrier, matmulPeak, type MatmulRate } from './lib/matmul_peak.js';
import { argValue, fmt, hasFlag, machine, MB, median, printTable, writeResult } from './lib/report.js';
import { startTensorMeter } from './lib/tensor_meter.js';
import { gpt2Growth, gpt2GrowthPlan, type Gpt2GrowthShape } from './lib/gpt2_growth.js';

const VOCAB = Number(argValue('--vocab', '256'));
/** Lowered by --fit-batch (setUp) where the largest tensor would pass the backend's per-buffer limit. */
let BATCH = Number(argValue('--batch-size', '4'));
/** --fit-batch: the largest batch up to --batch-size whose tensors fit that limit, instead of refusing. */
const FIT_BATCH = hasFlag('--fit-batch');
const SEQ = Number(argValue('--seq-len', '128'));
/** learnOperator calls timed end to end, and optimizer steps in each. */
const REPEATS = Number(argValue('--repeats', '3'));
const STEPS = Number(argValue('--steps', '8'));
/** Steps of the first, untimed call that warms up the kernels (default --steps). */
const WARMUP_STEPS = Number(argValue('--warmup-steps', String(STEPS)));
/** --log-steps: one stderr line per learning step (a slow device shows its pace before a timeout). */
const LOG_STEPS = hasFlag('--log-steps');
/** --recompute: layers recomputed in backpropagation (the grow flag of the same name). */
const RECOMPUTE = hasFlag('--recompute');
/** Repeats of each part of the step breakdown; 0 skips it. */
const PART_REPEATS = Number(argValue('--parts', '5'));
/** --kernel-shapes: the kernel table per kernel and input shapes; --kernel-rows N: how many rows it prints (default 10). */
const KERNEL_SHAPES = hasFlag('--kernel-shapes');
const KERNEL_ROWS = Number(argValue('--kernel-rows', '10'));
/** A device's float32 peak in GFLOP/s, for the share of it the learning phase reaches (0: not reported). */
const DEVICE_PEAK_GFLOPS = Number(argValue('--peak-gflops', '0'));
/** "LxC" or "LxCxH": layers, width and (for the source) heads. */
function parseSize(flag: string, fallback: string): { layers: number; width: number; heads: number } {
  const [layers, width, heads] = argValue(flag, fallback).split('x').map(Number);
  if (!(layers > 0 && width > 0)) throw new Error(`${flag}: expected LAYERSxWIDTH[xHEADS], got ${argValue(flag, fallback)}`);
  return { layers, width, heads: heads > 0 ? heads : width / 32 };
}
const SOURCE = parseSize('--source', '4x128x4');
const TARGET_SIZE = parseSize('--target', '8x256');
/** Square matMul sizes for the peak (--matmul-sizes 512,1024: a software adapter takes minutes at 2048). */
const MATMUL_SIZES = argValue('--matmul-sizes', '512,1024,2048').split(',').map(Number);
/** bench/results/<name>.json (--result; default learn or learn_recompute). */
const RESULT_NAME = argValue('--result', RECOMPUTE ? 'learn_recompute' : 'learn');
const MATMUL_REPEATS = 5;

const SHAPE: Gpt2GrowthShape = { source: SOURCE, target: TARGET_SIZE, vocab: VOCAB, seqLen: SEQ };
const LEARN: LearnOptions = { steps: STEPS, lr: 1e-3, warmup: 2, weightDecay: 0, clip: 1, gradAccum: 1, recompute: RECOMPUTE, distill: 0, seed: 0 };

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const now = (): number => performance.now();

const getter =
  (m: ReadonlyMap<string, tf.Tensor>) =>
  (name: string): tf.Tensor => {
    const t = m.get(name);
    if (!t) throw new Error(`no tensor "${name}"`);
    return t;
  };

type Growth = ReturnType<typeof gpt2Growth>;
type Meter = ReturnType<typeof startTensorMeter>;

/** What one run of the benchmark measured, step by step. */
interface Measured {
  runs: {
    tokensPerSecond: number;
    seconds: number;
    /** Each step's seconds, and the step's host-side phases (on a GPU: time to enqueue, not to run). */
    stepSeconds: number[];
    phases: LearnResult['phases'];
    tensorsBefore: number;
    tensorsAfter: number;
    tensorsPerStep: number[];
  }[];
  /** Live tensor bytes before each learnOperator call and after the last: growth is a leak. */
  bytesBefore: number[];
  /** Peak live tensor bytes of one call, plus the source and operator (live before, and part of the estimate). */
  measuredPeak: number;
  parts: Record<string, number[]>;
  tensors: Record<string, { before: number; after: number }>;
  kernels: { name: string; ms: number; calls: number }[];
  kernelStepSeconds: number;
}

/** Step 1: learnOperator end to end, as grow() runs it; the first call also warms up the kernels. */
async function endToEnd(growth: Growth, meter: Meter): Promise<Pick<Measured, 'runs' | 'bytesBefore' | 'measuredPeak'>> {
  const { plan, small, operator } = growth;
  log(`learnOperator: a warm-up call of ${WARMUP_STEPS} steps and ${REPEATS} of ${STEPS} at B=${BATCH}, T=${SEQ}...`);
  const runs: Measured['runs'] = [];
  let measuredPeak = 0;
  const bytesBefore: number[] = [];
  for (let r = 0; r <= REPEATS; r++) {
    const tensorsBefore = tf.memory().numTensors;
    bytesBefore.push(meter.live());
    meter.resetPeak();
    const perStep: number[] = [];
    const stepSeconds: number[] = [];
    const onStep = (e: StepEvent): void => {
      perStep.push(tf.memory().numTensors);
      stepSeconds.push(e.stepSeconds);
      if (LOG_STEPS) log(`  ${r === 0 ? 'warm-up call' : `call ${r}/${REPEATS}`}, step ${e.step}/${e.steps}: ${fmt(e.stepSeconds, 3)} s`);
    };
    const options = r === 0 ? { ...LEARN, steps: WARMUP_STEPS } : LEARN;
    const result = await learnOperator({ plan, operator, small, nextBatch: () => growth.batch(BATCH), maskTokenId: 0, options, onStep });
    measuredPeak = Math.max(measuredPeak, meter.peak() - bytesBefore[r] + FLOAT_BYTES * (plan.parameters.source + plan.parameters.operator));
    if (r > 0) runs.push({ tokensPerSecond: result.tokensPerSecond, seconds: result.seconds, stepSeconds, phases: result.phases, tensorsBefore, tensorsAfter: tf.memory().numTensors, tensorsPerStep: perStep });
  }
  bytesBefore.push(meter.live());
  return { runs, bytesBefore, measuredPeak };
}

/** Step 2: one step taken apart, each part timed alone behind a read-back barrier. */
async function stepBreakdown(growth: Growth, ids: tf.Tensor2D): Promise<Pick<Measured, 'parts' | 'tensors'>> {
  const { plan, small, operator } = growth;
  log('step breakdown...');
  const parts: Record<string, number[]> = { materialize: [], forward: [], modelForwardBackward: [], fullGradient: [], optimizer: [] };
  const tensors: Record<string, { before: number; after: number }> = {};
  const track = async (name: string, f: () => Promise<void>): Promise<void> => {
    const before = tf.memory().numTensors;
    const start = now();
    await f();
    parts[name].push((now() - start) / 1000);
    tensors[name] = { before, after: tf.memory().numTensors };
  };
  const optimizer = new AdamW(operator.variables, { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 });
  for (let i = 0; i < PART_REPEATS; i++) {
    // materializeTensor tidies each tensor itself; the caller owns (and disposes) the results.
    await track('materialize', async () => {
      const large = materializeAll(plan.tensors, small, operator);
      await barrier([...large.values()].at(-1));
      tf.dispose([...large.values()]);
    });
    const grown = materializeAll(plan.tensors, small, operator);
    await track('forward', async () => {
      const loss = tf.tidy(() => causalLmLoss(forward(plan.target, getter(grown), { ids }), ids));
      await barrier(loss);
      loss.dispose();
    });
    const asVariables = new Map([...grown].map(([name, t]) => [name, tf.variable(t, true, `bench/${i}/${name}`)]));
    await track('modelForwardBackward', async () => {
      const { value, grads } = tf.variableGrads(() => causalLmLoss(forward(plan.target, getter(asVariables), { ids }), ids), [...asVariables.values()]);
      await barrier(Object.values(grads).at(-1));
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([...asVariables.values(), ...grown.values()]);
    let grads: Record<string, tf.Tensor> = {};
    await track('fullGradient', async () => {
      const result = tf.variableGrads(() => {
        const large = materializeAll(plan.tensors, small, operator);
        return causalLmLoss(forward(plan.target, getter(large), { ids }), ids);
      }, operator.variables);
      await barrier(Object.values(result.grads).at(-1));
      result.value.dispose();
      grads = result.grads;
    });
    await track('optimizer', async () => {
      const norm = tf.tidy(() => {
        const { norm: n, scale } = globalNormClip(grads, LEARN.clip);
        optimizer.step(grads, LEARN.lr, scale);
        return n;
      });
      await barrier(operator.variables.at(-1));
      norm.dispose();
    });
    tf.dispose(Object.values(grads));
  }
  optimizer.dispose();
  return { parts, tensors };
}

/**
 * Step 3: kernels of one full step (gradient + update), after the parts above warmed everything up.
 * On webgpu a kernel call only enqueues work: the times are dispatch costs, not GPU time.
 */
async function oneStepKernels(growth: Growth): Promise<Pick<Measured, 'kernels' | 'kernelStepSeconds'>> {
  const { plan, small, operator } = growth;
  const timer = startKernelTimer(tf.getBackend(), KERNEL_SHAPES);
  const kernelStart = now();
  if (PART_REPEATS > 0) await learnOperator({ plan, operator, small, nextBatch: () => growth.batch(BATCH), maskTokenId: 0, options: { ...LEARN, steps: 1 } });
  const kernelStepSeconds = (now() - kernelStart) / 1000;
  const kernels = [...timer.totals()].map(([name, t]) => ({ name, ms: t.ms, calls: t.calls })).sort((a, b) => b.ms - a.ms);
  timer.stop();
  return { kernels, kernelStepSeconds };
}

/** What the report derives from the measurements: FLOPs per step and the breakdown's medians. */
function derived(plan: Growth['plan'], m: Measured) {
  const tokensPerStep = BATCH * SEQ;
  const modelFlopsPerStep = 3 * forwardFlopsPerToken(plan, SEQ) * tokensPerStep;
  const materializeFlopsForward = materializeFlops(plan);
  const flopsPerStep = modelFlopsPerStep + 3 * materializeFlopsForward;
  const tokensPerSecond = median(m.runs.map((r) => r.tokensPerSecond));
  const stepSeconds = tokensPerStep / tokensPerSecond;
  const med = Object.fromEntries(Object.entries(m.parts).map(([k, v]) => [k, median(v)]));
  const operatorBackward = med.fullGradient - med.materialize - med.modelForwardBackward;
  const kernelMs = m.kernels.reduce((s, k) => s + k.ms, 0);
  return { modelFlopsPerStep, materializeFlopsForward, flopsPerStep, tokensPerSecond, stepSeconds, med, operatorBackward, kernelMs };
}

type Derived = ReturnType<typeof derived>;
type Context = { backend: Awaited<ReturnType<typeof initBackend>>; plan: Growth['plan']; peak: MatmulRate[]; peakGflops: number; estimate: ReturnType<typeof estimateLearningMemory>; meter: Meter };

/** The JSON result. */
function learnReport(c: Context, m: Measured, d: Derived) {
  const { backend, plan, peak, peakGflops, estimate, meter } = c;
  return {
    benchmark: 'learn',
    recompute: RECOMPUTE,
    date: new Date().toISOString(),
    ...machine(),
    backend: backend.name,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    source: { family: 'gpt2', layers: SOURCE.layers, width: SOURCE.width, heads: SOURCE.heads, vocab: VOCAB, parameters: plan.parameters.source },
    target: { layers: plan.target.numLayers, width: plan.target.hiddenSize, heads: plan.target.numHeads, ffn: plan.target.intermediateSize, vocab: VOCAB, parameters: plan.parameters.target },
    operatorParameters: plan.parameters.operator,
    batchSize: BATCH,
    seqLen: SEQ,
    matmulPeak: peak,
    learn: {
      repeats: REPEATS,
      stepsPerRepeat: STEPS,
      tokensPerSecond: d.tokensPerSecond,
      tokensPerSecondRuns: m.runs.map((r) => r.tokensPerSecond),
      stepSecondsRuns: m.runs.map((r) => r.stepSeconds),
      hostPhaseSecondsRuns: m.runs.map((r) => r.phases),
      stepSeconds: d.stepSeconds,
      flopsPerStep: { model: d.modelFlopsPerStep, materialize: 3 * d.materializeFlopsForward, total: d.flopsPerStep },
      gflopsPerSecond: d.flopsPerStep / d.stepSeconds / 1e9,
      fractionOfMatmulPeak: d.flopsPerStep / d.stepSeconds / 1e9 / peakGflops,
      ...(DEVICE_PEAK_GFLOPS > 0 ? { devicePeakGflops: DEVICE_PEAK_GFLOPS, fractionOfDevicePeak: d.flopsPerStep / d.stepSeconds / 1e9 / DEVICE_PEAK_GFLOPS } : {}),
      numTensors: m.runs.map((r) => ({ before: r.tensorsBefore, after: r.tensorsAfter, perStep: r.tensorsPerStep })),
      liveBytesBetweenCalls: m.bytesBefore,
    },
    breakdownSeconds: { ...d.med, operatorBackward: d.operatorBackward },
    breakdownRuns: m.parts,
    breakdownNumTensors: m.tensors,
    kernels: { stepSeconds: m.kernelStepSeconds, kernelSeconds: d.kernelMs / 1000, byKernel: m.kernels },
    memory: { estimate, measuredPeakBytes: m.measuredPeak, wasmHeapBytes: meter.heapBytes(), ratio: estimate.totalBytes / m.measuredPeak },
  };
}

/** The end-to-end tables: the matMul peak and learnOperator's rate. */
function printRates(c: Context, d: Derived): void {
  const { backend, plan, peak, peakGflops } = c;
  console.log(
    `learn on ${backend.name}${backend.adapter ? ` (${backend.adapter.info.description || backend.adapter.info.device})` : ''}: GPT-2 ${SOURCE.layers}x${SOURCE.width} -> ${plan.target.numLayers}x${plan.target.hiddenSize} (${fmt(plan.parameters.target / 1e6, 2)}M parameters, ` +
      `operator ${fmt(plan.parameters.operator / 1e6, 2)}M), vocab ${VOCAB}, B=${BATCH} T=${SEQ}`,
  );
  printTable([
    ['matMul n x n', ...peak.map((p) => String(p.size))],
    ['ms (median of 5)', ...peak.map((p) => fmt(p.ms, 1))],
    ['GFLOP/s', ...peak.map((p) => fmt(p.gflops, 1))],
  ]);
  const gflops = d.flopsPerStep / d.stepSeconds / 1e9;
  printTable([
    ['learnOperator', 'tokens/s', 's/step', 'GFLOP/step', 'GFLOP/s', '% of matMul peak', ...(DEVICE_PEAK_GFLOPS > 0 ? [`% of ${fmt(DEVICE_PEAK_GFLOPS / 1000, 1)} TFLOP/s`] : [])],
    [
      `median of ${REPEATS} x ${STEPS} steps`,
      fmt(d.tokensPerSecond),
      fmt(d.stepSeconds, 3),
      fmt(d.flopsPerStep / 1e9, 1),
      fmt(gflops, 1),
      fmt((100 * gflops) / peakGflops, 1),
      ...(DEVICE_PEAK_GFLOPS > 0 ? [fmt((100 * gflops) / DEVICE_PEAK_GFLOPS, 2)] : []),
    ],
  ]);
}

/** Leaks and memory: tensors around and within calls, live bytes, the estimate against the measured peak. */
function printMemory(c: Context, m: Measured): void {
  const { estimate, meter } = c;
  console.log(
    `numTensors around each learnOperator call: ${m.runs.map((r) => `${r.tensorsBefore} -> ${r.tensorsAfter}`).join(', ')}; ` +
      `step to step within each call: ${m.runs.map((r) => (new Set(r.tensorsPerStep).size === 1 ? `constant (${r.tensorsPerStep[0]})` : r.tensorsPerStep.join('/'))).join(', ')}`,
  );
  console.log(`live tensor MB between learnOperator calls: ${m.bytesBefore.map((b) => fmt(b / MB, 1)).join(' -> ')}`);
  console.log(
    `memory: estimate ${formatBytes(estimate.totalBytes)} (source ${formatBytes(estimate.sourceBytes)}, operator ${formatBytes(estimate.operatorBytes)}, ` +
      `optimizer ${formatBytes(estimate.optimizerBytes)}, grown ${formatBytes(estimate.grownBytes)}, activations ${formatBytes(estimate.activationBytes)}); ` +
      `measured peak of live tensor bytes ${formatBytes(m.measuredPeak)} (estimate / measured ${fmt(estimate.totalBytes / m.measuredPeak, 2)}); wasm heap ${fmt(meter.heapBytes() / MB)} MB`,
  );
}

/** The step taken apart and its ten slowest kernels. */
function printBreakdown(m: Measured, d: Derived): void {
  const gf = (flops: number, s: number): string => fmt(flops / s / 1e9, 1);
  console.log(`one step taken apart (median of ${PART_REPEATS}, each behind a read-back barrier):`);
  const row = (name: string, s: number, flops: number | undefined, t: { before: number; after: number } | undefined): string[] => [
    name,
    fmt(s, 3),
    `${fmt((100 * s) / d.med.fullGradient, 0)}%`,
    flops === undefined ? '' : gf(flops, s),
    t ? `${t.before} -> ${t.after}` : '',
  ];
  printTable([
    ['part', 'seconds', '% of gradient', 'GFLOP/s', 'numTensors'],
    row('materialize (forward)', d.med.materialize, d.materializeFlopsForward, m.tensors.materialize),
    row('model forward', d.med.forward, d.modelFlopsPerStep / 3, m.tensors.forward),
    row('model forward+backward', d.med.modelForwardBackward, d.modelFlopsPerStep, m.tensors.modelForwardBackward),
    row('operator backward (rest)', d.operatorBackward, 2 * d.materializeFlopsForward, undefined),
    row('full gradient step', d.med.fullGradient, d.flopsPerStep, m.tensors.fullGradient),
    row('optimizer update', d.med.optimizer, undefined, m.tensors.optimizer),
  ]);
  console.log(`kernels over one learnOperator step (${fmt(m.kernelStepSeconds, 2)} s; kernels ${fmt(d.kernelMs / 1000, 2)} s, tfjs/JS outside kernels ${fmt(m.kernelStepSeconds - d.kernelMs / 1000, 2)} s):`);
  printTable([['kernel', 'calls', 'seconds', '%'], ...m.kernels.slice(0, KERNEL_ROWS).map((k) => [k.name, String(k.calls), fmt(k.ms / 1000, 3), fmt((100 * k.ms) / d.kernelMs, 1)])]);
}

/** The backend, the matMul peak, the growth and what its learning phase is estimated to need; refuses a tensor past the backend's limit. */
async function setUp(): Promise<{ context: Context; growth: Growth }> {
  // wasm unless LIGO_BACKEND says otherwise (the README's numbers); npm run bench:learn-cpu compares the CPU backends.
  const backend = await initBackend({ backend: process.env.LIGO_BACKEND || 'wasm', log });
  // Started before any tensor exists, so it sees every buffer.
  const meter = startTensorMeter();
  // Checked on the plan, before any weight exists: a tensor past the backend's per-buffer limit
  // (webgpu) would fail or, worse, compute garbage.
  const plan = gpt2GrowthPlan(SHAPE);
  const estimateAt = (batchSize: number) => estimateLearningMemory(plan, { batchSize, seqLen: SEQ, gradAccum: LEARN.gradAccum, recompute: RECOMPUTE }, backend.name);
  const tensorLimit = backend.profile.tensorLimit;
  const fits = (batchSize: number): boolean => tensorLimit === undefined || estimateAt(batchSize).largestTensorBytes <= tensorLimit.bytes;
  if (FIT_BATCH && !fits(BATCH) && BATCH > 1) {
    const asked = BATCH;
    while (BATCH > 1 && !fits(BATCH)) BATCH--;
    log(`--fit-batch: B=${BATCH} instead of ${asked}, the largest up to it whose tensors fit ${formatBytes(tensorLimit?.bytes ?? 0)} (${tensorLimit?.reason ?? ''})`);
  }
  const estimate = estimateAt(BATCH);
  if (tensorLimit !== undefined && estimate.largestTensorBytes > tensorLimit.bytes) {
    throw new Error(`the largest tensor takes ${formatBytes(estimate.largestTensorBytes)}, more than ${formatBytes(tensorLimit.bytes)} (${tensorLimit.reason}); lower --batch-size or --seq-len`);
  }
  log('matMul peak...');
  const peak = await matmulPeak(MATMUL_SIZES, { repeats: MATMUL_REPEATS });
  const growth = gpt2Growth(SHAPE);
  return { context: { backend, plan, peak, peakGflops: Math.max(...peak.map((p) => p.gflops)), estimate, meter }, growth };
}

async function bench(): Promise<void> {
  const { context, growth } = await setUp();
  const calls = await endToEnd(growth, context.meter);
  const ids = growth.batch(BATCH);
  const measured: Measured = { ...calls, ...(await stepBreakdown(growth, ids)), ...(await oneStepKernels(growth)) };
  ids.dispose();
  growth.dispose();
  const d = derived(context.plan, measured);
  const report = learnReport(context, measured, d);
  context.meter.stop();
  const written = await writeResult(RESULT_NAME, report);
  printRates(context, d);
  printMemory(context, measured);
  if (PART_REPEATS > 0) printBreakdown(measured, d);
  console.log(`wrote ${written}`);
}

const FLOAT_BYTES = 4;

await bench();

/**
 * The measured side of bench/apply.ts, run in its own process so that its resident memory is the
 * apply's alone. Modes:
 *   apply <source> <operator> <out>      time `apply` as the CLI runs it; report RSS and per-tensor times
 *   gather <source> <operator> <out>     the same output through the selection prototype
 *                                        (bench/lib/selection.ts): gathers instead of matMuls, the
 *                                        operator read one matrix at a time
 *   verify <a> <b> -                     compare two checkpoints tensor by tensor, byte for byte
 * The result goes to the parent over IPC as one message.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { openModel } from '../src/arch/load.js';
import { createCheckpointWriter, openCheckpoint } from '../src/checkpoint/index.js';
import { apply } from '../src/pipeline/apply.js';
import { grow } from '../src/pipeline/grow.js';
import { openOperator, planForOperator } from '../src/output/operator_file.js';
import { materializeBf16BySelection, materializeBySelection, SelectionOperator } from './lib/selection.js';

/** RSS sampling period asked for by the benchmark (ms). */
const SAMPLE_MS = 50;

export interface ApplyChildResult {
  mode: 'apply' | 'gather' | 'grow';
  seconds: number;
  rssBeforeBytes: number;
  /** Highest process.memoryUsage().rss seen by a 50 ms timer (misses spans where wasm blocks the event loop). */
  rssSampledPeakBytes: number;
  /** /proc/self/status VmHWM at the end: the kernel's own peak RSS. */
  vmHwmBytes: number;
  /** The wasm heap at the end (it never shrinks, so this is its peak). */
  wasmHeapBytes: number;
  /** Seconds from the start of apply until each tensor was written, in write order. */
  written: { tensor: string; at: number }[];
}

export interface VerifyChildResult {
  mode: 'verify';
  tensors: number;
  identical: number;
  /** Tensors whose bytes differ only in the sign of zeros (0 * negative is -0 in a product, +0 in a copy). */
  signedZerosOnly: number;
  /** Tensors whose values differ, with the largest absolute difference. */
  different: { tensor: string; maxAbsDiff: number; nonFinite: number }[];
}

async function vmHwm(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

function wasmHeap(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

/** Runs `work` with RSS sampled every 50 ms and per-tensor completion times recorded. */
async function measured(mode: ApplyChildResult['mode'], work: (wrote: (tensor: string) => void) => Promise<void>): Promise<ApplyChildResult> {
  const rssBeforeBytes = process.memoryUsage().rss;
  let rssSampledPeakBytes = rssBeforeBytes;
  const timer = setInterval(() => {
    rssSampledPeakBytes = Math.max(rssSampledPeakBytes, process.memoryUsage().rss);
  }, SAMPLE_MS);
  const written: { tensor: string; at: number }[] = [];
  const start = performance.now();
  try {
    await work((tensor) => written.push({ tensor, at: (performance.now() - start) / 1000 }));
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - start) / 1000;
  rssSampledPeakBytes = Math.max(rssSampledPeakBytes, process.memoryUsage().rss);
  // The gather prototype never starts a tfjs backend; asking for one would start the default.
  const wasmHeapBytes = mode === 'gather' ? 0 : wasmHeap();
  return { mode, seconds, rssBeforeBytes, rssSampledPeakBytes, vmHwmBytes: await vmHwm(), wasmHeapBytes, written };
}

function runApply(source: string, operator: string, out: string): Promise<ApplyChildResult> {
  return measured('apply', async (wrote) => {
    await apply({ source, operator, out, backend: 'wasm', onProgress: (e) => e.phase === 'write' && wrote(e.tensor) });
  });
}

/** `grow --method net2net` without data (streamed) to the target given as JSON ({"hiddenSize": ..., "layers": ...}). */
function runGrow(source: string, target: string, out: string): Promise<ApplyChildResult> {
  return measured('grow', async (wrote) => {
    const t = JSON.parse(target) as { hiddenSize: number; layers: number };
    await grow({ source, out, method: 'net2net', ...t, backend: 'wasm', onProgress: (e) => e.phase === 'write' && wrote(e.tensor) });
  });
}

/** The selection prototype end to end: read, gather, write BF16, tensor by tensor. */
function runGather(sourceDir: string, operatorFile: string, out: string): Promise<ApplyChildResult> {
  return measured('gather', async (wrote) => {
    const opened = await openOperator(operatorFile);
    const file = opened.file;
    const source = await openModel(sourceDir);
    try {
      const plan = planForOperator(source, opened.metadata);
      const op = new SelectionOperator(plan, opened);
      const writer = await createCheckpointWriter(out, plan.tensors.map((t) => ({ name: t.name, dtype: 'BF16' as const, shape: t.shape })));
      const raw = (name: string): Promise<Uint8Array> => {
        const stored = source.match.sourceNames.get(name);
        if (stored === undefined) throw new Error(`no tensor "${name}" in ${sourceDir}`);
        return source.reader.readBytes(stored);
      };
      // Each tensor is computed while the previous one is being written (the write runs on libuv's
      // thread pool), so disk time hides behind compute.
      let pending: Promise<void> = Promise.resolve();
      for (const t of plan.tensors) {
        // BF16 in and out: gather the bits; otherwise through float32.
        const grown = source.storageDtype === 'BF16' ? await materializeBf16BySelection(t, op, raw) : await materializeBySelection(t, op, (name) => source.readFloat32(name));
        if (!grown) throw new Error(`${t.name}: the operator is not a selection; the prototype covers copy/split operators only`);
        await pending;
        pending = writer.write(t.name, grown).then(() => wrote(t.name));
      }
      await pending;
      await writer.close();
    } finally {
      await file.close();
      await source.close();
    }
  });
}

async function runVerify(a: string, b: string): Promise<VerifyChildResult> {
  const left = await openCheckpoint(a);
  const right = await openCheckpoint(b);
  const different: VerifyChildResult['different'] = [];
  let identical = 0;
  let signedZerosOnly = 0;
  try {
    for (const name of left.entries.keys()) {
      const x = await left.readBytes(name);
      const y = await right.readBytes(name);
      if (Buffer.compare(x, y) === 0) {
        identical++;
        continue;
      }
      const fx = await left.readFloat32(name);
      const fy = await right.readFloat32(name);
      let maxAbsDiff = 0;
      let nonFinite = 0;
      for (let i = 0; i < fx.length; i++) {
        if (!Number.isFinite(fx[i])) nonFinite++;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fx[i] - fy[i]));
      }
      if (maxAbsDiff === 0 && nonFinite === 0) signedZerosOnly++;
      else different.push({ tensor: name, maxAbsDiff, nonFinite });
    }
  } finally {
    await left.close();
    await right.close();
  }
  return { mode: 'verify', tensors: left.entries.size, identical, signedZerosOnly, different };
}

const [mode, sourceDir, operatorFile, out] = process.argv.slice(2);
if (sourceDir === undefined || operatorFile === undefined || out === undefined) throw new Error('usage: apply_child.ts apply|gather <source> <operator> <out> | grow <source> <target json> <out> | verify <a> <b> -');
const result =
  mode === 'gather'
    ? await runGather(sourceDir, operatorFile, out)
    : mode === 'verify'
      ? await runVerify(sourceDir, operatorFile)
      : mode === 'grow'
        ? await runGrow(sourceDir, operatorFile, out)
        : await runApply(sourceDir, operatorFile, out);
if (process.send) process.send(result);
else console.log(JSON.stringify(result));

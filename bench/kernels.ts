/**
 * The blas backend's own kernels, JavaScript against native (`npm run bench:kernels`): each kernel
 * on the activations of the small bench:real growth (GPT-2 8 x 256 at 16 x 128 tokens: GELU over
 * [B, T, 4C], attention's softmax over [B, heads, T, T], LayerNorm over [B, T, C]), the native one
 * on one thread and on every core, in one process. Milliseconds per call, the median of --repeats
 * (default 15) after a warm-up. Writes bench/results/kernels.json (--name NAME for another file).
 * Needs the native library built (npm install; scripts/build-native.mjs).
 */
import * as os from 'node:os';
import { JS_GELU } from '../src/backend/js_kernels/gelu.js';
import { JS_LAYER_NORM } from '../src/backend/js_kernels/layer_norm.js';
import { JS_MASKED_SOFTMAX } from '../src/backend/js_kernels/masked_softmax.js';
import { loadNativeKernels, type NativeKernels } from '../src/backend/native_kernels.js';
import { createRng } from '../src/data/random.js';
import { argValue, fmt, machine, median, printTable, writeResult } from './lib/report.js';

const REPEATS = Number(argValue('--repeats', '15'));
const [B, T, C, HEADS] = [16, 128, 256, 4];

function random(n: number, seed: number): Float32Array {
  const rand = createRng(seed);
  return new Float32Array(n).map(() => rand() * 8 - 4);
}

function timeMs(f: () => void): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    f();
    times.push(performance.now() - start);
  }
  return median(times);
}

type Kernels = Pick<NativeKernels, 'gelu' | 'layerNorm' | 'maskedSoftmax'>;

/** Each kernel's call on the small growth's shapes, by name. */
function calls(k: Kernels): Record<string, () => void> {
  const ffn = random(B * T * 4 * C, 1); // [B, T, 4C]
  const scores = random(B * HEADS * T * T, 2); // [B, heads, T, T]
  const mask = new Float32Array(T * T).map((_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)); // [T, T]
  const hidden = random(B * T * C, 3); // [B, T, C]
  const w = random(C, 4);
  const out = new Float32Array(ffn.length);
  const [dw, db] = [new Float32Array(C), new Float32Array(C)];
  return {
    'gelu_new [16,128,1024]': () => k.gelu.forward(ffn, out),
    'gelu_new grad': () => k.gelu.backward(ffn, ffn, out),
    'masked softmax [16,4,128,128]': () => k.maskedSoftmax.forward(scores, mask, out, T, T, 0.125),
    'masked softmax grad': () => k.maskedSoftmax.backward(scores, scores, out, T, 0.125),
    'LayerNorm [16,128,256]': () => k.layerNorm.forward(hidden, w, w, 1e-5, out),
    'LayerNorm grad': () => k.layerNorm.backward(hidden, hidden, w, 1e-5, out, dw, db),
  };
}

async function native(threads: number): Promise<NativeKernels> {
  const loaded = await loadNativeKernels(process.env, threads);
  if ('unavailable' in loaded) throw new Error(`native kernels: ${loaded.unavailable}`);
  return loaded;
}

async function bench(): Promise<void> {
  const cores = os.availableParallelism();
  const js = calls({ gelu: JS_GELU, layerNorm: JS_LAYER_NORM, maskedSoftmax: JS_MASKED_SOFTMAX });
  const nativeKernels = await native(cores);
  const rows: { kernel: string; js: number; native1: number; nativeAll: number }[] = [];
  for (const [kernel, run] of Object.entries(js)) {
    const nativeCall = calls(nativeKernels)[kernel];
    nativeKernels.setThreads(1);
    const native1 = timeMs(nativeCall);
    nativeKernels.setThreads(cores);
    rows.push({ kernel, js: timeMs(run), native1, nativeAll: timeMs(nativeCall) });
  }
  printTable([
    ['kernel', 'JavaScript ms', 'native, 1 thread', `native, ${cores} threads`, 'JS / native'],
    ...rows.map((r) => [r.kernel, fmt(r.js, 2), fmt(r.native1, 2), fmt(r.nativeAll, 2), `${fmt(r.js / r.nativeAll, 1)}x`]),
  ]);
  const file = await writeResult(argValue('--name', 'kernels'), { machine: machine(), cores, repeats: REPEATS, description: nativeKernels.description, rows });
  console.log(`wrote ${file}`);
}

await bench();

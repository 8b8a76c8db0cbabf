// Side effect: registers every op's gradient (the CJS build of @tensorflow/tfjs-core alone has none)
// and the cpu backend.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { LigoError, UsageError } from '../errors.js';
import { registerMissingGradients } from './gradients.js';
import { BLAS_BACKEND } from './blas_backend.js';
import { CPU_BACKEND } from './cpu_backend.js';
import type { BackendProfile } from './profile.js';
import { firstLine, NotHere, type BackendStarter } from './start.js';
import { tensorflowBackend, TENSORFLOW_GPU_PACKAGE, TENSORFLOW_PACKAGE } from './tensorflow_backend.js';
import { WASM_BACKEND } from './wasm_backend.js';
import type { WebGpuAdapter } from './webgpu.js';
import { WEBGPU_BACKEND } from './webgpu_backend.js';

export type { BackendName } from './profile.js';

/** What --backend / LIGO_BACKEND accept: one entry per npm package that can provide a backend. */
const CHOICES = {
  'tensorflow-gpu': tensorflowBackend(TENSORFLOW_GPU_PACKAGE),
  tensorflow: tensorflowBackend(TENSORFLOW_PACKAGE),
  wasm: WASM_BACKEND,
  // tfjs-backend-cpu with native matrix products: koffi (npm) calling a BLAS library of the OS.
  blas: BLAS_BACKEND,
  cpu: CPU_BACKEND,
  webgpu: WEBGPU_BACKEND,
} as const satisfies Record<string, BackendStarter>;

export type BackendChoice = keyof typeof CHOICES;
export const BACKEND_CHOICES = Object.keys(CHOICES) as BackendChoice[];

/**
 * Fastest first. webgpu is tried first but only a hardware adapter is taken: a software one
 * (lavapipe, SwiftShader) is far slower than wasm and is used only when forced. blas comes before
 * wasm: with a native BLAS its learning step is faster (bench/learn_cpu.ts) and it has no 4 GiB
 * heap ceiling; without one it is skipped with one log line.
 */
const AUTO_ORDER: readonly BackendChoice[] = ['webgpu', 'tensorflow-gpu', 'tensorflow', 'blas', 'wasm', 'cpu'];

export const BACKEND_ENV_VAR = 'LIGO_BACKEND';

export interface BackendInfo {
  name: string;
  package: string;
  /** Candidates that failed before `name` was chosen, in order. */
  tried: { name: string; error: string }[];
  /** What the rest of the code asks about the backend (memory, device); webgpu's comes from its adapter. */
  profile: BackendProfile;
  /** webgpu only: the adapter in use. */
  adapter?: WebGpuAdapter;
}

export interface InitBackendOptions {
  /** One of BACKEND_CHOICES or 'auto'; overrides LIGO_BACKEND. */
  backend?: string;
  log?: (msg: string) => void;
  env?: Record<string, string | undefined>;
  /** wasm: threads for matrix products (default LIGO_WASM_THREADS, else every core); blas: the BLAS library's threads (default: its own, e.g. OPENBLAS_NUM_THREADS). */
  threads?: number;
}

/** One selection per request ('auto' or a choice), so asking again returns the same result object. */
const selections = new Map<string, Promise<BackendInfo>>();

/** Picks, loads and activates a tfjs backend. Repeated calls with the same request share one result. */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const fromFlag = options.backend !== undefined && options.backend !== '';
  const requested = fromFlag ? options.backend : env[BACKEND_ENV_VAR];
  const flag = fromFlag ? '--backend' : BACKEND_ENV_VAR;
  const forced = parseChoice(requested, flag);
  const key = forced ?? 'auto';

  let selection = selections.get(key);
  if (selection === undefined) {
    selection = select(forced, flag, options);
    selections.set(key, selection);
    // A failure is not remembered: the next call tries again.
    selection.catch(() => selections.delete(key));
  }
  const info = await selection;
  // Someone (a test, a caller) may have switched the global engine since; put ours back.
  if (tf.getBackend() !== info.name) await tf.setBackend(info.name);
  return info;
}

/** The active tfjs backend's name. */
export function currentBackend(): string {
  return tf.getBackend();
}

function parseChoice(value: string | undefined, flag: string): BackendChoice | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value in CHOICES) return value as BackendChoice;
  throw new UsageError(`${flag} "${value}" is not a backend; use auto, ${BACKEND_CHOICES.join(', ')}`, {
    flag,
    expected: ['auto', ...BACKEND_CHOICES].join(' | '),
    actual: value,
  });
}

async function select(
  forced: BackendChoice | undefined,
  flag: string,
  options: InitBackendOptions,
): Promise<BackendInfo> {
  const log = options.log ?? (() => {});
  const startOptions = { forced: forced !== undefined, threads: options.threads, env: options.env ?? process.env, log };
  registerMissingGradients();
  const tried: BackendInfo['tried'] = [];
  for (const choice of forced === undefined ? AUTO_ORDER : [forced]) {
    const backend: BackendStarter = CHOICES[choice];
    try {
      const started = await backend.start(startOptions);
      log(`backend: ${started.description}`);
      for (const note of started.notes ?? []) log(note);
      const info: BackendInfo = { name: backend.name, package: backend.package, tried, profile: started.profile };
      return started.adapter === undefined ? info : { ...info, adapter: started.adapter };
    } catch (err) {
      const error = firstLine(err);
      if (forced !== undefined) {
        throw new UsageError(`${flag} ${choice}: cannot use ${backend.package}: ${error}`, {
          flag,
          expected: `a working ${backend.package}`,
          actual: error,
          hint: backend.hint,
        });
      }
      tried.push({ name: choice, error });
      const line = backend.skipped?.(error) ?? defaultSkipLine(choice, backend, err, error);
      if (line !== undefined) log(line);
    }
  }
  throw new LigoError(`No tfjs backend could be initialized: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}

/** A package that is simply not installed, or no GPU, is the normal case; only a broken one is news. */
function defaultSkipLine(choice: BackendChoice, backend: BackendStarter, err: unknown, error: string): string | undefined {
  if (err instanceof NotHere || /Cannot find (package|module)/.test(error)) return undefined;
  return `backend ${choice} (${backend.package}) unavailable: ${error}`;
}

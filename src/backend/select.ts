// Side effect: registers every op's gradient (the CJS build of @tensorflow/tfjs-core alone has none)
// and the cpu backend.
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { LigoError, UsageError } from '../errors.js';
import { registerMissingGradients } from './gradients.js';
import { registerWasmKernels } from './wasm_kernels.js';
import { registerBlasBackend } from './blas_backend.js';
import { BLAS_LIBRARY_ENV_VAR } from './blas_library.js';
import { registerFastWasmMatMul } from './wasm_matmul.js';
import { installWasmHeapGuard } from './wasm_heap_guard.js';
import type { BackendName } from './profile.js';
import { registerThreadedWasm, wasmThreadCount } from './wasm_threads.js';
import { backendProfile, webGpuProfile, type BackendProfile } from './profile.js';
import { registerWebGpuKernels } from './webgpu_kernels.js';
import { DAWN_PACKAGE, describeAdapter, gpuDriverMaybePresent, probeWebGpu, type WebGpuAdapter } from './webgpu.js';

export type { BackendName } from './profile.js';

/** What --backend / LIGO_BACKEND accept: one entry per npm package that can provide a backend. */
const CHOICES = {
  'tensorflow-gpu': { name: 'tensorflow', package: '@tensorflow/tfjs-node-gpu' },
  tensorflow: { name: 'tensorflow', package: '@tensorflow/tfjs-node' },
  wasm: { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm' },
  // tfjs-backend-cpu with native matrix products: koffi (npm) calling a BLAS library of the OS.
  blas: { name: 'blas', package: 'koffi' },
  cpu: { name: 'cpu', package: '@tensorflow/tfjs-backend-cpu' },
  webgpu: { name: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu' },
} as const satisfies Record<string, { name: BackendName; package: string }>;

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
  registerMissingGradients();
  const tried: BackendInfo['tried'] = [];
  for (const choice of forced === undefined ? AUTO_ORDER : [forced]) {
    const { name, package: pkg } = CHOICES[choice];
    let adapter: WebGpuAdapter | undefined;
    try {
      adapter = await activate(choice, forced !== undefined, options.threads, options.env ?? process.env, log);
    } catch (err) {
      const error = firstLine(err);
      if (forced !== undefined) {
        throw new UsageError(`${flag} ${choice}: cannot use ${pkg}: ${error}`, {
          flag,
          expected: `a working ${pkg}`,
          actual: error,
          hint: hintFor(choice),
        });
      }
      tried.push({ name: choice, error });
      if (choice === 'blas') log(`blas backend unavailable (${error}); falling back to the next backend (wasm: slower, 4 GiB heap limit). To enable it: ${hintFor('blas')}`);
      // A package that is simply not installed, or no GPU, is the normal case; only a broken one is news.
      else if (!(err instanceof NotHere) && !/Cannot find (package|module)/.test(error)) log(`backend ${choice} (${pkg}) unavailable: ${error}`);
      continue;
    }
    log(`backend: ${await describe(name, pkg, adapter)}`);
    if (name === 'cpu') log(`the cpu backend is slow; ${hintFor('tensorflow')}`);
    if (adapter?.software) {
      log(`webgpu: "${describeAdapter(adapter.info)}" is a software adapter (the GPU emulated on the CPU): correct but slow`);
    }
    return adapter === undefined
      ? { name, package: pkg, tried, profile: backendProfile(name) }
      : { name, package: pkg, tried, profile: webGpuProfile(adapter), adapter };
  }
  throw new LigoError(`No tfjs backend could be initialized: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
}

/** A candidate that auto mode passes over quietly (no GPU driver, a software adapter). */
class NotHere extends Error {}

async function activate(
  choice: BackendChoice,
  forced: boolean,
  threads: number | undefined,
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
): Promise<WebGpuAdapter | undefined> {
  const { name, package: pkg } = CHOICES[choice];
  let adapter: WebGpuAdapter | undefined;
  if (choice === 'webgpu') {
    if (!forced && !gpuDriverMaybePresent(env)) throw new NotHere('no Vulkan driver for a GPU is installed');
    adapter = await probeWebGpu();
    if (!forced && adapter.software) {
      throw new NotHere(`"${describeAdapter(adapter.info)}" is a software adapter; --backend webgpu uses it anyway`);
    }
    // Only now: the package reads navigator.gpu at import and registers 'webgpu' only if it is there.
    // Its gradients come with '@tensorflow/tfjs' (imported above), which registers them all. A literal
    // specifier (it is an optionalDependency, so its types are there) lets a bundler include it.
    await import('@tensorflow/tfjs-backend-webgpu');
    registerWebGpuKernels();
  } else if (choice === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
    registerFastWasmMatMul();
    const count = wasmThreadCount(threads, env);
    if (count > 1) {
      try {
        await registerThreadedWasm(count);
      } catch (err) {
        log(`wasm threads unavailable (${firstLine(err)}); using the single-threaded build`);
        wasm.setThreadsCount(1);
      }
    }
  } else if (choice === 'blas') {
    const blas = await registerBlasBackend(env);
    if (threads !== undefined && !blas.setThreads(threads)) log(`--threads: ${blas.library} has no thread setting; using its default`);
  } else if (choice !== 'cpu') {
    await importOptional(pkg);
  }
  if (!tf.findBackendFactory(name)) {
    // Happens when the package brought its own copy of tfjs-core and registered there.
    throw new Error(`${pkg} loaded but did not register backend '${name}' with @tensorflow/tfjs-core ${tf.version_core}`);
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend('${name}') failed (tfjs printed the reason above)`);
  }
  await tf.ready();
  if (name === 'wasm') installWasmHeapGuard(tf.findBackend('wasm'));
  return adapter;
}

/** The specifier is a variable so TypeScript does not try to resolve packages that are not installed. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

async function describe(name: string, pkg: string, adapter: WebGpuAdapter | undefined): Promise<string> {
  if (adapter !== undefined) return `${name} (${pkg}, ${describeAdapter(adapter.info)})`;
  if (name === 'blas') return `blas (tfjs-backend-cpu memory, matrix products in ${(await registerBlasBackend()).library} through ${pkg})`;
  if (name !== 'wasm') return `${name} (${pkg})`;
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
  const threads = (await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount();
  return `wasm (${pkg}, ${simd}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

function hintFor(choice: BackendChoice): string {
  switch (choice) {
    case 'tensorflow':
    case 'tensorflow-gpu':
      return `npm install ${CHOICES[choice].package} (its install downloads libtensorflow), or use --backend wasm`;
    case 'blas':
      return `install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread; macOS has Accelerate) or point ${BLAS_LIBRARY_ENV_VAR} at a BLAS library with cblas_sgemm; --backend wasm needs neither`;
    case 'webgpu':
      return `npm install ${CHOICES.webgpu.package} ${DAWN_PACKAGE} (Dawn); on Linux it also needs a Vulkan driver (the GPU vendor's, or Mesa's lavapipe in software: scripts/setup-lavapipe.sh), or use --backend wasm`;
    default:
      return `reinstall ${CHOICES[choice].package}`;
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}

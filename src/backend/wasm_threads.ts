/**
 * tfjs-backend-wasm's multi-threaded SIMD build under Node. tfjs ships it but turns it off in
 * Node (its pthread workers are loaded from blob: URLs, which Node's worker_threads reject); the
 * emscripten glue itself supports worker_threads. Here the build is instantiated with real file
 * paths and registered as the 'wasm' backend, so XNNPACK's matrix products use every core
 * (about 2x on 2 cores, bit-identical results: the same kernels, split by output tiles).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as WasmPackage from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { LigoError } from '../errors.js';

const require = createRequire(import.meta.url);

/**
 * A text patch to tfjs-backend-wasm's emscripten glue. These match tfjs 4.22.0's exact text,
 * which is why package.json pins tfjs to an exact version; applyPatch throws when the text is
 * not there, so a tfjs update that changes it falls back to the single-threaded build with a log
 * line (select.ts) instead of silently running unpatched, and test/backend/wasm_threads.test.ts fails.
 */
export interface GluePatch {
  /** What the patch is for, for the error message. */
  what: string;
  /** Where the patch applies: a string (first occurrence) or a global RegExp (every occurrence). */
  search: string | RegExp;
  replacement: string;
}

export class WasmPatchError extends LigoError {}

/** `text` with `patch` applied; throws WasmPatchError when its search text does not occur. */
export function applyPatch(text: string, patch: GluePatch, file: string): string {
  const found = typeof patch.search === 'string' ? text.includes(patch.search) : new RegExp(patch.search.source, patch.search.flags.replace('g', '')).test(text);
  if (!found) {
    throw new WasmPatchError(`${file}: the ${patch.what} patch did not apply (tfjs-backend-wasm ${tf.version_core} glue has changed)`, {
      file,
      expected: String(patch.search),
      hint: 'pin @tensorflow/tfjs-backend-wasm to the version wasm_threads.ts was written for, or update the patch',
    });
  }
  return text.replace(patch.search, patch.replacement);
}

/** The worker script ships as a JS string export whose "\\n" escapes became real newlines inside string literals: escape them again. */
export const WORKER_NEWLINES_PATCH: GluePatch = { what: 'worker newline escapes', search: /\n/g, replacement: '\\n' };

/**
 * The glue starts a pool of 8 pthread workers, each loading the glue and the module (about a
 * second of CPU and 80 MB before any work); XNNPACK needs threads - 1 of them.
 */
export const threadPoolPatch = (threads: number): GluePatch => ({
  what: 'pthread pool size',
  search: 'var pthreadPoolSize=8;',
  replacement: `var pthreadPoolSize=${threads - 1};`,
});

/** tfjs-backend-wasm's threaded SIMD build: the glue, its worker script and the binary. */
export function threadedWasmFiles(): { out: string; mainScript: string; wasmFile: string; workerScript: string } {
  const out = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  return {
    out,
    mainScript: path.join(out, 'tfjs-backend-wasm-threaded-simd.js'),
    wasmFile: path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm'),
    workerScript: path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  };
}

export const WASM_THREADS_ENV_VAR = 'LIGO_WASM_THREADS';

interface EmscriptenWorker {
  unref(): void;
}

interface ThreadedModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): unknown;
  PThread: { runningWorkers: EmscriptenWorker[] };
  tfjs?: Record<string, unknown>;
}

type WasmInstantiate = (
  info: { env: Record<string, unknown> },
  receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
) => Record<string, never>;

type Factory = (config: {
  locateFile: (file: string) => string;
  mainScriptUrlOrBlob: string;
  instantiateWasm: WasmInstantiate;
}) => Promise<ThreadedModule>;

/** Threads for the wasm backend: `requested`, else LIGO_WASM_THREADS, else the machine's cores. */
export function wasmThreadCount(requested: number | undefined, env: Record<string, string | undefined>): number {
  const fromEnv = env[WASM_THREADS_ENV_VAR];
  const value = requested ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : os.availableParallelism());
  if (!Number.isInteger(value) || value < 1) throw new Error(`${WASM_THREADS_ENV_VAR} must be a positive integer, got "${fromEnv}"`);
  return value;
}

/**
 * Instantiates the threaded SIMD build and registers it as tfjs's 'wasm' backend (replacing the
 * stock single-threaded factory, whose kernels are registered under the same name and apply
 * unchanged). Call before the backend is first set.
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  const wasmPackage: typeof WasmPackage = await import('@tensorflow/tfjs-backend-wasm');
  const { out, mainScript, wasmFile, workerScript } = threadedWasmFiles();
  // Both patches are checked before anything is written or started.
  const { wasmWorkerContents } = require(workerScript) as { wasmWorkerContents: string };
  const worker = applyPatch(wasmWorkerContents, WORKER_NEWLINES_PATCH, workerScript);
  const glue = applyPatch(await readFile(mainScript, 'utf8'), threadPoolPatch(threads), mainScript);
  // The pthread workers need the worker script as a file.
  const workerFile = path.join(os.tmpdir(), `ligo-tfjs-wasm-worker-${process.pid}.js`);
  writeFileSync(workerFile, worker);
  process.once('exit', () => rmSync(workerFile, { force: true }));
  const binary = await readFile(wasmFile);
  const glueFile = path.join(os.tmpdir(), `ligo-tfjs-wasm-glue-${process.pid}.cjs`);
  writeFileSync(glueFile, glue);
  process.once('exit', () => rmSync(glueFile, { force: true }));
  const factory = require(glueFile) as Factory;
  const module = await factory({
    locateFile: (file) => (file.endsWith('.worker.js') ? workerFile : path.join(out, file)),
    mainScriptUrlOrBlob: mainScript,
    instantiateWasm(info, receive) {
      // The C++ side caps its thread pool at half the logical cores it is told about.
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      void WebAssembly.instantiate(binary, info as WebAssembly.Imports).then(({ instance, module: compiled }) => receive(instance, compiled));
      return {};
    },
  });
  // What the stock init attaches for BackendWasm.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  if (tf.findBackendFactory('wasm') !== undefined) tf.removeBackend('wasm');
  wasmPackage.setThreadsCount(threads);
  tf.registerBackend(
    'wasm',
    () => {
      const backend = new wasmPackage.BackendWasm(module as unknown as ConstructorParameters<typeof wasmPackage.BackendWasm>[0]);
      // The pool's threads never finish; unreferenced, they do not keep the process alive.
      for (const worker of module.PThread.runningWorkers) worker.unref();
      return backend;
    },
    3,
  );
}

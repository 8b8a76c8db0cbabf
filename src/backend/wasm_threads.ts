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
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

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
  const wasmPackage = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  const out = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const mainScript = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmFile = path.join(out, 'tfjs-backend-wasm-threaded-simd.wasm');
  // The worker script ships as a JS string export; the pthread workers need it as a file. Its "\n"
  // escapes became real newlines inside string literals in that export: escape them again.
  const { wasmWorkerContents } = require(path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const workerFile = path.join(os.tmpdir(), `ligo-tfjs-wasm-worker-${process.pid}.js`);
  writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  process.once('exit', () => rmSync(workerFile, { force: true }));
  const binary = await readFile(wasmFile);
  // The glue starts a pool of 8 pthread workers, each loading the glue and the module (about a
  // second of CPU and 80 MB before any work); XNNPACK needs threads - 1 of them.
  const glue = (await readFile(mainScript, 'utf8')).replace('var pthreadPoolSize=8;', `var pthreadPoolSize=${threads - 1};`);
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

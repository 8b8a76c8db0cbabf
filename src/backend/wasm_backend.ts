/**
 * Starting tfjs-backend-wasm: ligo's missing kernels and faster matrix products registered, the
 * multi-threaded build where threads are asked for (the single-threaded one when it cannot load),
 * and a guard that turns a failed heap allocation into an error.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendProfile } from './profile.js';
import { activate, firstLine, type BackendStarter, type StartOptions, type StartedBackend } from './start.js';
import { installWasmHeapGuard } from './wasm_heap_guard.js';
import { registerWasmKernels } from './wasm_kernels.js';
import { registerFastWasmMatMul } from './wasm_matmul.js';
import { registerThreadedWasm, wasmThreadCount } from './wasm_threads.js';

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

async function start({ threads, env, log }: StartOptions): Promise<StartedBackend> {
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
  await activate('wasm', WASM_PACKAGE);
  installWasmHeapGuard(tf.findBackend('wasm'));
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
  const running = wasm.getThreadsCount();
  return {
    description: `wasm (${WASM_PACKAGE}, ${simd}, ${running} thread${running === 1 ? '' : 's'})`,
    profile: backendProfile('wasm', env),
  };
}

export const WASM_BACKEND: BackendStarter = {
  name: 'wasm',
  package: WASM_PACKAGE,
  start,
  hint: `reinstall ${WASM_PACKAGE}`,
};

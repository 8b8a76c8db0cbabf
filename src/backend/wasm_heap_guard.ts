import * as tf from '@tensorflow/tfjs-core';
import { LigoError } from '../errors.js';

import { WASM_HEAP_LIMIT_BYTES } from './profile.js';

/** The slice of BackendWasm the guard touches (structural: BackendWasm keeps these members public in JS). */
interface GuardableWasmBackend {
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  dataIdMap: { get(dataId: object): { memoryOffset?: number | null } | undefined; delete(dataId: object): boolean };
  __ligoHeapGuard?: true;
}

function isGuardable(backend: unknown): backend is GuardableWasmBackend {
  return typeof backend === 'object' && backend !== null && 'move' in backend && 'dataIdMap' in backend;
}

export class WasmHeapFullError extends LigoError {}

/** The error for a failed wasm allocation of `bytes` bytes. */
export function wasmHeapFullError(bytes: number): WasmHeapFullError {
  return new WasmHeapFullError(
    `the wasm heap is full (4 GiB limit of tfjs-backend-wasm): could not allocate ${(bytes / 1024 ** 2).toFixed(1)} MiB`,
    {
      expected: `at most ${WASM_HEAP_LIMIT_BYTES} bytes of live tensors`,
      actual: `an allocation of ${bytes} bytes failed`,
      hint: 'use a smaller model, a smaller --batch-size / --seq-len, or --backend tensorflow (no heap limit)',
    },
  );
}

/**
 * True when an allocation of `bytes` came back as address 0. tfjs-backend-wasm ignores a failed
 * `_malloc` (it returns 0) and goes on writing into address 0 and computing garbage; a tensor of
 * positive size can never legitimately live at 0, so 0 means "out of heap".
 */
export function allocationFailed(memoryOffset: number | null | undefined, bytes: number): boolean {
  return bytes > 0 && memoryOffset === 0;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Wraps the wasm backend's `move` (every allocation, `write` and `makeOutput` included, goes through it)
 * so that a failed allocation throws a LigoError instead of silently producing wrong tensors.
 * Idempotent; a no-op for other backends.
 */
export function installWasmHeapGuard(backend: unknown = tf.findBackend('wasm')): boolean {
  if (!isGuardable(backend)) return false;
  if (backend.__ligoHeapGuard) return true;
  const original = backend.move.bind(backend);
  backend.move = (dataId, values, shape, dtype, refCount) => {
    if (dtype === 'string') return original(dataId, values, shape, dtype, refCount);
    const bytes = shape.reduce((a, b) => a * b, 1) * (BYTES_PER_ELEMENT[dtype] ?? 4);
    // _malloc takes a 32-bit size: 5 GiB would silently become a 1 GiB allocation; and nothing
    // larger than the heap can be allocated.
    if (bytes > WASM_HEAP_LIMIT_BYTES) throw wasmHeapFullError(bytes);
    original(dataId, values, shape, dtype, refCount);
    if (allocationFailed(backend.dataIdMap.get(dataId)?.memoryOffset, bytes)) {
      backend.dataIdMap.delete(dataId);
      throw wasmHeapFullError(bytes);
    }
  };
  backend.__ligoHeapGuard = true;
  return true;
}

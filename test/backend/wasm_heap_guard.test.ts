import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { allocationFailed, installWasmHeapGuard, WasmHeapFullError } from '../../src/backend/wasm_heap_guard.js';
import { LigoError } from '../../src/errors.js';

interface MakesOutput {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

describe('wasm heap guard', () => {
  it('treats address 0 for a non-empty allocation as a failure', () => {
    expect(allocationFailed(0, 16)).toBe(true);
    expect(allocationFailed(0, 0)).toBe(false);
    expect(allocationFailed(1024, 16)).toBe(false);
    expect(allocationFailed(null, 16)).toBe(false);
  });

  it('wraps a backend so a failed allocation throws and leaves no entry behind', () => {
    const map = new Map<object, { memoryOffset: number }>();
    const fake = {
      move(dataId: object, _values: unknown, shape: number[], _dtype: string, _refCount: number) {
        map.set(dataId, { memoryOffset: shape[0] > 100 ? 0 : 64 });
      },
      dataIdMap: { get: (id: object) => map.get(id), delete: (id: object) => map.delete(id) },
    };
    expect(installWasmHeapGuard(fake)).toBe(true);
    expect(installWasmHeapGuard(fake)).toBe(true); // idempotent
    const ok = {};
    fake.move(ok, null, [10], 'float32', 1);
    expect(map.has(ok)).toBe(true);
    const big = {};
    expect(() => fake.move(big, null, [1000], 'float32', 1)).toThrow(WasmHeapFullError);
    expect(map.has(big)).toBe(false);
    expect(installWasmHeapGuard({})).toBe(false);
  });

  it('throws a LigoError for an allocation past the 4 GiB wasm heap', async () => {
    await initBackend({ backend: 'wasm' });
    const backend = tf.backend() as unknown as MakesOutput;
    // 5 GiB of float32 would wrap to 1 GiB in _malloc's 32-bit size.
    const tooBig = () => backend.makeOutput([1.25 * 1024 ** 3], 'float32');
    expect(tooBig).toThrow(LigoError);
    expect(tooBig).toThrow(/wasm heap is full \(4 GiB limit of tfjs-backend-wasm\)/);
    // 2.5 GiB then 2 GiB: the second _malloc returns 0. Untouched pages cost no resident memory.
    const first = backend.makeOutput([0.625 * 1024 ** 3], 'float32');
    try {
      expect(() => backend.makeOutput([0.5 * 1024 ** 3], 'float32')).toThrow(/wasm heap is full/);
    } finally {
      backend.disposeData(first.dataId);
    }
    // The backend still works afterwards.
    const t = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));
    expect(Array.from(await t.data())).toEqual([4, 6]);
    t.dispose();
  });
});

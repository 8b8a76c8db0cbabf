import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CPU_BACKENDS } from './blas_available.js';
import { BACKEND_PROFILES, backendProfile, initBackend, WASM_HEAP_LIMIT_BYTES } from '../../src/backend/index.js';

describe('backend profiles', () => {
  it('name each backend after its key, and give wasm its heap limit', () => {
    for (const [name, profile] of Object.entries(BACKEND_PROFILES)) expect(profile.name).toBe(name);
    expect(backendProfile('wasm').memoryLimit?.bytes).toBe(WASM_HEAP_LIMIT_BYTES);
    expect(backendProfile('tensorflow').memoryLimit).toBeUndefined();
    expect(backendProfile('some-future-backend').missingKernels).toEqual([]);
  });

  it.each(CPU_BACKENDS)('%s: every kernel its profile says stock tfjs lacks is registered once the backend starts', async (name) => {
    await initBackend({ backend: name });
    for (const kernel of BACKEND_PROFILES[name].missingKernels) expect(tf.getKernel(kernel, name), kernel).toBeDefined();
  });
});

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { currentBackend, initBackend } from '../../src/backend/index.js';

async function usageError(run: () => Promise<unknown>): Promise<UsageError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('initBackend', () => {
  it('forced cpu reports cpu and is idempotent', async () => {
    const messages: string[] = [];
    const info = await initBackend({ backend: 'cpu', log: (m) => messages.push(m) });
    expect(info).toEqual({ name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', tried: [] });
    expect(currentBackend()).toBe('cpu');
    expect(await initBackend({ backend: 'cpu' })).toBe(info);
    expect(messages.join('\n')).toMatch(/cpu/);
  });

  it('LIGO_BACKEND forces a backend when no flag is given; the flag wins', async () => {
    expect((await initBackend({ env: { LIGO_BACKEND: 'cpu' } })).name).toBe('cpu');
    expect((await initBackend({ backend: 'wasm', env: { LIGO_BACKEND: 'cpu' } })).name).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
  });

  it('forcing tensorflow without @tensorflow/tfjs-node is a UsageError naming the flag and package', async () => {
    const err = await usageError(() => initBackend({ backend: 'tensorflow' }));
    expect(err.message).toContain('--backend');
    expect(err.message).toContain('@tensorflow/tfjs-node');
    expect(err.flag).toBe('--backend');
    expect(err.hint).toContain('npm install @tensorflow/tfjs-node');
  });

  it('an unknown name from the environment is a UsageError naming LIGO_BACKEND', async () => {
    const err = await usageError(() => initBackend({ env: { LIGO_BACKEND: 'tpu' } }));
    expect(err.message).toContain('LIGO_BACKEND');
    expect(err.actual).toBe('tpu');
  });

  it('auto picks the first backend that loads and lists the ones that did not', async () => {
    const info = await initBackend({ env: {} });
    expect(['tensorflow', 'blas', 'wasm']).toContain(info.name);
    if (info.name !== 'tensorflow') {
      expect(info.tried.map((t) => t.name).slice(0, 2)).toEqual(['tensorflow-gpu', 'tensorflow']);
      expect(info.tried[1].error).toContain('@tensorflow/tfjs-node');
    }
    expect(await initBackend({ backend: 'auto' })).toBe(info);
    await tf.setBackend('cpu');
    await initBackend({ env: {} }); // puts the selected backend back
    expect(currentBackend()).toBe(info.name);
  });

  /** initBackend in a fresh process with `env` added. */
  function inChild(env: Record<string, string>): { name?: string; tried?: string[]; log: string[]; error?: string; hint?: string } {
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.resolve('test/backend/select_child.ts')], {
      env: { ...process.env, LIGO_BACKEND: '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '');
  }

  it('auto falls back from blas to wasm with one log line when no BLAS library loads', () => {
    const result = inChild({ LIGO_BLAS_LIBRARY: '/nonexistent/libopenblas.so.0' });
    expect(result.name).toBe('wasm');
    expect(result.tried).toContain('blas');
    const lines = result.log.filter((l) => l.includes('blas'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/blas backend unavailable .*libopenblas.*falling back/);
  });

  it('forcing blas when no BLAS library loads is an error naming the library, with an install hint', () => {
    const result = inChild({ LIGO_BACKEND: 'blas', LIGO_BLAS_LIBRARY: '/nonexistent/libblas.so' });
    expect(result.error).toContain('LIGO_BACKEND blas');
    expect(result.error).toContain('/nonexistent/libblas.so');
    expect(result.hint).toContain('OpenBLAS');
  });
});

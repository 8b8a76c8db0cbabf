import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { currentBackend, initBackend } from '../../src/backend/index.js';
import { BLAS_INSTALL_COMMAND, BLAS_SPEEDUP_OVER_WASM } from '../../src/backend/blas_backend.js';

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
    expect(info).toMatchObject({ name: 'cpu', package: '@tensorflow/tfjs-backend-cpu', tried: [], profile: { name: 'cpu', device: 'software' } });
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
      // webgpu comes first; on a machine without a GPU it is passed over (no driver, or a software adapter).
      expect(info.tried.map((t) => t.name).slice(0, 3)).toEqual(['webgpu', 'tensorflow-gpu', 'tensorflow']);
      expect(info.tried[0].error).toMatch(/no Vulkan driver for a GPU|software adapter|no WebGPU adapter/);
      expect(info.tried[2].error).toContain('@tensorflow/tfjs-node');
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
    expect(lines[0]).toMatch(/blas backend unavailable .*libopenblas.*falling back to wasm/);
    // What the fallback costs (a measured ratio) and the one command that installs blas.
    expect(lines[0]).toContain(`about ${BLAS_SPEEDUP_OVER_WASM}x slower`);
    expect(lines[0]).toContain(BLAS_INSTALL_COMMAND);
  });

  it('forcing blas when no BLAS library loads is an error naming the library, with an install hint', () => {
    const result = inChild({ LIGO_BACKEND: 'blas', LIGO_BLAS_LIBRARY: '/nonexistent/libblas.so' });
    expect(result.error).toContain('LIGO_BACKEND blas');
    expect(result.error).toContain('/nonexistent/libblas.so');
    expect(result.hint).toContain('OpenBLAS');
  });

  it('auto mode passes webgpu over quietly when only lavapipe (or no Vulkan driver) is installed', async () => {
    const { gpuDriverMaybePresent } = await import('../../src/backend/webgpu.js');
    const dirs = (files: Record<string, string[]>) => (dir: string) => files[dir] ?? [];
    expect(gpuDriverMaybePresent({}, dirs({}), 'linux')).toBe(false);
    expect(gpuDriverMaybePresent({}, dirs({ '/usr/share/vulkan/icd.d': ['lvp_icd.x86_64.json'] }), 'linux')).toBe(false);
    const icds = { '/usr/share/vulkan/icd.d': ['lvp_icd.json', 'nvidia_icd.json'] };
    expect(gpuDriverMaybePresent({}, dirs({ ...icds, '/dev': ['null', 'nvidia0', 'nvidiactl'] }), 'linux')).toBe(true);
    expect(gpuDriverMaybePresent({}, dirs({ ...icds, '/dev/dri': ['card0', 'renderD128'] }), 'linux')).toBe(true);
    // Mesa installs Intel/Radeon manifests on GPU-less machines too: without a device node, no probe.
    const mesa = { '/usr/share/vulkan/icd.d': ['intel_icd.json', 'radeon_icd.json', 'lvp_icd.json'] };
    expect(gpuDriverMaybePresent({}, dirs({ ...mesa, '/dev': ['null', 'zero'] }), 'linux')).toBe(false);
    expect(gpuDriverMaybePresent({}, dirs({ ...icds, '/dev/dri': ['card0'] }), 'linux')).toBe(false);
    expect(gpuDriverMaybePresent({ VK_DRIVER_FILES: '/usr/local/nvidia/icd.json' }, dirs({}), 'linux')).toBe(true);
    expect(gpuDriverMaybePresent({}, dirs({}), 'darwin')).toBe(true);
  });

  it('software adapters are told from the adapter info', async () => {
    const { isSoftwareAdapter } = await import('../../src/backend/webgpu.js');
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'nvidia' }, true)).toBe(true); // isFallbackAdapter
  });
});

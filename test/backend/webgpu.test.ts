/**
 * The webgpu backend on whatever adapter this machine has: in CI, Mesa's lavapipe (a software
 * Vulkan driver, about 1 GFLOP/s), installed by scripts/setup-lavapipe.sh. Kept tiny for that
 * reason. Skipped, with the reason in the suite title, where Dawn finds no adapter. Forward parity
 * on the golden cases is in test/models/golden.test.ts, with the other backends.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/select.js';
import type { TargetOptions } from '../../src/growth/target.js';
import type { LearnOptions } from '../../src/train/learn.js';
import { lastJson, ligo, ligoProcess, LLAMA_DIR } from '../cli/helpers.js';
import { learnSteps, operatorGradients, relativeDiff, webGpuAvailability } from './webgpu_helpers.js';

const gpu = await webGpuAvailability();

/** Operator gradients on webgpu against wasm's: max |difference| over max |gradient|, per parameter. */
const GRADIENT_TOLERANCE = 1e-4;

describe.skipIf(!gpu.ok)(`webgpu backend (${gpu.reason})`, () => {
  it('--backend webgpu says which adapter, and that a software adapter is one', async () => {
    const lines: string[] = [];
    const info = await initBackend({ backend: 'webgpu', log: (m) => lines.push(m) });
    expect(info.name).toBe('webgpu');
    expect(info.adapter).toBeDefined();
    expect(lines[0]).toMatch(/^backend: webgpu \(@tensorflow\/tfjs-backend-webgpu, .+\)$/);
    if (info.adapter?.software) expect(lines.filter((l) => /is a software adapter/.test(l))).toHaveLength(1);
  });

  const gradientCases: [string, TargetOptions, boolean][] = [
    ['llama-gqa-untied', { hiddenSize: 96, layers: 3 }, false],
    ['gpt2-prefixed', { hiddenSize: 96, layers: 3 }, true],
    ['bert-mlm', { hiddenSize: 96, layers: 3 }, false],
  ];
  it.each(gradientCases)('LiGO operator gradients equal wasm\'s within 1e-4 relative (%s grown to %o, recompute %s)', async (name, target, recompute) => {
    await initBackend({ backend: 'wasm' });
    const reference = await operatorGradients(name, target, recompute);
    await initBackend({ backend: 'webgpu' });
    const before = tf.memory().numTensors;
    const got = await operatorGradients(name, target, recompute);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(got.loss - reference.loss) / Math.abs(reference.loss)).toBeLessThan(1e-5);
    expect([...got.grads.keys()].sort()).toEqual([...reference.grads.keys()].sort());
    const worst = Math.max(...[...reference.grads].map(([k, g]) => relativeDiff(got.grads.get(k) ?? new Float32Array(g.length), g)));
    console.log(`${name}${recompute ? ' --recompute' : ''}: operator gradients webgpu vs wasm, max relative difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(GRADIENT_TOLERANCE);
  });

  it('the learning phase with --recompute, --grad-accum and --distill follows wasm and leaks no tensors', async () => {
    const options: LearnOptions = { steps: 2, lr: 1e-2, warmup: 1, weightDecay: 0.01, clip: 1, gradAccum: 2, distill: 0.5, seed: 0 };
    const run = async (backend: 'wasm' | 'webgpu', recompute: boolean) => {
      await initBackend({ backend });
      const before = tf.memory().numTensors;
      const result = await learnSteps({ ...options, recompute });
      expect(tf.memory().numTensors).toBe(before);
      return result;
    };
    for (const recompute of [false, true]) {
      const reference = await run('wasm', recompute);
      const got = await run('webgpu', recompute);
      expect(new Set(got.counts).size, 'live tensors across steps').toBe(1);
      for (let i = 0; i < reference.losses.length; i++) expect(got.losses[i]).toBeCloseTo(reference.losses[i], 4);
    }
  });

  it('grow --backend webgpu (--recompute --grad-accum --distill), eval and apply of the learned operator, end to end', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'ligo-webgpu-'));
    try {
      const data = path.join(work, 'text.txt');
      await writeFile(data, (await readFile('fixtures/text/corpus.txt', 'utf8')).slice(0, 2000));
      const grown = path.join(work, 'grown');
      const run = await ligo(['grow', LLAMA_DIR, '--hidden-size', '96', '--layers', '3', '--data', data, '--steps', '2', '--batch-size', '2',
        '--seq-len', '16', '--grad-accum', '2', '--recompute', '--distill', '0.5', '--out', grown, '--json', '--backend', 'webgpu']);
      expect(run.code, run.stderr).toBe(0);
      expect(lastJson(run)).toMatchObject({ backend: 'webgpu', steps: 2 });
      const evalArgs = ['eval', grown, '--data', data, '--seq-len', '16', '--json', '--quiet'];
      const onGpu = lastJson(await ligo([...evalArgs, '--backend', 'webgpu']));
      const onWasm = lastJson(await ligo([...evalArgs, '--backend', 'wasm']));
      expect(onGpu.backend).toBe('webgpu');
      expect(Math.abs(Number(onGpu.loss) - Number(onWasm.loss))).toBeLessThan(1e-4);
      const applied = path.join(work, 'applied');
      const again = await ligo(['apply', LLAMA_DIR, '--operator', grown, '--out', applied, '--json', '--backend', 'webgpu']);
      expect(again.code, again.stderr).toBe(0);
      const [a, b] = await Promise.all([readFile(path.join(grown, 'model.safetensors')), readFile(path.join(applied, 'model.safetensors'))]);
      expect(a.equals(b)).toBe(true);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!gpu.ok)('webgpu forced where Dawn finds no adapter', () => {
  it('exits 2 with one line saying what Dawn said', async () => {
    // An ICD list naming no file: the Vulkan loader finds no driver, as on a machine without one.
    const run = await ligoProcess(['eval', LLAMA_DIR, '--data', 'fixtures/text/corpus.txt', '--seq-len', '16'], {
      LIGO_BACKEND: 'webgpu',
      VK_ICD_FILENAMES: '/nonexistent/icd.json',
      VK_DRIVER_FILES: '/nonexistent/icd.json',
    });
    expect(run.code).toBe(2);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('ligo:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/LIGO_BACKEND webgpu: .*Dawn found no WebGPU adapter/);
    expect(run.stderr).toMatch(/Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/);
  });
});

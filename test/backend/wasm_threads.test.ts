import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { wasmThreadCount } from '../../src/backend/wasm_threads.js';

const CHILD = path.resolve('test/backend/matmul_child.ts');

function run(threads: number): { threads: number; hash: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, LIGO_WASM_THREADS: String(threads) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  // A hung pool thread would keep the child alive until the timeout (status null).
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as { threads: number; hash: string };
}

describe('multi-threaded wasm backend under Node', () => {
  it('runs matrix products on 2 threads, bit-identical to 1 thread, and the process exits on its own', () => {
    const one = run(1);
    const two = run(2);
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.hash).toBe(one.hash);
  });

  it('takes the thread count from the option, else LIGO_WASM_THREADS, else the cores', () => {
    expect(wasmThreadCount(3, { LIGO_WASM_THREADS: '1' })).toBe(3);
    expect(wasmThreadCount(undefined, { LIGO_WASM_THREADS: '1' })).toBe(1);
    expect(wasmThreadCount(undefined, {})).toBe(os.availableParallelism());
    expect(() => wasmThreadCount(undefined, { LIGO_WASM_THREADS: 'two' })).toThrow(/LIGO_WASM_THREADS must be a positive integer, got "two"/);
  });
});

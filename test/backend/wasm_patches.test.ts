import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { applyPatch, threadedWasmFiles, threadPoolPatch, WasmPatchError, WORKER_NEWLINES_PATCH } from '../../src/backend/wasm_threads.js';

const require = createRequire(import.meta.url);

describe('string patches to the installed tfjs-backend-wasm glue', () => {
  const files = threadedWasmFiles();

  it('the pthread pool size patch applies to the installed glue', () => {
    const glue = readFileSync(files.mainScript, 'utf8');
    const patched = applyPatch(glue, threadPoolPatch(2), files.mainScript);
    expect(patched).toContain('var pthreadPoolSize=1;');
    expect(patched).not.toContain('var pthreadPoolSize=8;');
  });

  it('the worker newline patch applies to the installed worker script', () => {
    const { wasmWorkerContents } = require(files.workerScript) as { wasmWorkerContents: string };
    expect(applyPatch(wasmWorkerContents, WORKER_NEWLINES_PATCH, files.workerScript)).not.toContain('\n');
  });

  it('throws, naming the file and the patch, when the text is not there', () => {
    expect(() => applyPatch('var pthreadPoolSize=4;', threadPoolPatch(2), 'glue.js')).toThrow(WasmPatchError);
    expect(() => applyPatch('one line', WORKER_NEWLINES_PATCH, 'worker.js')).toThrow(/worker.js: the worker newline escapes patch did not apply/);
  });

  it('package.json pins every tfjs package to an exact version (the patches match its exact text)', () => {
    const pkg = require('../../package.json') as { dependencies: Record<string, string> };
    const tfjs = Object.entries(pkg.dependencies).filter(([name]) => name.startsWith('@tensorflow/'));
    expect(tfjs.length).toBeGreaterThan(0);
    for (const [name, version] of tfjs) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

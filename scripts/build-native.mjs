#!/usr/bin/env node
// Builds ligo's native kernels (native/ligo_kernels.c) into build/native/, where
// src/backend/native_kernels.ts loads them through koffi. Runs at `npm install`. Never fails the
// install: without a C compiler it says so in one line and ligo runs the same kernels in
// JavaScript (single-threaded, slower). Tries OpenMP first (both cores), then without it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'native', 'ligo_kernels.c');
const outDir = path.join(root, 'build', 'native');
const extension = process.platform === 'darwin' ? 'dylib' : process.platform === 'win32' ? 'dll' : 'so';
const target = path.join(outDir, `libligo_kernels.${extension}`);

// -ffp-contract=off keeps every multiply and add rounded as the JavaScript kernels round them;
// -fno-trapping-math lets the clamps and selects vectorize (ligo never reads FP exception flags).
const COMMON = ['-O3', '-ffp-contract=off', '-fno-math-errno', '-fno-trapping-math', '-shared', '-fPIC', '-o'];

function compile(compiler, openmp) {
  const partial = `${target}.partial`;
  const args = [...(openmp ? ['-fopenmp'] : []), ...COMMON, partial, source, '-lm'];
  const run = spawnSync(compiler, args, { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) {
    rmSync(partial, { force: true });
    return (run.error?.message ?? run.stderr.split('\n')[0]) || `exit ${run.status}`;
  }
  renameSync(partial, target); // a half-written library is never left where the loader looks
  return undefined;
}

function main() {
  if (process.env.LIGO_SKIP_NATIVE_BUILD === '1') return console.log('build-native: skipped (LIGO_SKIP_NATIVE_BUILD=1)');
  mkdirSync(outDir, { recursive: true });
  const compilers = [process.env.CC, 'cc', 'gcc', 'clang'].filter((c) => c !== undefined && c !== '');
  const failures = [];
  for (const compiler of compilers) {
    for (const openmp of [true, false]) {
      const failure = compile(compiler, openmp);
      if (failure === undefined) {
        console.log(`build-native: ${path.relative(root, target)} (${compiler}${openmp ? ', OpenMP' : ', one thread: no OpenMP'})`);
        return;
      }
      failures.push(`${compiler}${openmp ? ' -fopenmp' : ''}: ${failure}`);
    }
  }
  console.log(`build-native: no C compiler built the native kernels (${failures.join('; ')}); ligo runs them in JavaScript, slower`);
}

main();

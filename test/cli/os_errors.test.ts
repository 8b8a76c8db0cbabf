/**
 * The machine's failures while `ligo grow` writes --out, simulated by failing node:fs/promises
 * calls: the disk filling up, a directory not ours, too many open files. Each exits 1 with one line
 * that names it (never "a bug in ligo") and leaves no half-written output.
 */
import type * as FsPromises from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { errorLines, ligo, LLAMA_DIR, SAMPLE_TEXT } from './helpers.js';

/** Which failure the mocked fs injects now. */
const inject = vi.hoisted(() => ({
  failure: undefined as undefined | 'ENOSPC' | 'EACCES' | 'EMFILE' | 'EACCES-readdir' | 'small-disk',
  /** safetensors files opened for writing since the last reset. */
  weightsOpened: 0,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  const osError = (code: string, syscall: string, file?: string): Error =>
    Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall, ...(file === undefined ? {} : { path: file }) });
  const staging = (file: unknown): boolean => String(file).includes('.ligo-partial-');
  return {
    ...fs,
    // A weights file opens, then its first write finds the disk full (the write call has no path).
    open: async (...args: Parameters<typeof fs.open>) => {
      if (String(args[0]).endsWith('.safetensors') && args[1] === 'w') inject.weightsOpened++;
      const handle = await fs.open(...args);
      if (inject.failure === 'EMFILE' && staging(args[0])) {
        await handle.close();
        throw osError('EMFILE', 'open', String(args[0]));
      }
      if (inject.failure !== 'ENOSPC' || !String(args[0]).endsWith('.safetensors') || args[1] !== 'w') return handle;
      return new Proxy(handle, {
        get(target, key) {
          if (key === 'write') return async () => Promise.reject(osError('ENOSPC', 'write'));
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
    // Listing an existing --out is refused: checked before any writing, so cli/main.ts names it.
    readdir: async (...args: Parameters<typeof fs.readdir>) => {
      if (inject.failure === 'EACCES-readdir' && String(args[0]).endsWith('grown')) throw osError('EACCES', 'scandir', String(args[0]));
      return fs.readdir(...args);
    },
    // A disk with 40 KiB free: less than any grown golden model's weights.
    statfs: async (...args: Parameters<typeof fs.statfs>) => {
      const stats = await fs.statfs(...args);
      return inject.failure === 'small-disk' ? Object.assign(stats, { bavail: 10, bsize: 4096 }) : stats;
    },
    mkdir: async (...args: Parameters<typeof fs.mkdir>) => {
      if (inject.failure === 'EACCES' && staging(args[0])) throw osError('EACCES', 'mkdir', String(args[0]));
      return fs.mkdir(...args);
    },
  };
});

describe('ligo grow when the machine refuses a write', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ligo-oserror-cli-'));
  });

  const grow = () => ligo(['grow', LLAMA_DIR, '--layers', '3', '--method', 'stack', '--out', path.join(root, 'grown')], { LIGO_BACKEND: 'wasm' });

  function expectOneLine(run: Awaited<ReturnType<typeof grow>>, pattern: RegExp): void {
    expect(run.code).toBe(1);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(pattern);
    expect(run.stderr).not.toMatch(/bug in ligo/);
  }

  it('a full disk: where, the bytes needed and free; nothing left in --out\'s directory', async () => {
    inject.failure = 'ENOSPC';
    const run = await grow();
    inject.failure = undefined;
    const root_ = root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expectOneLine(run, new RegExp(`^ligo: no space left on ${root_}: needs about [\\d.]+ (B|KiB|MiB|GiB), [\\d.]+ (B|KiB|MiB|GiB|TiB) free$`));
    expect(await readdir(root)).toEqual([]);
  });

  it('permission denied on --out\'s directory', async () => {
    inject.failure = 'EACCES';
    const run = await grow();
    inject.failure = undefined;
    expectOneLine(run, new RegExp(`^ligo: permission denied on ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(await readdir(root)).toEqual([]);
  });

  it('permission denied on an existing --out that cannot be listed (the error reaches cli/main.ts as it is)', async () => {
    const out = path.join(root, 'grown');
    await mkdir(out);
    inject.failure = 'EACCES-readdir';
    const run = await grow();
    inject.failure = undefined;
    expectOneLine(run, new RegExp(`^ligo: permission denied on ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it('too many open files, with the limit', async () => {
    inject.failure = 'EMFILE';
    const run = await grow();
    inject.failure = undefined;
    expectOneLine(run, /^ligo: too many open files: the limit \(ulimit -n\) (is \d+|was reached); raise it/);
    expect(await readdir(root)).toEqual([]);
  });

  it('a disk too small for the output: refused before the first byte, streamed or in memory, with the size and the free space', async () => {
    const data = path.join(root, 'text.txt');
    await writeFile(data, SAMPLE_TEXT);
    for (const extra of [[], ['--data', data]]) {
      inject.failure = 'small-disk';
      inject.weightsOpened = 0;
      const run = await ligo(['grow', LLAMA_DIR, '--layers', '3', '--method', 'stack', '--out', path.join(root, 'grown'), ...extra], { LIGO_BACKEND: 'wasm' });
      inject.failure = undefined;
      expectOneLine(run, new RegExp(`^ligo: not enough space on ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the grown model needs about [\\d.]+ KiB, 40\\.0 KiB free$`));
      expect(run.stderr).toMatch(/^hint: .*--dtype/m);
      expect(run.stderr).not.toMatch(/^loading /m);
      expect(inject.weightsOpened).toBe(0);
      expect(await readdir(root)).toEqual(['text.txt']);
    }
  });

  it.skipIf(!existsSync('/proc/self'))('an --out under /proc: one line with the reason, not a bug and not a hang', async () => {
    const run = await ligo(['grow', LLAMA_DIR, '--layers', '3', '--out', '/proc/x/grown'], { LIGO_BACKEND: 'wasm' });
    expectOneLine(run, /^ligo: --out: cannot create \/proc\/x\/grown: the file system there does not allow new directories \(\/proc\)$/);
  });
});

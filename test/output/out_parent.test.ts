/**
 * --out is checked before any work: where it cannot be made, one line with the OS's reason. The
 * read-only and permission cases are injected (a test running as root could write anywhere).
 */
import type * as FsPromises from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkOutputParent, nearestExisting } from '../../src/output/out_parent.js';

const inject = vi.hoisted(() => ({ mkdir: undefined as undefined | 'EROFS' | 'EACCES' }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  return {
    ...fs,
    mkdtemp: async (...args: Parameters<typeof fs.mkdtemp>) => {
      if (inject.mkdir !== undefined) throw Object.assign(new Error(`${inject.mkdir}: simulated`), { code: inject.mkdir, syscall: 'mkdtemp', path: String(args[0]) });
      return fs.mkdtemp(...args);
    },
  };
});

describe('checkOutputParent', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ligo-out-parent-'));
  });
  afterEach(async () => {
    inject.mkdir = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('an --out whose parents do not exist yet is fine, and checking it creates nothing', async () => {
    const out = path.join(root, 'a', 'b', 'grown');
    expect(await nearestExisting(path.dirname(out))).toBe(root);
    await checkOutputParent(out);
    expect(await readdir(root)).toEqual([]);
  });

  it('a parent that is a file', async () => {
    const file = path.join(root, 'notes.txt');
    await writeFile(file, 'x');
    const out = path.join(file, 'grown');
    await expect(checkOutputParent(out)).rejects.toMatchObject({ name: 'UsageError', message: `--out: cannot create ${out}: ${file} is not a directory` });
  });

  it('a read-only file system and a directory not ours are named as such', async () => {
    const out = path.join(root, 'grown');
    inject.mkdir = 'EROFS';
    await expect(checkOutputParent(out)).rejects.toMatchObject({ name: 'SystemError', message: `--out: cannot create ${out}: read-only file system (${root})`, code: 'EROFS' });
    inject.mkdir = 'EACCES';
    await expect(checkOutputParent(out)).rejects.toMatchObject({ name: 'SystemError', message: `--out: cannot create ${out}: permission denied (${root})`, code: 'EACCES' });
  });

  // Node's recursive mkdir loops forever under /proc; the check must answer instead of hanging.
  it.skipIf(!existsSync('/proc/self'))('/proc, where no directory can be made, is refused at once, also two levels down', async () => {
    await expect(checkOutputParent('/proc/x')).rejects.toThrow('--out: cannot create /proc/x: the file system there does not allow new directories (/proc)');
    await expect(checkOutputParent('/proc/x/grown')).rejects.toThrow('--out: cannot create /proc/x/grown: the file system there does not allow new directories (/proc)');
  });
});

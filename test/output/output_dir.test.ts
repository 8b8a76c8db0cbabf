import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SystemError, systemError } from '../../src/errors.js';
import { removeStaleStaging, stagingDir, writeAtomically } from '../../src/output/output_dir.js';

/** The PID of a process that has exited (its staging directory is stale). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

const waitFor = async (ready: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 25));
};

describe('stale staging directories', () => {
  it('removes those whose process is gone, with one log line, and keeps a live one', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ligo-staging-'));
    const out = path.join(root, 'grown');
    const dead = stagingDir(out, deadPid());
    const live = stagingDir(out, process.pid);
    const otherOut = stagingDir(path.join(root, 'other'), deadPid());
    for (const dir of [dead, live, otherOut]) {
      await mkdir(dir);
      await writeFile(path.join(dir, 'model.safetensors'), 'partial');
    }
    const lines: string[] = [];
    const removed = await removeStaleStaging(out, (m) => lines.push(m));
    expect(removed).toEqual([path.basename(dead)]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(path.basename(dead));
    expect((await readdir(root)).sort()).toEqual([path.basename(live), path.basename(otherOut)].sort());
  });

  it('cleans up after a writer killed with SIGKILL, never while it is alive', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ligo-staging-'));
    const out = path.join(root, 'grown');
    // A stand-in writer: makes its staging directory as writeAtomically does, then waits to be killed.
    const script = `const fs = require('node:fs'); const p = require('node:path');
      const dir = p.join(${JSON.stringify(root)}, '.grown.ligo-partial-' + process.pid);
      fs.mkdirSync(dir); fs.writeFileSync(p.join(dir, 'model.safetensors'), 'half'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    const staging = stagingDir(out, pid);
    await waitFor(async () => (await readdir(root)).includes(path.basename(staging)));
    expect(await removeStaleStaging(out)).toEqual([]);
    expect(await readdir(root)).toContain(path.basename(staging));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const lines: string[] = [];
    expect(await removeStaleStaging(out, (m) => lines.push(m))).toEqual([path.basename(staging)]);
    expect(lines).toHaveLength(1);
    expect(await readdir(root)).toEqual([]);
  });
});

/** An error as Node's fs raises it: `code`, `syscall`, and `path` where the call had one. */
function osError(code: string, syscall: string, file?: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${syscall}${file === undefined ? '' : ` '${file}'`}`);
  return Object.assign(error, { code, syscall, ...(file === undefined ? {} : { path: file }) });
}

describe('system errors while writing --out', () => {
  /** Runs writeAtomically with a build that writes part of the output, then fails with `error`. */
  async function failingWrite(error: Error | ((staging: string) => Error)): Promise<{ root: string; thrown: unknown }> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ligo-oserror-'));
    const build = async (dir: string): Promise<never> => {
      await writeFile(path.join(dir, 'model.safetensors'), 'half');
      throw typeof error === 'function' ? error(dir) : error;
    };
    const options = { bytesNeeded: 5 * 1024 ** 2, bytesFree: async () => 3 * 1024 ** 2 };
    const thrown = await writeAtomically(path.join(root, 'grown'), false, build, options).catch((e: unknown) => e);
    return { root, thrown };
  }

  it('a full disk says where, how much the output needs and how much is free, and leaves nothing behind', async () => {
    const { root, thrown } = await failingWrite(osError('ENOSPC', 'write'));
    expect(thrown).toBeInstanceOf(SystemError);
    expect((thrown as SystemError).message).toBe(`no space left on ${root}: needs about 5.0 MiB, 3.0 MiB free`);
    expect((thrown as SystemError).code).toBe('ENOSPC');
    expect(await readdir(root)).toEqual([]);
  });

  it('a permission denied inside the staging directory names --out\'s directory; elsewhere, the path itself', async () => {
    const inStaging = await failingWrite((staging) => osError('EACCES', 'open', path.join(staging, 'model.safetensors')));
    expect(inStaging.thrown).toBeInstanceOf(SystemError);
    expect((inStaging.thrown as SystemError).message).toBe(`permission denied on ${inStaging.root}`);
    expect(await readdir(inStaging.root)).toEqual([]);
    const source = await failingWrite(osError('EPERM', 'open', '/srv/source/tokenizer.json'));
    expect((source.thrown as SystemError).message).toBe('permission denied on /srv/source/tokenizer.json');
  });

  it('any other error passes through unchanged, and the output is still not left half-written', async () => {
    const plain = new Error('a bug');
    const { root, thrown } = await failingWrite(plain);
    expect(thrown).toBe(plain);
    expect(await readdir(root)).toEqual([]);
  });

  it('each OS failure is named as what it is, in one line', () => {
    const line = (error: Error, context = {}): string | undefined => systemError(error, context)?.message;
    expect(line(osError('ENOSPC', 'write'), { path: '/mnt/small' })).toBe('no space left on /mnt/small');
    expect(line(osError('EACCES', 'open', '/srv/model/config.json'))).toBe('permission denied on /srv/model/config.json');
    expect(line(osError('EMFILE', 'open', '/x'), { openFileLimit: () => 1024 })).toBe(
      'too many open files: the limit (ulimit -n) is 1024; raise it as far as the system allows with ulimit -n $(ulimit -Hn) and run again',
    );
    expect(line(osError('EMFILE', 'open'), { openFileLimit: () => undefined })).toMatch(/^too many open files: the limit \(ulimit -n\) was reached/);
    expect(line(osError('ENOENT', 'open', '/x'))).toBeUndefined();
    expect(line(new Error('plain'))).toBeUndefined();
    for (const message of [line(osError('ENOSPC', 'write')), line(osError('EROFS', 'open', '/ro'))]) expect(message).not.toContain('\n');
  });
});

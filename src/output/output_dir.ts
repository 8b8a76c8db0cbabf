import { rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode, systemError, UsageError } from '../errors.js';
import { exists } from '../util/exists.js';
import { freeBytes } from './disk_space.js';

/** The staging directory a run builds --out in: `.NAME.ligo-partial-PID`, next to --out. */
export function stagingDir(out: string, pid: number = process.pid): string {
  return path.join(path.dirname(path.resolve(out)), `${stagingPrefix(out)}${pid}`);
}

const stagingPrefix = (out: string): string => `.${path.basename(path.resolve(out))}.ligo-partial-`;

/** True while process `pid` exists (signal 0 checks without sending; EPERM: it exists but is someone else's). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the staging directories next to `out` that runs killed while writing left behind
 * (SIGKILL, a crash, power loss: no handler ran), each as large as the output. A directory is
 * stale when the process named by its PID is gone; one whose process is alive (another run
 * writing the same --out) is never touched. `.old` (the previous --out, renamed aside during
 * --overwrite) goes only when --out exists again. Says what it removed in one `log` line.
 */
export async function removeStaleStaging(out: string, log: (message: string) => void = () => undefined): Promise<string[]> {
  const parent = path.dirname(path.resolve(out));
  const prefix = stagingPrefix(out);
  const names = await readdir(parent).catch(() => [] as string[]);
  const outExists = await exists(out);
  const stale = names.filter((name) => {
    const match = name.startsWith(prefix) ? /^(\d+)(\.old)?$/.exec(name.slice(prefix.length)) : null;
    if (match === null) return false;
    const pid = Number(match[1]);
    return pid !== process.pid && !isAlive(pid) && (match[2] === undefined || outExists);
  });
  for (const name of stale) await rm(path.join(parent, name), { recursive: true, force: true });
  if (stale.length > 0) {
    log(`removed ${stale.length} staging ${stale.length === 1 ? 'directory' : 'directories'} of killed runs next to ${out}: ${stale.join(', ')}`);
  }
  return stale;
}

/** Refuses an existing non-empty --out unless overwriting; run before any long work. */
export async function checkOutputDir(out: string, overwrite: boolean): Promise<void> {
  if (!(await exists(out))) return;
  const entries = await readdir(out).catch((error: unknown) => {
    // Anything else (EACCES) is the machine's answer, which cli/main.ts names as such.
    if (errnoCode(error) !== 'ENOTDIR') throw error;
    throw new UsageError(`--out: ${out} exists and is not a directory`, { flag: '--out', file: out });
  });
  if (entries.length > 0 && !overwrite) {
    throw new UsageError(`--out: ${out} already exists and is not empty`, {
      flag: '--out',
      file: out,
      hint: 'choose another --out or pass --overwrite',
    });
  }
}

export interface WriteAtomicallyOptions {
  /** About how many bytes the output takes, for the message when the disk fills up. */
  bytesNeeded?: number;
  /** Bytes free to this user on the disk holding `dir` (tests inject it). */
  bytesFree?: (dir: string) => Promise<number>;
}

/**
 * Builds a directory next to `out` and renames it into place only when `build` succeeds, so an
 * interrupted or failed run never leaves a half-written --out (and never destroys an old one).
 * The disk filling up, or a directory not ours to write, is a SystemError naming the directory.
 */
export async function writeAtomically<T>(
  out: string,
  overwrite: boolean,
  build: (dir: string) => Promise<T>,
  options: WriteAtomicallyOptions = {},
): Promise<T> {
  await checkOutputDir(out, overwrite);
  try {
    return await buildInStaging(out, build);
  } catch (error) {
    throw await asOutputError(error, out, options);
  }
}

async function buildInStaging<T>(out: string, build: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const staging = stagingDir(out);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  // Ctrl-C: remove the staging directory, then let the signal end the process as usual.
  const cleanup = (): void => {
    rmSync(staging, { recursive: true, force: true });
    process.kill(process.pid, 'SIGINT');
  };
  process.once('SIGINT', cleanup);
  try {
    const result = await build(staging);
    if (await exists(out)) {
      const previous = `${staging}.old`;
      await rename(out, previous);
      await rename(staging, out);
      await rm(previous, { recursive: true, force: true });
    } else {
      await rename(staging, out);
    }
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    process.removeListener('SIGINT', cleanup);
  }
}

/**
 * A system error while writing --out, said about the directory it is written in (the staging
 * directory is gone by now): how much the output needs and how much is free (measured after the
 * partial output was removed), or whose permission is missing. Other errors pass unchanged.
 */
async function asOutputError(error: unknown, out: string, options: WriteAtomicallyOptions): Promise<unknown> {
  const code = errnoCode(error);
  if (code === undefined) return error;
  const parent = path.dirname(path.resolve(out));
  const errPath = error instanceof Error && 'path' in error && typeof error.path === 'string' ? error.path : undefined;
  // A path inside the staging directory means nothing to the user; its parent, --out's, does.
  const where = errPath === undefined || path.resolve(errPath).startsWith(stagingDir(out)) ? parent : errPath;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return systemError(error, { path: where }) ?? error;
  const bytesFree = await (options.bytesFree ?? freeBytes)(parent).catch(() => undefined);
  return systemError(error, { path: parent, bytesNeeded: options.bytesNeeded, bytesFree }) ?? error;
}

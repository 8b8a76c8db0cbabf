import { rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { UsageError } from '../errors.js';
import { exists } from '../util/exists.js';


/** Refuses an existing non-empty --out unless overwriting; run before any long work. */
export async function checkOutputDir(out: string, overwrite: boolean): Promise<void> {
  if (!(await exists(out))) return;
  const entries = await readdir(out).catch(() => {
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

/**
 * Builds a directory next to `out` and renames it into place only when `build` succeeds, so an
 * interrupted or failed run never leaves a half-written --out (and never destroys an old one).
 */
export async function writeAtomically<T>(out: string, overwrite: boolean, build: (dir: string) => Promise<T>): Promise<T> {
  await checkOutputDir(out, overwrite);
  const parent = path.dirname(path.resolve(out));
  await mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.${path.basename(out)}.ligo-partial-${process.pid}`);
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

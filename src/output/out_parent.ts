import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode, pathReason, SystemError, UsageError } from '../errors.js';

/** `dir` or its nearest ancestor that exists: where --out and its missing parents would be made. */
export async function nearestExisting(dir: string): Promise<string> {
  let current = path.resolve(dir);
  for (;;) {
    try {
      await stat(current);
      return current;
    } catch (error) {
      const code = errnoCode(error);
      const up = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || up === current) throw error;
      current = up;
    }
  }
}

/**
 * Before any work: --out can be made where it is asked for. The nearest existing ancestor must be a
 * directory in which a directory can be created; that is tried (and undone at once), since only
 * the file system knows (a read-only mount, /proc, a directory not ours). Each refusal names the
 * OS's reason, and a recursive mkdir never runs where it cannot succeed (Node's loops on /proc).
 */
export async function checkOutputParent(out: string): Promise<void> {
  const parent = path.dirname(path.resolve(out));
  let base: string;
  try {
    base = await nearestExisting(parent);
  } catch (error) {
    throw new SystemError(`--out: cannot create ${out}: ${pathReason(error)} (${parent})`, errnoCode(error) ?? 'EIO', { flag: '--out', file: parent });
  }
  if (!(await stat(base)).isDirectory()) throw new UsageError(`--out: cannot create ${out}: ${base} is not a directory`, { flag: '--out', file: base });
  let probe: string;
  try {
    // A fresh name each time: a probe left by a killed run cannot make this one fail.
    probe = await mkdtemp(path.join(base, '.ligo-probe-'));
  } catch (error) {
    const code = errnoCode(error);
    // ENOENT from mkdir in a directory that exists: a file system that makes no directories (/proc, /sys).
    const reason = code === 'ENOENT' ? 'the file system there does not allow new directories' : pathReason(error);
    throw new SystemError(`--out: cannot create ${out}: ${reason} (${base})`, code ?? 'EIO', { flag: '--out', file: base });
  }
  await rmdir(probe);
}

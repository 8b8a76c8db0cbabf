import { statfs } from 'node:fs/promises';
import { SystemError } from '../errors.js';
import { formatBytes } from '../util/bytes.js';
import { nearestExisting } from './out_parent.js';

/** Bytes free to this user on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

export interface DiskSpaceOptions {
  /** Bytes free on the file system holding a directory (tests inject it); default statfs. */
  bytesFree?: (dir: string) => Promise<number>;
}

/**
 * Before the first byte: the output (`bytesNeeded`, its weights at the output dtype) must fit in
 * the free space of the file system --out is written on, else a refusal with both sizes. A file
 * system statfs cannot read is not refused here: the write still names a full disk.
 */
export async function checkDiskSpace(out: string, bytesNeeded: number, options: DiskSpaceOptions = {}): Promise<void> {
  const dir = await nearestExisting(out);
  const free = await (options.bytesFree ?? freeBytes)(dir).catch(() => undefined);
  if (free === undefined || bytesNeeded <= free) return;
  throw new SystemError(`not enough space on ${dir}: the grown model needs about ${formatBytes(bytesNeeded)}, ${formatBytes(free)} free`, 'ENOSPC', {
    file: dir,
    flag: '--out',
    hint: 'free some space, write --out to another disk, or choose a smaller --dtype (bf16 halves f32)',
  });
}

import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { CheckpointError } from '../errors.js';

/** Folders never pushed: git metadata and the local cache huggingface_hub keeps inside a folder. */
const SKIPPED_DIRS = new Set(['.git', '.cache']);

export interface LocalFile {
  /** Path in the repo, `/`-separated. */
  path: string;
  /** Absolute path on disk. */
  file: string;
  size: number;
}

/** Every file under `dir`, sorted by repo path; read only, so a failed push leaves `dir` as it was. */
export async function listLocalFiles(dir: string): Promise<LocalFile[]> {
  const root = path.resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new CheckpointError(`${dir}: no such directory`, { file: dir });
  }
  if (!info.isDirectory()) throw new CheckpointError(`${dir}: not a directory`, { file: dir, hint: 'push takes the directory that grow wrote' });
  const found: LocalFile[] = [];
  await walk(root, '', found);
  if (found.length === 0) throw new CheckpointError(`${dir}: nothing to push, the directory is empty`, { file: dir });
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(dir: string, prefix: string, found: LocalFile[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const repoPath = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    // Follow links (a grown directory may link to cached files), as an upload of their contents.
    const info = entry.isSymbolicLink() ? await stat(file) : entry;
    if (info.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) await walk(file, repoPath, found);
    } else if (info.isFile()) {
      found.push({ path: repoPath, file, size: (await stat(file)).size });
    }
  }
}

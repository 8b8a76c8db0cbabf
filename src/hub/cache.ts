import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';
import { HubError } from '../errors.js';
import { COMMIT_HASH } from '../checkpoint/repo_id.js';

/**
 * The Hugging Face cache layout Python's huggingface_hub uses, so both share downloads:
 *   <cache>/models--owner--name/blobs/<etag>                 file contents (sha256 for LFS, git sha1 else)
 *   <cache>/models--owner--name/snapshots/<commit>/<file>    symlinks to ../../blobs/<etag>
 *   <cache>/models--owner--name/refs/<revision>              the commit a branch or tag pointed to
 * @huggingface/hub's downloadFileToCacheDir writes blobs and snapshots; refs are ours to write.
 */
export const repoCacheDir = (cacheDir: string, repo: string): string => path.join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));

export const snapshotDir = (cacheDir: string, repo: string, commit: string): string => path.join(repoCacheDir(cacheDir, repo), 'snapshots', commit);

/** Records where `revision` pointed, as Python does (the bare hash, no newline). */
export async function writeRef(cacheDir: string, repo: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const file = path.join(repoCacheDir(cacheDir, repo), 'refs', revision);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, commit);
}

/** The commit a revision last resolved to, from the cache alone; a commit id stands for itself. */
export async function cachedCommit(cacheDir: string, repo: string, revision: string, where: string): Promise<string> {
  if (COMMIT_HASH.test(revision)) return revision;
  const file = path.join(repoCacheDir(cacheDir, repo), 'refs', revision);
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch {
    throw new HubError(`offline (HF_HUB_OFFLINE): ${where} is not in the Hugging Face cache at ${cacheDir} (no ${path.join('refs', revision)})`, {
      hint: 'download it once without HF_HUB_OFFLINE, or point HF_HUB_CACHE / HF_HOME at the cache that has it',
    });
  }
  if (!COMMIT_HASH.test(text)) throw new HubError(`${file}: expected a 40-digit commit hash, found "${text.slice(0, 60)}"`);
  return text;
}

/** True when `name` (a path inside the snapshot) is a file whose blob is there. */
export async function isCachedFile(dir: string, name: string): Promise<boolean> {
  try {
    return (await stat(path.join(dir, name))).isFile();
  } catch {
    return false; // missing, or a snapshot link whose blob is gone
  }
}

/** Names of the files present in a cached snapshot (dangling links, i.e. missing blobs, left out). */
export async function cachedFiles(dir: string): Promise<Set<string>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return new Set();
  }
  const present = new Set<string>();
  for (const name of entries) if (await isCachedFile(dir, name)) present.add(name);
  return present;
}

import { createHash } from 'node:crypto';

/**
 * Repos of the fake Hub, in memory: commits hold full file maps, branches point at commits, and
 * LFS objects are kept per repo by sha256, as the real Hub addresses them.
 */
export interface StoredFile {
  content: Uint8Array;
  /** Git blob sha1: the `oid` the Hub reports and the blob name for non-LFS files in the cache. */
  oid: string;
  /** For LFS files: sha256 of the content (the blob name in the cache) and the pointer's size. */
  lfs?: { oid: string; size: number; pointerSize: number };
}

export interface FakeCommit {
  id: string;
  title: string;
  date: string;
  files: Map<string, StoredFile>;
}

export interface FakeRepo {
  name: string;
  private: boolean;
  branches: Map<string, string>;
  commits: Map<string, FakeCommit>;
  lfs: Map<string, Uint8Array>;
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function gitBlobSha1(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

/** What the real Hub's default .gitattributes would route through LFS; enough for these tests. */
export const isLfsPath = (path: string, size: number): boolean => /\.(safetensors|bin|pt|pth|ckpt|h5|msgpack|onnx)$/.test(path) || size >= 10_000_000;

export function storedFile(path: string, content: Uint8Array): StoredFile {
  if (!isLfsPath(path, content.byteLength)) return { content, oid: gitBlobSha1(content) };
  const oid = sha256(content);
  const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.byteLength}\n`;
  return { content, oid: gitBlobSha1(new TextEncoder().encode(pointer)), lfs: { oid, size: content.byteLength, pointerSize: pointer.length } };
}

let counter = 0;

/** Adds a commit on `branch` applying `changes` (null deletes) to the branch's head. */
export function addCommit(repo: FakeRepo, branch: string, title: string, changes: Map<string, StoredFile | null>): FakeCommit {
  const parentId = repo.branches.get(branch);
  const parent = parentId === undefined ? undefined : repo.commits.get(parentId);
  const files = new Map(parent?.files ?? []);
  for (const [path, file] of changes) {
    if (file === null) files.delete(path);
    else files.set(path, file);
  }
  const id = createHash('sha1').update(`${repo.name}\n${parentId ?? ''}\n${title}\n${++counter}`).digest('hex');
  const commit: FakeCommit = { id, title, date: new Date().toISOString(), files };
  repo.commits.set(id, commit);
  repo.branches.set(branch, id);
  return commit;
}

const GITATTRIBUTES = '*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n';

/** A new repo with the initial commit the Hub makes (a .gitattributes on main). */
export function createFakeRepo(name: string, isPrivate: boolean): FakeRepo {
  const repo: FakeRepo = { name, private: isPrivate, branches: new Map(), commits: new Map(), lfs: new Map() };
  const attributes = new TextEncoder().encode(GITATTRIBUTES);
  addCommit(repo, 'main', 'initial commit', new Map([['.gitattributes', storedFile('.gitattributes', attributes)]]));
  return repo;
}

/** A branch name, tag-less here, or a commit id; HEAD is the default branch. */
export function resolveRevision(repo: FakeRepo, revision: string): FakeCommit | undefined {
  const id = repo.branches.get(revision === 'HEAD' ? 'main' : revision) ?? revision;
  return repo.commits.get(id);
}

import { addCommit, storedFile, type FakeCommit, type FakeRepo, type StoredFile } from './fake_hub_store.js';

/** One answer of the fake Hub: a JSON body or raw bytes. */
export type Reply = { status: number; body?: unknown; bytes?: Uint8Array; headers?: Record<string, string> };

/** The Hub's error shape: `{"error": ...}`, with X-Error-Code where the Hub sends one. */
export const jsonError = (status: number, error: string, code?: string): Reply => ({ status, body: { error }, headers: code ? { 'X-Error-Code': code } : {} });

/** A file as the tree and paths-info endpoints list it. */
export const treeEntry = (path: string, f: StoredFile, commit?: FakeCommit) => ({
  type: 'file',
  path,
  oid: f.oid,
  size: f.content.byteLength,
  ...(f.lfs && { lfs: f.lfs }),
  ...(commit && { lastCommit: { id: commit.id, title: commit.title, date: commit.date } }),
});

/** GET /{repo}/resolve/{rev}/{file}: the bytes, honouring `Range`, with the ETag and commit headers. */
export function resolveFile(range: string | undefined, commit: FakeCommit, file: string): Reply {
  const stored = commit.files.get(file);
  if (stored === undefined) return jsonError(404, 'Entry not found', 'EntryNotFound');
  const size = stored.content.byteLength;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${stored.lfs?.oid ?? stored.oid}"`,
    'X-Repo-Commit': commit.id,
    ...(stored.lfs && { 'X-Linked-ETag': `"${stored.lfs.oid}"`, 'X-Linked-Size': `${size}` }),
  };
  const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
  if (match === null) return { status: 200, bytes: stored.content, headers };
  const start = Number(match[1]);
  const end = Math.min(match[2] === '' ? size - 1 : Number(match[2]), size - 1);
  if (start >= size) return { status: 416, headers: { 'Content-Range': `bytes */${size}` } };
  return { status: 206, bytes: stored.content.subarray(start, end + 1), headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` } };
}

/** POST /api/models/{repo}/commit/{branch}: NDJSON lines (header, file, lfsFile, deletedFile). */
export function applyCommit(repo: FakeRepo, branch: string, ndjson: string, hubUrl: string): Reply {
  if (!repo.branches.has(branch)) return jsonError(404, 'Revision not found', 'RevisionNotFound');
  let title = 'commit';
  const changes = new Map<string, StoredFile | null>();
  for (const line of ndjson.split('\n').filter((l) => l.trim() !== '')) {
    const { key, value } = JSON.parse(line) as { key: string; value: Record<string, string | number> };
    const path = String(value.path);
    if (key === 'header') title = String(value.summary);
    else if (key === 'file') changes.set(path, storedFile(path, new Uint8Array(Buffer.from(String(value.content), 'base64'))));
    else if (key === 'deletedFile') changes.set(path, null);
    else if (key === 'lfsFile') {
      // The real Hub refuses to commit a pointer to an object it does not hold.
      const content = repo.lfs.get(String(value.oid));
      if (content === undefined) return jsonError(422, `LFS object ${value.oid} for ${path} was not uploaded`);
      changes.set(path, storedFile(path, content));
    }
  }
  const made = addCommit(repo, branch, title, changes);
  return { status: 200, body: { success: true, commitOid: made.id, commitUrl: `${hubUrl}/${repo.name}/commit/${made.id}`, hookOutput: '' } };
}

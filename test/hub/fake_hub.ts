/**
 * A Hugging Face Hub on 127.0.0.1 that answers the endpoints @huggingface/hub calls for
 * modelInfo, listFiles, pathsInfo, downloadFile(ToCacheDir), createRepo, createBranch and
 * commit (preupload, LFS batch with `transfer: basic`, the LFS PUT, the NDJSON commit).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyCommit, jsonError, resolveFile, treeEntry, type Reply } from './fake_hub_handlers.js';
import { addCommit, createFakeRepo, isLfsPath, resolveRevision, sha256, storedFile, type FakeRepo, type StoredFile } from './fake_hub_store.js';

/** What the fake saw of each request, for assertions (status -1: connection dropped on purpose). */
export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  range: string | undefined;
  status: number;
}

/** The next `times` requests whose "METHOD /path" matches get `status` (or a dropped connection). */
export interface Fault {
  match: RegExp;
  times: number;
  status?: number;
  errorCode?: string;
}

export interface FakeHub {
  url: string;
  requests: RecordedRequest[];
  repos: Map<string, FakeRepo>;
  addRepo(name: string, files: Record<string, Uint8Array | string>, options?: { private?: boolean }): FakeRepo;
  filesAt(name: string, revision?: string): Map<string, Uint8Array>;
  fail(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** tokens: token -> namespaces it may write to (and read privately). */
export async function startFakeHub(options: { tokens?: Record<string, string[]> } = {}): Promise<FakeHub> {
  const tokens = options.tokens ?? {};
  const repos = new Map<string, FakeRepo>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let url = '';

  const bearer = (req: IncomingMessage): string | undefined => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const canWrite = (token: string | undefined, namespace: string): boolean => token !== undefined && (tokens[token] ?? []).includes(namespace);

  /** 401 for a token we do not know, on any endpoint that takes one (as the Hub does). */
  function authFailure(req: IncomingMessage, write: string | undefined): Reply | undefined {
    const token = bearer(req);
    if (token !== undefined && tokens[token] === undefined) return jsonError(401, 'Invalid credentials in Authorization header');
    if (write === undefined) return undefined;
    if (token === undefined) return jsonError(401, 'Authorization header is required');
    return canWrite(token, write.split('/')[0]) ? undefined : jsonError(403, `You don't have the rights to write to ${write}`);
  }

  function readable(req: IncomingMessage, name: string): FakeRepo | Reply {
    const repo = repos.get(name);
    if (repo === undefined || (repo.private && !canWrite(bearer(req), name.split('/')[0]))) return jsonError(404, 'Repository not found', 'RepoNotFound');
    return repo;
  }

  async function route(req: IncomingMessage, method: string, path: string): Promise<Reply> {
    const json = async <T>(): Promise<T> => JSON.parse(new TextDecoder().decode(await readBody(req))) as T;
    if (method === 'POST' && path === '/api/repos/create') {
      const body = await json<{ name: string; organization: string; visibility?: string }>();
      const name = `${body.organization}/${body.name}`;
      const denied = authFailure(req, name);
      if (denied) return denied;
      if (repos.has(name)) return { status: 409, body: { error: 'You already created this model repo', url: `${url}/${name}` } };
      repos.set(name, createFakeRepo(name, body.visibility === 'private'));
      return { status: 200, body: { url: `${url}/${name}`, name } };
    }
    let m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path);
    if (method === 'POST' && m) {
      const denied = authFailure(req, m[1]);
      const repo = repos.get(m[1]);
      if (denied || repo === undefined) return denied ?? jsonError(404, 'Repository not found', 'RepoNotFound');
      const body = await json<{ objects: { oid: string; size: number }[] }>();
      const objects = body.objects.map((o) =>
        repo.lfs.has(o.oid) ? o : { ...o, authenticated: true, actions: { upload: { href: `${url}/_lfs/${repo.name}/${o.oid}`, expires_in: 3600 } } },
      );
      return { status: 200, body: { transfer: 'basic', objects }, headers: { 'Content-Type': 'application/vnd.git-lfs+json' } };
    }
    m = /^\/_lfs\/([^/]+\/[^/]+)\/([0-9a-f]{64})$/.exec(path);
    if (method === 'PUT' && m) {
      const repo = repos.get(m[1]);
      const bytes = await readBody(req);
      if (repo === undefined || sha256(bytes) !== m[2]) return jsonError(400, 'content does not match the oid');
      repo.lfs.set(m[2], bytes);
      return { status: 200, headers: { ETag: `"${m[2]}"` } };
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)(?:\/(revision|tree|paths-info|preupload|commit|branch)\/([^/]+))?(?:\/.*)?$/.exec(path);
    if (m) {
      const [, name, kind, rawRev] = m;
      const rev = decodeURIComponent(rawRev ?? 'HEAD');
      const write = kind === 'preupload' || kind === 'commit' || kind === 'branch';
      const denied = authFailure(req, write ? name : undefined);
      if (denied) return denied;
      const repo = readable(req, name);
      if (!('branches' in repo)) return repo;
      if (kind === 'commit' && method === 'POST') return applyCommit(repo, rev, new TextDecoder().decode(await readBody(req)), url);
      if (kind === 'branch' && method === 'POST') {
        if (repo.branches.has(rev)) return jsonError(409, 'Reference already exists');
        repo.branches.set(rev, repo.branches.get('main') ?? '');
        return { status: 200, body: {} };
      }
      const at = resolveRevision(repo, rev);
      if (at === undefined) return jsonError(404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
      if (kind === undefined || kind === 'revision') {
        const siblings = [...at.files.keys()].map((rfilename) => ({ rfilename }));
        return { status: 200, body: { _id: `id-${name}`, id: name, sha: at.id, private: repo.private, downloads: 0, likes: 0, gated: false, lastModified: at.date, siblings } };
      }
      if (kind === 'tree') return { status: 200, body: [...at.files].map(([p, f]) => treeEntry(p, f)) };
      const body = await json<{ paths?: string[]; files?: { path: string; size: number }[] }>();
      if (kind === 'paths-info') {
        return { status: 200, body: (body.paths ?? []).flatMap((p) => (at.files.has(p) ? [treeEntry(p, at.files.get(p) as StoredFile, at)] : [])) };
      }
      const files = (body.files ?? []).map((f) => ({ path: f.path, uploadMode: isLfsPath(f.path, f.size) ? 'lfs' : 'regular', shouldIgnore: false }));
      return { status: 200, body: { files } };
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if ((method === 'GET' || method === 'HEAD') && m) {
      const denied = authFailure(req, undefined);
      if (denied) return denied;
      const repo = readable(req, m[1]);
      if (!('branches' in repo)) return repo;
      const at = resolveRevision(repo, decodeURIComponent(m[2]));
      return at === undefined ? jsonError(404, 'Revision not found', 'RevisionNotFound') : resolveFile(req.headers.range, at, decodeURIComponent(m[3]));
    }
    return jsonError(404, `fake hub: no route for ${method} ${path}`);
  }

  function send(res: ServerResponse, method: string, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let payload: Uint8Array = reply.bytes ?? new Uint8Array();
    if (reply.body !== undefined) {
      payload = new TextEncoder().encode(JSON.stringify(reply.body));
      headers['Content-Type'] ??= 'application/json';
    }
    headers['Content-Length'] = `${payload.byteLength}`;
    res.writeHead(reply.status, headers);
    res.end(method === 'HEAD' ? undefined : payload);
  }

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const record: RecordedRequest = { method, path, authorization: req.headers.authorization, range: req.headers.range, status: 0 };
    requests.push(record);
    const fault = faults.find((f) => f.times > 0 && f.match.test(`${method} ${path}`));
    if (fault) {
      fault.times--;
      if (fault.status === undefined) {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      const reply = jsonError(fault.status, `fake failure ${fault.status}`, fault.errorCode);
      record.status = reply.status;
      req.resume();
      send(res, method, reply);
      return;
    }
    route(req, method, path).then(
      (reply) => {
        record.status = reply.status;
        send(res, method, reply);
      },
      (err: unknown) => {
        record.status = 500;
        send(res, method, jsonError(500, `fake hub crashed: ${String(err)}`));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    repos,
    addRepo(name, files, opts = {}) {
      const repo = createFakeRepo(name, opts.private ?? false);
      const changes = new Map<string, StoredFile | null>();
      for (const [p, content] of Object.entries(files)) {
        const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
        const stored = storedFile(p, bytes);
        if (stored.lfs) repo.lfs.set(stored.lfs.oid, bytes);
        changes.set(p, stored);
      }
      addCommit(repo, 'main', 'add files', changes);
      repos.set(name, repo);
      return repo;
    },
    filesAt(name, revision = 'main') {
      const repo = repos.get(name);
      const at = repo && resolveRevision(repo, revision);
      return new Map([...(at?.files ?? [])].map(([p, f]) => [p, f.content]));
    },
    fail: (fault) => void faults.push(fault),
    clearFaults: () => void faults.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A loopback port with nothing listening: for "connection refused". */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

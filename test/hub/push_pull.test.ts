import { lstat, readFile, readlink, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitBlobSha1, sha256 } from './fake_hub_store.js';
import { startFakeHub, type FakeHub } from './fake_hub.js';
import { FAST_RETRY, hermeticEnv, makeGrownDir, readTree, tempDir, TOKEN, TOKENS } from './helpers.js';
import { fetchModelSnapshot, pushToHub, resolveModelSource } from '../../src/pipeline/index.js';

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ tokens: TOKENS });
});
afterEach(async () => {
  await hub.close();
});

const connection = async () => ({ hubUrl: hub.url, token: TOKEN, env: await hermeticEnv(), retry: FAST_RETRY });

describe('push then pull', () => {
  it('round-trips a grown directory byte for byte into a Python-compatible cache', async () => {
    const dir = await makeGrownDir();
    const pushed = await pushToHub({ dir, repo: 'alice/grown', ...(await connection()) });
    expect(pushed.files).toEqual(['README.md', 'config.json', 'growth.json', 'model.safetensors', 'tokenizer.json']);
    expect(pushed.commitUrl).toBe(`${hub.url}/alice/grown/commit/${pushed.commit}`);
    // Every file at the repo root, the weights through LFS (uploaded by PUT, committed as lfsFile).
    const remote = hub.filesAt('alice/grown');
    for (const [name, bytes] of await readTree(dir)) expect(Buffer.from(remote.get(name) ?? []).equals(bytes), name).toBe(true);
    expect(hub.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([`/_lfs/alice/grown/${sha256(await readFile(path.join(dir, 'model.safetensors')))}`]);

    const cacheDir = await tempDir('ligo-cache-');
    const snapshot = await fetchModelSnapshot({ repo: 'alice/grown' }, { ...(await connection()), cacheDir });
    expect(snapshot.commit).toBe(pushed.commit);
    const pulled = await readTree(snapshot.dir);
    // growth.json, README and tokenizer come along; .gitattributes (made by the Hub) does not.
    expect([...pulled.keys()]).toEqual(['README.md', 'config.json', 'growth.json', 'model.safetensors', 'tokenizer.json']);
    for (const [name, bytes] of await readTree(dir)) expect(pulled.get(name)?.equals(bytes), name).toBe(true);

    // The layout huggingface_hub uses: refs/main holds the commit, snapshot files link into blobs/.
    const repoDir = path.join(cacheDir, 'models--alice--grown');
    expect(snapshot.dir).toBe(path.join(repoDir, 'snapshots', pushed.commit));
    expect(await readFile(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(pushed.commit);
    const weights = await readFile(path.join(dir, 'model.safetensors'));
    const config = await readFile(path.join(dir, 'config.json'));
    expect((await lstat(path.join(snapshot.dir, 'model.safetensors'))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(snapshot.dir, 'model.safetensors'))).toBe(path.join('..', '..', 'blobs', sha256(weights)));
    expect(await readlink(path.join(snapshot.dir, 'config.json'))).toBe(path.join('..', '..', 'blobs', gitBlobSha1(config)));
    expect((await readdir(path.join(repoDir, 'blobs'))).sort()).toHaveLength(5);
    expect((await readdir(repoDir)).sort()).toEqual(['blobs', 'refs', 'snapshots']);
  });

  it('asks for the byte range probe and the token on downloads, and a warm cache downloads nothing', async () => {
    const dir = await makeGrownDir();
    await pushToHub({ dir, repo: 'alice/grown', ...(await connection()) });
    const cacheDir = await tempDir('ligo-cache-');
    const options = { ...(await connection()), cacheDir };
    const first = hub.requests.length;
    const local = await resolveModelSource('alice/grown', options);
    const resolves = hub.requests.slice(first).filter((r) => r.path.includes('/resolve/'));
    expect(resolves.some((r) => r.range === 'bytes=0-0')).toBe(true);
    expect(resolves.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const second = hub.requests.length;
    expect(await resolveModelSource('alice/grown', options)).toBe(local);
    // Only the revision lookup and the listing: every file is already in the cache.
    expect(hub.requests.slice(second).map((r) => r.path.replace(/\?.*/, ''))).toEqual([
      '/api/models/alice/grown/revision/main',
      expect.stringMatching(/^\/api\/models\/alice\/grown\/tree\/[0-9a-f]{40}$/),
    ]);
  });

  it('sends the token in the Authorization header of every authenticated call', async () => {
    await pushToHub({ dir: await makeGrownDir(), repo: 'alice/grown', ...(await connection()) });
    const api = hub.requests.filter((r) => !r.path.startsWith('/_lfs/'));
    expect(api.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/repos/create', '/api/models/alice/grown/preupload/main', '/alice/grown.git/info/lfs/objects/batch', '/api/models/alice/grown/commit/main']),
    );
    for (const r of api) expect(r.authorization, r.path).toBe(`Bearer ${TOKEN}`);
  });

  it('pushes again into an existing repo without resending LFS objects', async () => {
    const dir = await makeGrownDir();
    const first = await pushToHub({ dir, repo: 'alice/grown', ...(await connection()) });
    const puts = hub.requests.filter((r) => r.method === 'PUT').length;
    const second = await pushToHub({ dir, repo: 'alice/grown', commitMessage: 'again', ...(await connection()) });
    expect(second.commit).not.toBe(first.commit);
    expect(hub.requests.filter((r) => r.method === 'PUT')).toHaveLength(puts);
    expect(hub.requests.find((r) => r.path === '/api/repos/create' && r.status === 409)).toBeDefined();
  });

  it('creates private repos and branches, and reads them back with owner/name@branch', async () => {
    const dir = await makeGrownDir();
    const pushed = await pushToHub({ dir, repo: 'alice/secret', private: true, branch: 'exp1', ...(await connection()) });
    expect(pushed.branch).toBe('exp1');
    expect(hub.repos.get('alice/secret')?.private).toBe(true);
    expect(hub.filesAt('alice/secret', 'main').has('config.json')).toBe(false);
    const cacheDir = await tempDir('ligo-cache-');
    const local = await resolveModelSource('alice/secret@exp1', { ...(await connection()), cacheDir });
    expect(local).toBe(path.join(cacheDir, 'models--alice--secret', 'snapshots', pushed.commit));
    expect(await readFile(path.join(cacheDir, 'models--alice--secret', 'refs', 'exp1'), 'utf8')).toBe(pushed.commit);
  });

  it('uploads a model card made from growth.json when the directory has none, without writing it locally', async () => {
    const dir = await makeGrownDir({ readme: false });
    const before = await readTree(dir);
    const pushed = await pushToHub({ dir, repo: 'alice/grown', ...(await connection()) });
    expect(pushed.files).toContain('README.md');
    const card = Buffer.from(hub.filesAt('alice/grown').get('README.md') ?? []).toString('utf8');
    expect(card).toMatch(/^---\nbase_model: openai-community\/gpt2\n/);
    expect(await readTree(dir)).toEqual(before);
    await expect(stat(path.join(dir, 'README.md'))).rejects.toThrow();
  });

  it('returns an existing local path untouched and without network', async () => {
    const dir = await makeGrownDir();
    const before = hub.requests.length;
    expect(await resolveModelSource(dir, await connection())).toBe(dir);
    expect(await resolveModelSource('no/such-dir-here', { ...(await connection()), offline: true }).catch((e: Error) => e.message)).toMatch(/not in the Hugging Face cache/);
    expect(await resolveModelSource('./not-a-repo-id/x/y', await connection())).toBe('./not-a-repo-id/x/y');
    expect(hub.requests.length).toBe(before);
  });
});

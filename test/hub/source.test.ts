import { readdir, readlink, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, HubError, UnsupportedError, UsageError } from '../../src/errors.js';
import { fetchModelSnapshot, resolveModelSource } from '../../src/hub/index.js';
import { closedPort, startFakeHub, type FakeHub } from './fake_hub.js';
import { FAST_RETRY, hermeticEnv, tempDir, TOKEN, TOKENS } from './helpers.js';

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ tokens: TOKENS });
});
afterEach(async () => {
  await hub.close();
});

const CONFIG = '{"model_type": "gpt2"}';
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256);

async function options(extra: Record<string, unknown> = {}) {
  return { hubUrl: hub.url, env: await hermeticEnv(), retry: FAST_RETRY, cacheDir: await tempDir('ligo-cache-'), ...extra };
}

const resolves = (file: string): number => hub.requests.filter((r) => r.path.includes('/resolve/') && r.path.endsWith(`/${file}`)).length;

describe('resolveModelSource from the Hub', () => {
  it('fetches only config, tokenizer, README and safetensors weights', async () => {
    hub.addRepo('alice/m', {
      'config.json': CONFIG,
      'tokenizer.json': '{}',
      'README.md': '---\nlicense: mit\n---\n',
      'model.safetensors': bytes(100, 1),
      'pytorch_model.bin': bytes(100, 2),
      'tf_model.h5': bytes(50, 3),
      'notes.txt': 'not needed',
    });
    const snapshot = await fetchModelSnapshot({ repo: 'alice/m' }, await options());
    expect(snapshot.files).toEqual(['config.json', 'tokenizer.json', 'README.md', 'model.safetensors']);
    expect((await readdir(snapshot.dir)).sort()).toEqual(['README.md', 'config.json', 'model.safetensors', 'tokenizer.json']);
    expect(resolves('pytorch_model.bin') + resolves('tf_model.h5') + resolves('notes.txt')).toBe(0);
  });

  it('fetches a sharded checkpoint: the index, then the shards it lists', async () => {
    const index = { metadata: {}, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } };
    hub.addRepo('alice/sharded', {
      'config.json': CONFIG,
      'model.safetensors.index.json': JSON.stringify(index),
      'model-00001-of-00002.safetensors': bytes(64, 1),
      'model-00002-of-00002.safetensors': bytes(64, 2),
      'old-00001.safetensors': bytes(64, 3),
    });
    const progress: string[] = [];
    const snapshot = await fetchModelSnapshot({ repo: 'alice/sharded' }, { ...(await options()), onProgress: (e) => progress.push(`${e.filesDone}/${e.filesTotal}`) });
    expect(snapshot.files).toEqual(['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(progress).toEqual(['0/2', '1/2', '2/4', '3/4', '4/4']);
    expect(await readlink(path.join(snapshot.dir, 'model-00002-of-00002.safetensors'))).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
  });

  it('fetches shards kept in a folder of the repo (the one weight_map rule), online and then offline', async () => {
    const index = { weight_map: { a: 'weights/model-00001-of-00002.safetensors', b: 'weights/model-00002-of-00002.safetensors' } };
    hub.addRepo('alice/nested', {
      'config.json': CONFIG,
      'model.safetensors.index.json': JSON.stringify(index),
      'weights/model-00001-of-00002.safetensors': bytes(64, 1),
      'weights/model-00002-of-00002.safetensors': bytes(64, 2),
    });
    const warm = await options();
    const snapshot = await fetchModelSnapshot({ repo: 'alice/nested' }, warm);
    expect(snapshot.files.slice(-2)).toEqual(Object.values(index.weight_map));
    expect((await readdir(path.join(snapshot.dir, 'weights'))).sort()).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const offline = await fetchModelSnapshot({ repo: 'alice/nested' }, { ...warm, offline: true });
    expect(offline.files).toEqual(snapshot.files);
    hub.addRepo('alice/escape', { 'config.json': CONFIG, 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: '../x.safetensors' } }) });
    await expect(resolveModelSource('alice/escape', await options())).rejects.toThrow(/tensor "a" maps to an invalid shard name "\.\.\/x\.safetensors"/);
  });

  it('refuses a repo with only pickle weights, downloading none of them', async () => {
    hub.addRepo('alice/old', { 'config.json': CONFIG, 'pytorch_model.bin': bytes(100, 1), 'training_args.bin': bytes(10, 2) });
    const err = await resolveModelSource('alice/old', await options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).message).toBe('alice/old has only pickle weights (pytorch_model.bin, training_args.bin); ligo reads safetensors only and never unpickles');
    expect((err as UnsupportedError).hint).toMatch(/convert to safetensors/);
    expect(resolves('pytorch_model.bin')).toBe(0);
  });

  it('names what is missing: a repo without config.json, an index listing an absent shard', async () => {
    hub.addRepo('alice/empty', { 'model.safetensors': bytes(8, 1) });
    await expect(resolveModelSource('alice/empty', await options())).rejects.toThrow(CheckpointError);
    await expect(resolveModelSource('alice/empty', await options())).rejects.toThrow('alice/empty has no config.json');
    hub.addRepo('alice/broken', { 'config.json': CONFIG, 'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'gone.safetensors' } }) });
    await expect(resolveModelSource('alice/broken', await options())).rejects.toThrow('alice/broken: model.safetensors.index.json lists shard gone.safetensors, which the repo does not have');
  });

  it('404 for a missing repo or revision, 401 for an unknown token, 404 for a private repo without one', async () => {
    hub.addRepo('alice/m', { 'config.json': CONFIG, 'model.safetensors': bytes(8, 1) });
    hub.addRepo('alice/private', { 'config.json': CONFIG, 'model.safetensors': bytes(8, 1) }, { private: true });
    const failure = async (source: string, extra: Record<string, unknown> = {}): Promise<HubError> => {
      const err = await resolveModelSource(source, await options(extra)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HubError);
      return err as HubError;
    };
    expect((await failure('alice/missing')).message).toBe(`no such repo, revision or file: alice/missing on ${hub.url} (HTTP 404: Repository not found)`);
    const rev = await failure('alice/m@nope');
    expect(rev.message).toBe(`no such repo, revision or file: alice/m@nope on ${hub.url} (HTTP 404: Invalid rev id: nope)`);
    expect(rev.statusCode).toBe(404);
    expect(rev.url).toBe(`${hub.url}/api/models/alice/m/revision/nope?expand=pipeline_tag&expand=private&expand=gated&expand=downloads&expand=likes&expand=lastModified&expand=sha`);
    const bad = await failure('alice/m', { token: 'hf_unknown' });
    expect(bad.message).toBe('authentication failed reading alice/m (HTTP 401: Invalid credentials in Authorization header)');
    expect(bad.hint).toMatch(/HF_TOKEN/);
    expect((await failure('alice/private')).statusCode).toBe(404);
    expect(await resolveModelSource('alice/private', await options({ token: TOKEN }))).toMatch(/models--alice--private/);
  });

  it('retries a 503 on a download and a dropped connection, then succeeds', async () => {
    hub.addRepo('alice/m', { 'config.json': CONFIG, 'model.safetensors': bytes(8, 1) });
    hub.fail({ match: /\/resolve\/.*\/model\.safetensors$/, times: 1, status: 503 });
    hub.fail({ match: /\/tree\//, times: 1 });
    const snapshot = await fetchModelSnapshot({ repo: 'alice/m' }, await options());
    expect(snapshot.files).toContain('model.safetensors');
    expect(hub.requests.filter((r) => r.status === 503 || r.status === -1)).toHaveLength(2);
  });

  it('owner/name@revision and --revision must agree', async () => {
    await expect(resolveModelSource('alice/m@v1', { ...(await options()), revision: 'v2' })).rejects.toThrow(UsageError);
  });
});

describe('offline (HF_HUB_OFFLINE=1)', () => {
  it('a warm cache answers without any request; a commit revision needs no ref', async () => {
    hub.addRepo('alice/m', { 'config.json': CONFIG, 'model.safetensors': bytes(8, 1) });
    const warm = await options();
    const online = await fetchModelSnapshot({ repo: 'alice/m' }, warm);
    const env = { ...warm.env, HF_HUB_OFFLINE: '1', HF_ENDPOINT: await closedPort() };
    const before = hub.requests.length;
    expect(await resolveModelSource('alice/m', { cacheDir: warm.cacheDir, env })).toBe(online.dir);
    expect(await resolveModelSource(`alice/m@${online.commit}`, { cacheDir: warm.cacheDir, env })).toBe(online.dir);
    expect(hub.requests.length).toBe(before);
  });

  it('a cold cache fails clearly, naming the repo, or the file that is missing', async () => {
    const cold = await options({ offline: true });
    await expect(resolveModelSource('alice/m', cold)).rejects.toThrow(
      `offline (HF_HUB_OFFLINE): alice/m is not in the Hugging Face cache at ${cold.cacheDir} (no refs/main)`,
    );
    hub.addRepo('alice/m', { 'config.json': CONFIG, 'model.safetensors': bytes(8, 1) });
    const online = await fetchModelSnapshot({ repo: 'alice/m' }, { ...cold, offline: false });
    // Python's cache without the weights' blob (a cleaned or interrupted cache).
    const blobs = path.join(cold.cacheDir, 'models--alice--m', 'blobs');
    const target = await readlink(path.join(online.dir, 'model.safetensors'));
    await rm(path.join(blobs, path.basename(target)));
    await expect(resolveModelSource('alice/m', cold)).rejects.toThrow(
      'model.safetensors or model.safetensors.index.json of alice/m is not in the Hugging Face cache',
    );
  });
});

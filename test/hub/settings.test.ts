import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { hubCacheDir, hubUrlFrom, isOffline, parseRepoRef, resolveToken, tokenFilePath } from '../../src/hub/index.js';
import { tempDir, TOKEN } from './helpers.js';

describe('token', () => {
  it('comes from the option, then HF_TOKEN, then $HF_HOME/token (or HF_TOKEN_PATH)', async () => {
    const home = await tempDir();
    await writeFile(path.join(home, 'token'), `  ${TOKEN}\n`);
    const env = { HF_HOME: home, HF_TOKEN: 'hf_fromEnv' };
    expect(await resolveToken({ token: 'hf_fromOption', env })).toEqual({ token: 'hf_fromOption', source: 'option' });
    expect(await resolveToken({ env })).toEqual({ token: 'hf_fromEnv', source: 'HF_TOKEN' });
    expect(await resolveToken({ env: { HF_HOME: home, HF_TOKEN: ' ' } })).toEqual({ token: TOKEN, source: 'token file' });
    const other = path.join(await tempDir(), 'tok');
    await writeFile(other, 'hf_elsewhere');
    expect(await resolveToken({ env: { HF_HOME: home, HF_TOKEN_PATH: other } })).toEqual({ token: 'hf_elsewhere', source: 'token file' });
    expect(await resolveToken({ env: { HF_HOME: await tempDir() } })).toBeUndefined();
  });

  it('rejects a value that is not a token, naming where it came from but not the value', async () => {
    const err = await resolveToken({ env: { HF_TOKEN: 'ghp_secret' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('the Hugging Face token from HF_TOKEN is not one (tokens start with "hf_")');
  });

  it('token file defaults to ~/.cache/huggingface/token', () => {
    expect(tokenFilePath({})).toBe(path.join(homedir(), '.cache', 'huggingface', 'token'));
    expect(tokenFilePath({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'huggingface', 'token'));
  });
});

describe('endpoint, cache and offline settings', () => {
  it('endpoint: option, HF_ENDPOINT, default; no trailing slash; http(s) only', () => {
    expect(hubUrlFrom({ env: {} })).toBe('https://huggingface.co');
    expect(hubUrlFrom({ env: { HF_ENDPOINT: 'https://hf-mirror.com/' } })).toBe('https://hf-mirror.com');
    expect(hubUrlFrom({ hubUrl: 'http://127.0.0.1:9', env: { HF_ENDPOINT: 'https://x' } })).toBe('http://127.0.0.1:9');
    expect(() => hubUrlFrom({ hubUrl: 'ftp://x', env: {} })).toThrow(UsageError);
  });

  it('cache: option, HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'hub'));
    expect(hubCacheDir({ cacheDir: '/c', env: { HF_HUB_CACHE: '/d' } })).toBe('/c');
    expect(hubCacheDir({ env: { HF_HUB_CACHE: '/d', HF_HOME: dir } })).toBe('/d');
    expect(hubCacheDir({ env: { HF_HOME: dir } })).toBe(path.join(dir, 'hub'));
    expect(hubCacheDir({ env: {} })).toBe(path.join(homedir(), '.cache', 'huggingface', 'hub'));
  });

  it('offline: the option wins, else HF_HUB_OFFLINE as huggingface_hub reads it', () => {
    expect(isOffline({ env: { HF_HUB_OFFLINE: '1' } })).toBe(true);
    expect(isOffline({ env: { HF_HUB_OFFLINE: 'TRUE' } })).toBe(true);
    expect(isOffline({ env: { HF_HUB_OFFLINE: '0' } })).toBe(false);
    expect(isOffline({ offline: false, env: { HF_HUB_OFFLINE: '1' } })).toBe(false);
  });

  it('repo ids: owner/name with an optional @revision; nothing else', () => {
    expect(parseRepoRef('openai-community/gpt2')).toEqual({ repo: 'openai-community/gpt2' });
    expect(parseRepoRef('a/b@refs/pr/1')).toEqual({ repo: 'a/b', revision: 'refs/pr/1' });
    for (const text of ['gpt2', './a/b', '/a/b', 'a/b/c', 'a/..', 'a/b@', 'a b/c']) expect(parseRepoRef(text), text).toBeUndefined();
  });
});

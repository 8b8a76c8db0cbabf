import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorLines, lastJson, ligo, ligoProcess, type CliRun } from '../cli/helpers.js';
import { closedPort, startFakeHub, type FakeHub } from './fake_hub.js';
import { BOB_TOKEN, hermeticEnv, makeGrownDir, readTree, TOKEN, TOKENS } from './helpers.js';

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ tokens: TOKENS });
});
afterEach(async () => {
  await hub.close();
});

const env = (extra: Record<string, string> = {}) => hermeticEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, ...extra });
const hints = (run: CliRun): string[] => run.stderr.split('\n').filter((l) => l.startsWith('hint: '));
const count = (pattern: RegExp): number => hub.requests.filter((r) => pattern.test(`${r.method} ${r.path}`)).length;

/** The token must appear nowhere a user or a log could see it. */
function expectNoToken(run: CliRun, ...tokens: string[]): void {
  for (const t of tokens) {
    expect(run.stdout).not.toContain(t);
    expect(run.stderr).not.toContain(t);
  }
}

/** Contents and modification times: what "the local directory was not touched" means. */
async function snapshotOf(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (n) => `${n} ${(await stat(path.join(dir, n))).mtimeMs} ${(await stat(path.join(dir, n))).size}`));
}

describe('ligo push', () => {
  it('--json prints {repo, commitUrl, files} last, and never the token', async () => {
    const dir = await makeGrownDir();
    const run = await ligo(['push', dir, 'alice/grown', '--json'], await env());
    expect(run.code, run.stderr).toBe(0);
    const result = lastJson(run);
    expect(result).toMatchObject({ repo: 'alice/grown', branch: 'main', files: ['README.md', 'config.json', 'growth.json', 'model.safetensors', 'tokenizer.json'] });
    expect(result.commitUrl).toMatch(new RegExp(`^${hub.url}/alice/grown/commit/[0-9a-f]{40}$`));
    expect(run.stderr).toContain('created alice/grown');
    expectNoToken(run, TOKEN);
    expect(hub.requests.some((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('reads the token from --token or from $HF_HOME/token', async () => {
    const dir = await makeGrownDir();
    const flag = await ligo(['push', dir, 'alice/one', '--token', TOKEN, '--hub-url', hub.url], await hermeticEnv());
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stdout).toContain(`${hub.url}/alice/one/commit/`);
    expectNoToken(flag, TOKEN);
    const e = await env({ HF_TOKEN: '' });
    await mkdir(e.HF_HOME, { recursive: true });
    await writeFile(path.join(e.HF_HOME, 'token'), `${TOKEN}\n`);
    const file = await ligo(['push', dir, 'alice/two', '--quiet'], e);
    expect(file.code, file.stderr).toBe(0);
    expect(file.stderr).toBe('');
  });

  it('401: an unknown token fails with an authentication message and a hint, exit 1', async () => {
    const bad = 'hf_notAKnownToken0000000000';
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown'], await env({ HF_TOKEN: bad, LIGO_DEBUG: '1' }));
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual(['ligo: authentication failed pushing to alice/grown (HTTP 401: Invalid credentials in Authorization header)']);
    expect(hints(run).join('\n')).toMatch(/HF_TOKEN/);
    expectNoToken(run, bad, TOKEN);
  });

  it('403: a token without write access to the namespace, exit 1', async () => {
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown'], await env({ HF_TOKEN: BOB_TOKEN }));
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toMatch(/^ligo: no access to alice\/grown: the token cannot write there \(HTTP 403/);
    expect(hints(run)[0]).toMatch(/write access to "alice"/);
    expectNoToken(run, BOB_TOKEN);
  });

  it('404: no such repo or revision, exit 1', async () => {
    hub.fail({ match: /^POST \/api\/models\/alice\/grown\/commit\//, times: 1, status: 404, errorCode: 'RevisionNotFound' });
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown', '--branch', 'exp'], await env());
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toBe(`ligo: no such repo, revision or file: alice/grown@exp on ${hub.url} (HTTP 404: fake failure 404)`);
  });

  it('500: retried with backoff a bounded number of times, then one line, exit 1', async () => {
    hub.fail({ match: /preupload/, times: Infinity, status: 500 });
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown'], await env());
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual(['ligo: the Hub failed with HTTP 500 at /api/models/alice/grown/preupload/main (3 attempts)']);
    expect(count(/preupload/)).toBe(3);
    expect(run.stderr).toContain('hub: HTTP 500, retry 2 of 2');
  });

  it('503 then 200: the retry succeeds', async () => {
    hub.fail({ match: /\/commit\/main$/, times: 1, status: 503 });
    hub.fail({ match: /^PUT \/_lfs\//, times: 1 }); // and a dropped connection during the LFS upload
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown', '--json'], await env());
    expect(run.code, run.stderr).toBe(0);
    expect(count(/\/commit\/main$/)).toBe(2);
    expect(count(/^PUT /)).toBe(2);
    expect(hub.filesAt('alice/grown').has('model.safetensors')).toBe(true);
  });

  it('connection refused: one line naming the endpoint, exit 1', async () => {
    const down = await closedPort();
    const run = await ligo(['push', await makeGrownDir(), 'alice/grown'], await env({ HF_ENDPOINT: down }));
    expect(run.code).toBe(1);
    expect(errorLines(run)).toHaveLength(1);
    expect(errorLines(run)[0]).toMatch(new RegExp(`^ligo: cannot reach the Hub at ${down}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+ \\(3 attempts\\)$`));
  });

  it('no token, or one that is not a token: clear messages, never echoing the value', async () => {
    const none = await ligo(['push', await makeGrownDir(), 'alice/grown'], await env({ HF_TOKEN: '' }));
    expect(none.code).toBe(1);
    expect(errorLines(none)).toEqual(['ligo: pushing to alice/grown needs a Hugging Face token']);
    const odd = await ligo(['push', await makeGrownDir(), 'alice/grown', '--token', 'sk-secret-value'], await env());
    expect(odd.code).toBe(2);
    expect(errorLines(odd)).toEqual(['ligo: the Hugging Face token from --token is not one (tokens start with "hf_")']);
    expectNoToken(odd, 'sk-secret-value');
    expect(hub.requests).toHaveLength(0);
  });

  it('a bad repo id is a usage error (exit 2)', async () => {
    const run = await ligo(['push', await makeGrownDir(), 'not a repo'], await env());
    expect(run.code).toBe(2);
    expect(errorLines(run)[0]).toMatch(/"not a repo" is not a Hub repo id/);
  });

  it('a failed push leaves the directory untouched; running it again completes the upload', async () => {
    const dir = await makeGrownDir();
    const before = await readTree(dir);
    const times = await snapshotOf(dir);
    hub.fail({ match: /\/commit\/main$/, times: Infinity, status: 502 });
    const failed = await ligo(['push', dir, 'alice/grown'], await env());
    expect(failed.code).toBe(1);
    expect(hints(failed)[0]).toMatch(/resumes/);
    expect(await readTree(dir)).toEqual(before);
    expect(await snapshotOf(dir)).toEqual(times);
    expect(hub.filesAt('alice/grown').has('config.json')).toBe(false);
    const putsBefore = count(/^PUT /);
    expect(putsBefore).toBe(1);

    hub.clearFaults();
    const again = await ligo(['push', dir, 'alice/grown', '--json'], await env());
    expect(again.code, again.stderr).toBe(0);
    // The weights reached LFS storage in the failed run; the batch answer says so and they are not resent.
    expect(count(/^PUT /)).toBe(putsBefore);
    const remote = hub.filesAt('alice/grown');
    for (const [name, bytes] of before) expect(Buffer.from(remote.get(name) ?? []).equals(bytes), name).toBe(true);
  });

  it('as a child process: real exit codes 0 and 1', async () => {
    const dir = await makeGrownDir();
    const ok = await ligoProcess(['push', dir, 'alice/grown', '--json'], await env());
    expect(ok.code, ok.stderr).toBe(0);
    expect(lastJson(ok).repo).toBe('alice/grown');
    expectNoToken(ok, TOKEN);
    const denied = await ligoProcess(['push', dir, 'alice/grown'], await env({ HF_TOKEN: BOB_TOKEN }));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^ligo: no access to alice\/grown/m);
    expectNoToken(denied, BOB_TOKEN);
  });
});

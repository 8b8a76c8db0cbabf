import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GPT2_DIR, lastJson, ligo } from '../cli/helpers.js';
import { startFakeHub, type FakeHub } from './fake_hub.js';
import { hermeticEnv, readTree, tempDir, TOKEN, TOKENS } from './helpers.js';

let hub: FakeHub;
beforeEach(async () => {
  hub = await startFakeHub({ tokens: TOKENS });
});
afterEach(async () => {
  await hub.close();
});

describe('grow from a Hub repo and push the result', () => {
  it('pulls owner/name, grows it, writes a model card naming it, pushes, and the pushed files equal the local ones', async () => {
    const env = await hermeticEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN });
    const work = await tempDir('ligo-grow-hub-');
    const seed = await ligo(['push', GPT2_DIR, 'alice/tiny'], env);
    expect(seed.code, seed.stderr).toBe(0);
    const data = path.join(work, 'text.txt');
    await writeFile(data, (await readFile('fixtures/text/corpus.txt', 'utf8')).slice(0, 6000));
    const out = path.join(work, 'grown');
    const run = await ligo(['grow', 'alice/tiny', '--layers', '3', '--data', data, '--steps', '2', '--seq-len', '32', '--batch-size', '2',
      '--out', out, '--push-to-hub', 'alice/tiny-grown', '--json', '--backend', 'wasm'], env);
    expect(run.code, run.stderr).toBe(0);
    const result = lastJson(run);
    expect(result.source).toBe('alice/tiny');
    expect((result.push as Record<string, unknown>).repo).toBe('alice/tiny-grown');
    const card = await readFile(path.join(out, 'README.md'), 'utf8');
    expect(card).toMatch(/^---\nbase_model: alice\/tiny\n/);
    expect(card).toContain('ligo grow alice/tiny --layers 3');
    expect(card).not.toContain(TOKEN);
    // Pull the pushed model back through the cache: same bytes as the local output.
    const back = await ligo(['inspect', 'alice/tiny-grown', '--json'], env);
    expect(back.code, back.stderr).toBe(0);
    const pulledDir = lastJson(back).dir as string;
    const local = await readTree(out);
    const pulled = await readTree(pulledDir);
    for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'README.md']) {
      expect(pulled.get(name)?.equals(local.get(name) ?? Buffer.alloc(0)), name).toBe(true);
    }
  });

  it('refuses --push-to-hub without a token before doing any work (exit 1)', async () => {
    const env = await hermeticEnv({ HF_ENDPOINT: hub.url });
    const work = await tempDir('ligo-grow-hub-');
    const run = await ligo(['grow', GPT2_DIR, '--layers', '3', '--method', 'stack', '--out', path.join(work, 'g'), '--push-to-hub', 'alice/x'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--push-to-hub needs a Hugging Face token/);
  });
});

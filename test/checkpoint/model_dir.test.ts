import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUXILIARY_FILES, copyAuxiliaryFiles, readConfig } from '../../src/checkpoint/model_dir.js';
import { CheckpointError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

describe('readConfig', () => {
  it('reads config.json as an object', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'config.json'), '{"model_type": "gpt2", "n_embd": 64}');
    expect(await readConfig(dir)).toEqual({ model_type: 'gpt2', n_embd: 64 });
  });

  it('says when config.json is missing, not JSON or not an object', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'config.json');
    await expect(readConfig(dir)).rejects.toThrow(`${file}: not found`);
    await writeFile(file, '{"model_type": ');
    await expect(readConfig(dir)).rejects.toThrow(/config\.json: not valid JSON/);
    await writeFile(file, '[1]');
    const err: unknown = await readConfig(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).message).toBe(`${file}: expected a JSON object`);
    expect((err as CheckpointError).actual).toBe('array');
  });
});

describe('copyAuxiliaryFiles', () => {
  it('copies the tokenizer and generation files that exist, and nothing else', async () => {
    const src = await tempDir();
    for (const f of ['tokenizer.json', 'merges.txt', 'generation_config.json', 'config.json', 'model.safetensors']) {
      await writeFile(path.join(src, f), `content of ${f}`);
    }
    const out = path.join(await tempDir(), 'grown');
    const copied = await copyAuxiliaryFiles(src, out);
    expect(copied).toEqual(['tokenizer.json', 'merges.txt', 'generation_config.json']);
    expect((await readdir(out)).sort()).toEqual(['generation_config.json', 'merges.txt', 'tokenizer.json']);
    expect(await readFile(path.join(out, 'merges.txt'), 'utf8')).toBe('content of merges.txt');
    expect(AUXILIARY_FILES).toContain('tokenizer.model');
  });

  it('copies nothing onto itself', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tokenizer.json'), '{}');
    expect(await copyAuxiliaryFiles(dir, `${dir}/.`)).toEqual([]);
    expect(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')).toBe('{}');
  });
});

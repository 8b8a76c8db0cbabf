import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { loadTokenizer } from '../../src/data/index.js';

const GOLDEN_TOKENIZER_DIR = fileURLToPath(new URL('../data/golden/gpt2-prefixed', import.meta.url));

describe('loadTokenizer', () => {
  it('encodes bytes as their values with the golden byte-level tokenizer', async () => {
    const tok = await loadTokenizer(GOLDEN_TOKENIZER_DIR);
    expect(tok.vocabSize).toBe(256);
    expect(tok.encode('hi')).toEqual([104, 105]);
    expect(tok.encode('')).toEqual([]);
  });

  it('gives UTF-8 byte ids for non-ASCII text and decodes back exactly', async () => {
    const tok = await loadTokenizer(GOLDEN_TOKENIZER_DIR);
    for (const text of ['héllo wörld', '日本語', 'emoji 🙂!', ' two  spaces\n\nand\ttabs\r\n']) {
      const ids = tok.encode(text);
      expect(ids).toEqual([...Buffer.from(text, 'utf8')]);
      expect(tok.decode(ids)).toBe(text);
    }
    expect(tok.decode([])).toBe('');
  });

  it('reads tokenizer_config.json when present', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ligo-tok-'));
    await writeFile(join(dir, 'tokenizer.json'), await readFile(join(GOLDEN_TOKENIZER_DIR, 'tokenizer.json')));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16 }));
    expect((await loadTokenizer(dir)).encode('ok')).toEqual([111, 107]);
  });

  it('a directory without tokenizer.json is a DataError naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ligo-tok-'));
    const err = await loadTokenizer(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toContain(dir);
    expect((err as DataError).file).toBe(join(dir, 'tokenizer.json'));
  });

  it('malformed tokenizer.json is a DataError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ligo-tok-'));
    await writeFile(join(dir, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer\.json is not valid JSON/);
    await writeFile(join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    await expect(loadTokenizer(dir)).rejects.toThrow(DataError);
  });
});

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError, UsageError } from '../../src/errors.js';
import { TextChunker, chunkText, loadTokenizer, loadTokens } from '../../src/data/index.js';
import type { TextTokenizer } from '../../src/data/index.js';

const GOLDEN_DIR = fileURLToPath(new URL('../data/golden/gpt2-prefixed', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../fixtures/text/corpus.txt', import.meta.url));

let bytes: TextTokenizer;
let dir: string;

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

/** GPT-2's byte-level BPE setup (regex pre-tokenizer on) with a few merges, to test chunk boundaries. */
async function gpt2StyleTokenizer(): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(GOLDEN_DIR, 'tokenizer.json'), 'utf8'));
  const extra = ['ĊĊ', 'ĠĠ', 'Ġt', 'he', 'Ġthe', 'Ġa', 'in', 'Ġin', '."', '.Ċ'];
  extra.forEach((token, i) => (json.model.vocab[token] = 256 + i));
  json.model.merges = ['Ċ Ċ', 'Ġ Ġ', 'Ġ t', 'h e', 'Ġt he', 'Ġ a', 'i n', 'Ġ in', '. "', '. Ċ'];
  json.pre_tokenizer.use_regex = true;
  return new Tokenizer(json, {});
}

beforeAll(async () => {
  bytes = await loadTokenizer(GOLDEN_DIR);
  dir = await mkdtemp(join(tmpdir(), 'ligo-corpus-'));
});

describe('loadTokens: text', () => {
  it('encodes the fixture corpus whole (byte tokenizer: ids are the file bytes)', async () => {
    const raw = await readFile(CORPUS);
    const tokens = await loadTokens({ file: CORPUS, tokenizer: bytes });
    expect(tokens).toBeInstanceOf(Int32Array);
    expect(tokens.length).toBe(raw.length);
    expect(Buffer.from(Uint8Array.from(tokens)).equals(raw)).toBe(true);
  });

  it('chunked encoding equals encoding the whole text with a GPT-2 style pre-tokenizer', async () => {
    const gpt2 = await gpt2StyleTokenizer();
    const tokenizer: TextTokenizer = {
      encode: (text) => gpt2.encode(text, { add_special_tokens: false }).ids,
      decode: (ids) => gpt2.decode(ids),
      vocabSize: 266,
    };
    const text = await readFile(CORPUS, 'utf8');
    expect(chunkText(text, 2000).length).toBeGreaterThan(40);
    const chunked = await loadTokens({ file: CORPUS, tokenizer, chunkChars: 2000 });
    expect(Array.from(chunked)).toEqual(tokenizer.encode(text));
    // Why the cut goes before the last "\n" of a blank line: after it, the run would split differently.
    expect([...tokenizer.encode('end.\n\n'), ...tokenizer.encode('The')]).not.toEqual(tokenizer.encode('end.\n\nThe'));
    expect([...tokenizer.encode('end.\n'), ...tokenizer.encode('\nThe')]).toEqual(tokenizer.encode('end.\n\nThe'));
  });

  it('chunk boundaries do not depend on how the text arrives', () => {
    const text = 'Para one.\n\nPara two is longer.\nA line.\n\n\nThree newlines before.   Spaces.'.repeat(40);
    const whole = chunkText(text, 50);
    expect(whole.join('')).toBe(text);
    const chunker = new TextChunker(50);
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 7) pieces.push(...chunker.push(text.slice(i, i + 7)));
    pieces.push(...chunker.flush());
    expect(pieces).toEqual(whole);
    expect(whole.slice(1).every((c) => c.startsWith('\n'))).toBe(true);
  });

  it('multi-byte characters split across stream reads decode correctly', async () => {
    const text = 'héllo wörld 日本 🙂\n\n'.repeat(8000); // ~200 KB, several 64 KB reads
    const file = await write('utf8.txt', text);
    const tokens = await loadTokens({ file, tokenizer: bytes, chunkChars: 3000 });
    expect(Buffer.from(Uint8Array.from(tokens)).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  it('maxTokens truncates', async () => {
    const tokens = await loadTokens({ file: CORPUS, tokenizer: bytes, maxTokens: 1000, chunkChars: 300 });
    expect(tokens.length).toBe(1000);
    expect(Buffer.from(Uint8Array.from(tokens)).toString('latin1')).toBe((await readFile(CORPUS, 'latin1')).slice(0, 1000));
    await expect(loadTokens({ file: CORPUS, tokenizer: bytes, maxTokens: 0 })).rejects.toThrow(/--max-tokens/);
  });

  it('rejects invalid UTF-8, empty files, missing files and a missing tokenizer', async () => {
    const latin1 = await write('latin1.txt', Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await expect(loadTokens({ file: latin1, tokenizer: bytes })).rejects.toThrow(/latin1\.txt is not valid UTF-8/);
    const empty = await write('empty.txt', '');
    await expect(loadTokens({ file: empty, tokenizer: bytes })).rejects.toThrow(DataError);
    await expect(loadTokens({ file: empty, tokenizer: bytes })).rejects.toThrow(/empty\.txt holds no tokens/);
    await expect(loadTokens({ file: join(dir, 'nope.txt'), tokenizer: bytes })).rejects.toThrow(/nope\.txt: no such file/);
    await expect(loadTokens({ file: CORPUS })).rejects.toThrow(UsageError);
  });
});

describe('loadTokens: jsonl', () => {
  it('encodes each document and separates documents with a blank line', async () => {
    const file = await write('docs.jsonl', '{"text": "ab"}\n\n{"text": "é", "id": 2}\r\n{"text": ""}\n{"text": "c"}\n');
    const tokens = await loadTokens({ file, tokenizer: bytes });
    expect(Array.from(tokens)).toEqual([...Buffer.from('ab\n\né\n\nc')]);
    expect(Array.from(await loadTokens({ file, tokenizer: bytes, maxTokens: 3 }))).toEqual([97, 98, 10]);
  });

  it('a bad line is a DataError with file and line number', async () => {
    const notJson = await write('bad.jsonl', '{"text": "ok"}\n{"text": "fine"}\n{"text": oops}\n');
    await expect(loadTokens({ file: notJson, tokenizer: bytes })).rejects.toThrow(/bad\.jsonl:3: not valid JSON/);
    const noText = await write('notext.jsonl', '{"text": "ok"}\n{"content": "x"}\n');
    await expect(loadTokens({ file: noText, tokenizer: bytes })).rejects.toThrow(
      /notext\.jsonl:2: expected an object with a string "text" field/,
    );
  });
});

describe('loadTokens: bin', () => {
  it('reads nanoGPT uint16 little-endian ids without a tokenizer', async () => {
    const ids = [0, 1, 255, 256, 50256, 65535];
    const file = await write('train.bin', new Uint8Array(Uint16Array.from(ids).buffer));
    expect(Array.from(await loadTokens({ file }))).toEqual(ids);
    expect(Array.from(await loadTokens({ file, maxTokens: 4 }))).toEqual(ids.slice(0, 4));
  });

  it('an odd byte length or an empty file is a DataError naming the file', async () => {
    const odd = await write('odd.bin', Uint8Array.from([1, 0, 2]));
    await expect(loadTokens({ file: odd })).rejects.toThrow(/odd\.bin has 3 bytes/);
    const empty = await write('empty.bin', new Uint8Array(0));
    await expect(loadTokens({ file: empty })).rejects.toThrow(/empty\.bin holds no tokens/);
  });
});

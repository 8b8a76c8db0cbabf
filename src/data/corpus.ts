import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { DataError, UsageError } from '../errors.js';
import { readBinTokens } from './bin_tokens.js';
import { CHUNK_CHARS, TextChunker, chunkText } from './text_chunks.js';
import type { TextTokenizer } from './tokenizer.js';

export interface LoadTokensOptions {
  /** .bin = nanoGPT uint16 ids; .jsonl = one {"text": ...} per line; anything else = UTF-8 text. */
  file: string;
  /** Needed for text and jsonl. */
  tokenizer?: TextTokenizer;
  /** Keep only the first maxTokens tokens (and stop reading there). */
  maxTokens?: number;
  /** Characters per tokenizer call; see text_chunks.ts. */
  chunkChars?: number;
}

/**
 * Text between two jsonl documents, so the last word of one does not fuse with the first of the
 * next; a blank line is how documents are separated in plain text files too.
 */
export const DOCUMENT_SEPARATOR = '\n\n';

/** Reads a training file into token ids. */
export async function loadTokens(options: LoadTokensOptions): Promise<Int32Array> {
  const { file, tokenizer, maxTokens = Infinity, chunkChars = CHUNK_CHARS } = options;
  if (maxTokens !== Infinity && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new UsageError(`--max-tokens must be a positive integer, got ${maxTokens}`, {
      flag: '--max-tokens',
      actual: String(maxTokens),
    });
  }
  await assertReadableFile(file);

  const ext = extname(file).toLowerCase();
  let tokens: Int32Array;
  if (ext === '.bin') {
    tokens = await readBinTokens(file, maxTokens);
  } else {
    if (tokenizer === undefined) {
      throw new UsageError(`${file} is text, so it needs a tokenizer to become token ids`, {
        file,
        hint: 'pass the model directory that holds tokenizer.json, or give pre-tokenized uint16 ids as a .bin file',
      });
    }
    const sink = new TokenSink(maxTokens);
    if (ext === '.jsonl') await encodeJsonl(file, tokenizer, sink, chunkChars);
    else await encodeText(file, tokenizer, sink, chunkChars);
    tokens = sink.result();
  }
  if (tokens.length === 0) {
    throw new DataError(`${file} holds no tokens`, { file, expected: 'at least one token', actual: '0 tokens' });
  }
  return tokens;
}

async function encodeText(file: string, tokenizer: TextTokenizer, sink: TokenSink, chunkChars: number): Promise<void> {
  const chunker = new TextChunker(chunkChars);
  // fatal: a Latin-1 or binary file should be an error, not text silently full of U+FFFD.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const decode = (buffer?: Buffer): string => {
    try {
      return buffer === undefined ? decoder.decode() : decoder.decode(buffer, { stream: true });
    } catch {
      throw new DataError(`${file} is not valid UTF-8 (within bytes ${bytes}..${bytes + (buffer?.length ?? 0)})`, {
        file,
        expected: 'UTF-8 text',
        hint: 'convert it first, e.g. iconv -f latin1 -t utf-8',
      });
    }
  };
  for await (const buffer of createReadStream(file)) {
    if (!(buffer instanceof Buffer)) continue;
    for (const chunk of chunker.push(decode(buffer))) {
      if (sink.add(tokenizer.encode(chunk))) return;
    }
    bytes += buffer.length;
  }
  for (const chunk of chunker.push(decode())) if (sink.add(tokenizer.encode(chunk))) return;
  for (const chunk of chunker.flush()) if (sink.add(tokenizer.encode(chunk))) return;
}

async function encodeJsonl(file: string, tokenizer: TextTokenizer, sink: TokenSink, chunkChars: number): Promise<void> {
  const separator = tokenizer.encode(DOCUMENT_SEPARATOR);
  const input = createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    let lineNumber = 0;
    let documents = 0;
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const text = documentText(line, file, lineNumber);
      if (text === '') continue;
      if (documents++ > 0 && sink.add(separator)) return;
      for (const chunk of chunkText(text, chunkChars)) {
        if (sink.add(tokenizer.encode(chunk))) return;
      }
    }
  } finally {
    lines.close();
    input.destroy(); // closing readline leaves its input open
  }
}

function documentText(line: string, file: string, lineNumber: number): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`${file}:${lineNumber}: not valid JSON (${reason})`, { file, actual: reason });
  }
  if (typeof value !== 'object' || value === null || !('text' in value) || typeof value.text !== 'string') {
    throw new DataError(`${file}:${lineNumber}: expected an object with a string "text" field`, {
      file,
      expected: '{"text": "..."}',
      actual: line.length > 80 ? `${line.slice(0, 80)}...` : line,
    });
  }
  return value.text;
}

async function assertReadableFile(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (err) {
    const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : String(err);
    throw new DataError(`Cannot read training data ${file}: ${reason}`, { file });
  }
  if (!isFile) throw new DataError(`Training data ${file} is not a file`, { file });
}

/** Collects ids into one Int32Array, growing by doubling, and says when maxTokens is reached. */
class TokenSink {
  private buffer = new Int32Array(1 << 16);
  private length = 0;

  constructor(private readonly maxTokens: number) {}

  /** Appends ids; returns true once maxTokens are held (the caller should stop reading). */
  add(ids: ArrayLike<number>): boolean {
    const take = Math.min(ids.length, this.maxTokens - this.length);
    if (this.length + take > this.buffer.length) {
      const grown = new Int32Array(Math.max(this.buffer.length * 2, this.length + take));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    for (let i = 0; i < take; i++) this.buffer[this.length + i] = ids[i];
    this.length += take;
    return this.length >= this.maxTokens;
  }

  result(): Int32Array {
    return this.buffer.slice(0, this.length);
  }
}

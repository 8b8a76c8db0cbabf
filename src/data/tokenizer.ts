import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { DataError } from '../errors.js';

export interface TextTokenizer {
  /** Token ids of text, without special tokens (no BOS/EOS). */
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** One past the largest id, added tokens included; a model's embedding may be larger (padded). */
  vocabSize: number;
}

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** Loads dir/tokenizer.json (and tokenizer_config.json when present) through @huggingface/tokenizers. */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const file = join(dir, TOKENIZER_FILE);
  const json = await readJson(file);
  if (json === undefined) {
    throw new DataError(`No ${TOKENIZER_FILE} in ${dir}`, {
      file,
      hint: `ligo reads the tokenizer from the model directory; copy ${TOKENIZER_FILE} from the model's Hub repo`,
    });
  }
  const config = (await readJson(join(dir, TOKENIZER_CONFIG_FILE))) ?? {};

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new DataError(`Cannot build a tokenizer from ${file}: ${reason}`, { file, actual: reason });
  }

  let maxId = -1;
  for (const id of tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);

  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    // The library throws on an empty list. Cleanup is off so that decode(encode(s)) === s.
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode(ids, { clean_up_tokenization_spaces: false })),
    vocabSize: maxId + 1,
  };
}

/** The parsed JSON object in file, or undefined when the file does not exist. */
async function readJson(file: string): Promise<object | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new DataError(`Cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(`${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError(`${file} must hold a JSON object`, { file, expected: 'object', actual: typeof value });
  }
  return value;
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && 'code' in err && err.code === code;
}

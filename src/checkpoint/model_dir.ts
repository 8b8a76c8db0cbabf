import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from '../errors.js';
import { isJsonObject } from '../util/json.js';

/** A model directory's configuration, as transformers saves it. */
export const CONFIG_FILE = 'config.json';

/** A model directory's model card (YAML front matter, then Markdown), as the Hub shows it. */
export const README_FILE = 'README.md';

/** Files besides the weights that a grown model needs to be loadable and usable as is. */
export const AUXILIARY_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
  'tokenizer.model',
  'added_tokens.json',
  'generation_config.json',
];

/** config.json of a model directory as a plain object. */
export async function readConfig(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CheckpointError(`${file}: ${missing ? 'not found' : `cannot read (${(err as Error).message})`}`, {
      file,
      hint: missing ? 'a model directory needs the config.json saved by transformers next to the weights' : undefined,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  if (!isJsonObject(json)) {
    throw new CheckpointError(`${file}: expected a JSON object`, {
      file,
      expected: 'object',
      actual: Array.isArray(json) ? 'array' : json === null ? 'null' : typeof json,
    });
  }
  return json;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Copy the tokenizer and generation files that exist in srcDir; returns the names copied. */
export async function copyAuxiliaryFiles(srcDir: string, outDir: string): Promise<string[]> {
  // Copying a file onto itself can truncate it; growing in place needs no copy.
  if (path.resolve(srcDir) === path.resolve(outDir)) return [];
  const copied: string[] = [];
  for (const name of AUXILIARY_FILES) {
    const src = path.join(srcDir, name);
    if (!(await isFile(src))) continue;
    if (copied.length === 0) await mkdir(outDir, { recursive: true });
    await copyFile(src, path.join(outDir, name));
    copied.push(name);
  }
  return copied;
}

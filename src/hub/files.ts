import { AUXILIARY_FILES, CONFIG_FILE, INDEX_FILE, parseWeightMap, README_FILE, shardFiles, SINGLE_FILE } from '../checkpoint/index.js';
import { CheckpointError, UnsupportedError } from '../errors.js';

/**
 * Files besides config and weights fetched by default when the repo has them (the model card is
 * read for the source's license); callers add their own (ligo's growth.json and operator).
 */
export const OPTIONAL_SOURCE_FILES: readonly string[] = [...AUXILIARY_FILES, README_FILE];

/** Weights we refuse to read: pickles can run code when loaded, and we never unpickle. */
const PICKLE_WEIGHTS = /\.(bin|pt|pth|ckpt|pkl)$/;

/** What to fetch from a repo's root listing; `index` means: fetch it, then the shards it lists. */
export interface SourceFiles {
  config: string;
  weights: { kind: 'single'; file: string } | { kind: 'sharded'; index: string };
  optional: string[];
}

/**
 * Picks the files a model needs from the names at a repo's root (or in a cached snapshot).
 * `where` names the repo in messages, `cached` says the names are what the cache holds (so a
 * missing file may exist on the Hub and the message says "not cached").
 */
export function selectSourceFiles(
  names: ReadonlySet<string>,
  where: string,
  cached = false,
  optionalFiles: readonly string[] = OPTIONAL_SOURCE_FILES,
): SourceFiles {
  const missing = (file: string): string => (cached ? `${file} of ${where} is not in the Hugging Face cache` : `${where} has no ${file}`);
  if (!names.has(CONFIG_FILE)) {
    throw new CheckpointError(missing(CONFIG_FILE), {
      file: CONFIG_FILE,
      hint: cached ? 'run once without HF_HUB_OFFLINE to download it' : 'a model repo needs the config.json saved by transformers',
    });
  }
  const optional = optionalFiles.filter((f) => names.has(f));
  if (names.has(SINGLE_FILE)) return { config: CONFIG_FILE, weights: { kind: 'single', file: SINGLE_FILE }, optional };
  if (names.has(INDEX_FILE)) return { config: CONFIG_FILE, weights: { kind: 'sharded', index: INDEX_FILE }, optional };
  const pickles = [...names].filter((n) => PICKLE_WEIGHTS.test(n)).sort();
  if (pickles.length > 0) {
    throw new UnsupportedError(
      `${where} has only pickle weights (${pickles.slice(0, 3).join(', ')}${pickles.length > 3 ? ', ...' : ''}); ligo reads safetensors only and never unpickles`,
      {
        file: pickles[0],
        hint: 'convert to safetensors (transformers: model.save_pretrained(dir, safe_serialization=True), or the Hub\'s safetensors convert Space), or pick a revision that has model.safetensors',
      },
    );
  }
  throw new CheckpointError(missing(`${SINGLE_FILE} or ${INDEX_FILE}`), {
    file: SINGLE_FILE,
    hint: cached ? 'run once without HF_HUB_OFFLINE to download the weights' : undefined,
  });
}

/** The shard files a model.safetensors.index.json lists, each once, in order of first mention. */
export function shardsOfIndex(text: string, file: string): string[] {
  return shardFiles(parseWeightMap(text, file));
}

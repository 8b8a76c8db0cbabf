import { AUXILIARY_FILES, INDEX_FILE, SINGLE_FILE } from '../checkpoint/index.js';
import { CheckpointError, UnsupportedError } from '../errors.js';
import { OPERATOR_FILE } from '../growth/operator_file.js';

/** The model card, read for the source's license. */
export const README_FILE = 'README.md';

/** growth.json of a grown model (a ligo repo can be a source too, and `apply` reads its operator). */
const GROWTH_REPORT_FILE = 'growth.json';

/** Files besides config and weights fetched when the repo has them; nothing else is downloaded. */
export const OPTIONAL_SOURCE_FILES: readonly string[] = [...AUXILIARY_FILES, README_FILE, OPERATOR_FILE, GROWTH_REPORT_FILE];

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
export function selectSourceFiles(names: ReadonlySet<string>, where: string, cached = false): SourceFiles {
  const missing = (file: string): string => (cached ? `${file} of ${where} is not in the Hugging Face cache` : `${where} has no ${file}`);
  if (!names.has('config.json')) {
    throw new CheckpointError(missing('config.json'), {
      file: 'config.json',
      hint: cached ? 'run once without HF_HUB_OFFLINE to download it' : 'a model repo needs the config.json saved by transformers',
    });
  }
  const optional = OPTIONAL_SOURCE_FILES.filter((f) => names.has(f));
  if (names.has(SINGLE_FILE)) return { config: 'config.json', weights: { kind: 'single', file: SINGLE_FILE }, optional };
  if (names.has(INDEX_FILE)) return { config: 'config.json', weights: { kind: 'sharded', index: INDEX_FILE }, optional };
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  const map = typeof json === 'object' && json !== null && 'weight_map' in json ? json.weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new CheckpointError(`${file}: no "weight_map" object`, { file, expected: 'weight_map: { tensor: shard file }' });
  }
  const shards = new Set<string>();
  for (const [tensor, shard] of Object.entries(map)) {
    // Shard names are joined onto the cache directory: only plain file names may pass.
    if (typeof shard !== 'string' || shard === '' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new CheckpointError(`${file}: tensor "${tensor}" maps to ${JSON.stringify(shard)}, not a file name`, { file, tensor });
    }
    shards.add(shard);
  }
  return [...shards];
}

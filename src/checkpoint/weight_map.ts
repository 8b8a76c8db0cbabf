import { CheckpointError } from '../errors.js';
import { isJsonObject } from '../util/json.js';

/**
 * A shard name as model.safetensors.index.json may give it: a path relative to the model's
 * directory (or repo), `/` between its parts (`weights/model-00001-of-00002.safetensors`). Names
 * come from a downloaded file and are joined onto a directory, so an absolute path, a `..`, an
 * empty or `.` part and a backslash (a separator on Windows only) are refused: the name stays inside.
 */
export function isShardName(name: string): boolean {
  if (name === '' || name.includes('\\') || /^[A-Za-z]:/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * model.safetensors.index.json's weight_map, tensor name -> shard file, every shard name checked
 * by isShardName. `file` names the index in errors. The one reader of the format: the Hub loader
 * (which shards to fetch) and the local reader (which to open) both use it.
 */
export function parseWeightMap(text: string, file: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  const map = isJsonObject(json) ? json.weight_map : undefined;
  if (!isJsonObject(map)) {
    throw new CheckpointError(`${file}: no "weight_map" object`, { file, expected: '{"weight_map": {tensor: shard file}}' });
  }
  const out = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !isShardName(shard)) {
      throw new CheckpointError(`${file}: tensor "${tensor}" maps to an invalid shard name ${JSON.stringify(shard)}`, {
        file,
        tensor,
        expected: 'a file name or relative path inside the model directory',
        actual: JSON.stringify(shard),
      });
    }
    out.set(tensor, shard);
  }
  return out;
}

/** The shard files of a weight map, each once, in order of first mention. */
export const shardFiles = (weightMap: ReadonlyMap<string, string>): string[] => [...new Set(weightMap.values())];

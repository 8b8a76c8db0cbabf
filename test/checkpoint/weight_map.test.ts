import { describe, expect, it } from 'vitest';
import { isShardName, parseWeightMap, shardFiles } from '../../src/checkpoint/weight_map.js';
import { CheckpointError } from '../../src/errors.js';

describe('weight_map of model.safetensors.index.json (one parser for the Hub loader and the local reader)', () => {
  it('accepts file names and relative paths inside the model directory', () => {
    for (const name of ['model-00001-of-00002.safetensors', 'weights/model-00001-of-00002.safetensors', 'a/b/c.safetensors', '.hidden.safetensors']) {
      expect(isShardName(name), name).toBe(true);
    }
  });

  it('refuses absolute paths, .. anywhere, empty or . parts and backslashes', () => {
    for (const name of ['', '/etc/passwd', '../x.safetensors', 'a/../../x', 'a/..', 'a//b', './x', 'a/./b', 'a/', 'a\\\\b', 'C:/x', 'C:x']) {
      expect(isShardName(name), name).toBe(false);
    }
  });

  it('parses the map, lists each shard once in order, and names the index and tensor of a bad entry', () => {
    const text = JSON.stringify({ metadata: {}, weight_map: { a: 'w/2.safetensors', b: '1.safetensors', c: 'w/2.safetensors' } });
    const map = parseWeightMap(text, 'index.json');
    expect(map.get('a')).toBe('w/2.safetensors');
    expect(shardFiles(map)).toEqual(['w/2.safetensors', '1.safetensors']);
    const bad = (weightMap: unknown): CheckpointError => {
      try {
        parseWeightMap(JSON.stringify({ weight_map: weightMap }), 'index.json');
      } catch (err) {
        if (err instanceof CheckpointError) return err;
      }
      throw new Error('expected a CheckpointError');
    };
    expect(bad({ a: '/abs.safetensors' }).message).toBe('index.json: tensor "a" maps to an invalid shard name "/abs.safetensors"');
    expect(bad({ t: 3 }).tensor).toBe('t');
    expect(bad([]).message).toBe('index.json: no "weight_map" object');
    expect(() => parseWeightMap('{', 'index.json')).toThrow(/index\.json: not valid JSON/);
  });
});

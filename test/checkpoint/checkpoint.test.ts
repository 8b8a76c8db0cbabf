import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { CheckpointError } from '../../src/errors.js';
import { f32Bytes, tempDir } from './helpers.js';

function shard(tensors: Record<string, number[]>): Uint8Array {
  return serializeSafetensors(
    Object.entries(tensors).map(([name, v]) => ({ name, dtype: 'F32', shape: [v.length], data: f32Bytes(v) })),
    { format: 'pt' },
  );
}

/** A model directory with the given files (Uint8Array as is, objects as JSON). */
async function modelDir(files: Record<string, Uint8Array | object | string>): Promise<string> {
  const dir = await tempDir();
  for (const [name, content] of Object.entries(files)) {
    const bytes = content instanceof Uint8Array || typeof content === 'string' ? content : JSON.stringify(content);
    await writeFile(path.join(dir, name), bytes);
  }
  return dir;
}

async function rejection(dir: string): Promise<CheckpointError> {
  const err: unknown = await openCheckpoint(dir).then(
    async (c) => {
      await c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  if (!(err instanceof CheckpointError)) throw new Error(`expected a CheckpointError, got ${String(err)}`);
  return err;
}

const S1 = 'model-00001-of-00002.safetensors';
const S2 = 'model-00002-of-00002.safetensors';

describe('openCheckpoint picks the weights file', () => {
  it('prefers model.safetensors', async () => {
    const dir = await modelDir({ 'model.safetensors': shard({ w: [1, 2] }), 'other.safetensors': shard({ v: [3] }) });
    const c = await openCheckpoint(dir);
    expect(c.dir).toBe(dir);
    expect(c.files).toEqual(['model.safetensors']);
    expect(c.metadata).toEqual({ format: 'pt' });
    expect(Array.from(await c.readFloat32('w'))).toEqual([1, 2]);
    expect(c.totalBytes()).toBe(8);
    await expect(c.readBytes('v')).rejects.toThrow(`${dir}: no tensor "v" in the checkpoint`);
    await c.close();
  });

  it('falls back to the single *.safetensors file', async () => {
    const dir = await modelDir({ 'pico.safetensors': shard({ w: [5] }), 'config.json': {} });
    const c = await openCheckpoint(dir);
    expect(c.files).toEqual(['pico.safetensors']);
    expect(Array.from(await c.readFloat32('w'))).toEqual([5]);
    await c.close();
  });

  it('refuses to guess among several files without an index', async () => {
    const err = await rejection(await modelDir({ 'a.safetensors': shard({ x: [1] }), 'b.safetensors': shard({ y: [1] }) }));
    expect(err.message).toMatch(/several \.safetensors files \(a\.safetensors, b\.safetensors\) but no model\.safetensors\.index\.json/);
  });

  it('says which files exist and that pickle weights are not supported', async () => {
    const dir = await modelDir({ 'pytorch_model.bin': 'pickle', 'config.json': {} });
    const err = await rejection(dir);
    expect(err.message).toBe(`${dir}: no safetensors weights found (it has config.json, pytorch_model.bin)`);
    expect(err.hint).toMatch(/pytorch_model\.bin is a pickle checkpoint.*convert to safetensors/);
    const empty = await rejection(await modelDir({}));
    expect(empty.message).toMatch(/no safetensors weights found \(it is empty\)/);
    expect(empty.hint).toMatch(/expected model\.safetensors/);
  });

  it('reports a missing directory', async () => {
    const dir = path.join(await tempDir(), 'nope');
    expect((await rejection(dir)).message).toBe(`${dir}: model directory does not exist`);
  });
});

describe('openCheckpoint with model.safetensors.index.json', () => {
  const index = (map: Record<string, string>) => ({ metadata: { total_size: 0 }, weight_map: map });

  it('reads every shard in order', async () => {
    const dir = await modelDir({
      [S2]: shard({ b: [3, 4, 5] }),
      [S1]: shard({ a: [1], c: [2] }),
      'model.safetensors.index.json': index({ a: S1, b: S2, c: S1 }),
    });
    const c = await openCheckpoint(dir);
    expect(c.files).toEqual([S1, S2]);
    expect([...c.entries.keys()]).toEqual(['a', 'c', 'b']);
    expect(Array.from(await c.readFloat32('b'))).toEqual([3, 4, 5]);
    expect(Array.from(await c.readFloat32('c'))).toEqual([2]);
    expect(c.totalBytes()).toBe(20);
    await c.close();
  });

  it('fails when a referenced shard is missing', async () => {
    const dir = await modelDir({ [S1]: shard({ a: [1] }), 'model.safetensors.index.json': index({ a: S1, b: S2 }) });
    const err = await rejection(dir);
    expect(err.message).toMatch(/shard "model-00002-of-00002\.safetensors" is missing \(it holds 1 tensors, e\.g\. "b"\)/);
    expect(err.tensor).toBe('b');
    expect(err.file).toBe(path.join(dir, S2));
  });

  it('fails when a tensor listed in the index is missing from its shard', async () => {
    const dir = await modelDir({
      [S1]: shard({ a: [1] }),
      [S2]: shard({ b: [2] }),
      'model.safetensors.index.json': index({ a: S1, b: S2, c: S2 }),
    });
    const err = await rejection(dir);
    expect(err.tensor).toBe('c');
    expect(err.message).toBe(`${path.join(dir, S2)}: tensor "c" is listed in model.safetensors.index.json but missing from this shard`);
  });

  it('fails when a shard holds a tensor the index maps elsewhere or not at all', async () => {
    const files = { [S1]: shard({ a: [1], b: [2] }), [S2]: shard({ b: [2] }) };
    const elsewhere = await rejection(await modelDir({ ...files, 'model.safetensors.index.json': index({ a: S1, b: S2 }) }));
    expect(elsewhere.tensor).toBe('b');
    expect(elsewhere.message).toMatch(/tensor "b" is in this shard but is mapped to "model-00002-of-00002\.safetensors" by the index/);
    const unlisted = await rejection(await modelDir({ [S1]: shard({ a: [1], z: [2] }), 'model.safetensors.index.json': index({ a: S1 }) }));
    expect(unlisted.message).toMatch(/tensor "z" is in this shard but is not in the index/);
  });

  it('fails on a malformed index or a shard name outside the directory', async () => {
    expect((await rejection(await modelDir({ 'model.safetensors.index.json': '{"weight_map": ' }))).message).toMatch(/not valid JSON/);
    expect((await rejection(await modelDir({ 'model.safetensors.index.json': { metadata: {} } }))).message).toMatch(/no "weight_map" object/);
    const escape = await rejection(await modelDir({ 'model.safetensors.index.json': index({ a: '../x.safetensors' }) }));
    expect(escape.message).toMatch(/tensor "a" maps to an invalid shard name "\.\.\/x\.safetensors"/);
  });

  it('reads shards kept in a folder of the model directory', async () => {
    const dir = await modelDir({ 'model.safetensors.index.json': index({ a: `weights/${S1}`, b: `weights/${S2}` }) });
    await mkdir(path.join(dir, 'weights'));
    await writeFile(path.join(dir, 'weights', S1), shard({ a: [1] }));
    await writeFile(path.join(dir, 'weights', S2), shard({ b: [2, 3] }));
    const reader = await openCheckpoint(dir);
    expect([...reader.entries.keys()].sort()).toEqual(['a', 'b']);
    await reader.close();
  });

  it('passes on a shard validation error', async () => {
    const bad = shard({ a: [1, 2] }).subarray(0, -1);
    const dir = await modelDir({ [S1]: bad, 'model.safetensors.index.json': index({ a: S1 }) });
    const err = await rejection(dir);
    expect(err.file).toBe(path.join(dir, S1));
    expect(err.message).toMatch(/tensor "a" ends at byte 8 but the data section has 7 bytes/);
  });
});

import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { decodeToInt32 } from '../../src/checkpoint/dtypes.js';
import { SafetensorsFile } from '../../src/checkpoint/safetensors.js';
import { BufferPool, type ByteChunk } from '../../src/checkpoint/chunks.js';
import { createCheckpointWriter, planShards } from '../../src/checkpoint/writer.js';
import type { PlannedTensor } from '../../src/checkpoint/writer.js';
import { CheckpointError, UsageError } from '../../src/errors.js';
import { tempDir } from './helpers.js';

const plan: PlannedTensor[] = [
  { name: 'a', dtype: 'F32', shape: [2, 2] }, // 16 bytes
  { name: 'b', dtype: 'BF16', shape: [3] }, // 6
  { name: 'c', dtype: 'F16', shape: [5] }, // 10
  { name: 'd', dtype: 'F32', shape: [10] }, // 40: over the 24-byte limit, a shard of its own
  { name: 'e', dtype: 'U8', shape: [7] }, // 7
  { name: 'f', dtype: 'I64', shape: [1] }, // 8
];

const values = {
  a: new Float32Array([0.1, -0, 1e-40, 123456.789]),
  b: new Float32Array([1, -2.5, 3.140625]),
  c: new Uint8Array(new Uint16Array([0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00]).buffer),
  d: Float32Array.from({ length: 10 }, (_, i) => i / 3),
  e: new Uint8Array([0, 1, 2, 3, 250, 255, 7]),
  f: new Uint8Array(new BigInt64Array([-42n]).buffer),
};

async function writeAll(dir: string, maxShardSize: number): Promise<string[]> {
  const w = await createCheckpointWriter(dir, plan, { maxShardSize, metadata: { grown_from: 'pico' } });
  for (const t of plan) await w.write(t.name, values[t.name as keyof typeof values]);
  await w.close();
  return w.files;
}

describe('planShards', () => {
  it('groups greedily like huggingface_hub, oversized tensors alone and numbered first', () => {
    const names = planShards(plan, 24).map((s) => s.map((t) => t.name));
    expect(names).toEqual([['a', 'b'], ['d'], ['c', 'e'], ['f']]);
    expect(planShards(plan, 1e9).map((s) => s.length)).toEqual([6]);
    expect(planShards([], 10)).toEqual([[]]);
  });
});

describe('createCheckpointWriter', () => {
  it('writes HF-style shards and an index that read back exactly', async () => {
    const dir = await tempDir();
    const files = await writeAll(dir, 24);
    const names = ['00001', '00002', '00003', '00004'].map((i) => `model-${i}-of-00004.safetensors`);
    expect(files).toEqual(names);
    expect((await readdir(dir)).sort()).toEqual([...names, 'model.safetensors.index.json'].sort());

    const index = await readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8');
    const expectedIndex = {
      metadata: { total_size: 87 },
      weight_map: { a: names[0], b: names[0], c: names[2], d: names[1], e: names[2], f: names[3] },
    };
    expect(index).toBe(`${JSON.stringify(expectedIndex, null, 2)}\n`);

    const ckpt = await openCheckpoint(dir);
    try {
      expect(ckpt.files).toEqual(names);
      expect(ckpt.totalBytes()).toBe(87);
      expect(ckpt.metadata).toEqual({ format: 'pt', grown_from: 'pico' });
      expect([...ckpt.entries.keys()]).toEqual(['a', 'b', 'd', 'c', 'e', 'f']);
      expect(ckpt.entries.get('c')).toMatchObject({ dtype: 'F16', shape: [5], file: path.join(dir, names[2]) });
      expect(Array.from(await ckpt.readFloat32('a'))).toEqual(Array.from(values.a));
      expect(Object.is((await ckpt.readFloat32('a'))[1], -0)).toBe(true);
      expect(Array.from(await ckpt.readFloat32('b'))).toEqual([1, -2.5, 3.140625]);
      expect(await ckpt.readBytes('c')).toEqual(values.c);
      expect(Array.from(await ckpt.readFloat32('c'))).toEqual([1, -2.5, 65504, 2 ** -24, Infinity]);
      expect(Array.from(await ckpt.readFloat32('d'))).toEqual(Array.from(values.d));
      expect(await ckpt.readBytes('e')).toEqual(values.e);
      expect(Array.from(decodeToInt32(await ckpt.readBytes('f'), 'I64'))).toEqual([-42]);
    } finally {
      await ckpt.close();
    }
  });

  it('lays out each shard in plan order with an 8-byte padded header', async () => {
    const dir = await tempDir();
    await writeAll(dir, 24);
    const raw = await readFile(path.join(dir, 'model-00003-of-00004.safetensors'));
    const n = Number(raw.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = raw.subarray(8, 8 + n).toString('utf8');
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt","grown_from":"pico"},' +
        '"c":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},' +
        '"e":{"dtype":"U8","shape":[7],"data_offsets":[10,17]}}',
    );
    expect(raw.byteLength).toBe(8 + n + 17);
  });

  it('writes one model.safetensors and no index when everything fits', async () => {
    const dir = await tempDir();
    expect(await writeAll(dir, 5e9)).toEqual(['model.safetensors']);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const st = await SafetensorsFile.open(path.join(dir, 'model.safetensors'));
    expect(st.entries.size).toBe(6);
    expect(Array.from(await st.readFloat32('d'))).toEqual(Array.from(values.d));
    await st.close();
  });

  it('is deterministic: same input, same bytes', async () => {
    const [d1, d2] = [await tempDir(), await tempDir()];
    const files = await writeAll(d1, 24);
    await writeAll(d2, 24);
    for (const f of [...files, 'model.safetensors.index.json']) {
      expect(await readFile(path.join(d2, f))).toEqual(await readFile(path.join(d1, f)));
    }
  });

  it('rejects writes out of order, of the wrong size or kind, unknown or repeated', async () => {
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, plan.slice(0, 2));
    await expect(w.write('b', values.b)).rejects.toThrow(/cannot write tensor "b" out of order; "a" is next in the plan/);
    await expect(w.write('zz', values.a)).rejects.toThrow(/cannot write tensor "zz" that is not in the plan/);
    await expect(w.write('a', new Float32Array(3))).rejects.toThrow(/tensor "a" got 3 values but the plan needs 4 values/);
    await expect(w.write('a', new Uint8Array(15))).rejects.toThrow(/tensor "a" got 15 bytes but the plan needs 16 bytes of F32/);
    await w.write('a', values.a);
    await expect(w.write('a', values.a)).rejects.toThrow(/out of order; "b" is next/);
    await w.write('b', values.b);
    await expect(w.write('b', values.b)).rejects.toThrow(/cannot write tensor "b" twice/);
    await w.close();
    await expect(w.write('a', values.a)).rejects.toThrow(/after close/);

    const ints = await createCheckpointWriter(await tempDir(), [{ name: 'ids', dtype: 'I64', shape: [1] }]);
    const err: unknown = await ints.write('ids', new Float32Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).tensor).toBe('ids');
    expect((err as CheckpointError).message).toMatch(/got a Float32Array but the plan needs raw I64 bytes/);
  });

  it('writes a tensor given in chunks (several in flight) byte-identical to writing it whole, releasing every chunk', async () => {
    const bytesOf = (t: (typeof plan)[number]): Uint8Array => {
      const v = values[t.name as keyof typeof values];
      if (v instanceof Uint8Array) return v;
      if (t.dtype === 'F32') return new Uint8Array(v.buffer.slice(0));
      return new Uint8Array(new Uint16Array([0x3f80, 0xc020, 0x4049]).buffer); // b: 1, -2.5, 3.140625 in BF16
    };
    const whole = await tempDir();
    await writeAll(whole, 24);
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, plan, { maxShardSize: 24, metadata: { grown_from: 'pico' } });
    const pool = new BufferPool(2, 3);
    let released = 0;
    let yielded = 0;
    for (const t of plan) {
      const bytes = bytesOf(t);
      async function* pieces(): AsyncGenerator<ByteChunk> {
        for (let i = 0; i < bytes.byteLength; i += 3) {
          const n = Math.min(3, bytes.byteLength - i);
          const { view, done } = await pool.chunk(n);
          view.set(bytes.subarray(i, i + n));
          const chunk = done();
          yielded++;
          yield { bytes: chunk.bytes, release: () => (released++, chunk.release?.()) };
        }
      }
      await w.write(t.name, pieces());
    }
    await w.close();
    expect(released).toBe(yielded);
    expect(yielded).toBeGreaterThan(plan.length);
    for (const f of w.files) expect(await readFile(path.join(dir, f)), f).toEqual(await readFile(path.join(whole, f)));
  });

  const stream = (...pieces: ByteChunk[]): AsyncIterable<ByteChunk> => ({
    async *[Symbol.asyncIterator]() {
      yield* pieces;
    },
  });

  it('rejects a chunked tensor with too many or too few bytes, or bytes twice, naming the tensor', async () => {
    const n = (size: number, offsets?: number[]): ByteChunk => ({ bytes: new Uint8Array(size), offsets });
    const cases: [ByteChunk[], RegExp][] = [
      [[n(8), n(4)], /tensor "a" got 12 bytes but the plan needs 16 bytes of F32/],
      [[n(8), n(8), n(2)], /tensor "a" got 2 bytes at offset 16 but the plan needs 16 bytes of F32/],
      [[n(8, [0, 4]), n(4, [12])], /tensor "a" got bytes 4-8 twice/],
      [[n(4, [0, 12]), n(4, [8])], /tensor "a" got no bytes 4-8/],
    ];
    for (const [pieces, message] of cases) {
      const w = await createCheckpointWriter(await tempDir(), plan.slice(0, 2));
      await expect(w.write('a', stream(...pieces))).rejects.toThrow(message);
    }
  });

  it('a chunk stream that fails mid-tensor fails the write; abort() then waits for the writes in flight and closes the files', async () => {
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, plan.slice(0, 2));
    let released = 0;
    const failing: AsyncIterable<ByteChunk> = {
      async *[Symbol.asyncIterator]() {
        yield { bytes: new Uint8Array(8), release: () => released++ };
        throw new Error('gather failed');
      },
    };
    await expect(w.write('a', failing)).rejects.toThrow(/gather failed/);
    await w.abort();
    expect(released).toBe(1);
    await expect(w.write('a', values.a)).rejects.toThrow(/after close/);
    await w.close(); // a no-op once aborted
  });

  it('writes one chunk at several offsets (repeated bytes) and releases it once all are written', async () => {
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, [{ name: 'r', dtype: 'U8', shape: [12] }]);
    let released = 0;
    const piece = (bytes: number[], offsets: number[]): ByteChunk => ({ bytes: new Uint8Array(bytes), offsets, release: () => released++ });
    await w.write('r', stream(piece([1, 2, 3, 4], [0, 8]), piece([5, 6, 7, 8], [4])));
    await w.close();
    expect(released).toBe(2);
    const ckpt = await openCheckpoint(dir);
    expect([...(await ckpt.readBytes('r'))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4]);
    await ckpt.close();
  });

  it('rejects a write started before the previous one finished', async () => {
    const w = await createCheckpointWriter(await tempDir(), plan.slice(0, 2));
    const first = w.write('a', values.a);
    await expect(w.write('b', values.b)).rejects.toThrow(/before the previous write finished/);
    await first;
    await w.write('b', values.b);
    await w.close();
  });

  it('fails on close when planned tensors were never written, and writes no index', async () => {
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, plan, { maxShardSize: 24 });
    await w.write('a', values.a);
    const err: unknown = await w.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).tensor).toBe('b');
    expect((err as CheckpointError).message).toMatch(/5 planned tensor\(s\) never written \("b", "c", "d", \.\.\.\)/);
    expect(await readdir(dir)).not.toContain('model.safetensors.index.json');
  });

  it('rejects bad plans and shard sizes', async () => {
    const dir = await tempDir();
    await expect(createCheckpointWriter(dir, [plan[0], plan[0]])).rejects.toThrow(/tensor "a" is planned twice/);
    await expect(createCheckpointWriter(dir, [{ name: 'x', dtype: 'F32', shape: [-1] }])).rejects.toThrow(/invalid shape/);
    await expect(createCheckpointWriter(dir, plan, { maxShardSize: 0 })).rejects.toBeInstanceOf(UsageError);
  });

  it('writes a valid empty checkpoint for an empty plan', async () => {
    const dir = await tempDir();
    const w = await createCheckpointWriter(dir, []);
    await w.close();
    const ckpt = await openCheckpoint(dir);
    expect(ckpt.entries.size).toBe(0);
    expect(ckpt.metadata).toEqual({ format: 'pt' });
    await ckpt.close();
  });
});

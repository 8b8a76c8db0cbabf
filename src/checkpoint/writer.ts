import { mkdir, open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError, UsageError } from '../errors.js';
import { isChunkStream, type ChunkStream } from './chunks.js';
import { encodeFromFloat32, isDType } from './dtypes.js';
import type { DType } from './dtypes.js';
import { INDEX_FILE, SINGLE_FILE } from './checkpoint.js';
import { writeFully } from './io.js';
import { encodeHeader, tensorByteSize } from './safetensors.js';

export interface PlannedTensor {
  name: string;
  dtype: DType;
  shape: number[];
}

export interface CheckpointWriterOptions {
  /** bytes per shard before starting a new one (default 5e9, like Hugging Face) */
  maxShardSize?: number;
  /** extra `__metadata__` entries for every shard ("format": "pt" is always set) */
  metadata?: Record<string, string>;
}

export interface CheckpointWriter {
  /** safetensors file names (relative to dir) this writer produces, in shard order */
  readonly files: string[];
  /**
   * Writes the next planned tensor: float32 values (encoded to the planned dtype), its raw bytes,
   * or its raw bytes in consecutive chunks. Chunks are written as they arrive, several in flight,
   * and the last of them may still be in flight when this resolves (so the next tensor's first
   * chunk is built meanwhile): each chunk's release says when it is written; close() waits for all.
   */
  write(name: string, data: Float32Array | Uint8Array | ChunkStream): Promise<void>;
  close(): Promise<void>;
  /** After a failure: waits for the writes in flight and closes every file (the output is incomplete). */
  abort(): Promise<void>;
}

export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/** Chunk writes in flight at once: the kernel copies one while the next is built and queued. */
const CHUNKS_IN_FLIGHT = 2;

interface Slot extends PlannedTensor {
  bytes: number;
  shard: number;
  begin: number;
  end: number;
}

interface Shard {
  file: string;
  slots: Slot[];
  header: Uint8Array;
  handle?: FileHandle;
  remaining: number;
}

/**
 * Same grouping as huggingface_hub's split_torch_state_dict_into_shards, so our shards match
 * what save_pretrained would write: fill greedily in order; a tensor larger than the limit gets
 * a shard of its own, numbered before the shard that is still filling.
 */
export function planShards(tensors: readonly PlannedTensor[], maxShardSize: number): PlannedTensor[][] {
  const shards: PlannedTensor[][] = [];
  let current: PlannedTensor[] = [];
  let currentSize = 0;
  for (const t of tensors) {
    const size = tensorByteSize(t.dtype, t.shape);
    if (size > maxShardSize) {
      shards.push([t]);
      continue;
    }
    if (currentSize + size > maxShardSize && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(t);
    currentSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

function shardFileName(i: number, n: number): string {
  if (n === 1) return SINGLE_FILE;
  const pad = (k: number) => String(k).padStart(5, '0');
  return `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
}

function validatePlan(tensors: readonly PlannedTensor[]): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new CheckpointError(`tensor "${t.name}" is planned twice`, { tensor: t.name });
    seen.add(t.name);
    if (!isDType(t.dtype)) throw new CheckpointError(`tensor "${t.name}" has unknown dtype "${t.dtype}"`, { tensor: t.name });
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new CheckpointError(`tensor "${t.name}" has an invalid shape [${t.shape.join(', ')}]`, { tensor: t.name });
    }
  }
}

class StreamedWriter implements CheckpointWriter {
  readonly files: string[];
  private next = 0;
  private busy = false;
  private closed = false;
  /** Chunk writes not yet finished, oldest first (they may span tensors). */
  private inFlight: Promise<void>[] = [];
  /** The first chunk write that failed: every later call reports it. */
  private failure: unknown;

  constructor(
    private readonly dir: string,
    private readonly order: Slot[],
    private readonly shards: Shard[],
  ) {
    this.files = shards.map((s) => s.file);
  }

  async write(name: string, data: Float32Array | Uint8Array | ChunkStream): Promise<void> {
    const slot = this.order[this.next];
    if (this.closed || this.busy || !slot || slot.name !== name) {
      const why = this.closed
        ? 'after close()'
        : this.busy
          ? 'before the previous write finished (await each write)'
          : !this.order.some((s) => s.name === name)
            ? 'that is not in the plan'
            : slot
              ? `out of order; "${slot.name}" is next in the plan`
              : 'twice';
      throw new CheckpointError(`${this.dir}: cannot write tensor "${name}" ${why}`, {
        file: this.dir,
        tensor: name,
        expected: slot?.name,
        actual: name,
      });
    }
    const shard = this.shards[slot.shard];
    const position = shard.header.byteLength + slot.begin;
    const chunks = isChunkStream(data) ? data : undefined;
    const bytes = isChunkStream(data) ? undefined : this.encode(slot, data);
    this.busy = true;
    try {
      if (this.failure !== undefined) throw this.failure;
      const handle = shard.handle ?? (await this.openShard(shard));
      if (chunks) await this.writeChunks(slot, chunks, handle, position);
      else if (bytes) await writeFully(handle, bytes, position);
      this.next++;
      if (--shard.remaining === 0) {
        await this.drain();
        shard.handle = undefined;
        await handle.close();
      }
    } finally {
      this.busy = false;
    }
  }

  private async writeChunks(slot: Slot, chunks: ChunkStream, handle: FileHandle, position: number): Promise<void> {
    // Byte ranges of the tensor written so far, checked at the end to tile it exactly.
    const ranges: [number, number][] = [];
    let next = 0;
    for await (const chunk of chunks) {
      const length = chunk.bytes.byteLength;
      const offsets = chunk.offsets ?? [next];
      if (!chunk.offsets) next += length;
      const outside = offsets.find((at) => !(Number.isSafeInteger(at) && at >= 0 && at + length <= slot.bytes));
      if (outside !== undefined) {
        chunk.release?.();
        this.sizeMismatch(slot, `${length} bytes at offset ${outside}`);
      }
      const writes = offsets.map((at) => {
        ranges.push([at, at + length]);
        const write = writeFully(handle, chunk.bytes, position + at).catch((error: unknown) => {
          this.failure ??= error;
        });
        this.inFlight.push(write);
        return write;
      });
      void Promise.all(writes).finally(() => chunk.release?.());
      while (this.inFlight.length >= CHUNKS_IN_FLIGHT) await this.inFlight.shift();
      if (this.failure !== undefined) throw this.failure;
    }
    ranges.sort((x, y) => x[0] - y[0]);
    let covered = 0;
    for (const [begin, end] of ranges) {
      if (begin !== covered) this.sizeMismatch(slot, begin < covered ? `bytes ${begin}-${covered} twice` : `no bytes ${covered}-${begin}`);
      covered = end;
    }
    if (covered !== slot.bytes) this.sizeMismatch(slot, `${covered} bytes`);
  }

  /** Waits for every chunk write in flight; throws the first that failed. */
  private async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight.shift();
    if (this.failure !== undefined) throw this.failure;
  }

  private sizeMismatch(slot: Slot, actual: string): never {
    const file = path.join(this.dir, this.shards[slot.shard].file);
    throw new CheckpointError(`${file}: tensor "${slot.name}" got ${actual} but the plan needs ${slot.bytes} bytes of ${slot.dtype}`, {
      file,
      tensor: slot.name,
      expected: `${slot.bytes} bytes`,
      actual,
    });
  }

  private encode(slot: Slot, data: Float32Array | Uint8Array): Uint8Array {
    const file = path.join(this.dir, this.shards[slot.shard].file);
    const fail = (expected: string, actual: string): never => {
      throw new CheckpointError(`${file}: tensor "${slot.name}" got ${actual} but the plan needs ${expected}`, {
        file,
        tensor: slot.name,
        expected,
        actual,
      });
    };
    const elements = slot.shape.reduce((a, b) => a * b, 1);
    if (data instanceof Float32Array) {
      if (data.length !== elements) fail(`${elements} values`, `${data.length} values`);
      if (slot.dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (slot.dtype === 'F16' || slot.dtype === 'BF16') return encodeFromFloat32(data, slot.dtype);
      return fail(`raw ${slot.dtype} bytes`, 'a Float32Array');
    }
    if (data.byteLength !== slot.bytes) fail(`${slot.bytes} bytes of ${slot.dtype}`, `${data.byteLength} bytes`);
    return data;
  }

  private async openShard(shard: Shard): Promise<FileHandle> {
    const handle = await open(path.join(this.dir, shard.file), 'w');
    shard.handle = handle;
    await writeFully(handle, shard.header, 0);
    return handle;
  }

  async abort(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.inFlight.splice(0));
    await Promise.allSettled(this.shards.map((s) => s.handle?.close()));
    for (const s of this.shards) s.handle = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.drain();
    } finally {
      await Promise.all(this.shards.map((s) => s.handle?.close()));
    }
    const missing = this.order.slice(this.next).map((s) => s.name);
    if (missing.length > 0) {
      const shown = missing.slice(0, 3).map((n) => `"${n}"`).join(', ');
      throw new CheckpointError(
        `${this.dir}: checkpoint closed with ${missing.length} planned tensor(s) never written (${shown}${missing.length > 3 ? ', ...' : ''})`,
        { file: this.dir, tensor: missing[0], hint: 'the output directory is incomplete; do not use it' },
      );
    }
    // The index is written last so that an interrupted run never looks like a complete checkpoint.
    if (this.shards.length > 1) {
      const weightMap: Record<string, string> = {};
      const sorted = [...this.order].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const s of sorted) weightMap[s.name] = this.shards[s.shard].file;
      const totalSize = this.order.reduce((n, s) => n + s.bytes, 0);
      const index = { metadata: { total_size: totalSize }, weight_map: weightMap };
      await writeFile(path.join(this.dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
    }
  }
}

/**
 * Stream a checkpoint to `dir`: shapes are known up front, so each shard's header is written
 * when the shard is opened and tensors are appended as they arrive, one in memory at a time.
 */
export async function createCheckpointWriter(
  dir: string,
  tensors: PlannedTensor[],
  options: CheckpointWriterOptions = {},
): Promise<CheckpointWriter> {
  const maxShardSize = options.maxShardSize ?? DEFAULT_MAX_SHARD_BYTES;
  if (!Number.isFinite(maxShardSize) || maxShardSize <= 0) {
    throw new UsageError(`--max-shard-size must be a positive number of bytes, got ${maxShardSize}`, {
      flag: '--max-shard-size',
      actual: String(maxShardSize),
    });
  }
  validatePlan(tensors);
  const metadata = { format: 'pt', ...options.metadata };
  const groups = planShards(tensors, maxShardSize);
  const slotsByName = new Map<string, Slot>();
  const shards: Shard[] = groups.map((group, i) => {
    let offset = 0;
    const slots = group.map((t) => {
      const bytes = tensorByteSize(t.dtype, t.shape);
      const slot: Slot = { ...t, shape: [...t.shape], bytes, shard: i, begin: offset, end: offset + bytes };
      offset += bytes;
      slotsByName.set(t.name, slot);
      return slot;
    });
    return { file: shardFileName(i, groups.length), slots, header: encodeHeader(slots, metadata), remaining: slots.length };
  });
  await mkdir(dir, { recursive: true });
  // A shard with no tensors (an empty plan) is complete at once; write its header now.
  for (const s of shards) {
    if (s.remaining === 0) await writeFile(path.join(dir, s.file), s.header);
  }
  const order = tensors.map((t) => slotsByName.get(t.name)).filter((s): s is Slot => s !== undefined);
  return new StreamedWriter(dir, order, shards);
}

import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { CheckpointError, systemError } from '../errors.js';
import { DTYPE_BYTES, decodeToFloat32 } from './dtypes.js';
import type { DType } from './dtypes.js';
import { HEADER_LENGTH_BYTES, MAX_HEADER_BYTES, parseSafetensorsHeader } from './header.js';
import type { TensorEntry } from './header.js';
import { readFully } from './io.js';

export { parseSafetensorsHeader } from './header.js';
export type { TensorEntry, SafetensorsHeader } from './header.js';

/** The u64 header length, checked before any allocation, then the header bytes. */
async function readHeader(handle: FileHandle, path: string, fileSize: number): Promise<{ json: Uint8Array; n: number }> {
  if (fileSize < HEADER_LENGTH_BYTES) {
    throw new CheckpointError(
      `${path}: file has ${fileSize} bytes, fewer than the ${HEADER_LENGTH_BYTES}-byte header length`,
      { file: path, expected: `>= ${HEADER_LENGTH_BYTES} bytes`, actual: `${fileSize} bytes`, hint: 'the file is empty or truncated' },
    );
  }
  const lengthField = new Uint8Array(HEADER_LENGTH_BYTES);
  await readFully(handle, lengthField, 0);
  const n64 = new DataView(lengthField.buffer).getBigUint64(0, true);
  if (n64 === 0n || n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(
      `${path}: header length ${n64} is ${n64 === 0n ? 'zero' : `over the ${MAX_HEADER_BYTES}-byte limit`}`,
      { file: path, expected: `1..${MAX_HEADER_BYTES}`, actual: String(n64), hint: 'the file is probably not a safetensors file' },
    );
  }
  const n = Number(n64);
  if (HEADER_LENGTH_BYTES + n > fileSize) {
    throw new CheckpointError(
      `${path}: header length ${n} runs past the end of the file (${fileSize} bytes)`,
      { file: path, expected: `<= ${fileSize - HEADER_LENGTH_BYTES}`, actual: String(n), hint: 'the file is probably truncated' },
    );
  }
  const json = new Uint8Array(n);
  await readFully(handle, json, HEADER_LENGTH_BYTES);
  return { json, n };
}

/** A validated safetensors file whose tensors are read on demand with positioned reads. */
export class SafetensorsFile {
  readonly path: string;
  readonly entries: Map<string, TensorEntry>;
  readonly metadata: Record<string, string> | undefined;
  private handle: FileHandle | undefined;

  private constructor(path: string, handle: FileHandle, entries: Map<string, TensorEntry>, metadata: Record<string, string> | undefined) {
    this.path = path;
    this.handle = handle;
    this.entries = entries;
    this.metadata = metadata;
  }

  /** Parse and validate the header and keep the file open; no tensor data is read. */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw systemError(err) ?? new CheckpointError(`${path}: cannot open (${(err as Error).message})`, { file: path });
    }
    try {
      const { size } = await handle.stat();
      const { json, n } = await readHeader(handle, path, size);
      const { entries, metadata } = parseSafetensorsHeader(json, path, size - HEADER_LENGTH_BYTES - n);
      return new SafetensorsFile(path, handle, entries, metadata);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) {
      throw new CheckpointError(`${this.path}: no tensor "${name}"`, { file: this.path, tensor: name });
    }
    return e;
  }

  /**
   * The tensor's raw bytes, in a fresh array or in `into` (at least that many bytes; the view
   * returned is its start), so that a caller can reuse one buffer for many reads.
   */
  async readBytes(name: string, into?: Uint8Array): Promise<Uint8Array> {
    const e = this.entry(name);
    if (!this.handle) {
      throw new CheckpointError(`${this.path}: tensor "${name}" read after the file was closed`, { file: this.path, tensor: name });
    }
    if (into && into.byteLength < e.end - e.start) {
      throw new Error(`${this.path}: tensor "${name}" needs ${e.end - e.start} bytes, the buffer given has ${into.byteLength}`);
    }
    // A fresh Uint8Array (not a pooled Buffer) starts at offset 0, so every dtype view is aligned.
    const out = into ? into.subarray(0, e.end - e.start) : new Uint8Array(e.end - e.start);
    const got = await readFully(this.handle, out, e.start);
    if (got !== out.byteLength) {
      throw new CheckpointError(
        `${this.path}: tensor "${name}" ends at byte ${e.end} but the file now ends at byte ${e.start + got}`,
        { file: this.path, tensor: name, hint: 'the file was truncated after it was opened' },
      );
    }
    return out;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const e = this.entry(name);
    return decodeToFloat32(await this.readBytes(name), e.dtype);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}

export interface SerializableTensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

/** Space-padded to 8 bytes like the reference writer, so the data section starts aligned. */
export function encodeHeader(
  tensors: readonly { name: string; dtype: DType; shape: number[]; begin: number; end: number }[],
  metadata: Record<string, string> | undefined,
): Uint8Array {
  // Built by hand rather than via an object, whose integer-like keys JS would reorder.
  const parts: string[] = [];
  if (metadata) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  for (const t of tensors) {
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] })}`);
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(HEADER_LENGTH_BYTES + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, HEADER_LENGTH_BYTES);
  return out;
}

export function tensorByteSize(dtype: DType, shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, DTYPE_BYTES[dtype]);
}

/** Whole file in memory, tensors laid out in the given order; for small files and tests. */
export function serializeSafetensors(tensors: SerializableTensor[], metadata?: Record<string, string>): Uint8Array {
  let offset = 0;
  const seen = new Set<string>();
  const layout = tensors.map((t) => {
    if (seen.has(t.name)) throw new CheckpointError(`tensor "${t.name}" is given twice`, { tensor: t.name });
    seen.add(t.name);
    const need = tensorByteSize(t.dtype, t.shape);
    if (t.data.byteLength !== need) {
      throw new CheckpointError(
        `tensor "${t.name}" has ${t.data.byteLength} bytes but ${t.dtype} [${t.shape.join(', ')}] needs ${need}`,
        { tensor: t.name, expected: `${need} bytes`, actual: `${t.data.byteLength} bytes` },
      );
    }
    const entry = { ...t, begin: offset, end: offset + need };
    offset += need;
    return entry;
  });
  const header = encodeHeader(layout, metadata);
  const out = new Uint8Array(header.byteLength + offset);
  out.set(header, 0);
  for (const t of layout) out.set(t.data, header.byteLength + t.begin);
  return out;
}

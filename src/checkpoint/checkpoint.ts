import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CheckpointError } from '../errors.js';
import { parseWeightMap } from './weight_map.js';
import { SafetensorsFile } from './safetensors.js';
import type { TensorEntry } from './header.js';

/** A model directory (one file or Hugging Face shards) read tensor by tensor. */
export interface CheckpointReader {
  readonly dir: string;
  /** safetensors file names relative to dir, in shard order */
  readonly files: string[];
  readonly entries: Map<string, TensorEntry>;
  readonly metadata: Record<string, string> | undefined;
  /** Raw bytes in a fresh array, or in `into` (reused by the caller; at least the tensor's size). */
  readBytes(name: string, into?: Uint8Array): Promise<Uint8Array>;
  readFloat32(name: string): Promise<Float32Array>;
  totalBytes(): number;
  close(): Promise<void>;
}

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';
const PICKLE_PATTERN = /\.(bin|pt|pth|ckpt)$/;

class ShardedReader implements CheckpointReader {
  readonly entries = new Map<string, TensorEntry>();
  readonly metadata: Record<string, string> | undefined;
  private readonly byPath = new Map<string, SafetensorsFile>();

  constructor(
    readonly dir: string,
    readonly files: string[],
    shards: SafetensorsFile[],
  ) {
    for (const shard of shards) {
      this.byPath.set(shard.path, shard);
      for (const [name, e] of shard.entries) this.entries.set(name, e);
    }
    this.metadata = shards[0]?.metadata;
  }

  private shardOf(name: string): SafetensorsFile {
    const e = this.entries.get(name);
    const shard = e && this.byPath.get(e.file);
    if (!shard) {
      throw new CheckpointError(`${this.dir}: no tensor "${name}" in the checkpoint`, { file: this.dir, tensor: name });
    }
    return shard;
  }

  async readBytes(name: string, into?: Uint8Array): Promise<Uint8Array> {
    return this.shardOf(name).readBytes(name, into);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return this.shardOf(name).readFloat32(name);
  }

  totalBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.end - e.start;
    return n;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byPath.values()].map((s) => s.close()));
  }
}

async function openAll(dir: string, files: string[]): Promise<SafetensorsFile[]> {
  const opened: SafetensorsFile[] = [];
  try {
    for (const f of files) opened.push(await SafetensorsFile.open(path.join(dir, f)));
    return opened;
  } catch (err) {
    await Promise.all(opened.map((s) => s.close()));
    throw err;
  }
}

async function openSharded(dir: string, present: Set<string>): Promise<CheckpointReader> {
  const indexPath = path.join(dir, INDEX_FILE);
  const weightMap = parseWeightMap(await readFile(indexPath, 'utf8'), indexPath);
  const files = [...new Set(weightMap.values())].sort();
  for (const f of files) {
    if (!present.has(f) && !(await isFile(path.join(dir, f)))) {
      const users = [...weightMap].filter(([, file]) => file === f).map(([t]) => t);
      throw new CheckpointError(
        `${indexPath}: shard "${f}" is missing (it holds ${users.length} tensors, e.g. "${users[0]}")`,
        { file: path.join(dir, f), tensor: users[0], hint: 'the download is incomplete; fetch the missing shard' },
      );
    }
  }
  const shards = await openAll(dir, files);
  try {
    for (const [i, shard] of shards.entries()) {
      const file = files[i];
      for (const name of shard.entries.keys()) {
        const mapped = weightMap.get(name);
        if (mapped !== file) {
          const where = mapped === undefined ? 'is not in the index' : `is mapped to "${mapped}" by the index`;
          throw new CheckpointError(`${shard.path}: tensor "${name}" is in this shard but ${where}`, {
            file: shard.path,
            tensor: name,
            expected: mapped,
            actual: file,
          });
        }
      }
    }
    for (const [name, file] of weightMap) {
      const shard = shards[files.indexOf(file)];
      if (!shard.entries.has(name)) {
        throw new CheckpointError(`${shard.path}: tensor "${name}" is listed in ${INDEX_FILE} but missing from this shard`, {
          file: shard.path,
          tensor: name,
        });
      }
    }
  } catch (err) {
    await Promise.all(shards.map((s) => s.close()));
    throw err;
  }
  return new ShardedReader(dir, files, shards);
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function notFound(dir: string, names: string[]): CheckpointError {
  const listing = names.length === 0 ? 'it is empty' : `it has ${names.sort().join(', ')}`;
  const pickle = names.filter((n) => PICKLE_PATTERN.test(n));
  const hint =
    pickle.length > 0
      ? `${pickle.join(', ')} ${pickle.length === 1 ? 'is a' : 'are'} pickle checkpoint${pickle.length === 1 ? '' : 's'}, ` +
        'which ligo does not load (pickle can run code); convert to safetensors first, ' +
        'e.g. with transformers: AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)'
      : 'expected model.safetensors, or model.safetensors.index.json with its shards';
  return new CheckpointError(`${dir}: no safetensors weights found (${listing})`, { file: dir, hint });
}

/**
 * Open a model directory: the sharded index if present, else model.safetensors, else the
 * one *.safetensors file there. Shards are cross-checked against the index both ways.
 */
export async function openCheckpoint(dir: string): Promise<CheckpointReader> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : (err as Error).message;
    throw new CheckpointError(`${dir}: model directory ${why}`, { file: dir });
  }
  const present = new Set(names);
  if (present.has(INDEX_FILE)) return openSharded(dir, present);
  const candidates = present.has(SINGLE_FILE) ? [SINGLE_FILE] : names.filter((n) => n.endsWith('.safetensors')).sort();
  if (candidates.length > 1) {
    throw new CheckpointError(
      `${dir}: several .safetensors files (${candidates.join(', ')}) but no ${INDEX_FILE} or ${SINGLE_FILE}`,
      { file: dir, hint: `add ${INDEX_FILE} or keep only the model's weights file` },
    );
  }
  if (candidates.length === 0) throw notFound(dir, names);
  return new ShardedReader(dir, candidates, await openAll(dir, candidates));
}

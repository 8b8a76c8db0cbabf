import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/**
 * A safetensors file built byte by byte, so tests can produce every malformation:
 * `header` is used verbatim when a string, `dataBytes` zero bytes (or the given ones) follow,
 * and `declaredLength` overrides the u64 header length.
 */
export function rawSafetensors(
  header: string | Record<string, unknown>,
  data: number | Uint8Array = 0,
  declaredLength?: bigint,
): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(body, 8 + json.byteLength);
  return out;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const dirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after each test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ligo-ckpt-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function writeTemp(name: string, bytes: Uint8Array | string, dir?: string): Promise<string> {
  const d = dir ?? (await tempDir());
  const file = path.join(d, name);
  await writeFile(file, bytes);
  return file;
}

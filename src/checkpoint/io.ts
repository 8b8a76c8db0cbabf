import type { FileHandle } from 'node:fs/promises';

/**
 * One read or write call moves at most 2 GiB - 1 bytes (a libuv limit), and a tensor can be
 * bigger (a 128k x 8192 BF16 embedding is 2 GiB), so I/O goes in chunks of this size.
 */
export const IO_CHUNK_BYTES = 1 << 30;

/** Fill `target` from `position`; returns how many bytes were read (less only at end of file). */
export async function readFully(handle: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.byteLength) {
    const len = Math.min(IO_CHUNK_BYTES, target.byteLength - done);
    const { bytesRead } = await handle.read(target, done, len, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * Writes go out in pieces this big: on the machines we measured, one 128 MB write call took 3x
 * longer than the same bytes in 1-8 MB calls (the kernel's writeback copes better with them).
 */
export const WRITE_CHUNK_BYTES = 8 << 20;

/** Write all of `data` at `position` (a short write is retried, as the OS may return one). */
export async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const len = Math.min(WRITE_CHUNK_BYTES, data.byteLength - done);
    const { bytesWritten } = await handle.write(data, done, len, position + done);
    done += bytesWritten;
  }
}

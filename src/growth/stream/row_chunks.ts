import type { BufferPool, ByteChunk } from '../../checkpoint/chunks.js';

/** A grown tensor ready to be built any block of rows at a time (by a gather on the source). */
export interface RowGather {
  /** Output rows (1 for a rank-1 tensor) and bytes per row in the output dtype. */
  rows: number;
  rowBytes: number;
  /** Per output row, an id shared by the rows that are equal (same source row and scale). */
  rowId: Int32Array;
  /** Builds rows [r0, r1) into out[0, (r1 - r0) * rowBytes). */
  fillRows(r0: number, r1: number, out: Uint8Array): void;
}

/** Later places a block of rows repeats at, looked for per block (net2net copies whole halves). */
const MAX_REPEAT_CANDIDATES = 64;

/**
 * The grown tensor as chunks of whole rows, about `chunkBytes` each, built in `pool`'s buffers as
 * the writer asks for them: memory stays a few chunks whatever the tensor's size. A block of rows
 * that repeats further down (the same row ids in the same order) is built once and written at
 * each place it occurs.
 */
export async function* rowChunks(gather: RowGather, pool: BufferPool, chunkBytes: number): AsyncGenerator<ByteChunk> {
  const { rows, rowBytes, rowId } = gather;
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / rowBytes));
  // nextSame[r]: the next row after r with r's id, or -1.
  const nextSame = new Int32Array(rows).fill(-1);
  const lastOf = new Map<number, number>();
  for (let r = rows - 1; r >= 0; r--) {
    nextSame[r] = lastOf.get(rowId[r]) ?? -1;
    lastOf.set(rowId[r], r);
  }
  const covered = new Uint8Array(rows);
  const sameBlock = (a: number, b: number, n: number): boolean => {
    for (let k = 0; k < n; k++) if (rowId[a + k] !== rowId[b + k] || covered[b + k]) return false;
    return true;
  };
  for (let r0 = 0; r0 < rows; ) {
    if (covered[r0]) {
      r0++;
      continue;
    }
    let r1 = r0 + 1;
    while (r1 < rows && r1 - r0 < rowsPerChunk && !covered[r1]) r1++;
    const n = r1 - r0;
    const offsets = [r0 * rowBytes];
    let tries = 0;
    for (let s = nextSame[r0]; s >= 0 && tries < MAX_REPEAT_CANDIDATES; s = nextSame[s], tries++) {
      if (s < r1 || s + n > rows || !sameBlock(r0, s, n)) continue;
      covered.fill(1, s, s + n);
      offsets.push(s * rowBytes);
    }
    const { view, done } = await pool.chunk(n * rowBytes);
    const chunk = { ...done(), offsets };
    try {
      gather.fillRows(r0, r1, view);
    } catch (error) {
      chunk.release?.();
      throw error;
    }
    yield chunk;
    r0 = r1;
  }
}

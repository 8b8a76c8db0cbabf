/**
 * A tensor's bytes in consecutive pieces, for producers that build a large tensor a block of rows at
 * a time into reused buffers: the writer sends each piece to the file while the next is built.
 */
export interface ByteChunk {
  bytes: Uint8Array;
  /**
   * Where in the tensor these bytes go (byte offsets; several when the same bytes repeat, each
   * written from this one buffer). Default: right after the previous chunk that had no offsets.
   */
  offsets?: readonly number[];
  /** Called once `bytes` are in the file (or the write failed): the buffer may be reused. */
  release?: () => void;
}

export type ChunkStream = AsyncIterable<ByteChunk>;

export function isChunkStream(data: unknown): data is ChunkStream {
  return typeof data === 'object' && data !== null && Symbol.asyncIterator in data;
}

/**
 * A fixed number of reusable byte buffers. `acquire` waits while all are out; a buffer is back
 * when the chunk holding it is released. Reusing buffers keeps the producer off fresh memory
 * (page faults and zeroing cost as much as the gather itself at GB scale).
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly waiting: ((buffer: ArrayBuffer) => void)[] = [];
  private created = 0;

  constructor(
    private readonly count: number,
    private readonly bytes: number,
  ) {
    if (!(count >= 1 && bytes >= 1)) throw new Error(`BufferPool needs count >= 1 and bytes >= 1, got ${count} x ${bytes}`);
  }

  /**
   * A view of `bytes` bytes of a pooled buffer and the function that gives the buffer back. More
   * bytes than the pool's buffers hold get a buffer of their own (nothing to give back).
   */
  async lease(bytes: number): Promise<{ view: Uint8Array; release: () => void }> {
    if (bytes > this.bytes) return { view: new Uint8Array(bytes), release: () => undefined };
    const buffer = await this.acquire();
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(buffer);
    };
    return { view: new Uint8Array(buffer, 0, bytes), release };
  }

  /** A leased view and the chunk that hands it to a writer (which gives the buffer back once written). */
  async chunk(bytes: number): Promise<{ view: Uint8Array; done: (length?: number) => ByteChunk }> {
    const { view, release } = await this.lease(bytes);
    return { view, done: (length = bytes) => ({ bytes: view.subarray(0, length), release }) };
  }

  private acquire(): Promise<ArrayBuffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.created < this.count) {
      this.created++;
      return Promise.resolve(new ArrayBuffer(this.bytes));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(buffer: ArrayBuffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

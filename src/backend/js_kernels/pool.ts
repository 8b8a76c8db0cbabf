/**
 * Reuse of the blas backend's output arrays. A new Float32Array of a few MB costs more than the
 * elementwise op that fills it: V8 gets large buffers from the OS zeroed and gives them back on
 * garbage collection, so every output page is faulted in again (on the development VM, first touch
 * of fresh memory ran at 0.4-2 GB/s) and the external memory drives extra collections. Arrays
 * the JS kernels allocate come from here and return here when their tensor is disposed.
 *
 * Safety: a pooled array is handed out again only after the backend freed its tensor, so nothing
 * else may hold it: the backend copies on read (readSync returns a copy, not the array), and the
 * output of any other kernel that is a view into a pooled array (tfjs-backend-cpu's contiguous
 * slices) is copied before it becomes a tensor (see `owns`).
 */

/** Arrays shorter than this come from V8 directly (cheap, and often on its heap). */
const MIN_POOLED_ELEMENTS = 4096;

export class FloatPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly pooled = new WeakSet<ArrayBuffer>();
  private freeBytes = 0;

  /** `limitBytes`: the most bytes kept for reuse; arrays beyond it are left to the garbage collector. */
  constructor(readonly limitBytes: number) {}

  /** An array of `length` floats with arbitrary contents (the caller overwrites every element). */
  take(length: number): Float32Array {
    const reused = this.free.get(length)?.pop();
    if (reused !== undefined) {
      this.freeBytes -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(length);
    if (length >= MIN_POOLED_ELEMENTS) this.pooled.add(fresh.buffer);
    return fresh;
  }

  /** An array of `length` zeros. */
  zeros(length: number): Float32Array {
    return this.take(length).fill(0);
  }

  /** True when `values` is, or views, an array this pool handed out. */
  owns(values: unknown): boolean {
    return ArrayBuffer.isView(values) && values.buffer instanceof ArrayBuffer && this.pooled.has(values.buffer);
  }

  /** Takes back an array whose tensor was freed (ignores arrays it does not own, and views). */
  give(values: unknown): void {
    if (!(values instanceof Float32Array) || !this.owns(values) || values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength) return;
    if (this.freeBytes + values.byteLength > this.limitBytes) return;
    const list = this.free.get(values.length) ?? [];
    list.push(values);
    this.free.set(values.length, list);
    this.freeBytes += values.byteLength;
  }

  /** Bytes held for reuse now. */
  heldBytes(): number {
    return this.freeBytes;
  }
}

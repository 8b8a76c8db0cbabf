/**
 * Measures the real tensor memory of the active tfjs backend. tf.memory().numBytes and
 * tf.profile().peakBytes count bytes per Tensor handle, so a reshape, a clone or a tensor saved for
 * backprop counts its buffer again (tfjs-core engine.trackTensor); on the learning step that
 * over-reports several-fold. This meter hooks the backend's data map instead, which has one entry
 * per allocated buffer, and keeps the live total and its peak.
 */
import * as tf from '@tensorflow/tfjs-core';

/** wasm's entries carry a shape; tfjs-backend-cpu's (cpu, blas) carry the values themselves. */
interface DataEntry {
  shape?: number[];
  dtype: string;
  values?: { byteLength?: number };
}

interface DataMap {
  set(dataId: object, value: DataEntry): void;
  delete(dataId: object): boolean;
}

export interface TensorMeter {
  /** Bytes held by live backend buffers now. */
  live(): number;
  /** Highest `live()` since the meter started or since the last resetPeak(). */
  peak(): number;
  resetPeak(): void;
  /** Bytes the wasm heap has grown to (it never shrinks), or 0 on other backends. */
  heapBytes(): number;
  stop(): void;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function isDataMap(x: unknown): x is DataMap {
  return typeof x === 'object' && x !== null && typeof (x as DataMap).set === 'function' && typeof (x as DataMap).delete === 'function';
}

export function startTensorMeter(): TensorMeter {
  // wasm keeps buffers in dataIdMap, webgpu in tensorMap, tfjs-backend-cpu (cpu, blas) in data (each a tfjs DataStorage).
  const backend = tf.backend() as unknown as { dataIdMap?: unknown; tensorMap?: unknown; data?: unknown; wasm?: { HEAPU8?: Uint8Array } };
  const map = backend.dataIdMap ?? backend.tensorMap ?? backend.data;
  if (!isDataMap(map)) throw new Error(`backend ${tf.getBackend()} has no data map to meter`);
  const sizes = new WeakMap<object, number>();
  let live = 0;
  let peak = 0;
  const set = map.set.bind(map);
  const del = map.delete.bind(map);
  map.set = (dataId, value) => {
    const bytes = value.shape ? value.shape.reduce((a, b) => a * b, 1) * (BYTES[value.dtype] ?? 4) : (value.values?.byteLength ?? 0);
    live += bytes - (sizes.get(dataId) ?? 0);
    sizes.set(dataId, bytes);
    peak = Math.max(peak, live);
    set(dataId, value);
  };
  map.delete = (dataId) => {
    live -= sizes.get(dataId) ?? 0;
    sizes.delete(dataId);
    return del(dataId);
  };
  return {
    live: () => live,
    peak: () => peak,
    resetPeak: () => {
      peak = live;
    },
    heapBytes: () => backend.wasm?.HEAPU8?.buffer.byteLength ?? 0,
    stop: () => {
      map.set = set;
      map.delete = del;
    },
  };
}

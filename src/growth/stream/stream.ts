import type * as tf from '@tensorflow/tfjs-core';
import type { OpenedModel } from '../../arch/load.js';
import { BufferPool, type ByteChunk, type ChunkStream } from '../../checkpoint/index.js';
import type { DType } from '../../checkpoint/dtypes.js';
import type { GrowthPlan, PlannedTensor } from '../plan.js';
import { rowChunks, type RowGather } from './row_chunks.js';
import { materializeBySelection, planFloatGather, type SelectionOperator } from './selection.js';
import { planBitsGather } from './selection_bits.js';

/**
 * One grown tensor as a producer hands it to the writer: a tf.Tensor (the writer disposes it), a
 * Float32Array, raw little-endian bytes of the output dtype, or those bytes in pieces (ChunkStream).
 */
export type GrownTensor = tf.Tensor | Float32Array | Uint8Array | ChunkStream;

/** Gathered tensors are built and written in blocks of rows this big, through this many reused buffers. */
const CHUNK_BYTES = 1 << 20;
const CHUNK_BUFFERS = 3;

/** For tensors whose operator is not a selection (a learned operator): tfjs materialization. */
export interface DenseFallback {
  materialize(t: PlannedTensor): Promise<tf.Tensor>;
  /** Called when a selection tensor comes: whatever the fallback holds can go. */
  idle(): Promise<void>;
}

/** Bytes of the largest source tensor a layer reads, as float32 (embeddings and heads, read once each, are not pooled). */
function largestLayerSourceBytes(plan: GrowthPlan): number {
  let elements = 1;
  for (const t of plan.tensors) if (t.layer !== undefined) elements = Math.max(elements, t.smallShape.reduce((a, b) => a * b, 1));
  return 4 * elements;
}

/** `chunks`, then `release` once they are all built (or the stream is abandoned). */
async function* releasing(chunks: AsyncGenerator<ByteChunk>, release: () => void): AsyncGenerator<ByteChunk> {
  try {
    yield* chunks;
  } finally {
    release();
  }
}

/**
 * Produces grown tensors straight from the source checkpoint, tensor by tensor, for
 * writeGrownModel. Where the operator is a selection (copies and scalings) and the source is
 * stored in the output dtype (BF16 -> BF16, F16 -> F16), the tensor is gathered as raw 16-bit
 * words in blocks of rows, from source bytes read into reused buffers (on the VMs we measured,
 * fresh memory cost as much as the gather); other selections go through float32 in JS; anything
 * else needs `dense`.
 */
export function selectionProducer(
  model: OpenedModel,
  plan: GrowthPlan,
  selection: SelectionOperator,
  dtype: DType,
  dense?: DenseFallback,
): (t: PlannedTensor) => Promise<GrownTensor> {
  const stored = (name: string): string => {
    const storedName = model.match.sourceNames.get(name);
    if (storedName === undefined) throw new Error(`no tensor "${name}" in ${model.dir}`);
    return storedName;
  };
  const dtypeOf = (name: string): DType | undefined => model.reader.entries.get(stored(name))?.dtype;
  const sourcePool = new BufferPool(2, largestLayerSourceBytes(plan));
  const chunkPool = new BufferPool(CHUNK_BUFFERS, CHUNK_BYTES);
  const chunks = (gather: RowGather, release: () => void): AsyncGenerator<ByteChunk> => releasing(rowChunks(gather, chunkPool, CHUNK_BYTES), release);
  return async (t) => {
    let release = (): void => undefined;
    const readInto = async (name: string): Promise<Uint8Array> => {
      const entry = model.reader.entries.get(stored(name));
      const lease = await sourcePool.lease(entry ? entry.end - entry.start : 0);
      release = lease.release;
      return model.reader.readBytes(stored(name), lease.view);
    };
    const failed = (error: unknown): never => {
      release();
      throw error;
    };
    const bits = await planBitsGather(t, selection, dtype, { dtypeOf, readBytes: readInto }).catch(failed);
    if (bits) {
      await dense?.idle();
      return chunks(bits, release);
    }
    release();
    // F32 stored and written: gathered on float32 straight from the stored bytes, block by block.
    const floats = dtype === 'F32' ? await planFloatGather(t, selection, f32Reader(readInto), (name) => dtypeOf(name) === 'F32').catch(failed) : undefined;
    if (floats) {
      await dense?.idle();
      return chunks(floats, release);
    }
    release();
    const gathered = await materializeBySelection(t, selection, (name) => model.readFloat32(name));
    if (gathered) {
      await dense?.idle();
      return gathered;
    }
    if (!dense) throw new Error(`${t.name}: its growth operator is not a copy/scale selection and no dense path was given`);
    return dense.materialize(t);
  };
}

/** Float32 views of tensors read into pooled buffers (the caller checks they are stored as F32). */
function f32Reader(readInto: (name: string) => Promise<Uint8Array>): (name: string) => Promise<Float32Array> {
  return async (name) => {
    const bytes = await readInto(name);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
}

import type * as tf from '@tensorflow/tfjs-core';
import type { OpenedModel } from '../arch/load.js';
import { BufferPool, type ByteChunk } from '../checkpoint/index.js';
import type { DType } from '../checkpoint/dtypes.js';
import type { GrowthPlan, PlannedTensor } from './plan.js';
import { materializeBySelection, type SelectionOperator } from './selection.js';
import { bitsChunks, planBitsGather } from './selection_bits.js';
import type { GrownTensor } from './write.js';

/** Gathered tensors are built and written in blocks of rows this big, through this many reused buffers. */
const CHUNK_BYTES = 1 << 20;
const CHUNK_BUFFERS = 3;

/** For tensors whose operator is not a selection (a learned operator): tfjs materialization. */
export interface DenseFallback {
  materialize(t: PlannedTensor): Promise<tf.Tensor>;
  /** Called when a selection tensor comes: whatever the fallback holds can go. */
  idle(): Promise<void>;
}

/** Bytes of the largest 16-bit source tensor a layer reads (embeddings and heads, read once each, are not pooled). */
function largestLayerSourceBytes(plan: GrowthPlan): number {
  let elements = 1;
  for (const t of plan.tensors) if (t.layer !== undefined) elements = Math.max(elements, t.smallShape.reduce((a, b) => a * b, 1));
  return 2 * elements;
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
  return async (t) => {
    let release = (): void => undefined;
    const readBytes = async (name: string): Promise<Uint8Array> => {
      const entry = model.reader.entries.get(stored(name));
      const lease = await sourcePool.lease(entry ? entry.end - entry.start : 0);
      release = lease.release;
      return model.reader.readBytes(stored(name), lease.view);
    };
    const bits = await planBitsGather(t, selection, dtype, { dtypeOf, readBytes }).catch((error: unknown) => {
      release();
      throw error;
    });
    if (bits) {
      await dense?.idle();
      return releasing(bitsChunks(bits, chunkPool, CHUNK_BYTES), release);
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

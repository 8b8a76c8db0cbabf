/** Test helpers: backend setup and golden cases loaded through the project's own loader. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelDims } from '../../src/arch/dims.js';
import { loadModel } from '../../src/arch/load.js';
import { initBackend } from '../../src/backend/select.js';
import { SafetensorsFile } from '../../src/checkpoint/safetensors.js';
import type { Weights } from '../../src/models/types.js';

export const GOLDEN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../data/golden');
export const GOLDEN_CASES = [
  'gpt2-prefixed',
  'gpt2-bare-bf16',
  'bert-mlm',
  'llama-gqa-untied',
  'qwen2-bias-f16',
  'mistral-headdim',
  'llama3-rope-scaling',
  'qwen3-qknorm',
  'gemma-scaled',
  'gpt-neox-pythia',
  'phi3-fused',
];

/** Activates a backend; initBackend also registers the kernels and gradients tfjs lacks. */
export async function useBackend(name: 'wasm' | 'cpu' | 'blas' | 'webgpu'): Promise<void> {
  await initBackend({ backend: name });
}

/** Weights lookup over a map that throws on a missing name, as the forward contract requires. */
export function weightsFrom(map: Map<string, tf.Tensor>): Weights {
  return (name) => {
    const t = map.get(name);
    if (!t) throw new Error(`missing weight "${name}"`);
    return t;
  };
}

export interface GoldenCase {
  dims: ModelDims;
  /** Canonical Hugging Face names -> float32 tensors on the active backend. */
  weights: Map<string, tf.Tensor>;
  /** int32 [2, 16] */
  ids: tf.Tensor2D;
  /** Hugging Face logits [2, 16, 256], flattened. */
  expected: Float32Array;
  dispose(): void;
}

export async function loadGolden(name: string): Promise<GoldenCase> {
  const dir = path.join(GOLDEN_DIR, name);
  const model = await loadModel(dir);
  const file = await SafetensorsFile.open(path.join(dir, 'expected.safetensors'));
  try {
    const idsEntry = file.entry('input_ids');
    if (idsEntry.dtype !== 'I64' || idsEntry.shape.length !== 2) throw new Error(`${name}: input_ids is not I64 [B, T]`);
    const bytes = await file.readBytes('input_ids');
    const ids64 = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    const [B, T] = idsEntry.shape;
    const ids = tf.tensor2d(Int32Array.from(ids64, Number), [B, T], 'int32');
    const expected = await file.readFloat32('logits');
    return {
      dims: model.dims,
      weights: model.weights,
      ids,
      expected,
      dispose: () => {
        model.dispose();
        ids.dispose();
      },
    };
  } finally {
    await file.close();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

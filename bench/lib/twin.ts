import type * as tf from '@tensorflow/tfjs-core';
import { tensorSpecs, type ArchitectureDescription, type ModelDims } from '../../src/arch/index.js';
import { median } from './report.js';

/**
 * How far the grown model's residual-stream dimensions (input embedding columns) are from being
 * copies of one another: per column, the distance to its nearest other column relative to its
 * norm; the median over columns (0: every dimension has an exact twin). A function-preserving
 * width growth duplicates units, and gradient steps keep exact duplicates equal (their gradients
 * are equal), so such a model keeps the source's width however long it trains; measured after
 * downstream training, this shows whether a method's symmetry break survived or grew.
 */
export async function twinDistance(description: ArchitectureDescription, dims: ModelDims, weights: ReadonlyMap<string, tf.Tensor>): Promise<number> {
  // The token embedding: the global [vocab, hidden] tensor (every family has one).
  const spec = tensorSpecs(description, dims).find((s) => s.template.group === undefined && s.shape.length === 2 && s.shape[0] === dims.vocabSize && s.shape[1] === dims.hiddenSize);
  const t = spec ? weights.get(spec.name) : undefined;
  if (!t) return Number.NaN;
  const [rows, cols] = t.shape;
  const data = (await t.data()) as Float32Array;
  const column = (i: number): Float32Array => Float32Array.from({ length: rows }, (_, r) => data[r * cols + i]);
  const columns = Array.from({ length: cols }, (_, i) => column(i));
  const squaredDistance = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, r) => s + (x - b[r]) ** 2, 0);
  const nearest = columns.map((c, i) => {
    const norm = c.reduce((s, x) => s + x * x, 0);
    const best = Math.min(...columns.map((other, j) => (j === i ? Infinity : squaredDistance(c, other))));
    return Math.sqrt(best / Math.max(norm, 1e-30));
  });
  return median(nearest);
}

/**
 * The selection form of a matrix: at most one nonzero per row, or a row of equal entries. Copy,
 * split and depth matrices before learning are selections; applied, they are gathers and scales
 * (O(output) work in plain typed arrays, stream/selection.ts), and saved, 8 bytes a row.
 */

/**
 * Row r is scale[r] times unit vector index[r], or, where index[r] === cols, scale[r] times the
 * mean of all units (scale[r] / cols in every column: the exact start's filled residual dims,
 * exact_start.ts).
 */
export interface Selection {
  index: Int32Array;
  scale: Float32Array;
  /** Columns of the matrix it stands for. */
  cols: number;
}

/** Some row of `sel` is a mean of all units. */
export const hasMeanRows = (sel: Selection): boolean => sel.index.some((i) => i === sel.cols);

/** The scale of row m[base, base + cols) as a mean row (all entries equal, nonzero, reproduced by scale / cols), or undefined. */
function meanRowScale(m: Float32Array, base: number, cols: number): number | undefined {
  const v = m[base];
  for (let c = 1; c < cols; c++) if (m[base + c] !== v) return undefined;
  const scale = Math.fround(v * cols);
  return v !== 0 && Math.fround(scale / cols) === v ? scale : undefined;
}

/** The selection form of a row-major [rows, cols] matrix, or undefined if a row has two nonzeros and is not a mean row. */
export function asSelection(m: Float32Array, rows: number, cols: number): Selection | undefined {
  const index = new Int32Array(rows);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let found = -1;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = m[base + c];
      if (v === 0) continue;
      // NaN rows cannot be reproduced by a gather (the matMul spreads them); leave them to it.
      if (Number.isNaN(v)) return undefined;
      if (found >= 0) {
        found = -2;
        break;
      }
      found = c;
    }
    if (found === -2) {
      const mean = meanRowScale(m, base, cols);
      if (mean === undefined) return undefined;
      index[r] = cols;
      scale[r] = mean;
      continue;
    }
    index[r] = Math.max(found, 0);
    scale[r] = found >= 0 ? m[base + found] : 0;
  }
  return { index, scale, cols };
}

export function identitySelection(n: number): Selection {
  return { index: Int32Array.from({ length: n }, (_, i) => i), scale: new Float32Array(n).fill(1), cols: n };
}

/** kron(A, B) of two selections; the scales multiply in float32, as kron.ts's tf.mul does. */
export function kronSelection(a: Selection, b: Selection): Selection {
  const rows = a.index.length * b.index.length;
  const index = new Int32Array(rows);
  const scale = new Float32Array(rows);
  for (let i = 0; i < a.index.length; i++) {
    for (let k = 0; k < b.index.length; k++) {
      index[i * b.index.length + k] = a.index[i] * b.cols + b.index[k];
      scale[i * b.index.length + k] = a.scale[i] * b.scale[k];
    }
  }
  return { index, scale, cols: a.cols * b.cols };
}

/** [[a, 0], [0, b]] of two selections. */
export function blockDiagonalSelection(a: Selection, b: Selection): Selection {
  const index = new Int32Array(a.index.length + b.index.length);
  index.set(a.index);
  for (let i = 0; i < b.index.length; i++) index[a.index.length + i] = a.cols + b.index[i];
  const scale = new Float32Array(index.length);
  scale.set(a.scale);
  scale.set(b.scale, a.scale.length);
  return { index, scale, cols: a.cols + b.cols };
}

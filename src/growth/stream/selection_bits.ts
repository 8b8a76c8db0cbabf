/**
 * The selection gather (selection.ts) on raw 16-bit words: when the source tensor is stored in the
 * output dtype (BF16 -> BF16, F16 -> F16), a product by 1 or by 2^-k of a value that stays normal
 * is exact in float32 and in the 16-bit format, so it is the word itself with its exponent field
 * lowered by k. Every other element (zeros, subnormals, Inf, NaN, other scales) takes the float32
 * path element by element, so the bytes equal encoding materializeBySelection's result.
 *
 * Rows are built a block at a time (fillRows, see row_chunks.ts); within a block, a row or a run
 * of columns that repeats an earlier one (net2net copies every unit) is copied with copyWithin
 * instead of being recomputed.
 */
import { floatBitsToBf16, floatBitsToHalf, halfToFloatTable, type DType } from '../../checkpoint/dtypes.js';
import type { PlannedTensor } from '../plan.js';
import type { RowGather } from './row_chunks.js';
import { asMatrix, equalRowIds, tensorGather, type AxisGather, type SelectionOperator } from './selection.js';

/** Raw 16-bit formats the bit-level gather handles: where the exponent field is and its unit. */
const HALF_FORMATS = {
  BF16: { expMask: 0x7f80, unit: 0x80 },
  F16: { expMask: 0x7c00, unit: 0x400 },
} as const;

/** k when s is exactly 2^-k (0 for 1), or -1: scaling by 2^-k is an exponent decrement when the result stays normal. */
function shiftOf(s: number): number {
  if (s === 1) return 0;
  if (!(s > 0 && s < 1)) return -1;
  const k = -Math.log2(s);
  return Number.isInteger(k) && k <= 64 && 2 ** -k === s ? k : -1;
}

/** A shift no exponent field exceeds: the element goes to the slow path. */
const SLOW = 0x10000;

/** Column runs shorter than this are done word by word (no bulk copy, no dedupe). */
const MIN_RUN = 16;

/**
 * One run of output columns: out[to + j] = src[from + index[j]] with its exponent field lowered by
 * shift[j] + pre; the columns where that is not the exact answer (the result would not be a normal
 * number, or the word is Inf/NaN, or a shift is SLOW) are appended to `pending` for the slow path.
 * Returns how many. A small monomorphic loop.
 */
function gatherRun(
  src: Uint16Array,
  from: number,
  index: Int32Array,
  shift: Int32Array,
  pre: number,
  expMask: number,
  out: Uint16Array,
  to: number,
  j0: number,
  j1: number,
  pending: Int32Array,
): number {
  let slow = 0;
  for (let j = j0; j < j1; j++) {
    const w = src[from + index[j]];
    const sh = shift[j] + pre;
    const e = w & expMask;
    out[to + j] = w - sh;
    if (e <= sh || e === expMask) pending[slow++] = j;
  }
  return slow;
}

/**
 * A contiguous run of 2-word pairs with one shift: both words of each pair lowered at once.
 * Returns false (the caller redoes the run word by word) when some word needs the slow path.
 */
function shiftRun32(src: Uint32Array, from: number, out: Uint32Array, to: number, n: number, sh: number, expMask: number): boolean {
  const sh2 = (sh | (sh << 16)) >>> 0;
  let bad = 0;
  for (let j = 0; j < n; j++) {
    const u = src[from + j];
    const lo = u & expMask;
    const hi = (u >>> 16) & expMask;
    out[to + j] = u - sh2;
    bad |= lo <= sh || lo === expMask || hi <= sh || hi === expMask ? 1 : 0;
  }
  return bad === 0;
}

/** True when every word of src[from, from + n) is a normal number (copied as is, it is the exact answer). */
function allNormal(src: Uint16Array, from: number, n: number, expMask: number): boolean {
  let bad = 0;
  for (let j = from; j < from + n; j++) {
    const e = src[j] & expMask;
    bad |= e === 0 || e === expMask ? 1 : 0;
  }
  return bad === 0;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/**
 * One element exactly as the float32 path computes it: decode, the depth product, the row step,
 * the column step (each a float32 product and a +0 unless raw), encode.
 */
function slowElement(
  w: number,
  half: Float32Array | undefined,
  depth: number | undefined,
  rowRaw: boolean,
  sr: number,
  colRaw: boolean,
  sc: number,
): number {
  let x: number;
  if (half) x = half[w];
  else {
    scratchU32[0] = w << 16;
    x = scratchF32[0];
  }
  if (depth !== undefined) x = Math.fround(x * depth) + 0;
  if (!rowRaw) x = sr === 1 ? x + 0 : Math.fround(x * sr) + 0;
  if (!colRaw) x = Math.fround(x * sc) + 0;
  scratchF32[0] = x;
  return half ? floatBitsToHalf(scratchU32[0]) : floatBitsToBf16(scratchU32[0]);
}

/** Per output column: its exponent decrement in units of the exponent field, or SLOW (never taken) for the slow path. */
function columnShifts(cRaw: Uint8Array, cScale: Float32Array, outCols: number, unit: number): Int32Array {
  const cShift = new Int32Array(outCols);
  for (let j = 0; j < outCols; j++) {
    const k = cRaw[j] ? 0 : shiftOf(cScale[j]);
    cShift[j] = k < 0 ? SLOW : k * unit;
  }
  return cShift;
}

/** Runs of output columns [start[q], end[q]); copyOf[q] is an earlier equal run's q, or -1. */
interface ColumnRuns {
  start: number[];
  end: number[];
  copyOf: number[];
}

/**
 * Runs of columns that read consecutive source columns with one shift (and one rawness): copied
 * (shift 0) or shifted in bulk, then checked. A run equal to an earlier one (same source columns,
 * shift and rawness) is a copy of it within the row.
 */
function columnRuns(cIndex: Int32Array, cShift: Int32Array, cRaw: Uint8Array, outCols: number): ColumnRuns {
  const runs: ColumnRuns = { start: [], end: [], copyOf: [] };
  const firstRun = new Map<string, number>();
  for (let j = 0; j < outCols; ) {
    let k = j + 1;
    if (cShift[j] !== SLOW) {
      while (k < outCols && cIndex[k] === cIndex[k - 1] + 1 && cShift[k] === cShift[j] && cRaw[k] === cRaw[j]) k++;
    }
    const key = `${cIndex[j]}:${k - j}:${cShift[j]}:${cRaw[j]}`;
    const earlier = k - j >= MIN_RUN ? firstRun.get(key) : undefined;
    runs.copyOf.push(earlier ?? -1);
    if (k - j >= MIN_RUN && earlier === undefined) firstRun.set(key, runs.start.length);
    runs.start.push(j);
    runs.end.push(k);
    j = k;
  }
  return runs;
}

/** What filling one output row reads: the source words and the tensor's fixed column plan. */
interface BitsRows {
  src: Uint16Array;
  src32: Uint32Array | undefined;
  cols: number;
  rowsG: AxisGather | null;
  cIndex: Int32Array;
  cShift: Int32Array;
  cRaw: Uint8Array;
  cScale: Float32Array;
  runs: ColumnRuns;
  depthShift: number;
  depthScale: number | undefined;
  expMask: number;
  /** One step of the exponent field. */
  unit: number;
  half: Float32Array | undefined;
  /** Scratch: the columns of a run left to the slow path. */
  pending: Int32Array;
}

/**
 * Output row r into out[to, to + outCols): each column run is a copy of an earlier run, a bulk
 * copy or exponent shift when every word stays normal, or word by word with the rest left to the
 * slow (float32) path.
 */
function fillBitsRow(p: BitsRows, r: number, out: Uint16Array, out32: Uint32Array | undefined, to: number): void {
  const { src, src32, cols, rowsG, cIndex, cShift, cRaw, cScale, expMask, pending } = p;
  const { start: runStart, end: runEnd, copyOf: runCopyOf } = p.runs;
  const from = (rowsG ? rowsG.index[r] : r) * cols;
  const rowRaw = rowsG ? rowsG.raw[r] === 1 : true;
  const sr = rowsG ? rowsG.scale[r] : 1;
  const rowShift = rowRaw ? 0 : shiftOf(sr);
  const pre = p.depthShift < 0 || rowShift < 0 ? SLOW : (p.depthShift + rowShift) * p.unit;
  for (let q = 0; q < runStart.length; q++) {
    const j0 = runStart[q];
    const j1 = runEnd[q];
    const n = j1 - j0;
    const copyOf = runCopyOf[q];
    if (copyOf >= 0) {
      const c0 = to + runStart[copyOf];
      out.copyWithin(to + j0, c0, c0 + n);
      continue;
    }
    const sh = cShift[j0] + pre;
    const at = from + cIndex[j0];
    if (n >= MIN_RUN && sh < SLOW) {
      if (sh === 0) {
        if (allNormal(src, at, n, expMask)) {
          out.set(src.subarray(at, at + n), to + j0);
          continue;
        }
      } else if (src32 && out32 && at % 2 === 0 && (to + j0) % 2 === 0 && n % 2 === 0) {
        if (shiftRun32(src32, at >>> 1, out32, (to + j0) >>> 1, n >>> 1, sh, expMask)) continue;
      }
    }
    const slow = gatherRun(src, from, cIndex, cShift, pre, expMask, out, to, j0, j1, pending);
    for (let i = 0; i < slow; i++) {
      const j = pending[i];
      out[to + j] = slowElement(src[from + cIndex[j]], p.half, p.depthScale, rowRaw, sr, cRaw[j] === 1, cScale[j]);
    }
  }
}

/** Where the raw source bytes come from, by canonical tensor name. */
export interface RawSource {
  dtypeOf: (name: string) => DType | undefined;
  readBytes: (name: string) => Promise<Uint8Array>;
}

/**
 * Reads the source tensor and prepares the gather of `t` on 16-bit words, or undefined when the
 * output dtype is not BF16/F16, the source is stored in another dtype, or some operator `t` needs
 * is not a selection (the caller then uses the float32 or tfjs path).
 */
export async function planBitsGather(t: PlannedTensor, op: SelectionOperator, dtype: DType, source: RawSource): Promise<RowGather | undefined> {
  // A stored transform (plan.ts) is more than a product per element: the float32 path does it.
  if ((dtype !== 'BF16' && dtype !== 'F16') || t.transform) return undefined;
  const plan = await tensorGather(t, op);
  if (!plan || source.dtypeOf(plan.source) !== dtype) return undefined;
  // A mean is a sum, not a word-level product: the float32 path computes it.
  if (plan.gathers.some((g) => (g?.means?.length ?? 0) > 0)) return undefined;
  let bytes = await source.readBytes(plan.source);
  if (bytes.byteOffset % 2 !== 0) bytes = bytes.slice();
  const src = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 1);
  const src32 = src.byteOffset % 4 === 0 ? new Uint32Array(src.buffer, src.byteOffset, src.length >>> 1) : undefined;
  const { expMask, unit } = HALF_FORMATS[dtype];
  const half = dtype === 'F16' ? halfToFloatTable() : undefined;
  const { depthScale, gathers } = plan;
  // A missing gather is the identity, copied raw.
  const { cols, rowsG, colsG, outRows, outCols } = asMatrix(t, gathers);
  const cIndex = colsG ? colsG.index : Int32Array.from({ length: cols }, (_, j) => j);
  const cRaw = colsG ? colsG.raw : new Uint8Array(cols).fill(1);
  const cScale = colsG ? colsG.scale : new Float32Array(cols).fill(1);
  const cShift = columnShifts(cRaw, cScale, outCols, unit);
  const depthShift = depthScale === undefined ? 0 : shiftOf(depthScale);

  const runs = columnRuns(cIndex, cShift, cRaw, outCols);
  const row: BitsRows = { src, src32, cols, rowsG, cIndex, cShift, cRaw, cScale, runs, depthShift, depthScale, expMask, unit, half, pending: new Int32Array(outCols) };

  // Rows with the same source row, rawness and scale are equal; each gets the id of the first.
  const rowId = equalRowIds(rowsG, outRows);
  const builtAt = new Int32Array(outRows);

  return {
    rows: outRows,
    rowBytes: 2 * outCols,
    rowId,
    fillRows(r0, r1, bytes) {
      const out = new Uint16Array(bytes.buffer, bytes.byteOffset, (r1 - r0) * outCols);
      const out32 = out.byteOffset % 4 === 0 ? new Uint32Array(out.buffer, out.byteOffset, out.length >>> 1) : undefined;
      // Reset only this block's ids: a whole-array fill per block is quadratic in the rows.
      for (let r = r0; r < r1; r++) builtAt[rowId[r]] = -1;
      for (let r = r0; r < r1; r++) {
        const to = (r - r0) * outCols;
        const id = rowId[r];
        const earlier = builtAt[id];
        if (earlier >= 0) out.copyWithin(to, earlier, earlier + outCols);
        else {
          fillBitsRow(row, r, out, out32, to);
          builtAt[id] = to;
        }
      }
    },
  };
}

/** The whole grown tensor as raw little-endian bytes of `dtype`, or undefined as planBitsGather. */
export async function materializeBitsBySelection(t: PlannedTensor, op: SelectionOperator, dtype: DType, source: RawSource): Promise<Uint8Array | undefined> {
  const gather = await planBitsGather(t, op, dtype, source);
  if (!gather) return undefined;
  const out = new Uint8Array(gather.rows * gather.rowBytes);
  gather.fillRows(0, gather.rows, out);
  return out;
}

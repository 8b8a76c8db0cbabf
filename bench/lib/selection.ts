/**
 * A prototype of materialization for operators that only copy and scale (net2net, stack,
 * interlace, and LiGO before it has learned): when every row of a width matrix B [large, small]
 * has at most one nonzero entry, B x is a gather of rows of x and a per-row scale, O(output) work
 * instead of the O(large * small * rest) of a dense matMul; when a depth row has one nonzero entry,
 * the large layer is one small layer, scaled, with no [L_small, N] stack. Operator matrices are
 * read from ligo_operator.safetensors one at a time and only their index form is kept, so the
 * operator never has to fit in memory whole. bench/apply.ts times this next to `apply` and checks
 * that both write the same values.
 */
import type { OpenedOperator } from '../../src/output/operator_file.js';
import { asSelection, type Selection } from '../../src/growth/selection.js';
import type { GrowthPlan, PlannedSegment, PlannedTensor, WidthOperatorSpec } from '../../src/growth/plan.js';

// The index form of copy/scale matrices is the library's; the gather below is this prototype's own.
export type { Selection } from '../../src/growth/selection.js';

/** Reads operator matrices on demand and keeps their index form (a few bytes per large index). */
export class SelectionOperator {
  private readonly cache = new Map<string, Selection | undefined>();

  constructor(
    private readonly plan: GrowthPlan,
    private readonly file: Pick<OpenedOperator, 'readMatrix'>,
  ) {}

  private async matrix(name: string): Promise<Selection | undefined> {
    if (this.cache.has(name)) return this.cache.get(name);
    // Compact operator files store selections as index + scale already.
    const m = await this.file.readMatrix(name);
    const selection = 'index' in m ? m : asSelection(m.data, m.shape[0], m.shape[1]);
    this.cache.set(name, selection);
    return selection;
  }

  /** Width operator `id` on `side` as a selection over the full [large, small] matrix. */
  async width(id: string, side: 'in' | 'out'): Promise<Selection | undefined> {
    const spec: WidthOperatorSpec | undefined = this.plan.width.find((w) => w.id === id);
    if (!spec) throw new Error(`no width operator "${id}"`);
    const main = await this.matrix(`${id}.${side}`);
    if (!main || !spec.heads) return main;
    // Attention operators are heads (x) head_dim; this prototype handles an unchanged head_dim (identity factor).
    if (spec.heads.headDimSmall !== spec.heads.headDimLarge) return undefined;
    const hd = spec.heads.headDimSmall;
    const index = new Int32Array(spec.large);
    const scale = new Float32Array(spec.large);
    for (let h = 0; h < spec.heads.large; h++) {
      for (let d = 0; d < hd; d++) {
        index[h * hd + d] = main.index[h] * hd + d;
        scale[h * hd + d] = main.scale[h];
      }
    }
    return { index, scale, cols: spec.small };
  }

  async depth(group: string, layer: number): Promise<{ source: number; scale: number } | undefined> {
    const m = await this.matrix(`depth.${group}`);
    return m ? { source: m.index[layer], scale: m.scale[layer] } : undefined;
  }
}

/**
 * x gathered along `axis` (rank 1 or 2, row-major) and scaled per gathered index. Plain loops on
 * typed arrays: a row gather is a memcpy per row, a column gather one pass; tfjs-backend-wasm's
 * GatherV2 computes every output coordinate and runs at about 150 MB/s, slower than this by 5-10x.
 */
function gatherAxis(x: Float32Array, shape: readonly number[], axis: number, index: Int32Array, scale: Float32Array | undefined): Float32Array {
  const large = index.length;
  if (shape.length === 1) {
    const out = new Float32Array(large);
    for (let i = 0; i < large; i++) out[i] = x[index[i]] * (scale ? scale[i] : 1);
    return out;
  }
  if (shape.length !== 2) throw new Error(`selection prototype: rank ${shape.length} tensors are not supported`);
  const [rows, cols] = shape;
  if (axis === 0) {
    const out = new Float32Array(large * cols);
    for (let r = 0; r < large; r++) {
      const from = index[r] * cols;
      out.set(x.subarray(from, from + cols), r * cols);
      const s = scale ? scale[r] : 1;
      if (s !== 1) for (let c = r * cols; c < (r + 1) * cols; c++) out[c] *= s;
    }
    return out;
  }
  const out = new Float32Array(rows * large);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    const dst = r * large;
    if (scale) for (let j = 0; j < large; j++) out[dst + j] = x[src + index[j]] * scale[j];
    else for (let j = 0; j < large; j++) out[dst + j] = x[src + index[j]];
  }
  return out;
}

/** The small tensor a grown tensor reads and its depth scale, or undefined when the depth matrix is not a selection. */
async function depthSource(t: PlannedTensor, op: SelectionOperator): Promise<{ source: string; depthScale: number } | undefined> {
  if (t.layer === undefined || t.group === undefined) return { source: t.sources[0], depthScale: 1 };
  const d = await op.depth(t.group, t.layer);
  return d ? { source: t.sources[d.source], depthScale: d.scale } : undefined;
}

/** Per large index of one axis, the small index and scale (1 where a segment has no operator). */
async function axisIndex(segments: readonly PlannedSegment[], op: SelectionOperator): Promise<{ index: Int32Array; scale: Float32Array } | undefined> {
  const large = segments.reduce((n, s) => n + s.large, 0);
  const index = new Int32Array(large);
  const scale = new Float32Array(large).fill(1);
  let offSmall = 0;
  let offLarge = 0;
  for (const s of segments) {
    const sel = s.operator === null ? undefined : await op.width(s.operator, s.side);
    if (s.operator !== null && !sel) return undefined;
    for (let i = 0; i < s.large; i++) {
      index[offLarge + i] = offSmall + (sel ? sel.index[i] : i);
      if (sel) scale[offLarge + i] = sel.scale[i];
    }
    offSmall += s.small;
    offLarge += s.large;
  }
  return { index, scale };
}

/**
 * The grown tensor by gathers, or undefined when the operator is not a selection (learned dense
 * operators need the matMul path). `read` returns a small tensor by canonical name as float32.
 * Runs on the CPU in JS: no tfjs, no wasm heap.
 */
export async function materializeBySelection(
  t: PlannedTensor,
  op: SelectionOperator,
  read: (name: string) => Promise<Float32Array>,
): Promise<Float32Array | undefined> {
  // The prototype gathers plain concatenated segments only: interleaved (GPT-NeoX) and stored-transform
  // (Gemma) tensors take the matMul path.
  if (t.interleave || t.transform) return undefined;
  const depth = await depthSource(t, op);
  if (!depth) return undefined;
  const { source, depthScale } = depth;
  const axes: { index: Int32Array; scale: Float32Array | undefined }[] = [];
  for (const segments of t.axes) {
    if (segments.every((s) => s.operator === null)) {
      axes.push({ index: new Int32Array(0), scale: undefined });
      continue;
    }
    const a = await axisIndex(segments, op);
    if (!a) return undefined;
    axes.push({ index: a.index, scale: a.scale.every((v) => v === 1) ? undefined : a.scale });
  }
  let x = await read(source);
  if (depthScale !== 1) for (let i = 0; i < x.length; i++) x[i] *= depthScale;
  const shape = [...t.smallShape];
  axes.forEach(({ index, scale }, axis) => {
    if (index.length === 0) return;
    x = gatherAxis(x, shape, axis, index, scale);
    shape[axis] = index.length;
  });
  return x;
}

/** For each scale, k when it is exactly 2^-k (k >= 0), else -1. */
function exponentShifts(scale: Float32Array): Int32Array {
  return Int32Array.from(scale, (v) => {
    const k = -Math.log2(v);
    return Number.isInteger(k) && k >= 0 && k < 64 ? k : -1;
  });
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** bfloat16 bits times s, rounded to nearest even as src/checkpoint/dtypes.ts encodes. */
function scaleBf16(bits: number, s: number): number {
  scratchBits[0] = bits << 16;
  scratch[0] *= s;
  const x = scratchBits[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

interface AxisSelection {
  index: Int32Array;
  scale: Float32Array;
}

/** out[r, j] = src[rows.index[r], cols.index[j]] * rows.scale[r] * cols.scale[j], on BF16 bits. */
function gatherBf16(src: Uint16Array, out: Uint16Array, smallCols: number, rows: AxisSelection, cols: AxisSelection): void {
  const n = cols.index.length;
  const colIndex = cols.index;
  const colShift = exponentShifts(cols.scale);
  const rowShift = exponentShifts(rows.scale);
  const colsUnscaled = cols.scale.every((v) => v === 1);
  // Copies repeat contiguous stretches of a row (i mod small): one memcpy per stretch.
  const runs: number[] = []; // [dst, src, length]*
  for (let j = 0; j < n; ) {
    let end = j + 1;
    while (end < n && colIndex[end] === colIndex[end - 1] + 1) end++;
    runs.push(j, colIndex[j], end - j);
    j = end;
  }
  for (let r = 0; r < rows.index.length; r++) {
    const from = rows.index[r] * smallCols;
    const to = r * n;
    const rs = rows.scale[r];
    if (rs === 0) continue; // a zeroed row (repeated layers that start as identities): out is zero-filled
    if (rs === 1 && colsUnscaled) {
      for (let q = 0; q < runs.length; q += 3) out.set(src.subarray(from + runs[q + 1], from + runs[q + 1] + runs[q + 2]), to + runs[q]);
      continue;
    }
    const rk = rowShift[r];
    for (let j = 0; j < n; j++) {
      const bits = src[from + colIndex[j]];
      const k = rk >= 0 && colShift[j] >= 0 ? rk + colShift[j] : -1;
      const exponent = (bits >>> 7) & 0xff;
      // Scaling by 2^-k is an exponent decrement when the result stays a normal number.
      out[to + j] = k === 0 ? bits : k > 0 && exponent > k && exponent !== 0xff ? bits - (k << 7) : scaleBf16(bits, rs * cols.scale[j]);
    }
  }
}

/**
 * The BF16 -> BF16 fast path: both axes gathered in one pass straight from the source's bytes to
 * the output's, with no float conversion except where a scale is not 1 (split columns). Rank 1 and
 * 2 only; `readBytes` returns a small tensor's raw BF16 bytes by canonical name.
 */
export async function materializeBf16BySelection(
  t: PlannedTensor,
  op: SelectionOperator,
  readBytes: (name: string) => Promise<Uint8Array>,
): Promise<Uint8Array | undefined> {
  if (t.smallShape.length > 2 || t.interleave || t.transform) return undefined;
  const depth = await depthSource(t, op);
  if (!depth) return undefined;
  const { source, depthScale } = depth;
  const perAxis: { index: Int32Array; scale: Float32Array }[] = [];
  for (const [axis, segments] of t.axes.entries()) {
    const a = await axisIndex(segments, op);
    if (!a) return undefined;
    // The depth scale rides on the row axis.
    if (axis === 0) for (let i = 0; i < a.scale.length; i++) a.scale[i] = depthScale * a.scale[i];
    perAxis.push(a);
  }
  const raw = await readBytes(source);
  const src = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  const [rowsAxis, colsAxis] = perAxis.length === 2 ? perAxis : [{ index: new Int32Array([0]), scale: new Float32Array([1]) }, perAxis[0]];
  const rows = rowsAxis.index.length;
  const smallCols = t.smallShape[t.smallShape.length - 1];
  const out = new Uint16Array(rows * colsAxis.index.length);
  gatherBf16(src, out, smallCols, rowsAxis, colsAxis);
  return new Uint8Array(out.buffer);
}
